"""Non-anticipativity in a multi-stage model: decisions of a period are equal across the futures of its node.

Futures are in tree order, so the futures of a node are consecutive (stochastic/tree.py). For every
variable X with both a ``period`` and a ``future`` dimension (commitments and recourse alike):

    X[·, t, f] − X[·, t, f−1] = 0     for every f > 0 with node(f, t) = node(f−1, t)

one linopy constraint per variable, masked where f and f−1 are in different nodes at t: a chain through
each node makes all its futures equal, with N − (number of nodes) equalities per (·, t) instead of one
per pair. docs/formulation.md ("Non-anticipativity") has the math.
"""

from __future__ import annotations

from gigawatt.optimize.context import Context

SUFFIX = "-nonanticipative"


def tied_variables(ctx: Context) -> list[str]:
    """Names of the variables carrying both ``period`` and ``future`` (those the tree ties)."""
    return [n for n, v in ctx.model.variables.items() if {"period", "future"} <= set(v.dims)]


def define_nonanticipativity(ctx: Context) -> None:
    """X[·, t, f] = X[·, t, f−1] where f and f−1 share node(t) (module docstring); nothing in a two-stage
    model (``ctx.nodes`` None)."""
    if ctx.nodes is None:
        return
    nodes = ctx.nodes
    same = (nodes == nodes.shift(future=1)).fillna(False).astype(bool)  # f = 0 has no predecessor
    m = ctx.model
    for name in tied_variables(ctx):  # a handful of variables; each constraint is vectorised over futures
        x = m.variables[name]
        prev = x.shift(future=1)
        mask = same.broadcast_like(x.labels) & (x.labels != -1) & (prev.labels != -1)
        m.add_constraints(x - prev == 0, name=name + SUFFIX, mask=mask.transpose(*x.dims))


__all__ = ["SUFFIX", "define_nonanticipativity", "tied_variables"]
