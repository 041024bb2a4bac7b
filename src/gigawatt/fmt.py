"""Money as people read it: one formatter, three styles.

- ``short`` (tables, headlines, reports): "$1.40T", "-$74.7B", "$350.0M", "$12,345";
- ``compact`` (narrow columns): 3 significant figures with k/M/B/T, "$0" under half a dollar, so a
  solver's -1e-7 never prints as "-$0";
- ``words`` (sentences in error messages): "$1.2 billion", "-$350 thousand".

Every style prints "–" for none (None, NaN or infinite).
"""

from __future__ import annotations

import math
from typing import Literal

Style = Literal["short", "compact", "words"]


def usd(x: float | None, *, style: Style = "short") -> str:
    """``x`` dollars in ``style`` (see the module docstring)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    ax = abs(x)
    sign = "-" if x < 0 else ""
    if style == "compact":
        if ax < 0.5:
            return "$0"
        for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
            if ax >= div:
                v = ax / div
                return f"{sign}${v:.3g}{suffix}" if v < 1000 else f"{sign}${v:,.0f}{suffix}"
        return f"{sign}${ax:.0f}"
    if style == "words":
        for div, suffix in ((1e12, " trillion"), (1e9, " billion"), (1e6, " million"), (1e3, " thousand")):
            if ax >= div:
                return f"{sign}${ax / div:.3g}{suffix}"
        return f"{sign}${ax:.3g}"
    for div, s in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if ax >= div:
            return f"{sign}${ax / div:,.{2 if div == 1e12 else 1}f}{s}"
    return f"{sign}${ax:,.0f}"


__all__ = ["usd", "Style"]
