"""The plan's own figures a draw is measured against: its cash flow after financing and cash position, and
the present value of its compute spending (docs/glossary.md)."""

from __future__ import annotations

import numpy as np

from gigawatt.plan import compute_spending_pv_usd, compute_spending_usd


def base_finance(plan, portfolio) -> tuple[dict[str, np.ndarray], str]:
    """The plan's cash flow after financing, cash position and free cash flow (before financing) per period:
    stored with the plan (finance_*; runs of summary schema 1 named the flow ``finance_cash_flow_usd``), else
    from :func:`gigawatt.finance.compute` (the one definition of the plan's cash flow)."""
    ds = plan.ds
    for flow in ("finance_cash_flow_after_financing_usd", "finance_cash_flow_usd"):
        if "finance_cash_usd" in ds and flow in ds:
            out = {"cash_flow_usd": ds[flow].values.astype(float), "cash_usd": ds["finance_cash_usd"].values.astype(float)}
            if "finance_free_cash_flow_usd" in ds:
                out["free_cash_flow_usd"] = ds["finance_free_cash_flow_usd"].values.astype(float)
            return out, "plan.nc (finance)"
    from gigawatt import finance as finance_mod

    fin = finance_mod.compute(plan, portfolio)
    return {"cash_flow_usd": fin["cash_flow_after_financing_usd"].values.astype(float),
            "cash_usd": fin["cash_usd"].values.astype(float),
            "free_cash_flow_usd": fin["free_cash_flow_usd"].values.astype(float)}, "gigawatt.finance.compute"


_EQUITY = _RATE = None  # this process's memos of the vendor equity and revenue rates (optimize.figures.Memo)


def _equity(portfolio) -> np.ndarray:
    from gigawatt.optimize.cash import vendor_equity_by_deal_usd

    return vendor_equity_by_deal_usd(portfolio).sum("deal").values


def _rate(portfolio):
    from gigawatt.optimize.cash import revenue_usd_per_h100e_hour

    return revenue_usd_per_h100e_hour(portfolio).to_series()


def figures_finance(figures, portfolio) -> dict[str, np.ndarray]:
    """:func:`base_finance`'s figures of a plan known by its :class:`~gigawatt.optimize.figures.Figures`
    (a sweep's fast path: no Plan dataset), by the same rules (:func:`gigawatt.finance.cash_lines`); the
    vendor equity is kept between tasks while the deals it reads do not change."""
    from gigawatt import finance as finance_mod
    from gigawatt.optimize.figures import Memo

    global _EQUITY, _RATE
    if _EQUITY is None:
        _EQUITY, _RATE = Memo(_equity), Memo(_rate)
    rate = _RATE(portfolio)
    at = rate.index.get_indexer(figures.workloads)
    if (at < 0).any():
        raise ValueError("the figures' workloads are not the portfolio's")
    f = {**finance_mod.portfolio_flows(portfolio, _EQUITY(portfolio)), **figures.flows,
         "revenue_per_unit_usd": finance_mod.revenue_per_unit(figures.served, rate.to_numpy()[at])}
    fin = finance_mod.cash_lines(f, float(portfolio.scenario.finance.starting_cash))
    return {"cash_flow_usd": fin["cash_flow_after_financing_usd"], "cash_usd": fin["cash_usd"],
            "free_cash_flow_usd": fin["free_cash_flow_usd"]}


def compute_costs(plan) -> np.ndarray:
    """(category, period) cash costs of compute: capex chips, capex sites, lease, contract, energy."""
    return compute_spending_usd(plan.ds)


def net_present_cost(plan) -> float:
    """Present value of the plan's cash spending on compute (capex, leases, contracts, energy), discounted
    with the plan's discount factors; no salvage value and no unmet-demand penalty (unlike the net present
    cost, the LP objective). summary.json's ``compute_spending_pv_usd``."""
    return compute_spending_pv_usd(plan.ds)
