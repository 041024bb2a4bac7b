"""Option values: what keeping each option open is worth against signing it firm, and against not having it.

For a capacity contract that is not firm (an option, paid per chip-hour used), the stochastic program is
re-solved twice over the same futures: with the contract signed **firm** (its take-or-pay share owed in
every future, as a firm contract of the scenario is) and with it **removed** (no capacity). Expected net
present costs (risk-neutral SP) against the hedge's SP give

    value of flexibility  = SP(firm)    − SP   (what keeping it an option saves over signing it firm)
    value of the option   = SP(removed) − SP   (what having it at all saves)

both ≥ 0 when the option's use price is its firm price (docs/stochastic.md). Only options with a
meaningful size are valued — at most :data:`MAX_OPTIONS`, largest first, each at least :data:`MIN_SHARE`
of the largest — since each costs two solves of the extensive form.

Supply (vendor) options — supply deals not firm — are valued the same way (:func:`supply_option_values`):
signed firm, the plan must buy the deal's deliveries (Contract-supply-lower), one re-solve; removed, nothing
changes in the model (a deal that is not firm obliges nothing and adds no chips the plan could not buy
without it: purchases are limited only by the accelerators' purchase_max), so its value as an option is 0
here, and no re-solve is spent on it.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import xarray as xr

from gigawatt.portfolio import Portfolio
from gigawatt.stochastic.extensive import solve_extensive
from gigawatt.stochastic.futures import Futures

MAX_OPTIONS = 5
MIN_SHARE = 0.01


def option_sizes(portfolio: Portfolio) -> pd.Series:
    """Capacity options (contracts not firm) by size: what using all their capacity would cost, USD
    (Σ_t capacity[t] × hours[t] × use price[t]), largest first."""
    c = portfolio.contracts
    names = [n for n in c.index if c.at[n, "kind"] == "capacity" and not bool(c.at[n, "firm"])]
    d = portfolio.data
    sizes = {}
    for n in names:  # a handful of contracts, not a model build
        s = f"contract:{n}"
        if s in d.indexes["supply"]:
            cap = _expected(d["contract_capacity_chips"].sel(supply=s))
            use = _expected(d["contract_use_price_usd_per_chip_hour"].sel(supply=s))
            sizes[n] = float((cap * d["hours"] * use).sum())
    return pd.Series(sizes, dtype=float).sort_values(ascending=False)


def _expected(a):
    return a.mean("future") if "future" in a.dims else a


def valued_options(portfolio: Portfolio) -> pd.Series:
    """The options worth valuing: the largest :data:`MAX_OPTIONS` at least :data:`MIN_SHARE` of the largest."""
    sizes = option_sizes(portfolio)
    if sizes.empty or sizes.iloc[0] <= 0:
        return sizes.iloc[:0]
    return sizes[sizes >= MIN_SHARE * sizes.iloc[0]].iloc[:MAX_OPTIONS]


def signed_firm(portfolio: Portfolio, name: str) -> Portfolio:
    """The portfolio with contract ``name`` signed firm (rebuilt from the scenario, so its take-or-pay
    payments are computed as for any firm contract)."""
    sc = portfolio.scenario
    contracts = {**sc.contracts, name: sc.contracts[name].model_copy(update={"firm": True})}
    return Portfolio.from_scenario(sc.model_copy(update={"contracts": contracts}), portfolio.resolved)


def removed(futures: Futures, name: str) -> Futures:
    """The futures without option ``name``: its capacity is zero in every period and future."""
    d = futures.portfolio.data.copy()
    on = d.indexes["supply"] == f"contract:{name}"
    keep = d["supply"].copy(data=~on)
    d["contract_capacity_chips"] = d["contract_capacity_chips"] * keep
    return replace(futures, portfolio=replace(futures.portfolio, data=d))


def made_firm(futures: Futures, name: str, base_data: xr.Dataset | None = None) -> Futures:
    """The futures with option ``name`` signed firm: its take-or-pay payments, use price and firm flag
    from :func:`signed_firm`, scaled in each future as the futures scale the option (a failure event, a
    contract-price driver) by the ratio of the future's array to the base portfolio's (``base_data``, the
    portfolio before the draws; built here when not given)."""
    firm = signed_firm(futures.portfolio, name)
    s = f"contract:{name}"
    d = futures.portfolio.data.copy()
    b0 = base_data if base_data is not None else base_portfolio_data(futures)
    cap, cap0 = d["contract_capacity_chips"].sel(supply=s), b0["contract_capacity_chips"].sel(supply=s)
    use, use0 = d["contract_use_price_usd_per_chip_hour"].sel(supply=s), b0["contract_use_price_usd_per_chip_hour"].sel(supply=s)
    scale_cap = (cap / cap0).where(cap0 > 0, 1.0)
    scale_use = (use / use0).where(use0 > 0, 1.0)
    fd = firm.data
    for var, new in (("contract_fixed_payment_usd", fd["contract_fixed_payment_usd"].sel(supply=s) * scale_cap),
                     ("contract_use_price_usd_per_chip_hour", fd["contract_use_price_usd_per_chip_hour"].sel(supply=s) * scale_use),
                     ("contract_firm", fd["contract_firm"].sel(supply=s))):
        arr = d[var]
        full = arr.broadcast_like(new) if set(new.dims) - set(arr.dims) else arr.copy()
        full.loc[{"supply": s}] = new.broadcast_like(full.sel(supply=s)).transpose(*full.sel(supply=s).dims)
        d[var] = full
    return replace(futures, portfolio=replace(futures.portfolio, data=d))


def base_portfolio_data(futures: Futures) -> xr.Dataset:
    """The portfolio's arrays before the draws (the futures carry them scaled by each draw)."""
    base = futures.portfolio
    return Portfolio.from_scenario(base.scenario, base.resolved).data


def supply_option_sizes(portfolio: Portfolio) -> pd.Series:
    """Supply options (vendor deals not firm) by size: their chips × the accelerator's purchase price, USD,
    largest first."""
    deals = portfolio.deals
    if deals is None or not len(deals):
        return pd.Series(dtype=float)
    opt = deals[~deals["firm"].astype(bool)]
    chips = opt[[f"chips_{p}" for p in portfolio.horizon.labels]].sum(axis=1)
    price = portfolio.accelerators.loc[opt["accelerator"], "purchase_price_usd"].to_numpy(dtype=float)
    return (chips * price).astype(float).sort_values(ascending=False)


def supply_made_firm(futures: Futures, name: str) -> Futures:
    """The futures with supply option ``name`` signed firm: the cumulative purchases it obliges
    (purchase_min_cumulative_chips from :func:`signed_firm`), the same in every future."""
    firm = signed_firm(futures.portfolio, name).data["purchase_min_cumulative_chips"]
    d = futures.portfolio.data.copy()
    d["purchase_min_cumulative_chips"] = firm.reindex_like(d["purchase_min_cumulative_chips"]).fillna(0.0)
    return replace(futures, portfolio=replace(futures.portfolio, data=d))


def supply_option_values(futures: Futures, sp_usd: float, *, method: str = "auto",
                         threads: int | None = None, cash_risk=None) -> list[dict]:
    """Per valued supply option (the same size rule as capacity options): SP with it signed firm, and the
    two values (module docstring: the option itself is worth 0 in this model)."""
    sizes = supply_option_sizes(futures.portfolio)
    if sizes.empty or sizes.iloc[0] <= 0:
        return []
    rows = []
    for name, size in sizes[sizes >= MIN_SHARE * sizes.iloc[0]].iloc[:MAX_OPTIONS].items():  # ≤ MAX_OPTIONS solves
        if name in failure_targets(futures.portfolio):  # its failure, not modelled while not firm, would be once firm
            continue
        sp_firm = solve_extensive(supply_made_firm(futures, name), method=method, threads=threads,
                                  cash_risk=cash_risk).expected_usd
        rows.append({"contract": name, "kind": "supply", "size_usd": float(size), "sp_firm_usd": sp_firm,
                     "sp_removed_usd": sp_usd, "value_of_flexibility_usd": sp_firm - sp_usd,
                     "value_of_option_usd": 0.0})
    return rows


def failure_targets(portfolio: Portfolio) -> set[str]:
    """Contracts and deals a contract_failure event of the uncertainty section hits."""
    return {ev.target for ev in portfolio.scenario.uncertainty.events.values() if ev.kind == "contract_failure"}


def option_values(futures: Futures, sp_usd: float, *, method: str = "auto",
                  threads: int | None = None, cash_risk=None) -> list[dict]:
    """Per valued option: its size, SP with it firm and without it, and the two values (module docstring)."""
    rows = []
    b0 = base_portfolio_data(futures)  # built once, not once per option
    for name, size in valued_options(futures.portfolio).items():  # at most MAX_OPTIONS re-solves
        sp_firm = solve_extensive(made_firm(futures, name, b0), method=method, threads=threads,
                                  cash_risk=cash_risk).expected_usd
        sp_removed = solve_extensive(removed(futures, name), method=method, threads=threads,
                                     cash_risk=cash_risk).expected_usd
        rows.append({"contract": name, "kind": "capacity", "size_usd": size, "sp_firm_usd": sp_firm, "sp_removed_usd": sp_removed,
                     "value_of_flexibility_usd": sp_firm - sp_usd, "value_of_option_usd": sp_removed - sp_usd})
    return rows


__all__ = ["MAX_OPTIONS", "MIN_SHARE", "made_firm", "option_sizes", "option_values", "removed", "signed_firm",
           "supply_made_firm", "supply_option_sizes", "supply_option_values", "valued_options"]
