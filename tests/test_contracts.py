"""File contracts (docs/files.md): summary.json, risk.json, the sweep summary and the runs catalog's table
match their published schemas in docs/schemas/, checked on REAL output; plan.nc opens cleanly in xarray with
units on every variable, period start times and duals in user units."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from helpers import ROOT
from risk_helpers import write_scenario
from typer.testing import CliRunner

from gigawatt.cli import app

SCHEMAS = ROOT / "docs" / "schemas"


def schema(name: str) -> dict:
    doc = json.loads((SCHEMAS / name).read_text())
    if "$schema" in doc:
        jsonschema.Draft202012Validator.check_schema(doc)
    return doc


def invoke(*args):
    result = CliRunner().invoke(app, [*map(str, args)])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Path:
    """The risk tests' small scenario (with uncertainty) solved, registered in the test catalog, simulated."""
    tmp = tmp_path_factory.mktemp("contracts")
    out = tmp / "run"
    invoke("-q", "solve", write_scenario(tmp), "--out", out)
    invoke("-q", "simulate", out, "--draws", 300, "--seed", 3)
    return out


@pytest.fixture(scope="module")
def reference(reference_run) -> Path:
    """The reference scenario solved: it has binding site-power limits and a share target."""
    return reference_run.path


def test_summary_json_matches_its_schema(simulated, reference):
    s = schema("summary.schema.json")
    for run in (simulated, reference):
        doc = json.loads((run / "summary.json").read_text())
        jsonschema.validate(doc, s)
    # the schema can fail: a schema 1 document (objective_usd, no schema_version) does not match
    old = {k: v for k, v in doc.items() if k not in ("schema_version", "net_present_cost_usd")}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**old, "objective_usd": 1.0}, s)


def test_every_summary_key_is_described_by_the_schema(reference):
    """No undocumented key: the schema allows additions, so the test keeps the document complete."""
    s = schema("summary.schema.json")
    doc = json.loads((reference / "summary.json").read_text())
    assert set(doc) <= set(s["properties"]), set(doc) - set(s["properties"])
    year_props = s["properties"]["years"]["additionalProperties"]["properties"]
    for entry in doc["years"].values():
        assert set(entry) <= set(year_props), set(entry) - set(year_props)


def test_risk_json_matches_its_schema(simulated):
    s = schema("risk.schema.json")
    doc = json.loads((simulated / "risk.json").read_text())
    jsonschema.validate(doc, s)
    assert set(doc) <= set(s["properties"]), set(doc) - set(s["properties"])
    paths = pd.read_parquet(simulated / "risk_paths.parquet")
    assert {"cash_flow_after_financing_usd", "compute_spending_pv_usd"} <= set(paths.columns)


def test_sweep_rows_match_their_schema(tmp_path):
    from gigawatt.sweep.executors import InlineExecutor
    from gigawatt.sweep.manifest import build
    from gigawatt.sweep.run import run

    m = build(write_scenario(tmp_path), vary=["horizon.discount_rate=0.05,0.1"])
    res = run(m, tmp_path / "sweep", executor=InlineExecutor())
    s = schema("sweep-row.schema.json")
    rows = pd.read_parquet(tmp_path / "sweep" / "summary.parquet")
    assert len(rows) == 2
    for row in rows.to_dict("records"):
        row = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        row = {k: (int(v) if isinstance(v, np.integer) else v) for k, v in row.items()}
        jsonschema.validate(row, s)
        assert row["schema_version"] == 2 and "horizon.discount_rate" in row
    assert list(pd.read_csv(tmp_path / "sweep" / "summary.csv").columns) == list(res.summary.columns)
    with pytest.raises(jsonschema.ValidationError):  # a row of the old names fails
        jsonschema.validate({**row, "schema_version": 1}, s)


def test_the_runs_catalog_table_matches_its_spec(simulated, _runs_catalog_in_tmp):
    import duckdb

    from gigawatt.runs import COLUMNS, TABLE_VERSION

    spec = schema("runs-table.json")
    assert spec["version"] == TABLE_VERSION
    con = duckdb.connect(str(_runs_catalog_in_tmp), read_only=True)
    try:
        described = con.execute("DESCRIBE runs").fetchall()
        rows = con.execute("SELECT kind, objective_usd FROM runs WHERE path = ?",
                           [str(simulated.resolve())]).fetchall()
    finally:
        con.close()
    got = [(name, typ, null == "YES") for name, typ, null, *_ in described]
    assert got == [(c["name"], c["type"], c["nullable"]) for c in spec["columns"]]
    assert [c["name"] for c in spec["columns"]] == list(COLUMNS)
    # objective_usd means what the spec says for each kind
    summ = json.loads((simulated / "summary.json").read_text())
    risk = json.loads((simulated / "risk.json").read_text())
    by_kind = dict(rows)
    assert by_kind["solve"] == pytest.approx(summ["net_present_cost_usd"])
    assert by_kind["simulate"] == pytest.approx(risk["compute_spending_pv_usd"]["mean"])


def test_plan_nc_opens_in_xarray_with_units_time_and_coordinates(reference):
    with xr.open_dataset(reference / "plan.nc") as ds:
        numeric = [n for n, v in ds.data_vars.items() if v.dtype.kind in "fib"]
        assert numeric and not [n for n in numeric if not ds[n].attrs.get("units")]
        assert ds["power_mw"].attrs["units"] == "MW" and ds["chips"].attrs["units"] == "chips"
        assert ds["finance_cash_usd"].attrs["units"] == "USD"
        assert np.issubdtype(ds["period_start"].dtype, np.datetime64)
        assert pd.Timestamp(ds["period_start"].values[0]) == pd.Timestamp(f"{ds['period'].values[0]}-01-01")
        assert {"supply_provider", "supply_vendor"} <= set(ds.coords)
        by_vendor = ds["chips"].groupby("supply_vendor").sum()
        assert float(by_vendor.sum()) == pytest.approx(float(ds["chips"].sum()))
        series = ds["power_mw"].sum("supply").swap_dims(period="period_start")
        assert series.indexes["period_start"].is_monotonic_increasing


def test_plan_nc_duals_are_in_user_units(reference):
    """A dual by hand: the binding table's present value per MW (plan.py's own scaling) and the marginal cost
    of compute (undiscounted per H100-hour, optimize/run.py) from the file's duals."""
    from gigawatt.results import read_plan

    binding = pd.read_csv(reference / "tables" / "binding_constraints.csv")
    per_mw = binding[(binding["unit"] == "MW") & (binding["entries"] == 1) & binding["site"].notna()]
    assert len(per_mw), "the reference has no single-site power constraint binding: pick another dual to check"
    row = per_mw.iloc[0]
    name = f"dual_{row['constraint']}"
    with xr.open_dataset(reference / "plan.nc") as ds:
        env = ds[name]
        assert env.attrs["units"] == "USD per MW"
        at = {"site": row["site"], "period": str(row["period"])}
        assert abs(float(env.sel(at))) == pytest.approx(row["pv_usd"], rel=1e-9)
        demand = ds["dual_Workload-demand"]
        assert demand.attrs["units"] == "USD per H100e-hour"
        per_h100 = demand / ds["discount_factor"] * ds["workload_utilisation_h100"]
        np.testing.assert_allclose(per_h100.transpose("workload", "period").values,
                                   ds["marginal_cost_usd_per_h100_hour"].transpose("workload", "period").values,
                                   rtol=1e-9, atol=1e-9)
        in_file = float(env.sel(at))
    # read back for the planner's statistics: the model's units again (MUSD per MW)
    plan = read_plan(reference)
    assert float(plan.ds[name].sel(at)) == \
        pytest.approx(in_file / 1e6, rel=1e-12)
    assert "supply_vendor" in plan.ds.data_vars and "period_start" not in plan.ds
