"""kill -9 at every step of a replacement: the run directory holds the old or the new complete run.

The fast tests kill a child that writes a small run through the same code as `gigawatt solve` and
`simulate` (rundir.replace_run_dir, rundir.add_files); the slow ones kill the real commands.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from gigawatt.rundir import MARKER, PREVIOUS, read_marker, recover
from gigawatt.runs import RunsCatalog

DRIVER = Path(__file__).with_name("crash_driver.py")
KILLED = -signal.SIGKILL


def child(point: str, mode: str, *args, env: dict | None = None) -> int:
    import os

    # a guard, not a measurement: a child left behind by the kill (a sweep's pool worker) would hold the pipes
    proc = subprocess.run([sys.executable, str(DRIVER), point, mode, *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=600)
    assert proc.returncode in (0, KILLED), proc.stderr[-3000:]
    return proc.returncode


def small_run_label(run: Path) -> str:
    """The label of the complete small run in ``run``; fails when any file of it is missing or torn."""
    label = json.loads((run / "summary.json").read_text())["label"]
    assert (run / "plan.nc").read_bytes() == label.encode() * 1000
    assert sorted(p.read_text() for p in (run / "tables").iterdir()) == sorted(f"{label},{i}\n" for i in range(20))
    marker = read_marker(run)
    assert marker is not None and set(marker["files"]) == {"summary.json", "plan.nc", "tables"}
    return label


# where the kill lands -> which run the directory holds afterwards
REPLACE_POINTS = {"before-marker": "old", "before-commit": "old", "after-exchange": "new", "between-renames": "new"}


@pytest.mark.parametrize("point", sorted(REPLACE_POINTS))
def test_a_kill_while_replacing_a_run_leaves_the_old_or_the_new_run(tmp_path, point):
    run = tmp_path / "run"
    assert child("none", "write", run, "old") == 0
    assert child(point, "write", run, "new") == KILLED
    if point != "between-renames":  # the one-step swap: the directory is whole even before any recovery
        assert small_run_label(run) in {"old", "new"}
    recover(run)  # what the next solve, simulate or report of this directory does first
    assert small_run_label(run) == REPLACE_POINTS[point]
    if REPLACE_POINTS[point] == "new":
        assert small_run_label(run / PREVIOUS) == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no hidden leftovers beside it


def test_the_portable_path_is_finished_by_the_next_access(tmp_path):
    """Without renameat2, a kill between the two renames leaves no directory; the next access restores it."""
    run = tmp_path / "run"
    assert child("none", "write", run, "old") == 0
    assert child("between-renames", "write", run, "new") == KILLED
    assert not run.exists()
    assert child("none", "write", run, "newer") == 0  # any later write recovers first, then replaces
    assert small_run_label(run) == "newer" and small_run_label(run / PREVIOUS) == "new"


@pytest.mark.parametrize("point,seed", [("before-journal", "1"), ("mid-journal", "2")])
def test_a_kill_while_writing_risk_results_leaves_a_pair_of_one_seed(tmp_path, point, seed):
    run = tmp_path / "run"
    assert child("none", "write", run, "old") == 0
    assert child("none", "risk", run, "1") == 0
    assert child(point, "risk", run, "2") == KILLED
    recover(run)
    doc = json.loads((run / "risk.json").read_text())
    assert (run / "risk_paths.parquet").read_text() == f"paths of seed {doc['seed']}"
    assert str(doc["seed"]) == seed  # before the commit: the old pair; after it: the new one, completed
    assert read_marker(run)["files"]["risk.json"]["write"] == read_marker(run)["files"]["risk_paths.parquet"]["write"]
    assert not list(run.glob(".gigawatt-commit-*"))


# --- the real commands ---------------------------------------------------------------------------------------


def _cli(point: str, *args, db: Path) -> int:
    return child(point, "cli", "-q", *args, env={"GIGAWATT_RUNS_DB": str(db)})


def _complete_solve(run: Path) -> dict:
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "optimal"
    import xarray as xr

    xr.load_dataset(run / "plan.nc", engine="h5netcdf")
    assert len(list((run / "tables").glob("*.csv"))) >= 10
    return read_marker(run)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after-exchange", "before-register"])
def test_kill_9_during_solve_overwrite(tmp_path, point):
    db, run = tmp_path / "runs.duckdb", tmp_path / "run"
    example = ROOT / "examples" / "minimal.yaml"
    assert _cli("none", "solve", example, "--out", run, db=db) == 0
    old_id = _complete_solve(run)["id"]
    assert _cli(point, "solve", example, "--out", run, "--overwrite", db=db) == KILLED
    recover(run)
    new = _complete_solve(run)
    assert new["id"] != old_id and _complete_solve(run / PREVIOUS)["id"] == old_id
    (row,) = RunsCatalog(db).list()  # the killed solve never registered: only the first run is listed
    assert row["files"]["dir_id"] == old_id


@pytest.mark.slow
def test_kill_9_during_simulate_leaves_one_seeds_pair(tmp_path, minimal_run):
    import shutil

    import pandas as pd

    db, run = tmp_path / "runs.duckdb", tmp_path / "run"
    shutil.copytree(minimal_run, run)
    energy = "uncertainty.drivers.energy={target: energy_price, distribution: uniform, params: {low: 0.8, high: 1.4}}"
    assert _cli("none", "simulate", run, "-n", "300", "--seed", "1", "--set", energy, db=db) == 0
    first = (run / "risk_paths.parquet").read_bytes()
    assert _cli("mid-journal", "simulate", run, "-n", "300", "--seed", "2", "--set", energy, db=db) == KILLED
    recover(run)
    doc = json.loads((run / "risk.json").read_text())
    paths = pd.read_parquet(run / "risk_paths.parquet")
    assert doc["seed"] == 2 and (run / "risk_paths.parquet").read_bytes() != first
    assert paths["draw"].nunique() == min(256, doc["draws"])
    (row,) = RunsCatalog(db).list()  # the first simulation only: the killed one never registered
    assert row["files"]["files"] == ["risk.json", "risk_paths.parquet"]
    assert read_marker(run)["files"]["risk.json"]["write"] != row["files"]["write_id"]  # since rewritten


def _processes_with(text: str, polls: int = 50) -> list[int]:
    """Processes whose command line holds ``text`` (Linux /proc), after letting the dying ones go."""
    import time

    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for _ in range(polls):
        found = []
        for entry in proc.iterdir():
            try:
                if entry.name.isdigit() and text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
        if not found:
            return []
        time.sleep(0.1)
    return found


@pytest.mark.slow
def test_kill_9_during_sweep_registers_nothing_and_resumes(tmp_path):
    import pyarrow.parquet as pq

    db, out = tmp_path / "runs.duckdb", tmp_path / "sweep"
    args = ["sweep", ROOT / "examples" / "minimal.yaml", "--vary", "horizon.discount_rate=5%,8%,11%", "--out", out]
    assert _cli("sweep-after-first-task", *args, db=db) == KILLED
    assert _processes_with(str(out)) == []  # its pool workers died with it (not left waiting for work)
    tasks = sorted((out / "tasks").glob("*.parquet"))
    assert len(tasks) == 1 and pq.read_table(tasks[0]).column("status")[0].as_py() == "ok"
    assert RunsCatalog(db).list() == []  # a half sweep is never listed
    assert _cli("none", *args, db=db) == 0  # the same command resumes it
    assert len(list((out / "tasks").glob("*.parquet"))) == 3
    (row,) = RunsCatalog(db).list()
    assert row["kind"] == "sweep" and row["status"] == "ok"
    assert MARKER in {p.name for p in out.iterdir()}


def test_recovery_leaves_the_work_of_a_live_or_unknown_process_alone(tmp_path):
    import os

    run = tmp_path / "run"
    live = tmp_path / f".run.new-{os.getppid()}-abc"  # pytest's parent: alive, maybe still writing
    unknown = tmp_path / ".run.new-notapid"
    for d in (live, unknown):
        d.mkdir()
        (d / MARKER).write_text(json.dumps({"id": "x", "files": {}}))
    recover(run)
    assert live.is_dir() and unknown.is_dir() and not run.exists()
