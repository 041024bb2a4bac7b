"""Finance inputs per period: revenue outside the plan, other costs and funding received."""

from __future__ import annotations

import numpy as np

from gigawatt.portfolio.context import BuildContext


def build_finance(ctx: BuildContext) -> dict[str, np.ndarray]:
    f = ctx.sc.finance
    other = np.zeros(ctx.horizon.n)
    for name, spec in f.other_costs.items():
        other += ctx.series(spec, "finance", "other_costs", name)
    funding = np.zeros(ctx.horizon.n)
    for name, fund in f.funding.items():
        if fund.period not in ctx.horizon.labels:
            ctx.check_periods([fund.period], "finance", "funding", name, "period")
            continue
        funding[ctx.horizon.position(fund.period)] += fund.amount
    return {"revenue_usd": ctx.series(f.revenue, "finance", "revenue"),
            "other_costs_usd": other, "funding_usd": funding}
