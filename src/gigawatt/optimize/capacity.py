"""Capacity: chips in service follow purchases and retirements; dispatch stays within capacity."""

from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.optimize.context import CHIP_SCALE, Context
from gigawatt.optimize.grid import Grid


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


def define_own_capacity(ctx: Context) -> None:
    """Own-capacity: Σ_w X[o,w,t] ≤ N[o,t]."""
    if len(ctx.own):
        m = ctx.model
        m.add_constraints(m.variables["Supply-dispatch"].sel(supply=ctx.own).sum("workload")
                          - m.variables["Own-chips"] <= 0, name="Own-capacity")
        if "site_delay_periods" in ctx.data:  # the stochastic planner's events (stochastic/events.py)
            define_delayed_capacity(ctx)
        if "deal_lost_chips" in ctx.data:
            define_deal_loss(ctx)


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
        cap = ctx.rhs("Contract-capacity", contract_capacity_kchips)
        x = ctx.model.variables["Supply-dispatch"]
        ctx.model.add_constraints(x.sel(supply=ctx.contract).sum("workload") <= cap, name="Contract-capacity")


def contract_capacity_kchips(ctx: Context) -> Grid:
    """Contract-capacity's right-hand side: capacity[k,t] / 1000 (kchips)."""
    return ctx.grid("contract_capacity_chips").sel(supply=ctx.contract) / CHIP_SCALE


def define_delayed_capacity(ctx: Context) -> None:
    """A site_delay event (futures only): chips at a delayed site serve as those in service Δ periods
    earlier (Δ[s,f] = delay / months per period, fractions interpolated), as simulate has it:

        Own-capacity-delayed: Σ_w X[o,w,t,f] ≤ (1 − φ) N[o, t − k] + φ N[o, t − k − 1]   where Δ > 0,
        k = ⌊Δ⌋, φ = Δ − k, N before the horizon 0

    so a delayed site serves nothing before its chips' delayed date. One expression over (supply, period,
    future): a term pair per distinct delay (a handful), masked to the futures that have it."""
    m = ctx.model
    sites = ctx.portfolio.supply.loc[ctx.own, "site"].to_numpy()
    delay = ctx.data["site_delay_periods"].sel(site=sites).rename(site="supply").assign_coords(supply=ctx.own)
    if not bool((delay > 0).any()):
        return
    n = m.variables["Own-chips"]
    late = None
    for k in np.unique(delay.values[delay.values > 0]):  # distinct delays, not futures or assets
        k0, phi = int(np.floor(k)), float(k - np.floor(k))
        shifted = (n.shift(period=k0).fillna(0) if k0 else 1 * n) * (1 - phi)
        if phi > 0:
            shifted = shifted + n.shift(period=k0 + 1).fillna(0) * phi
        term = shifted * (delay == k)
        late = term if late is None else late + term
    used = m.variables["Supply-dispatch"].sel(supply=ctx.own).sum("workload")
    mask = (delay > 0).broadcast_like(n.lower)
    m.add_constraints(used - late <= 0, name="Own-capacity-delayed", mask=mask)


def define_deal_loss(ctx: Context) -> None:
    """A firm supply deal's failure (futures only): its chips in service, ℓ[a,t,f], are not delivered:

        Deal-loss: Σ_{o of a} Σ_w X[o,w,t,f] − Σ_{o of a} N[o,t] − z[a,t,f] ≤ −ℓ[a,t,f]

    z ≥ 0 (`Deal-loss-excess`) priced at ``objective.DEAL_LOSS_PENALTY`` keeps it feasible where the plan holds
    fewer chips of a than ℓ (simulate caps the loss at the chips held). Rows only for the accelerators of
    failed deals."""
    m = ctx.model
    lost = ctx.data["deal_lost_chips"] / CHIP_SCALE
    accels = lost.indexes["accelerator"][(lost > 0).any([d for d in lost.dims if d != "accelerator"]).to_numpy()]
    of = ctx.portfolio.supply.loc[ctx.own, "accelerator"].to_numpy()
    own = ctx.own[np.isin(of, accels)]
    if not len(accels) or not len(own):
        return
    ind = xr.DataArray((of[np.isin(of, accels)][:, None] == np.asarray(accels)[None, :]).astype(float),
                       coords={"supply": own, "accelerator": accels})
    spare = (m.variables["Supply-dispatch"].sel(supply=own).sum("workload") - m.variables["Own-chips"].sel(supply=own))
    z = m.add_variables(lower=0, coords=ctx.recourse([accels, ctx.periods]), name="Deal-loss-excess")
    m.add_constraints((spare * ind).sum("supply") - z <= -lost.sel(accelerator=accels), name="Deal-loss")


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
