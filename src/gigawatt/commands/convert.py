"""`gigawatt convert`: gigawatts ↔ chips ↔ FLOP/s ↔ dollars ↔ chip-hours for one accelerator."""

from __future__ import annotations

import math
import re

import pandas as pd
from rich.console import Console

from gigawatt import units
from gigawatt.catalog import PUE_REFERENCE
from gigawatt.errors import Problem, ScenarioError, did_you_mean
from gigawatt.fmt import usd

TARGETS = ("chips", "flops", "power", "capex", "chip-hours", "usd")
HOURS_PER_YEAR = 8766.0  # 365.25 days: a term in years becomes chip-hours at this rate


def _bad(what: str, path: str, value, expected: str, fix: str) -> ScenarioError:
    return ScenarioError(Problem(what, path=path, value=value, expected=expected, fix=fix), title="cannot convert")


def convert(quantity: str, *, accelerator: str, to: str, price: str | None = None,
            utilisation: float | None = None, term: str | None = None) -> tuple[float, str, list[str]]:
    """Return (value, unit, assumptions) converting ``quantity`` for ``accelerator``.

    Money and chip-hours convert into each other at a price per chip-hour (``price``, default the
    catalog's committed, else on-demand, price); chips and chip-hours into each other over ``term``. Money
    with a ``term`` means renting: the chips the amount keeps running over the term at the price; money
    without one means buying: chips at the catalog's purchase price. A ``price`` or ``term`` that the
    conversion would not use is refused (exit 1), never ignored.
    """
    used: set[str] = set()
    value, unit, notes = _convert(quantity, accelerator=accelerator, to=to, price=price, utilisation=utilisation,
                                  term=term, used=used)
    for flag, given in (("--price", price), ("--term", term)):
        if given is not None and flag not in used:
            raise _bad(f"{flag} is not used by this conversion", flag, given,
                       "--price for money ↔ chip-hours (and money → chips over a --term); --term for chips ↔ "
                       "chip-hours and for money → chips rented over the term",
                       f"drop {flag}" + (", or add --term to rent chips over a term instead of buying them"
                                        if flag == "--price" and to in ("chips", "power", "flops") else "") + ".")
    return value, unit, notes


def _convert(quantity: str, *, accelerator: str, to: str, price: str | None, utilisation: float | None,
             term: str | None, used: set[str]) -> tuple[float, str, list[str]]:
    """The conversion itself; ``used`` collects the flags (--price, --term) it took."""
    from gigawatt.catalog import load_catalog

    cat = load_catalog()
    aid = accelerator.lower()
    if aid not in cat.index:
        raise _bad(f"unknown accelerator '{accelerator}'", "--accelerator", accelerator,
                   "a catalog id: " + ", ".join(cat.index), "use `gigawatt catalog` to list them." + did_you_mean(aid, cat.index))
    if to not in TARGETS:
        raise _bad("unknown target", "--to", to, ", ".join(TARGETS), "pick one." + did_you_mean(to, TARGETS))
    c = _Conversion(cat.loc[aid], aid, quantity, to, price=price, utilisation=utilisation, term=term, used=used)
    text = re.sub(r"\bchip[- ]hours?\b", "chip_hours", quantity, flags=re.IGNORECASE)
    try:
        c.value, c.unit = units.try_parse(text, ["MW", "chip", "USD", "FLOP/s", "chip_hour"], plain_ok=False)
    except units.UnitError as exc:
        raise _bad("cannot read the quantity", "QUANTITY", quantity,
                   "power (10 GW), chips (1 million chips), money ($38B), a rate (2 EFLOP/s) or chip-hours "
                   "(16 billion chip-hours)", str(exc)) from None
    if c.unit == "chip_hour" or to in ("chip-hours", "usd"):
        return c.via_chip_hours()
    return c.from_chips(c.chips())


class _Conversion:
    """One conversion for one accelerator: its catalog row, the options given, the assumptions made
    (``notes``, in the order they were needed) and the flags used (``used``)."""

    def __init__(self, row: pd.Series, aid: str, quantity: str, to: str, *, price: str | None,
                 utilisation: float | None, term: str | None, used: set[str]):
        self.row, self.aid, self.quantity, self.to = row, aid, quantity, to
        self.price, self.utilisation, self.term, self.used = price, utilisation, term, used
        self.value, self.unit = 0.0, ""
        self.notes: list[str] = []

    def figure(self, col: str, label: str) -> float:
        v = self.row[col]
        if pd.isna(v):
            raise _bad(f"the catalog has no {label} for {self.aid}", "--accelerator", self.aid,
                       f"an accelerator with a published {label}", "pick another accelerator (gigawatt catalog)")
        return float(v)

    def price_per_chip_hour(self) -> float:
        """--price, else the catalog's committed, else on-demand, price per chip-hour."""
        price, row, notes, used = self.price, self.row, self.notes, self.used
        used.add("--price")
        if price is not None:
            try:
                p = units.parse(price, "USD/hour")
            except units.UnitError as exc:
                raise _bad("cannot read the price", "--price", price, "a price per chip-hour (2.35 USD/h)",
                           str(exc)) from None
            if p <= 0:
                raise _bad("the price must be positive", "--price", price, "a price per chip-hour > 0",
                           "give a positive price, e.g. --price '2.35 USD/h'")
            notes.append(f"price ${p:.2f} per chip-hour (--price)")
            return p
        col = ("committed_price_usd_per_chip_hour" if pd.notna(row["committed_price_usd_per_chip_hour"])
               else "rental_price_usd_per_chip_hour")
        p = self.figure(col, "chip-hour price")
        notes.append(f"price ${p:.2f} per chip-hour (catalog {col.split('_')[0]} price; --price to change it)")
        return p

    def term_hours(self, why: str) -> float:
        """Hours per chip over --term (``why`` names the conversion that needs it)."""
        term, notes, used = self.term, self.notes, self.used
        used.add("--term")
        if term is None:
            raise _bad(f"{why} needs a term", "--term", None, "a duration such as '7 years'",
                       "add --term, e.g. --term '7 years'")
        try:
            years = units.parse(term, "year")
        except units.UnitError as exc:
            raise _bad("cannot read the term", "--term", term, "a duration such as '7 years'", str(exc)) from None
        if years <= 0:
            raise _bad("the term must be positive", "--term", term, "a duration > 0", "e.g. --term '7 years'")
        notes.append(f"a term of {years:g} years = {years * HOURS_PER_YEAR:,.0f} hours per chip")
        return years * HOURS_PER_YEAR

    def via_chip_hours(self) -> tuple[float, str, list[str]]:
        """The money ↔ chip-hours ↔ chips-over-a-term family."""
        value, unit, to, term, notes, quantity = self.value, self.unit, self.to, self.term, self.notes, self.quantity
        if unit == "chip_hour":
            hours = value
        elif unit == "USD":
            hours = value / self.price_per_chip_hour()
        elif unit == "chip":
            hours = value * self.term_hours("chips → chip-hours")
        else:
            raise _bad("chip-hours and dollars are converted from money, chips or chip-hours", "QUANTITY", quantity,
                       "a dollar amount ($38B), chips (263,000 chips) with --term, or chip-hours",
                       "give one of those")
        if to == "chip-hours":
            if unit == "USD" and term is not None:
                chips_over = hours / self.term_hours("")
                notes.append(f"that is {_human(chips_over)} chips running for the whole term")
            elif unit != "chip":
                notes.append(f"that is {_human(hours / HOURS_PER_YEAR)} chips running for a year")
            return hours, "chip-hours", notes
        if to == "usd":
            if unit == "USD":
                raise _bad("the quantity is already in dollars", "--to", to, "another target",
                           "pick chips, power, flops, capex or chip-hours")
            return hours * self.price_per_chip_hour(), "USD", notes
        if to == "chips" and unit == "chip_hour":
            return hours / self.term_hours("chip-hours → chips"), "chips", notes
        if unit == "chip_hour":
            raise _bad(f"chip-hours convert to chips (with --term) or usd, not {to}", "--to", to,
                       "chips, usd", "convert to chips with --term first")

    def chips(self) -> float:
        """The quantity as chips: from power, FLOP/s, or money (bought at the purchase price, or rented over
        --term)."""
        value, unit, notes, aid, utilisation, term = (self.value, self.unit, self.notes, self.aid, self.utilisation,
                                                      self.term)
        if unit == "chip":
            return value
        if unit == "USD" and term is not None:  # renting: the chips the amount keeps running over the term
            chips = value / self.price_per_chip_hour() / self.term_hours("money → chips")
            notes.append("chips rented over the term, not bought (without --term the amount buys chips at the purchase "
                         "price)")
            return chips
        if unit == "MW":
            kw = self.figure("all_in_power_w", "all-in power") / 1e3
            notes.append(f"all-in power {kw:.3g} kW per {aid} (chip, host, network, cooling at PUE {PUE_REFERENCE})")
            return value * 1e3 / kw
        if unit == "FLOP/s":
            peak = self.figure("bf16_tflops", "BF16 peak") * 1e12
            u = utilisation or 1.0
            notes.append(f"dense BF16 peak {peak / 1e12:,.0f} TFLOP/s per {aid}" + (f" at {u:.0%} utilisation" if utilisation else " (peak)"))
            return value / (peak * u)
        price_chip = self.figure("purchase_price_usd", "purchase price")
        notes.append(f"purchase price ${price_chip:,.0f} per {aid}")
        return value / price_chip

    def from_chips(self, chips: float) -> tuple[float, str, list[str]]:
        """``chips`` in the target unit: chips, power, FLOP/s or capex."""
        unit, to, notes, aid, utilisation = self.unit, self.to, self.notes, self.aid, self.utilisation
        if to == "chips":
            return chips, "chips", notes
        if to == "power":
            kw = self.figure("all_in_power_w", "all-in power") / 1e3
            if unit != "MW":
                notes.append(f"all-in power {kw:.3g} kW per {aid} at PUE {PUE_REFERENCE}")
            return chips * kw / 1e6, "GW", notes
        if to == "flops":
            peak = self.figure("bf16_tflops", "BF16 peak") * 1e12
            u = utilisation or 1.0
            if unit != "FLOP/s":
                notes.append(f"dense BF16 peak {peak / 1e12:,.0f} TFLOP/s" + (f" at {u:.0%} utilisation" if utilisation else " (peak)"))
            return chips * peak * u, "FLOP/s", notes
        price_chip = self.figure("purchase_price_usd", "purchase price")
        if unit != "USD":
            notes.append(f"purchase price ${price_chip:,.0f} per {aid}")
        return chips * price_chip, "USD", notes


def _human(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    for div, suffix in ((1e18, "E"), (1e15, "P"), (1e12, " trillion"), (1e9, " billion"), (1e6, " million")):
        if abs(x) >= div:
            return f"{x / div:,.3g}{suffix}"
    return f"{x:,.0f}"


def run_convert(quantity: str, *, accelerator: str, to: str, price: str | None, utilisation: float | None,
                console: Console, term: str | None = None) -> None:
    value, unit, notes = convert(quantity, accelerator=accelerator, to=to, price=price, utilisation=utilisation,
                                 term=term)
    if unit == "FLOP/s":
        shown = f"{value:.3e} FLOP/s"
    elif unit == "GW":
        shown = f"{value:,.3f} GW"
    elif unit == "USD":
        shown = usd(value, style="words")
    else:
        shown = f"{_human(value)} {unit} ({value:,.0f})"
    console.print(f"{quantity} of {accelerator.lower()} = [bold]{shown}[/]", highlight=False)
    for n in notes:
        console.print(f"  {n}" if n.startswith("that is") else f"  assuming {n}", highlight=False)
