"""What a multi-stage hedge hands back: the here-and-now commitments, the commitments per node, the tree.

In a scenario tree (tree.py) commitments carry ``future``; those of the root's periods (before the first
revelation) are one value shared by every future: **what to commit now**. Later periods' commitments
depend on the branch taken; summary.json reports their probability-weighted mean per period and the
run directory's plan fixes the here-and-now ones only (docs/stochastic.md, "Stages").
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.errors import Problem, ScenarioError


def refuse(option: str, why: str) -> None:
    """A clear error for an option that does not support a scenario tree yet."""
    raise ScenarioError(Problem(f"{option} does not support a scenario tree (uncertainty.stages) yet",
                                path=option, value="set", expected="a two-stage hedge (no uncertainty.stages)",
                                fix=f"leave {option} out, or drop uncertainty.stages and uncertainty.branching "
                                    f"({why})"), title="not supported with stages")


def root_periods(futures) -> list:
    """The periods before the first revelation (node 0 of the root for every future)."""
    nodes = futures.nodes
    root = (nodes == 0).all("future")
    return list(nodes.indexes["period"][root.to_numpy()])


def here_and_now(futures, commitments: dict[str, xr.DataArray]) -> dict[str, xr.DataArray]:
    """The root's commitments: periods before the first revelation, one value (future 0's; non-anticipativity
    makes every future's the same), no ``future`` dimension."""
    periods = root_periods(futures)
    first = futures.probability.indexes["future"][0]
    return {k: (v.sel(future=first, drop=True) if "future" in v.dims else v).sel(period=periods)
            for k, v in commitments.items()}


def first_stage(futures, commitments: dict[str, xr.DataArray]) -> dict[str, xr.DataArray]:
    """The commitments a deterministic run fixes: all of them in a two-stage hedge, the here-and-now
    ones (root periods; later periods left free) in a tree."""
    return here_and_now(futures, commitments) if getattr(futures, "nodes", None) is not None else commitments


def expected(commitments: dict[str, xr.DataArray], probability: xr.DataArray) -> dict[str, xr.DataArray]:
    """Commitments averaged over futures with their probabilities (identity without ``future``)."""
    return {k: (v * probability).sum("future") if "future" in v.dims else v for k, v in commitments.items()}


def spread(commitments: dict[str, xr.DataArray], nodes: xr.DataArray) -> float:
    """The largest difference between two futures of one node in any commitment of any period (0 when
    non-anticipativity holds): a check, vectorised over futures in tree order."""
    same = (nodes == nodes.shift(future=1)).fillna(False).astype(bool)
    worst = 0.0
    for v in commitments.values():
        if "future" in v.dims:
            gap = abs(v - v.shift(future=1)).where(same)
            worst = max(worst, float(np.nan_to_num(gap.max().item(), nan=0.0)))
    return worst


def tree_block(futures) -> dict:
    """summary.json's description of the tree: revelation years, branching, nodes per stage, root periods."""
    t = futures.tree
    return {"stages": list(t.stages), "branching": list(t.branching),
            "nodes_per_stage": [int(np.prod(t.branching[:k])) for k in range(len(t.branching) + 1)],
            "here_and_now_periods": [str(p) for p in root_periods(futures)],
            "nonanticipative": "every decision with a period (commitments and recourse) is equal across the "
                               "futures of its node at that period",
            "level_drivers_and_events": "revealed at the first revelation year"}


__all__ = ["expected", "first_stage", "here_and_now", "refuse", "root_periods", "spread", "tree_block"]
