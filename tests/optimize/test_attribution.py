"""Reported splits are functions of the optimum, not of the solver's path (gigawatt.optimize.attribution).

Where capacity is in surplus the dispatch is degenerate; shares by provider, cost by workload and idle cost
must not change with the LP method, and a half-used take-or-pay contract reports half its cost as idle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, build_test_portfolio, solve_text

from gigawatt.optimize import optimize
from gigawatt.results import inference_overtakes, summary

H = 8760.0

HALF_USED = """
    providers:
      aws: {kind: cloud, offers: {h100: {on_demand_price: 9 USD/h}}}
    contracts:
      reserved: {counterparty: aws, kind: capacity, accelerator: h100, start: 2025, term: 3 years,
                 chips: 100, price: 2 USD/h, take_or_pay: 100%, source: test}
    workloads:
      chat: {kind: inference, demand: 438000 H100_hours}   # 50 chip-years of the reference chip
"""


def test_half_used_take_or_pay_contract_reports_half_its_cost_idle(tmp_path):
    plan = solve_text(tmp_path, HALF_USED)
    paid = 100 * 2 * H
    used = plan.ds["dispatch_chips"].sum(("supply", "workload")).to_numpy()
    assert used == pytest.approx([50] * 3, rel=1e-9)  # the test chip is the reference: 1 chip-hour = 1 H100-hour
    cost = plan.stats.cost("workload")
    assert cost["idle"].to_numpy() == pytest.approx([paid / 2] * 3, rel=1e-9)
    assert cost["chat"].to_numpy() == pytest.approx([paid / 2] * 3, rel=1e-9)
    idle = plan.stats.idle()
    assert idle["fraction"].to_numpy() == pytest.approx([0.5] * 3, rel=1e-9)
    assert idle["chips"].to_numpy() == pytest.approx([50] * 3, rel=1e-9)


TWIN_CONTRACTS = """
    providers:
      east: {kind: cloud, offers: {h100: {on_demand_price: 9 USD/h}}}
      west: {kind: cloud}
    contracts:
      a: {counterparty: east, kind: capacity, accelerator: h100, start: 2025, term: 3 years,
          chips: 100, price: 2 USD/h, source: test}
      b: {counterparty: west, kind: capacity, accelerator: h100, start: 2025, term: 3 years,
          chips: 300, price: 2 USD/h, source: test}
    workloads:
      train: {kind: training, demand: 876000 H100_hours}
      chat: {kind: inference, demand: 438000 H100_hours}
"""


@pytest.mark.parametrize("method", ["simplex", "ipm"])
def test_twin_contracts_split_by_capacity_whatever_the_method(tmp_path, method):
    """400 chips paid for, 150 needed: every dispatch is optimal. Shares follow the capacity paid for (1:3),
    each contract idle in the same proportion (5/8), whichever of them the solver happened to use."""
    p = build_test_portfolio(tmp_path, TWIN_CONTRACTS)
    plan = optimize(p, method=method)
    share = plan.stats.shares("provider")
    assert share["east"].to_numpy() == pytest.approx([0.25] * 3, rel=1e-7)
    assert share["west"].to_numpy() == pytest.approx([0.75] * 3, rel=1e-7)
    paid = 400 * 2 * H
    cost = plan.stats.cost("workload")
    assert cost["idle"].to_numpy() == pytest.approx([paid * 250 / 400] * 3, rel=1e-7)
    # used cost shared by H100-hours served: 100 chip-years of training, 50 of inference
    assert cost["train"].to_numpy() == pytest.approx([paid * 100 / 400] * 3, rel=1e-7)
    assert cost["chat"].to_numpy() == pytest.approx([paid * 50 / 400] * 3, rel=1e-7)


def _solve_both(path: Path):
    from gigawatt.cli import load_portfolio

    out = {}
    for method in ("simplex", "ipm"):
        p, _ = load_portfolio(path, None, [])
        plan = optimize(p, method=method)
        from gigawatt import finance

        out[method] = summary(plan, finance.compute(plan, p))
    return out


def _flat(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _flat(v, f"{prefix}{k}.")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield f"{prefix}{k}", float(v)


REPORTED = ("share_by_", "cost_usd_by_workload", "idle_")


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["scenarios/openai.yaml", "examples/minimal.yaml"])
def test_reported_splits_do_not_depend_on_the_lp_method(scenario):
    runs = _solve_both(ROOT / scenario)
    a, b = runs["simplex"], runs["ipm"]
    assert a["net_present_cost_usd"] == pytest.approx(b["net_present_cost_usd"], rel=1e-6)
    fa, fb = dict(_flat(a["years"])), dict(_flat(b["years"]))
    keys = [k for k in fa if k.split(".", 1)[1].startswith(REPORTED)]
    assert keys
    scale = {k: max(1.0, abs(fa[k])) for k in keys}
    money = [k for k in keys if "usd" in k]
    top = max(abs(fa[k]) for k in money) if money else 1.0
    for k in keys:
        tol = 1e-4 * top if "usd" in k else 1e-4  # USD against the largest figure; shares and fractions absolute
        assert abs(fa[k] - fb.get(k, np.nan)) <= tol, (k, fa[k], fb.get(k), scale[k])
    for key in ("inference_exceeds_training_year", "inference_first_exceeds_training_year"):
        assert a[key] == b[key]


def test_inference_overtakes_is_the_year_it_stays_above():
    import pandas as pd

    kinds = pd.DataFrame({"training": [1, 5, 5, 5, 5], "inference": [2, 1, 6, 4, 9]},
                         index=[2025, 2026, 2027, 2028, 2029])
    assert inference_overtakes(kinds) == (2029, 2025)
    assert inference_overtakes(kinds.assign(inference=[0, 0, 0, 0, 0])) == (None, None)
    assert inference_overtakes(kinds.assign(inference=[9, 9, 9, 9, 9])) == (2025, 2025)
    assert inference_overtakes(kinds.assign(inference=[0, 0, 9, 9, 0])) == (None, 2027)
