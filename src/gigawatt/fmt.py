"""Money as people read it: one formatter, three styles.

- ``short`` (tables, headlines, reports): "$1.40T", "-$74.7B", "$350.0M", "$12,345";
- ``compact`` (narrow columns): 3 significant figures with k/M/B/T, "$0" under half a dollar, so a
  solver's -1e-7 never prints as "-$0";
- ``words`` (sentences in error messages): "$1.2 billion", "-$350 thousand".

A figure that rounds up to 1,000 of its unit rolls over to the next one: $999,999 is "$1M" (compact) and
$999,999,999.99 is "$1.0B" (short), never "$1e+03k" or "$1,000.0M". Every style prints "–" for none
(None, NaN or infinite). Charts format money on the browser side with the same rules (report/plotting.py).
"""

from __future__ import annotations

import math
from typing import Literal

Style = Literal["short", "compact", "words"]

# per style: (divisor, suffix, number format) from the smallest unit up
_UNITS: dict[str, tuple[tuple[float, str, str], ...]] = {
    "short": ((1.0, "", ",.0f"), (1e6, "M", ",.1f"), (1e9, "B", ",.1f"), (1e12, "T", ",.2f")),
    "compact": ((1.0, "", ".0f"), (1e3, "k", ".3g"), (1e6, "M", ".3g"), (1e9, "B", ".3g"), (1e12, "T", ".3g")),
    "words": ((1.0, "", ".3g"), (1e3, " thousand", ".3g"), (1e6, " million", ".3g"), (1e9, " billion", ".3g"),
              (1e12, " trillion", ".3g")),
}


def _scaled(ax: float, units: tuple[tuple[float, str, str], ...]) -> str:
    """``ax`` (≥ 0) in the largest unit it reaches, moved up one unit when rounding makes it 1,000 or more of
    its unit (the next unit's size)."""
    i = max(k for k, (div, _, _) in enumerate(units) if ax >= div or k == 0)
    while True:
        div, suffix, spec = units[i]
        text = format(ax / div, spec)
        if i + 1 < len(units) and float(text.replace(",", "")) >= units[i + 1][0] / div:
            i += 1
            continue
        if spec.endswith("g") and "e" in text:  # beyond the largest unit: whole numbers with separators
            text = f"{ax / div:,.0f}"
        return text + suffix


def usd(x: float | None, *, style: Style = "short") -> str:
    """``x`` dollars in ``style`` (see the module docstring)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    ax = abs(float(x))
    sign = "-" if x < 0 else ""
    if style == "compact" and ax < 0.5:
        return "$0"
    return f"{sign}${_scaled(ax, _UNITS[style])}"


def without_negative_zero(frame):
    """A copy of a pandas frame whose float columns hold 0.0 where they held -0.0 (a CSV must not say "-0.0":
    x + 0.0 is +0.0 for either zero and x for every other float, NaN included)."""
    out = frame.copy()
    floats = out.select_dtypes(include="floating").columns
    if len(floats):
        out[floats] = out[floats] + 0.0
    return out


__all__ = ["usd", "Style", "without_negative_zero"]
