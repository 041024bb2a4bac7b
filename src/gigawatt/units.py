"""Quantities with units at the input boundary: "4.5 GW", "$38B", "2.35 USD/h" → canonical floats.

pint is used here and nowhere else. Everything past this module is a plain float in the canonical unit
its name carries (power_mw, price_usd_per_chip_hour, ...).

Canonical units: power MW, energy MWh, money USD, time hours (durations) or years (lives, terms),
compute FLOP, compute rate FLOP/s, chips (count).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import pint

MAX_QUANTITY_CHARS = 200
"""Longest quantity string read ("11.7 million USD/MW" is 19): the preprocessing is not linear in length.
Listed with the other input bounds in gigawatt.scenario.limits (units sits below the scenario package)."""

# One hour of an H100 SXM at its dense BF16 peak (hardware.md §1: 989 TFLOP/s [S1][S2]).
H100_PEAK_BF16_FLOP_PER_S = 989e12

_MULTIPLIERS = {
    "k": 1e3, "thousand": 1e3,
    "m": 1e6, "mn": 1e6, "million": 1e6, "millions": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9, "billions": 1e9,
    "t": 1e12, "tn": 1e12, "trillion": 1e12, "trillions": 1e12,
}

# "$38B", "$1.4 trillion", "$2.35/h", "$30k per chip" → number, multiplier, rest.
_DOLLAR = re.compile(
    r"^\$\s*(?P<num>[0-9][0-9,]*\.?[0-9]*(?:[eE][-+]?[0-9]+)?)\s*"
    r"(?P<mult>k|thousand|m|mn|million|b|bn|billion|t|tn|trillion)?\b\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_WORD_MULT = re.compile(r"\b(thousand|million|millions|billion|billions|trillion|trillions)\b", re.IGNORECASE)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


class UnitError(ValueError):
    """A quantity that cannot be read, or has the wrong dimension. The message says what was expected."""


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    ureg.define("FLOP = [compute] = flop = FLOPs")
    ureg.define("USD = [currency] = usd = dollar = dollars")
    ureg.define("chip = [chips] = chips = gpu = gpus = GPU = GPUs")
    ureg.define("chip_hour = chip * hour = chip_hours = chiphour = chiphours")
    ureg.define("H100_hour = [h100_reference] = h100_hour = H100_hours = h100_hours = H100h")
    ureg.define("tokens = [] = token")
    return ureg


def _normalise(text: str) -> str:
    s = text.strip()
    s = s.replace("\u2009", " ").replace("\u00a0", " ")
    s = _THOUSANDS.sub("", s)
    m = _DOLLAR.match(s)
    if m:
        num = float(m.group("num").replace(",", ""))
        mult = _MULTIPLIERS[m.group("mult").lower()] if m.group("mult") else 1.0
        rest = m.group("rest").strip()
        rest = re.sub(r"^per\s+", "/ ", rest)
        rest = rest if rest.startswith("/") or not rest else "* " + rest
        s = f"{num * mult!r} USD {rest}".strip()
    # "38 billion USD", "USD 38 billion"
    s = re.sub(r"^USD\s+([0-9].*)$", r"\1 USD", s)
    s = _WORD_MULT.sub(lambda mm: f"* {_MULTIPLIERS[mm.group(1).lower()]!r} *", s)
    s = re.sub(r"\*\s*\*", "*", s)
    s = re.sub(r"\*\s*$", "", s).strip()
    s = re.sub(r"\bper\b", "/", s)
    s = s.replace("%", " percent")
    return s


def parse(value: str | float | int, unit: str, *, plain_ok: bool = False) -> float:
    """Read a quantity and return it as a float in ``unit``.

    Parameters
    ----------
    value
        A string with a unit ("4.5 GW", "$38B", "2.35 USD/h"), or a plain number when ``plain_ok``
        (the field's documentation then names the unit the number is in).
    unit
        The canonical unit to return, in pint syntax ("MW", "USD", "USD/hour", "FLOP/s").
    plain_ok
        Whether a bare number is accepted as already being in ``unit``.
    """
    ureg = registry()
    if isinstance(value, bool):
        raise UnitError(f"a quantity in {describe(unit)}, e.g. {example(unit)!r}, not a boolean")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            raise UnitError("a number, not NaN")
        if not _finite(value):
            raise UnitError("a finite number")
        if not plain_ok:
            raise UnitError(
                f"a quantity with a unit of {describe(unit)}, e.g. {example(unit)!r}; "
                "a bare number is ambiguous here, write the unit"
            )
        return float(value)
    if not isinstance(value, str):
        raise UnitError(f"a quantity string such as {example(unit)!r}")
    _check_length(value)
    out, error = _parse_known(value, unit, plain_ok)
    if error is not None:
        raise UnitError(error)
    return out


@lru_cache(maxsize=16384)
def _parse_known(value: str, unit: str, plain_ok: bool) -> tuple[float, str | None]:
    """:func:`_parse_text`'s outcome, remembered: (the value, None), or (nan, the message of the UnitError
    it raised). The registry's definitions are fixed, so a text read once in a unit reads (or fails to
    read) the same again: pint runs once per distinct (text, unit) per process, not once per sweep task.
    Keeping the refusals matters as much as the values: a series tries its units in turn (try_parse), so
    "5 million H100_hours" is refused as FLOP, a refusal whose message names the dimension (_dim_of, a
    dozen conversions) before it is read as H100_hour. Any other exception is not kept and propagates."""
    try:
        return _parse_text(value, unit, plain_ok=plain_ok), None
    except UnitError as exc:
        return math.nan, str(exc)
    except OverflowError:
        return math.nan, f"a finite quantity, but {value!r} is too large for a number"


def _parse_text(value: str, unit: str, *, plain_ok: bool) -> float:
    ureg = registry()
    text = _normalise(value)
    try:
        q = ureg.Quantity(text)
    except Exception as exc:  # pint raises several types for unparsable text
        raise UnitError(f"a quantity such as {example(unit)!r} (could not read it: {exc})") from None
    if not isinstance(q, pint.Quantity):
        q = ureg.Quantity(float(q), "")
    if q.dimensionless and not ureg.Quantity(1, unit).dimensionless:
        if not plain_ok:
            raise UnitError(f"a quantity with a unit of {describe(unit)}, e.g. {example(unit)!r}")
        out = float(q.to("").magnitude)
    else:
        out = _magnitude(q, unit, value)
    if math.isnan(out):
        raise UnitError("a number, not NaN")
    if math.isinf(out):
        raise UnitError(f"a finite quantity, but {value!r} is infinite (or too large for a number)")
    return out


def _magnitude(q: pint.Quantity, unit: str, value: str) -> float:
    try:
        out = float(q.to(unit).magnitude)
    except pint.DimensionalityError:
        raise UnitError(
            f"a quantity of {describe(unit)}, such as {example(unit)!r}, but {value!r} is {_dim_of(q)}"
        ) from None
    return out


def _finite(value: int | float) -> bool:
    """Whether a plain number is finite and converts to a float (a huge int does not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _check_length(text: str) -> None:
    """Refuse a quantity string too long to be one: the parser's preprocessing is not linear in length."""
    if len(text) > MAX_QUANTITY_CHARS:
        raise UnitError(f"a quantity of at most {MAX_QUANTITY_CHARS} characters, not {len(text):,}")


def try_parse(value: str | float | int, units: list[str], *, plain_ok: bool = False) -> tuple[float, str]:
    """Parse against several acceptable units (e.g. FLOP, FLOP/s, H100_hour); return value and the unit matched."""
    errors = []
    for unit in units:
        try:
            return parse(value, unit, plain_ok=plain_ok and unit == units[0]), unit
        except UnitError as exc:
            errors.append(str(exc))
    if len(units) == 1:  # the one reason is the whole story (wrong dimension, bare number, unreadable)
        raise UnitError(errors[0])
    wanted = " or ".join(describe(u) for u in units) + f", such as {example(units[0])!r}"
    raise UnitError(f"a quantity of {wanted}, but {_what_is(value)}")


def _what_is(value: str | float | int) -> str:
    """Say what ``value`` is, for a message that lists several acceptable kinds of quantity."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return f"{value!r} is not a quantity"
    if isinstance(value, (int, float)):
        return f"{value!r} is a bare number, which is ambiguous here: write the unit"
    if len(value) > MAX_QUANTITY_CHARS:
        return f"a string of {len(value):,} characters is too long to be a quantity (at most {MAX_QUANTITY_CHARS})"
    try:
        q = registry().Quantity(_normalise(value))
    except Exception:  # pint raises several types for unparsable text
        return f"{value!r} cannot be read as a number with a unit"
    if not isinstance(q, pint.Quantity) or q.dimensionless:
        return f"{value!r} has no unit, which is ambiguous here: write the unit"
    return f"{value!r} is {_dim_of(q)}"


def format_quantity(value: float, unit: str) -> str:
    """The inverse of :func:`parse` for a canonical unit: a string parse() reads back to ``value`` exactly."""
    return f"{float(value)!r} {unit}"


def _dim_of(q: pint.Quantity) -> str:
    """Name the kind of quantity ``q`` is, in words ("power", "money"), for error messages."""
    if q.dimensionless:
        return "a bare number"
    for unit in _DESCRIBE:
        try:
            q.to(unit)
        except (pint.DimensionalityError, pint.UndefinedUnitError):
            continue
        return f"{_DESCRIBE[unit]}"
    return f"in {q.units:~} ({q.dimensionality})"


_DESCRIBE = {
    "MW": "power (e.g. MW, GW)",
    "MWh": "energy (e.g. MWh)",
    "USD": "money (USD)",
    "USD/hour": "a price per hour (e.g. USD/h)",
    "USD/MW": "money per unit of power (e.g. USD/MW)",
    "USD/MWh": "an energy price (e.g. USD/MWh)",
    "FLOP": "compute (FLOP)",
    "FLOP/s": "a compute rate (FLOP/s)",
    "H100_hour": "H100-hours",
    "hour": "time",
    "year": "time (e.g. years)",
    "month": "time (e.g. months)",
    "kW": "power (e.g. kW)",
    "chip": "a number of chips",
    "USD/H100_hour": "a price per H100-hour",
    "chip_hour": "chip-hours",
}

_EXAMPLES = {
    "MW": "4.5 GW",
    "MWh": "120 MWh",
    "USD": "38 billion USD",
    "USD/hour": "2.35 USD/h",
    "USD/MW": "11.7 million USD/MW",
    "USD/MWh": "60 USD/MWh",
    "FLOP": "2e27 FLOP",
    "FLOP/s": "2.5 PFLOP/s",
    "H100_hour": "5 million H100_hours",
    "hour": "8760 hours",
    "year": "7 years",
    "month": "18 months",
    "kW": "1.2 kW",
    "chip": "400,000 chips",
    "USD/H100_hour": "4 USD/H100_hour",
    "chip_hour": "16 billion chip_hours",
}


def describe(unit: str) -> str:
    return _DESCRIBE.get(unit, unit)


def example(unit: str) -> str:
    return _EXAMPLES.get(unit, f"1 {unit}")
