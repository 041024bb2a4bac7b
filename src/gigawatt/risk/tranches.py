"""Each workload's tranches: the capacity of the options allotted to it, grouped by price per H100e-hour
and sorted in merit order (committed and free first, then by price), with what each event takes from them."""

from __future__ import annotations

from typing import Callable

import numpy as np

from gigawatt.risk.model import Tranche, WorkloadModel
from gigawatt.risk.options import PlanOptions
from gigawatt.risk.checks import price_options


def price_drivers(portfolio) -> dict[str, list[str]]:
    """Option -> the uncertainty drivers that scale its price."""
    price_of: dict[str, list[str]] = {}
    for n, d in portfolio.scenario.uncertainty.drivers.items():
        if d.target in ("price", "lease_price", "contract_price"):
            for o in price_options(portfolio, d.target, d.applies_to):
                price_of.setdefault(o, []).append(n)
    return price_of


def workload_models(o: PlanOptions, loss_chips: dict[str, np.ndarray], price_of: dict[str, list[str]],
                    rates: np.ndarray, drivers_for: Callable[[str, str], tuple[str, ...]]) -> list[WorkloadModel]:
    """One :class:`WorkloadModel` per workload of the plan, its tranches in merit order."""
    return [WorkloadModel(w, o.demand[j], o.unmet[j], float(rates[j]), tranches(o, j, loss_chips, price_of),
                          drivers_for("demand", w), drivers_for("revenue", w))
            for j, w in enumerate(o.workloads)]


def tranches(o: PlanOptions, j: int, loss_chips: dict[str, np.ndarray],
             price_of: dict[str, list[str]]) -> list[Tranche]:
    """Workload ``j``'s tranches: options merge into one when price and price drivers agree."""
    supply, kind, eligible, share, cap_chips, eff = o.supply, o.kind, o.eligible, o.share, o.cap_chips, o.eff
    lease_price, use_price, hours, delivered = o.lease_price, o.use_price, o.hours, o.delivered
    P = len(hours)
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
    return sorted(raw.values(), key=lambda t: (not t.committed or float(t.price.mean()) > 0,
                                               float(np.nanmean(t.price))))
