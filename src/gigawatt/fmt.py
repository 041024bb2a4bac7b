"""Money as people read it in tables and headlines: "$1.4T", "-$74.7B", "$350.0M", "–" for none."""

from __future__ import annotations

import math


def usd(x: float | None) -> str:
    """Compact dollars: trillions with 2 decimals, billions and millions with 1, else whole dollars."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    ax = abs(x)
    for div, s in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if ax >= div:
            return f"{'-' if x < 0 else ''}${ax / div:,.{2 if div == 1e12 else 1}f}{s}"
    return f"{'-' if x < 0 else ''}${ax:,.0f}"


__all__ = ["usd"]
