"""Exit codes the commands do not set themselves: usage errors 4 (2 means infeasible), Ctrl-C 130 with a message;
and solver temporary files that never stay behind."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import ROOT
from typer.testing import CliRunner

from gigawatt import cli
from gigawatt.cli import app


@pytest.mark.parametrize("args", [
    ["solve", str(ROOT / "examples" / "minimal.yaml")],  # missing --out
    ["solve", str(ROOT / "examples" / "minimal.yaml"), "--out", "x", "--no-such-flag"],
    ["simulate", "run", "--draws", "many"],  # a value click rejects
    ["runs", "rm"],  # missing argument of a sub-app's command
    ["solvee"],  # unknown command
])
def test_usage_errors_exit_4(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 4, res.output
    assert "Traceback" not in res.output
    assert list(tmp_path.iterdir()) == []


def _main(monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["gigawatt", *args])
    with pytest.raises(SystemExit) as info:
        cli.main()
    captured = capsys.readouterr()
    return info.value.code, captured.out + captured.err


def test_main_exits_4_on_a_usage_error(monkeypatch, capsys):
    code, output = _main(monkeypatch, capsys, "schema", "--markdwn")
    assert code == 4 and "No such option" in output


def test_ctrl_c_after_the_work_is_done_exits_130_with_a_message(tmp_path, monkeypatch, capsys):
    """The interrupt lands after the command's work, outside its own error handling (cli.guarded)."""
    import functools

    from gigawatt.commands.runs import app as runs_app

    monkeypatch.setenv("GIGAWATT_RUNS_DB", str(tmp_path / "runs.duckdb"))
    (info,) = [c for c in runs_app.registered_commands if c.name == "list"]
    work = info.callback

    @functools.wraps(work)
    def work_then_interrupted(*args, **kwargs):
        work(*args, **kwargs)  # the listing is printed: the work is done
        raise KeyboardInterrupt

    monkeypatch.setattr(info, "callback", work_then_interrupted)
    code, output = _main(monkeypatch, capsys, "runs", "list")
    assert code == 130
    assert "0 runs in" in " ".join(output.split()) and "interrupted" in output


def test_ctrl_c_that_typer_turns_into_a_silent_130_still_gets_a_message(monkeypatch, capsys):
    from gigawatt.commands import exitcodes

    def typer_app(args, prog_name):  # what typer does with an interrupt outside the command: exit 130, no word
        raise SystemExit(130)

    exitcodes._reported["interrupt"] = False
    with pytest.raises(SystemExit) as info:
        exitcodes.run(typer_app, [])
    assert info.value.code == 130 and "interrupted" in capsys.readouterr().err


def test_ctrl_c_during_the_work_is_reported_once(monkeypatch, capsys):
    from gigawatt.commands import catalog as catalog_cmd

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(catalog_cmd, "show_catalog", interrupted)
    code, output = _main(monkeypatch, capsys, "catalog")
    assert code == 130 and output.count("interrupted") == 1


def test_solver_temporary_files_go_to_a_folder_gigawatt_cleans(tmp_path, monkeypatch):
    import os
    import tempfile

    from gigawatt.optimize.solve import SCRATCH_PREFIX, scratch_root, solver_scratch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    root = scratch_root()
    assert root.parent == tmp_path
    root.mkdir()
    dead = root / f"{SCRATCH_PREFIX}999999999-abc"  # left by a solve that was killed
    dead.mkdir()
    (dead / "linopy-problem-x.lp").write_text("min: x;")
    alive = root / f"{SCRATCH_PREFIX}{os.getppid()}-abc"  # a solve still running
    alive.mkdir()
    with solver_scratch() as scratch:
        assert scratch.parent == root and scratch.is_dir()
        (scratch / "linopy-solve-y.sol").write_text("x = 1")
    assert not scratch.exists() and not dead.exists() and alive.exists()


def test_a_solve_puts_linopys_files_in_its_scratch_folder_and_removes_it(tmp_path, monkeypatch):
    import linopy
    from helpers import build_test_portfolio

    from gigawatt.optimize import optimize
    from gigawatt.optimize.solve import scratch_root

    seen = []
    real = linopy.Model.get_problem_file

    def spy(self, *args, **kwargs):
        path = real(self, *args, **kwargs)
        seen.append(Path(path))
        return path

    monkeypatch.setattr(linopy.Model, "get_problem_file", spy)
    p = build_test_portfolio(tmp_path, """
        providers:
          cloud: {kind: cloud, offers: {h100: {on_demand_price: 2 USD/h}}}
        workloads:
          train: {kind: training, demand: {2025: 1000 H100_hours, 2026: 1000 H100_hours, 2027: 1000 H100_hours}}
        """)
    assert optimize(p).status == "optimal"
    assert seen and all(f.parent.parent == scratch_root() for f in seen)  # not the system temp folder itself
    assert not any(f.parent.exists() for f in seen)  # the scratch folder is gone after the solve
