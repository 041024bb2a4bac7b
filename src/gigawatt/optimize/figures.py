"""A solved plan's headline figures as numpy period vectors, read straight from HiGHS's solution.

A sweep's row (sweep/headline.py) reads a few sums of the plan: cash spending on compute by category,
the compute served per workload (for revenue), power in service, unmet and total demand, the objective.
The cold path gets them from the Plan dataset (:func:`gigawatt.optimize.run.extract`); the fast path
(optimize/fastpath.py) gets them here, from ``highs.getSolution().col_value``, without writing the
solution into linopy or building a Dataset. The rules are one: :func:`chips_in_service`,
:func:`cash_costs`, :func:`site_capex`, :func:`delivered` and :func:`objective_usd` are written over
arrays that are either xarray objects (extract) or numpy arrays laid out (option, [workload,] period)
(here), and :func:`mw_per_chip` is the one definition of a chip's power.

What the figures read of the portfolio (cost coefficients, efficiencies, contract terms...) is kept
between tasks and recomputed only when an input it read changed (:class:`Memo`, over
optimize/reads.py's recording portfolio).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gigawatt.optimize.context import CHIP_SCALE, COMPUTE_SCALE, MONEY_SCALE, Context
from gigawatt.optimize.grid import same_index
from gigawatt.optimize.reads import Recorder, same, value


# --- the rules, shared with extract (run.py) ------------------------------------------------------------


def mw_per_chip(portfolio) -> np.ndarray:
    """MW per chip in service of each supply option (``portfolio.supply`` order): the accelerator's all-in
    kW (0 where unknown) × the site's PUE / the reference PUE (1.14 where the option has no site or its
    site no PUE)."""
    p = portfolio
    acc = p.accelerators.index.get_indexer(p.supply["accelerator"])
    if (acc < 0).any():
        raise KeyError(f"supply options of unknown accelerators: {list(p.supply.index[acc < 0])}")
    kw = p.accelerators["all_in_power_kw"].to_numpy(dtype=float)[acc]
    site_pue = 1.14
    if len(p.sites):
        at = p.sites.index.get_indexer(p.supply["site"])
        site_pue = np.where(at >= 0, p.sites["pue"].to_numpy(dtype=float)[np.maximum(at, 0)], np.nan)
        site_pue = np.where(np.isnan(site_pue), 1.14, site_pue)
    return np.nan_to_num(kw) * site_pue / 1.14 / 1e3


def chips_in_service(used, own_chips, is_own, firm, capacity, where):
    """Chips in service per option and period: the owned chips where the option is owned, a firm
    contract's whole capacity (paid whether used or not), else the chips dispatched. ``where``: xr.where
    or np.where, as the arrays are."""
    chips = where(is_own, own_chips, used)
    return chips if firm is None else where(firm, capacity, chips)


def cash_costs(*, buy=None, own_chips=None, lease_used=None, contract_used=None, contract_fixed=None,
               c: dict) -> dict:
    """Cash costs (USD) per option and period by category, from the model's variables (kchips) and the
    cost coefficients (MUSD per unit, :func:`gigawatt.optimize.objective.cost_coefficients`): chips bought
    × price, chips in service × energy and joint-venture offtake, rentals and contract use × their price
    per chip-hour, + take-or-pay payments. Only the categories whose options exist."""
    out = {}
    if buy is not None:
        out["capex_chips"] = buy * c["own_buy"] * MONEY_SCALE
        out["energy"] = own_chips * c["own_energy"] * MONEY_SCALE
        out["offtake"] = own_chips * c["own_offtake"] * MONEY_SCALE  # joint ventures: the partners' share
    if lease_used is not None:
        out["lease"] = lease_used * c["lease"] * MONEY_SCALE
    if contract_used is not None:
        out["contract"] = contract_used * c["contract_use"] * MONEY_SCALE + contract_fixed
    return out


def site_capex(built_mw, cost_usd_per_mw, lab_share):
    """The lab's capex of facility power energised (USD): MW energised × build cost × the lab's share."""
    return built_mw * cost_usd_per_mw * lab_share


def delivered(dispatch, effective):
    """H100e-hours delivered: kchips dispatched × MH100e-h per kchip (capacity.effective_compute)."""
    return dispatch * effective * COMPUTE_SCALE


def objective_usd(objective_musd: float, fixed_payments_musd: float) -> float:
    """The plan's net present cost (USD): the LP objective + the take-or-pay payments it leaves out."""
    return (float(objective_musd) + fixed_payments_musd) * MONEY_SCALE


# --- what is kept between tasks ---------------------------------------------------------------------------


class Memo:
    """``fn(portfolio)``, recomputed only when an input it read (recorded: optimize/reads.py) changed.

    The inputs are kept as they were (copies) and compared as optimize/reads.py does: a data array's
    values, a table column's values and its index, a whole table by ``equals``..."""

    def __init__(self, fn):
        self.fn, self.inputs, self.result, self.shape = fn, None, None, None

    def __call__(self, portfolio, known: dict | None = None):
        """``known``: inputs' values of ``portfolio`` read already this task (the fast path's, which reads the
        same keys: optimize/reads.value), not read again."""
        known = known or {}
        shape = _shape(portfolio)  # what the recording treats as structure: periods and the data's labels
        if (self.inputs is not None and _same_shape(shape, self.shape)
                and all(same(v, known[k] if k in known else value(portfolio, k)) for k, v in self.inputs.items())):
            return self.result
        reads: set = set()
        self.result = self.fn(Recorder(portfolio, reads))
        self.inputs = {k: _copy(value(portfolio, k)) for k in reads}
        self.shape = shape
        return self.result


def _shape(portfolio) -> tuple:
    """The periods and the data's indexes (compared by optimize/grid.same_index: a stored index is
    compared once, one shared with the previous task's not at all)."""
    idx = portfolio.data.indexes
    return tuple(portfolio.horizon.labels), {k: idx[k] for k in idx}


def _same_shape(a: tuple, b: tuple | None) -> bool:
    return (b is not None and a[0] == b[0] and a[1].keys() == b[1].keys()
            and all(same_index(a[1][k], b[1][k]) for k in a[1]))


def _copy(v):
    """A recorded input as it is now (a later task's portfolio may share, not copy, its arrays; a table
    column, optimize/reads.Column, is read as it is now already)."""
    return v.copy() if isinstance(v, (np.ndarray, pd.DataFrame, pd.Series)) else v


@dataclass
class Figures:
    """A plan's figures per period (USD, H100e-hours, MW) as a sweep's row reads them."""

    periods: list
    objective_usd: float
    spending: np.ndarray  # (category, period): plan.COMPUTE_SPENDING's categories (NaN skipped, as the plan's)
    flows: dict  # finance's plan flows (finance.PLAN_FLOWS: <category>_usd per period, NaN kept)
    discount_factor: np.ndarray
    served: np.ndarray  # (workload, period) H100e-hours delivered
    workloads: list
    power_mw: np.ndarray  # (period,) all chips in service
    demand_h100e_hours: float
    unmet_h100e_hours: float


@dataclass
class Solved:
    """The fast path's answer for a sweep row: the figures and the run's attributes (no Plan)."""

    figures: Figures
    attrs: dict


def _rows(a, dims: tuple, column: bool = True) -> np.ndarray:
    """An xarray array as numpy laid out as ``dims`` (those it has; with ``column``, (option, 1) where it
    has no period)."""
    if set(a.dims) - set(dims):
        raise ValueError(f"dimensions {a.dims} outside {dims}")
    order = tuple(d for d in dims if d in a.dims)
    v = a.values if a.dims == order else a.transpose(*order).values
    return v[:, None] if column and "period" not in a.dims else v


def _var(d, name: str, dims: tuple) -> np.ndarray:
    """A data array of the portfolio as numpy laid out as ``dims`` (without building a DataArray)."""
    v = d.variables[name]
    if v.dims != dims:
        if set(v.dims) != set(dims):
            raise ValueError(f"{name} has dimensions {v.dims}, not {dims}")
        v = v.transpose(*dims)
    return v.values


class Reader:
    """The figures of a solution vector of one model structure (the base linopy model of the fast path):
    each variable's entries as positions in HiGHS's columns, computed once."""

    def __init__(self, ctx: Context, col_of: np.ndarray, allow_unmet: bool):
        m = ctx.model
        self.base = ctx
        self.cols = {}
        want = {"Supply-dispatch": ("supply", "workload", "period"), "Own-buy": ("supply", "period"),
                "Own-chips": ("supply", "period"), "Site-power": ("site", "period"),
                "Workload-unmet": ("workload", "period")}
        for name, dims in want.items():
            if name in m.variables:
                labels = m.variables[name].labels
                if set(labels.dims) != set(dims):
                    raise ValueError(f"{name} has dimensions {labels.dims}")
                lab = labels.transpose(*dims).values
                self.cols[name] = np.where(lab >= 0, col_of[np.maximum(lab, 0)], -1)
        d = ctx.data
        supply = d.indexes["supply"]
        self.workloads = list(d.indexes["workload"])
        self.periods = [str(p) for p in ctx.periods]
        self.pos = {k: supply.get_indexer(getattr(ctx, k)) for k in ("own", "lease", "contract")}
        self.allow_unmet = allow_unmet
        self.coefficients = Memo(self._coefficients)
        self.mw = Memo(mw_per_chip)

    def _ctx(self, portfolio) -> Context:
        b = self.base
        return Context(portfolio=portfolio, model=None, allow_unmet=self.allow_unmet, own=b.own, lease=b.lease,
                       contract=b.contract)

    def _coefficients(self, portfolio, grids: dict | None = None) -> dict:
        """The cost coefficients the cash lines read (objective.cost_grids, numpy over (option, period) or
        (option, 1)); ``grids``: cost_grids of this portfolio, if made already."""
        from gigawatt.optimize.objective import cost_grids

        c = cost_grids(self._ctx(portfolio)) if grids is None else grids
        out = {}
        for k in ("own_buy", "own_energy", "own_offtake", "lease", "contract_use"):
            if k in c:
                if set(c[k].dims) - {"supply", "period"}:
                    raise ValueError(f"{k} has dimensions {c[k].dims}")
                out[k] = c[k].expand(("supply", "period"))
        return out

    def _plan_inputs(self, portfolio, known: dict | None = None) -> dict:
        """The portfolio's numbers the figures read besides the cost coefficients, as numpy (read every
        task: a few microseconds each)."""
        from gigawatt.optimize.capacity import effective_compute
        from gigawatt.optimize.objective import fixed_payments_pv_musd

        ctx = self._ctx(portfolio)
        d = portfolio.data
        if "event_cost_pv_usd" in d.variables or "future" in d.dims:
            raise ValueError("a stochastic model's portfolio")
        kind = portfolio.supply["kind"].to_numpy()
        df = _var(d, "discount_factor", ("period",))
        out = {"effective": _rows(effective_compute(ctx), ("supply", "workload", "period"), column=False),
               "mw_per_chip": self.mw(portfolio, known)[:, None], "is_own": (kind == "own")[:, None],
               "demand": float(np.nansum(_var(d, "demand_h100e_hours", ("workload", "period")))),
               "discount_factor": df, "firm": None, "capacity": None, "fixed_npv": 0.0}
        if len(ctx.contract):
            out["firm"] = (_var(d, "contract_firm", ("supply", "period")) > 0) & (kind == "contract")[:, None]
            out["capacity"] = _var(d, "contract_capacity_chips", ("supply", "period"))
            out["contract_fixed"] = _var(d, "contract_fixed_payment_usd", ("supply", "period"))[self.pos["contract"]]
            out["fixed_npv"] = fixed_payments_pv_musd(out["contract_fixed"], df)
        if len(portfolio.sites):
            out["site_cost"] = portfolio.sites["build_cost_usd_per_mw"].to_numpy()[:, None]
            out["site_share"] = portfolio.sites["lab_share"].to_numpy(dtype=float)[:, None]
        return out

    def _sol(self, v: np.ndarray, name: str) -> np.ndarray | None:
        """A variable's solution (absent entries 0, as extract's ``.solution.fillna(0)``)."""
        cols = self.cols.get(name)
        return None if cols is None else np.where(cols >= 0, v[cols], 0.0)

    def figures(self, col_value, objective: float, portfolio, known: dict | None = None,
                grids: dict | None = None) -> Figures:
        """The figures of the solution ``col_value`` (HiGHS's columns) of ``portfolio``'s task (``known``:
        its inputs' values read already: :class:`Memo`; ``grids``: its objective.cost_grids, if made)."""
        from gigawatt.plan import COMPUTE_SPENDING

        v = np.asarray(col_value, dtype=float)
        k = self._plan_inputs(portfolio, known)
        c = self._coefficients(portfolio, grids) if grids is not None else self.coefficients(portfolio, known)
        x = self._sol(v, "Supply-dispatch")  # (supply, workload, period) kchips
        used = x.sum(axis=1) * CHIP_SCALE
        own, lease, contract = self.pos["own"], self.pos["lease"], self.pos["contract"]
        own_full = np.zeros_like(used)
        buy = n = None
        if len(own):
            buy, n = self._sol(v, "Own-buy"), self._sol(v, "Own-chips")
            own_full[own] = n * CHIP_SCALE
        chips = chips_in_service(used, own_full, k["is_own"], k["firm"], k["capacity"], np.where)
        cash = cash_costs(buy=buy, own_chips=n,
                          lease_used=x[lease].sum(axis=1) if len(lease) else None,
                          contract_used=x[contract].sum(axis=1) if len(contract) else None,
                          contract_fixed=k.get("contract_fixed"), c=c)
        if "Site-power" in self.cols:
            pw = self._sol(v, "Site-power")
            built = pw - np.concatenate([np.zeros_like(pw[:, :1]), pw[:, :-1]], axis=1)
            cash["capex_sites"] = site_capex(built, k["site_cost"], k["site_share"])
        zero = np.zeros(len(self.periods))
        spending = np.array([np.nansum(cash[name], axis=0) if name in cash else zero for name in COMPUTE_SPENDING])
        flows = {f"{name}_usd": cash[name].sum(axis=0) if name in cash else zero for name in COMPUTE_SPENDING}
        unmet = self._sol(v, "Workload-unmet")
        return Figures(
            periods=self.periods, objective_usd=objective_usd(objective, k["fixed_npv"]),
            spending=spending, flows=flows, discount_factor=k["discount_factor"],
            served=delivered(x, k["effective"]).sum(axis=0), workloads=self.workloads,
            power_mw=np.nansum(chips * k["mw_per_chip"], axis=0), demand_h100e_hours=k["demand"],
            unmet_h100e_hours=float(np.nansum(unmet * COMPUTE_SCALE)) if unmet is not None else 0.0)


__all__ = ["Figures", "Memo", "Reader", "Solved", "cash_costs", "chips_in_service", "delivered", "mw_per_chip",
           "objective_usd", "site_capex"]
