"""Site power: chips draw all-in power within what the site has energised, inside its envelope."""

from __future__ import annotations

from gigawatt.optimize.context import Context
from gigawatt.optimize.grid import Grid


def define_site_power(ctx: Context) -> None:
    """Site-power-upper:    Σ_{o at s} N[o,t] · kW_o · PUE_s/1.14 ≤ existing[s,t] + P[s,t]   (MW)
    Site-power-envelope: P[s,t] ≤ power_max[s,t] − existing[s,t]
    Site-power-build:    P[s,t] − P[s,t−1] ≥ 0 (power, once built, stays)."""
    p = ctx.portfolio
    if not len(p.sites):
        return
    m = ctx.model
    pw = m.variables["Site-power"]
    if len(ctx.own):
        draw = ctx.own_sum_by(m.variables["Own-chips"] * ctx.own_power_mw_per_kchip(), "site", p.sites.index)
        m.add_constraints(draw - pw <= ctx.rhs("Site-power-upper", existing_mw), name="Site-power-upper")
    if ctx.elastic:
        room = room_mw(ctx).to_xarray()
        from gigawatt.optimize.objective import ELASTIC_PENALTY
        import xarray as xr

        months = xr.DataArray(p.horizon.table["months"].to_numpy(), coords={"period": ctx.periods})
        lead = xr.DataArray(p.sites["lead_time_months"].to_numpy(), coords={"site": p.sites.index})
        room = xr.where(months + 1e-6 >= lead, room, 0.0)
        slack = ctx.add_slack("Site-power-envelope", [p.sites.index, ctx.periods],
                              ELASTIC_PENALTY["Site-power-envelope"])
        m.add_constraints(pw - slack <= room, name="Site-power-envelope")
    else:
        m.add_constraints(pw <= ctx.rhs("Site-power-envelope", room_mw), name="Site-power-envelope")
    if p.horizon.n > 1:
        m.add_constraints(pw - pw.shift(period=1) >= 0, name="Site-power-build",
                          mask=ctx.periods.to_series().ne(ctx.periods[0]).to_xarray())


def existing_mw(ctx: Context) -> Grid:
    """Site-power-upper's right-hand side: the power the site has today, existing[s,t] (MW)."""
    return ctx.grid("site_power_existing_mw")


def room_mw(ctx: Context) -> Grid:
    """Site-power-envelope's right-hand side: power_max[s,t] − existing[s,t] (MW)."""
    return ctx.grid("site_power_max_mw") - ctx.grid("site_power_existing_mw")
