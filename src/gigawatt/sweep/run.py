"""Run a manifest on an executor: skip what is done, retry failures once, write one Parquet file per chunk
of tasks, and read the summary back with DuckDB.

Layout of a sweep directory::

    DIR/manifest.json     every task fully resolved (and the base scenario)
    DIR/tasks/*.parquet   one row per task across the files: parameters, status, error, headline figures
    DIR/summary.parquet, .csv    all rows (DuckDB over tasks/*.parquet), ordered by task id

A file holds the ok rows of one chunk of tasks (``<first task_id>+<n>-<tag>.parquet``; a file of one task
is ``<task_id>.parquet``), or the final failed rows of one chunk. Why not one file per task: on fast tasks
(a few milliseconds each) creating a file costs the driver 0.03-0.85 ms of kernel CPU and encoding a
one-row Parquet file costs a worker 0.5-0.8 ms; with every core busy that CPU is taken from the tasks.
Resume reads every row present at once (DuckDB over the files of ``tasks/*.parquet``, listed, not globbed:
task_id and status), runs the tasks without an ok row, and first removes their old failed rows from the
files holding them, so that ``tasks/*.parquet`` keeps one row per task; the summary keeps one row per task
even if two unguarded sweeps left more. Directories of one file per task (before chunk files) read and
resume the same way.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from gigawatt.errors import Problem, ScenarioError
from gigawatt.fmt import without_negative_zero
from gigawatt.atomic import atomic_write as _atomic_write
from gigawatt.atomic import atomic_write_bytes
from gigawatt.rundir import Written
from gigawatt.sweep.executors import TaskFn, run_task
from gigawatt.sweep.manifest import Manifest, Task

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    summary: pd.DataFrame
    ran: int  # tasks executed in this call (first attempts)
    skipped: int  # tasks already done (resumed)
    retried: int
    failed: pd.DataFrame
    elapsed_s: float
    timings: dict = field(default_factory=dict)
    written: Written | None = None  # the sweep directory's files, for the runs catalog


def rows_file(rows: list[dict]) -> str:
    """The name of the file of these rows: ``<task_id>.parquet`` for one row, else
    ``<first task_id>+<n>-<tag>.parquet``, the tag random, so that no two chunks, retries or resumed runs
    name the same file (a task is written once per run, and only when it has no row left)."""
    if len(rows) == 1:
        return f"{rows[0]['task_id']}.parquet"
    return f"{rows[0]['task_id']}+{len(rows)}-{uuid.uuid4().hex[:8]}.parquet"


def write_rows(tdir: Path, rows: list[dict], data: bytes | None = None) -> Path:
    """Rows as one Parquet file in ``tdir`` (named by :func:`rows_file`), written atomically (a temporary
    file renamed into place). ``data``: the file's bytes when a worker has encoded them
    (:func:`gigawatt.sweep.worker.encode_rows`); else they are encoded here."""
    if data is None:
        from gigawatt.sweep.worker import encode_rows

        data = encode_rows(rows)
    path = Path(tdir) / rows_file(rows)
    atomic_write_bytes(path, data)
    return path


def write_row(path: Path, row: dict, data: bytes | None = None) -> None:
    """One row as its own Parquet file at ``path``, atomically (what a sweep wrote per task before chunk
    files; benchmarks/bench_sweep.py times it as a task's write step)."""
    if data is None:
        from gigawatt.sweep.worker import encode_rows

        data = encode_rows([row])
    atomic_write_bytes(path, data)


UNREADABLE = ".unreadable"  # suffix of a task file resume could not read, set aside (out of tasks/*.parquet)


def _files(tdir: Path) -> list[str]:
    """The paths of ``tdir/*.parquet``, listed here for DuckDB's ``read_parquet``: a glob would read ``[``,
    ``]``, ``*`` or ``?`` in the folder's path (``--out runs/run[1]``) as a pattern and find no file."""
    return [str(Path(tdir) / n) for n in sorted(os.listdir(tdir)) if n.endswith(".parquet")]


def _rows_present(tdir: Path) -> list[tuple]:
    """(task_id, status, file) of every row in ``tdir/*.parquet``, read at once with DuckDB. A file that
    cannot be read (a torn copy, not Parquet, no task_id or status) is renamed ``<name>.unreadable``: its
    tasks have no row, so they run again, and the summary no longer trips over it."""
    import duckdb

    query = "SELECT task_id, status, filename FROM read_parquet($files, union_by_name = true, filename = true)"
    con = duckdb.connect()
    try:
        try:
            files = _files(tdir)
            return con.execute(query, {"files": files}).fetchall() if files else []
        except duckdb.Error:
            if not _set_aside_unreadable(tdir):
                raise
            files = _files(tdir)
            return con.execute(query, {"files": files}).fetchall() if files else []
    finally:
        con.close()


def _set_aside_unreadable(tdir: Path) -> list[str]:
    """Rename each file of ``tdir/*.parquet`` whose task_id and status cannot be parsed (not Parquet, torn,
    a column missing) to ``<name>.unreadable`` (``<name>.<tag>.unreadable`` if that name is taken); their
    names. A file the system cannot read now (permissions, an I/O error) is not renamed: a ScenarioError
    names it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    bad = []
    for file in _files(tdir):
        path = Path(file)
        name = path.name
        try:
            pq.read_table(path, columns=["task_id", "status"])
        except OSError as exc:
            if exc.errno is None:  # pyarrow's parse errors of a garbled footer or page ("Couldn't deserialize
                # thrift") are OSErrors without an errno: not a task file, as below
                bad.append(_set_aside(tdir, name))
                continue
            # an error of the system (permissions, I/O): the file may be whole, leave it
            raise ScenarioError(Problem(f"cannot read a sweep task file ({exc})", path=str(path),
                                        expected="a file this process can read",
                                        fix="check its permissions and the disk, then run the sweep again "
                                            "to resume"), title="cannot resume sweep") from None
        except (pa.ArrowException, ValueError, KeyError):  # not a task file: its tasks run again
            bad.append(_set_aside(tdir, name))
    return bad


def _set_aside(tdir: Path, name: str) -> str:
    """Rename the task file ``name`` to ``<name>.unreadable`` (``<name>.<tag>.unreadable`` if taken)."""
    from gigawatt.atomic import tag

    aside = Path(tdir) / f"{name}{UNREADABLE}"
    if aside.exists():
        aside = Path(tdir) / f"{name}.{tag()}{UNREADABLE}"
    log.warning("sweep task file %s cannot be read: set aside as %s", name, aside.name)
    os.replace(Path(tdir) / name, aside)
    return name


def _keep_ok_rows(path: Path) -> None:
    """Rewrite a task file with its ok rows only (atomically, same column types), or delete it if none is
    left: the failed rows of tasks about to run again go, so each task keeps one row."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from gigawatt.sweep.worker import encode_table

    table = pq.read_table(path)
    ok = table.filter(pc.equal(table["status"], "ok"))
    if ok.num_rows:
        atomic_write_bytes(path, encode_table(ok))
    else:
        path.unlink(missing_ok=True)


def _todo(tasks: list, tdir: Path) -> list:
    """The tasks without a row whose status is ok. Every row present is read once (:func:`_rows_present`);
    the rows that are not ok are removed from their files first (:func:`_keep_ok_rows`), so the tasks to
    run have no row left and each task ends with one."""
    rows = _rows_present(tdir)
    done = {task_id for task_id, status, _ in rows if status == "ok"}
    for name in sorted({file for _, status, file in rows if status != "ok"}):
        _keep_ok_rows(Path(name))
    return [t for t in tasks if t.task_id not in done]


SWEEP_FILES = ("manifest.json", "tasks", "summary.parquet", "summary.csv")


def prepare(manifest: Manifest, out_dir: Path) -> Written:
    """Claim DIR for this sweep: a new or empty folder gets DIR/manifest.json and the sweep's marker; a
    sweep directory must describe the same sweep (resume). A user's folder (no marker) or another gigawatt
    output is refused: nothing in it is touched."""
    from gigawatt.rundir import check_target, new_marker, read_marker, write_marker

    out_dir = Path(out_dir)
    marker = check_target(out_dir, kind="sweep", overwrite=True)
    mpath = out_dir / "manifest.json"
    if marker is not None and mpath.exists():
        try:
            old = Manifest.from_json(mpath.read_text())
        except Exception as exc:
            raise ScenarioError(Problem(f"cannot read the existing manifest ({exc})", path=str(mpath),
                                        fix="remove the directory or choose another --out"),
                                title="cannot resume sweep") from None
        if old.fingerprint() != manifest.fingerprint():
            raise ScenarioError(Problem("the directory holds a different sweep", path=str(mpath),
                                        value=f"{len(old.tasks)} tasks, fingerprint {old.fingerprint()}",
                                        expected=f"the same sweep ({len(manifest.tasks)} tasks, fingerprint "
                                                 f"{manifest.fingerprint()}) to resume it",
                                        fix="choose another --out, or delete the directory to start over"),
                                title="cannot resume sweep")
    if marker is None or read_marker(out_dir) is None:  # new, empty, or a sweep from before markers
        import uuid

        write_id = uuid.uuid4().hex
        marker = new_marker("sweep", {n: {"by": "sweep", "write": write_id} for n in SWEEP_FILES})
        write_marker(out_dir, marker)
    if not mpath.exists():
        _atomic_write(mpath, lambda p: p.write_text(manifest.to_json()))
    return Written(dir_id=marker["id"], write_id=marker["files"]["manifest.json"]["write"],
                   files=[n for n in SWEEP_FILES if n in marker["files"]])


def run(manifest: Manifest, out_dir: Path, *, executor, task_fn: TaskFn = run_task, retries: int = 1,
        progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Execute every task not already done; a failed task is retried ``retries`` times, then kept as a
    failed row. Returns the summary read back with DuckDB.

    Parameters
    ----------
    manifest
        The sweep (see :func:`gigawatt.sweep.manifest.build`).
    out_dir
        The sweep directory (created; an existing one with the same manifest is resumed).
    executor
        An executor from :mod:`gigawatt.sweep.executors`.
    progress
        Called with (tasks finished, tasks to run) as rows arrive.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    written = prepare(manifest, out_dir)
    tdir = out_dir / "tasks"
    tdir.mkdir(parents=True, exist_ok=True)
    with _locked(tdir):
        todo = _todo(manifest.tasks, tdir)
        skipped = len(manifest.tasks) - len(todo)
        names = [f.name for f in fields(Task)]

        def spec(task, attempt: int) -> dict:  # every spec holds the same base text: pickled once per chunk
            # the task's fields in a new dict, their values shared, not copied (dataclasses.asdict's deep
            # copy costs ~0.2 ms per task): a worker gets them pickled, and run_task only reads them
            return {"base_yaml": manifest.base_yaml, "task": {n: getattr(task, n) for n in names},
                    "solve": manifest.solve, "attempt": attempt}

        t_tasks, c_tasks = time.perf_counter(), time.process_time()
        retried = _execute([spec(t, 1) for t in todo], tdir, executor=executor, task_fn=task_fn,
                           retries=retries, progress=progress)
        t_run = time.perf_counter() - t0
        t_tasks, c_tasks = time.perf_counter() - t_tasks, time.process_time() - c_tasks
        summary = read_summary(out_dir)
        _atomic_write(out_dir / "summary.parquet", lambda p: summary.to_parquet(p, index=False))
        _atomic_write(out_dir / "summary.csv", lambda p: without_negative_zero(summary).to_csv(p, index=False))
    failed = summary[summary["status"] != "ok"] if "status" in summary else summary.iloc[0:0]
    return SweepResult(summary=summary, ran=len(todo), skipped=skipped, retried=retried, failed=failed,
                       elapsed_s=time.perf_counter() - t0, written=written,
                       # tasks_s: first submission to last row; tasks_cpu_s: this process's CPU in that time
                       timings={"run_s": t_run, "tasks_s": t_tasks, "tasks_cpu_s": c_tasks})


def _execute(batch: list[dict], tdir: Path, *, executor, task_fn: TaskFn, retries: int,
             progress: Callable[[int, int], None] | None) -> int:
    """Run the specs, write their rows to ``tdir`` one file per chunk; the number of retries."""
    finished = retried = 0
    total = len(batch)
    attempt = 1
    while batch:
        again = []
        # first attempts go out in chunks; retries one task per submission (a task that failed or killed
        # its worker is not sent with others again)
        for specs, rows, data in executor.map(batch, task_fn, chunked=attempt == 1):
            ok, final = [], []
            for s, row in zip(specs, rows):
                if row.get("status") == "ok":
                    ok.append(row)
                elif attempt <= retries:
                    log.warning("task %s failed (attempt %d): %s; retrying", s["task"]["task_id"], attempt,
                                row.get("error"))
                    again.append({**s, "attempt": attempt + 1})
                else:
                    final.append(row)
            if ok:  # the chunk's ok rows, as the worker encoded them
                write_rows(tdir, ok, data)
            if final:  # failed for good (rare): encoded here
                write_rows(tdir, final)
            finished += len(ok) + len(final)
            if progress and (ok or final):
                progress(finished, total)
        retried += len(again)
        batch = again
        attempt += 1
    return retried


LOCK = ".sweep.lock"  # in DIR/tasks: locked (lockf) by the process whose sweep writes the directory


@contextlib.contextmanager
def _locked(tdir: Path) -> Iterator[None]:
    """Lock ``tdir/.sweep.lock`` while this sweep reads and writes the task files: two sweeps resuming one
    directory at once would both run the tasks left and each write their rows (chunk files have names of
    their own), two rows per task. Another process's sweep there is refused (exit 1). A POSIX record lock
    (``lockf``): held by this process only, so pool workers forked meanwhile do not keep it. Without
    ``fcntl`` (Windows) or on a file system without locks, no lock."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(tdir / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):  # a file system without locks (ENOLCK: NFS)
                log.warning("sweep directory %s is not locked (%s): do not run a second sweep in it "
                            "meanwhile", tdir.parent, exc)
            else:
                raise ScenarioError(Problem("another sweep is running in this directory", path=str(tdir.parent),
                                            expected="one sweep at a time per directory",
                                            fix="wait for it to end (then run the command again to resume), or "
                                                "choose another --out"), title="cannot run sweep") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def read_summary(out_dir: Path) -> pd.DataFrame:
    """One row per task, read with DuckDB from DIR/tasks/*.parquet (columns united by name). Should a task
    have several rows (two sweeps in a directory no lock guarded), its ok row is kept, else its row of the
    highest attempt."""
    import duckdb

    files = _files(Path(out_dir) / "tasks")
    if not files:
        return pd.DataFrame()
    con = duckdb.connect()
    try:
        source = "read_parquet($files, union_by_name = true, filename = true)"
        columns = {c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {source}", {"files": files}).fetchall()}
        order = "(status = 'ok') DESC" + (", attempt DESC" if "attempt" in columns else "") + ", filename"
        return con.execute(f"SELECT * EXCLUDE (filename) FROM {source} QUALIFY row_number() OVER (PARTITION BY "
                           f"task_id ORDER BY {order}) = 1 ORDER BY task_id", {"files": files}).df()
    finally:
        con.close()


__all__ = ["run", "prepare", "read_summary", "write_rows", "write_row", "rows_file", "SweepResult"]
