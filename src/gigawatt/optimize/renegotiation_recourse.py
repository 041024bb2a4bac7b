"""Renegotiation as recourse in the stochastic planner (docs/formulation.md, "Renegotiation as recourse").

A capacity contract with stated terms (scenario `contracts.<name>.renegotiation`) gives each future, in the
extensive form only (a model with ``ctx.probability``; the deterministic plan is unchanged), two recourse
variables over (supply = the contract's option, period, future):

- ``Reneg-defer`` D ≥ 0 (MUSD): take-or-pay payment deferred in t, D ≤ max_share · p_t, repaid in t + delay
  with (1 + penalty); zero before the notice has run from the horizon's start and where the repayment would
  fall after the horizon;
- ``Reneg-terminate`` τ ∈ [0, 1]: share of the contract ended by t, nondecreasing, zero before the notice
  has run; it stops τ_t · p_t of the payments, pays fee · V_t · (τ_t − τ_{t−1}) (V_t the remaining value) and
  removes τ_t of the contract's capacity.

:func:`cash_flow` is the hook into the cash balance (optimize/cash.py), :func:`cost_terms` the hook into the
objective (optimize/objective.py); :func:`expected_by_counterparty` reads the solution for summary.json.
Vectorised over contracts, periods and futures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.optimize.context import CHIP_SCALE, MONEY_SCALE, Context
from gigawatt.periods import periods_spanning

DEFER, TERMINATE = "Reneg-defer", "Reneg-terminate"


@dataclass(frozen=True)
class RecourseTerms:
    """Terms over the renegotiable contracts' supply options (arrays with a ``supply`` coordinate)."""

    defer: pd.Index  # options with deferral terms
    end: pd.Index  # options with termination terms
    max_share: xr.DataArray
    penalty: xr.DataArray
    delay: xr.DataArray  # periods ≥ 1
    notice: xr.DataArray  # periods from the horizon's start
    fee: xr.DataArray
    end_notice: xr.DataArray
    after: xr.DataArray  # MUSD of the stated value left after the horizon (0 without a stated value; per future)


def terms(ctx: Context) -> RecourseTerms | None:
    """The renegotiable contracts' terms, or None when the model is not stochastic or no contract has any."""
    if ctx.probability is None or not len(ctx.contract):
        return None
    p = ctx.portfolio
    names = p.supply.loc[ctx.contract, "contract"]
    reneg = {s: p.scenario.contracts[c].renegotiation for s, c in names.items()}
    reneg = {s: r for s, r in reneg.items() if r is not None}
    if not reneg:
        return None
    mpp = p.horizon.months_per_period()
    idx = pd.Index(list(reneg), name="supply")

    def arr(f, default):
        return xr.DataArray(np.array([f(r) if f(r) is not None else default for r in reneg.values()], dtype=float),
                            coords={"supply": idx})

    d = lambda attr: (lambda r: getattr(r.deferral, attr) if r.deferral else None)  # noqa: E731
    e = lambda attr: (lambda r: getattr(r.termination, attr) if r.termination else None)  # noqa: E731
    pay = _payments(ctx, idx).sum("period")
    value = arr(lambda r: None, 0.0) + np.array([p.scenario.contracts[names[s]].value or 0.0 for s in idx]) / MONEY_SCALE
    if "future" in pay.dims:
        # the schedule is the futures' largest; a future that owes less (a failure event zeroes a contract's
        # payments) has its after-horizon value scaled down alike, so a failed contract leaves nothing to
        # stop and the value does not depend on which futures share the model (WS, decomposition chunks)
        top = pay.max("future")
        after = (value - top).clip(min=0.0) * (pay / top).where(top > 0, 0.0)
    else:
        after = (value - pay).clip(min=0.0)
    return RecourseTerms(
        defer=pd.Index([s for s, r in reneg.items() if r.deferral], name="supply"),
        end=pd.Index([s for s, r in reneg.items() if r.termination], name="supply"),
        max_share=arr(d("max_share"), 0.0), penalty=arr(d("penalty"), 0.0),
        delay=arr(lambda r: max(1, periods_spanning(r.deferral.delay, mpp)) if r.deferral else None, 1),
        notice=arr(lambda r: periods_spanning(r.deferral.notice, mpp) if r.deferral else None, 0),
        fee=arr(e("fee"), 0.0), end_notice=arr(lambda r: periods_spanning(r.termination.notice, mpp) if r.termination else None, 0),
        after=after)


def _payments(ctx: Context, options: pd.Index) -> xr.DataArray:
    """Take-or-pay payments p of the options per period (MUSD; with ``future`` where the futures differ)."""
    return ctx.data["contract_fixed_payment_usd"].sel(supply=options) / MONEY_SCALE


def _index(ctx: Context) -> xr.DataArray:
    return xr.DataArray(np.arange(len(ctx.periods)), coords={"period": ctx.periods})


def define(ctx: Context) -> None:
    """Add the recourse variables and their constraints (before the cash balance and the objective):

        0 ≤ D_{j,t,f} ≤ max_share_j · p_{j,t,f} · 1[notice_j ≤ t < T − delay_j]
        0 ≤ τ_{j,t,f} ≤ 1[t ≥ notice_j],  τ_{j,t,f} ≥ τ_{j,t−1,f}                      (Reneg-terminate-order)
        Σ_w X_{j,w,t,f} + cap_{j,t,f} · τ_{j,t,f} ≤ cap_{j,t,f}                          (Reneg-capacity)"""
    rt = terms(ctx)
    if rt is None:
        return
    m, t = ctx.model, _index(ctx)
    T = len(ctx.periods)
    if len(rt.defer):
        ok = (t >= rt.notice.sel(supply=rt.defer)) & (t + rt.delay.sel(supply=rt.defer) < T)
        upper = (rt.max_share.sel(supply=rt.defer) * _payments(ctx, rt.defer) * ok).clip(min=0.0)
        upper = upper + xr.zeros_like(ctx.probability)
        m.add_variables(lower=0, upper=upper.transpose("supply", "period", "future"), name=DEFER)
    if len(rt.end):
        ok = (t >= rt.end_notice.sel(supply=rt.end)) + xr.zeros_like(ctx.probability)
        tau = m.add_variables(lower=0, upper=ok.astype(float).transpose("supply", "period", "future"), name=TERMINATE)
        m.add_constraints(tau - tau.shift(period=1).fillna(0) >= 0, name="Reneg-terminate-order")
        cap = ctx.data["contract_capacity_chips"].sel(supply=rt.end) / CHIP_SCALE
        x = m.variables["Supply-dispatch"].sel(supply=rt.end).sum("workload")
        m.add_constraints(x + cap * tau <= cap, name="Reneg-capacity")


def _flows(ctx: Context) -> list:
    """Cash-flow terms per (supply, period, future), MUSD, undiscounted: + D_t − (1 + π) D_{t−δ}
    (deferral) and + τ_t p_t − fee · V_t (τ_t − τ_{t−1}) (termination)."""
    m, rt, out = ctx.model, terms(ctx), []
    if rt is None:
        return out
    if DEFER in m.variables:
        D = m.variables[DEFER]
        for k in np.unique(rt.delay.sel(supply=rt.defer).values).astype(int):  # one shift per distinct delay
            opts = rt.defer[rt.delay.sel(supply=rt.defer).values == k]
            Dk = D.sel(supply=opts)
            out.append(Dk - (Dk * (1 + rt.penalty.sel(supply=opts))).shift(period=int(k)).fillna(0))
    if TERMINATE in m.variables:
        tau = m.variables[TERMINATE]
        p = _payments(ctx, rt.end)
        remaining = p.isel(period=slice(None, None, -1)).cumsum("period").isel(period=slice(None, None, -1)) \
            + rt.after.sel(supply=rt.end)
        fee = rt.fee.sel(supply=rt.end) * remaining
        out.append(tau * p - (tau - tau.shift(period=1).fillna(0)) * fee)
    return out


def cash_flow(ctx: Context):
    """The recourse's cash flow per (period, future), MUSD, for the cash balance; 0 without recourse."""
    flows = [f.sum("supply") for f in _flows(ctx)]
    return sum(flows[1:], flows[0]) if flows else 0


def cost_terms(ctx: Context) -> list:
    """Objective terms (MUSD, discounted): − δ_t · (the cash flow above), and for termination the payments
    after the horizon it stops, − δ_end · after_j · τ_{j,T}. Empty without recourse."""
    rt = terms(ctx)
    out = [-(f * ctx.df()) for f in _flows(ctx)]
    if rt is not None and TERMINATE in ctx.model.variables:
        last = ctx.model.variables[TERMINATE].isel(period=-1)
        out.append(-(last * (rt.after.sel(supply=rt.end) * ctx.df_end())))
    return out


def expected_by_counterparty(ctx: Context) -> dict | None:
    """summary.json: per counterparty, the expected (probability-weighted) amounts deferred and repaid with
    penalty, and the expected take-or-pay payments stopped by termination, its fees (USD, undiscounted) and
    ``expected_contracts_terminated``: Σ over its contracts of the expected share ended by the horizon's end
    (1 = one whole contract). None without recourse."""
    rt = terms(ctx)
    if rt is None:
        return None
    m, prob = ctx.model, ctx.probability
    cp = ctx.portfolio.supply["provider"]
    rows: dict[str, dict] = {}

    def add(options, key, values):
        for s, v in zip(options, np.atleast_1d(values)):
            rows.setdefault(str(cp[s]), {}).setdefault(key, 0.0)
            rows[str(cp[s])][key] += float(v)

    if DEFER in m.variables:
        D = m.variables[DEFER].solution.fillna(0.0)
        add(rt.defer, "expected_deferred_usd", ((D * prob).sum(["period", "future"]) * MONEY_SCALE).values)
        add(rt.defer, "expected_penalty_usd",
            ((D * rt.penalty.sel(supply=rt.defer) * prob).sum(["period", "future"]) * MONEY_SCALE).values)
    if TERMINATE in m.variables:
        tau = m.variables[TERMINATE].solution.fillna(0.0)
        p = _payments(ctx, rt.end)
        add(rt.end, "expected_payments_stopped_usd", ((tau * p * prob).sum(["period", "future"]) * MONEY_SCALE).values)
        remaining = p.isel(period=slice(None, None, -1)).cumsum("period").isel(period=slice(None, None, -1)) \
            + rt.after.sel(supply=rt.end)
        step = tau - tau.shift(period=1).fillna(0.0)
        add(rt.end, "expected_fee_usd",
            ((step * rt.fee.sel(supply=rt.end) * remaining * prob).sum(["period", "future"]) * MONEY_SCALE).values)
        add(rt.end, "expected_contracts_terminated", (tau.isel(period=-1) * prob).sum("future").values)
    return rows


__all__ = ["DEFER", "TERMINATE", "RecourseTerms", "terms", "define", "cash_flow", "cost_terms",
           "expected_by_counterparty"]
