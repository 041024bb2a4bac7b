"""Monte Carlo over a solved plan: commitments fixed, operations and cash re-evaluated per draw.

Every quantity is the plan's figure plus a change caused by the draw, computed by the compiled kernel
(gigawatt.risk.kernel) a block of draws at a time (docs/risk.md has the model and the dispatch rule):

- demand: the plan's demand times the draw's demand factors;
- dispatch (per workload, plan-relative merit order): the capacity allotted to a workload is split into
  *tranches* sorted by price per H100e-hour: committed capacity (own chips in service, contracted chips;
  free at the margin, or at a contract's per-use price), then on-demand leases up to their availability.
  Demand above the plan's is served from the tranches' spare capacity, cheapest first; what no tranche can
  serve is unmet. Demand below the plan's first reduces the plan's unmet demand, then the most expensive
  use (leases first); committed capacity left unused is stranded. Capacity is not moved between workloads
  within a draw (a training cluster does not absorb an inference surge);
- events remove capacity (a delayed site's chips, a failed contract's chips), the lost service is
  re-served by the remaining spare capacity, and their payments, capex, energy and vendor equity follow;
- cash: cash flow = plan cash flow + Δrevenue − Δcosts (+ Δvendor equity); cash = plan cash + Σ Δ.

A draw whose factors are all 1 and in which no event happens reproduces the plan's figures exactly.

The rooms: the model (model.py, built by build.py from options.py, events.py and tranches.py), the kernel's
inputs (pack.py), one chunk (chunks.py), the schedule of chunks (schedule.py), the statistics over draws
(statistics.py) and the result (result.py). This module drives them.
"""


from __future__ import annotations

import time
from typing import Callable

from gigawatt.risk.baseline import base_finance, compute_costs, net_present_cost
from gigawatt.risk.build import build_model
from gigawatt.risk.chunks import OUTPUTS, SAMPLE_PATHS, ChunkResult, chunk_result, run_chunk, warm_up
from gigawatt.risk.model import RiskModel, Tranche, WorkloadModel
from gigawatt.risk.pack import derive, pack_model
from gigawatt.risk.quantiles import DEFAULT_BUDGET_VALUES
from gigawatt.risk.result import PERCENTILES, RiskResult, paths_frame
from gigawatt.risk.schedule import TARGET_CHUNK_VALUES, chunk_draws, chunk_starts, default_chunk, run_chunks
from gigawatt.risk.statistics import Statistics


def simulate(plan, portfolio, *, draws: int | None = None, seed: int | None = None, chunk_size: int | None = None,
             workers: int = 1, progress: Callable[[int], None] | None = None,
             budget: int = DEFAULT_BUDGET_VALUES, model: RiskModel | None = None) -> RiskResult:
    """Monte Carlo over ``plan`` with its commitments fixed.

    Parameters
    ----------
    plan, portfolio
        A solved plan and the portfolio it was solved from (uncertainty in ``portfolio.scenario``).
    draws, seed
        Number of draws and the root seed (default: the scenario's ``uncertainty.draws`` and ``seed``).
    chunk_size
        Draws evaluated at once (rounded up to whole blocks of 4,096); memory ∝ chunk_size × periods.
        Results do not depend on it.
    workers
        Threads evaluating chunks in parallel (numpy releases the GIL). Results do not depend on it.
    progress
        Called with the number of draws finished after each chunk.
    budget
        Values per statistic kept exactly before percentiles switch to a bounded compactor.

    Returns
    -------
    RiskResult
    """
    unc = portfolio.scenario.uncertainty
    draws = int(unc.draws if draws is None else draws)
    seed = int(unc.seed if seed is None else seed)
    if draws < 1:
        raise ValueError("draws must be ≥ 1")
    t0 = time.perf_counter()
    if model is None:
        model = build_model(plan, portfolio)
    t_build = time.perf_counter() - t0
    t_compile = warm_up(model)
    P = model.n_periods
    chunk = chunk_draws(P, chunk_size)
    stats = Statistics(P, len(model.years), draws, budget=budget, progress=progress)
    paths: dict[int, tuple] = {}
    targets = stats.targets()  # the kernel writes straight into the stores when they keep every value

    def job(s: int) -> None:
        # run and consume in the same thread: the chunk's arrays live in this thread's workspace
        stats.consume(run_chunk(model, seed, s, min(chunk, draws - s), paths_out=paths, targets=targets))

    t1 = time.perf_counter()
    run_chunks(chunk_starts(draws, chunk), job, workers)
    t_sim = time.perf_counter() - t1
    pct = stats.percentiles(workers)
    funding_gap, npc = stats.funding_gap(), stats.net_present_cost(model.npc)
    t_stats = time.perf_counter() - t1 - t_sim
    det_gap = max(0.0, -float(model.cash.min()))
    return RiskResult(
        draws=draws, seed=seed, periods=model.periods, years=model.years,
        percentiles=pct,
        probability_cash_below_zero=stats.below / draws, probability_cash_below_zero_by=stats.below_by / draws,
        funding_gap=funding_gap, net_present_cost=npc,
        deterministic={"cash_usd": dict(zip(model.periods, map(float, model.cash))),
                       "cash_flow_usd": dict(zip(model.periods, map(float, model.cash_flow))),
                       "funding_gap_usd": det_gap, "net_present_cost_usd": model.npc},
        paths=paths_frame(paths, model.periods),
        timings={"build_s": t_build, "compile_s": t_compile, "simulate_s": t_sim, "statistics_s": t_stats,
                 "draw_periods_per_s": draws * P / t_sim if t_sim > 0 else None},
        chunk_size=chunk, workers=workers, normals_per_draw=model.sampler.normals_per_draw,
        finance_source=model.finance_source)


# the names this module held before the risk package was split; their homes are in the module docstring
__all__ = ["simulate", "build_model", "run_chunk", "warm_up", "RiskModel", "RiskResult", "Tranche", "WorkloadModel",
           "ChunkResult", "chunk_result", "base_finance", "compute_costs", "net_present_cost", "default_chunk",
           "derive", "pack_model", "PERCENTILES", "SAMPLE_PATHS", "OUTPUTS", "TARGET_CHUNK_VALUES"]
