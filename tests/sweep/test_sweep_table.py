"""The sweep table a user reads: varied keys by their short names, and the outputs that change."""

from __future__ import annotations

import pandas as pd
from rich.console import Console

from gigawatt.commands.risk import changing_outputs, print_sweep, short_keys


def test_short_keys_are_the_shortest_unique_tails():
    keys = ["horizon.discount_rate", "finance.revenue.growth_per_year", "contracts.a.price", "contracts.b.price"]
    assert short_keys(keys) == {"horizon.discount_rate": "discount_rate",
                                "finance.revenue.growth_per_year": "growth_per_year",
                                "contracts.a.price": "a.price", "contracts.b.price": "b.price"}


def _summary() -> pd.DataFrame:
    return pd.DataFrame({
        "horizon.discount_rate": [0.05, 0.05, 0.1, 0.1],
        "finance.revenue.growth_per_year": ["20%", "60%", "20%", "60%"],
        "status": ["ok"] * 4,
        "net_present_cost_usd": [8.9e9, 8.9e9, 8.4e9, 8.4e9],
        "funding_gap_usd": [0.0] * 4,
        "min_cash_usd": [2.2e10] * 4,
        "unmet_demand_fraction": [0.0] * 4,
        "power_gw_2030": [0.51] * 4,
        "cash_usd_2029": [1e9, 2e9, 1e9, 2e9],
        "cash_usd_2030": [25.5e9, 92.4e9, 25.5e9, 92.4e9],
    })


def test_the_table_shows_the_objective_and_the_outputs_that_change():
    shown, same = changing_outputs(_summary())
    assert shown == ["net_present_cost_usd", "cash_usd_2030"]  # the last year's cash, not an earlier year's
    assert {"funding_gap_usd", "min_cash_usd", "unmet_demand_fraction", "power_gw_2030"} <= set(same)


class _Result:
    def __init__(self, summary):
        self.summary, self.ran, self.skipped, self.retried = summary, len(summary), 0, 0
        self.timings = {"run_s": 1.0}


class _Manifest:
    vary = {"horizon.discount_rate": [0.05, 0.1], "finance.revenue.growth_per_year": ["20%", "60%"]}


def test_printed_sweep_fits_80_columns_with_whole_key_names():
    console = Console(width=80, record=True, color_system=None)
    print_sweep(_Result(_summary()), _Manifest(), "out", console, elapsed=1.0)
    text = console.export_text()
    header = next(line for line in text.splitlines() if "discount_rate" in line)
    assert "growth_per_year" in header and "net present" in text and "cash 2030" in text
    assert "$92.4B" in text and "the same in every run: funding gap" in text
    assert max(len(line) for line in text.splitlines()) <= 80
