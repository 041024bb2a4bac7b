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
