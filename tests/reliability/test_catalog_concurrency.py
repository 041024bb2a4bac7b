"""Several `gigawatt` processes on one runs catalog at once: readers never fail, writers wait, no row is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from gigawatt.cli import app
from gigawatt.runs import RunsCatalog

LIST = "import sys; from gigawatt.cli import main; sys.argv = ['gigawatt', 'runs', 'list', '--json']; main()"
REGISTER = """
import sys, pathlib
from gigawatt.runs import RunsCatalog
for i in range(3):
    d = pathlib.Path(sys.argv[1]) / f"run{i}"
    d.mkdir(parents=True)
    RunsCatalog().register(kind="solve", path=d, scenario="lab", variant=None, inputs_hash=str(i), status="optimal")
"""
HOLD_LOCK = """
import sys, time
from filelock import FileLock
with FileLock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_six_processes_listing_and_registering_at_once_all_succeed(tmp_path):
    db = tmp_path / "runs.duckdb"
    env = {**os.environ, "GIGAWATT_RUNS_DB": str(db)}
    RunsCatalog(db).register(kind="solve", path=tmp_path, scenario="seed", variant=None, inputs_hash="0",
                             status="optimal")  # the database exists: readers open it, not an empty stand-in
    procs = []
    for i in range(6):
        cmd = [sys.executable, "-c", REGISTER, str(tmp_path / f"w{i}")] if i % 2 else [sys.executable, "-c", LIST]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0] * 6, [err[-2000:] for _, _, err in results]
    for i, (_, stdout, _) in enumerate(results):
        if i % 2 == 0:
            assert json.loads(stdout)[-1]["scenario"] == "seed"  # every reader saw a whole catalog
    runs = RunsCatalog(db).list()
    assert len(runs) == 1 + 3 * 3 and len({r["id"] for r in runs}) == 10


def test_a_writer_that_waits_too_long_says_why_and_the_run_survives(tmp_path, monkeypatch):
    db = tmp_path / "runs.duckdb"
    monkeypatch.setenv("GIGAWATT_RUNS_DB", str(db))
    monkeypatch.setenv("GIGAWATT_RUNS_LOCK_TIMEOUT", "0.5")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db) + ".lock"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        res = CliRunner().invoke(app, ["runs", "list"])
        assert res.exit_code == 3, res.output
        text = " ".join(res.output.split())
        assert "busy" in text and "GIGAWATT_RUNS_LOCK_TIMEOUT" in text and "Traceback" not in res.output
        from gigawatt.runs import register_quietly

        d = tmp_path / "run"
        d.mkdir()
        assert register_quietly(kind="solve", path=d, scenario="x", variant=None, inputs_hash="h",
                                status="optimal") is None  # logged, not fatal: the run's files stay
        assert d.is_dir()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert RunsCatalog(db).list() == []


def test_runs_module_imports_without_fcntl(monkeypatch):
    """The catalog must import where fcntl does not exist (Windows)."""
    import importlib

    import gigawatt.runs as runs

    monkeypatch.setitem(sys.modules, "fcntl", None)  # `import fcntl` now raises ImportError
    try:
        importlib.reload(runs)
        assert Path(runs.__file__).name == "runs.py" and hasattr(runs, "RunsCatalog")
    finally:
        monkeypatch.delitem(sys.modules, "fcntl")
        importlib.reload(runs)
