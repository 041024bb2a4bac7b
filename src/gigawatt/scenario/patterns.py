"""Regular expressions an editor checks a quantity string against, one per dimension (JSON Schema ``pattern``).

They are a guide for editors (ECMA-262 syntax, no flags), a little looser than gigawatt.units, which
stays the judge: a string matching its pattern may still be refused (an unknown prefix, an implausible
value), but a string of the wrong dimension ("4.5 GW" where money is expected) does not match.
"""

from __future__ import annotations

_NUM = r"[-+]?[0-9][0-9,_]*(\.[0-9]*)?([eE][-+]?[0-9]+)?"
_MULT = r"(\s*([kKmMbBtT]|mn|bn|tn|thousand|millions?|billions?|trillions?))?"
_PER = r"\s*(/|per)\s*"
_USD = r"(USD|usd|dollars?)"
_WATT = r"([kKMGT]?W|(kilo|mega|giga|tera)?watts?)"
_HOUR = r"(h|hr|hrs|hours?)"
_TIME = r"(s|sec|seconds?|min|minutes?|h|hr|hours?|d|days?|weeks?|months?|y|yr|years?)"
_H100H = r"([Hh]100_hours?|[Hh]100h)"


def _money_per(per: str) -> str:
    """USD per ``per``: "2.35 USD/h", "$2.35/h", "11.7 million USD/MW", "USD 4 per H100_hour"."""
    return (rf"^\s*(\${_NUM}{_MULT}\s*{_PER}{per}|(USD\s+)?{_NUM}{_MULT}\s*({_USD})?{_PER}{per}"
            rf"|{_NUM}{_MULT}\s*{_USD}{_PER}{per})\s*$")


def _plain(unit: str) -> str:
    return rf"^\s*{_NUM}{_MULT}\s*{unit}\s*$"


PATTERNS = {
    "MW": _plain(_WATT),
    "kW": _plain(_WATT),
    "USD": rf"^\s*(\${_NUM}{_MULT}|{_NUM}{_MULT}\s*{_USD}|USD\s+{_NUM}{_MULT})\s*$",
    "USD/hour": _money_per(_HOUR),
    "USD/MW": _money_per(_WATT),
    "USD/GW": _money_per(_WATT),
    "USD/MWh": _money_per(rf"[kKMGT]?Wh"),
    "USD/H100_hour": _money_per(_H100H),
    "FLOP": _plain(r"[kMGTPEZ]?FLOPs?"),
    "FLOP/s": _plain(r"[kMGTPEZ]?FLOP(s?\s*/\s*s)?"),
    "H100_hour": _plain(_H100H),
    "chip": _plain(r"(chips?|GPUs?|gpus?)"),
    "year": _plain(_TIME),
    "month": _plain(_TIME),
    "hour": _plain(_TIME),
    "second": _plain(_TIME),
}
PERCENT = rf"^\s*{_NUM}\s*(%|percent)?\s*$"
"""A fraction written as a string: "75%" (or a number in a string, "0.75")."""


def quantity_pattern(unit: str, plain_ok: bool = False) -> str | None:
    """The pattern of a quantity in canonical ``unit`` (None for a unit without one); with ``plain_ok`` a
    bare number in a string ("50,000") matches too."""
    pattern = PATTERNS.get(unit)
    if pattern is None or not plain_ok:
        return pattern
    return rf"({pattern})|(^\s*{_NUM}{_MULT}\s*$)"


__all__ = ["PATTERNS", "PERCENT", "quantity_pattern"]
