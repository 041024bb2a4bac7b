"""Monte Carlo over a solved plan: commitments fixed, operations and cash re-evaluated per draw.

Every quantity is the plan's figure plus a change caused by the draw, computed by the compiled kernel
(gigawatt.risk.kernel) a block of draws at a time (docs/risk.md has the model and the dispatch rule):

- demand: the plan's demand times the draw's demand factors;
- dispatch (per workload, plan-relative merit order): the capacity allotted to a workload is split into
  *tranches* sorted by price per H100e-hour: committed capacity (own chips in service, contracted chips;
  free at the margin, or at a contract's per-use price), then on-demand leases up to their availability.
  Demand above the plan's is served from the tranches' spare capacity, cheapest first; what no tranche can
  serve is unmet. Demand below the plan's first reduces the plan's unmet demand, then the most expensive
  use (leases first); committed capacity left unused is stranded. Capacity is not moved between workloads
  within a draw (a training cluster does not absorb an inference surge);
- events remove capacity (a delayed site's chips, a failed contract's chips), the lost service is
  re-served by the remaining spare capacity, and their payments, capex, energy and vendor equity follow;
- cash: cash flow = plan cash flow + Δrevenue − Δcosts (+ Δvendor equity); cash = plan cash + Σ Δ.

A draw whose factors are all 1 and in which no event happens reproduces the plan's figures exactly.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from gigawatt.risk.kernel import PackedModel, kernel_block, make_scratch
from gigawatt.risk.quantiles import DEFAULT_BUDGET_VALUES, QuantileStore
from gigawatt.risk.select import SMALL
from gigawatt.risk.sample import BLOCK, Sampler, price_options, require_valid

log = logging.getLogger(__name__)

PERCENTILES = (5, 25, 50, 75, 95)
SAMPLE_PATHS = 256
TARGET_CHUNK_VALUES = 1 << 17  # values per (period × draw) output array of a chunk (1 MiB)


# --- the deterministic model of a plan ---------------------------------------------------------------------


@dataclass
class Tranche:
    """Capacity of one or more supply options allotted to one workload, at one price (H100e-hours, USD)."""

    options: list[str]
    cap: np.ndarray  # (P,) capacity allotted
    use: np.ndarray  # (P,) the plan's use
    price: np.ndarray  # (P,) USD per H100e-hour used (0 for committed capacity paid whatever the use)
    committed: bool
    price_drivers: tuple[str, ...] = ()
    losses: dict[str, np.ndarray] = field(default_factory=dict)  # event -> (P,) capacity lost

    @property
    def spare(self) -> np.ndarray:
        return np.maximum(self.cap - self.use, 0.0)


@dataclass
class WorkloadModel:
    name: str
    demand: np.ndarray  # (P,) H100e-hours
    unmet: np.ndarray  # (P,) the plan's unmet demand
    revenue_per_h100e_hour: float
    tranches: list[Tranche]
    demand_drivers: tuple[str, ...]
    revenue_drivers: tuple[str, ...]


@dataclass
class RiskModel:
    """What a draw changes, precomputed from a plan, its portfolio and its finance (arrays over periods)."""

    periods: list[str]
    years: list[int]
    year_index: np.ndarray  # (P,) calendar-year position of each period
    discount_factor: np.ndarray
    cash_flow: np.ndarray  # the plan's cash flow and cash (finance), USD per period
    cash: np.ndarray
    npc: float  # the plan's net present cost of compute (see net_present_cost)
    workloads: list[WorkloadModel]
    exogenous_revenue: np.ndarray
    exogenous_revenue_drivers: tuple[str, ...]
    energy: list[tuple[np.ndarray, tuple[str, ...]]]  # per site: (P,) energy cost, drivers
    other_costs: list[tuple[np.ndarray, tuple[str, ...]]]  # per entry
    event_cash: dict[str, dict[str, np.ndarray]]  # event -> {"cost": (P,), "equity": (P,), energy savings per site}
    event_energy: dict[str, list[tuple[int, np.ndarray]]]  # event -> [(site position, (P,) energy saved)]
    sampler: Sampler
    finance_source: str = ""
    year_starts: np.ndarray | None = None  # first period of each year (None: one period per year)
    derived: "_Derived | None" = None
    packed: PackedModel | None = None  # the arrays of the compiled kernel (pack_model)

    @property
    def n_periods(self) -> int:
        return len(self.periods)


def _clean(a) -> np.ndarray:
    a = np.nan_to_num(np.asarray(a, dtype=float), nan=0.0, posinf=np.inf)
    return np.maximum(a, 0.0)


def base_finance(plan, portfolio) -> tuple[dict[str, np.ndarray], str]:
    """The plan's cash flow and cash per period: stored with the plan (finance_*), else from
    :func:`gigawatt.finance.compute` (the one definition of the plan's cash flow)."""
    ds = plan.ds
    if "finance_cash_usd" in ds and "finance_cash_flow_usd" in ds:
        return {"cash_flow_usd": ds["finance_cash_flow_usd"].values.astype(float),
                "cash_usd": ds["finance_cash_usd"].values.astype(float)}, "plan.nc (finance)"
    from gigawatt import finance as finance_mod

    fin = finance_mod.compute(plan, portfolio)
    return {"cash_flow_usd": fin["cash_flow_usd"].values.astype(float),
            "cash_usd": fin["cash_usd"].values.astype(float)}, "gigawatt.finance.compute"


def compute_costs(plan) -> np.ndarray:
    """(category, period) cash costs of compute: capex chips, capex sites, lease, contract, energy."""
    ds = plan.ds
    rows = []
    for k in ("capex_chips", "capex_sites", "lease", "contract", "energy"):
        name = f"cost_{k}_usd"
        if name in ds:
            v = ds[name]
            rows.append(v.sum([d for d in v.dims if d != "period"]).values.astype(float))
        else:
            rows.append(np.zeros(len(plan.periods)))
    return np.array(rows)


def net_present_cost(plan) -> float:
    """Present value of the plan's cash costs of compute (capex, leases, contracts, energy), discounted with
    the plan's discount factors; no salvage value and no unmet-demand penalty (unlike the objective)."""
    return float((compute_costs(plan).sum(axis=0) * plan.ds["discount_factor"].values).sum())


def _revenue_rates(portfolio, workloads: list[str]) -> np.ndarray:
    """USD per H100e-hour served, per workload: the planner's and finance's own rates."""
    from gigawatt.optimize.cash import revenue_usd_per_h100e_hour

    return revenue_usd_per_h100e_hour(portfolio).sel(workload=workloads).to_numpy().astype(float)


def _deal_equity(portfolio) -> dict[str, np.ndarray]:
    """Vendor equity per firm supply deal and period, as finance counts it (equity per GW delivered,
    capped); a deal that is not firm brings none, so an event cannot take away what was never counted."""
    from gigawatt.optimize.cash import vendor_equity_by_deal_usd

    eq = vendor_equity_by_deal_usd(portfolio)
    return {str(name): eq.sel(deal=name).to_numpy().astype(float) for name in eq.indexes["deal"]}


def build_model(plan, portfolio, *, finance: dict[str, np.ndarray] | None = None) -> RiskModel:
    """Precompute the deterministic arrays a draw perturbs.

    Parameters
    ----------
    plan
        A solved :class:`gigawatt.plan.Plan` (its commitments stay fixed).
    portfolio
        The portfolio it was solved from (its ``scenario.uncertainty`` says what is uncertain).
    finance
        The plan's ``cash_flow_usd`` and ``cash_usd`` per period (default: :func:`base_finance`).
    """
    require_valid(portfolio)
    ds = plan.ds
    unc = portfolio.scenario.uncertainty
    periods = [str(p) for p in ds["period"].values]
    P = len(periods)
    table = portfolio.horizon.table
    cal_years = table["year"].to_numpy()
    years = sorted(set(int(y) for y in cal_years))
    year_index = np.array([years.index(int(y)) for y in cal_years])
    if finance is None:
        finance, source = base_finance(plan, portfolio)
    else:
        source = "given"
    sampler = Sampler(unc, len(years))
    drivers = unc.drivers

    def drivers_for(target: str, name: str) -> tuple[str, ...]:
        return tuple(n for n, d in drivers.items()
                     if d.target == target and (d.applies_to is None or name in d.applies_to))

    price_of: dict[str, list[str]] = {}
    for n, d in drivers.items():
        if d.target in ("price", "lease_price", "contract_price"):
            for o in price_options(portfolio, d.target, d.applies_to):
                price_of.setdefault(o, []).append(n)

    supply = [str(s) for s in ds["supply"].values]
    wl = [str(w) for w in ds["workload"].values]
    kind = dict(zip(supply, ds["supply_kind"].values.astype(str)))
    site_of = dict(zip(supply, ds["supply_site"].values.astype(str)))
    contract_of = dict(zip(supply, ds["supply_contract"].values.astype(str)))
    accel_of = dict(zip(supply, ds["supply_accelerator"].values.astype(str)))
    d = portfolio.data.sel(supply=supply, workload=wl)
    hours = ds["hours"].values.astype(float)
    eff = d["efficiency_h100e_hours_per_chip"].transpose("supply", "workload", "period").values.astype(float)
    eligible = d["eligible"].transpose("supply", "workload").values & (eff > 0).any(axis=2)
    x = _clean(ds["dispatch_chips"].transpose("supply", "workload", "period").values)
    delivered = _clean(ds["delivered_h100e_hours"].transpose("supply", "workload", "period").values)
    demand = _clean(ds["demand_h100e_hours"].transpose("workload", "period").values)
    unmet = _clean(ds["unmet_h100e_hours"].transpose("workload", "period").values)
    chips = _clean(ds["chips"].transpose("supply", "period").values)
    avail = d["lease_available_chips"].transpose("supply", "period").values.astype(float)
    lease_price = d["lease_price_usd_per_chip_hour"].transpose("supply", "period").values.astype(float)
    use_price = d["contract_use_price_usd_per_chip_hour"].transpose("supply", "period").values.astype(float)

    # capacity (chips) of each option: in service (own), contracted (contract), rentable (lease)
    cap_chips = np.where(np.array([kind[s] == "lease" for s in supply])[:, None], np.maximum(avail, 0.0), chips)
    # share of each option's capacity allotted to each workload: the plan's use, else by demand
    used = x.sum(axis=1)  # (S, P)
    share = np.zeros_like(x)
    for i in range(len(supply)):
        el = eligible[i].astype(float)[:, None] * (eff[i] > 0)  # (W, P)
        weight = el * np.where(demand.sum(axis=0) > 0, demand, 1.0)
        wsum = weight.sum(axis=0)
        by_demand = np.divide(weight, wsum, out=np.zeros_like(weight), where=wsum > 0)
        by_use = np.divide(x[i], used[i], out=np.zeros_like(x[i]), where=used[i] > 0)
        share[i] = np.where(used[i] > 0, by_use, by_demand)

    # per-chip figures for events: energy (own), fixed contract payments, purchase price
    energy_cost = ds["cost_energy_usd"].transpose("supply", "period").values.astype(float) \
        if "cost_energy_usd" in ds else np.zeros((len(supply), P))
    energy_per_chip = np.divide(energy_cost, chips, out=np.zeros_like(energy_cost), where=chips > 0)
    fixed_pay = d["contract_fixed_payment_usd"].transpose("supply", "period").values.astype(float)
    bought = _clean(ds["chips_bought"].transpose("supply", "period").values)

    # event effects on options: chips of capacity lost (S, P), and cash effects
    loss_chips: dict[str, np.ndarray] = {}
    event_cash: dict[str, dict[str, np.ndarray]] = {}
    event_energy: dict[str, list[tuple[int, np.ndarray]]] = {}
    site_names = [str(s) for s in portfolio.sites.index]
    equity = _deal_equity(portfolio)
    months = portfolio.horizon.months_per_period()
    for ename, e in unc.events.items():
        lost = np.zeros((len(supply), P))
        cost = np.zeros(P)
        eq = np.zeros(P)
        saved: list[tuple[int, np.ndarray]] = []
        if e.kind == "site_delay":
            shift = float(e.delay or 0.0) / months
            for i, s in enumerate(supply):
                if kind[s] == "own" and site_of[s] == e.target:
                    lost[i] = chips[i] - np.minimum(chips[i], _delayed(chips[i], shift))
            saved.append((site_names.index(e.target), (lost * energy_per_chip).sum(axis=0)))
        elif e.kind == "contract_failure":
            c = portfolio.scenario.contracts[e.target]
            if c.kind == "capacity":
                for i, s in enumerate(supply):
                    if contract_of[s] == e.target:
                        lost[i] = cap_chips[i]
                        cost -= fixed_pay[i]
            else:  # a vendor deal: its chips are neither delivered nor paid; its equity is lost
                removed, capex = _undelivered(portfolio, e.target, supply, kind, accel_of, bought, chips)
                lost += removed
                cost -= capex
                for site in set(site_of[s] for s in supply if kind[s] == "own"):
                    rows = [i for i, s in enumerate(supply) if kind[s] == "own" and site_of[s] == site]
                    saved.append((site_names.index(site), (removed[rows] * energy_per_chip[rows]).sum(axis=0)))
                eq -= equity.get(e.target, 0.0)
        else:  # vendor_replaced: equity of the vendor's deals lost, its chips dearer
            for name, row in (portfolio.deals.iterrows() if len(portfolio.deals) else []):
                if row["vendor"] == e.target:
                    eq -= equity.get(str(name), 0.0)
            if e.price_change:
                capex = ds["cost_capex_chips_usd"].transpose("supply", "period").values.astype(float) \
                    if "cost_capex_chips_usd" in ds else np.zeros((len(supply), P))
                vend = np.array([str(v) == e.target for v in ds["supply_vendor"].values])
                cost += float(e.price_change) * capex[vend].sum(axis=0)
        loss_chips[ename] = lost
        event_cash[ename] = {"cost": cost, "equity": eq}
        event_energy[ename] = saved

    # tranches per workload
    workloads: list[WorkloadModel] = []
    rates = _revenue_rates(portfolio, wl)
    for j, w in enumerate(wl):
        raw: dict[tuple, Tranche] = {}
        for i, s in enumerate(supply):
            if not eligible[i, j]:
                continue
            k = kind[s]
            with np.errstate(invalid="ignore"):
                cap = np.where(share[i, j] > 0, share[i, j] * cap_chips[i] * eff[i, j], 0.0)
            if not (cap > 0).any():
                continue
            e_ij = eff[i, j]
            if k == "lease":
                price = np.divide(lease_price[i] * hours, e_ij, out=np.zeros(P), where=e_ij > 0)
            elif k == "contract":
                price = np.divide(use_price[i] * hours, e_ij, out=np.zeros(P), where=e_ij > 0)
            else:
                price = np.zeros(P)
            pd_ = tuple(sorted(price_of.get(s, []))) if k != "own" and price.any() else ()
            committed = k != "lease"
            losses = {en: np.where(cap > 0, share[i, j] * lc[i] * e_ij, 0.0) for en, lc in loss_chips.items()
                      if lc[i].any()}
            # options merge into one tranche when price and price drivers agree (events add their losses)
            key = (committed, tuple(np.round(price, 9)), pd_)
            t = Tranche([s], cap, np.minimum(delivered[i, j], cap), price, committed, pd_, losses)
            if key in raw:
                old = raw[key]
                old.options.append(s)
                old.cap = old.cap + t.cap
                old.use = old.use + t.use
                for en, v in t.losses.items():
                    old.losses[en] = old.losses.get(en, 0.0) + v
            else:
                raw[key] = t
        order = sorted(raw.values(), key=lambda t: (not t.committed or float(t.price.mean()) > 0,
                                                    float(np.nanmean(t.price))))
        workloads.append(WorkloadModel(w, demand[j], unmet[j], float(rates[j]), order,
                                       drivers_for("demand", w), drivers_for("revenue", w)))
    energy = []
    for s in site_names:
        rows = [i for i, o in enumerate(supply) if kind[o] == "own" and site_of[o] == s]
        energy.append((energy_cost[rows].sum(axis=0) if rows else np.zeros(P), drivers_for("energy_price", s)))
    other = []
    from gigawatt.series import resolve

    problems: list = []
    for name, spec in portfolio.scenario.finance.other_costs.items():
        other.append((resolve(spec, portfolio.horizon, path=f"finance.other_costs.{name}", location=None,
                              problems=problems), drivers_for("other_costs", name)))
    model = RiskModel(
        periods=periods, years=years, year_index=year_index,
        discount_factor=ds["discount_factor"].values.astype(float),
        cash_flow=np.asarray(finance["cash_flow_usd"], dtype=float), cash=np.asarray(finance["cash_usd"], dtype=float),
        npc=net_present_cost(plan), workloads=workloads,
        exogenous_revenue=portfolio.data["revenue_usd"].values.astype(float),
        exogenous_revenue_drivers=drivers_for("revenue", "exogenous"),
        energy=energy, other_costs=other, event_cash=event_cash, event_energy=event_energy, sampler=sampler,
        finance_source=source)
    if not (len(years) == P and (year_index == np.arange(P)).all()):
        model.year_starts = np.searchsorted(year_index, np.arange(len(years)))
    model.derived = derive(model)
    model.packed = pack_model(model)
    return model


def _delayed(series: np.ndarray, shift: float) -> np.ndarray:
    """``series`` arriving ``shift`` periods late (fractional shifts interpolate; nothing before the start)."""
    n = len(series)
    k = int(math.floor(shift))
    f = shift - k
    padded = np.concatenate([np.zeros(k + 1), series])
    idx = np.arange(n) + 1  # position of t in padded, minus k
    a = padded[idx]  # t - k
    b = padded[idx - 1]  # t - k - 1
    return (1 - f) * a + f * b


def _undelivered(portfolio, contract: str, supply, kind, accel_of, bought, chips):
    """Chips in service and capex lost per own option when supply deal ``contract`` delivers nothing."""
    deals = portfolio.deals
    P = bought.shape[1]
    removed = np.zeros((len(supply), P))
    capex = np.zeros(P)
    if contract not in deals.index:
        return removed, capex
    row = deals.loc[contract]
    a = row["accelerator"]
    deliveries = np.array([float(row.get(f"chips_{p}", 0.0)) for p in portfolio.horizon.labels])
    rows = [i for i, s in enumerate(supply) if kind[s] == "own" and accel_of[s] == a]
    if not rows:
        return removed, capex
    b = bought[rows]
    total = b.sum(axis=0)
    taken = np.minimum(deliveries, total)
    part = np.divide(b, total, out=np.zeros_like(b), where=total > 0) * taken
    price = float(portfolio.accelerators.at[a, "purchase_price_usd"])
    removed[rows] = np.minimum(np.cumsum(part, axis=1), chips[rows])
    capex = part.sum(axis=0) * price
    return removed, capex


# --- the kernel ---------------------------------------------------------------------------------------------


@dataclass
class _Col:
    """A tranche's arrays as (P, 1) columns, with its merit-order thresholds."""

    x: np.ndarray  # plan use
    s: np.ndarray  # spare capacity
    cap: np.ndarray
    p: np.ndarray  # price per H100e-hour
    E: np.ndarray  # spare of the cheaper tranches (extra use starts when Δ exceeds it)
    C: np.ndarray  # plan unmet + use of the dearer tranches (cuts start when −Δ exceeds it)
    committed: bool
    priced: bool
    group: tuple[str, ...]
    E_zero: bool
    losses: dict[str, np.ndarray]  # event -> (P, 1) capacity lost
    lost_use: dict[str, np.ndarray] = field(default_factory=dict)  # event -> (P, 1) plan use lost (loss − spare)⁺
    lost_spare: dict[str, np.ndarray] = field(default_factory=dict)  # event -> (P, 1) spare lost min(loss, spare)


@dataclass
class _Derived:
    cols: list[list[_Col]]  # per workload
    D: list[np.ndarray]
    u0: list[np.ndarray]
    S: list[np.ndarray]  # total spare per workload
    events_of: list[set[str]]  # events that touch each workload
    U0: np.ndarray
    Dtot: np.ndarray
    CC0: np.ndarray  # committed capacity
    UC0: np.ndarray  # committed use
    group_base: dict[tuple[str, ...], np.ndarray]  # Σ price × plan use per price-driver group


def derive(model: RiskModel) -> _Derived:
    """Columns and merit-order thresholds the kernel uses (computed once per model)."""
    P = model.n_periods
    cols, Ds, u0s, Ss, evs = [], [], [], [], []
    U0, Dtot, CC0, UC0 = (np.zeros((P, 1)) for _ in range(4))
    group_base: dict[tuple[str, ...], np.ndarray] = {}
    for w in model.workloads:
        ts = w.tranches
        xs = [t.use[:, None] for t in ts]
        ss = [t.spare[:, None] for t in ts]
        u0 = w.unmet[:, None]
        wc = []
        E = np.zeros((P, 1))
        for k, t in enumerate(ts):
            A = sum(xs[k + 1:], np.zeros((P, 1)))
            losses = {e: v[:, None] for e, v in t.losses.items()}
            wc.append(_Col(xs[k], ss[k], t.cap[:, None], t.price[:, None], E.copy(), u0 + A, t.committed,
                           bool(t.price.any()), t.price_drivers, not E.any(), losses,
                           {e: np.maximum(v - ss[k], 0.0) for e, v in losses.items()},
                           {e: np.minimum(v, ss[k]) for e, v in losses.items()}))
            E = E + ss[k]
            if t.committed:
                CC0 += t.cap[:, None]
                UC0 += xs[k]
            if t.price.any() and t.price_drivers:
                group_base[t.price_drivers] = group_base.get(t.price_drivers, 0.0) + t.price[:, None] * xs[k]
        cols.append(wc)
        Ds.append(w.demand[:, None])
        u0s.append(u0)
        Ss.append(E)
        evs.append({e for t in ts for e in t.losses})
        U0 += u0
        Dtot += w.demand[:, None]
    return _Derived(cols, Ds, u0s, Ss, evs, U0, Dtot, CC0, UC0, group_base)


@dataclass
class ChunkResult:
    start: int
    n: int
    cash: np.ndarray  # (P, n)
    cash_flow: np.ndarray
    unmet_fraction: np.ndarray
    stranded_fraction: np.ndarray
    npc: np.ndarray  # (n,)
    funding_gap: np.ndarray  # (n,)
    below_zero: np.ndarray  # (Y,) draws with cash < 0 in some period of the year
    below_zero_by: np.ndarray  # (Y,) draws with cash < 0 in some period up to the year's end
    block_sums: dict[int, tuple[float, float]]  # block -> (Σ npc, Σ gap)


class _Work:
    """Reusable buffers for one thread: a chunk's arrays come from here and go back after the chunk, so
    their memory stays mapped (fresh arrays cost page faults, which doubled the time of a chunk)."""

    def __init__(self):
        self.free: dict[tuple, list[np.ndarray]] = {}
        self.used: list[np.ndarray] = []
        self.scratch: tuple | None = None  # (packed model, the kernel's scratch buffers for it)

    def new(self, shape: tuple, dtype=float) -> np.ndarray:
        key = (tuple(shape), np.dtype(dtype).str)
        stack = self.free.get(key)
        a = stack.pop() if stack else np.empty(shape, dtype=dtype)
        self.used.append(a)
        return a

    def release(self) -> None:
        for a in self.used:
            self.free.setdefault((a.shape, a.dtype.str), []).append(a)
        self.used.clear()


_LOCAL = threading.local()


def _work() -> _Work:
    w = getattr(_LOCAL, "work", None)
    if w is None:
        w = _LOCAL.work = _Work()
    return w


def pack_model(model: RiskModel) -> PackedModel:
    """The model's arrays as :func:`gigawatt.risk.kernel.kernel_block` reads them."""
    der = model.derived if model.derived is not None else derive(model)
    P = model.n_periods
    drivers = [v.name for v in model.sampler.drivers]
    events = [v.name for v in model.sampler.events]
    sets: dict[tuple[str, ...], int] = {}

    def set_of(names: tuple[str, ...]) -> int:
        if not names:
            return -1
        return sets.setdefault(tuple(names), len(sets))

    cols = [c for wc in der.cols for c in wc]
    groups: dict[tuple[str, ...], int] = {}
    for grp in der.group_base:
        groups.setdefault(grp, len(groups))
    for c in cols:
        if c.priced and c.group:
            groups.setdefault(c.group, len(groups))
    loss = np.zeros((len(cols), len(events), P))
    for k, c in enumerate(cols):
        for e, v in c.losses.items():
            loss[k, events.index(e)] = v[:, 0]
    tr_start = np.cumsum([0] + [len(wc) for wc in der.cols]).astype(np.int64)
    W = len(model.workloads)
    hit = np.array([loss[tr_start[j]: tr_start[j + 1]].any(axis=(0, 1)) for j in range(W)],
                   dtype=np.bool_).reshape(W, P)  # an event can take capacity from workload j in period t
    active = np.array([bool(w.demand_drivers) for w in model.workloads], dtype=np.bool_) | hit.any(axis=1)
    n_sites = len(model.energy)
    saved = np.zeros((len(events), n_sites, P))
    for e, items in model.event_energy.items():
        for site_pos, series in items:
            saved[events.index(e), site_pos] += series

    def rows(items, width=P) -> np.ndarray:
        return np.array(items, dtype=float).reshape(-1, width)

    col = lambda attr: rows([getattr(c, attr)[:, 0] for c in cols])  # noqa: E731
    km = PackedModel(
        year_of=np.asarray(model.year_index, dtype=np.int64),
        set_start=np.zeros(1, dtype=np.int64), set_members=np.zeros(0, dtype=np.int64),  # filled below
        dem_set=np.array([set_of(w.demand_drivers) for w in model.workloads], dtype=np.int64),
        rev_set=np.array([set_of(w.revenue_drivers) for w in model.workloads], dtype=np.int64),
        rate=np.array([w.revenue_per_h100e_hour for w in model.workloads], dtype=float),
        active=active, hit=hit,
        demand=rows([D[:, 0] for D in der.D]), unmet=rows([u[:, 0] for u in der.u0]),
        spare=rows([S[:, 0] for S in der.S]), served=rows([(D - u)[:, 0] for D, u in zip(der.D, der.u0)]),
        tr_start=tr_start,
        use=col("x"), free=col("s"), cheaper_spare=col("E"), dearer_use=col("C"), price=col("p"),
        committed=np.array([c.committed for c in cols], dtype=np.bool_),
        priced=np.array([c.priced for c in cols], dtype=np.bool_),
        group=np.array([groups[c.group] if c.priced and c.group else -1 for c in cols], dtype=np.int64),
        loss=loss,
        group_set=np.array([set_of(g) for g in groups], dtype=np.int64),
        group_base=rows([der.group_base[g][:, 0] if g in der.group_base else np.zeros(P) for g in groups]),
        energy=rows([series for series, _ in model.energy]),
        energy_set=np.array([set_of(names) for _, names in model.energy], dtype=np.int64),
        other=rows([series for series, _ in model.other_costs]),
        other_set=np.array([set_of(names) for _, names in model.other_costs], dtype=np.int64),
        exogenous=np.asarray(model.exogenous_revenue, dtype=float),
        exogenous_set=set_of(model.exogenous_revenue_drivers),
        event_cost=rows([model.event_cash[e]["cost"] for e in events]),
        event_equity=rows([model.event_cash[e]["equity"] for e in events]),
        event_saved=saved,
        demand_total=der.Dtot[:, 0].copy(), unmet_total=der.U0[:, 0].copy(),
        committed_cap=der.CC0[:, 0].copy(), committed_use=der.UC0[:, 0].copy(),
        cash_flow=np.asarray(model.cash_flow, dtype=float), cash=np.asarray(model.cash, dtype=float),
        discount=np.asarray(model.discount_factor, dtype=float), npc=float(model.npc))
    members = [drivers.index(n) for names in sets for n in names]
    start = np.cumsum([0] + [len(names) for names in sets]).astype(np.int64)
    return km._replace(set_start=start, set_members=np.array(members, dtype=np.int64))


def warm_up(model: RiskModel) -> float:
    """Compile the kernel and the percentile selection for this thread's use (numba caches the machine
    code on disk, so only the first run after an install compiles: ~15 s; later runs load it in ~0.3 s).
    Returns the seconds it took."""
    from gigawatt.risk.select import order_statistics

    t0 = time.perf_counter()
    if model.packed is None:
        model.packed = pack_model(model)
    km, ps = model.packed, model.sampler.packed
    P, Y = model.n_periods, len(model.years)
    z = np.zeros((max(model.sampler.n_rows, 1), 1))
    kernel_block(km, ps, z, 0, 0, *[np.zeros((P, 1)) for _ in range(4)], np.zeros(1), np.zeros(1),
                 np.zeros(Y, dtype=np.int64), np.zeros(Y, dtype=np.int64), make_scratch(km, ps))
    order_statistics(np.arange(3 * SMALL, dtype=float), [1, 2])
    return time.perf_counter() - t0


OUTPUTS = ("cash_usd", "cash_flow_usd", "unmet_demand_fraction", "stranded_capacity_fraction",
           "net_present_cost_usd", "funding_gap_usd")


def chunk_result(start, n, cash, cash_flow, unmet_fraction, stranded_fraction, npc, gap, below, below_by,
                 paths_out: dict | None) -> ChunkResult:
    """A chunk's outputs with its per-block sums (combined in block order, so totals do not depend on
    chunking), keeping copies of the first SAMPLE_PATHS draws in ``paths_out`` when given."""
    sums = {}
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        sums[(start + b0) // BLOCK] = (float(npc[b0:b1].sum()), float(gap[b0:b1].sum()))
    if paths_out is not None and start < SAMPLE_PATHS:
        k = min(n, SAMPLE_PATHS - start)
        paths_out[start] = (cash[:, :k].copy(), cash_flow[:, :k].copy(), unmet_fraction[:, :k].copy(),
                            stranded_fraction[:, :k].copy(), npc[:k].copy(), gap[:k].copy())
    return ChunkResult(start, n, cash, cash_flow, unmet_fraction, stranded_fraction, npc, gap, below, below_by, sums)


def run_chunk(model: RiskModel, seed: int, start: int, n: int, *, paths_out: dict | None = None,
              targets: dict[str, np.ndarray] | None = None) -> ChunkResult:
    """Evaluate draws [start, start + n) (start a multiple of BLOCK) with the compiled kernel.

    ``targets``: arrays over all draws ((P, N) per period, (N,) per draw; keys :data:`OUTPUTS`) to write
    columns start.. of straight away; else the results go to this thread's workspace, whose arrays stay
    valid until the thread's next chunk (as :func:`simulate` uses them)."""
    P = model.n_periods
    Y = len(model.years)
    W = _work()
    W.release()
    if model.packed is None:
        model.packed = pack_model(model)
    km, ps = model.packed, model.sampler.packed
    if W.scratch is None or W.scratch[0] is not km:  # sized for one model: kept for the model's next chunk
        W.scratch = (km, make_scratch(km, ps))
    scratch = W.scratch[1]
    if targets is None:
        out0 = 0
        arrays = [W.new((P, n)) for _ in range(4)] + [W.new((n,)), W.new((n,))]
    else:
        out0 = start
        arrays = [targets[k] for k in OUTPUTS]
    below = np.zeros(Y, dtype=np.int64)
    below_by = np.zeros(Y, dtype=np.int64)
    for lo, hi, zb in model.sampler._blocks(seed, start, n):
        kernel_block(km, ps, zb, hi - lo, out0 + lo, *arrays, below, below_by, scratch)
    cash, cash_flow, unmet_fraction, stranded_fraction = (a[:, out0: out0 + n] for a in arrays[:4])
    npc, gap = (a[out0: out0 + n] for a in arrays[4:])
    return chunk_result(start, n, cash, cash_flow, unmet_fraction, stranded_fraction, npc, gap, below, below_by,
                        paths_out)


# --- driving the chunks -----------------------------------------------------------------------------------


@dataclass
class RiskResult:
    """Summary statistics of a simulation (percentiles per period, probabilities, VaR/CVaR)."""

    draws: int
    seed: int
    periods: list[str]
    years: list[int]
    percentiles: dict[str, np.ndarray]  # quantity -> (P, 5)
    probability_cash_below_zero: np.ndarray  # (Y,)
    probability_cash_below_zero_by: np.ndarray  # (Y,) cumulative
    funding_gap: dict[str, float]
    net_present_cost: dict[str, float]
    deterministic: dict[str, object]
    paths: pd.DataFrame
    timings: dict[str, float]
    chunk_size: int
    workers: int
    normals_per_draw: int
    finance_source: str

    def to_dict(self) -> dict:
        """The risk.json document (units in key names; periods as labels; years as strings)."""

        def fan(name: str) -> dict:
            arr = self.percentiles[name]
            return {f"p{q}": {p: float(arr[i, j]) for i, p in enumerate(self.periods)}
                    for j, q in enumerate(PERCENTILES)}

        return {
            "risk_version": 1,
            "draws": self.draws,
            "seed": self.seed,
            "periods": self.periods,
            "cash_usd_percentiles": fan("cash_usd"),
            "cash_flow_usd_percentiles": fan("cash_flow_usd"),
            "probability_cash_below_zero": {str(y): float(v) for y, v in
                                            zip(self.years, self.probability_cash_below_zero)},
            "probability_cash_below_zero_by_year": {str(y): float(v) for y, v in
                                                    zip(self.years, self.probability_cash_below_zero_by)},
            "funding_gap_usd": self.funding_gap,
            "net_present_cost_usd": self.net_present_cost,
            "unmet_demand_fraction_percentiles": fan("unmet_demand_fraction"),
            "stranded_capacity_fraction_percentiles": fan("stranded_capacity_fraction"),
            "deterministic": self.deterministic,
            "method": {"chunk_size": self.chunk_size, "block_size": BLOCK, "workers": self.workers,
                       "normals_per_draw": self.normals_per_draw, "percentiles": list(PERCENTILES),
                       "finance_source": self.finance_source, "dispatch": "plan-relative merit order per "
                       "workload; see docs/risk.md"},
            "timings_s": self.timings,
        }


def default_chunk(n_periods: int) -> int:
    """Draws per chunk: whole blocks, about TARGET_CHUNK_VALUES values per (period × draw) array."""
    blocks = max(1, TARGET_CHUNK_VALUES // max(n_periods, 1) // BLOCK)
    return blocks * BLOCK


def simulate(plan, portfolio, *, draws: int | None = None, seed: int | None = None, chunk_size: int | None = None,
             workers: int = 1, progress: Callable[[int], None] | None = None,
             budget: int = DEFAULT_BUDGET_VALUES, model: RiskModel | None = None) -> RiskResult:
    """Monte Carlo over ``plan`` with its commitments fixed.

    Parameters
    ----------
    plan, portfolio
        A solved plan and the portfolio it was solved from (uncertainty in ``portfolio.scenario``).
    draws, seed
        Number of draws and the root seed (default: the scenario's ``uncertainty.draws`` and ``seed``).
    chunk_size
        Draws evaluated at once (rounded up to whole blocks of 4,096); memory ∝ chunk_size × periods.
        Results do not depend on it.
    workers
        Threads evaluating chunks in parallel (numpy releases the GIL). Results do not depend on it.
    progress
        Called with the number of draws finished after each chunk.
    budget
        Values per statistic kept exactly before percentiles switch to a bounded compactor.

    Returns
    -------
    RiskResult
    """
    unc = portfolio.scenario.uncertainty
    draws = int(unc.draws if draws is None else draws)
    seed = int(unc.seed if seed is None else seed)
    if draws < 1:
        raise ValueError("draws must be ≥ 1")
    t0 = time.perf_counter()
    if model is None:
        model = build_model(plan, portfolio)
    t_build = time.perf_counter() - t0
    t_compile = warm_up(model)
    P = model.n_periods
    chunk = default_chunk(P) if chunk_size is None else max(BLOCK, -(-int(chunk_size) // BLOCK) * BLOCK)
    stores = {k: QuantileStore(P, draws, budget=budget) for k in
              ("cash_usd", "cash_flow_usd", "unmet_demand_fraction", "stranded_capacity_fraction")}
    npc_store = QuantileStore(1, draws, budget=budget)
    gap_store = QuantileStore(1, draws, budget=budget)
    Y = len(model.years)
    below = np.zeros(Y, dtype=np.int64)
    below_by = np.zeros(Y, dtype=np.int64)
    sums: dict[int, tuple[float, float]] = {}
    gap_max = 0.0
    paths: dict[int, tuple] = {}
    starts = list(range(0, draws, chunk))

    lock = threading.Lock()
    done = 0

    def consume(r: ChunkResult) -> None:
        nonlocal below, below_by, gap_max, done
        with lock:  # the stores keep draw order; the counters are shared
            stores["cash_usd"].put(r.start, r.cash)
            stores["cash_flow_usd"].put(r.start, r.cash_flow)
            stores["unmet_demand_fraction"].put(r.start, r.unmet_fraction)
            stores["stranded_capacity_fraction"].put(r.start, r.stranded_fraction)
            npc_store.put(r.start, r.npc[None, :])
            gap_store.put(r.start, r.funding_gap[None, :])
            below += r.below_zero
            below_by += r.below_zero_by
            sums.update(r.block_sums)
            gap_max = max(gap_max, float(r.funding_gap.max()))
            done += r.n
            if progress:
                progress(done)

    targets = None
    if all(st.exact for st in [*stores.values(), npc_store, gap_store]):  # the kernel writes into the stores
        targets = {k: stores[k].values for k in stores}
        targets.update(net_present_cost_usd=npc_store.values[0], funding_gap_usd=gap_store.values[0])

    def job(s: int) -> None:
        # run and consume in the same thread: the chunk's arrays live in this thread's workspace
        consume(run_chunk(model, seed, s, min(chunk, draws - s), paths_out=paths, targets=targets))

    t1 = time.perf_counter()
    if workers <= 1 or len(starts) == 1:
        for s in starts:
            job(s)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gigawatt-mc") as pool:
            for fut in [pool.submit(job, s) for s in starts]:
                fut.result()
    t_sim = time.perf_counter() - t1
    qs = [q / 100 for q in PERCENTILES]
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gigawatt-pct") as pool:
            pct = {k: st.quantiles(qs, pool=pool) for k, st in stores.items()}
    else:
        pct = {k: st.quantiles(qs) for k, st in stores.items()}
    npc_mean = math.fsum(sums[b][0] for b in sorted(sums)) / draws
    gap_mean = math.fsum(sums[b][1] for b in sorted(sums)) / draws
    npc_q = npc_store.quantiles([0.5, 0.95])[0]
    npc_cvar = float(npc_store.tail_mean(0.95)[0])
    gap_q = gap_store.quantiles([0.5, 0.95])[0]
    t_stats = time.perf_counter() - t1 - t_sim
    det_gap = max(0.0, -float(model.cash.min()))
    return RiskResult(
        draws=draws, seed=seed, periods=model.periods, years=model.years,
        percentiles=pct,
        probability_cash_below_zero=below / draws, probability_cash_below_zero_by=below_by / draws,
        funding_gap={"mean": gap_mean, "p50": float(gap_q[0]), "p95": float(gap_q[1]), "max": gap_max,
                     "probability_positive": float(below_by[-1] / draws) if Y else 0.0},
        net_present_cost={"mean": npc_mean, "p50": float(npc_q[0]), "var_95": float(npc_q[1]), "cvar_95": npc_cvar,
                          "deterministic": model.npc},
        deterministic={"cash_usd": dict(zip(model.periods, map(float, model.cash))),
                       "cash_flow_usd": dict(zip(model.periods, map(float, model.cash_flow))),
                       "funding_gap_usd": det_gap, "net_present_cost_usd": model.npc},
        paths=_paths_frame(paths, model.periods),
        timings={"build_s": t_build, "compile_s": t_compile, "simulate_s": t_sim, "statistics_s": t_stats,
                 "draw_periods_per_s": draws * P / t_sim if t_sim > 0 else None},
        chunk_size=chunk, workers=workers, normals_per_draw=model.sampler.normals_per_draw,
        finance_source=model.finance_source)


def _paths_frame(paths: dict[int, tuple], periods: list[str]) -> pd.DataFrame:
    """The first SAMPLE_PATHS draws in long form (draw, period, ...): small, and the same whatever N."""
    frames = []
    for start in sorted(paths):
        cash, cf, un, st, npc, gap = paths[start]
        k = cash.shape[1]
        draw = np.repeat(np.arange(start, start + k), len(periods))
        frames.append(pd.DataFrame({
            "draw": draw.astype(np.int64),
            "period": np.tile(np.array(periods, dtype=object), k),
            "cash_usd": cash.T.ravel(), "cash_flow_usd": cf.T.ravel(),
            "unmet_demand_fraction": un.T.ravel(), "stranded_capacity_fraction": st.T.ravel(),
            "net_present_cost_usd": np.repeat(npc, len(periods)), "funding_gap_usd": np.repeat(gap, len(periods)),
        }))
    if not frames:
        return pd.DataFrame(columns=["draw", "period", "cash_usd", "cash_flow_usd", "unmet_demand_fraction",
                                     "stranded_capacity_fraction", "net_present_cost_usd", "funding_gap_usd"])
    return pd.concat(frames, ignore_index=True)


__all__ = ["simulate", "build_model", "run_chunk", "RiskModel", "RiskResult", "base_finance", "net_present_cost",
           "default_chunk", "chunk_result", "PERCENTILES", "pd"]
