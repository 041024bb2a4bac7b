"""first_positive_year: the one rule behind summary.json's first_free_cash_flow_positive_year and the sweep
row of the same name."""

from __future__ import annotations

import json
import math

import pandas as pd

from gigawatt.plan import first_positive_year


def test_first_year_above_zero_in_order():
    assert first_positive_year({"2025": -1.0, "2026": 0.0, "2027": 2.0, "2028": 5.0}) == 2027
    assert first_positive_year(pd.Series([3.0, -1.0], index=[2030, 2031])) == 2030


def test_nan_and_zero_are_not_positive_and_none_when_no_year_is():
    assert first_positive_year({"2025": math.nan, "2026": 0.0}) is None
    assert first_positive_year({"2025": math.nan, "2026": 1.0}) == 2026
    assert first_positive_year({}) is None


def test_the_reference_summary_follows_the_rule_on_its_own_years(reference_run):
    s = json.loads((reference_run.path / "summary.json").read_text())
    by_year = {y: e["free_cash_flow_usd"] for y, e in s["years"].items()}
    assert s["first_free_cash_flow_positive_year"] == first_positive_year(by_year)
    assert s["first_free_cash_flow_positive_year"] is not None  # the reference turns positive within its horizon
