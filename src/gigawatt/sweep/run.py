"""Run a manifest on an executor: skip what is done, retry failures once, write one Parquet file per task,
and read the summary back with DuckDB.

Layout of a sweep directory::

    DIR/manifest.json            every task fully resolved (and the base scenario)
    DIR/tasks/<task_id>.parquet  one row per task: parameters, status, error, headline figures
    DIR/summary.parquet, .csv    all rows (DuckDB over tasks/*.parquet), ordered by task id
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from gigawatt.errors import Problem, ScenarioError
from gigawatt.fmt import without_negative_zero
from gigawatt.atomic import atomic_write as _atomic_write
from gigawatt.atomic import atomic_write_bytes
from gigawatt.rundir import Written
from gigawatt.sweep.executors import TaskFn, run_task
from gigawatt.sweep.manifest import Manifest

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


def write_row(path: Path, row: dict, data: bytes | None = None) -> None:
    """One task's row as a one-row Parquet file, atomically (a temporary file renamed into place). ``data``:
    the file's bytes when a worker has encoded them (:func:`gigawatt.sweep.worker.encode_row`)."""
    if data is None:
        from gigawatt.sweep.worker import encode_row

        data = encode_row(row)
    atomic_write_bytes(path, data)


def _status(path: Path) -> str | None:
    import pyarrow.parquet as pq

    try:
        return str(pq.read_table(path, columns=["status"]).column("status")[0])
    except Exception:  # unreadable: run it again
        return None


def _todo(tasks: list, tdir: Path) -> list:
    """The tasks without a row whose status is ok (only the files there are read)."""
    present = set(os.listdir(tdir))
    return [t for t in tasks if f"{t.task_id}.parquet" not in present
            or _status(tdir / f"{t.task_id}.parquet") != "ok"]


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
    todo = _todo(manifest.tasks, tdir)
    skipped = len(manifest.tasks) - len(todo)

    def spec(task, attempt: int) -> dict:  # every spec holds the same base text: pickled once per chunk
        return {"base_yaml": manifest.base_yaml, "task": asdict(task), "solve": manifest.solve,
                "attempt": attempt}

    finished = 0
    retried = 0
    attempt = 1
    t_tasks, c_tasks = time.perf_counter(), time.process_time()
    batch = [spec(t, 1) for t in todo]
    while batch:
        again = []
        # first attempts go out in chunks; retries one task per submission (a task that failed or killed
        # its worker is not sent with others again)
        for s, row, data in executor.map(batch, task_fn, chunked=attempt == 1):
            if row.get("status") != "ok" and attempt <= retries:
                log.warning("task %s failed (attempt %d): %s; retrying", s["task"]["task_id"], attempt,
                            row.get("error"))
                again.append({**s, "attempt": attempt + 1})
                continue
            write_row(tdir / f"{s['task']['task_id']}.parquet", row, data)
            finished += 1
            if progress:
                progress(finished, len(todo))
        retried += len(again)
        batch = again
        attempt += 1
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


def read_summary(out_dir: Path) -> pd.DataFrame:
    """Every task's row, read with DuckDB from DIR/tasks/*.parquet (columns united by name)."""
    import duckdb

    pattern = str(Path(out_dir) / "tasks" / "*.parquet").replace("'", "''")
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT * FROM read_parquet('{pattern}', union_by_name = true) ORDER BY task_id").df()
    finally:
        con.close()


__all__ = ["run", "prepare", "read_summary", "write_row", "SweepResult"]
