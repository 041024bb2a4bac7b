"""The kernel's inputs: a :class:`RiskModel`'s tranches as columns with their merit-order thresholds
(:func:`derive`), packed into the flat arrays :func:`gigawatt.risk.kernel.kernel_block` reads
(:func:`pack_model`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gigawatt.risk.kernel import PackedModel
from gigawatt.risk.model import RiskModel


@dataclass
class Column:
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
class Derived:
    cols: list[list[Column]]  # per workload
    D: list[np.ndarray]
    u0: list[np.ndarray]
    S: list[np.ndarray]  # total spare per workload
    events_of: list[set[str]]  # events that touch each workload
    U0: np.ndarray
    Dtot: np.ndarray
    CC0: np.ndarray  # committed capacity
    UC0: np.ndarray  # committed use
    group_base: dict[tuple[str, ...], np.ndarray]  # Σ price × plan use per price-driver group


def derive(model: RiskModel) -> Derived:
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
            wc.append(Column(xs[k], ss[k], t.cap[:, None], t.price[:, None], E.copy(), u0 + A, t.committed,
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
    return Derived(cols, Ds, u0s, Ss, evs, U0, Dtot, CC0, UC0, group_base)


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
