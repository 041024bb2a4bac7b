"""P&L and cash flow of a solved Plan (docs/finance.md has every line, its formula and sign).

All money is nominal USD per period (flows) or at the end of a period (stocks: cash, book value).
Inflows are positive, outflows are positive amounts subtracted. The names of money over time are those of
docs/glossary.md: free cash flow (cash flow before financing), financing, cash flow after financing,
cumulative free cash flow and the cash position (``cash_usd``).
NaN in an input stays NaN in every figure that depends on it; it is never read as zero.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.optimize.cash import fixed_cash_flow_usd, revenue_usd_per_h100e_hour, vendor_equity_by_deal_usd
from gigawatt.plan import Plan
from gigawatt.portfolio import Portfolio

WORKLOAD_KINDS = ("training", "inference", "research")

# (description, kind): kind "flow" is per period (summed into years), "stock" is at the period's end
LINES: dict[str, tuple[str, str]] = {
    "revenue_exogenous_usd": ("revenue given as a series (finance.revenue)", "flow"),
    "revenue_per_unit_usd": ("Σ_w revenue_per_h100_hour × H100-hours served", "flow"),
    "revenue_usd": ("revenue: exogenous + per unit served", "flow"),
    "lease_usd": ("on-demand rentals paid", "flow"),
    "contract_take_or_pay_usd": ("take-or-pay payments of firm capacity contracts, used or not", "flow"),
    "contract_use_usd": ("capacity contracts paid per chip-hour used (non take-or-pay share, options)", "flow"),
    "contract_usd": ("capacity contracts: take-or-pay + use", "flow"),
    "energy_usd": ("electricity of owned chips in service (the lab's share at joint-venture sites)", "flow"),
    "offtake_usd": ("joint-venture sites: the partners' share of the JV's offtake price for chips in service",
                    "flow"),
    "other_costs_usd": ("non-compute costs (finance.other_costs)", "flow"),
    "ebitda_usd": ("revenue − lease − contracts − energy − offtake − other costs", "flow"),
    "depreciation_chips_usd": ("straight line over each chip's useful life", "flow"),
    "depreciation_sites_usd": ("straight line over each site's facility_life", "flow"),
    "depreciation_usd": ("chips + sites", "flow"),
    "operating_income_usd": ("EBITDA − depreciation", "flow"),
    "debt_interest_usd": ("interest paid on debt among the funding (finance.funding, kind debt)", "flow"),
    "income_before_tax_usd": ("operating income − interest", "flow"),
    "compute_cost_usd": ("P&L compute cost: lease + contracts + energy + offtake + depreciation", "flow"),
    "compute_cost_training_usd": ("compute cost allocated to training workloads", "flow"),
    "compute_cost_inference_usd": ("compute cost allocated to inference workloads", "flow"),
    "compute_cost_research_usd": ("compute cost allocated to research workloads", "flow"),
    "compute_cost_idle_usd": ("compute cost of capacity serving no workload", "flow"),
    "capex_chips_usd": ("chips bought, paid when installed", "flow"),
    "capex_sites_usd": ("facility power built, paid when energised", "flow"),
    "capex_usd": ("chips + sites (the lab's share)", "flow"),
    "capex_partners_usd": ("joint-venture partners' share of chips and sites bought at JV sites (not the lab's cash)",
                           "flow"),
    "capex_sites_total_usd": ("all capex at the lab's and JV sites, whoever pays: lab's + partners'", "flow"),
    "free_cash_flow_usd": ("cash flow before financing (free cash flow): EBITDA − capex", "flow"),
    "funding_usd": ("funding rounds and debt drawn (finance.funding)", "flow"),
    "debt_repaid_usd": ("principal of debt repaid", "flow"),
    "vendor_equity_usd": ("vendor equity per GW deployed under firm supply deals", "flow"),
    "financing_usd": ("financing: funding + vendor equity − interest − principal repaid", "flow"),
    "inflows_usd": ("revenue + funding + vendor equity", "flow"),
    "outflows_usd": ("capex + lease + contracts + energy + offtake + other costs + interest + principal repaid",
                     "flow"),
    "cash_flow_after_financing_usd": ("inflows − outflows (= free cash flow + financing)", "flow"),
    "cumulative_free_cash_flow_usd": ("Σ free cash flow up to and including the period", "stock"),
    "cash_usd": ("cash position: starting cash + Σ cash flow after financing, at the period's end", "stock"),
    "net_book_value_usd": ("Σ capex − Σ depreciation, at the period's end", "stock"),
    "debt_outstanding_usd": ("debt principal not yet repaid, at the period's end", "stock"),
}


def npv(values, *, discount_rate: float, t_years) -> float:
    """Present value at t = 0 of amounts received at ``t_years`` (years from the start), discounted at
    ``discount_rate`` per year: Σ v_i (1 + r)^−t_i. NaN in ``values`` gives NaN."""
    v = np.asarray(values, dtype=float)
    t = np.asarray(t_years, dtype=float)
    return float(np.sum(v * (1.0 + discount_rate) ** (-t)))


def straight_line(outlay: xr.DataArray, *, life_periods: xr.DataArray) -> xr.DataArray:
    """Depreciation per period of ``outlay`` (dims include ``period``): each period's outlay is spread evenly
    over the ``life_periods`` periods from the one it is paid in. Sums to the outlay once the life ends."""
    dep = outlay.cumsum("period", skipna=False)
    for lag in np.unique(life_periods.values):  # a few distinct lives, not a loop over assets
        past = outlay.shift(period=int(lag)).fillna(0.0).cumsum("period", skipna=False)
        dep = dep - past.where(life_periods == lag, 0.0)
    return dep / life_periods


def _life_periods(years: np.ndarray, portfolio: Portfolio, coords: dict) -> xr.DataArray:
    per_year = 12 / portfolio.horizon.months_per_period()
    return xr.DataArray(np.maximum(1, np.rint(np.asarray(years, dtype=float) * per_year)).astype(int), coords=coords)


def _total(ds: xr.Dataset, name: str, zero: xr.DataArray) -> xr.DataArray:
    """A plan cost summed over everything but period (0 when the plan has no such cost: no such assets)."""
    if name not in ds:
        return zero
    v = ds[name]
    return v.sum([d for d in v.dims if d != "period"], skipna=False)


# The plan's own flows per period that the cash lines read, by their line names (USD): the sums of the
# plan's cost_<category>_usd arrays (plan.COMPUTE_SPENDING) and the revenue per unit served
PLAN_FLOWS = ("lease_usd", "contract_usd", "energy_usd", "offtake_usd", "capex_chips_usd", "capex_sites_usd")


def portfolio_flows(portfolio: Portfolio, vendor_equity: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The flows per period no plan changes (USD, numpy, the horizon's periods): exogenous revenue, other
    costs, take-or-pay payments, funding, vendor equity (``vendor_equity`` if given: the sum over deals of
    :func:`~gigawatt.optimize.cash.vendor_equity_by_deal_usd`), debt interest, principal repaid and
    outstanding."""
    d = portfolio.data
    zeros = np.zeros(d.sizes["period"])
    if vendor_equity is None:
        vendor_equity = vendor_equity_by_deal_usd(portfolio).sum("deal").values
    fixed = d.variables["contract_fixed_payment_usd"] if d.sizes.get("supply", 0) else None
    out = {"revenue_exogenous_usd": d.variables["revenue_usd"].values,
           "other_costs_usd": d.variables["other_costs_usd"].values,
           "contract_take_or_pay_usd": fixed.values.sum(axis=fixed.dims.index("supply")) if fixed is not None
           else zeros, "funding_usd": d.variables["funding_usd"].values, "vendor_equity_usd": vendor_equity}
    for k in ("debt_interest_usd", "debt_repaid_usd", "debt_outstanding_usd"):
        out[k] = d.variables[k].values if k in d.variables else zeros
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def revenue_per_unit(served: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Σ_w rate[w] × served[w, t] (USD per period): ``served`` (workload, period) H100e-hours, ``rate``
    (workload,) USD per H100e-hour (:func:`gigawatt.optimize.cash.revenue_usd_per_h100e_hour`)."""
    return (served * rate[:, None]).sum(axis=0)


def cash_lines(f: dict[str, np.ndarray], start: float) -> dict[str, np.ndarray]:
    """The lines of :data:`LINES` that follow from the flows per period alone (numpy; docs/finance.md):
    revenue, contract use, EBITDA, capex, financing, free cash flow, inflows, outflows, cash flow after
    financing, cumulative free cash flow and the cash position, with the flows themselves. ``f``: the
    plan's flows (:data:`PLAN_FLOWS`, ``revenue_per_unit_usd``) and :func:`portfolio_flows`. The one
    definition of the cash position: :func:`compute` and a sweep's row (risk/baseline.py) both use it."""
    o = dict(f)
    o["revenue_usd"] = f["revenue_exogenous_usd"] + f["revenue_per_unit_usd"]
    o["contract_use_usd"] = f["contract_usd"] - f["contract_take_or_pay_usd"]
    o["ebitda_usd"] = (o["revenue_usd"] - f["lease_usd"] - f["contract_usd"] - f["energy_usd"] - f["offtake_usd"]
                       - f["other_costs_usd"])
    o["capex_usd"] = f["capex_chips_usd"] + f["capex_sites_usd"]
    o["financing_usd"] = f["funding_usd"] + f["vendor_equity_usd"] - f["debt_interest_usd"] - f["debt_repaid_usd"]
    o["free_cash_flow_usd"] = o["ebitda_usd"] - o["capex_usd"]
    o["inflows_usd"] = o["revenue_usd"] + f["funding_usd"] + f["vendor_equity_usd"]
    o["outflows_usd"] = (o["capex_usd"] + f["lease_usd"] + f["contract_usd"] + f["energy_usd"] + f["offtake_usd"]
                         + f["other_costs_usd"] + f["debt_interest_usd"] + f["debt_repaid_usd"])
    o["cash_flow_after_financing_usd"] = o["inflows_usd"] - o["outflows_usd"]
    o["cumulative_free_cash_flow_usd"] = np.cumsum(o["free_cash_flow_usd"])
    o["cash_usd"] = start + np.cumsum(o["cash_flow_after_financing_usd"])
    return o


def compute(plan: Plan, portfolio: Portfolio) -> xr.Dataset:
    """P&L, cash flow and cash per period of ``plan``, solved from ``portfolio``.

    Returns
    -------
    xr.Dataset
        Dim ``period``: every line of :data:`LINES` (USD); dims (period, workload):
        ``revenue_by_workload_usd`` and ``compute_cost_by_workload_usd``. Attrs: ``starting_cash_usd``,
        ``min_cash_usd``, ``min_cash_period``, ``min_cash_year``, ``funding_gap_usd`` (= max(0, −min cash)),
        ``net_present_cash_flow_usd`` (at the scenario's discount rate, mid-period), and
        ``cash_floor_usd`` where the policy sets one.
    """
    ds = plan.ds
    periods = ds["period"]
    out = xr.Dataset(coords={"period": periods.values, "workload": ds["workload"].values})
    zero = xr.DataArray(np.zeros(ds.sizes["period"]), coords={"period": periods.values})
    per_period = functools.partial(_per_period, periods=periods)
    flows = {**portfolio_flows(portfolio), **_revenue(out, ds, portfolio, per_period)}
    for name in PLAN_FLOWS:
        flows[name] = _total(ds, f"cost_{name}", zero).values
    start = float(portfolio.scenario.finance.starting_cash)
    for name, v in cash_lines(flows, start).items():
        out[name] = ("period", v)
    _capex_and_depreciation(out, ds, portfolio, zero, per_period)
    _compute_cost(out, ds, portfolio, per_period)

    for name, (text, kind) in LINES.items():
        out[name].attrs.update({"units": "USD", "kind": kind, "description": text})
    for name, text in (("revenue_by_workload_usd", "revenue per unit served, by workload"),
                       ("compute_cost_by_workload_usd", "compute cost allocated to each workload")):
        out[name].attrs.update({"units": "USD", "kind": "flow", "description": text})
    out = out[list(LINES) + ["revenue_by_workload_usd", "compute_cost_by_workload_usd"]]
    out.attrs.update(_headline(out, portfolio, start))
    return out


def _per_period(a: xr.DataArray, periods: xr.DataArray) -> xr.DataArray:
    return a.assign_coords(period=periods.values)


def _revenue(out: xr.Dataset, ds: xr.Dataset, portfolio: Portfolio, per_period) -> dict:
    """Revenue per workload served (at the planner's rates) into ``out``; its sum per period."""
    served = per_period(ds["delivered_h100e_hours"].sum("supply", skipna=False)).transpose("workload", "period")
    rate = revenue_usd_per_h100e_hour(portfolio).sel(workload=ds["workload"].values)
    out["revenue_by_workload_usd"] = (served * rate).transpose("period", "workload")
    return {"revenue_per_unit_usd": revenue_per_unit(served.values, rate.values)}


def _capex_and_depreciation(out: xr.Dataset, ds: xr.Dataset, portfolio: Portfolio, zero: xr.DataArray,
                            per_period) -> None:
    """Partners' capex; straight-line depreciation of chips and sites over their lives, operating income,
    income before tax and net book value."""
    out["capex_partners_usd"] = per_period(_total(ds, "cost_capex_chips_partners_usd", zero)
                                           + _total(ds, "cost_capex_sites_partners_usd", zero))
    out["capex_sites_total_usd"] = out["capex_usd"] + out["capex_partners_usd"]
    out["depreciation_chips_usd"] = zero
    if "cost_capex_chips_usd" in ds and ds.sizes["supply"]:
        supply = ds["supply"].values
        accel = portfolio.supply.loc[supply, "accelerator"].to_numpy()
        life = portfolio.accelerators["useful_life_years"].reindex(accel).to_numpy(dtype=float)
        own = portfolio.supply.loc[supply, "kind"].to_numpy() == "own"
        capex = ds["cost_capex_chips_usd"].sel(supply=supply[own])
        lp = _life_periods(life[own], portfolio, {"supply": supply[own]})
        out["depreciation_chips_usd"] = per_period(straight_line(capex, life_periods=lp).sum("supply", skipna=False))
    out["depreciation_sites_usd"] = zero
    if "cost_capex_sites_usd" in ds and ds.sizes["site"]:
        sites = ds["site"].values
        lp = _life_periods(portfolio.sites.loc[sites, "facility_life_years"].to_numpy(), portfolio, {"site": sites})
        dep = straight_line(ds["cost_capex_sites_usd"], life_periods=lp)
        out["depreciation_sites_usd"] = per_period(dep.sum("site", skipna=False))
    out["depreciation_usd"] = out["depreciation_chips_usd"] + out["depreciation_sites_usd"]
    out["operating_income_usd"] = out["ebitda_usd"] - out["depreciation_usd"]
    out["income_before_tax_usd"] = out["operating_income_usd"] - out["debt_interest_usd"]
    out["net_book_value_usd"] = (out["capex_usd"] - out["depreciation_usd"]).cumsum("period", skipna=False)


def _compute_cost(out: xr.Dataset, ds: xr.Dataset, portfolio: Portfolio, per_period) -> None:
    """Compute cost in the P&L, split by workload (the plan's allocation by chips serving each)."""
    out["compute_cost_usd"] = (out["lease_usd"] + out["contract_usd"] + out["energy_usd"] + out["offtake_usd"]
                               + out["depreciation_usd"])
    by_w = per_period(ds["cost_by_workload_usd"]).transpose("period", "workload")
    out["compute_cost_by_workload_usd"] = by_w
    kinds = xr.DataArray(portfolio.workloads.loc[ds["workload"].values, "kind"].to_numpy(),
                         coords={"workload": ds["workload"].values})
    for k in WORKLOAD_KINDS:
        out[f"compute_cost_{k}_usd"] = by_w.where(kinds == k, 0.0).sum("workload", skipna=False)
    # what no workload used: idle capacity and the sites' depreciation (a site serves every workload)
    out["compute_cost_idle_usd"] = per_period(ds["cost_idle_usd"]) + out["depreciation_sites_usd"]


def _headline(out: xr.Dataset, portfolio: Portfolio, start: float) -> dict:
    cash = out["cash_usd"].to_series()
    attrs = {"starting_cash_usd": start, "discount_rate": float(portfolio.scenario.horizon.discount_rate)}
    if cash.isna().any():  # an input was NaN: say nothing rather than something wrong
        attrs.update(min_cash_usd=np.nan, funding_gap_usd=np.nan, net_present_cash_flow_usd=np.nan)
    else:
        at = cash.idxmin()
        attrs.update(min_cash_usd=float(cash.min()), min_cash_period=str(at), min_cash_year=int(str(at)[:4]),
                     funding_gap_usd=max(0.0, -float(cash.min())))
        table = portfolio.horizon.table
        flow = out["cash_flow_after_financing_usd"].values
        attrs["net_present_cash_flow_usd"] = npv(flow, discount_rate=attrs["discount_rate"],
                                                 t_years=(table["t_years"] + table["years"] / 2).to_numpy())
    floor = portfolio.scenario.policy.cash_floor
    if floor is not None:
        attrs["cash_floor_usd"] = float(floor)
    return attrs


def commitments(portfolio: Portfolio) -> pd.DataFrame:
    """Every contract's committed value (USD), one row per contract: kind, firm, value_usd and basis.

    Capacity contracts: ``value`` when given; else price per chip-hour × chips at full ramp × the term's
    hours, each period's ramp inside the horizon and the last ramp level past it. Supply deals: ``value``
    when given; else chips delivered over the term × the accelerator's purchase price (NaN where the price
    is unknown). Vendor equity and warrants are financing, not commitments, and are not counted."""
    sc = portfolio.scenario
    rows = []
    for name, c in sc.contracts.items():
        if c.value is not None:
            value, basis = float(c.value), "value"
        elif c.kind == "supply":
            deal = portfolio.deals.loc[name] if len(portfolio.deals) and name in portfolio.deals.index else None
            price = float(portfolio.accelerators.at[c.accelerator, "purchase_price_usd"]) \
                if c.accelerator in portfolio.accelerators.index else np.nan
            chips = float(deal["chips_total"]) if deal is not None else np.nan
            value, basis = chips * price, "chips × purchase price"
        else:
            value, basis = _capacity_value(portfolio, name, c), "price × chips × term hours"
        rows.append({"contract": name, "counterparty": c.counterparty, "kind": c.kind, "firm": bool(c.firm),
                     "value_usd": value, "basis": basis})
    return pd.DataFrame(rows, columns=["contract", "counterparty", "kind", "firm", "value_usd", "basis"]
                        ).set_index("contract")


def _capacity_value(portfolio: Portfolio, name: str, c) -> float:
    """Payments over the whole term of a capacity contract without a value (USD)."""
    from gigawatt.periods import label_start
    from gigawatt.portfolio import term_end

    supply = f"contract:{name}"
    if supply not in portfolio.supply.index:
        return np.nan
    accel = portfolio.accelerators.loc[c.accelerator]
    price = c.price if c.price is not None else float(accel["committed_price_usd_per_chip_hour"])
    d = portfolio.data
    cap = d["contract_capacity_chips"].sel(supply=supply).values
    hours = d["hours"].values
    inside = float((cap * hours).sum()) * price
    full = c.chips if c.chips else c.power * 1e3 / float(accel["all_in_power_kw"])
    table = portfolio.horizon.table
    horizon_end = table["start"].iloc[-1] + pd.DateOffset(months=portfolio.horizon.months_per_period())
    t0 = label_start(c.start)
    end = term_end(t0, c.term)
    beyond_h = max(0.0, (end - max(horizon_end, t0)) / pd.Timedelta(hours=1))
    level = 1.0
    if c.ramp != "flat":
        in_term = [p for p in portfolio.horizon.labels if p in c.ramp]
        level = float(c.ramp[in_term[-1]]) if in_term else 1.0
    return inside + full * level * beyond_h * price


def commitments_usd_total(portfolio: Portfolio, *, include_options: bool = False) -> float:
    """Total committed value of the firm contracts (USD), as :func:`commitments` values them; with
    ``include_options`` the contracts that are not firm too. NaN if any counted value is unknown."""
    table = commitments(portfolio)
    if not include_options:
        table = table[table["firm"].astype(bool)]
    return float(table["value_usd"].sum(skipna=False))


__all__ = ["compute", "cash_lines", "portfolio_flows", "revenue_per_unit", "PLAN_FLOWS", "commitments",
           "commitments_usd_total", "npv", "straight_line", "fixed_cash_flow_usd",
           "vendor_equity_by_deal_usd", "LINES"]
