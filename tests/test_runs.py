"""The runs catalog (DuckDB) and atomic writes: concurrency, crashes, deleted runs, the CLI."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gigawatt.cli import app
from gigawatt.rundir import replace_run_dir
from gigawatt.runs import RunsCatalog, atomic_dir, atomic_write, inputs_hash


def _register_many(db: str, root: str, worker: int, n: int) -> None:
    cat = RunsCatalog(db)
    for i in range(n):
        d = Path(root) / f"w{worker}-{i}"
        d.mkdir()
        cat.register(kind="solve", path=d, scenario=f"s{worker}", variant=None, inputs_hash=str(i), status="optimal",
                     objective_usd=float(worker * 100 + i))


def test_concurrent_registrations_from_several_processes_all_land(tmp_path):
    db = tmp_path / "runs.duckdb"
    ctx = mp.get_context("spawn")  # fresh interpreters, as separate `gigawatt` commands would be
    procs = [ctx.Process(target=_register_many, args=(str(db), str(tmp_path), w, 8)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    runs = RunsCatalog(db).list()
    assert len(runs) == 24
    assert len({r["id"] for r in runs}) == 24
    assert sorted(r["objective_usd"] for r in runs) == sorted(float(w * 100 + i) for w in range(3) for i in range(8))
    assert all(r["exists"] for r in runs)


def test_atomic_dir_leaves_nothing_behind_when_writing_fails(tmp_path):
    target = tmp_path / "run"
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "summary.json").write_text("{}")
            raise RuntimeError("solver crashed half way")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_replaces_an_old_run_whole(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "stale.csv").write_text("old")
    with atomic_dir(target) as tmp:
        (tmp / "summary.json").write_text("{}")
    assert sorted(p.name for p in target.iterdir()) == ["summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "risk.json"
    path.write_text("old")

    def boom(p: Path) -> None:
        p.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(path, boom)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["risk.json"]


def test_a_crash_between_writing_and_registering_leaves_no_registered_half_run(tmp_path, monkeypatch):
    """solve writes the run, then registers it: a crash in between leaves a complete run, unregistered."""
    from gigawatt.commands import solve as solve_cmd

    db = tmp_path / "runs.duckdb"
    monkeypatch.setenv("GIGAWATT_RUNS_DB", str(db))

    def crash(*a, **k):
        raise KeyboardInterrupt  # the user's Ctrl-C, or a kill, between the rename and the insert

    monkeypatch.setattr(solve_cmd, "_register", crash)
    out = tmp_path / "run"
    root = Path(__file__).resolve().parents[1]
    result = CliRunner().invoke(app, ["-q", "solve", str(root / "examples" / "minimal.yaml"), "--out", str(out)])
    assert result.exit_code == 130
    assert (out / "summary.json").exists() and (out / "plan.nc").exists()
    assert json.loads((out / "summary.json").read_text())["status"] == "optimal"
    assert RunsCatalog(db).list() == []


def test_registering_a_directory_that_does_not_exist_is_refused(tmp_path):
    cat = RunsCatalog(tmp_path / "runs.duckdb")
    with pytest.raises(FileNotFoundError, match="write the run before registering"):
        cat.register(kind="solve", path=tmp_path / "nope", scenario="x", variant=None, inputs_hash="h",
                     status="optimal")
    assert cat.list() == []


def test_a_deleted_run_is_reported_not_crashed_on(tmp_path, monkeypatch):
    db = tmp_path / "runs.duckdb"
    monkeypatch.setenv("GIGAWATT_RUNS_DB", str(db))
    d = tmp_path / "gone"
    d.mkdir()
    run_id = RunsCatalog(db).register(kind="simulate", path=d, scenario="lab", variant="v1", inputs_hash="h",
                                      status="ok", objective_usd=1.5e9, timings={"solve_seconds": 0.25})
    shutil.rmtree(d)
    runner = CliRunner()
    listed = runner.invoke(app, ["runs", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"1 run missing their files: {run_id}" in " ".join(listed.output.split())
    as_json = runner.invoke(app, ["runs", "list", "--json"])
    assert [(r["id"], r["exists"]) for r in json.loads(as_json.output)] == [(run_id, False)]
    shown = runner.invoke(app, ["runs", "show", run_id[:17]])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())  # the table wraps at the terminal's width
    assert "missing: the directory was deleted or moved" in text and f"gigawatt runs rm {run_id}" in text
    removed = runner.invoke(app, ["runs", "rm", run_id])
    assert removed.exit_code == 0, removed.output
    assert RunsCatalog(db).list() == []


def test_runs_cli_lists_filters_and_removes_with_files(tmp_path, monkeypatch):
    db = tmp_path / "runs.duckdb"
    monkeypatch.setenv("GIGAWATT_RUNS_DB", str(db))
    cat = RunsCatalog(db)
    a, b = tmp_path / "a", tmp_path / "b"
    with replace_run_dir(a, kind="solve") as (tmp, written):
        (tmp / "summary.json").write_text("{}")
    b.mkdir()
    id_a = cat.register(kind="solve", path=a, scenario="lab", variant=None, inputs_hash="1", status="optimal",
                        files=written.to_json())
    cat.register(kind="sweep", path=b, scenario="lab", variant=None, inputs_hash="2", status="ok")
    runner = CliRunner()
    res = runner.invoke(app, ["runs", "list", "--kind", "solve", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["id"] for r in rows] == [id_a]
    bad = runner.invoke(app, ["runs", "list", "--kind", "solv"])
    assert bad.exit_code == 1
    assert "Did you mean 'solve'" in bad.output and "Traceback" not in bad.output
    unknown = runner.invoke(app, ["runs", "show", "zzz"])
    assert unknown.exit_code == 1 and "gigawatt runs list" in unknown.output
    res = runner.invoke(app, ["runs", "rm", id_a, "--delete-files"])
    assert res.exit_code == 0, res.output
    assert not a.exists() and b.exists()
    assert [r["kind"] for r in cat.list()] == ["sweep"]


def test_solve_registers_its_run_with_the_hash_of_its_inputs(tmp_path, monkeypatch):
    db = tmp_path / "runs.duckdb"
    monkeypatch.setenv("GIGAWATT_RUNS_DB", str(db))
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["-q", "solve", str(root / "examples" / "minimal.yaml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    (run,) = RunsCatalog(db).list()
    assert run["kind"] == "solve" and run["status"] == "optimal" and run["scenario"] == "minimal-lab"
    assert Path(run["path"]) == out.resolve()
    summary = json.loads((out / "summary.json").read_text())
    assert run["objective_usd"] == pytest.approx(summary["net_present_cost_usd"])
    from gigawatt.scenario.load import read

    assert run["inputs_hash"] == inputs_hash(read(root / "examples" / "minimal.yaml").data)


def test_inputs_hash_ignores_key_order_but_not_values():
    assert inputs_hash({"a": 1, "b": {"c": 2, "d": 3}}) == inputs_hash({"b": {"d": 3, "c": 2}, "a": 1})
    assert inputs_hash({"a": 1}) != inputs_hash({"a": 2})
