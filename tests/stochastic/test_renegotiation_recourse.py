"""Renegotiation as recourse in the stochastic planner (issue 12 item 3): per future, deferral of a contract's
take-or-pay payments and termination at its fee, derived by hand on a three-year case at 0% discount."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from helpers import build_test_portfolio

YEAR = 8760.0  # hours in 2025, 2026, 2027
PAY = 1000 * YEAR * 1.0  # 1,000 chips at 1 USD/h: 8.76 million USD a year, take-or-pay

BODY = """
    providers:
      cloud: {kind: cloud, offers: {h100: {on_demand_price: 50 USD/h}}}
    contracts:
      reserved:
        counterparty: cloud
        kind: capacity
        accelerator: h100
        start: 2025
        term: 3 years
        chips: 1000
        price: 1 USD/h
        source: test
        renegotiation: RENEG
    workloads:
      train: {kind: training, demand: DEMAND H100_hours}
    finance:
      revenue: {2025: 6.76 million USD, 2026: 12 million USD, 2027: 12 million USD}
    policy: {cash_floor: 0 USD}
    config: {solve: {unmet_penalty: 100 USD/H100_hour}}
"""
DEFER = "{deferral: {max_share: 50%, penalty: 10%, delay: 1 year}, source: assumption (test)}"


def futures(tmp_path, reneg, factors, demand=8760000):
    """Equally likely futures whose exogenous revenue is the scenario's times each factor."""
    from gigawatt.stochastic.futures import Futures

    p = build_test_portfolio(tmp_path, BODY.replace("RENEG", reneg).replace("DEMAND", str(demand)))
    names = [f"f{i}" for i in range(len(factors))]
    f = xr.DataArray(np.asarray(factors, dtype=float), coords={"future": names})
    data = p.data.copy()
    data["revenue_usd"] = data["revenue_usd"] * f
    return Futures(replace(p, data=data), xr.ones_like(f) / len(factors), 0, pd.DataFrame({"r": factors}, index=names))


def test_deferral_is_chosen_where_the_cash_floor_binds(tmp_path):
    """Future f0 (revenue as written): 2025 cash 6.76 − 8.76 = −2 million below the floor 0; the only
    recourse is deferring 2 of the 2025 payment (≤ 50% × 8.76), repaid in 2026 with 10%: 2026 cash
    0 + 12 − 8.76 − 2.2 = 1.04 ≥ 0. Future f1 (revenue × 2) never binds, and at 0% discount a deferral only
    costs its penalty: none. Expected: deferred ½ · 2 = 1 million, penalty ½ · 0.2 = 0.1 million, and the
    expected net present cost is the take-or-pay 3 × 8.76 plus that penalty."""
    from gigawatt.stochastic.extensive import solve_extensive

    sol = solve_extensive(futures(tmp_path, DEFER, [1.0, 2.0]))
    r = sol.renegotiation["cloud"]
    assert r["expected_deferred_usd"] == pytest.approx(1e6, rel=1e-6)
    assert r["expected_penalty_usd"] == pytest.approx(1e5, rel=1e-6)
    npc = sol.npc_usd.to_series()
    assert npc["f0"] == pytest.approx(3 * PAY + 2e5, rel=1e-6)
    assert npc["f1"] == pytest.approx(3 * PAY, rel=1e-6)


def test_deferral_is_not_chosen_without_a_binding_floor(tmp_path):
    """Revenue × 2 and × 3: cash never falls below 0, a deferral would only add its penalty: D = 0."""
    from gigawatt.stochastic.extensive import solve_extensive

    sol = solve_extensive(futures(tmp_path, DEFER, [2.0, 3.0]))
    assert sol.renegotiation["cloud"]["expected_deferred_usd"] == pytest.approx(0.0, abs=1e-3)
    assert sol.expected_usd == pytest.approx(3 * PAY, rel=1e-6)


def test_termination_of_idle_capacity_pays_its_fee(tmp_path):
    """Demand is half the contract (500 chips all year) and revenue × 2 (the floor does not bind). Ending a
    share τ from 2025 saves τ · 3 · 8.76 million and costs 25% of the remaining value 3 · 8.76 · τ; the
    capacity left, 1000 (1 − τ), must still serve 500 chips (unmet demand costs 100 USD/h): τ = ½.
    Stopped 13.14 million, fee 3.285 million, expected NPC 26.28 − 13.14 + 3.285 = 16.425 million."""
    from gigawatt.stochastic.extensive import solve_extensive

    reneg = "{termination: {fee: 25%}, source: assumption (test)}"
    sol = solve_extensive(futures(tmp_path, reneg, [2.0, 2.0], demand=4380000))
    r = sol.renegotiation["cloud"]
    assert r["expected_contracts_terminated"] == pytest.approx(0.5, rel=1e-6)
    assert r["expected_payments_stopped_usd"] == pytest.approx(1.5 * PAY, rel=1e-6)
    assert r["expected_fee_usd"] == pytest.approx(0.25 * 1.5 * PAY, rel=1e-6)
    assert sol.expected_usd == pytest.approx(3 * PAY - 1.5 * PAY + 0.25 * 1.5 * PAY, rel=1e-6)


def test_deterministic_solve_is_unchanged(tmp_path):
    """The terms enter only the extensive form: a deterministic solve has no recourse variables."""
    from gigawatt.optimize.build import create_model

    p = build_test_portfolio(tmp_path, BODY.replace("RENEG", DEFER).replace("DEMAND", "8760000")
                             .replace("2025: 6.76", "2025: 9"))
    ctx = create_model(p, allow_unmet=True)
    assert "Reneg-defer" not in ctx.model.variables


def test_hedge_summary_reports_renegotiation_per_counterparty(tmp_path):
    """`gigawatt hedge` on the contract with deferral terms and revenue uncertain (normal, sd 15%, yearly):
    summary.json's stochastic block has the expected deferral per counterparty: positive (futures whose 2025
    revenue falls below the 8.76 million payment must defer: the floor is hard), at most ½ of the payment in
    each of the two years whose repayment falls inside the horizon, and its penalty is 10% of it."""
    import json

    from typer.testing import CliRunner

    from gigawatt.cli import app
    from helpers import scenario_text

    body = BODY.replace("RENEG", DEFER).replace("DEMAND", "8760000").replace("2025: 6.76", "2025: 9") + """
    uncertainty:
      seed: 3
      drivers:
        r: {target: revenue, applies_to: [exogenous], distribution: normal, params: {mean: 1, sd: 0.15}, mode: yearly}
    """
    src = tmp_path / "s.yaml"
    src.write_text(scenario_text(body))
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["-q", "hedge", str(src), "--out", str(out), "--futures", "8", "--no-register",
                                   "--no-metrics"])
    assert res.exit_code == 0, res.output
    block = json.loads((out / "summary.json").read_text())["stochastic"]["renegotiation"]
    r = block["cloud"]
    assert 0 < r["expected_deferred_usd"] <= 2 * 0.5 * PAY  # repaid inside the horizon: 2025 and 2026 only
    assert r["expected_penalty_usd"] == pytest.approx(0.1 * r["expected_deferred_usd"], rel=1e-9)
