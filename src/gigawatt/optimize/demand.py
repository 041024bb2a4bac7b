"""Demand balance: useful compute delivered, plus unmet demand when allowed, equals demand."""

from __future__ import annotations

from gigawatt.optimize.capacity import effective_compute
from gigawatt.optimize.context import COMPUTE_SCALE, Context
from gigawatt.optimize.grid import Grid


def define_demand_balance(ctx: Context) -> None:
    """Workload-demand: Σ_j e[j,w,t] · X[j,w,t] (+ U[w,t]) = D[w,t]   (MH100e-h)

    e = dense peak of the chip at the workload's precision / the H100's there × utilisation × hours
    (``portfolio.workloads.h100e_per_chip_hour``: an (accelerator × workload) array, so e is indexed by
    option and workload). Its dual is the marginal cost of compute."""
    m = ctx.model
    delivered = (m.variables["Supply-dispatch"] * effective_compute(ctx)).sum("supply")
    if ctx.allow_unmet or ctx.elastic:
        delivered = delivered + m.variables["Workload-unmet"]
    m.add_constraints(delivered == ctx.rhs("Workload-demand", demand_mh100e_hours), name="Workload-demand")


def demand_mh100e_hours(ctx: Context) -> Grid:
    """Workload-demand's right-hand side: D[w,t] (MH100e-h)."""
    return ctx.grid("demand_h100e_hours") / COMPUTE_SCALE
