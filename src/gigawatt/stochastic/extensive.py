"""The two-stage extensive form: one linopy model over every future, solved with HiGHS.

Commitments (Own-buy, Own-chips, Site-power) have no ``future`` dimension, so every future shares them
(non-anticipativity by construction); recourse (dispatch, unmet demand at its penalty, rentals and
options used, cash) carries ``future``. Unmet demand is always allowed, so every commitment has a
recourse (complete recourse: the EEV evaluation of the deterministic plan is then always feasible).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from gigawatt.errors import InfeasibleError
from gigawatt.optimize.build import create_model
from gigawatt.optimize.context import MONEY_SCALE, Context
from gigawatt.optimize.objective import cost_terms, fixed_payments_npv_musd
from gigawatt.optimize.solve import solve
from gigawatt.stochastic.futures import Futures, draw_futures

COMMITMENTS = ("Own-buy", "Site-power")


@dataclass
class Solution:
    """What one solve of the extensive form (or of one future) leaves: costs and commitments."""

    npc_usd: xr.DataArray  # net present cost per future (USD)
    probability: xr.DataArray
    commitments: dict[str, xr.DataArray]  # model units (kchips, MW)
    unmet_h100e_hours: xr.DataArray  # per future, summed over workloads and periods
    seconds: dict = field(default_factory=dict)
    size: dict = field(default_factory=dict)

    @property
    def expected_usd(self) -> float:
        return float((self.npc_usd * self.probability).sum())

    def cvar_usd(self, alpha: float) -> float:
        return cvar(self.npc_usd.values, self.probability.values, alpha)


def cvar(losses: np.ndarray, probs: np.ndarray, alpha: float) -> float:
    """CVaR_α of a discrete distribution: the mean of its worst 1 − α of probability (Rockafellar–Uryasev,
    min_η η + E[(L − η)⁺]/(1 − α), whose minimum is at η = VaR_α)."""
    order = np.argsort(losses)
    cum = np.cumsum(probs[order])
    var = losses[order][np.searchsorted(cum, alpha - 1e-12)]
    return float(var + np.sum(probs * np.maximum(losses - var, 0.0)) / (1 - alpha))


def solve_extensive(futures: Futures, *, cvar_: tuple[float, float] | None = None,
                    fixed: dict[str, xr.DataArray] | None = None, method: str = "auto",
                    threads: int | None = None) -> Solution:
    """Build and solve the extensive form over ``futures``; ``fixed`` commitments are imposed (EEV)."""
    t0 = time.perf_counter()
    ctx = create_model(futures.portfolio, allow_unmet=True, probability=futures.probability, cvar=cvar_)
    if fixed:
        fix(ctx, fixed)
    build_s = time.perf_counter() - t0
    _solve(ctx, method, threads)
    t1 = time.perf_counter()
    out = _read(ctx)
    out.seconds = {"build": build_s, "solve": t1 - t0 - build_s}
    out.size = {"variables": int(ctx.model.nvars), "constraints": int(ctx.model.ncons)}
    return out


def fix(ctx: Context, commitments: dict[str, xr.DataArray]) -> None:
    """Fix each commitment variable at the given values (lower = upper)."""
    for name, value in commitments.items():
        if name in ctx.model.variables:
            var = ctx.model.variables[name]
            v = value.reindex_like(var.lower).fillna(0.0)
            var.update(lower=v, upper=v)


# The extensive form is solved with dual simplex whatever its size ("auto" below): its commitment columns
# are shared by every future (dense columns, 93 at 100 futures), which slows interior point's linear algebra.
# Measured on the reference (docs/performance.md, benchmarks/bench_stochastic.py): 100 futures, HiGHS
# 2.1 s simplex vs 11.7 s IPM without crossover (20.5 s with); 300 futures, 15.7 s vs 217 s.
EXTENSIVE_METHOD = "simplex"


def _solve(ctx: Context, method: str, threads: int | None) -> None:
    res = solve(ctx, method=EXTENSIVE_METHOD if method == "auto" else method, threads=threads)
    if res.status != "ok" or res.termination != "optimal":
        raise InfeasibleError(f"the extensive form has no optimal plan: status {res.status}, termination "
                              f"{res.termination}", status=res.termination)


def _read(ctx: Context) -> Solution:
    """Net present cost per future (terms summed over their other dimensions + fixed payments), commitments."""
    prob = ctx.probability
    total = fixed_payments_npv_musd(ctx, per_future=True)
    for term in cost_terms(ctx):
        sol = term.solution.fillna(0.0)
        total = total + sol.sum([d for d in sol.dims if d != "future"])
    commitments = {n: ctx.model.variables[n].solution.fillna(0.0) for n in COMMITMENTS if n in ctx.model.variables}
    unmet = ctx.model.variables["Workload-unmet"].solution.fillna(0.0).sum(["workload", "period"]) * 1e6
    return Solution(npc_usd=total * MONEY_SCALE + xr.zeros_like(prob), probability=prob,
                    commitments=commitments, unmet_h100e_hours=unmet + xr.zeros_like(prob))


def solve_mean(futures: Futures, *, method: str = "auto", threads: int | None = None) -> dict[str, xr.DataArray]:
    """The expected-value (EV) problem: one future with every uncertain array at its mean; its commitments."""
    ctx = create_model(futures.mean(), allow_unmet=True)
    _solve(ctx, method, threads)
    return {n: ctx.model.variables[n].solution.fillna(0.0) for n in COMMITMENTS if n in ctx.model.variables}


@dataclass
class HedgeResult:
    futures: Futures
    sp: Solution  # the stochastic optimum (risk-averse when cvar is set)
    sp_neutral: Solution  # the risk-neutral stochastic optimum (same as sp without cvar)
    eev: Solution | None  # the EV plan's commitments fixed, evaluated over the futures
    ws: Solution | None  # each future alone (wait and see)
    ev_commitments: dict[str, xr.DataArray] | None
    cvar: tuple[float, float] | None

    def metrics(self) -> dict:
        """WS ≤ SP ≤ EEV (expected net present cost, USD), EVPI = SP − WS, VSS = EEV − SP (risk-neutral)."""
        sp = self.sp_neutral.expected_usd
        out = {"futures": self.futures.n, "seed": self.futures.seed, "sp_usd": sp}
        if self.ws is not None:
            out["ws_usd"] = self.ws.expected_usd
            out["evpi_usd"] = sp - self.ws.expected_usd
        if self.eev is not None:
            out["eev_usd"] = self.eev.expected_usd
            out["vss_usd"] = self.eev.expected_usd - sp
        if self.cvar is not None:
            w, a = self.cvar
            out.update({"cvar_weight": w, "cvar_alpha": a, "hedged_expected_usd": self.sp.expected_usd,
                        "hedged_cvar_usd": self.sp.cvar_usd(a), "neutral_cvar_usd": self.sp_neutral.cvar_usd(a)})
        return out


def hedge(portfolio, n: int, *, seed: int | None = None, cvar_: tuple[float, float] | None = None,
          metrics: bool = True, method: str = "auto", threads: int | None = None,
          reduce_to: int | None = None) -> HedgeResult:
    """Draw ``n`` futures (``reduce_to``: reduced to that many weighted representatives, reduce.py), solve
    the stochastic optimum and (``metrics``) WS, EV and EEV beside it."""
    futures = draw_futures(portfolio, n, seed)
    if reduce_to:
        from gigawatt.stochastic.reduce import reduce_futures

        futures = reduce_futures(futures, reduce_to)
    sp = solve_extensive(futures, cvar_=cvar_, method=method, threads=threads)
    neutral = sp if not cvar_ else solve_extensive(futures, method=method, threads=threads)
    ws = eev = ev = None
    if metrics:
        ev = solve_mean(futures, method=method, threads=threads)
        eev = solve_extensive(futures, fixed=ev, method=method, threads=threads)
        ws = _wait_and_see(futures, method, threads)
    return HedgeResult(futures, sp, neutral, eev, ws, ev, cvar_)


def _wait_and_see(futures: Futures, method: str, threads: int | None) -> Solution:
    """Each future solved alone (its own commitments), gathered as one Solution over ``future``."""
    parts = [solve_extensive(futures.select([f]), method=method, threads=threads)
             for f in futures.probability.indexes["future"]]  # one solve per future: no model is shared
    npc = xr.concat([p.npc_usd for p in parts], "future")
    unmet = xr.concat([p.unmet_h100e_hours for p in parts], "future")
    return Solution(npc_usd=npc, probability=futures.probability, commitments={}, unmet_h100e_hours=unmet)





def hedged_plan(futures: Futures, commitments: dict[str, xr.DataArray]):
    """The hedged plan as a deterministic run reads it: its commitments fixed, recourse re-optimised in
    the expected-value future (so ``results.write_run_dir``, ``report`` and ``simulate`` take it as they
    take any plan). Returns a :class:`gigawatt.plan.Plan` of the mean portfolio."""
    return fixed_plan(futures.mean(), commitments)


def fixed_plan(portfolio, commitments: dict[str, xr.DataArray] | None = None):
    """The plan of ``portfolio`` with ``commitments`` fixed (none: free), recourse re-optimised, unmet
    demand allowed at its penalty (complete recourse, as in the extensive form)."""
    from gigawatt.optimize.run import attach_inputs, extract
    from gigawatt.plan import Plan

    t0 = time.perf_counter()
    ctx = create_model(portfolio, allow_unmet=True)
    if commitments:
        fix(ctx, commitments)
    build_s = time.perf_counter() - t0
    res = solve(ctx)
    if res.status != "ok" or res.termination != "optimal":
        raise InfeasibleError("the commitments have no optimal recourse in this future", status=res.termination)
    ds = extract(ctx)
    ds.attrs.update({"status": "optimal", "solver": "highs", "method": res.method,
                     "n_variables": int(ctx.model.nvars), "n_constraints": int(ctx.model.ncons),
                     "build_seconds": build_s, "solve_seconds": res.solve_seconds, "allow_unmet": 1,
                     "highs_run_seconds": res.highs_run_seconds or np.nan, "extract_seconds": 0.0})
    attach_inputs(ds, portfolio)
    return Plan(ds, portfolio)


__all__ = ["COMMITMENTS", "HedgeResult", "Solution", "cvar", "fix", "fixed_plan", "hedge", "hedged_plan", "solve_extensive", "solve_mean"]
