"""A contract may start anywhere inside the horizon, its last period included (issue 13, defect b: a start
inside the last year of a yearly horizon was refused as "after the horizon ends")."""

from __future__ import annotations

import pytest

from helpers import build_test_portfolio
from gigawatt.errors import GigawattError


def body(start: str) -> str:
    return f"""
    providers:
      cloud: {{kind: cloud}}
    contracts:
      late: {{counterparty: cloud, kind: capacity, accelerator: h100, start: {start}, term: 2 years,
             chips: 1000, price: 2 USD/h, source: test}}
    workloads:
      train: {{kind: training, demand: 1000 H100_hours}}
"""


@pytest.mark.parametrize("start, step, share_in_last", [("2027-07", "year", 184 / 365), ("2027-10", "year", 92 / 365),
                                                         ("2027-12", "year", 31 / 365)])
def test_start_inside_last_period_is_accepted(tmp_path, start, step, share_in_last):
    p = build_test_portfolio(tmp_path, body(start))
    cap = p.data["contract_capacity_chips"].sel(supply="contract:late").values
    assert cap[:2] == pytest.approx([0.0, 0.0])
    assert cap[2] == pytest.approx(1000 * share_in_last, rel=1e-6)


@pytest.mark.parametrize("start", ["2028-01", "2028"])
def test_start_after_the_last_period_is_refused(tmp_path, start):
    with pytest.raises(GigawattError, match="starts after the horizon ends"):
        build_test_portfolio(tmp_path, body(start))
