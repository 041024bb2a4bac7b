"""Demand balance: useful compute delivered, plus unmet demand when allowed, equals demand."""

from __future__ import annotations

from gigawatt.optimize.capacity import effective_compute
from gigawatt.optimize.context import COMPUTE_SCALE, Context


def define_demand_balance(ctx: Context) -> None:
    """Workload-demand: Σ_j e[j,w,t] · X[j,w,t] (+ U[w,t]) = D[w,t]   (MH100e-h)

    e = dense BF16 peak / 989 TFLOP/s × utilisation of the accelerator for the workload's kind × hours.
    Its dual is the marginal cost of compute."""
    m = ctx.model
    delivered = (m.variables["Supply-dispatch"] * effective_compute(ctx)).sum("supply")
    if ctx.allow_unmet or ctx.elastic:
        delivered = delivered + m.variables["Workload-unmet"]
    m.add_constraints(delivered == ctx.data["demand_h100e_hours"] / COMPUTE_SCALE, name="Workload-demand")
