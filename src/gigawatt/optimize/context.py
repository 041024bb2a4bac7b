"""Scaled model data shared by the constraint builders.

Variables are scaled so coefficients stay near 1: chips in thousands (kchips), money in millions of USD
(MUSD), compute in millions of H100e-hours (MH100e-h), power in MW. Results are unscaled on extraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import linopy
import numpy as np
import pandas as pd
import xarray as xr
from linopy.constants import TERM_DIM as TERM

from gigawatt.catalog import PUE_REFERENCE
from gigawatt.optimize.grid import Grid, positions
from gigawatt.portfolio import Portfolio

CHIP_SCALE = 1e3
MONEY_SCALE = 1e6
COMPUTE_SCALE = 1e6




@dataclass(frozen=True)
class CashRisk:
    """The cash limit in risk terms of the stochastic planner (docs/formulation.md, "Cash in risk terms").

    The floor F is ``policy.cash_floor`` (0 when not set). ``floor_penalty`` (USD per USD below F for a
    year, discounted) makes the floor soft; ``max_cvar_gap_usd`` bounds CVaR at ``gap_alpha`` of the
    funding gap (the new funding each future needs to keep cash at F)."""

    floor_penalty: float | None = None
    max_cvar_gap_usd: float | None = None
    gap_alpha: float = 0.9


@dataclass
class Context:
    """The portfolio's arrays, scaled, plus the linopy model being built."""

    portfolio: Portfolio
    model: linopy.Model
    allow_unmet: bool
    own: pd.Index  # supply options of kind own
    lease: pd.Index
    contract: pd.Index
    elastic: bool = False
    slacks: dict = field(default_factory=dict)  # constraint name -> (slack variable name, penalty MUSD/unit)
    # the stochastic planner (docs/stochastic.md): the probability of each future, over a `future`
    # dimension that recourse variables and the portfolio arrays of the futures carry; None: one future
    probability: xr.DataArray | None = None
    cvar: tuple[float, float] | None = None  # (weight ω, level α) of CVaR of net present cost
    cash_risk: CashRisk | None = None  # a soft cash floor and/or a CVaR limit on the funding gap
    # several stages (a scenario tree): the node of each (future, period), futures in tree order; commitments
    # then carry `future` too, tied within a node by optimize/nonanticipativity.py. None: two stages
    nodes: xr.DataArray | None = None
    # the fast path's hook on right-hand sides (:meth:`rhs`); None: a right-hand side is computed in place
    on_rhs: object = None
    _rows: dict = field(default_factory=dict, repr=False)  # per portfolio object: own options' table rows
    # the fast path's inputs already read from this portfolio, ("table", table, column) -> column (its check
    # of what changed reads every column the objective reads): :meth:`column` takes them from here
    columns: dict | None = None

    @property
    def futures(self) -> pd.Index | None:
        return None if self.probability is None else self.probability.indexes["future"]

    def recourse(self, coords: list) -> list:
        """Coordinates of a recourse variable: ``coords``, plus ``future`` in a stochastic model."""
        return coords if self.probability is None else [*coords, self.futures]

    def commitment(self, coords: list) -> list:
        """Coordinates of a commitment variable: ``coords``, plus ``future`` in a multi-stage model (tied
        within each tree node); shared by every future (no ``future``) in a two-stage one."""
        return coords if self.nodes is None else [*coords, self.futures]

    def expect(self, expr):
        """Σ_f p_f · expr over ``future`` when ``expr`` has that dimension (expectation), else ``expr``."""
        if self.probability is None or "future" not in expr.dims:
            return expr
        return expr * self.probability

    @property
    def data(self) -> xr.Dataset:
        return self.portfolio.data

    @property
    def periods(self) -> pd.Index:
        return self._cached("periods", lambda p: pd.Index(p.horizon.labels, name="period"))

    def add_slack(self, constraint: str, coords: list, penalty: float, mask=None):
        """Elastic mode: a non-negative slack variable for ``constraint``, penalised in the objective."""
        name = f"{constraint}-slack"
        var = self.model.add_variables(lower=0, coords=coords, name=name, mask=mask)
        self.slacks[constraint] = (name, penalty)
        return var

    def df(self) -> xr.DataArray:
        return self.data["discount_factor"]

    def rhs(self, constraint: str, numbers):
        """``numbers(self)``: the right-hand side of ``constraint`` (a DataArray over its dimensions), when it
        is computed apart from the rows' coefficients. The fast path (optimize/fastpath.py) records what it
        reads, and recomputes it alone when only those inputs change; no constant may sit in the rows."""
        return self._numbers("rhs", constraint, numbers)

    def mask(self, variable: str, numbers):
        """``numbers(self)``: where ``variable`` has entries (a boolean DataArray), computed apart from the rest
        of the variable; the fast path recomputes it alone when only its inputs change, and checks it."""
        return self._numbers("mask", variable, numbers)

    def _numbers(self, kind: str, name: str, numbers):
        if self.on_rhs is not None:
            return self.on_rhs((kind, name), numbers, self)
        value = numbers(self)
        return value.to_xarray() if isinstance(value, Grid) else value

    def grid(self, name: str) -> Grid:
        """``data[name]`` as a :class:`~gigawatt.optimize.grid.Grid` (numpy arithmetic, xarray's results)."""
        d = self.data
        if name not in d:  # (read through ``in``: the fast path's proxies record it)
            raise KeyError(f"{name} is not in the portfolio's data")
        var = d.variables[name]
        indexes = self._cached("indexes", lambda p: p.data.indexes)
        return Grid(var.values, var.dims, {k: indexes[k] for k in var.dims})

    def _cached(self, key: str, make):
        """``make(portfolio)`` (structure: indexes, row positions; or numbers a portfolio object holds for
        good, such as its horizon's), cached per portfolio object."""
        p = self.portfolio
        hit = self._rows.get((key, id(p)))
        if hit is not None and hit[0] is p:
            return hit[1]
        value = make(p)
        self._rows[(key, id(p))] = (p, value)
        return value

    def column(self, table: str, name: str):
        """``portfolio.<table>[name]`` (a Series), or the same column as the fast path read it this task (a
        :class:`~gigawatt.optimize.reads.Column`, held in :attr:`columns`: a pandas lookup saved); callers
        use only ``to_numpy``, which both have."""
        key = ("table", table, name)
        held = self.columns.get(key) if self.columns else None
        if held is None:
            return getattr(self.portfolio, table)[name]
        record = getattr(type(self.portfolio), "record", None)  # a recording portfolio (optimize/reads.py)
        if record is not None:  # the read is recorded all the same: a family watches what it reads
            record(self.portfolio, key)
        return held

    def _own_rows(self, table: str) -> np.ndarray:
        """Row positions, in the portfolio table ``table`` (supply, accelerators or sites), of each own
        option (of its accelerator or site), cached per portfolio object."""
        def make(p):
            if table == "supply":
                return positions(p.supply.index, self.own)
            of = self.column("supply", "accelerator" if table == "accelerators" else "site").to_numpy()[
                self._own_rows("supply")]
            return positions(getattr(p, table).index, of)

        return self._cached(table, make)

    def own_values(self, column: str) -> np.ndarray:
        """An accelerator or site attribute for each own supply option, as a numpy array over ``self.own``."""
        if column in ("lab_share", "offtake_usd_per_chip_hour"):  # of the option (joint-venture sites)
            table = "supply"
        else:
            table = "accelerators" if column in self.portfolio.accelerators.columns else "sites"
        return self.column(table, column).to_numpy(dtype=float)[self._own_rows(table)]

    def own_attr(self, column: str) -> xr.DataArray:
        """An accelerator or site attribute for each own supply option."""
        return xr.DataArray(self.own_values(column), coords={"supply": self.own})

    def own_grid(self, column: str) -> Grid:
        return Grid.along(self.own_values(column), self.own)

    def own_power_grid(self) -> Grid:
        """MW drawn by a thousand chips of each own option: all-in kW × site PUE / reference PUE."""
        return self.own_grid("all_in_power_kw") * self.own_grid("pue") / PUE_REFERENCE

    def own_power_mw_per_kchip(self) -> xr.DataArray:
        """MW drawn by a thousand chips of each own option: all-in kW × site PUE / reference PUE."""
        return self.own_power_grid().to_xarray()

    def own_life_periods(self) -> xr.DataArray:
        per_year = 12 / self.portfolio.horizon.months_per_period()
        life = np.maximum(1, np.rint(self.own_attr("useful_life_years").values * per_year)).astype(int)
        return xr.DataArray(life, coords={"supply": self.own})

    def own_sum_by(self, expr: linopy.LinearExpression, column: str, groups: pd.Index) -> linopy.LinearExpression:
        """Σ_{o of g} expr[o, t] for each group g in ``groups`` of own options (by their ``site`` or
        ``accelerator``), with dims (period, column). ``expr`` is over (supply=own, period), without constant.

        Built as arrays with one term per option of the group. The product with an option × group
        indicator matrix it replaces carried every option in every row, zeros included: with 650
        options, 17 accelerators and 120 months that took 4.5 GB and 6 s in the purchase limits. Each
        row also gets one zero-coefficient term, so that a row exists exactly where that product made
        one: a row with nothing to sum still reaches HiGHS (0 ≥ a firm delivery is infeasible, and
        is reported as such)."""
        extra = [d for d in expr.data["vars"].dims if d not in ("period", "supply", TERM)]  # a tree's `future`
        data = expr.data.sel(supply=self.own).transpose("period", *extra, "supply", TERM)
        if np.nan_to_num(data["const"].values).any():
            raise ValueError("own_sum_by sums expressions without a constant")
        lead = data["vars"].shape[:-2]  # (period[, future]): flattened into rows, restored at the end
        v = data["vars"].values.reshape(-1, *data["vars"].shape[-2:])  # (period·future, option, term)
        c = data["coeffs"].values.reshape(v.shape)
        n_t, n_o, n_k = v.shape
        codes = groups.get_indexer(self.portfolio.supply.loc[self.own, column].to_numpy())
        sel = np.flatnonzero(codes >= 0)
        rank = pd.Series(sel).groupby(codes[sel]).cumcount().to_numpy()  # position within its group
        width = int(rank.max()) + 1 if len(sel) else 0
        out_v = np.full((n_t, len(groups), width, n_k), -1, dtype=v.dtype)
        out_c = np.full((n_t, len(groups), width, n_k), np.nan)
        out_v[:, codes[sel], rank, :] = v[:, sel, :]
        out_c[:, codes[sel], rank, :] = c[:, sel, :]
        flat = v.reshape(n_t, n_o * n_k)
        valid = flat != -1
        keeper = np.where(valid.any(1), flat[np.arange(n_t), valid.argmax(1)], -1).astype(v.dtype)
        keep_v = np.broadcast_to(keeper[:, None, None], (n_t, len(groups), 1))
        keep_c = np.where(keep_v != -1, 0.0, np.nan)
        dims = ("period", *extra, column, TERM)
        shape = (*lead, len(groups), -1)
        out = xr.Dataset(
            {"coeffs": (dims, np.concatenate([out_c.reshape(n_t, len(groups), -1), keep_c], axis=2).reshape(shape)),
             "vars": (dims, np.concatenate([out_v.reshape(n_t, len(groups), -1), keep_v], axis=2).reshape(shape)),
             "const": (dims[:-1], np.zeros((*lead, len(groups))))},
            coords={"period": data.indexes["period"], **{d: data.indexes[d] for d in extra},
                    column: pd.Index(groups, name=column)})
        return linopy.LinearExpression(out, self.model)

    def salvage_grid(self, life_years: Grid) -> Grid:
        t, end_years = self._horizon_years()
        return ((t + life_years - end_years) / life_years).clip(0, 1)

    def _horizon_years(self) -> tuple[Grid, float]:
        """(years from the horizon start to each period's start, to its end), read once per portfolio
        object: the objective asks for them four times (two salvage shares, two end-of-horizon factors),
        each a pair of pandas column lookups (a sweep task's fast path pays them per task)."""
        def make(p):
            h = p.horizon
            return Grid.along(h.table["t_years"].to_numpy(), self.periods), h.end_years

        return self._cached("horizon_years", make)

    def df_end(self) -> float:
        return float((1.0 + self.portfolio.scenario.horizon.discount_rate) ** (-self._horizon_years()[1]))

    def period_years(self) -> xr.DataArray:
        """Length of each period in years (calendar: a month is 1/12)."""
        return self.period_years_grid().to_xarray()

    def period_years_grid(self) -> Grid:
        return Grid.along(self.portfolio.horizon.table["years"].to_numpy(), self.periods)
