"""A scenario whose plan has no variable cost (issue 13, defect a): it solves with objective = the
constant take-or-pay payments, instead of raising IndexError while the objective is assembled."""

from __future__ import annotations

import pytest

from helpers import solve_text

# one firm take-or-pay contract covers the demand: no rentals, no sites, nothing priced per unit
ONLY_TAKE_OR_PAY = """
    providers:
      cloud: {kind: cloud}
    contracts:
      deal: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 3 years,
             chips: 1000, price: 2 USD/h, source: test}
    workloads:
      train: {kind: training, demand: 4380000 H100_hours}
"""

# nothing to pay at all: a workload with no demand and nothing to serve it
NOTHING = """
    providers:
      cloud: {kind: cloud}
    contracts:
      deal: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 3 years,
             chips: 1000, price: 2 USD/h, firm: false, source: test}
    workloads:
      train: {kind: training, demand: 0 H100_hours}
"""


def test_take_or_pay_only_solves(tmp_path):
    plan = solve_text(tmp_path, ONLY_TAKE_OR_PAY)
    hours = 8760.0 * 3
    assert plan.ds.attrs["objective_usd"] == pytest.approx(1000 * 2 * hours, rel=1e-9)


def test_nothing_to_pay_solves_at_zero(tmp_path):
    plan = solve_text(tmp_path, NOTHING)
    assert plan.ds.attrs["objective_usd"] == pytest.approx(0.0, abs=1e-6)
