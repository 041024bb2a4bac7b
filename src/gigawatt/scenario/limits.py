"""Bounds on what a scenario may contain: sizes, nesting, plausible ranges, and where imports may live.

Everything a hostile or mistyped file could use to hang, exhaust memory or slip a non-finite number past
validation is bounded here, in one place; docs/reliability.md lists the same figures with their reasons
(a test checks the two agree). Every bound is generous: ten to a thousand times the largest real figure.
"""

from __future__ import annotations

import contextvars
import math
from dataclasses import dataclass

from gigawatt import units

# --- documents ------------------------------------------------------------------------------------------
MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest scenario or imported file read (the reference scenario and its imports total about 120 kB)."""
MAX_NODES = 200_000
"""Most YAML values in a document once every alias is expanded (a YAML "billion laughs" stops here)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences (a scenario needs about 8)."""
MAX_IMPORTS = 100
"""Most files read through `imports:` in total, nested imports included."""
MAX_QUANTITY_CHARS = units.MAX_QUANTITY_CHARS
"""Longest quantity string ("11.7 million USD/MW" is 19); the unit parser is not linear in length.
Defined in units.py, which reads quantities and must not import this package."""
MAX_HORIZON_YEARS = 100
"""Longest horizon (1,200 periods at a monthly step): longer than any facility life or contract."""
MAX_INT = 2**53
"""Largest integer read as a number: every integer up to it converts to a float exactly."""

IMPORT_SUFFIXES = (".yaml", ".yml")
"""An imported file must be YAML by name: a file of another kind is never read (nor echoed in an error)."""


@dataclass(frozen=True)
class Range:
    """The plausible values of a quantity in a canonical unit, and why the bound is where it is."""

    high: float
    reason: str
    low: float = 0.0


# Keyed by the canonical unit a field is stored in (units.py): one range per kind of quantity.
RANGES: dict[str, Range] = {
    "MW": Range(1e6, "1,000 GW on one site or contract: about ten times the world's data-centre fleet (~100 GW)"),
    "kW": Range(1e3, "1 MW per chip: hundreds of times a GB300's all-in draw (~2 kW)"),
    "MWh": Range(1e10, "10 PWh: about a third of the world's yearly electricity"),
    "USD": Range(1e15, "1,000 trillion USD: about ten times world GDP"),
    "USD/MW": Range(1e10, "10 billion USD per MW: nearly a thousand times today's build cost (~12 million)"),
    "USD/GW": Range(1e13, "10 trillion USD per GW: some 200 times a gigawatt campus with its chips (~50 billion)"),
    "USD/MWh": Range(1e5, "100,000 USD/MWh: several times the highest wholesale price caps"),
    "USD/hour": Range(1e4, "10,000 USD per chip-hour: over a thousand times an H100's on-demand price"),
    "USD/H100_hour": Range(1e5, "100,000 USD per H100-hour: a penalty or revenue far above any price"),
    "chip": Range(1e10, "10 billion chips: thousands of times any lab's fleet"),
    "FLOP/s": Range(1e30, "1e30 FLOP/s: a thousand times 10 billion chips at 100 PFLOP/s each"),
    "FLOP": Range(1e40, "1e40 FLOP: more than 1e30 FLOP/s for a century"),
    "H100_hour": Range(1e17, "1e17 H100-hours: ten times 10 billion chips for a century"),
    "year": Range(100.0, "100 years: longer than any chip, facility or contract life"),
    "month": Range(1200.0, "1,200 months (100 years), as for years"),
    "second": Range(1e7, "about 4 months of solver time"),
    "hour": Range(876_000.0, "100 years of hours"),
}
GROWTH = Range(100.0, "a series may grow at most 100× (10,000%) a year, and shrink at most 100% a year", low=-1.0)
"""Bounds of a yearly growth rate or relative price change."""

_imports_outside = contextvars.ContextVar("gigawatt_imports_outside", default=False)


def allow_imports_outside(allowed: bool = True) -> contextvars.Token:
    """Let `imports:` name files outside the scenario's folder (the CLI's --allow-imports-outside)."""
    return _imports_outside.set(bool(allowed))


def imports_outside_allowed() -> bool:
    return _imports_outside.get()


def range_of(unit: str) -> Range | None:
    return RANGES.get(unit)


def out_of_range(value: float, unit: str) -> str | None:
    """Why ``value`` (in canonical ``unit``) is not plausible, as an 'expected ...' phrase; None if it is."""
    if not math.isfinite(value):
        return "a finite number"
    r = RANGES.get(unit)
    if r is None or r.low <= value <= r.high:
        return None
    return f"a value from {r.low:g} to {r.high:g} {unit} ({r.reason})"


def growth_out_of_range(value: float) -> str | None:
    """Why a yearly growth rate is not plausible; None if it is."""
    if not math.isfinite(value):
        return "a finite growth rate"
    if GROWTH.low <= value <= GROWTH.high:
        return None
    return f"a yearly rate from {GROWTH.low:g} to {GROWTH.high:g} ({GROWTH.reason})"
