"""Decision variables. Each is named <Component>-<attr> and documented in docs/formulation.md.

In a stochastic model (``ctx.probability`` set) recourse variables (dispatch, unmet, cash) carry a
``future`` dimension; commitments (Own-buy, Own-chips, Site-power) do not: one value shared by every
future is the two-stage non-anticipativity, by construction (docs/stochastic.md). With several stages
(``ctx.nodes``) commitments carry ``future`` too, tied within each tree node (nonanticipativity.py)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.optimize.context import Context
from gigawatt.optimize.grid import Grid


def define_dispatch(ctx: Context) -> None:
    """Supply-dispatch[supply, workload, period] ≥ 0 (kchips): chips of each option serving each workload."""
    d = ctx.data
    mask = ctx.mask("Supply-dispatch", dispatch_mask)
    coords = ctx.recourse([d.indexes["supply"], d.indexes["workload"], ctx.periods])
    if ctx.futures is not None:
        mask = mask & xr.ones_like(ctx.probability, dtype=bool)
    ctx.model.add_variables(lower=0, coords=coords, name="Supply-dispatch",
                            mask=mask.transpose(*[c.name for c in coords]))


def dispatch_mask(ctx: Context) -> Grid:
    """Where Supply-dispatch has an entry: the option is eligible for the workload, delivers compute to it
    (efficiency > 0), and can have capacity in the period (:func:`_usable`)."""
    return ctx.grid("eligible") & (ctx.grid("efficiency_h100e_hours_per_chip") > 0) & _usable(ctx)


def _usable(ctx: Context) -> Grid:
    """Options that can have capacity in a period: own (once buyable or later), lease (available > 0),
    contract (capacity > 0)."""
    supply = ctx.data.indexes["supply"]
    kind = Grid.along(ctx.portfolio.supply["kind"].to_numpy(), supply)
    ever_buy = (ctx.grid("buy_allowed") > 0).cumsum("period") > 0
    return (((kind == "own") & ever_buy) | ((kind == "lease") & (ctx.grid("lease_available_chips") > 0))
            | ((kind == "contract") & (ctx.grid("contract_capacity_chips") > 0)))


def define_own_chips(ctx: Context) -> None:
    """Own-buy[supply, period] ≥ 0 and Own-chips[supply, period] ≥ 0 (kchips), own options only."""
    if not len(ctx.own):
        return
    allowed = ctx.data["buy_allowed"].sel(supply=ctx.own) > 0
    coords = ctx.commitment([ctx.own, ctx.periods])
    if ctx.nodes is not None:
        allowed = allowed & xr.ones_like(ctx.probability, dtype=bool)
    ctx.model.add_variables(lower=0, coords=coords, name="Own-buy",
                            mask=allowed.transpose(*[c.name for c in coords]))
    ctx.model.add_variables(lower=0, coords=coords, name="Own-chips")


def define_site_power(ctx: Context) -> None:
    """Site-power[site, period] ≥ 0 (MW): new facility power energised by the period, on top of the
    existing power; zero before the site's lead time has passed."""
    p = ctx.portfolio
    if not len(p.sites):
        return
    months = xr.DataArray(p.horizon.table["months"].to_numpy(), coords={"period": ctx.periods})
    lead = xr.DataArray(p.sites["lead_time_months"].to_numpy(), coords={"site": p.sites.index})
    upper = xr.where(months + 1e-6 >= lead, np.inf, 0.0).transpose("site", "period")
    if ctx.elastic:  # lead time enforced by the envelope constraint instead, so it can be relaxed and reported
        upper = np.inf
    coords = ctx.commitment([p.sites.index, ctx.periods])
    if ctx.nodes is not None and isinstance(upper, xr.DataArray):
        upper = (upper + xr.zeros_like(ctx.probability)).transpose(*[c.name for c in coords])
    ctx.model.add_variables(lower=0, upper=upper, coords=coords, name="Site-power")


def define_unmet(ctx: Context) -> None:
    """Workload-unmet[workload, period(, future)] ≥ 0 (MH100e-h), only with allow_unmet."""
    if ctx.allow_unmet or ctx.elastic:
        d = ctx.data
        ctx.model.add_variables(lower=0, coords=ctx.recourse([d.indexes["workload"], ctx.periods]),
                                name="Workload-unmet")
