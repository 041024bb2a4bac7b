"""Shared fixtures (helpers live in helpers.py)."""

from __future__ import annotations

import pytest
from helpers import ROOT


@pytest.fixture(scope="session")
def minimal_run(tmp_path_factory):
    """examples/minimal.yaml solved once into a run directory (no runs-catalog registration)."""
    from typer.testing import CliRunner

    from gigawatt.cli import app

    out = tmp_path_factory.mktemp("runs") / "minimal"
    result = CliRunner().invoke(app, ["solve", str(ROOT / "examples" / "minimal.yaml"), "--out", str(out),
                                      "--no-register"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory):
    """scenarios/openai.yaml (the reference scenario) solved once per test process through the CLI, as a
    user runs it (not quiet, 200 columns, no runs-catalog registration): ``.path`` the run directory (read
    it, never write it: copy it first), ``.output`` what the command printed. Tests that only need the
    reference's files or output share it instead of solving the reference again."""
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from gigawatt.cli import app

    out = tmp_path_factory.mktemp("reference") / "openai"
    result = CliRunner().invoke(app, ["solve", str(ROOT / "scenarios" / "openai.yaml"), "--out", str(out),
                                      "--no-register"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return SimpleNamespace(path=out, output=result.output)


@pytest.fixture(autouse=True, scope="session")
def _runs_catalog_in_tmp(tmp_path_factory):
    """Every test registers runs in a throwaway catalog, never in the user's data directory."""
    import os

    path = tmp_path_factory.mktemp("catalog") / "runs.duckdb"
    old = os.environ.get("GIGAWATT_RUNS_DB")
    os.environ["GIGAWATT_RUNS_DB"] = str(path)
    yield path
    if old is None:
        os.environ.pop("GIGAWATT_RUNS_DB", None)
    else:
        os.environ["GIGAWATT_RUNS_DB"] = old
