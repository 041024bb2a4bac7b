"""Policy: shares of delivered compute for groups of providers and vendors."""

from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.optimize.capacity import effective_compute
from gigawatt.optimize.context import Context


def define_share_targets(ctx: Context) -> None:
    """Share-target-lower: Σ_{j∈G_g} C[j,t] − min_g · Σ_j C[j,t] ≥ 0
    Share-target-upper: Σ_{j∈G_g} C[j,t] − max_g · Σ_j C[j,t] ≤ 0
    with C[j,t] = Σ_w e[j,w,t] X[j,w,t] the compute option j delivers, for the periods g applies to."""
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
        act = active.sel(target=rows)
        # e·g − e·share, in this order, rounds exactly as the two merged terms did
        lhs = (x * (e * group.sel(target=rows) - e * share.sel(target=rows))).sum(["supply", "workload"])
        if ctx.elastic:
            from gigawatt.optimize.objective import ELASTIC_PENALTY

            name = f"Share-target-{bound}"
            slack = ctx.add_slack(name, [p.targets.index, ctx.periods], ELASTIC_PENALTY[name], mask=active)
            lhs = lhs + sign * slack.sel(target=rows)
        con = lhs >= 0 if sign > 0 else lhs <= 0
        m.add_constraints(con, name=f"Share-target-{bound}", mask=act)
