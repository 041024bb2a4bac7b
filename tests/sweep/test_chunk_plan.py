"""Chunks sized by the time tasks take (gigawatt.sweep.chunks.Chunks): the cap until a task's time is known,
then about CHUNK_SECONDS of work per chunk at the median time seen; every task handed out once, in order;
and the executors feed it the rows that come back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sweep_helpers import drain

from gigawatt.sweep.chunks import CHUNK_SECONDS, MAX_CHUNK, Chunks
from gigawatt.sweep.executors import InlineExecutor, LocalExecutor


def rows(seconds: list[float], status: str = "ok") -> list[dict]:
    return [{"status": status, "elapsed_s": s} for s in seconds]


def test_fast_tasks_go_out_in_chunks_of_about_a_quarter_second():
    plan = Chunks(range(5000), 2)
    first = plan.next()
    assert len(first) == 16  # the cap: nothing known yet
    plan.observe(rows([0.005] * len(first)))
    assert plan.limit() == int(CHUNK_SECONDS / 0.005) == 50
    assert len(plan.next()) == 50  # guided (the tasks left over 8) is larger: the time limit holds


def test_slow_tasks_go_out_one_by_one_and_the_largest_chunk_is_bounded():
    slow = Chunks(range(100), 2)
    slow.observe(rows([2.0]))
    assert slow.limit() == 1 and len(slow.next()) == 1
    instant = Chunks(range(10_000), 1)
    instant.observe(rows([0.0, 1e-7]))
    assert instant.limit() == MAX_CHUNK
    tiny = Chunks(range(10), 1)
    tiny.observe(rows([5e-324]))  # a denormal time: no overflow, the largest chunk
    assert tiny.limit() == MAX_CHUNK
    with pytest.raises(ValueError):
        Chunks(range(10), 1, size=0)


def test_a_workers_first_task_loading_its_base_does_not_shrink_the_chunks():
    plan = Chunks(range(5000), 2)
    plan.observe(rows([0.5] + [0.005] * 15))  # the base load, then fast tasks
    assert plan.limit() == 50


def test_failed_rows_and_rows_without_a_time_are_not_timings():
    plan = Chunks(range(100), 2)
    plan.observe(rows([9.0, 9.0], status="failed") + [{"status": "ok"}, {"status": "ok", "elapsed_s": float("nan")}])
    assert plan.limit() == 16


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 3000), workers=st.integers(1, 8), seconds=st.sampled_from([None, 0.0, 0.001, 0.05, 3.0]),
       size=st.sampled_from([None, 1, 7]))
def test_every_task_is_handed_out_once_in_order_and_chunks_shrink_to_one(n, workers, seconds, size):
    plan = Chunks(range(n), workers, size=size)
    chunks = drain(plan, seconds)
    assert [t for c in chunks for t in c] == list(range(n))
    assert all(1 <= len(c) <= (size or MAX_CHUNK) for c in chunks)
    if n and size is None:
        assert len(chunks[-1]) == 1


def fast(spec: dict) -> dict:
    return {"task_id": spec["task_id"], "status": "ok", "elapsed_s": 0.001}


@pytest.mark.parametrize("make", [lambda: InlineExecutor(), lambda: LocalExecutor(2)], ids=["inline", "local"])
def test_the_executors_give_the_rows_times_to_the_plan(make):
    specs = [{"task_id": f"t{i:04d}"} for i in range(600)]
    ex = make()
    try:
        out = [row["task_id"] for chunk, got, _ in ex.map(specs, fast) for row in got]
    finally:
        ex.close()
    assert sorted(out) == [s["task_id"] for s in specs]
    assert max(ex.plan.sizes) > 16  # past the cap once the rows said the tasks take 1 ms
