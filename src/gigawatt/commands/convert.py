"""`gigawatt convert`: gigawatts ↔ chips ↔ FLOP/s ↔ dollars ↔ chip-hours for one accelerator."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console

from gigawatt import units
from gigawatt.errors import Problem, ScenarioError, did_you_mean

TARGETS = ("chips", "flops", "power", "capex", "chip-hours")


def _bad(what: str, path: str, value, expected: str, fix: str) -> ScenarioError:
    return ScenarioError(Problem(what, path=path, value=value, expected=expected, fix=fix), title="cannot convert")


def convert(quantity: str, *, accelerator: str, to: str, price: str | None = None,
            utilisation: float | None = None) -> tuple[float, str, list[str]]:
    """Return (value, unit, assumptions) converting ``quantity`` for ``accelerator``."""
    from gigawatt.catalog import PUE_REFERENCE, load_catalog

    cat = load_catalog()
    aid = accelerator.lower()
    if aid not in cat.index:
        raise _bad(f"unknown accelerator '{accelerator}'", "--accelerator", accelerator,
                   "a catalog id: " + ", ".join(cat.index), "use `gigawatt catalog` to list them." + did_you_mean(aid, cat.index))
    if to not in TARGETS:
        raise _bad("unknown target", "--to", to, ", ".join(TARGETS), "pick one." + did_you_mean(to, TARGETS))
    row = cat.loc[aid]
    notes: list[str] = []

    def figure(col: str, label: str) -> float:
        v = row[col]
        if pd.isna(v):
            raise _bad(f"the catalog has no {label} for {aid}", "--accelerator", aid,
                       f"an accelerator with a published {label}", "pick another accelerator (gigawatt catalog)")
        return float(v)

    try:
        value, unit = units.try_parse(quantity, ["MW", "chip", "USD", "FLOP/s"], plain_ok=False)
    except units.UnitError as exc:
        raise _bad("cannot read the quantity", "QUANTITY", quantity,
                   "power (10 GW), chips (1 million chips), money ($38B) or a rate (2 EFLOP/s)", str(exc)) from None

    def chips_from() -> float:
        if unit == "chip":
            return value
        if unit == "MW":
            kw = figure("all_in_power_w", "all-in power") / 1e3
            notes.append(f"all-in power {kw:.3g} kW per {aid} (chip, host, network, cooling at PUE {PUE_REFERENCE})")
            return value * 1e3 / kw
        if unit == "FLOP/s":
            peak = figure("bf16_tflops", "BF16 peak") * 1e12
            u = utilisation or 1.0
            notes.append(f"dense BF16 peak {peak / 1e12:,.0f} TFLOP/s per {aid}" + (f" at {u:.0%} utilisation" if utilisation else " (peak)"))
            return value / (peak * u)
        price_chip = figure("purchase_price_usd", "purchase price")
        notes.append(f"purchase price ${price_chip:,.0f} per {aid}")
        return value / price_chip

    if to == "chip-hours":
        if unit != "USD":
            raise _bad("chip-hours are converted from money", "QUANTITY", quantity, "a dollar amount ($38B)",
                       "give dollars, and optionally --price")
        if price is not None:
            p = units.parse(price, "USD/hour")
            notes.append(f"price ${p:.2f} per chip-hour (--price)")
        else:
            col = "committed_price_usd_per_chip_hour" if pd.notna(row["committed_price_usd_per_chip_hour"]) else "rental_price_usd_per_chip_hour"
            p = figure(col, "chip-hour price")
            notes.append(f"price ${p:.2f} per chip-hour (catalog {col.split('_')[0]} price)")
        hours = value / p
        notes.append(f"= {hours / 8766 / 1e3:,.1f} thousand chips running for a year")
        return hours, "chip-hours", notes
    chips = chips_from()
    if to == "chips":
        return chips, "chips", notes
    if to == "power":
        kw = figure("all_in_power_w", "all-in power") / 1e3
        if unit != "MW":
            notes.append(f"all-in power {kw:.3g} kW per {aid} at PUE {PUE_REFERENCE}")
        return chips * kw / 1e6, "GW", notes
    if to == "flops":
        peak = figure("bf16_tflops", "BF16 peak") * 1e12
        u = utilisation or 1.0
        if unit != "FLOP/s":
            notes.append(f"dense BF16 peak {peak / 1e12:,.0f} TFLOP/s" + (f" at {u:.0%} utilisation" if utilisation else " (peak)"))
        return chips * peak * u, "FLOP/s", notes
    price_chip = figure("purchase_price_usd", "purchase price")
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
                console: Console) -> None:
    value, unit, notes = convert(quantity, accelerator=accelerator, to=to, price=price, utilisation=utilisation)
    if unit == "FLOP/s":
        shown = f"{value:.3e} FLOP/s"
    elif unit == "GW":
        shown = f"{value:,.3f} GW"
    elif unit == "USD":
        shown = f"${_human(value)}"
    else:
        shown = f"{_human(value)} {unit} ({value:,.0f})"
    console.print(f"{quantity} of {accelerator.lower()} = [bold]{shown}[/]", highlight=False)
    for n in notes:
        console.print(f"  assuming {n}", highlight=False)
