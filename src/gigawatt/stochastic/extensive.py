"""The two-stage extensive form: one linopy model over every future, solved with HiGHS.

Commitments (Own-buy, Own-chips, Site-power) have no ``future`` dimension, so every future shares them
(non-anticipativity by construction); recourse (dispatch, unmet demand at its penalty, rentals and
options used, cash) carries ``future``. Unmet demand is always allowed, so every commitment has a
recourse (complete recourse: the EEV evaluation of the deterministic plan is then always feasible).
With a scenario tree (tree.py, ``uncertainty.stages``) commitments carry ``future`` too and every decision
is tied within its node (optimize/nonanticipativity.py): the same build, multi-stage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from gigawatt.errors import InfeasibleError
from gigawatt.optimize.build import create_model
from gigawatt.optimize.cash import cash_position_usd, funding_gap_usd
from gigawatt.optimize.context import MONEY_SCALE, CashRisk, Context
from gigawatt.optimize.objective import fixed_payments_npv_musd, loss_per_future
from gigawatt.optimize.run import fix
from gigawatt.optimize.renegotiation_recourse import expected_by_counterparty
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
    funding_gap_usd: xr.DataArray | None = None  # per future: new funding to keep cash at the floor F
    shortfall_penalty_usd: xr.DataArray | None = None  # per future: the soft floor's penalty (in npc_usd)
    seconds: dict = field(default_factory=dict)
    size: dict = field(default_factory=dict)
    renegotiation: dict | None = None  # expected deferral/termination per counterparty (renegotiation_recourse)

    @property
    def expected_usd(self) -> float:
        return float((self.npc_usd * self.probability).sum())

    def cvar_usd(self, alpha: float) -> float:
        return cvar(self.npc_usd.values, self.probability.values, alpha)

    def funding_gap(self, alpha: float) -> dict:
        """Expected funding gap and its CVaR_α over the futures (USD)."""
        g, p = self.funding_gap_usd.values, self.probability.values
        return {"expected_usd": float((g * p).sum()), "cvar_usd": cvar(g, p, alpha), "cvar_alpha": alpha}


def cvar(losses: np.ndarray, probs: np.ndarray, alpha: float) -> float:
    """CVaR_α of a discrete distribution: the mean of its worst 1 − α of probability (Rockafellar–Uryasev,
    min_η η + E[(L − η)⁺]/(1 − α), whose minimum is at η = VaR_α)."""
    order = np.argsort(losses)
    cum = np.cumsum(probs[order])
    var = losses[order][np.searchsorted(cum, alpha - 1e-12)]
    return float(var + np.sum(probs * np.maximum(losses - var, 0.0)) / (1 - alpha))


def solve_extensive(futures: Futures, *, cvar_: tuple[float, float] | None = None,
                    fixed: dict[str, xr.DataArray] | None = None, method: str = "auto",
                    threads: int | None = None, cash_risk: CashRisk | None = None) -> Solution:
    """Build and solve the extensive form over ``futures``; ``fixed`` commitments are imposed (EEV);
    ``cash_risk`` adds a soft cash floor and/or a CVaR limit on the funding gap (optimize/cash.py)."""
    t0 = time.perf_counter()
    ctx = create_model(futures.portfolio, allow_unmet=True, probability=futures.probability, cvar=cvar_,
                       cash_risk=cash_risk,
                       nodes=getattr(futures, "nodes", None))  # a tree's nodes: multi-stage (tree.py)
    if fixed:
        fix(ctx, fixed)
    build_s = time.perf_counter() - t0
    _solve(ctx, method, threads)
    t1 = time.perf_counter()
    out = _read(ctx)
    out.seconds = {"build": build_s, "solve": t1 - t0 - build_s}
    out.size = {"variables": int(ctx.model.nvars), "constraints": int(ctx.model.ncons)}
    return out


# The extensive form is solved with dual simplex whatever its size ("auto" below): its commitment columns
# are shared by every future (dense columns, 93 at 100 futures), which slows interior point's linear algebra.
# Measured on the reference (docs/performance.md, benchmarks/bench_stochastic.py): 100 futures, HiGHS
# 2.1 s simplex vs 11.7 s IPM without crossover (20.5 s with); 300 futures, 15.7 s vs 217 s.
EXTENSIVE_METHOD = "simplex"


def _solve(ctx: Context, method: str, threads: int | None) -> None:
    res = solve(ctx, method=EXTENSIVE_METHOD if method == "auto" else method, threads=threads)
    if res.termination in ("infeasible", "infeasible_or_unbounded"):
        raise InfeasibleError("no commitments meet these limits over the futures (unmet demand is allowed "
                              "at its penalty, so one of them cannot hold)", conflicts=_hard_limits(ctx),
                              status=res.termination)
    if res.status != "ok" or res.termination != "optimal":
        raise InfeasibleError(f"the extensive form has no optimal plan: status {res.status}, termination "
                              f"{res.termination}", status=res.termination)


def _hard_limits(ctx: Context) -> list[str]:
    """The constraints that can leave the extensive form without a plan (unmet demand is always allowed),
    in the user's words."""
    from gigawatt.fmt import usd

    out = []
    risk, floor = ctx.cash_risk, ctx.portfolio.scenario.policy.cash_floor
    if risk is not None and risk.max_cvar_gap_usd is not None:
        out.append(f"CVaR{risk.gap_alpha:.0%} of the funding gap ≤ {usd(risk.max_cvar_gap_usd, style='compact')} "
                   f"(--max-cvar-funding-gap, --cvar-alpha)")
    if floor is not None and (risk is None or risk.floor_penalty is None):
        out.append(f"cash ≥ {usd(float(floor), style='compact')} in every period (policy.cash_floor; "
                   "--cash-floor-penalty makes it soft)")
    return out or ["the scenario's constraints (firm contracts, site power, purchase limits)"]


def _read(ctx: Context) -> Solution:
    """Net present cost per future (:func:`gigawatt.optimize.objective.loss_per_future` + fixed payments),
    commitments, unmet demand, funding gap (against policy.cash_floor, else 0) and soft-floor penalty."""
    prob = ctx.probability
    npc = (loss_per_future(ctx).solution + fixed_payments_npv_musd(ctx, per_future=True)) * MONEY_SCALE
    commitments = {n: ctx.model.variables[n].solution.fillna(0.0) for n in COMMITMENTS if n in ctx.model.variables}
    unmet = ctx.model.variables["Workload-unmet"].solution.fillna(0.0).sum(["workload", "period"]) * 1e6
    floor = float(ctx.portfolio.scenario.policy.cash_floor or 0.0)
    gap = funding_gap_usd(cash_position_usd(ctx), floor) + xr.zeros_like(prob)
    penalty = None
    if "Cash-shortfall" in ctx.model.variables:
        short = ctx.model.variables["Cash-shortfall"].solution
        years = ctx.period_years()
        penalty = (short * ctx.df() * years).sum("period") * ctx.cash_risk.floor_penalty * MONEY_SCALE + xr.zeros_like(prob)
    return Solution(npc_usd=npc + xr.zeros_like(prob), probability=prob, commitments=commitments,
                    unmet_h100e_hours=unmet + xr.zeros_like(prob), funding_gap_usd=gap,
                    shortfall_penalty_usd=penalty,
                    renegotiation=expected_by_counterparty(ctx))


def solve_mean(futures: Futures, *, method: str = "auto", threads: int | None = None,
               cash_risk: CashRisk | None = None) -> dict[str, xr.DataArray]:
    """The expected-value (EV) problem: one future with every uncertain array at its mean; its commitments."""
    ctx = create_model(futures.mean(), allow_unmet=True, cash_risk=cash_risk)
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
    cash_risk: CashRisk | None = None

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
        if self.cash_risk is not None:  # the hedged plan is not the risk-neutral SP: its own expected cost
            out.setdefault("hedged_expected_usd", self.sp.expected_usd)
        out.update(self.cash_metrics())
        return out

    def cash_metrics(self) -> dict:
        """The funding gap of the hedged and the risk-neutral plan over the futures (expected, CVaR at the
        gap limit's α, else the CVaR α, else 0.9), the cash limits set, and the soft floor's penalty."""
        r = self.cash_risk
        alpha = r.gap_alpha if r is not None else (self.cvar[1] if self.cvar else 0.9)
        out = {}
        if self.sp.funding_gap_usd is not None:  # None from --decompose: its subproblems do not report cash
            out["funding_gap"] = {"hedged": self.sp.funding_gap(alpha), "risk_neutral": self.sp_neutral.funding_gap(alpha),
                                  "floor_usd": float(self.futures.portfolio.scenario.policy.cash_floor or 0.0)}
        if r is not None:
            out["cash_limits"] = {"cash_floor_penalty_usd_per_usd": r.floor_penalty,
                                  "max_cvar_funding_gap_usd": r.max_cvar_gap_usd, "funding_gap_alpha": r.gap_alpha}
        if self.sp.shortfall_penalty_usd is not None:
            out["cash_shortfall_penalty_expected_usd"] = float((self.sp.shortfall_penalty_usd * self.sp.probability).sum())
        return out


def hedge(portfolio, n: int, *, seed: int | None = None, cvar_: tuple[float, float] | None = None,
          metrics: bool = True, method: str = "auto", threads: int | None = None,
          reduce_to: int | None = None, cash_risk: CashRisk | None = None) -> HedgeResult:
    """Draw ``n`` futures (``reduce_to``: reduced to that many weighted representatives, reduce.py), solve
    the stochastic optimum (with ``cvar_`` and ``cash_risk``) and the risk-neutral one (neither), and
    (``metrics``) WS, EV and EEV beside it, risk-neutral."""
    from gigawatt.stochastic.tree import draw_tree, tree_of

    tree = tree_of(portfolio, n)
    futures = draw_futures(portfolio, n, seed) if tree is None else draw_tree(portfolio, tree, seed)
    if reduce_to and tree is not None:
        from gigawatt.stochastic.staged import refuse

        refuse("--reduce", "reduction would merge futures across the tree's nodes")
    if reduce_to:
        from gigawatt.stochastic.reduce import reduce_futures

        futures = reduce_futures(futures, reduce_to)
    sp = solve_extensive(futures, cvar_=cvar_, method=method, threads=threads, cash_risk=cash_risk)
    soft = soft_floor(cash_risk)
    averse = bool(cvar_) or (cash_risk is not None and cash_risk.max_cvar_gap_usd is not None)
    neutral = solve_extensive(futures, method=method, threads=threads, cash_risk=soft) if averse else sp
    ws = eev = ev = None
    if metrics:
        ev = solve_mean(futures, method=method, threads=threads, cash_risk=soft)
        eev = solve_extensive(futures, fixed=ev, method=method, threads=threads, cash_risk=soft)
        ws = _wait_and_see(futures, method, threads, cash_risk=soft)
    return HedgeResult(futures, sp, neutral, eev, ws, ev, cvar_, cash_risk)


def soft_floor(cash_risk: CashRisk | None) -> CashRisk | None:
    """The part of a cash limit that is a cost, not a risk constraint: the soft floor's penalty (every plan
    beside the hedge — risk-neutral SP, EV, EEV, WS, option values — is priced with it, so a hard
    policy.cash_floor it replaces cannot make them infeasible); None without one."""
    if cash_risk is None or cash_risk.floor_penalty is None:
        return None
    return CashRisk(floor_penalty=cash_risk.floor_penalty, gap_alpha=cash_risk.gap_alpha)


def _wait_and_see(futures: Futures, method: str, threads: int | None, cash_risk: CashRisk | None = None) -> Solution:
    """Each future solved alone (its own commitments), gathered as one Solution over ``future``."""
    parts = [solve_extensive(futures.select([f]), method=method, threads=threads, cash_risk=cash_risk)
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
    demand allowed at its penalty (complete recourse, as in the extensive form): ``optimize`` with
    ``fixed``, without the binding-constraint confirmation re-solves."""
    from gigawatt.optimize.run import optimize

    return optimize(portfolio, allow_unmet=True, fixed=commitments or None, confirm_binding=0)


__all__ = ["COMMITMENTS", "HedgeResult", "Solution", "cvar", "fixed_plan", "hedge", "hedged_plan", "soft_floor",
           "solve_extensive", "solve_mean"]
