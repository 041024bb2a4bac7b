"""Finance inputs per period: revenue outside the plan, other costs, funding received, and the interest,
repayments and balance of the debt among the funding (docs/finance.md, "Debt")."""

from __future__ import annotations

import numpy as np

from gigawatt.portfolio.context import BuildContext


def debt_schedule(amount: float, rate: float, n_term: int, first: int, years: np.ndarray, repayment: str):
    """Interest, principal repaid and balance at the end of each period of a loan of ``amount`` drawn at
    the start of period ``first``, repaid over ``n_term`` periods (bullet: all in the last; amortising: equal
    parts each period). Interest in t = rate × years[t] × the balance during t (before t's repayment)."""
    n = len(years)
    k = np.arange(n) - first  # periods since the draw
    live = (k >= 0) & (k < n_term)
    if repayment == "amortising":
        repaid = np.where(live, amount / n_term, 0.0)
    else:
        repaid = np.where(k == n_term - 1, amount, 0.0)
    end_balance = np.where(k >= 0, amount - np.cumsum(repaid), 0.0)
    during = np.where(live, end_balance + repaid, 0.0)
    return rate * years * during, repaid, end_balance


def build_finance(ctx: BuildContext) -> dict[str, np.ndarray]:
    f = ctx.sc.finance
    n = ctx.horizon.n
    other = np.zeros(n)
    for name, spec in f.other_costs.items():
        other += ctx.series(spec, "finance", "other_costs", name)
    funding, interest, repaid, balance = (np.zeros(n) for _ in range(4))
    years = ctx.horizon.table["years"].to_numpy(dtype=float)
    per_year = 12 / ctx.horizon.months_per_period()
    for name, fund in f.funding.items():
        if fund.period not in ctx.horizon.labels:
            ctx.check_periods([fund.period], "finance", "funding", name, "period")
            continue
        first = ctx.horizon.position(fund.period)
        funding[first] += fund.amount
        if fund.kind == "debt":
            n_term = max(1, int(round(fund.term * per_year)))
            i, r, b = debt_schedule(fund.amount, fund.interest_rate, n_term, first, years, fund.repayment)
            interest, repaid, balance = interest + i, repaid + r, balance + b
    return {"revenue_usd": ctx.series(f.revenue, "finance", "revenue"), "other_costs_usd": other,
            "funding_usd": funding, "debt_interest_usd": interest, "debt_repaid_usd": repaid,
            "debt_outstanding_usd": balance}
