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


def drain(plan, seconds: float | None = None) -> list[list]:
    """Every chunk a :class:`gigawatt.sweep.chunks.Chunks` hands out, in order; with ``seconds``, each chunk's
    tasks reported back as ok rows of that time (without: the sizes it gives before any time is known)."""
    out = []
    while plan:
        chunk = plan.next()
        out.append(chunk)
        if seconds is not None:
            plan.observe([{"status": "ok", "elapsed_s": seconds}] * len(chunk))
    return out
