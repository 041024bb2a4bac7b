"""Sensitivity rankings: Sobol indices of the Ishigami function against their analytic values, the
uncertainty section's ranges, and a tiny scenario solved through the sweep machinery."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import ROOT
from gigawatt.sensitivity import Input, from_vary, oat_values, sobol_indices, sobol_values
from gigawatt.sensitivity.inputs import from_uncertainty

# Ishigami and Homma (1990), a = 7, b = 0.1 (SALib's test function); analytic indices as in Saltelli et al.
# (2008), Global Sensitivity Analysis: The Primer: V = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2; S1 = (0.5(1 + bπ⁴/5)² , a²/8, 0)/V; ST3 = (8b²π⁸/225)/V,
# ST1 = S1 + ST3, ST2 = S2.
A, B = 7.0, 0.1
V = A**2 / 8 + B * math.pi**4 / 5 + B**2 * math.pi**8 / 18 + 0.5
S1 = np.array([0.5 * (1 + B * math.pi**4 / 5) ** 2, A**2 / 8, 0.0]) / V
ST3 = 8 * B**2 * math.pi**8 / 225 / V
ST = np.array([S1[0] + ST3, S1[1], ST3])


def test_ishigami_indices_within_their_confidence_intervals():
    from SALib.test_functions import Ishigami

    inputs = [Input(f"x{k}", "key", (-math.pi, math.pi, ""), float("nan")) for k in (1, 2, 3)]
    n = 2048
    _, x = sobol_values(inputs, n, seed=7)
    assert x.shape == (n * (3 + 2), 3) and x.min() >= -math.pi and x.max() <= math.pi
    y = pd.DataFrame({"y": Ishigami.evaluate(x, A=A, B=B)})
    t = sobol_indices(inputs, y, n, seed=7, horizon_end=0, names={"y": ""}).set_index("input")
    for k, name in enumerate(("x1", "x2", "x3")):
        assert abs(t.at[name, "S1"] - S1[k]) <= t.at[name, "S1_conf"], (name, "S1", t.loc[name].to_dict())
        assert abs(t.at[name, "ST"] - ST[k]) <= t.at[name, "ST_conf"], (name, "ST", t.loc[name].to_dict())
        assert 0 < t.at[name, "ST_conf"] < 0.1  # stated and informative at this sample size
    assert list(t.index[:2]) == ["x1", "x2"]  # ranked by total index: x1 (0.56) before x2 (0.44)
    assert (t["samples"] == n * 5).all()


def test_ranges_from_the_uncertainty_section():
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate

    resolved = read(ROOT / "scenarios" / "openai.yaml")
    inputs = {i.name: i for i in from_uncertainty(resolved.data, validate(resolved))}
    lease = inputs["lease_price"]  # triangular 0.72 / 1 / 1.26: 5% and 95% quantiles by hand
    c = (1 - 0.72) / (1.26 - 0.72)
    lo = 0.72 + math.sqrt(0.05 * (1.26 - 0.72) * (1 - 0.72))
    hi = 1.26 - math.sqrt(0.05 * (1.26 - 0.72) * (1.26 - 1))
    assert 0 < c < 1 and lease.low == pytest.approx(lo) and lease.high == pytest.approx(hi)
    a, m, b = 0.621, 1.0, 1.4  # revenue vintage: triangular, the plan at the mode (uncertainty.yaml)
    rv = inputs["revenue_vintage"]
    assert rv.low == pytest.approx(a + math.sqrt(0.05 * (b - a) * (m - a)))
    assert rv.high == pytest.approx(b - math.sqrt(0.05 * (b - a) * (b - m)))
    assert inputs["energy_price"].low == pytest.approx(0.75 + 0.05 * 0.5)
    event = next(i for i in inputs.values() if i.kind == "event")
    assert (event.low, event.high) == (0.0, 1.0)
    u = np.linspace(0, 1, 10001)
    assert event.ppf(u).mean() == pytest.approx(event.spec["probability"], abs=1e-3)


def test_vary_needs_two_numbers_in_one_unit():
    from gigawatt.errors import ScenarioError

    i = from_vary("sites.texas.lead_time=6 months,24 months")
    assert (i.low, i.high, i.spec[2]) == (6.0, 24.0, "months")
    for bad in ("sites.texas.lead_time=6 months", "x=6 months,2 years", "x=a,b", "novalue"):
        with pytest.raises(ScenarioError):
            from_vary(bad)


@pytest.fixture(scope="module")
def minimal_sensitivity():
    from gigawatt.commands.common import load_portfolio
    from gigawatt.sensitivity import evaluate
    from gigawatt.sweep.executors import make_executor

    portfolio, resolved = load_portfolio(ROOT / "examples" / "minimal.yaml", None, [])
    inputs = [from_vary("sites.texas.build_cost=8 million USD/MW,16 million USD/MW"),
              from_vary("finance.starting_cash=10 billion USD,30 billion USD")]
    ex = make_executor("inline")
    oat = oat_values(inputs)
    oat_out = evaluate(resolved.data, inputs, oat, executor=ex)
    n = 4
    _, sv = sobol_values(inputs, n, seed=3)
    s_out = evaluate(resolved.data, inputs, sv, executor=ex)
    return portfolio, inputs, oat, oat_out, n, s_out


def test_tornado_on_a_tiny_scenario(minimal_sensitivity):
    from gigawatt.optimize import optimize
    from gigawatt.sensitivity import tornado

    portfolio, inputs, oat, out, _, _ = minimal_sensitivity
    assert (out["error"] == "").all(), out["error"].tolist()
    # the base row is the scenario as written: the same net present cost as a plain solve
    assert out["net_present_cost_usd"].iloc[0] == pytest.approx(optimize(portfolio).objective_usd, rel=1e-6)
    t = tornado(inputs, oat, out)
    npc = t[t["output"] == "net_present_cost_usd"].set_index("input")
    build = npc.loc["sites.texas.build_cost"]
    assert build["high_value"] > build["base_value"] > build["low_value"]  # dearer sites cost more
    assert npc.loc["finance.starting_cash", "swing"] == pytest.approx(0.0, abs=1.0)  # cash buys nothing here
    assert npc.index[0] == "sites.texas.build_cost"


def test_sobol_on_a_tiny_scenario(minimal_sensitivity):
    portfolio, inputs, _, _, n, out = minimal_sensitivity
    assert len(out) == n * (len(inputs) + 2)
    end = int(portfolio.horizon.table["year"].max())
    t = sobol_indices(inputs, out, n, seed=3, horizon_end=end)
    npc = t[t["output"] == "net_present_cost_usd"].set_index("input")
    # starting cash does not enter the cost: its total index is exactly 0 (same solve with and without it)
    assert npc.at["finance.starting_cash", "ST"] == pytest.approx(0.0, abs=1e-9)
    assert npc.at["sites.texas.build_cost", "ST"] > 0.5
    assert {"S1_conf", "ST_conf", "N", "samples"} <= set(t.columns) and (t["N"] == n).all()


def test_command_writes_into_a_run_and_the_report_draws_it(tmp_path):
    from typer.testing import CliRunner

    from gigawatt.cli import app
    from gigawatt.report.data import load_run
    from gigawatt.report.page import render_report
    from gigawatt.report.plotlyjs import TRACE_TYPES

    run = tmp_path / "run"
    runner = CliRunner()
    assert runner.invoke(app, ["-q", "solve", str(ROOT / "examples" / "minimal.yaml"), "--out", str(run),
                               "--no-register"]).exit_code == 0
    res = runner.invoke(app, ["sensitivity", str(ROOT / "examples" / "minimal.yaml"), "--out", str(run),
                              "--engine", "inline", "--sobol", "2",
                              "--vary", "sites.texas.build_cost=8 million USD/MW,16 million USD/MW"])
    assert res.exit_code == 0, res.output
    assert "Tornado: net_present_cost_usd" in res.output and "Sobol indices" in res.output
    oat = pd.read_csv(run / "sensitivity_oat.csv")
    assert set(oat["output"]) == {"net_present_cost_usd", "funding_gap_usd", "first_free_cash_flow_positive_year"}
    _, charts = render_report(load_run(run))
    ours = {c.id for c in charts if c.section == "sensitivity"}
    assert {"sensitivity-tornado-npc", "sensitivity-tornado-gap", "sensitivity-sobol-npc"} <= ours
    assert {t.type for c in charts for t in c.figure.data} <= set(TRACE_TYPES)
    res = runner.invoke(app, ["sensitivity", str(ROOT / "examples" / "minimal.yaml"), "--out", str(run)])
    assert res.exit_code == 1 and "nothing to vary" in res.output
