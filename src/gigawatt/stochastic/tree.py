"""A scenario tree of futures: stages (revelation years), branching, and draws that share their history.

With ``uncertainty.stages`` = [r₁, …, r_S] and ``uncertainty.branching`` = [b₁, …, b_S] there are
N = b₁ ⋯ b_S futures, numbered in tree order: future f's branch at stage k is the k-th digit of f in the
mixed radix (b₁, …, b_S), so the futures of one node are consecutive. A period of calendar year y is in
stage k(y) = #{r_j ≤ y} (0 before r₁: the root); its node is f's first k(y) digits.

Draws (docs/stochastic.md, "Stages"): the sampler of ``simulate`` draws N paths (seed, blocks and
copula as there); the tree takes, for every calendar year y, future f's numbers from the path of the
*first future of f's node at k(y)* (its representative). Futures of one node therefore have identical
numbers for every year before the node's next revelation, each year's numbers are one path's (so every
marginal and every within-year correlation is simulate's), and the tree depends on the seed only.

- a per-year (``yearly``) driver: year y's factor of the representative at k(y);
- a ``growth`` driver: year y's *growth* (factor_y / factor_{y−1}) of that representative, compounded
  along the future's own path;
- a ``level`` driver (one value per path) and an event are revealed at the first revelation r₁: before
  it every future has the root's (path 0's) level and no event has happened; from r₁ on, the level and
  the occurrence of the representative of f's stage-1 node apply. A contract that fails, fails at r₁.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.errors import Problem, ScenarioError
from gigawatt.portfolio import Portfolio
from gigawatt.risk.sample import Sampler
from gigawatt.stochastic.events import apply_event
from gigawatt.stochastic.futures import FUTURE_NAME, Futures, _apply_driver


@dataclass(frozen=True)
class Tree:
    """Revelation years and branching; futures in tree order."""

    stages: tuple[int, ...]
    branching: tuple[int, ...]

    @property
    def n(self) -> int:
        return math.prod(self.branching)

    def digits(self) -> np.ndarray:
        """(N, S): future f's branch at each stage (mixed radix, first stage most significant)."""
        f = np.arange(self.n)
        width = [math.prod(self.branching[k + 1:]) for k in range(len(self.branching))]
        return np.stack([(f // w) % b for w, b in zip(width, self.branching)], axis=1)

    def node(self, k: int) -> np.ndarray:
        """(N,) node of each future at stage k (0: the root, node 0 for all), numbered within the stage."""
        return np.arange(self.n) // math.prod(self.branching[k:])

    def representative(self, k: int) -> np.ndarray:
        """(N,) the first future of each future's node at stage k."""
        size = math.prod(self.branching[k:])
        return (np.arange(self.n) // size) * size

    def stage_of(self, years) -> np.ndarray:
        """Stage of each calendar year: how many revelation years are ≤ it."""
        return np.searchsorted(np.asarray(self.stages), np.asarray(years, dtype=int), side="right")

    def node_path(self) -> list[str]:
        """Each future's node path, e.g. '2.0' (branch 2 at r₁, branch 0 at r₂)."""
        return [".".join(str(int(x)) for x in row) for row in self.digits()]


def tree_of(portfolio: Portfolio, n: int | None) -> Tree | None:
    """The scenario's tree (None without ``uncertainty.stages``), checked against the horizon and ``n``."""
    unc = portfolio.scenario.uncertainty
    if unc.stages is None:
        return None
    years = portfolio.horizon.table["year"].to_numpy(dtype=int)
    first, last = int(years.min()), int(years.max())
    for i, r in enumerate(unc.stages):
        if not first < r <= last:
            raise ScenarioError(_problem(portfolio, ("stages", i), "revelation year outside the horizon", r,
                                         f"a year after {first} (the first year: its decisions are the ones "
                                         f"taken now) and at most {last}",
                                         f"move it into {first + 1}..{last}"), title="bad scenario tree")
    tree = Tree(tuple(int(r) for r in unc.stages), tuple(int(b) for b in unc.branching))
    if n is not None and n != tree.n:
        raise ScenarioError(Problem("--futures does not match the scenario tree", path="--futures", value=n,
                                    expected=f"{tree.n} = the product of uncertainty.branching "
                                             f"{list(tree.branching)}",
                                    fix=f"use --futures {tree.n} (or leave it out), or change the branching"),
                            title="bad option")
    return tree


def _problem(portfolio, path: tuple, what: str, value, expected: str, fix: str) -> Problem:
    full = ("uncertainty",) + tuple(str(p) for p in path)
    where = portfolio.resolved.where(full) if portfolio.resolved is not None else None
    return Problem(what, path=".".join(full), value=value, expected=expected, fix=fix, location=where)


@dataclass
class TreeFutures(Futures):
    """Futures arranged in a tree; ``nodes`` (future, period) numbers each future's node at each period
    uniquely over the tree (optimize/nonanticipativity.py ties decisions of futures sharing it)."""

    tree: Tree | None = None
    nodes: xr.DataArray | None = None


def tree_factors(sampler: Sampler, sample, tree: Tree, years: list[int]) -> tuple[dict, dict]:
    """Per driver a (calendar year, N) factor array and per event a (calendar year, N) 0/1 array, taken
    from the sample's paths as the module docstring says."""
    stage = tree.stage_of(years)
    rep = np.stack([tree.representative(int(k)) for k in stage])  # (year, N): whose numbers year y takes
    rep1 = tree.representative(1)
    after = (stage >= 1)[:, None]
    factors = {}
    for v in sampler.drivers:
        f = sample.factors[v.name]
        if v.n_slots == 1:  # a level: the root's before r₁, the stage-1 node's from r₁ on
            factors[v.name] = np.where(after, f[0][rep1][None, :], f[0][0])
        elif v.mode == "growth":
            prev = np.vstack([np.ones((1, f.shape[1])), f[:-1]])
            g = np.divide(f, prev, out=np.zeros_like(f), where=prev != 0)
            factors[v.name] = np.cumprod(np.take_along_axis(g, rep, axis=1), axis=0)
        else:
            factors[v.name] = np.take_along_axis(f, rep, axis=1)
    events = {v.name: np.where(after, sample.events[v.name][rep1][None, :], False) for v in sampler.events}
    return factors, events


def draw_tree(portfolio: Portfolio, tree: Tree, seed: int | None = None) -> TreeFutures:  # long: one pass
    """The tree's N equally likely futures (probability 1/N each: every branch equally likely)."""
    unc = portfolio.scenario.uncertainty
    seed = unc.seed if seed is None else int(seed)
    cal = portfolio.horizon.table["year"].to_numpy(dtype=int)
    years = sorted(set(int(y) for y in cal))
    slot = np.array([years.index(int(y)) for y in cal])
    n = tree.n
    sampler = Sampler(unc, len(years))
    factors, events = tree_factors(sampler, sampler.sample(seed, 0, n), tree, years)
    names = pd.Index([FUTURE_NAME.format(i) for i in range(n)], name="future")
    periods = portfolio.data.indexes["period"]
    per = lambda a: xr.DataArray(a[slot], coords={"period": periods, "future": names})  # noqa: E731
    d = portfolio.data.copy()
    ignored: list[str] = []
    for name, drv in unc.drivers.items():
        # energy price per period here (the two-stage futures average it over the horizon)
        d = _apply_driver(portfolio, d, name, drv, per(factors[name]), energy_per_period=True)
    for name, ev in unc.events.items():
        if not _dated_from_first_revelation(portfolio, ev):
            ignored.append(f"event {name} ({ev.kind} of {ev.target}) is not modelled in a "
                           "multi-stage tree yet: its effect reaches back before the first revelation (the "
                           "two-stage hedge models it)")
            continue
        d, note = apply_event(portfolio, d, name, ev, per(events[name].astype(float)))
        if note:
            ignored.append(note)
    table = pd.DataFrame({k: v.mean(axis=0) for k, v in factors.items()}, index=names)
    for k, v in events.items():
        table[k] = v[-1].astype(int)
    table.insert(0, "node_path", tree.node_path())
    nodes = node_numbers(tree, cal, names, periods)
    prob = xr.DataArray(np.full(n, 1.0 / n), coords={"future": names})
    return TreeFutures(replace(portfolio, data=d), prob, seed, table, ignored, tree=tree, nodes=nodes)


def _dated_from_first_revelation(portfolio: Portfolio, ev) -> bool:
    """Whether an event can act from r₁ only in a tree: a capacity contract's failure (its capacity and
    payments per period). A site delay, a supply deal's failure or a vendor's replacement changes numbers
    before r₁ (chips delivered earlier, equity already paid), so a tree lists them as not modelled."""
    if ev.kind in ("site_delay", "vendor_replaced"):
        return False
    contract = portfolio.scenario.contracts.get(ev.target)
    return contract is not None and contract.kind == "capacity"


def node_numbers(tree: Tree, cal, names: pd.Index, periods: pd.Index) -> xr.DataArray:
    """(future, period): a tree-wide node number (stage k's nodes after those of stages < k); ``cal`` is
    each period's calendar year."""
    stage = tree.stage_of(cal)
    offset = np.cumsum([0] + [math.prod(tree.branching[:k]) for k in range(len(tree.branching))])
    ids = np.stack([tree.node(int(k)) + offset[int(k)] for k in stage], axis=1)
    return xr.DataArray(ids, coords={"future": names, "period": periods})


__all__ = ["Tree", "TreeFutures", "draw_tree", "node_numbers", "tree_factors", "tree_of"]
