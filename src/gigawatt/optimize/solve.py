"""Solve with HiGHS through linopy's direct API; anything but optimal is a failure."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from gigawatt.errors import SolverError
from gigawatt.optimize.context import Context

log = logging.getLogger(__name__)

# Below this many variables HiGHS's dual simplex beats interior point on these models; above, IPM with
# crossover wins (docs/performance.md has the measurements behind the threshold: on 2 cores, simplex
# is ~15% faster up to ~7k variables, both under 0.15 s; IPM is 1.4-2x faster at 12-36k, 2.6-3.8x at
# 47k and 7.5x at 205k).
IPM_THRESHOLD_VARIABLES = 10_000


@dataclass
class SolveResult:
    status: str
    termination: str
    solve_seconds: float
    method: str
    highs_run_seconds: float | None


def pick_method(ctx: Context, method: str) -> str:
    if method != "auto":
        return method
    return "ipm" if ctx.model.nvars >= IPM_THRESHOLD_VARIABLES else "simplex"


def solve(ctx: Context, *, method: str = "auto", threads: int | None = None, time_limit: float | None = None,
          verbose: bool = False) -> SolveResult:
    chosen = pick_method(ctx, method)
    options: dict = {"output_flag": bool(verbose), "solver": chosen}
    if threads is not None:
        options["threads"] = int(threads)
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    t0 = time.perf_counter()
    try:
        status, termination = ctx.model.solve(solver_name="highs", io_api="direct", progress=False, **options)
    except Exception as exc:  # the solver itself failed (not the model)
        raise SolverError(f"HiGHS failed: {exc}") from exc
    seconds = time.perf_counter() - t0
    run_time = None
    highs = ctx.model.solver_model
    if highs is not None and hasattr(highs, "getRunTime"):
        try:
            run_time = float(highs.getRunTime())
        except Exception:  # pragma: no cover - depends on highspy build
            run_time = None
    log.info("HiGHS %s: %s (%s) in %.2f s", chosen, status, termination, seconds)
    return SolveResult(status=str(status), termination=str(termination), solve_seconds=seconds, method=chosen,
                       highs_run_seconds=run_time)
