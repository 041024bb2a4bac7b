"""Fixtures of the report tests: the reference scenario solved and simulated once, a run without finance."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
from helpers import ROOT


def _invoke(*args) -> None:
    from typer.testing import CliRunner

    from gigawatt.cli import app

    result = CliRunner().invoke(app, [*map(str, args)])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="session")
def openai_run(reference_run, tmp_path_factory) -> Path:
    """scenarios/openai.yaml (the reference scenario) solved (a copy of the shared run), then simulated with
    512 draws."""
    out = tmp_path_factory.mktemp("report") / "openai"
    shutil.copytree(reference_run.path, out)
    _invoke("--quiet", "simulate", out, "--draws", 512, "--seed", 7, "--no-register")
    return out


@pytest.fixture(scope="session")
def no_finance_run(minimal_run, tmp_path_factory) -> Path:
    """The minimal run with every finance figure removed (summary.json nulls, no finance_* in plan.nc)."""
    import xarray as xr

    from gigawatt.report.data import FINANCE_KEYS

    out = tmp_path_factory.mktemp("report") / "no_finance"
    shutil.copytree(minimal_run, out)
    summ = json.loads((out / "summary.json").read_text())
    for entry in summ["years"].values():
        for key in FINANCE_KEYS:
            entry[key] = None
    for key in ("first_free_cash_flow_positive_year", "min_cash_usd", "funding_gap_usd", "min_cash_year"):
        summ[key] = None
    (out / "summary.json").write_text(json.dumps(summ))
    ds = xr.load_dataset(out / "plan.nc", engine="h5netcdf")
    ds = ds.drop_vars([v for v in ds.data_vars if str(v).startswith("finance_")])
    (out / "plan.nc").unlink()
    with warnings.catch_warnings():  # bools and strings, as results.py writes them
        warnings.filterwarnings("ignore", message=".*invalid netcdf features.*")
        ds.to_netcdf(out / "plan.nc", engine="h5netcdf", invalid_netcdf=True)
    (out / "risk.json").unlink(missing_ok=True)
    return out


HEDGE_SCENARIO = """
providers:
  lab: {kind: owned, sites: [dc]}
  cloud: {kind: cloud}
sites:
  dc: {power_max: 100 MW, build_cost: 0 USD/MW, energy_price: 0 USD/MWh, accelerators: [h100]}
contracts:
  opt: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 2 years,
        chips: 1000, price: 0.25 USD/h, firm: false, source: test}
workloads:
  train: {kind: training, demand: 17520000 H100_hours}
config: {solve: {unmet_penalty: 0.3 USD/H100_hour}}
finance: {revenue: 1 billion USD}
uncertainty:
  seed: 7
  drivers:
    d: {target: demand, distribution: lognormal, params: {mean: 0, sd: 0.3}, mode: yearly}
"""


@pytest.fixture(scope="session")
def hedge_run(tmp_path_factory) -> Path:
    """A tiny scenario (one owned site, one option, a demand driver) hedged over 4 futures with every
    part of the stochastic block: metrics, out-of-sample evaluation, the SAA interval, option values."""
    from helpers import scenario_text

    root = tmp_path_factory.mktemp("report")
    src = root / "hedge.yaml"
    src.write_text(scenario_text(HEDGE_SCENARIO))
    out = root / "hedge"
    _invoke("--quiet", "hedge", src, "--out", out, "--futures", 4, "--out-of-sample", 500, "--replications", 2,
            "--upper-futures", 8, "--no-register")
    return out
