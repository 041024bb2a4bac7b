"""`gigawatt simulate` through the CLI runner: outputs, defaults, exit codes and messages."""

from __future__ import annotations

import json
import shutil

import pandas as pd
from typer.testing import CliRunner

from gigawatt.cli import app

KEYS = {"draws", "seed", "cash_usd_percentiles", "cash_flow_after_financing_usd_percentiles", "probability_cash_below_zero",
        "funding_gap_usd", "compute_spending_pv_usd", "unmet_demand_fraction_percentiles",
        "stranded_capacity_fraction_percentiles"}


def invoke(*args):
    return CliRunner().invoke(app, [*map(str, args)])


def test_simulate_writes_risk_json_and_paths(risk_run, tmp_path):
    out = tmp_path / "sim"
    r = invoke("simulate", risk_run, "--draws", 5000, "--seed", 4, "--out", out, "--chunk-size", 4096,
               "--no-register")
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "risk.json").read_text())
    assert KEYS <= set(doc)
    assert doc["draws"] == 5000 and doc["seed"] == 4
    assert set(doc["cash_usd_percentiles"]) == {"p5", "p25", "p50", "p75", "p95"}
    assert set(doc["probability_cash_below_zero"]) == {"2026", "2027", "2028", "2029", "2030"}
    assert set(doc["funding_gap_usd"]) >= {"mean", "p50", "p95", "max"}
    assert set(doc["compute_spending_pv_usd"]) >= {"mean", "var_95", "cvar_95"}
    paths = pd.read_parquet(out / "risk_paths.parquet")
    assert paths["draw"].nunique() == 256 and (out / "risk_paths.parquet").stat().st_size < 200_000
    assert "P(cash < 0)" in r.output
    assert [p.name for p in out.glob(".*")] == [".gigawatt-run.json"]  # the marker; no temporary files left behind


def test_simulate_defaults_to_the_run_directory_and_scenario_settings(risk_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(risk_run, run)
    r = invoke("--quiet", "simulate", run, "--no-register")
    assert r.exit_code == 0, r.output
    doc = json.loads((run / "risk.json").read_text())
    assert doc["draws"] == 2000 and doc["seed"] == 11  # uncertainty.draws and .seed of the scenario
    assert r.output == ""


def test_same_seed_same_file_whatever_the_chunk_size(risk_run, tmp_path):
    docs = []
    for chunk in (4096, 12288):
        out = tmp_path / f"c{chunk}"
        assert invoke("--quiet", "simulate", risk_run, "-n", 9000, "--seed", 2, "-o", out, "--chunk-size", chunk,
                      "--no-register").exit_code == 0
        doc = json.loads((out / "risk.json").read_text())
        docs.append({k: v for k, v in doc.items() if k not in ("timings_s", "method", "elapsed_s")})
    assert docs[0] == docs[1]


def test_bad_run_directory_exits_1_without_traceback(tmp_path):
    r = invoke("simulate", tmp_path / "nope", "--no-register")
    assert r.exit_code == 1
    assert "run directory not found" in r.output and "gigawatt solve" in r.output and "Traceback" not in r.output
    empty = tmp_path / "empty"
    empty.mkdir()
    r = invoke("simulate", empty, "--no-register")
    assert r.exit_code == 1 and "no plan.nc" in r.output


def test_bad_draws_exits_1(risk_run, tmp_path):
    r = invoke("simulate", risk_run, "--draws", 0, "--out", tmp_path, "--no-register")
    assert r.exit_code == 1 and "--draws" in r.output


def test_set_changes_the_uncertainty_only(risk_run, tmp_path):
    r = invoke("--quiet", "simulate", risk_run, "-n", 4096, "-o", tmp_path / "a", "--no-register",
               "--set", "uncertainty.drivers.revenue.params.sd=0", "--set", "uncertainty.events.tx_late.probability=0")
    assert r.exit_code == 0, r.output
    r = invoke("simulate", risk_run, "-n", 100, "-o", tmp_path / "b", "--no-register",
               "--set", "workloads.training.unmet_penalty=1 USD/H100_hour")
    assert r.exit_code == 1 and "simulate can only change the uncertainty section" in r.output
