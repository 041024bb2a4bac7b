"""The rooms of the simulation apart: the plan's options as arrays, event delays, the kernel's inputs, the
schedule of chunks and the statistics over draws."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gigawatt.risk.chunks import ChunkResult
from gigawatt.risk.events import _delayed
from gigawatt.risk.options import allotment
from gigawatt.risk.sample import BLOCK
from gigawatt.risk.schedule import chunk_draws, chunk_starts, default_chunk, run_chunks
from gigawatt.risk.statistics import Statistics

# --- the model's inputs ----------------------------------------------------------------------------------


def test_capacity_is_allotted_by_the_plans_use_else_by_demand():
    # 2 options × 2 workloads × 1 period; option 0 used 3:1, option 1 unused and eligible for both
    x = np.array([[[3.0], [1.0]], [[0.0], [0.0]]])
    eligible = np.array([[True, True], [True, True]])
    eff = np.ones((2, 2, 1))
    demand = np.array([[1.0], [4.0]])
    share = allotment(x, eligible, eff, demand)
    np.testing.assert_allclose(share[0, :, 0], [0.75, 0.25])
    np.testing.assert_allclose(share[1, :, 0], [0.2, 0.8])


def test_an_ineligible_workload_gets_no_share():
    x = np.zeros((1, 2, 1))
    share = allotment(x, np.array([[True, False]]), np.ones((1, 2, 1)), np.array([[1.0], [9.0]]))
    np.testing.assert_allclose(share[0, :, 0], [1.0, 0.0])


def test_a_delay_shifts_a_series_and_interpolates_fractions():
    s = np.array([10.0, 20.0, 30.0])
    np.testing.assert_allclose(_delayed(s, 1.0), [0.0, 10.0, 20.0])
    np.testing.assert_allclose(_delayed(s, 0.5), [5.0, 15.0, 25.0])
    np.testing.assert_allclose(_delayed(s, 0.0), s)


# --- the schedule ----------------------------------------------------------------------------------------


def test_chunks_are_whole_blocks():
    assert default_chunk(1) % BLOCK == 0 and default_chunk(10_000) == BLOCK
    assert chunk_draws(16, 1) == BLOCK
    assert chunk_draws(16, BLOCK + 1) == 2 * BLOCK
    assert chunk_draws(16, None) == default_chunk(16)
    assert chunk_starts(10_000, 4096) == [0, 4096, 8192]


@pytest.mark.parametrize("workers", [1, 3])
def test_every_chunk_runs_once_whatever_the_workers(workers):
    seen, lock = [], threading.Lock()

    def job(s: int) -> None:
        with lock:
            seen.append(s)

    starts = chunk_starts(5 * BLOCK, BLOCK)
    run_chunks(starts, job, workers)
    assert sorted(seen) == starts


# --- the statistics --------------------------------------------------------------------------------------


def _chunk(start: int, n: int, P: int, rng) -> ChunkResult:
    cash = rng.normal(size=(P, n))
    npc, gap = rng.normal(size=n), np.abs(rng.normal(size=n))
    sums = {(start + b0) // BLOCK: (float(npc[b0:b0 + BLOCK].sum()), float(gap[b0:b0 + BLOCK].sum()))
            for b0 in range(0, n, BLOCK)}
    return ChunkResult(start, n, cash, cash * 2, np.abs(cash) / 10, np.abs(cash) / 20, npc, gap,
                       np.array([1, 2]), np.array([2, 3]), sums)


def test_statistics_do_not_depend_on_the_order_chunks_arrive_in():
    P, draws = 3, 3 * BLOCK
    rng = np.random.default_rng(0)
    chunks = [_chunk(s, BLOCK, P, rng) for s in chunk_starts(draws, BLOCK)]
    results = []
    for order in (chunks, chunks[::-1]):
        done = []
        st = Statistics(P, 2, draws, budget=1 << 20, progress=done.append)
        for c in order:
            st.consume(c)
        results.append((st.percentiles(1), st.funding_gap(), st.net_present_cost(1.0), st.below.copy()))
        assert done == [BLOCK, 2 * BLOCK, 3 * BLOCK]
    (p1, g1, n1, b1), (p2, g2, n2, b2) = results
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    assert g1 == g2 and n1 == n2
    np.testing.assert_array_equal(b1, [3, 6])
    all_npc = np.concatenate([c.npc for c in chunks])
    assert n1["mean"] == pytest.approx(all_npc.mean(), rel=1e-12)
    assert n1["p50"] == pytest.approx(np.quantile(all_npc, 0.5), rel=1e-9)


def test_the_kernel_writes_into_exact_stores_only():
    assert Statistics(2, 1, BLOCK, budget=1 << 20).targets() is not None
    assert Statistics(2, 1, 10 * BLOCK, budget=BLOCK).targets() is None  # stores that compact keep no array
