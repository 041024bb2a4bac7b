"""A portfolio rebuilt from the previous one: only the sections whose inputs differ run again.

Sweep tasks differ from one another in one or two scenario values, so most sections of the build
(``assemble.SECTIONS``) come out the same. ``PortfolioCache`` keeps, per section, the scenario paths it
read (``recording.Fields``), the outputs of other sections it was given, its own outputs and the warnings
it gave. For a new scenario it finds the paths that differ from the previous one (``recording.changes``)
and runs a section again only when one of them is a path it read, or when an output it takes came out
different; otherwise its outputs are reused. The Dataset is the previous one's structure with the new
values (``Dataset.copy(data=...)``), without xarray's alignment of a new Dataset.

A full build (with recording) happens instead on the first scenario, on a structural difference (other
keys of sites, contracts…, another horizon start, end or step, other coordinates once the sections have
run) and whenever a section re-run finds a problem (so the error raised is a full build's). What is
handed out is never what is kept: tables are copies (pandas' copy-on-write), arrays are copied, so a
caller that changes its portfolio cannot change the next one. Sections must read the horizon's periods
(start, hours, years), never its discount factors: the discount rate reaches a section only as
``horizon.discount_rate``, recorded like any scenario value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gigawatt.periods import Horizon
from gigawatt.portfolio import assemble
from gigawatt.portfolio.context import BuildContext
from gigawatt.portfolio.recording import Fields, Structural, changes, prefixes, same_value, touches

MAX_HORIZONS = 64  # horizons kept per process (one per discount rate seen)
PERIOD_ARRAYS = ("periods", "hours", "period_start", "period_end", "horizon_end")  # BuildContext's, rate-free
_TAKEN = {a for s in (*assemble.SECTIONS, *assemble.AFTER) for a in s.args}  # outputs some section takes


@dataclass
class _Record:
    reads: set
    read_prefixes: set
    args: tuple
    outs: tuple
    warnings: list = field(default_factory=list)


def same(a, b) -> bool:
    """Equal values of the same types (tables: also index, columns and dtypes; arrays: dtype, shape)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, (pd.DataFrame, pd.Series)):
        return (a.shape == b.shape and a.index.dtype == b.index.dtype and list(a.index.names) == list(b.index.names)
                and (not isinstance(a, pd.DataFrame) or (a.columns.equals(b.columns) and a.dtypes.equals(b.dtypes)))
                and a.index.equals(b.index) and a.equals(b))
    if isinstance(a, np.ndarray):
        return (a.shape == b.shape and a.dtype == b.dtype
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return same_value(a, b)


def patch_table(old_rows: list[dict], old: pd.DataFrame, rows: list[dict], key: str) -> pd.DataFrame | None:
    """The table of ``rows`` as a copy of ``old`` (the table of ``old_rows``) with the cells that differ
    changed, when that is sure to equal building it anew: the same rows, keys and columns, and each
    changed cell a float in a float64 column or an int in an int64 one, as before (so every column's
    dtype is what it was). None otherwise."""
    if len(rows) != len(old_rows):
        return None
    cells = []
    for i, (a, b) in enumerate(zip(old_rows, rows)):
        if list(a) != list(b) or not same_value(a[key], b[key]):
            return None
        for col, x in a.items():
            y = b[col]
            if same_value(x, y):
                continue
            dtype = old.dtypes[col]
            if not (type(x) is type(y) and ((type(y) is float and dtype == np.float64)
                                             or (type(y) is int and dtype == np.int64 and -2**63 <= y < 2**63))):
                return None
            cells.append((i, old.columns.get_loc(col), y))
    table = old.copy()
    for i, j, y in cells:
        table.iat[i, j] = y
    return table


class PortfolioCache:
    """The previous scenario's sections, for :meth:`Portfolio.from_scenario` with ``reuse``. ``last`` says
    how the last portfolio was built: ``full: <why>`` or ``reuse: <sections run again>``."""

    def __init__(self):
        self._sc = None
        self._records: dict[str, _Record] = {}
        self._template = None  # the last full build's Dataset: its structure, never handed out
        self._coords: dict = {}
        self._horizons: dict[tuple, tuple[Horizon, np.ndarray]] = {}  # and its discount factors
        self._periods: dict[tuple, dict] = {}  # per (start, end, step): BuildContext's period arrays
        self._top: list[str] = []  # the scenario's sections some section read (the rest cannot matter)
        self.last = ""

    def fields(self, sc, resolved) -> dict:
        """The Portfolio's fields for scenario ``sc`` (raises its problems as a full build does)."""
        if self._sc is None:
            return self._full(sc, resolved, "first scenario")
        try:
            changed = changes(self._sc, sc, self._top)
        except Structural as exc:
            return self._full(sc, resolved, f"structure of {exc}")
        moved = [c for c in changed if c[0] == "horizon" and c != ("horizon", "discount_rate")]
        if moved:
            return self._full(sc, resolved, f"{'.'.join(moved[0])} changed")
        ctx = self._context(sc, resolved)
        rerun: list[str] = []
        records = dict(self._records)  # kept only if the build succeeds

        differ: set[str] = set()  # outputs found different from the previous scenario's

        def runner(section, args):
            rec = records.get(section.name)
            if (rec is not None and not touches(changed, rec.reads, rec.read_prefixes)
                    and not differ.intersection(section.args) and all(same(a, b) for a, b in zip(args, rec.args))):
                ctx.warnings.extend(rec.warnings)
                return rec.outs
            rerun.append(section.name)
            table = patch_table(rec.args[0], rec.outs[0], args[0], section.patch) if rec and section.patch else None
            if table is not None:
                records[section.name] = _Record(rec.reads, rec.read_prefixes, args, (table,))
                differ.update(section.outs)
                return (table,)
            outs = self._record(ctx, section, args, records)
            if ctx.problems:
                raise _Problems()
            if rec is not None:  # what came out the same stays the same object: the next sections reuse
                outs = tuple(old if name in _TAKEN and same(new, old) else new
                             for name, new, old in zip(section.outs, outs, rec.outs))
                records[section.name].outs = outs
            differ.update(name for name, new, old in zip(section.outs, outs, rec.outs if rec else outs)
                          if new is not old or rec is None)
            return outs

        try:
            v = assemble.run(ctx, runner)
        except _Problems:
            return self._full(sc, resolved, "a section found a problem")  # raises them all, in order
        if differ.intersection(assemble.COORD_SOURCES):  # else every coordinate is the previous one's
            c = assemble.coords(ctx, v)
            if not all(same(c[k], self._coords[k]) for k in c):
                return self._full(sc, resolved, "other coordinates")
        self._records, self._sc = records, sc
        if rerun:  # a section run again may have read another scenario section (another branch of its code)
            self._top = _top(records)
        self.last = "reuse: " + (", ".join(rerun) if rerun else "nothing changed")
        return self._hand_out(ctx, v)

    def _full(self, sc, resolved, why: str) -> dict:
        ctx = self._context(sc, resolved)
        records: dict[str, _Record] = {}
        v = assemble.run(ctx, lambda section, args: PortfolioCache._record(ctx, section, args, records))
        self._records, self._sc = records, sc
        self._top = _top(records)
        self._template = assemble.dataset(ctx, v)
        self._coords = assemble.coords(ctx, v)
        self.last = f"full: {why}"
        return self._hand_out(ctx, v)

    @staticmethod
    def _record(ctx: BuildContext, section, args: tuple, records: dict) -> tuple:
        """Run ``section`` with the scenario wrapped in a recorder; keep what it read, took and gave."""
        reads: set = set()
        real, n_warn = ctx.sc, len(ctx.warnings)
        ctx.sc = Fields(real, (), reads)
        try:
            outs = tuple(section.fn(ctx, *args))
        finally:
            ctx.sc = real
        records[section.name] = _Record(
            reads, prefixes(reads), args, outs, list(ctx.warnings[n_warn:]))
        return outs

    def _context(self, sc, resolved) -> BuildContext:
        """A build context whose period arrays (start, end, hours…: the same at every discount rate) are
        the previous build's when the horizon's periods are the same."""
        horizon, factors = self._horizon(sc)
        ctx = BuildContext(sc, resolved, horizon=horizon)
        h = sc.horizon
        ctx.__dict__.update(self._periods.setdefault((h.start, h.end, h.step), {}), discount_factor=factors)
        return ctx

    def _keep_periods(self, ctx: BuildContext) -> None:
        h = ctx.sc.horizon
        kept = self._periods[(h.start, h.end, h.step)]
        kept.update({k: ctx.__dict__[k] for k in PERIOD_ARRAYS if k in ctx.__dict__})

    def _horizon(self, sc) -> tuple[Horizon, np.ndarray]:
        """The scenario's horizon and its discount factors (read from its table once: never handed out
        as they are, ``_hand_out`` copies the Dataset's arrays)."""
        h = sc.horizon
        key = (h.start, h.end, h.step, h.discount_rate, type(h.discount_rate))
        if key not in self._horizons:
            if len(self._horizons) >= MAX_HORIZONS:
                self._horizons.clear()
                self._periods.clear()
            horizon = Horizon.build(h.start, h.end, h.step, h.discount_rate)
            self._horizons[key] = (horizon, horizon.table["discount_factor"].to_numpy())
        return self._horizons[key]

    def _hand_out(self, ctx: BuildContext, v: dict) -> dict:
        """Copies of what is kept: tables (copy-on-write), arrays, the horizon's table."""
        self._keep_periods(ctx)
        data = self._template.copy(deep=False, data={k: np.array(a, copy=True)
                                                     for k, (_, a) in assemble.arrays(ctx, v).items()})
        horizon = dataclasses.replace(ctx.horizon, table=ctx.horizon.table.copy(deep=False))
        return {"scenario": ctx.sc, "resolved": ctx.resolved, "horizon": horizon, "data": data,
                "warnings": list(ctx.warnings), **{k: v[k].copy(deep=False) for k in assemble.TABLES}}


def _top(records: dict) -> list[str]:
    """The scenario's top-level sections that some section's build read (only those are compared)."""
    return sorted({p[0] for r in records.values() for p in r.reads} | {"horizon"})


class _Problems(Exception):
    """A section re-run found a problem: build in full, which raises every problem of the scenario."""


_PROCESS: PortfolioCache | None = None


def process_cache() -> PortfolioCache:
    """This process's cache (a sweep worker builds its tasks' portfolios through it)."""
    global _PROCESS
    if _PROCESS is None:
        _PROCESS = PortfolioCache()
    return _PROCESS


__all__ = ["PortfolioCache", "process_cache", "same"]
