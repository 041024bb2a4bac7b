"""Capacity: chips in service follow purchases and retirements; dispatch stays within capacity."""

from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.optimize.context import CHIP_SCALE, Context


def define_own_chips_balance(ctx: Context) -> None:
    """Own-chips-balance: N[o,t] − N[o,t−1] − B[o,t] + B[o,t−L_o] = 0.

    Chips bought in t serve from t for L_o periods (the useful life), then retire. Nothing is in
    service before the horizon. One row per (option, period), four terms at most."""
    if not len(ctx.own):
        return
    m = ctx.model
    n, b = m.variables["Own-chips"], m.variables["Own-buy"]
    life = ctx.own_life_periods()
    bought = b.fillna(0)  # a purchase that is not allowed (masked) is zero, not absent
    lhs = n - n.shift(period=1).fillna(0) - bought
    for lag in np.unique(life.values):  # a handful of distinct lives, not a loop over assets or periods
        lhs = lhs + bought.shift(period=int(lag)).where(life == lag).fillna(0)
    m.add_constraints(lhs == 0, name="Own-chips-balance")


def define_capacity(ctx: Context) -> None:
    """Dispatch ≤ capacity, per option kind:

    - Own-capacity:      Σ_w X[o,w,t] ≤ N[o,t]
    - Lease-capacity:    Σ_w X[l,w,t] ≤ available[l,t] / 1000   (where a limit is given)
    - Contract-capacity: Σ_w X[k,w,t] ≤ capacity[k,t] / 1000

    Three families (:func:`define_own_capacity`, :func:`define_lease_capacity`,
    :func:`define_contract_capacity`), so that a sweep task that changes one kind's numbers rebuilds one.
    """
    define_own_capacity(ctx)
    define_lease_capacity(ctx)
    define_contract_capacity(ctx)


def define_own_capacity(ctx: Context) -> None:
    """Own-capacity: Σ_w X[o,w,t] ≤ N[o,t]."""
    if len(ctx.own):
        m = ctx.model
        m.add_constraints(m.variables["Supply-dispatch"].sel(supply=ctx.own).sum("workload")
                          - m.variables["Own-chips"] <= 0, name="Own-capacity")


def define_lease_capacity(ctx: Context) -> None:
    """Lease-capacity: Σ_w X[l,w,t] ≤ available[l,t] / 1000, where a limit is given."""
    if len(ctx.lease):
        avail = ctx.data["lease_available_chips"].sel(supply=ctx.lease) / CHIP_SCALE
        finite = np.isfinite(avail)
        if bool(finite.any()):
            x = ctx.model.variables["Supply-dispatch"]
            ctx.model.add_constraints(x.sel(supply=ctx.lease).sum("workload") <= avail.where(finite, 0.0),
                                      name="Lease-capacity", mask=finite)


def define_contract_capacity(ctx: Context) -> None:
    """Contract-capacity: Σ_w X[k,w,t] ≤ capacity[k,t] / 1000."""
    if len(ctx.contract):
        cap = ctx.data["contract_capacity_chips"].sel(supply=ctx.contract) / CHIP_SCALE
        x = ctx.model.variables["Supply-dispatch"]
        ctx.model.add_constraints(x.sel(supply=ctx.contract).sum("workload") <= cap, name="Contract-capacity")


def define_purchase_limits(ctx: Context) -> None:
    """Accelerator-purchase-upper: Σ_{o of a} B[o,t] ≤ purchase_max[a,t] (where given).

    Contract-supply-lower: Σ_{τ≤t} Σ_{o of a} B[o,τ] ≥ firm deliveries of a up to t (vendor deals)."""
    if not len(ctx.own):
        return
    m = ctx.model
    b = m.variables["Own-buy"].fillna(0)
    pmax = ctx.data["purchase_max_chips"] / CHIP_SCALE
    finite = np.isfinite(pmax)
    from gigawatt.optimize.objective import ELASTIC_PENALTY

    accel_periods = [ctx.data.indexes["accelerator"], ctx.periods]
    # rows for the accelerators with a limit only (the others' rows were all masked)
    accels = ctx.data.indexes["accelerator"]
    rows = accels[finite.any("period").to_numpy()]
    if len(rows):
        fin = finite.sel(accelerator=rows)
        lhs = ctx.own_sum_by(b, "accelerator", rows)
        if ctx.elastic:
            lhs = lhs - ctx.add_slack("Accelerator-purchase-upper", accel_periods,
                                      ELASTIC_PENALTY["Accelerator-purchase-upper"],
                                      mask=finite).sel(accelerator=rows)
        m.add_constraints(lhs <= pmax.sel(accelerator=rows).where(fin, 0.0), name="Accelerator-purchase-upper",
                          mask=fin)
    pmin = ctx.data["purchase_min_cumulative_chips"] / CHIP_SCALE
    need = pmin > 0
    rows = accels[need.any("period").to_numpy()]
    if len(rows):
        # cumulative: a row holds every purchase of the accelerator up to t
        lhs = ctx.own_sum_by(b, "accelerator", rows).cumsum("period")
        if ctx.elastic:
            lhs = lhs + ctx.add_slack("Contract-supply-lower", accel_periods,
                                      ELASTIC_PENALTY["Contract-supply-lower"], mask=need).sel(accelerator=rows)
        m.add_constraints(lhs >= pmin.sel(accelerator=rows), name="Contract-supply-lower",
                          mask=need.sel(accelerator=rows))


def effective_compute(ctx: Context) -> "xr.DataArray":
    """MH100e-h delivered per kchip dispatched, per (supply, workload, period)."""
    from gigawatt.optimize.context import COMPUTE_SCALE

    return ctx.data["efficiency_h100e_hours_per_chip"] * CHIP_SCALE / COMPUTE_SCALE
