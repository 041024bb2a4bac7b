"""Sweeps: manifests of fully resolved runs, executed on a process pool (and Ray), failures reported and
retried, interrupted sweeps resumed, the summary read back with DuckDB, and the CLI's exit codes."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sweep_helpers import HUGE, NO_UNMET, portfolio_of, write_scenario
from typer.testing import CliRunner

from gigawatt.cli import app
from gigawatt.errors import ScenarioError
from gigawatt.sweep.executors import InlineExecutor, LocalExecutor, run_task
from gigawatt.sweep.manifest import build, parse_vary, resolve_task
from gigawatt.sweep.run import read_summary, run

VARY = ["contracts.reserved.chips=20000,40000", "sites.tx.build_cost=8 million USD/MW,12 million USD/MW"]
# "resolve" says whether a task was this worker's first of its structure (build) or an update: it depends
# on which worker ran what
VOLATILE = ["elapsed_s", "solve_s", "cpu_s", "worker", "attempt", "resolve"]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return write_scenario(tmp_path_factory.mktemp("sweep"))


def table(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.drop(columns=[c for c in VOLATILE if c in summary]).sort_values("task_id").reset_index(drop=True)


# --- manifests -------------------------------------------------------------------------------------------------


def test_parse_vary_forms():
    assert parse_vary("a.b=1,2,3") == ("a.b", [1, 2, 3])
    assert parse_vary("a.b=6 months, 1 year") == ("a.b", ["6 months", "1 year"])
    assert parse_vary("a.b=['200,000 chips', 5]") == ("a.b", ["200,000 chips", 5])
    with pytest.raises(ScenarioError, match="key.path=v1,v2"):
        parse_vary("a.b")


def test_grid_manifest_is_the_product_with_stable_ids(scenario):
    m = build(scenario, vary=VARY)
    assert len(m.tasks) == 4
    assert m.tasks[0].params == {"contracts.reserved.chips": 20000, "sites.tx.build_cost": "8 million USD/MW"}
    assert [t.task_id for t in m.tasks] == [t.task_id for t in build(scenario, vary=VARY).tasks]
    assert m.solve["threads"] == 1
    resolved, sc = resolve_task(m, m.tasks[3], validate=True)
    assert sc.contracts["reserved"].chips == 40000 and sc.sites["tx"].build_cost == 12e6


def test_bad_vary_key_or_value_fails_before_running(scenario):
    with pytest.raises(ScenarioError) as info:
        build(scenario, vary=["contracts.reservd.chips=1,2"])
    assert "matches no key" in str(info.value) and "Did you mean 'reserved'?" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        build(scenario, vary=["sites.tx.build_cost=8 million USD/MW,lots"])
    assert "--vary sites.tx.build_cost=lots" in str(info.value)


def test_draws_manifest_puts_the_simulated_draws_into_the_scenario(scenario):
    from gigawatt.portfolio import H100E_HOUR_FLOP
    from gigawatt.risk.sample import Sampler

    m = build(scenario, draws=3, seed=7)
    assert [t.params["draw"] for t in m.tasks] == [0, 1, 2] and m.seed == 7
    p = portfolio_of(scenario)
    sample = Sampler(p.scenario.uncertainty, 5).sample(7, 0, 3)
    base = p.data["demand_h100e_hours"].sel(workload="training").values
    for t in m.tasks:
        _, sc = resolve_task(m, t, validate=True)
        assert not sc.uncertainty.drivers  # applied, not sampled again
        demand = sc.workloads["training"].demand.points
        got = np.array([v for _, v in demand]) / H100E_HOUR_FLOP
        assert np.allclose(got, base * sample.factors["training_growth"][:, t.params["draw"]], rtol=1e-12)
        if t.params["event.reserved_fails"]:
            assert "reserved" not in sc.contracts


# --- running ---------------------------------------------------------------------------------------------------


def test_local_pool_writes_one_row_per_task_and_a_duckdb_summary(scenario, tmp_path):
    m = build(scenario, vary=VARY)
    ex = LocalExecutor(2)
    try:
        res = run(m, tmp_path, executor=ex)
    finally:
        ex.close()
    ids = pq.read_table(tmp_path / "tasks", columns=["task_id"]).column("task_id").to_pylist()
    assert sorted(ids) == sorted(t.task_id for t in m.tasks)  # one row per task across the task files
    s = res.summary
    assert len(s) == 4 and (s["status"] == "ok").all() and (s["error"] == "").all()
    assert {"net_present_cost_usd", "power_gw_2030", "unmet_demand_fraction", "lease_usd"} <= set(s.columns)
    assert len(set(s["worker"])) == 2  # both workers solved
    assert table(pd.read_parquet(tmp_path / "summary.parquet")).equals(table(s))
    assert len(pd.read_csv(tmp_path / "summary.csv")) == 4
    # more contracted chips cost more (take-or-pay): the grid is not a copy of one run
    by = s.groupby("contracts.reserved.chips")["net_present_cost_usd"].mean()
    assert by["40000"] > by["20000"]


def boom(spec: dict) -> dict:
    """A task function that raises for one task (module level, so a forked worker can run it)."""
    if spec["task"]["params"].get("contracts.reserved.chips") == 40000:
        raise RuntimeError("disk on fire")
    return run_task(spec)


def test_a_task_that_raises_is_reported_retried_and_the_others_complete(scenario, tmp_path):
    m = build(scenario, vary=["contracts.reserved.chips=20000,40000"])
    ex = LocalExecutor(2)
    try:
        res = run(m, tmp_path, executor=ex, task_fn=boom)
    finally:
        ex.close()
    s = res.summary.set_index("contracts.reserved.chips")
    assert s.loc["20000", "status"] == "ok"
    assert s.loc["40000", "status"] == "failed" and "disk on fire" in s.loc["40000", "error"]
    assert s.loc["40000", "attempt"] == 2 and res.retried == 1 and len(res.failed) == 1


def test_an_infeasible_run_is_a_failed_row_with_the_reason(scenario, tmp_path):
    m = build(scenario, vary=[f"workloads.training.demand=200 million H100_hours,{HUGE}"], sets=[NO_UNMET])
    res = run(m, tmp_path, executor=InlineExecutor())
    s = res.summary.set_index("workloads.training.demand")
    assert s.loc["200 million H100_hours", "status"] == "ok"
    assert s.loc[HUGE, "status"] == "failed" and s.loc[HUGE, "error"].startswith("infeasible")
    assert np.isnan(s.loc[HUGE, "net_present_cost_usd"])  # never silently a number


def test_interrupted_sweep_resumes_from_the_tasks_written(scenario, tmp_path):
    m = build(scenario, vary=["contracts.reserved.chips=20000,30000,40000"])
    first = run(m, tmp_path, executor=InlineExecutor())
    assert first.ran == 3
    gone = tmp_path / "tasks" / f"{m.tasks[1].task_id}.parquet"
    kept = tmp_path / "tasks" / f"{m.tasks[0].task_id}.parquet"
    mtime = kept.stat().st_mtime_ns
    os.remove(gone)  # as if the sweep had stopped before this task
    again = run(m, tmp_path, executor=InlineExecutor())
    assert (again.ran, again.skipped) == (1, 2) and gone.exists() and kept.stat().st_mtime_ns == mtime
    assert table(again.summary).equals(table(first.summary))
    other = build(scenario, vary=["contracts.reserved.chips=10000"])
    with pytest.raises(ScenarioError, match="holds a different sweep"):
        run(other, tmp_path, executor=InlineExecutor())


def test_specs_share_the_tasks_values_and_no_task_changes_them(scenario, tmp_path):
    """The driver's spec holds the Task's own values (a shallow dict, no deep copy per task); the inline
    executor hands them to run_task unpickled, so a task that changed its params, sets, overrides or
    removals in place would change the manifest: it must not."""
    import copy

    m = build(scenario, vary=["contracts.reserved.chips=20000,40000"], draws=2, seed=3)
    assert any(t.overrides for t in m.tasks) and any(t.sets for t in m.tasks)
    before = copy.deepcopy(m.tasks)
    res = run(m, tmp_path, executor=InlineExecutor())
    assert (res.summary["status"] == "ok").all() and m.tasks == before


def test_summary_is_read_with_duckdb_over_task_files(scenario, tmp_path):
    m = build(scenario, vary=["contracts.reserved.chips=20000,40000"])
    run(m, tmp_path, executor=InlineExecutor())
    s = read_summary(tmp_path)
    assert list(s["task_id"]) == sorted(t.task_id for t in m.tasks)


@pytest.mark.ray
@pytest.mark.slow
def test_ray_gives_the_same_table_as_the_local_pool(scenario, tmp_path):
    ray = pytest.importorskip("ray")
    from gigawatt.sweep.executors import RayExecutor

    m = build(scenario, vary=VARY)
    ex = LocalExecutor(2)
    try:
        local = run(m, tmp_path / "local", executor=ex).summary
    finally:
        ex.close()
    rx = RayExecutor(2)
    try:
        assert ray.is_initialized() and ray.cluster_resources().get("CPU") == 2
        remote = run(m, tmp_path / "ray", executor=rx).summary
    finally:
        rx.close()
    assert not ray.is_initialized()  # the instance we started is shut down
    assert_same_table(table(remote), table(local))


def assert_same_table(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same columns, same text, numbers equal to solver precision (a warm re-solve may end a few ulps
    from a cold one at the same vertex)."""
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        if pd.api.types.is_float_dtype(a[c]):
            np.testing.assert_allclose(a[c].to_numpy(), b[c].to_numpy(), rtol=1e-9, atol=1e-6, err_msg=c)
        else:
            assert a[c].equals(b[c]), c


# --- CLI -------------------------------------------------------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(app, [*map(str, args)])


def test_sweep_cli_exit_codes(scenario, tmp_path):
    r = invoke("sweep", scenario, "--out", tmp_path / "a")
    assert r.exit_code == 1 and "nothing to sweep" in r.output
    r = invoke("sweep", scenario, "--vary", "contracts.nope.chips=1,2", "--out", tmp_path / "b")
    assert r.exit_code == 1 and "matches no key" in r.output and "Traceback" not in r.output
    r = invoke("sweep", scenario, "--vary", f"workloads.training.demand=200 million H100_hours,{HUGE}",
               "--set", NO_UNMET, "--out", tmp_path / "c")
    assert r.exit_code == 2, r.output
    assert "failed: task" in r.output and "infeasible" in r.output and "workloads.training.demand" in r.output
    assert (tmp_path / "c" / "summary.csv").exists()
    r = invoke("--quiet", "sweep", scenario, "--vary", "contracts.reserved.chips=20000,40000", "--out",
               tmp_path / "d")
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(tmp_path / "d" / "summary.csv")) == 2
