"""Policy: shares of delivered compute, power or spend for groups of providers and vendors."""

from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.optimize.capacity import effective_compute
from gigawatt.optimize.context import Context


def _measure(ctx: Context, basis: str):
    """Per option and period, what a share of ``basis`` counts, as [(linear expression, supply)] terms and a
    constant (supply, period) array: power (MW of chips in service) or spend (MUSD of the option's cash cost).

    power: own N·kW_o·PUE_s/1.14; rentals and options Σ_w X·kW; firm contracts their capacity·kW (constant)
    spend: own p_o B + e_o N; rentals q h Σ_w X; contracts u h Σ_w X + take-or-pay payments (constant)"""
    from gigawatt.optimize.context import CHIP_SCALE, MONEY_SCALE
    from gigawatt.optimize.objective import cost_coefficients

    p = ctx.portfolio
    d = ctx.data
    m = ctx.model
    x = m.variables["Supply-dispatch"]
    supply = d.indexes["supply"]
    kw = xr.DataArray(p.accelerators.loc[p.supply["accelerator"], "all_in_power_kw"].to_numpy(dtype=float),
                      coords={"supply": p.supply.index}).fillna(0.0)
    terms = []
    const = xr.zeros_like(d["hours"] * xr.DataArray(np.zeros(len(supply)), coords={"supply": supply}))
    firm = d["contract_firm"].max("period") > 0 if len(ctx.contract) else None
    used = x.sum("workload")
    if basis == "power":
        if len(ctx.own):
            terms.append(m.variables["Own-chips"] * ctx.own_power_mw_per_kchip())
        if len(ctx.lease):
            terms.append(used.sel(supply=ctx.lease) * kw.sel(supply=ctx.lease))
        if len(ctx.contract):
            opt = [c for c in ctx.contract if not bool(firm.sel(supply=c))]
            if opt:
                terms.append(used.sel(supply=opt) * kw.sel(supply=opt))
            cap = (d["contract_capacity_chips"] * d["contract_firm"]).sel(supply=ctx.contract) * kw.sel(
                supply=ctx.contract) / 1e3
            const = const + cap.reindex(supply=supply, fill_value=0.0)
    elif basis == "spend":
        c = cost_coefficients(ctx)
        if len(ctx.own):
            terms.append(m.variables["Own-buy"].fillna(0) * c["own_buy"])
            terms.append(m.variables["Own-chips"] * (c["own_energy"] + c["own_offtake"]))
        if len(ctx.lease):
            terms.append(used.sel(supply=ctx.lease) * c["lease"])
        if len(ctx.contract):
            if bool((c["contract_use"] > 0).any()):
                terms.append(used.sel(supply=ctx.contract) * c["contract_use"])
            fixed = d["contract_fixed_payment_usd"].sel(supply=ctx.contract) / MONEY_SCALE
            const = const + fixed.reindex(supply=supply, fill_value=0.0)
    _ = CHIP_SCALE
    return terms, const


def define_share_targets(ctx: Context) -> None:
    """Share-target-lower: Σ_{j∈G_g} C[j,t] − min_g · Σ_j C[j,t] ≥ 0
    Share-target-upper: Σ_{j∈G_g} C[j,t] − max_g · Σ_j C[j,t] ≤ 0
    with C[j,t] = Σ_w e[j,w,t] X[j,w,t] the compute option j delivers (basis compute, the default), or its
    power or spend (:func:`_measure`; constants move to the right-hand side), for the periods g applies to."""
    p = ctx.portfolio
    if not len(p.targets):
        return
    m = ctx.model
    d = ctx.data
    x = m.variables["Supply-dispatch"]
    e = effective_compute(ctx)
    group = d["target_group"].astype(float)
    for bound, column, sign in (("lower", "min_share", 1), ("upper", "max_share", -1)):
        share = xr.DataArray(p.targets[column].to_numpy(dtype=float), coords={"target": p.targets.index})
        active = d["target_active"] & ~np.isnan(share)
        if not bool(active.any()):
            continue
        # Each row holds every dispatch variable once, with coefficient e·(1[j∈G] − share): written as the
        # group's sum minus share × the total it held each variable twice, and rows for the targets
        # without this bound were stored (masked) too: 88 MB of rows at 1M variables, now 21 MB.
        rows = p.targets.index[active.any("period").to_numpy()]
        basis = p.targets["basis"] if "basis" in p.targets else None
        if basis is not None and (basis.loc[rows] != "compute").any():
            lhs, rhs = _other_basis(ctx, rows, group, share, basis)
        else:
            # e·g − e·share, in this order, rounds exactly as the two merged terms did
            lhs = (x * (e * group.sel(target=rows) - e * share.sel(target=rows))).sum(["supply", "workload"])
            rhs = 0
        act = active.sel(target=rows)
        if ctx.elastic:
            from gigawatt.optimize.objective import ELASTIC_PENALTY

            name = f"Share-target-{bound}"
            slack = ctx.add_slack(name, [p.targets.index, ctx.periods], ELASTIC_PENALTY[name], mask=active)
            lhs = lhs + sign * slack.sel(target=rows)
        con = lhs >= rhs if sign > 0 else lhs <= rhs
        m.add_constraints(con, name=f"Share-target-{bound}", mask=act)


def _other_basis(ctx: Context, rows, group: xr.DataArray, share: xr.DataArray, basis) -> tuple:
    """Rows for targets on a mix of bases: each basis's measure weighted by (1[j∈G] − share), the targets of
    other bases weighted 0 (one pass per basis used, at most three)."""
    x = ctx.model.variables["Supply-dispatch"]
    e = effective_compute(ctx)
    g = group.sel(target=rows)
    sh = share.sel(target=rows)
    lhs, const = None, 0.0
    for b in ("compute", "power", "spend"):
        on = xr.DataArray((basis.loc[rows] == b).to_numpy(dtype=float), coords={"target": rows})
        if not bool(on.any()):
            continue
        w = (g - sh) * on  # (target, supply)
        if b == "compute":
            parts = [(x * (e * w)).sum(["supply", "workload"])]
        else:
            terms, c = _measure(ctx, b)
            parts = [(t * w.sel(supply=t.coords["supply"].values)).sum("supply") for t in terms]
            const = const + (c * w).sum("supply")
        for part in parts:
            lhs = part if lhs is None else lhs + part
    return lhs, -const
