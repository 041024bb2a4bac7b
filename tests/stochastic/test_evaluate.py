"""Out-of-sample evaluation: the draws are simulate's, both plans see the same ones, the summary is right."""

import json

import numpy as np
import pytest

from helpers import build_test_portfolio, scenario_text
from test_stochastic import BODY, UNC


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    return build_test_portfolio(tmp_path_factory.mktemp("oos"), BODY.replace("PENALTY", "0.3") + UNC)


def test_out_of_sample_is_simulate_on_the_same_draws(portfolio):
    """The evaluation's mean compute spending and P(out of cash) are those `simulate` reports for the same
    plan, draws and seed; a second seed gives other draws."""
    from gigawatt.risk.simulate import simulate
    from gigawatt.stochastic.evaluate import out_of_sample
    from gigawatt.stochastic.extensive import fixed_plan

    plan = fixed_plan(portfolio)
    got = out_of_sample(plan, portfolio, draws=300, seed=11)
    ref = simulate(plan, portfolio, draws=300, seed=11)
    assert got["compute_spending_pv_usd"]["mean"] == pytest.approx(ref.net_present_cost["mean"], rel=1e-9)
    assert got["compute_spending_pv_usd"]["p50"] == pytest.approx(ref.net_present_cost["p50"], rel=1e-9)
    assert got["funding_gap_usd"]["mean"] == pytest.approx(ref.funding_gap["mean"], rel=1e-9, abs=1e-6)
    assert got["probability_out_of_cash"] == pytest.approx(ref.funding_gap["probability_positive"])
    c = got["compute_spending_pv_usd"]
    assert c["p5"] <= c["p50"] <= c["p95"]
    other = out_of_sample(plan, portfolio, draws=300, seed=12)
    assert other["seed"] == 12 and other["funding_gap_usd"]["mean"] >= 0


def test_describe_against_numpy():
    from gigawatt.stochastic.evaluate import describe

    x = np.arange(1.0, 101.0)
    d = describe(x)
    assert d["mean"] == 50.5 and d["p50"] == 50.5 and d["p5"] == pytest.approx(5.95)
    assert d["mean_standard_error"] == pytest.approx(np.std(x, ddof=1) / 10)


def test_hedge_command_evaluates_both_plans_out_of_sample(tmp_path):
    from typer.testing import CliRunner

    from gigawatt.cli import app

    src = tmp_path / "s.yaml"
    src.write_text(scenario_text(BODY.replace("PENALTY", "0.3") + UNC))
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["hedge", str(src), "--out", str(out), "--futures", "3", "--no-register",
                                   "--no-metrics", "--out-of-sample", "500"])
    assert res.exit_code == 0, res.output
    summ = json.loads((out / "summary.json").read_text())
    oos = summ["stochastic"]["out_of_sample"]
    assert oos["hedged"]["seed"] == 8 and oos["hedged"]["draws"] == 500  # the futures' seed (7) + 1
    for plan in ("hedged", "deterministic"):
        g = oos[plan]["funding_gap_usd"]
        assert 0 <= g["p5"] <= g["p50"] <= g["p95"] and 0 <= oos[plan]["probability_out_of_cash"] <= 1
    assert "out of sample" in res.output and "deterministic" in res.output
    assert any(e.get("cash_usd") is not None for e in summ["years"].values())  # finance ran on the hedged plan
