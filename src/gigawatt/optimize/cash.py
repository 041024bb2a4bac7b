"""Cash floor: the plan's cash stays at or above policy.cash_floor in every period (docs/formulation.md).

Cash follows the same cash flow as :func:`gigawatt.finance.compute` (docs/finance.md), written over the
model's variables: revenue per unit of compute served is linear in dispatch, capex, energy, rentals and
contract use are linear in purchases, chips in service, power built and dispatch, and everything the plan
cannot change (exogenous revenue, other costs, funding, vendor equity, take-or-pay payments) is a constant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.optimize.context import MONEY_SCALE, Context
from gigawatt.portfolio import Portfolio


def revenue_usd_per_h100e_hour(portfolio: Portfolio) -> xr.DataArray:
    """Revenue per H100e-hour served, per workload: revenue_per_h100_hour / u_ref (one H100-hour of the
    workload is u_ref H100e-hours). 0 where the workload earns nothing."""
    w = portfolio.workloads
    rate = w["revenue_per_h100_hour_usd"].to_numpy(dtype=float) / w["utilisation_h100"].to_numpy(dtype=float)
    return xr.DataArray(rate, coords={"workload": w.index})


def vendor_equity_by_deal_usd(portfolio: Portfolio) -> xr.DataArray:
    """Vendor equity per firm supply deal and period (USD): equity_per_gw × GW of the deal's chips delivered
    in the period (at the accelerator's all-in power), cumulated and capped at equity_max.

    A deal that is not firm is an option: it delivers nothing for sure, so its equity is not counted."""
    labels = list(portfolio.horizon.labels)
    deals = portfolio.deals
    names = pd.Index([], name="deal", dtype=object)
    if deals is not None and len(deals):
        names = pd.Index(deals.index[deals["firm"].astype(bool) & (deals["equity_per_gw_usd"] > 0)], name="deal")
    if not len(names):
        return xr.DataArray(np.zeros((0, len(labels))), coords={"deal": names, "period": labels})
    rows = deals.loc[names]
    chips = rows[[f"chips_{p}" for p in labels]].to_numpy(dtype=float)
    kw = portfolio.accelerators.loc[rows["accelerator"], "all_in_power_kw"].to_numpy(dtype=float)
    gw = chips * kw[:, None] / 1e6
    per_gw = rows["equity_per_gw_usd"].to_numpy(dtype=float)[:, None]
    cap = rows["equity_max_usd"].to_numpy(dtype=float)[:, None]
    cum = np.minimum(np.cumsum(gw * per_gw, axis=1), cap)
    return xr.DataArray(np.diff(cum, axis=1, prepend=0.0), coords={"deal": names, "period": labels})


def fixed_cash_flow_usd(portfolio: Portfolio) -> xr.DataArray:
    """Cash flow per period the plan cannot change (USD): exogenous revenue + funding + vendor equity
    − other costs − take-or-pay payments of firm contracts − interest and principal repaid on debt
    (+ the events' cash in a future of the stochastic planner)."""
    d = portfolio.data
    fixed = d["contract_fixed_payment_usd"].sum("supply") if d.sizes.get("supply", 0) else 0.0
    equity = vendor_equity_by_deal_usd(portfolio).sum("deal")
    flow = d["revenue_usd"] + d["funding_usd"] - d["other_costs_usd"] - fixed
    if "debt_interest_usd" in d:  # debt among the funding: interest and principal repaid leave cash
        flow = flow - d["debt_interest_usd"] - d["debt_repaid_usd"]
    if "event_cash_usd" in d:  # the futures' events: capex refunded, vendor equity lost (stochastic/events.py)
        flow = flow + d["event_cash_usd"]
    return flow + equity.assign_coords(period=d.indexes["period"])


def define_cash_floor(ctx: Context) -> None:
    """Cash-level[t] (MUSD, free): the lab's cash at the end of period t, and

    Cash-balance: K[t] − K[t−1] − (R[t] − C[t]) = S·1[t=first] + Φ[t]
    Cash-floor:   K[t] ≥ floor

    R[t] = Σ_{j,w} ρ_w e[j,w,t] X[j,w,t] (revenue per unit served), C[t] = Σ_o p_a B[o,t] + Σ_o ε[o,t] N[o,t]
    + Σ_s c_s (P[s,t] − P[s,t−1]) + Σ_l q_l h_t Σ_w X[l,w,t] + Σ_k u_k h_t Σ_w X[k,w,t] (undiscounted),
    S the starting cash, Φ the fixed cash flow (:func:`fixed_cash_flow_usd`). With policy.cash_floor, or
    with ``ctx.cash_risk`` (then the floor F is policy.cash_floor, else 0): a soft floor
    (:func:`define_soft_floor`) replaces the hard one, and/or a CVaR limit on the funding gap
    (:func:`define_funding_gap_limit`)."""
    from gigawatt.optimize.objective import ELASTIC_PENALTY

    p = ctx.portfolio
    floor, risk = p.scenario.policy.cash_floor, ctx.cash_risk
    if floor is None and risk is None:
        return
    m = ctx.model
    flow, rhs = cash_flow(ctx)
    cash = m.add_variables(coords=ctx.recourse([ctx.periods]), name="Cash-level")
    lhs = cash - cash.shift(period=1).fillna(0) - flow
    m.add_constraints(lhs == rhs, name="Cash-balance")
    level = float(floor or 0.0) / MONEY_SCALE
    if risk is not None and risk.floor_penalty is not None:
        define_soft_floor(ctx, cash, level)
    elif floor is not None:
        floor_lhs = 1 * cash
        if ctx.elastic:
            floor_lhs = floor_lhs + ctx.add_slack("Cash-floor", [ctx.periods], ELASTIC_PENALTY["Cash-floor"])
        m.add_constraints(floor_lhs >= level, name="Cash-floor")
    if risk is not None and risk.max_cvar_gap_usd is not None:
        define_funding_gap_limit(ctx, cash, level)


def cash_flow(ctx: Context):
    """(flow, constant), MUSD per period: the net cash flow of the plan's decisions (a linear expression,
    revenue minus costs; 0 when no decision moves cash) and what they cannot change (S·1[t=first] + Φ[t])."""
    from gigawatt.optimize.capacity import effective_compute
    from gigawatt.optimize.objective import cost_coefficients

    p, m = ctx.portfolio, ctx.model
    c = cost_coefficients(ctx)
    x = m.variables["Supply-dispatch"]
    rate = revenue_usd_per_h100e_hour(p)  # USD per H100e-h == MUSD per MH100e-h
    flow = -(x.sel(supply=ctx.lease) * c["lease"]).sum(["supply", "workload"]) if len(ctx.lease) else 0
    if bool((rate != 0).any()):
        flow = flow + (x * (effective_compute(ctx) * rate)).sum(["supply", "workload"])
    if len(ctx.contract) and bool((c["contract_use"] > 0).any()):
        flow = flow - (x.sel(supply=ctx.contract) * c["contract_use"]).sum(["supply", "workload"])
    if len(ctx.own):
        flow = flow - (m.variables["Own-buy"].fillna(0) * c["own_buy"]).sum("supply")
        flow = flow - (m.variables["Own-chips"] * (c["own_energy"] + c["own_offtake"])).sum("supply")
    if len(p.sites):
        pw = m.variables["Site-power"]
        flow = flow - ((pw - pw.shift(period=1).fillna(0)) * c["site_build"]).sum("site")
    from gigawatt.optimize import renegotiation_recourse  # deferral and termination (extensive form only)

    flow = flow + renegotiation_recourse.cash_flow(ctx)
    const = fixed_cash_flow_usd(p) / MONEY_SCALE
    first = xr.DataArray(ctx.periods == ctx.periods[0], coords={"period": ctx.periods})
    return flow, const + first * (p.scenario.finance.starting_cash / MONEY_SCALE)


def define_soft_floor(ctx: Context, cash, level: float) -> None:
    """Cash-shortfall[t(, f)] ≥ 0 (MUSD): how far cash falls below the floor F, priced in the objective
    at λ (``cash_risk.floor_penalty``, USD per USD short for a year) for the period's length y_t in years,
    discounted: Σ_t δ_t λ y_t V[t, f] (objective.py), so λ reads as a yearly premium on emergency funding:

        Cash-shortfall-lower: V[t, f] + K[t, f] ≥ F"""
    short = ctx.model.add_variables(lower=0, coords=ctx.recourse([ctx.periods]), name="Cash-shortfall")
    ctx.model.add_constraints(short + cash >= level, name="Cash-shortfall-lower")


def define_funding_gap_limit(ctx: Context, cash, level: float) -> None:
    """CVaR_α of the funding gap ≤ L (Rockafellar–Uryasev), α and L from ``ctx.cash_risk``:

        Funding-gap-lower:    G[f] + K[t, f] ≥ F   (every t), G[f] ≥ 0: G[f] = max(0, max_t F − K[t, f]),
                              the new funding future f needs to keep cash at the floor (docs/glossary.md)
        Gap-excess-lower:     u[f] − G[f] + η ≥ 0, u[f] ≥ 0, η free (Gap-var)
        Funding-gap-cvar:     η + Σ_f p_f u[f] / (1 − α) ≤ L

    At the optimum over η the left side is CVaR_α(G); one future (a deterministic model) reads G ≤ L."""
    m, risk = ctx.model, ctx.cash_risk
    coords = [] if ctx.futures is None else [ctx.futures]
    gap = m.add_variables(lower=0, coords=coords or None, name="Funding-gap")
    m.add_constraints(gap + cash >= level, name="Funding-gap-lower")
    eta = m.add_variables(name="Gap-var")
    u = m.add_variables(lower=0, coords=coords or None, name="Gap-excess")
    m.add_constraints(u - gap + eta >= 0, name="Gap-excess-lower")
    excess = (u * ctx.probability).sum() if ctx.probability is not None else 1 * u
    m.add_constraints(eta + excess / (1 - risk.gap_alpha) <= risk.max_cvar_gap_usd / MONEY_SCALE,
                      name="Funding-gap-cvar")


def cash_position_usd(ctx: Context) -> xr.DataArray:
    """The solved plan's cash at the end of each period (USD; per future in a stochastic model): the
    Cash-level variable where the model has one, else S + Σ_{τ≤t} (Φ + decision flow) at the solution."""
    if "Cash-level" in ctx.model.variables:
        return ctx.model.variables["Cash-level"].solution * MONEY_SCALE
    flow, const = cash_flow(ctx)
    moved = flow.solution if hasattr(flow, "solution") else xr.zeros_like(const)
    return (moved.fillna(0.0) + const).cumsum("period") * MONEY_SCALE


def funding_gap_usd(cash: xr.DataArray, floor_usd: float = 0.0) -> xr.DataArray:
    """max(0, max_t floor − cash[t]) per future (docs/glossary.md, "funding gap", with the floor)."""
    return (floor_usd - cash).max("period").clip(min=0.0)


__all__ = ["cash_flow", "cash_position_usd", "define_cash_floor", "define_funding_gap_limit", "define_soft_floor",
           "fixed_cash_flow_usd", "funding_gap_usd", "revenue_usd_per_h100e_hour", "vendor_equity_by_deal_usd"]
