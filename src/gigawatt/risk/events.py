"""What each event of the uncertainty section does to a plan: the chips of capacity it removes per
option and period, and its cash effects (payments and capex not owed, vendor equity lost, energy saved)."""

from __future__ import annotations

import math

import numpy as np

from gigawatt.risk.options import PlanOptions


def event_effects(plan, portfolio, o: PlanOptions):
    """Per event of ``portfolio.scenario.uncertainty``: chips lost (S, P), cash effects {"cost", "equity"}
    (P,), and energy saved per site [(site position, (P,))]."""
    ds = plan.ds
    supply, kind, site_of, contract_of, accel_of = o.supply, o.kind, o.site_of, o.contract_of, o.accel_of
    chips, cap_chips, fixed_pay, bought = o.chips, o.cap_chips, o.fixed_pay, o.bought
    energy_per_chip = o.energy_per_chip
    P = chips.shape[1]
    loss_chips: dict[str, np.ndarray] = {}
    event_cash: dict[str, dict[str, np.ndarray]] = {}
    event_energy: dict[str, list[tuple[int, np.ndarray]]] = {}
    site_names = [str(s) for s in portfolio.sites.index]
    equity = deal_equity(portfolio)
    months = portfolio.horizon.months_per_period()
    for ename, e in portfolio.scenario.uncertainty.events.items():
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
    return loss_chips, event_cash, event_energy


def deal_equity(portfolio) -> dict[str, np.ndarray]:
    """Vendor equity per firm supply deal and period, as finance counts it (equity per GW delivered,
    capped); a deal that is not firm brings none, so an event cannot take away what was never counted."""
    from gigawatt.optimize.cash import vendor_equity_by_deal_usd

    eq = vendor_equity_by_deal_usd(portfolio)
    return {str(name): eq.sel(deal=name).to_numpy().astype(float) for name in eq.indexes["deal"]}


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
