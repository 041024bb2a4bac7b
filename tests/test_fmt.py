"""gigawatt.fmt.usd: the one money formatter, in each of its styles."""

from __future__ import annotations

import math

import pytest

from gigawatt.fmt import usd


@pytest.mark.parametrize("x, short, compact, words", [
    (1.4e12, "$1.40T", "$1.4T", "$1.4 trillion"),
    (-7.47e10, "-$74.7B", "-$74.7B", "-$74.7 billion"),
    (3.5e8, "$350.0M", "$350M", "$350 million"),
    (1234.5, "$1,234", "$1.23k", "$1.23 thousand"),
    (12.4, "$12", "$12", "$12.4"),
    (0.3, "$0", "$0", "$0.3"),
])
def test_each_style(x, short, compact, words):
    assert usd(x) == short
    assert usd(x, style="compact") == compact
    assert usd(x, style="words") == words


def test_compact_prints_a_solvers_noise_as_zero_without_a_sign():
    assert usd(-1e-7, style="compact") == "$0"
    assert usd(-1e-7) == "-$0"


@pytest.mark.parametrize("style", ["short", "compact", "words"])
@pytest.mark.parametrize("x", [None, math.nan, math.inf, -math.inf])
def test_none_is_a_dash_in_every_style(x, style):
    assert usd(x, style=style) == "–"


@pytest.mark.parametrize("x, style, expected", [
    (999_999, "compact", "$1M"),            # not "$1e+03k"
    (999_499, "compact", "$999k"),
    (999.7, "compact", "$1k"),              # not "$1000"
    (999_999_999.99, "short", "$1.0B"),     # not "$1,000.0M"
    (999_999.7, "short", "$1.0M"),          # not "$1,000,000"
    (-999_999_999.99, "compact", "-$1B"),
    (999.9, "words", "$1 thousand"),        # not "$1e+03"
    (999.99e12, "short", "$999.99T"),
    (2.5e15, "compact", "$2,500T"),         # beyond the largest unit: whole numbers, never an exponent
])
def test_a_figure_that_rounds_to_a_thousand_rolls_over_to_the_next_unit(x, style, expected):
    assert usd(x, style=style) == expected


@pytest.mark.parametrize("style", ["short", "compact", "words"])
def test_no_style_ever_prints_an_exponent(style):
    for exp in range(0, 17):
        for mant in (0.9995, 0.99999, 1.0, 9.9996, 99.996, 999.6):
            assert "e+" not in usd(mant * 10 ** exp, style=style)


def test_tables_lose_their_negative_zeros_and_keep_everything_else():
    import pandas as pd

    from gigawatt.fmt import without_negative_zero

    frame = pd.DataFrame({"a": [-0.0, 0.0, -1e-9, math.nan], "n": [1, 2, 3, 4], "s": ["-0.0", "x", "y", "z"]})
    out = without_negative_zero(frame)
    assert "-0.0" not in out[["a", "n"]].to_csv()
    assert "-0.0" in frame.to_csv()  # the input had one: the test can fail
    assert out["a"].iloc[2] == -1e-9 and math.isnan(out["a"].iloc[3]) and math.copysign(1, out["a"].iloc[0]) == 1
    assert out["n"].tolist() == [1, 2, 3, 4] and out["s"].tolist() == frame["s"].tolist()


def test_a_runs_csv_tables_hold_no_negative_zero(reference_run):
    """The reference's marginal costs and chips by supply hold -0.0 from the solver (before this was fixed
    its tables/*.csv printed 13 of them)."""
    out = reference_run.path
    texts = {p.name: p.read_text() for p in (out / "tables").glob("*.csv")}
    assert texts
    for name, text in texts.items():
        assert not any(cell in ("-0.0", "-0") for line in text.splitlines() for cell in line.split(",")), name
