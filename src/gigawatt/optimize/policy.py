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
    compute = (m.variables["Supply-dispatch"] * effective_compute(ctx)).sum("workload")
    group = d["target_group"].astype(float)
    total = compute.sum("supply")
    in_group = (compute * group).sum("supply")
    for bound, column, sign in (("lower", "min_share", 1), ("upper", "max_share", -1)):
        share = xr.DataArray(p.targets[column].to_numpy(dtype=float), coords={"target": p.targets.index})
        active = d["target_active"] & ~np.isnan(share)
        if not bool(active.any()):
            continue
        lhs = in_group - share.fillna(0.0) * total
        if ctx.elastic:
            from gigawatt.optimize.objective import ELASTIC_PENALTY

            name = f"Share-target-{bound}"
            slack = ctx.add_slack(name, [p.targets.index, ctx.periods], ELASTIC_PENALTY[name], mask=active)
            lhs = lhs + sign * slack
        con = lhs >= 0 if sign > 0 else lhs <= 0
        m.add_constraints(con, name=f"Share-target-{bound}", mask=active)
