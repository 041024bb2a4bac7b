"""Debt among the funding (issue 13, item 12): drawn in its period, interest on the balance, principal
repaid bullet or amortising; interest in the P&L, both in financing, the cash floor counts them."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import solve_text
from gigawatt import finance
from gigawatt.portfolio.finance import debt_schedule

M = 1e6
BODY = """
    providers:
      cloud: {kind: cloud, offers: {h100: {on_demand_price: 2 USD/h}}}
    workloads:
      train: {kind: training, demand: 8760000 H100_hours}
    finance:
      starting_cash: 100 million USD
      funding:
        loan: {period: 2025, amount: 30 million USD, kind: debt, interest_rate: 10%, term: 2 years,
               repayment: REPAY}
"""


@pytest.mark.parametrize("repay, interest, repaid", [
    ("bullet", [3 * M, 3 * M, 0], [0, 30 * M, 0]),
    ("amortising", [3 * M, 1.5 * M, 0], [15 * M, 15 * M, 0])])
def test_debt_in_finance_by_hand(tmp_path, repay, interest, repaid):
    plan = solve_text(tmp_path, BODY.replace("REPAY", repay), end=2027)
    fin = finance.compute(plan, plan.portfolio)
    assert fin["funding_usd"].values == pytest.approx([30 * M, 0, 0])
    assert fin["debt_interest_usd"].values == pytest.approx(interest)
    assert fin["debt_repaid_usd"].values == pytest.approx(repaid)
    assert fin["debt_outstanding_usd"].values == pytest.approx(30 * M - np.cumsum(repaid))
    assert fin["income_before_tax_usd"].values == pytest.approx(fin["operating_income_usd"].values - interest)
    assert fin["financing_usd"].values == pytest.approx(np.array([30 * M, 0, 0]) - interest - np.array(repaid))
    cash = fin["cash_usd"].values
    assert cash == pytest.approx(100 * M + np.cumsum(fin["free_cash_flow_usd"].values + fin["financing_usd"].values))


def test_cash_floor_counts_debt_service(tmp_path):
    """The planner's cash (Cash-level) equals finance's cash, debt service included."""
    body = BODY.replace("REPAY", "bullet").replace("finance:", "policy: {cash_floor: 0 USD}\n    finance:")
    plan = solve_text(tmp_path, body, end=2027)
    fin = finance.compute(plan, plan.portfolio)
    assert plan.ds["cash_level_usd"].values == pytest.approx(fin["cash_usd"].values, rel=1e-6)


@pytest.mark.parametrize("years", [[1.0] * 6, [0.25] * 12])
def test_schedule_repays_the_principal(years):
    y = np.array(years)
    for repayment in ("bullet", "amortising"):
        i, r, b = debt_schedule(100.0, 0.08, 4, 1, y, repayment)
        assert r.sum() == pytest.approx(100.0) and b[-1] == pytest.approx(0.0)
        assert i[0] == 0 and i.sum() > 0


def test_debt_without_terms_is_refused(tmp_path):
    from gigawatt.errors import GigawattError

    body = BODY.replace(", interest_rate: 10%, term: 2 years,\n               repayment: REPAY", "")
    with pytest.raises(GigawattError, match="a debt needs interest_rate and term"):
        solve_text(tmp_path, body)
