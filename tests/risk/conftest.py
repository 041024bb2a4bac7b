"""Fixtures for the risk tests (helpers in risk_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from risk_helpers import ZERO, solve_to_run, write_scenario


@pytest.fixture(scope="session")
def risk_run(tmp_path_factory) -> Path:
    """The test scenario (with uncertainty) solved into a run directory."""
    tmp = tmp_path_factory.mktemp("risk")
    return solve_to_run(write_scenario(tmp), tmp / "run")


@pytest.fixture(scope="session")
def zero_run(tmp_path_factory) -> Path:
    """The same scenario with zero-variance uncertainty (every factor exactly 1, no event)."""
    tmp = tmp_path_factory.mktemp("zero")
    return solve_to_run(write_scenario(tmp, ZERO), tmp / "run")
