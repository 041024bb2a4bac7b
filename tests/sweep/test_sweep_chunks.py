"""Tasks sent to workers in chunks: every row arrives and is written once, resume skips what is done, a task
that fails is retried alone without its chunk-mates, and a worker that dies mid-chunk costs only the task
that killed it. The task function here is a stub (no solve), so the sweep's own machinery is what runs."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sweep_helpers import write_scenario

from gigawatt.sweep.executors import InlineExecutor, LocalExecutor, param_columns
from gigawatt.sweep.manifest import build
from gigawatt.sweep.run import run
from gigawatt.sweep.worker import chunk_sizes, split

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


def table(summary):
    return summary.drop(columns=VOLATILE).sort_values("task_id").reset_index(drop=True)


def by_chips(summary):
    return summary.set_index("contracts.reserved.chips")


def test_chunk_sizes_shrink_to_one_and_cover_every_task():
    for n in (0, 1, 7, 64, 1000):
        for w in (1, 2, 3):
            sizes = chunk_sizes(n, w)
            assert sum(sizes) == n and all(1 <= s <= 16 for s in sizes)
            assert sizes == sorted(sizes, reverse=True) and (not sizes or sizes[-1] == 1)
    assert chunk_sizes(64, 2)[0] == 8  # several tasks per submission while many are left
    assert split(list(range(7)), 2, 3) == [[0, 1, 2], [3, 4, 5], [6]]


@pytest.mark.parametrize("chunk", [None, 3, 10])
def test_chunked_pool_writes_every_row_once_as_inline_does(manifest, tmp_path, calls, chunk):
    inline = run(manifest, tmp_path / "inline", executor=InlineExecutor(), task_fn=stub)
    ex = LocalExecutor(2, chunk=chunk)
    try:
        res = run(manifest, tmp_path / "pool", executor=ex, task_fn=stub)
    finally:
        ex.close()
    files = sorted(p.stem for p in (tmp_path / "pool" / "tasks").glob("*.parquet"))
    assert files == sorted(t.task_id for t in manifest.tasks)
    assert table(res.summary).equals(table(inline.summary)) and (res.summary["status"] == "ok").all()
    assert called(calls) == sorted([(t.task_id, 1) for t in manifest.tasks] * 2)  # once per sweep, no retry


def test_resume_after_a_chunked_run_skips_the_tasks_done(manifest, tmp_path, calls):
    ex = LocalExecutor(2, chunk=4)
    try:
        first = run(manifest, tmp_path / "sweep", executor=ex, task_fn=stub)
        gone = [manifest.tasks[i].task_id for i in (1, 6)]
        for t in gone:
            os.remove(tmp_path / "sweep" / "tasks" / f"{t}.parquet")
        for p in calls.iterdir():
            p.unlink()
        again = run(manifest, tmp_path / "sweep", executor=ex, task_fn=stub)
    finally:
        ex.close()
    assert (again.ran, again.skipped) == (2, len(CHIPS) - 2)
    assert called(calls) == sorted((t, 1) for t in gone)
    assert table(again.summary).equals(table(first.summary))


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


def test_row_bytes_read_back_as_the_row_and_are_written_atomically(tmp_path):
    """encode_row (in the worker) and write_row (in the driver): the file holds the row with the types
    pyarrow gives its values (a row shape's schema is cached: a second row of the shape keeps its own
    values); permissions as any file's; a write that fails leaves no file and no temporary one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gigawatt.sweep.run import write_row
    from gigawatt.sweep.worker import encode_row

    rows = [{"task_id": f"t{i}", "status": "ok", "n": i, "x": 0.5 * i, "year": None, "flag": i % 2 == 0}
            for i in range(3)]
    for i, row in enumerate(rows):
        write_row(tmp_path / "tasks" / f"t{i}.parquet", row, encode_row(row) if i else None)
    for i, row in enumerate(rows):
        got = pq.read_table(tmp_path / "tasks" / f"t{i}.parquet")
        assert got.to_pylist() == [row] and got.schema.equals(pa.Table.from_pylist([row]).schema)
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "tasks" / "t0.parquet").stat().st_mode & 0o777 == 0o666 & ~umask
    (tmp_path / "tasks" / "dir.parquet").mkdir()
    with pytest.raises(OSError):
        write_row(tmp_path / "tasks" / "dir.parquet", rows[0])
    assert sorted(p.name for p in (tmp_path / "tasks").iterdir()) == ["dir.parquet", "t0.parquet", "t1.parquet",
                                                                     "t2.parquet"]


@pytest.mark.ray
@pytest.mark.slow
def test_ray_chunk_whose_worker_dies_costs_only_its_task(manifest, tmp_path, calls, monkeypatch):
    ray = pytest.importorskip("ray")
    import sys

    from gigawatt.sweep.executors import RayExecutor

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray's workers cannot import this file
    monkeypatch.setenv("GIGAWATT_TEST_DIE", "30000")
    rx = RayExecutor(2, batch=5)
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
