"""Tasks sent to workers in chunks: every row arrives and is written once (one Parquet file per chunk),
resume skips what is done, a task that fails is retried alone without its chunk-mates, and a worker that
dies mid-chunk costs only the task that killed it. The task function here is a stub (no solve), so the
sweep's own machinery is what runs."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sweep_helpers import drain, write_scenario

from gigawatt.sweep.executors import InlineExecutor, LocalExecutor, param_columns
from gigawatt.sweep.manifest import build
from gigawatt.sweep.run import run
from gigawatt.sweep.chunks import Chunks

CHIPS = [10000 * k for k in range(1, 11)]  # 10 tasks
VOLATILE = ["elapsed_s", "cpu_s", "worker", "attempt"]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    scenario = write_scenario(tmp_path_factory.mktemp("chunks"))
    return build(scenario, vary=[f"contracts.reserved.chips={','.join(map(str, CHIPS))}"])


@pytest.fixture
def calls(tmp_path, monkeypatch):
    """A folder where each call of the stub leaves a file named after its task and attempt (set before a
    pool forks its workers, which inherit it)."""
    d = tmp_path / "calls"
    d.mkdir()
    monkeypatch.setenv("GIGAWATT_TEST_CALLS", str(d))
    return d


def called(d: Path) -> list[tuple[str, int]]:
    return sorted((p.name.split(".")[0], int(p.name.split(".")[1])) for p in d.iterdir())


def stub(spec: dict) -> dict:
    """A row at once: a made-up figure from the task's chips; it dies (as a killed worker does) or raises
    for the chips named in the environment."""
    task = spec["task"]
    chips = task["params"]["contracts.reserved.chips"]
    attempt = int(spec.get("attempt", 1))
    (Path(os.environ["GIGAWATT_TEST_CALLS"]) / f"{task['task_id']}.{attempt}.{uuid.uuid4().hex}").touch()
    if str(chips) == os.environ.get("GIGAWATT_TEST_DIE"):
        marker = os.environ.get("GIGAWATT_TEST_DIE_ONCE")
        if not marker or not os.path.exists(marker):
            if marker:
                Path(marker).touch()
            os._exit(1)
    if str(chips) == os.environ.get("GIGAWATT_TEST_RAISE"):
        raise RuntimeError("disk on fire")
    return {"schema_version": 2, "task_id": task["task_id"], **param_columns(task["params"]), "status": "ok",
            "error": "", "attempt": attempt, "net_present_cost_usd": chips * 1.5, "elapsed_s": 0.0,
            "cpu_s": 0.0, "worker": str(os.getpid())}


def rows_in(out: Path) -> dict[str, list[tuple[str, str]]]:
    """{file name: [(task_id, status), ...]} of every file in OUT/tasks/*.parquet."""
    import pyarrow.parquet as pq

    return {p.name: list(zip(*pq.read_table(p, columns=["task_id", "status"]).to_pydict().values()))
            for p in sorted((out / "tasks").glob("*.parquet"))}


def one_row_per_task(out: Path, manifest) -> dict:
    """Assert that the task files hold exactly one row per task of the manifest; the files' rows."""
    files = rows_in(out)
    ids = sorted(t for rows in files.values() for t, _ in rows)
    assert ids == sorted(t.task_id for t in manifest.tasks)
    return files


def table(summary):
    return summary.drop(columns=VOLATILE).sort_values("task_id").reset_index(drop=True)


def by_chips(summary):
    return summary.set_index("contracts.reserved.chips")


def sizes_of(n: int, workers: int, size: int | None = None) -> list[int]:
    """The chunk sizes a plan of ``n`` tasks hands out before any task's time is known."""
    return [len(c) for c in drain(Chunks(range(n), workers, size=size))]


def test_chunk_sizes_shrink_to_one_and_cover_every_task():
    for n in (0, 1, 7, 64, 1000):
        for w in (1, 2, 3):
            sizes = sizes_of(n, w)
            assert sum(sizes) == n and all(1 <= s <= 16 for s in sizes)
            assert sizes == sorted(sizes, reverse=True) and (not sizes or sizes[-1] == 1)
    assert sizes_of(64, 2)[0] == 8  # several tasks per submission while many are left
    assert drain(Chunks(range(7), 2, size=3)) == [[0, 1, 2], [3, 4, 5], [6]]


@pytest.mark.parametrize("chunk", [None, 3, 10])
def test_chunked_pool_writes_every_row_once_as_inline_does(manifest, tmp_path, calls, chunk):
    inline = run(manifest, tmp_path / "inline", executor=InlineExecutor(), task_fn=stub)
    ex = LocalExecutor(2, chunk=chunk)
    try:
        res = run(manifest, tmp_path / "pool", executor=ex, task_fn=stub)
    finally:
        ex.close()
    files = one_row_per_task(tmp_path / "pool", manifest)
    assert len(files) == len(sizes_of(len(manifest.tasks), 2, chunk))  # one file per chunk, not per task
    assert len(rows_in(tmp_path / "inline")) == len(sizes_of(len(manifest.tasks), 1))
    assert table(res.summary).equals(table(inline.summary)) and (res.summary["status"] == "ok").all()
    assert called(calls) == sorted([(t.task_id, 1) for t in manifest.tasks] * 2)  # once per sweep, no retry


def test_resume_after_a_chunked_run_skips_the_tasks_done(manifest, tmp_path, calls):
    ex = LocalExecutor(2, chunk=4)
    try:
        first = run(manifest, tmp_path / "sweep", executor=ex, task_fn=stub)
        files = rows_in(tmp_path / "sweep")
        name = next(n for n, rows in files.items() if len(rows) == 4)  # as if the sweep stopped before it
        gone = [t for t, _ in files[name]]
        os.remove(tmp_path / "sweep" / "tasks" / name)
        for p in calls.iterdir():
            p.unlink()
        again = run(manifest, tmp_path / "sweep", executor=ex, task_fn=stub)
    finally:
        ex.close()
    assert (again.ran, again.skipped) == (4, len(CHIPS) - 4)
    assert called(calls) == sorted((t, 1) for t in gone)
    assert table(again.summary).equals(table(first.summary))
    after = one_row_per_task(tmp_path / "sweep", manifest)
    assert {n: r for n, r in after.items() if n in files} == {n: r for n, r in files.items() if n != name}


def test_a_task_that_raises_in_a_chunk_is_retried_alone(manifest, tmp_path, calls, monkeypatch):
    monkeypatch.setenv("GIGAWATT_TEST_RAISE", "40000")
    ex = LocalExecutor(1, chunk=5)  # the failing task shares its chunk with four others
    try:
        res = run(manifest, tmp_path / "sweep", executor=ex, task_fn=stub)
    finally:
        ex.close()
    s = by_chips(res.summary)
    assert s.loc["40000", "status"] == "failed" and "disk on fire" in s.loc["40000", "error"]
    assert s.loc["40000", "attempt"] == 2 and res.retried == 1
    ok = s.drop(index="40000")
    assert (ok["status"] == "ok").all() and (ok["attempt"] == 1).all()
    bad = next(t.task_id for t in manifest.tasks if t.params["contracts.reserved.chips"] == 40000)
    assert called(calls) == sorted([(t.task_id, 1) for t in manifest.tasks] + [(bad, 2)])


@pytest.mark.parametrize("once", [True, False])
def test_a_worker_that_dies_mid_chunk_costs_only_its_task(manifest, tmp_path, calls, monkeypatch, once):
    """The chunk is sent again one task per submission: its other tasks are solved; the task that killed
    the worker is solved on a later try (once) or is a failed row saying the worker died (every time)."""
    monkeypatch.setenv("GIGAWATT_TEST_DIE", "30000")
    if once:
        monkeypatch.setenv("GIGAWATT_TEST_DIE_ONCE", str(tmp_path / "died"))
    ex = LocalExecutor(2, chunk=5)
    try:
        res = run(manifest, tmp_path / "sweep", executor=ex, task_fn=stub)
        assert ex.restarts >= 1
        after = run(manifest, tmp_path / "after", executor=ex, task_fn=stub)  # the new pool works
    finally:
        ex.close()
    s = by_chips(res.summary)
    others = s.drop(index="30000")
    assert len(s) == len(CHIPS) and (others["status"] == "ok").all() and (others["attempt"] == 1).all()
    if once:
        assert s.loc["30000", "status"] == "ok"
    else:
        assert s.loc["30000", "status"] == "failed" and "worker process died" in s.loc["30000", "error"]
        assert s.loc["30000", "attempt"] == 2
    assert (by_chips(after.summary).drop(index="30000")["status"] == "ok").all()


def test_chunk_bytes_read_back_as_the_rows_and_are_written_atomically(tmp_path):
    """encode_rows (in the worker) and write_rows (in the driver): the file holds the rows with the types
    pyarrow gives their values (a row shape's schema is cached: a second chunk of the shape keeps its own
    values); rows of several shapes keep every column; permissions as any file's; a write that fails
    leaves no file and no temporary one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gigawatt.sweep.run import write_rows
    from gigawatt.sweep.worker import encode_rows

    rows = [{"task_id": f"t{i}", "status": "ok", "n": i, "x": 0.5 * i, "year": None, "flag": i % 2 == 0}
            for i in range(5)]
    paths = [write_rows(tmp_path / "tasks", rows[:3], encode_rows(rows[:3])), write_rows(tmp_path / "tasks", rows[3:])]
    assert paths[0].name.startswith("t0+3-") and paths[1].name.startswith("t3+2-")
    for path, chunk in zip(paths, (rows[:3], rows[3:])):
        got = pq.read_table(path)
        assert got.to_pylist() == chunk and got.schema.equals(pa.Table.from_pylist([chunk[0]]).schema)
    mixed = [{"task_id": "a", "n": 1, "x": 1}, {"task_id": "b", "x": 2.5, "extra": "e"}]
    got = pq.read_table(write_rows(tmp_path / "mixed", mixed))
    assert got.column_names == ["task_id", "n", "x", "extra"] and got.schema.field("x").type == pa.float64()
    assert got.to_pydict() == {"task_id": ["a", "b"], "n": [1, None], "x": [1.0, 2.5], "extra": [None, "e"]}
    umask = os.umask(0)
    os.umask(umask)
    assert paths[0].stat().st_mode & 0o777 == 0o666 & ~umask
    (tmp_path / "tasks" / "t9.parquet").mkdir()
    with pytest.raises(OSError):
        write_rows(tmp_path / "tasks", [{**rows[0], "task_id": "t9"}])  # one row: <task_id>.parquet
    assert sorted(p.name for p in (tmp_path / "tasks").iterdir()) == sorted([p.name for p in paths] + ["t9.parquet"])


def test_a_column_keeps_its_type_in_every_chunk_file(manifest, tmp_path, calls, monkeypatch):
    """Chunks of different sizes and a final failed row written by the driver: each column has one type
    across the files (an int column stays int64, a float column double, even where its value is whole),
    so that readers of tasks/*.parquet need not unite types; the null type only where a file has no value."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.setenv("GIGAWATT_TEST_RAISE", "40000")
    res = run(manifest, tmp_path / "sweep", executor=InlineExecutor(chunk=3), task_fn=stub, retries=0)
    files = one_row_per_task(tmp_path / "sweep", manifest)
    assert len(files) == 5 and len(res.failed) == 1  # chunks 3+3+3+1; the failed row's file of its own
    types: dict = {}
    for name in files:
        for f in pq.read_schema(tmp_path / "sweep" / "tasks" / name):
            if f.type != pa.null():
                types.setdefault(f.name, set()).add(f.type)
    assert {k: v for k, v in types.items() if len(v) > 1} == {}
    assert types["attempt"] == {pa.int64()} and types["schema_version"] == {pa.int64()}
    assert types["net_present_cost_usd"] == {pa.float64()} and types["elapsed_s"] == {pa.float64()}
    whole = by_chips(res.summary).loc["20000", "net_present_cost_usd"]
    assert whole == 30000.0  # a whole number, still a double


def test_resume_removes_failed_rows_and_leaves_one_row_per_task(manifest, tmp_path, calls, monkeypatch):
    """A partial run with chunk files: a chunk lost, a failed row in a file of its own and one in a chunk
    file beside ok rows. Resume runs exactly the tasks without an ok row; their failed rows are removed
    first (a file with no ok row left is deleted, the others rewritten with their ok rows), so the files
    end with one row per task and the summary is a clean run's."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    clean = run(manifest, tmp_path / "clean", executor=InlineExecutor(), task_fn=stub)
    monkeypatch.setenv("GIGAWATT_TEST_RAISE", "40000")
    out = tmp_path / "sweep"
    first = run(manifest, out, executor=InlineExecutor(chunk=3), task_fn=stub, retries=0)
    files = rows_in(out)
    failed_file = next(n for n, r in files.items() if r[0][1] == "failed")
    ok_files = [n for n, r in files.items() if len(r) == 3]
    lost = [t for t, _ in files[ok_files[0]]]
    os.remove(out / "tasks" / ok_files[0])
    # a second failed row, in a chunk file beside its ok rows (rows from before a crash, say)
    mixed = out / "tasks" / ok_files[1]
    t = pq.read_table(mixed)
    bad = t["task_id"][2].as_py()
    failed_row = pa.Table.from_pylist([{"task_id": bad, "status": "failed", "error": "x", "attempt": 1}])
    pq.write_table(pa.concat_tables([t.slice(0, 2), failed_row], promote_options="default"), mixed)
    monkeypatch.delenv("GIGAWATT_TEST_RAISE")
    for p in calls.iterdir():
        p.unlink()
    again = run(manifest, out, executor=InlineExecutor(chunk=3), task_fn=stub)
    rerun = sorted({*lost, bad, by_chips(first.summary).loc["40000", "task_id"]})
    assert called(calls) == sorted((t, 1) for t in rerun) and again.ran == len(rerun)
    after = one_row_per_task(out, manifest)
    assert failed_file not in after and all(st == "ok" for r in after.values() for _, st in r)
    assert after[ok_files[1]] == files[ok_files[1]][:2]  # rewritten with its ok rows only
    assert table(again.summary).equals(table(clean.summary))


def test_an_old_directory_of_one_file_per_task_resumes(manifest, tmp_path, calls):
    """A sweep directory from before chunk files (tasks/<task_id>.parquet, one row each), stopped with a
    task missing and one failed: resume runs those two only, deletes the failed row's file, leaves the
    other files as they were, and the summary is a clean run's."""
    import pyarrow.parquet as pq

    from gigawatt.sweep.run import write_row

    clean = run(manifest, tmp_path / "clean", executor=InlineExecutor(), task_fn=stub)
    out = tmp_path / "old"
    run(manifest, out, executor=InlineExecutor(), task_fn=stub)  # the manifest and marker
    for f in (out / "tasks").iterdir():
        f.unlink()
    rows = pq.read_table(tmp_path / "clean" / "summary.parquet").to_pylist()
    missing, failed = rows[2]["task_id"], rows[5]["task_id"]
    rows[5].update(status="failed", error="infeasible: old")
    for row in rows:
        if row["task_id"] != missing:
            write_row(out / "tasks" / f"{row['task_id']}.parquet", row)
    kept = {f.name: f.stat().st_mtime_ns for f in (out / "tasks").iterdir() if f.stem != failed}
    for p in calls.iterdir():
        p.unlink()
    again = run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)  # both in one new file
    assert (again.ran, again.skipped) == (2, len(CHIPS) - 2) and not (out / "tasks" / f"{failed}.parquet").exists()
    assert called(calls) == sorted([(missing, 1), (failed, 1)])
    one_row_per_task(out, manifest)
    assert all((out / "tasks" / n).stat().st_mtime_ns == m for n, m in kept.items())
    assert table(again.summary).equals(table(clean.summary))


def test_an_unreadable_chunk_file_is_set_aside_and_its_tasks_run_again(manifest, tmp_path, calls):
    """A torn chunk file (its rows cannot be read, so which tasks it held is unknown): resume sets it aside
    as <name>.unreadable, out of tasks/*.parquet, runs the tasks that have no row, and the summary reads."""
    from gigawatt.sweep.run import read_summary

    out = tmp_path / "sweep"
    first = run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)
    files = rows_in(out)
    name = next(iter(files))
    torn = out / "tasks" / name
    torn.write_bytes(torn.read_bytes()[: len(torn.read_bytes()) // 2])
    with pytest.raises(Exception):
        read_summary(out)  # DuckDB over tasks/*.parquet trips over it, as a user's query would
    for p in calls.iterdir():
        p.unlink()
    again = run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)
    assert called(calls) == sorted((t, 1) for t, _ in files[name])
    assert (out / "tasks" / f"{name}.unreadable").exists() and not torn.exists()
    one_row_per_task(out, manifest)
    assert table(again.summary).equals(table(first.summary))


def test_a_second_sweep_in_the_same_directory_is_refused_while_one_runs(manifest, tmp_path, calls):
    """Two sweeps resuming one directory at once would both run the tasks left and write a row each: the
    second is refused while another process holds the sweep's lock, and runs once it is gone."""
    import subprocess
    import sys

    from gigawatt.errors import ScenarioError
    from gigawatt.sweep.run import LOCK, prepare

    out = tmp_path / "sweep"
    prepare(manifest, out)  # a sweep directory, as the other sweep made it
    (out / "tasks").mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
        "fcntl.lockf(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)"), str(out / "tasks" / LOCK)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ScenarioError, match="another sweep is running"):
            run(manifest, out, executor=InlineExecutor(), task_fn=stub)
        assert called(calls) == [] and not list((out / "tasks").glob("*.parquet"))
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    res = run(manifest, out, executor=InlineExecutor(), task_fn=stub)
    assert res.ran == len(CHIPS) and (res.summary["status"] == "ok").all()
    one_row_per_task(out, manifest)


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.parametrize("batch", [5, 2])  # 2: five chunks, four in flight, so the plan still holds one
def test_ray_chunk_whose_worker_dies_costs_only_its_task(manifest, tmp_path, calls, monkeypatch, batch):
    ray = pytest.importorskip("ray")
    import sys

    from gigawatt.sweep.executors import RayExecutor

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray's workers cannot import this file
    monkeypatch.setenv("GIGAWATT_TEST_DIE", "30000")
    rx = RayExecutor(2, batch=batch)
    try:
        res = run(manifest, tmp_path / "sweep", executor=rx, task_fn=stub)
    finally:
        rx.close()
    s = by_chips(res.summary)
    others = s.drop(index="30000")
    assert len(s) == len(CHIPS) and (others["status"] == "ok").all() and (others["attempt"] == 1).all()
    assert s.loc["30000", "status"] == "failed" and s.loc["30000", "attempt"] == 2


def test_a_worker_killed_while_idle_is_replaced_before_the_next_sweep(manifest, tmp_path, calls):
    """kill -9 of an idle worker breaks the pool before anything is in flight: the next submission starts
    a new pool instead of failing the sweep."""
    import signal
    import time

    ex = LocalExecutor(2, chunk=3)
    try:
        first = run(manifest, tmp_path / "a", executor=ex, task_fn=stub)
        os.kill(ex.pids[0], signal.SIGKILL)
        time.sleep(0.5)  # the pool's manager thread notices the death and marks the pool broken
        second = run(manifest, tmp_path / "b", executor=ex, task_fn=stub)
    finally:
        ex.close()
    assert ex.restarts == 1
    assert (second.summary["status"] == "ok").all() and table(second.summary).equals(table(first.summary))
