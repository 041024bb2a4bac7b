"""What a command adds to a run directory beside the plan (hedge's `stochastic` block), and errors that
cross a process boundary (a decomposition or sweep worker)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def minimal_plan():
    from gigawatt.optimize import optimize
    from gigawatt.portfolio import Portfolio

    portfolio = Portfolio.from_file(ROOT / "examples" / "minimal.yaml")
    return optimize(portfolio, confirm_binding=0)


def test_extra_summary_is_json_safe_and_cannot_replace_own_keys(minimal_plan, tmp_path):
    """NaN becomes null and numpy scalars keep their type (a year stays an int, not 2027.0); a key of
    summary.json's own is refused before anything is written."""
    from gigawatt.results import write_run_dir

    extra = {"stochastic": {"gap": np.float64("nan"), "year": np.int64(2027), "ok": np.bool_(True)}}
    summ, _ = write_run_dir(minimal_plan, tmp_path / "run", resolved_yaml="{}", extra_summary=extra)
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())["stochastic"]
    assert on_disk == {"gap": None, "year": 2027, "ok": True} and isinstance(on_disk["year"], int)
    with pytest.raises(ValueError, match="own keys"):
        write_run_dir(minimal_plan, tmp_path / "run2", resolved_yaml="{}", extra_summary={"status": "x"})
    assert not (tmp_path / "run2").exists()


def test_scenario_error_survives_pickling():
    """A worker's ScenarioError comes back with its problems, not its message split into characters."""
    from gigawatt.errors import Problem, ScenarioError

    e = ScenarioError([Problem("too few futures", path="--futures", value=0, expected="at least 1", fix="e.g. 20")],
                      title="bad option")
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is ScenarioError and back.title == "bad option" and len(back.problems) == 1
    assert str(back) == str(e)
