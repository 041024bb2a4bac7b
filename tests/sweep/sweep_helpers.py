"""Helpers for the sweep tests: the risk tests' small scenario (tests/risk/risk_helpers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "risk"))

from risk_helpers import SCENARIO, UNCERTAINTY, portfolio_of, write_scenario  # noqa: E402

# a demand no capacity can meet: infeasible when unmet demand is not allowed
HUGE = "900 billion H100_hours"
NO_UNMET = "config.solve.allow_unmet=false"

__all__ = ["SCENARIO", "UNCERTAINTY", "portfolio_of", "write_scenario", "HUGE", "NO_UNMET"]
