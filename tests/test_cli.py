"""The first commands as a user runs them: validate, catalog, convert, schema.

Exit codes (DESIGN.md): 0 ok, 1 bad input with no traceback, a traceback only with --debug.
`convert` is checked against the published rules of thumb of hardware.md §3, recomputed here.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gigawatt.catalog import load_catalog
from gigawatt.cli import app
from gigawatt.commands.convert import HOURS_PER_YEAR, convert
from helpers import ROOT

GW_W = 1e9


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def count_in(output: str) -> float:
    """The exact count a conversion prints in parentheses: '5.24 million chips (5,235,602)'."""
    m = re.search(r"\(([0-9,]+)\)", output)
    assert m, output
    return float(m.group(1).replace(",", ""))


# convert: rules of thumb ---------------------------------------------------------------------------------


def test_convert_10_gw_of_gb300_to_chips_agrees_with_the_bottom_up_rule():
    """hardware.md §3 rule 3: GB200-class NVL72 at 120–132 kW per 72 GPUs and PUE 1.14–1.2 ⇒ 1 GW ≈ 455k–525k
    GPUs, so 10 GW ≈ 4.55–5.25 million. (Jensen's '10 GW ≈ 4–5 M GPUs' is for Vera Rubin, 2.0–2.5 kW.)"""
    result = run("convert", "10 GW", "--accelerator", "gb300", "--to", "chips")
    assert result.exit_code == 0, result.output
    chips = count_in(result.output)
    assert 10 * GW_W / (132e3 / 72 * 1.2) <= chips <= 10 * GW_W / (120e3 / 72 * 1.14)
    assert 4.55e6 <= chips <= 5.25e6
    kw = load_catalog().at["gb300", "all_in_power_w"] / 1e3
    assert f"all-in power {kw:.3g} kW per gb300" in result.output  # the assumption it used is printed
    assert chips == pytest.approx(10e6 / kw, abs=1)


def test_convert_10_gw_of_rubin_agrees_with_jensen():
    """hardware.md §3 rule 1 (Jensen Huang, Sep 2025): '10 gigawatts, or roughly 4 million or 5 million GPUs'."""
    result = run("convert", "10 GW", "-a", "rubin", "--to", "chips")
    assert result.exit_code == 0, result.output
    assert 4e6 <= count_in(result.output) <= 5e6


def test_convert_chips_to_power_is_the_inverse():
    chips, _, _ = convert("10 GW", accelerator="gb300", to="chips")
    gw, unit, _ = convert(f"{chips!r} chips", accelerator="gb300", to="power")
    assert unit == "GW" and gw == pytest.approx(10.0, rel=1e-12)


def test_convert_h100_per_gw_agrees_with_the_epoch_formula():
    """hardware.md §3 rule 3: H100 via the Epoch formula (1.45 kW all-in) ⇒ ≈690k H100 per GW."""
    chips, _, _ = convert("1 GW", accelerator="h100", to="chips")
    assert chips == pytest.approx(690_000, rel=0.01)


# convert: dollars over a term at a price ↔ chip-hours ↔ chips ------------------------------------------------


def test_dollars_at_a_price_to_chip_hours_and_back_on_the_command_line():
    there = run("convert", "$38B", "-a", "h100", "--to", "chip-hours", "--price", "2.35 USD/h", "--term", "7 years")
    assert there.exit_code == 0, there.output
    hours = count_in(there.output)
    assert hours == pytest.approx(38e9 / 2.35, abs=1)
    assert "price $2.35 per chip-hour (--price)" in there.output
    assert f"{38e9 / 2.35 / (7 * HOURS_PER_YEAR):,.0f} chips running for the whole term" in there.output
    back = run("convert", f"{hours:,.0f} chip-hours", "-a", "h100", "--to", "usd", "--price", "$2.35/h")
    assert back.exit_code == 0, back.output
    assert "= $38 billion" in back.output


def test_dollars_to_chip_hours_default_to_the_catalog_price():
    cat = load_catalog()
    hours, unit, notes = convert("$1B", accelerator="h100", to="chip-hours")
    assert unit == "chip-hours"
    assert hours == pytest.approx(1e9 / cat.at["h100", "committed_price_usd_per_chip_hour"], rel=1e-12)
    assert any("catalog committed price" in n for n in notes)


def test_money_to_chips_over_a_term_rents_them_at_the_price():
    rented, unit, notes = convert("$38B", accelerator="h100", to="chips", price="2.35 USD/h", term="7 years")
    assert unit == "chips" and rented == pytest.approx(38e9 / 2.35 / (7 * HOURS_PER_YEAR), rel=1e-12)
    assert any("rented over the term" in n for n in notes)
    bought, _, _ = convert("$38B", accelerator="h100", to="chips")  # no term: bought at the purchase price
    assert bought == pytest.approx(38e9 / load_catalog().at["h100", "purchase_price_usd"], rel=1e-12)
    gw, unit, _ = convert("$38B", accelerator="h100", to="power", price="2.35 USD/h", term="7 years")
    assert unit == "GW" and gw == pytest.approx(rented * load_catalog().at["h100", "all_in_power_w"] / 1e9, rel=1e-12)


@pytest.mark.parametrize("args, flag", [
    (("10 GW", "-a", "gb300", "--to", "chips", "--term", "5 years"), "--term"),
    (("$38B", "-a", "h100", "--to", "chips", "--price", "2.35 USD/h"), "--price"),
    (("1 million chips", "-a", "h100", "--to", "capex", "--price", "2 USD/h"), "--price"),
    (("16 billion chip-hours", "-a", "h100", "--to", "chip-hours", "--term", "7 years"), "--term"),
])
def test_a_price_or_term_the_conversion_would_not_use_is_refused(args, flag):
    result = run("convert", *args)
    assert result.exit_code == 1, result.output
    assert f"{flag} is not used by this conversion" in result.output and "Fix: drop" in result.output


prices = st.floats(min_value=0.05, max_value=50, allow_nan=False)
amounts = st.floats(min_value=1e3, max_value=1e13, allow_nan=False)
terms = st.floats(min_value=0.25, max_value=15, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(amounts, prices, terms)
def test_money_chip_hours_and_chips_round_trip(usd, price, years):
    p, t = f"{price!r} USD/h", f"{years!r} years"
    hours, _, _ = convert(f"{usd!r} USD", accelerator="h100", to="chip-hours", price=p)
    assert hours == pytest.approx(usd / price, rel=1e-12)
    back, unit, _ = convert(f"{hours!r} chip-hours", accelerator="h100", to="usd", price=p)
    assert unit == "USD" and back == pytest.approx(usd, rel=1e-12)
    chips, _, _ = convert(f"{hours!r} chip-hours", accelerator="h100", to="chips", term=t)
    assert chips == pytest.approx(hours / (years * HOURS_PER_YEAR), rel=1e-12)
    again, _, _ = convert(f"{chips!r} chips", accelerator="h100", to="usd", term=t, price=p)
    assert again == pytest.approx(usd, rel=1e-9)


@pytest.mark.parametrize(("args", "says"), [
    (["10 GWW", "-a", "gb300", "--to", "chips"], "QUANTITY: cannot read the quantity"),
    (["10 GW", "-a", "gb3000", "--to", "chips"], "Did you mean 'gb300'?"),
    (["10 GW", "-a", "gb300", "--to", "chip"], "Did you mean 'chips'?"),
    (["10 GW", "-a", "custom_xpu", "--to", "chips"], "the catalog has no all-in power for custom_xpu"),
    (["1000 chips", "-a", "h100", "--to", "chip-hours"], "--term: chips → chip-hours needs a term"),
    (["$1B", "-a", "h100", "--to", "chip-hours", "--price", "0 USD/h"], "the price must be positive"),
    (["$1B", "-a", "h100", "--to", "chip-hours", "--price", "2 GW"], "--price: cannot read the price"),
    (["1 GW", "-a", "h100", "--to", "usd"], "chip-hours and dollars are converted from money, chips or chip-hours"),
])
def test_convert_bad_input_exits_1_without_traceback(args, says):
    result = run("convert", *args)
    assert result.exit_code == 1
    assert "error: cannot convert" in result.output and says in result.output, result.output
    assert "Traceback" not in result.output


# catalog --------------------------------------------------------------------------------------------------


def test_catalog_table_lists_every_accelerator_uncut_at_80_columns():
    result = run("catalog")  # CliRunner's console is 80 columns wide, as a plain terminal
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "…" not in result.output
    for aid, row in load_catalog().iterrows():
        (line,) = [x for x in lines if x.split()[:1] == [aid]]  # one whole row per accelerator
        assert len(line) <= 80 and row["vendor"] in line


def test_catalog_one_accelerator_shows_sources():
    from gigawatt.catalog import load_sources

    result = run("catalog", "-a", "h100")
    assert result.exit_code == 0
    src = load_sources().set_index(["accelerator", "field"]).loc[("h100", "all_in_power_w")]
    assert "all_in_power_w" in result.output and src["source"].split(";")[0] in result.output


@pytest.mark.parametrize(("args", "says"), [
    (["catalog", "--format", "jsn"], "Did you mean 'json'?"),
    (["catalog", "--accelerator", "h1000"], "Did you mean 'h100'?"),
])
def test_catalog_bad_option_exits_1_without_traceback(args, says):
    result = run(*args)
    assert result.exit_code == 1 and "error: bad option" in result.output and says in result.output
    assert "Traceback" not in result.output


def test_debug_shows_a_traceback_for_bad_input():
    result = run("--debug", "catalog", "--accelerator", "h1000")
    assert result.exit_code == 1 and "Traceback" in result.output


# schema and validate ------------------------------------------------------------------------------------------


def test_schema_prints_json_schema_and_markdown():
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["title"] == "Scenario" and "providers" in schema["properties"]
    md = run("schema", "--markdown")
    assert md.exit_code == 0 and md.output == (ROOT / "docs" / "scenario-format.md").read_text()


def test_schema_bad_option_is_a_usage_error():
    result = run("schema", "--markdwn")
    assert result.exit_code == 4 and "No such option" in result.output  # 2 means infeasible


def test_validate_example_and_named_scenarios():
    for extra in ([], ["--scenario", "delayed"], ["--set", "sites.texas.lead_time=6 months"]):
        result = run("validate", str(ROOT / "examples" / "minimal.yaml"), *extra)
        assert result.exit_code == 0, result.output
        assert "minimal.yaml is valid" in result.output


def test_validate_unknown_scenario_exits_1():
    result = run("validate", str(ROOT / "examples" / "minimal.yaml"), "--scenario", "delayd")
    assert result.exit_code == 1 and "unknown scenario 'delayd'" in result.output
    assert "Did you mean 'delayed'?" in result.output and "Traceback" not in result.output


def test_version_names_gigawatt_and_its_solver_stack():
    from importlib import metadata

    from typer.testing import CliRunner

    from gigawatt.cli import app

    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"gigawatt {metadata.version('gigawatt')} (")
    assert f"highspy {metadata.version('highspy')}" in r.output and "linopy" in r.output
