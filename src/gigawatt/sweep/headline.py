"""The headline figures of a solved plan: one flat row of a sweep's table.

One rule for both kinds of solved task: a Plan (the cold and update paths) is read into the same
:class:`~gigawatt.optimize.figures.Figures` the fast path reads straight from HiGHS's solution
(:class:`~gigawatt.optimize.figures.Solved`), and :func:`row` makes the row of either."""

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


def plan_figures(plan):
    """A Plan's :class:`~gigawatt.optimize.figures.Figures` (served and flows left out: its finance is
    :func:`gigawatt.risk.baseline.base_finance`, which may read the finance stored with the plan)."""
    from gigawatt.optimize.figures import Figures
    from gigawatt.plan import compute_spending_usd

    ds = plan.ds
    return Figures(periods=plan.periods, objective_usd=plan.objective_usd, spending=compute_spending_usd(ds),
                   flows={}, discount_factor=ds["discount_factor"].values, served=None, workloads=[],
                   power_mw=ds["power_mw"].sum("supply").values,
                   demand_h100e_hours=float(ds["demand_h100e_hours"].sum()),
                   unmet_h100e_hours=float(ds["unmet_h100e_hours"].sum()))


def headline(plan, portfolio) -> dict:
    """Headline figures of a solved plan, flat (one row of the sweep's table): ``plan`` a Plan, or the
    fast path's :class:`~gigawatt.optimize.figures.Solved`."""
    from gigawatt.optimize.figures import Solved
    from gigawatt.risk.baseline import base_finance, figures_finance

    if isinstance(plan, Solved):
        return row(plan.figures, lambda: figures_finance(plan.figures, portfolio))
    return row(plan_figures(plan), lambda: base_finance(plan, portfolio)[0])


def row(f, finance) -> dict:
    """The row of a plan's :class:`~gigawatt.optimize.figures.Figures`; ``finance()`` gives its cash
    position and free cash flow per period (a failure leaves the finance figures out, with a warning)."""
    from gigawatt.plan import COMPUTE_SPENDING, first_positive_year, spending_pv_usd

    periods = f.periods
    # the names of summary.json (docs/glossary.md): the LP objective, and cash compute spending's present value
    out = {"net_present_cost_usd": f.objective_usd,
           "compute_spending_pv_usd": spending_pv_usd(f.spending, f.discount_factor)}
    for name, series in zip(COMPUTE_SPENDING, f.spending):
        out[f"{name}_usd"] = float(series.sum())
    demand = f.demand_h100e_hours
    out["unmet_demand_fraction"] = f.unmet_h100e_hours / demand if demand > 0 else 0.0
    for y, v in _by_year(f.power_mw / 1e3, periods, "last").items():
        out[f"power_gw_{y}"] = v
    try:
        fin = finance()
        cash = fin["cash_usd"]
        out["min_cash_usd"] = float(cash.min())
        out["funding_gap_usd"] = max(0.0, -float(cash.min()))
        for y, v in _by_year(cash, periods, "last").items():
            out[f"cash_usd_{y}"] = v
        if "free_cash_flow_usd" in fin:  # summary.json's rule (plan.first_positive_year)
            out["first_free_cash_flow_positive_year"] = first_positive_year(
                _by_year(fin["free_cash_flow_usd"], periods, "sum"))
    except Exception as exc:  # finance is a headline, not the task: report, keep the solve
        log.warning("finance figures unavailable: %s", exc)
    return out


__all__ = ["headline", "plan_figures", "row"]
