"""Supply (vendor) option values (stochastic/options.py) on the hand-solved newsvendor."""

import pytest

from helpers import build_test_portfolio

DEAL = """
    contracts:
      nv_option: {counterparty: nvidia, kind: supply, accelerator: h100, start: 2025, term: 1 year, chips: 2000,
                  firm: false, source: test}
"""


def test_supply_option_value_by_hand(tmp_path):
    """test_stochastic's newsvendor (a chip 2,000 USD net, an unserved chip-year 2,628 USD, demand 1,000 or
    3,000 chip-years with probability ½) plus an option to buy 2,000 chips from nvidia. As an option it
    obliges nothing: q* = 1,000 and SP = 4,628,000 as without it. Signed firm the lab must buy 2,000, the
    EV plan of the newsvendor: 4,000,000 + ½ · 2,628 · 1,000 = 5,314,000, so keeping it an option is worth
    686,000; having it is worth 0 in the model (it adds no chips the plan could not buy)."""
    from gigawatt.stochastic.extensive import solve_extensive
    from gigawatt.stochastic.options import supply_option_sizes, supply_option_values
    from test_stochastic import BODY, futures_of

    p = build_test_portfolio(tmp_path, BODY.replace("PENALTY", "0.3") + DEAL, start=2025, end=2025)
    assert supply_option_sizes(p).to_dict() == pytest.approx({"nv_option": 2000 * 10_000})
    futures = futures_of(p, [0.5, 1.5])
    sp = solve_extensive(futures).expected_usd
    assert sp == pytest.approx(4_628_000, rel=1e-7)
    (row,) = supply_option_values(futures, sp)
    assert row["contract"] == "nv_option" and row["kind"] == "supply"
    assert row["sp_firm_usd"] == pytest.approx(5_314_000, rel=1e-7)
    assert row["value_of_flexibility_usd"] == pytest.approx(686_000, rel=1e-5)
    assert row["value_of_option_usd"] == 0.0
