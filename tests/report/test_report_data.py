"""Loading a run directory into frames, the headline figures, and clear errors for what is not a run."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from gigawatt.errors import ScenarioError
from gigawatt.report.data import load_run, period_x
from gigawatt.report.headline import headline


def test_load_run_reads_every_file(openai_run):
    run = load_run(openai_run)
    assert run.label == "openai-reference"
    assert run.years == list(range(2025, 2034))
    assert {"capacity_mw_by_provider", "binding_constraints", "share_targets"} <= set(run.tables)
    assert run.risk is not None and run.risk["draws"] == 512
    assert run.risk_paths is not None and len(run.risk_paths) > 0
    assert "contracts" in run.scenario and run.sources  # inputs with their sources
    assert all(c.get("source") for c in run.scenario["contracts"].values())


def test_frames_match_summary_json(openai_run):
    run = load_run(openai_run)
    summ = json.loads((openai_run / "summary.json").read_text())
    power = run.yearly("power_gw")
    assert power.loc[2030] == pytest.approx(summ["years"]["2030"]["power_gw"])
    cost = run.yearly_nested("cost_usd_by_category")
    assert cost.loc[2028, "contracts"] == pytest.approx(summ["years"]["2028"]["cost_usd_by_category"]["contracts"])
    cap = run.by_period("capacity_mw_by_provider")
    assert list(cap.index) == list(range(2025, 2034))
    # vendor power grouped from plan.nc adds up to the provider table (same power, another split)
    vendor = run.plan_by("power_mw", "supply_vendor")
    np.testing.assert_allclose(vendor.sum(axis=1).to_numpy(), cap.sum(axis=1).to_numpy(), rtol=1e-6)


def test_finance_present_in_the_reference_run(openai_run):
    fin = load_run(openai_run).finance
    assert fin is not None and {"revenue_usd", "free_cash_flow_usd", "cash_flow_after_financing_usd", "cash_usd"} <= set(fin.columns)
    assert fin.loc[2030, "revenue_usd"] > 0


def test_finance_absent_is_none(no_finance_run):
    run = load_run(no_finance_run)
    assert run.finance is None
    facts = {f.key: f for f in headline(run)}
    assert facts["min_cash_usd"].value is None and facts["min_cash_usd"].text == "–"
    assert facts["first_cash_flow_positive_year"].note == "no finance section"


def test_headline_tells_the_reference_story(openai_run):
    run = load_run(openai_run)
    facts = {f.key: f for f in headline(run)}
    summ = run.summary
    power = [y["power_gw"] for y in summ["years"].values()]
    assert facts["peak_power_gw"].value == pytest.approx(max(power))
    assert facts["peak_power_gw"].text.endswith(f"GW in {2025 + int(np.argmax(power))}")
    target = facts["share_target.stargate_2030"]
    assert target.value["min_share"] == pytest.approx(0.75) and target.value["period"] == "2030"
    assert "target ≥ 75%" in target.text and target.label.startswith("stargate+oracle share in 2030")
    assert facts["commitments_usd_total"].value == summ["commitments_usd_total"]
    assert facts["inference_exceeds_training_year"].value == summ["inference_exceeds_training_year"]
    idle = facts["idle_capacity_fraction_max"]
    worst = max(summ["years"], key=lambda y: summ["years"][y]["idle_capacity_fraction"])
    assert idle.value == pytest.approx(summ["years"][worst]["idle_capacity_fraction"])
    assert idle.text == f"{idle.value:.0%} of chips in {worst}" and "over the horizon" in idle.note
    assert facts["probability_out_of_cash"].note.endswith("512 draws")


def test_risk_headline_places_the_plan_in_its_fan(openai_run):
    run = load_run(openai_run)
    facts = {f.key: f for f in headline(run)}
    risk = run.risk
    det_cash = risk["deterministic"]["cash_usd"]
    first_negative = next(y for y, c in det_cash.items() if c < 0)
    before = str(int(first_negative) - 1)
    p = facts["probability_out_of_cash"]
    assert p.label == f"P(out of cash by {before})"
    assert p.value == risk["probability_cash_below_zero_by_year"][before]
    assert f"below zero from {first_negative}" in p.note
    gap = facts["funding_gap_usd_p50"]
    assert gap.value == risk["funding_gap_usd"]["p50"]
    assert "median" in gap.text and "p95" in gap.text
    band = facts["plan_in_fan"]
    tight = min(det_cash, key=det_cash.get)
    assert band.label.endswith(tight) and band.value == det_cash[tight]
    p95 = risk["cash_usd_percentiles"]["p95"][tight]
    assert (band.text == "above p95") == (det_cash[tight] >= p95)


def test_risk_headline_of_a_plan_that_never_runs_out(openai_run):
    from gigawatt.report.headline import _risk_facts

    risk = json.loads((openai_run / "risk.json").read_text())
    risk["deterministic"]["cash_usd"] = {y: 1e9 for y in risk["deterministic"]["cash_usd"]}
    facts = {f.key: f for f in _risk_facts(risk)}
    last = list(risk["probability_cash_below_zero_by_year"])[-1]
    assert facts["probability_out_of_cash"].label == f"P(out of cash by {last})"
    assert facts["plan_in_fan"].text.startswith(("above", "between", "below"))


def test_period_x_keeps_non_year_labels():
    assert period_x(["2025", "2026"]) == [2025, 2026]
    assert period_x(["2025Q1", "2025Q2"]) == ["2025Q1", "2025Q2"]


@pytest.mark.parametrize("damage, message", [
    ("missing", "run directory not found"),
    ("file", "not a directory"),
    ("no_summary", "no summary.json"),
    ("bad_summary", "summary.json is not valid JSON"),
    ("no_years", "no per-year section"),
    ("no_plan", "no plan.nc"),
    ("bad_plan", "plan.nc cannot be read"),
    ("bad_risk", "risk.json is not valid JSON"),
])
def test_not_a_run_is_a_clear_error(minimal_run, tmp_path, damage, message):
    run = tmp_path / "run"
    if damage == "file":
        run.write_text("x")
    elif damage != "missing":
        shutil.copytree(minimal_run, run)
        if damage == "no_summary":
            (run / "summary.json").unlink()
        elif damage == "bad_summary":
            (run / "summary.json").write_text("{not json")
        elif damage == "no_years":
            (run / "summary.json").write_text('{"status": "optimal"}')
        elif damage == "no_plan":
            (run / "plan.nc").unlink()
        elif damage == "bad_plan":
            (run / "plan.nc").write_bytes(b"not a netcdf file")
        elif damage == "bad_risk":
            (run / "risk.json").write_text("{")
    with pytest.raises(ScenarioError) as info:
        load_run(run)
    text = str(info.value)
    assert message in text and str(run.name) in text
    assert "Fix:" in text


def test_share_target_card_shows_the_attributed_share_and_the_dispatch_one(openai_run):
    run = load_run(openai_run)
    fact = {f.key: f for f in headline(run)}["share_target.stargate_2030"]
    year = run.summary["years"]["2030"]["share_by_provider"]
    attributed = year["stargate"] + year["oracle"]
    assert fact.value["share"] == pytest.approx(attributed)  # summary.json's share, not the solver's dispatch
    if abs(attributed - fact.value["dispatch_share"]) >= 0.005:
        assert f"{fact.value['dispatch_share']:.0%} on the LP's dispatch" in fact.note


def _as_schema_1(run_dir, out):
    """A copy of a run as gigawatt wrote it before schema_version 2 (the key names of that version)."""
    import pandas as pd

    shutil.copytree(run_dir, out)
    s = json.loads((out / "summary.json").read_text())
    s.pop("schema_version")
    s.pop("compute_spending_pv_usd")
    s["summary_version"] = 1
    s["objective_usd"] = s.pop("net_present_cost_usd")
    s["first_cash_flow_positive_year"] = s.pop("first_free_cash_flow_positive_year")
    cum = 0.0
    for e in s["years"].values():
        e["cash_flow_usd"] = e.pop("cash_flow_after_financing_usd")
        cum += e["cash_flow_usd"]
        e["cumulative_cash_flow_usd"] = cum
        for key in ("financing_usd", "cumulative_free_cash_flow_usd"):
            e.pop(key)
    (out / "summary.json").write_text(json.dumps(s))
    r = json.loads((out / "risk.json").read_text())
    r.pop("schema_version")
    r["risk_version"] = 1
    r["cash_flow_usd_percentiles"] = r.pop("cash_flow_after_financing_usd_percentiles")
    r["net_present_cost_usd"] = r.pop("compute_spending_pv_usd")
    det = r["deterministic"]
    det["cash_flow_usd"] = det.pop("cash_flow_after_financing_usd")
    det["net_present_cost_usd"] = det.pop("compute_spending_pv_usd")
    (out / "risk.json").write_text(json.dumps(r))
    paths = pd.read_parquet(out / "risk_paths.parquet").rename(columns={
        "cash_flow_after_financing_usd": "cash_flow_usd", "compute_spending_pv_usd": "net_present_cost_usd"})
    paths.to_parquet(out / "risk_paths.parquet")
    return out


def test_runs_of_schema_1_read_with_the_current_names(openai_run, tmp_path):
    """A run written before the glossary's names loads with them: the same figures, the report renders."""
    from gigawatt.report.page import render_report

    new = load_run(openai_run)
    old = load_run(_as_schema_1(openai_run, tmp_path / "old"))
    assert old.summary["schema_version"] == 1
    assert old.summary["net_present_cost_usd"] == new.summary["net_present_cost_usd"]
    assert old.summary["first_free_cash_flow_positive_year"] == new.summary["first_free_cash_flow_positive_year"]
    for key in ("cash_flow_after_financing_usd", "financing_usd", "cumulative_free_cash_flow_usd", "cash_usd"):
        np.testing.assert_allclose(old.finance[key].to_numpy(), new.finance[key].to_numpy(), rtol=1e-9)
    assert old.risk["cash_flow_after_financing_usd_percentiles"] == new.risk["cash_flow_after_financing_usd_percentiles"]
    assert old.risk["compute_spending_pv_usd"] == new.risk["compute_spending_pv_usd"]
    assert list(old.risk_paths.columns) == list(new.risk_paths.columns)
    html, charts = render_report(old)
    assert {c.id for c in charts} >= {"cash-flow", "cash-position", "cash-fan"}
    facts = {f.key: f for f in headline(old)}
    assert facts["net_present_cost_usd"].value == pytest.approx(new.summary["net_present_cost_usd"])
