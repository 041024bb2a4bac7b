"""A folder holding a user's files survives every command: solve, simulate --out, report -o, sweep --out,
runs rm --delete-files. gigawatt replaces or deletes only what it wrote (the .gigawatt-run.json marker)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import ROOT
from typer.testing import CliRunner

from gigawatt.cli import app
from gigawatt.rundir import MARKER, PREVIOUS, read_marker
from gigawatt.runs import RunsCatalog

EXAMPLE = ROOT / "examples" / "minimal.yaml"


def gw(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def users_folder(path: Path) -> dict[str, str]:
    """A folder with a user's notes and data (hidden files too); returns its contents to compare later."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "notes.txt").write_text("my notes")
    (path / ".git").mkdir()
    (path / ".git" / "HEAD").write_text("ref: main")
    (path / "data").mkdir()
    (path / "data" / "prices.csv").write_text("a,b\n1,2\n")
    return snapshot(path)


def snapshot(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): p.read_text() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "runs.duckdb"
    monkeypatch.setenv("GIGAWATT_RUNS_DB", str(path))
    return path


@pytest.fixture
def run(minimal_run, tmp_path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(minimal_run, out)
    return out


def test_solve_never_replaces_a_users_folder_even_with_overwrite(tmp_path, db):
    folder = tmp_path / "project"
    before = users_folder(folder)
    for extra in ([], ["--overwrite"]):
        res = gw("-q", "solve", EXAMPLE, "--out", folder, *extra)
        assert res.exit_code == 1, res.output
        text = " ".join(res.output.split())
        assert "gigawatt did not write it" in text and "notes.txt" in text and "new or empty folder" in text
        assert "Traceback" not in res.output
    assert snapshot(folder) == before and sorted(p.name for p in folder.iterdir()) == [".git", "data", "notes.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".project")] == []
    assert RunsCatalog(db).list() == []


def test_replacing_a_run_needs_overwrite_and_keeps_its_risk_results_and_report(run, db):
    from gigawatt.rundir import add_files

    # what simulate and report add to the run (the real commands are tested elsewhere; this keeps it fast)
    add_files(run, kind="simulate", writers={"risk.json": lambda p: p.write_text('{"seed": 1}')})
    add_files(run, kind="report", writers={"report.html": lambda p: p.write_text("<html>old plan</html>")})
    old = {name: (run / name).read_bytes() for name in ("summary.json", "risk.json", "report.html")}
    old_id = read_marker(run)["id"]
    refused = gw("-q", "solve", EXAMPLE, "--out", run)
    assert refused.exit_code == 1
    assert "--overwrite" in refused.output and "already holds a gigawatt solve run" in " ".join(refused.output.split())
    assert {name: (run / name).read_bytes() for name in old} == old
    res = gw("solve", EXAMPLE, "--out", run, "--overwrite")
    assert res.exit_code == 0, res.output
    assert f"{run / PREVIOUS}" in "".join(res.output.split())  # said where the old run went
    assert {name: (run / PREVIOUS / name).read_bytes() for name in old} == old
    assert read_marker(run / PREVIOUS)["id"] == old_id and read_marker(run)["previous_id"] == old_id
    assert not (run / "risk.json").exists() and not (run / "report.html").exists()  # stale beside a new plan


def test_a_second_overwrite_keeps_one_previous_run(tmp_path):
    from gigawatt.rundir import replace_run_dir

    run = tmp_path / "run"
    for label in ("first", "second", "third"):
        with replace_run_dir(run, kind="solve", overwrite=True) as (tmp, written):
            (tmp / "summary.json").write_text(label)
    assert written.kept_previous and written.dropped_previous  # what solve reports
    assert (run / "summary.json").read_text() == "third" and (run / PREVIOUS / "summary.json").read_text() == "second"
    assert not (run / PREVIOUS / PREVIOUS).exists() and [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_run_folder_with_a_users_file_is_never_replaced(run, db):
    (run / "my-analysis.xlsx").write_text("precious")
    res = gw("-q", "solve", EXAMPLE, "--out", run, "--overwrite")
    assert res.exit_code == 1 and "my-analysis.xlsx" in res.output
    assert (run / "my-analysis.xlsx").read_text() == "precious" and (run / "plan.nc").exists()


def test_simulate_out_refuses_a_users_folder_and_rm_deletes_only_its_own_files(run, tmp_path, db):
    folder = tmp_path / "project"
    before = users_folder(folder)
    res = gw("-q", "simulate", run, "-n", "200", "--out", folder)
    assert res.exit_code == 1 and "gigawatt did not write it" in " ".join(res.output.split())
    assert snapshot(folder) == before
    risk = tmp_path / "risk"
    assert gw("-q", "simulate", run, "-n", "200", "--out", risk).exit_code == 0
    (risk / "my-notes.md").write_text("read the p95")  # the user adds a file afterwards
    (rec,) = RunsCatalog(db).list()
    res = gw("runs", "rm", rec["id"], "--delete-files")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in risk.iterdir()) == [MARKER, "my-notes.md"]
    assert (risk / "my-notes.md").read_text() == "read the p95"


def test_rm_delete_files_of_a_simulation_keeps_the_solve_run_it_sits_in(run, db):
    assert gw("-q", "simulate", run, "-n", "200").exit_code == 0
    (rec,) = RunsCatalog(db).list()
    assert rec["path"] == str(run.resolve())
    res = gw("runs", "rm", rec["id"], "--delete-files")
    assert res.exit_code == 0, res.output
    assert "deleted risk.json, risk_paths.parquet" in " ".join(res.output.split())
    assert not (run / "risk.json").exists() and not (run / "risk_paths.parquet").exists()
    assert {"summary.json", "plan.nc", "tables", "scenario.resolved.yaml"} <= {p.name for p in run.iterdir()}
    assert set(read_marker(run)["files"]) == {"summary.json", "plan.nc", "tables", "scenario.resolved.yaml"}


def test_rm_delete_files_of_a_replaced_run_deletes_it_in_previous_only(tmp_path, db):
    run = tmp_path / "run"
    run.mkdir()  # an empty folder may be written
    assert gw("-q", "solve", EXAMPLE, "--out", run).exit_code == 0
    (first,) = RunsCatalog(db).list()
    from gigawatt.rundir import replace_run_dir

    with replace_run_dir(run, kind="solve", overwrite=True) as (tmp, _):  # what solve --overwrite does
        (tmp / "tables").mkdir()
        (tmp / "tables" / "new.csv").write_text("the new run")
    new_files = snapshot(run / "tables")
    res = gw("runs", "rm", first["id"], "--delete-files")
    assert res.exit_code == 0, res.output
    assert not (run / PREVIOUS).exists()  # the first run, and nothing else, is gone
    assert snapshot(run / "tables") == new_files == {"new.csv": "the new run"}


def test_report_never_overwrites_a_file_gigawatt_did_not_write(run, tmp_path, db):
    folder = tmp_path / "project"
    before = users_folder(folder)
    (folder / "index.html").write_text("<html>my page</html>")
    res = gw("-q", "report", run, "-o", folder / "index.html")
    assert res.exit_code == 1 and "gigawatt did not write" in " ".join(res.output.split())
    assert (folder / "index.html").read_text() == "<html>my page</html>"
    (folder / "old-report.html").write_text('<html><head><meta name="generator" content="gigawatt">')
    assert gw("-q", "report", run, "-o", folder / "old-report.html").exit_code == 0  # its own page: replaced
    after = snapshot(folder)
    assert {k: after[k] for k in before} == before and set(after) == set(before) | {"index.html", "old-report.html"}
    assert len(after["old-report.html"]) > 100_000


def test_sweep_out_refuses_a_users_folder(tmp_path, db):
    folder = tmp_path / "project"
    before = users_folder(folder)
    (folder / "summary.csv").write_text("mine")
    res = gw("-q", "sweep", EXAMPLE, "--vary", "horizon.discount_rate=5%,8%", "--out", folder)
    assert res.exit_code == 1 and "gigawatt did not write it" in " ".join(res.output.split())
    assert snapshot(folder) == {**before, "summary.csv": "mine"}
    assert RunsCatalog(db).list() == []


def test_rm_delete_files_of_a_run_registered_before_file_lists_refuses(tmp_path, db):
    """A catalog from before files_json: migrated without losing rows; --delete-files says why it will not."""
    import duckdb

    d = tmp_path / "old-run"
    d.mkdir()
    (d / "summary.json").write_text("{}")
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE runs (id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, path VARCHAR NOT NULL, "
                "scenario VARCHAR, variant VARCHAR, inputs_hash VARCHAR, status VARCHAR, objective_usd DOUBLE, "
                "timings_json VARCHAR, versions_json VARCHAR, created_at TIMESTAMP NOT NULL)")
    con.execute("INSERT INTO runs VALUES ('20250101-000000-abcdef', 'simulate', ?, 'lab', NULL, 'h', 'ok', 1.0, "
                "'{}', '{}', now())", [str(d)])
    con.close()
    assert [r["files"] for r in RunsCatalog(db).list()] == [None]  # read before any migration
    assert gw("-q", "solve", EXAMPLE, "--out", tmp_path / "new").exit_code == 0  # a write migrates the table
    assert len(RunsCatalog(db).list()) == 2
    res = gw("runs", "rm", "20250101-000000-abcdef", "--delete-files")
    assert res.exit_code == 1 and "without the list of files it wrote" in " ".join(res.output.split())
    assert (d / "summary.json").exists() and len(RunsCatalog(db).list()) == 2
    assert gw("runs", "rm", "20250101-000000-abcdef").exit_code == 0
    assert (d / "summary.json").exists() and len(RunsCatalog(db).list()) == 1


def test_a_run_from_before_markers_is_recognised_only_when_it_holds_gigawatts_files_alone(tmp_path):
    from gigawatt.errors import ScenarioError
    from gigawatt.rundir import check_target, marker_of

    legacy = tmp_path / "legacy"
    legacy.mkdir()
    for name in ("summary.json", "plan.nc", "scenario.resolved.yaml", "risk.json"):
        (legacy / name).write_text("{}")
    (legacy / "tables").mkdir()
    marker = marker_of(legacy)
    assert marker["kind"] == "solve" and marker["files"]["risk.json"]["by"] == "simulate"
    assert check_target(legacy, kind="solve", overwrite=True) is not None
    (legacy / "notes.txt").write_text("mine")
    assert marker_of(legacy) is None
    with pytest.raises(ScenarioError, match="gigawatt did not write it"):
        check_target(legacy, kind="solve", overwrite=True)
