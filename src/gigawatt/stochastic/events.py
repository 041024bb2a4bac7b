"""What each event of the uncertainty section does to a future's portfolio arrays, as ``simulate`` applies it
(risk/events.py), vectorised over the ``future`` dimension (``hit``: 1.0 in the futures it happens in).

- a capacity contract's failure removes its capacity and its take-or-pay payments;
- ``site_delay``: the chips at the site arrive ``delay`` late: ``site_delay_periods`` (site, future), read
  by ``optimize.capacity.define_delayed_capacity`` (chips usable in t are those in service in t − delay);
- a firm supply deal's failure: its chips are neither delivered nor paid and its vendor equity is lost:
  ``deal_lost_chips`` (accelerator, period, future, its deliveries still in service) read by
  ``optimize.capacity.define_deal_loss``, the capex refunded in ``event_cash_usd`` (period, future) and, net
  of salvage and discounted, in ``event_cost_pv_usd`` (future; a negative cost), the equity lost in cash;
- ``vendor_replaced``: its deals' equity lost (cash) and the vendor's chips bought cost ``price_change``
  more: ``purchase_price_factor`` (supply, future), read by ``optimize.objective.cost_coefficients``.

Commitments stay shared: the events change data, never the decisions' dimensions. A supply deal that is
not firm (an option the plan need not take) is not modelled: its failure is returned as a note.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.portfolio import Portfolio


def apply_event(portfolio: Portfolio, d: xr.Dataset, name: str, ev, hit: xr.DataArray):
    """``d`` with event ``name`` applied in the futures ``hit`` marks; (d, None) or (d, a note) when the
    event is not modelled."""
    if ev.kind == "site_delay":
        return _site_delay(portfolio, d, ev, hit), None
    if ev.kind == "vendor_replaced":
        return _vendor_replaced(portfolio, d, ev, hit), None
    if portfolio.scenario.contracts[ev.target].kind == "capacity":
        s = d.indexes["supply"]
        of = portfolio.supply["contract"].reindex(s)
        on = xr.DataArray((of == ev.target).to_numpy(), coords={"supply": s})
        keep = xr.where(on, 1.0 - hit, 1.0)
        for var in ("contract_capacity_chips", "contract_fixed_payment_usd"):
            d[var] = d[var] * keep
        return d, None
    deals = portfolio.deals
    if ev.target not in getattr(deals, "index", ()) or not bool(deals.at[ev.target, "firm"]):
        return d, (f"event {name} (failure of supply deal {ev.target}, not firm) is not modelled in the futures: "
                   "they are drawn with it, but it changes nothing in them")
    return _deal_failure(portfolio, d, ev.target, hit), None


def _site_delay(portfolio: Portfolio, d: xr.Dataset, ev, hit: xr.DataArray) -> xr.Dataset:
    """site_delay_periods[site, f] = delay / months per period where it happens (the longest of several)."""
    sites = d.indexes["site"]
    shift = float(ev.delay or 0.0) / portfolio.horizon.months_per_period()
    on = xr.DataArray(np.asarray(sites == ev.target), coords={"site": sites})
    new = xr.where(on, hit * shift, 0.0).transpose("site", "future")
    d["site_delay_periods"] = np.maximum(d["site_delay_periods"], new) if "site_delay_periods" in d else new
    return d


def _add(d: xr.Dataset, name: str, value: xr.DataArray) -> xr.Dataset:
    d[name] = d[name] + value if name in d else value
    return d


def _equity_of(portfolio: Portfolio, deals: list[str], periods) -> xr.DataArray:
    """Vendor equity of ``deals`` per period (USD), as finance counts it (firm deals only)."""
    from gigawatt.optimize.cash import vendor_equity_by_deal_usd

    eq = vendor_equity_by_deal_usd(portfolio)
    names = [n for n in deals if n in eq.indexes["deal"]]
    total = eq.sel(deal=names).sum("deal") if names else xr.zeros_like(eq.sum("deal"))
    return total.assign_coords(period=periods)


def _deal_failure(portfolio: Portfolio, d: xr.Dataset, deal: str, hit: xr.DataArray) -> xr.Dataset:
    """The deal's chips in service (deliveries of the last useful life) lost, their capex refunded, its
    equity lost."""
    row, periods = portfolio.deals.loc[deal], d.indexes["period"]
    a = row["accelerator"]
    delivered = np.array([float(row.get(f"chips_{p}", 0.0)) for p in portfolio.horizon.labels])
    per_year = 12 / portfolio.horizon.months_per_period()
    life = max(1, int(np.rint(float(portfolio.accelerators.at[a, "useful_life_years"]) * per_year)))
    cum = np.cumsum(delivered)
    in_service = cum - np.concatenate([np.zeros(min(life, len(cum))), cum[:-life]]) if life < len(cum) else cum
    accels = d.indexes["accelerator"]
    on = xr.DataArray(np.asarray(accels == a), coords={"accelerator": accels})
    lost = on * xr.DataArray(in_service, coords={"period": periods}) * hit
    d = _add(d, "deal_lost_chips", lost.transpose("accelerator", "period", "future"))
    price = float(portfolio.accelerators.at[a, "purchase_price_usd"])
    capex = xr.DataArray(delivered * price, coords={"period": periods})
    d = _add(d, "event_cash_usd", (capex - _equity_of(portfolio, [deal], periods)) * hit)
    t = portfolio.horizon.table
    years = float(portfolio.accelerators.at[a, "useful_life_years"])
    salvage = np.clip((t["t_years"].to_numpy() + years - portfolio.horizon.end_years) / years, 0, 1)
    df_end = (1.0 + portfolio.scenario.horizon.discount_rate) ** (-portfolio.horizon.end_years)
    net = (capex * (d["discount_factor"] - xr.DataArray(salvage, coords={"period": periods}) * df_end)).sum("period")
    return _add(d, "event_cost_pv_usd", -net * hit)


def _vendor_replaced(portfolio: Portfolio, d: xr.Dataset, ev, hit: xr.DataArray) -> xr.Dataset:
    """The vendor's deals' equity lost; the vendor's chips bought cost (1 + price_change)."""
    deals = portfolio.deals
    names = [str(n) for n in deals.index[deals["vendor"] == ev.target]] if len(deals) else []
    if names:
        d = _add(d, "event_cash_usd", -_equity_of(portfolio, names, d.indexes["period"]) * hit)
    if ev.price_change:
        s = d.indexes["supply"]
        sup = portfolio.supply.reindex(s)
        on = xr.DataArray(((sup["kind"] == "own") & (sup["vendor"] == ev.target)).to_numpy(), coords={"supply": s})
        factor = xr.where(on, 1.0 + float(ev.price_change) * hit, 1.0).transpose("supply", "future")
        old = d["purchase_price_factor"] if "purchase_price_factor" in d else xr.ones_like(factor)
        d["purchase_price_factor"] = old * factor
    return d


__all__ = ["apply_event"]
