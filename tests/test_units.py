"""Units at the boundary: readings, dimensions, and parse ∘ format = identity."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gigawatt import units
from gigawatt.units import UnitError, format_quantity, parse


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("4.5 GW", "MW", 4500.0),
        ("1,200 MW", "MW", 1200.0),
        ("38 billion USD", "USD", 38e9),
        ("$38B", "USD", 38e9),
        ("USD 38 billion", "USD", 38e9),
        ("$1.4T", "USD", 1.4e12),
        ("$30k", "USD", 30e3),
        ("2.35 USD/h", "USD/hour", 2.35),
        ("$2.35/h", "USD/hour", 2.35),
        ("1.2 kW", "kW", 1.2),
        ("1.2 kW", "MW", 1.2e-3),
        ("7 years", "year", 7.0),
        ("18 months", "month", 18.0),
        ("2.5 PFLOP/s", "FLOP/s", 2.5e15),
        ("2e27 FLOP", "FLOP", 2e27),
        ("400,000 chips", "chip", 4e5),
        ("11.7 million USD/MW", "USD/MW", 11.7e6),
        ("10 billion USD/GW", "USD/GW", 10e9),
        ("60 USD/MWh", "USD/MWh", 60.0),
        ("75%", "", 0.75),
    ],
)
def test_reads_quantities_into_canonical_units(text, unit, expected):
    assert parse(text, unit) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "unit", "says"),
    [
        ("4.5 GW", "USD", "power"),
        ("$38B", "MW", "money"),
        ("2.35 USD/h", "USD", "a price per hour"),
        ("7 years", "MW", "time"),
    ],
)
def test_wrong_dimension_names_expected_and_actual(text, unit, says):
    with pytest.raises(UnitError) as info:
        parse(text, unit)
    message = str(info.value)
    assert units.describe(unit) in message
    assert says in message


def test_bare_number_rejected_unless_field_names_the_unit():
    with pytest.raises(UnitError, match="bare number is ambiguous"):
        parse(4.5, "MW")
    assert parse(4.5, "MW", plain_ok=True) == 4.5


@pytest.mark.parametrize("bad", ["lots of GW", "", "4.5 GWW", float("nan"), True])
def test_unreadable_or_nan_raises(bad):
    with pytest.raises(UnitError):
        parse(bad, "MW", plain_ok=True)


finite = st.floats(min_value=0, max_value=1e30, allow_nan=False, allow_infinity=False)


@given(finite, st.sampled_from(["MW", "USD", "USD/hour", "FLOP/s", "FLOP", "year", "kW", "USD/MWh"]))
def test_parse_of_format_is_identity(x, unit):
    assert parse(format_quantity(x, unit), unit) == x


@given(st.floats(min_value=1e-6, max_value=1e6, allow_nan=False))
def test_conversions_are_consistent(x):
    assert parse(f"{x!r} GW", "MW") == pytest.approx(parse(f"{x!r} MW", "MW") * 1000, rel=1e-12)
    assert parse(f"${x!r}B", "USD") == pytest.approx(parse(f"{x!r} billion USD", "USD"), rel=1e-12)
    assert parse(f"{x!r} kW", "MW") * 1e3 == pytest.approx(x, rel=1e-12)
    assert math.isclose(parse(f"{x!r} USD/h", "USD/hour") * 8760, parse(f"{x!r} USD/h", "USD/year"), rel_tol=1e-3)


# Each form the issue names, generated: a value written that way reads back to the value in canonical units.
FORMS = [
    (lambda x: f"{x!r} GW", "MW", lambda x: x * 1e3),
    (lambda x: f"{x:,.0f} MW", "MW", lambda x: float(round(x))),            # "1,200 MW"
    (lambda x: f"{x!r} billion USD", "USD", lambda x: x * 1e9),
    (lambda x: f"${x!r}B", "USD", lambda x: x * 1e9),
    (lambda x: f"{x!r} USD/h", "USD/hour", lambda x: x),
    (lambda x: f"{x!r} kW", "MW", lambda x: x / 1e3),
    (lambda x: f"{x!r} years", "year", lambda x: x),
    (lambda x: f"{x!r} PFLOP/s", "FLOP/s", lambda x: x * 1e15),
]


@pytest.mark.parametrize(("write", "unit", "expect"), FORMS, ids=["GW", "MW,", "billion", "$B", "USD/h", "kW",
                                                                    "years", "PFLOP/s"])
@given(x=st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_every_written_form_reads_back(write, unit, expect, x):
    assert parse(write(x), unit) == pytest.approx(expect(x), rel=1e-12, abs=1e-300)


@given(st.floats(min_value=1e-3, max_value=1e6, allow_nan=False))
def test_every_quantity_of_one_dimension_agrees_whatever_its_unit(x):
    assert parse(f"{x!r} kW", "MW") == pytest.approx(parse(f"{x / 1e3!r} MW", "MW"), rel=1e-12)
    assert parse(f"{x!r} years", "month") == pytest.approx(12 * x, rel=1e-12)
    assert parse(f"{x!r} PFLOP/s", "FLOP/s") == pytest.approx(parse(f"{x * 1e3!r} TFLOP/s", "FLOP/s"), rel=1e-12)
    assert parse(f"${x!r}M", "USD") == pytest.approx(parse(f"{x!r} million USD", "USD"), rel=1e-12)


def test_several_units_say_what_the_value_is():
    from gigawatt.units import try_parse

    with pytest.raises(UnitError, match="'4.5 GW' is power"):
        try_parse("4.5 GW", ["FLOP", "FLOP/s", "H100_hour"])
    with pytest.raises(UnitError, match="bare number, which is ambiguous"):
        try_parse(4.5, ["FLOP", "FLOP/s"])
    with pytest.raises(UnitError, match="bare number is ambiguous"):  # one unit: its own reason
        try_parse(4.5, ["MW"])
