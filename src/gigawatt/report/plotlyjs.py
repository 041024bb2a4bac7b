"""The plotly.js a report page embeds: the vendored *basic* bundle (scatter, bar, pie), not the full one.

Python's plotly embeds its full plotly.js (4.8 MB), 94% of a report page. gigawatt draws only scatter and
bar traces, so the page embeds the basic partial bundle of the same plotly.js version (1.19 MB, MIT,
``assets/plotly-basic.min.js``; provenance in ``assets/README.md``). ``TRACE_TYPES`` is what that bundle
draws: a figure with another trace type would render blank, and the report tests check every chart against it.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

TRACE_TYPES = frozenset({"scatter", "bar", "pie"})
_ASSET = "plotly-basic.min.js"


@cache
def bundle() -> str:
    """The vendored bundle's source text."""
    return resources.files("gigawatt.report").joinpath("assets", _ASSET).read_text(encoding="utf-8")


def bundle_version() -> str:
    """The plotly.js version named in the bundle's banner, e.g. '4.1.1'."""
    found = re.search(r"plotly\.js \(basic - minified\) v(\d+\.\d+\.\d+)", bundle()[:400])
    if not found:
        raise RuntimeError(f"{_ASSET}: no plotly.js version in its banner; was the file replaced?")
    return found.group(1)


def script_tags() -> str:
    """The <script> elements that define ``Plotly`` once for the whole page (what plotly.io would inline)."""
    return ("<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
            f'<script charset="utf-8">{bundle()}</script>')


__all__ = ["TRACE_TYPES", "bundle", "bundle_version", "script_tags"]
