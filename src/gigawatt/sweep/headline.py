"""The headline figures of a solved plan: one flat row of a sweep's table."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def _by_year(values: np.ndarray, periods: list[str], how: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for v, p in zip(values, periods):
        y = str(p)[:4]
        out[y] = float(v) if how == "last" else out.get(y, 0.0) + float(v)
    return out


def headline(plan, portfolio) -> dict:
    """Headline figures of a solved plan, flat (one row of the sweep's table)."""
    from gigawatt.plan import COMPUTE_SPENDING, first_positive_year
    from gigawatt.risk.simulate import base_finance, compute_costs, net_present_cost

    ds = plan.ds
    periods = plan.periods
    costs = compute_costs(plan)
    # the names of summary.json (docs/glossary.md): the LP objective, and cash compute spending's present value
    row = {"net_present_cost_usd": plan.objective_usd, "compute_spending_pv_usd": net_present_cost(plan)}
    for name, series in zip(COMPUTE_SPENDING, costs):
        row[f"{name}_usd"] = float(series.sum())
    demand = float(ds["demand_h100e_hours"].sum())
    row["unmet_demand_fraction"] = float(ds["unmet_h100e_hours"].sum()) / demand if demand > 0 else 0.0
    for y, v in _by_year(ds["power_mw"].sum("supply").values / 1e3, periods, "last").items():
        row[f"power_gw_{y}"] = v
    try:
        fin, _ = base_finance(plan, portfolio)
        cash = fin["cash_usd"]
        row["min_cash_usd"] = float(cash.min())
        row["funding_gap_usd"] = max(0.0, -float(cash.min()))
        for y, v in _by_year(cash, periods, "last").items():
            row[f"cash_usd_{y}"] = v
        if "free_cash_flow_usd" in fin:  # summary.json's rule (plan.first_positive_year)
            row["first_free_cash_flow_positive_year"] = first_positive_year(
                _by_year(fin["free_cash_flow_usd"], periods, "sum"))
    except Exception as exc:  # finance is a headline, not the task: report, keep the solve
        log.warning("finance figures unavailable: %s", exc)
    return row


__all__ = ["headline"]
