"""Each figure builder: data drawn, units in every hover, and the page self-contained."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gigawatt.report.data import load_run
from gigawatt.report.figures import BUILDERS, build_charts, compare_charts
from gigawatt.report.page import render_compare, render_report

# the unit each chart's hover must name
UNIT = {
    "capacity-gw-provider": "GW", "capacity-gw-vendor": "GW", "site-power": "GW",
    "capacity-chips-provider": "M chips", "capacity-chips-vendor": "M chips", "accelerator-mix": "M chips",
    "cost-category": "B", "cost-workload": "B", "cash-flow": "B", "cash-position": "B", "revenue": "B", "cash-fan": "B",
    "out-of-cash": "%", "share-provider": "%", "share-targets": "%", "unmet-demand": "%",
    "marginal-cost": "per H100-hour", "binding-value": "M per",
    "idle-capacity": "B", "share-provider-power": "%", "share-provider-spend": "%",
}


@pytest.fixture(scope="module")
def openai(openai_run):
    return load_run(openai_run)


def _values(trace) -> np.ndarray:
    y = trace.y if trace.orientation != "h" else trace.x
    return np.array([np.nan if v is None else v for v in y], dtype=float)


def test_every_builder_has_a_unit():
    assert {b[0] for b in BUILDERS} == set(UNIT)


@pytest.mark.parametrize("chart_id, builder", [(b[0], b[3]) for b in BUILDERS], ids=[b[0] for b in BUILDERS])
def test_figure_has_data_and_units_in_hover(openai, chart_id, builder):
    fig = builder(openai)
    assert fig is not None, f"{chart_id}: no figure for the reference run"
    assert len(fig.data) > 0
    assert any(np.isfinite(_values(t)).any() and len(_values(t)) for t in fig.data)
    for t in fig.data:
        template = t.hovertemplate or ""
        assert UNIT[chart_id] in template, f"{chart_id}/{t.name}: hover {template!r} lacks {UNIT[chart_id]!r}"
        assert "<extra></extra>" in template
    assert fig.layout.title.text


def test_capacity_figure_is_the_table(openai):
    fig = dict(BUILDERS_BY_ID())["capacity-gw-provider"](openai)
    table = openai.by_period("capacity_mw_by_provider")
    total = sum(np.nan_to_num(_values(t)) for t in fig.data)
    np.testing.assert_allclose(total, table.sum(axis=1).to_numpy() * 1e-3)


def BUILDERS_BY_ID():
    return [(b[0], b[3]) for b in BUILDERS]


def test_inference_year_is_marked(openai):
    fig = dict(BUILDERS_BY_ID())["cost-workload"](openai)
    year = openai.summary["inference_exceeds_training_year"]
    assert [s.x0 for s in fig.layout.shapes] == [year]
    assert str(year) in fig.layout.annotations[0].text


def test_fan_chart_bands_are_ordered(openai):
    fig = dict(BUILDERS_BY_ID())["cash-fan"](openai)
    by_name = {t.name: _values(t) for t in fig.data}
    p95, p5 = by_name["p95"], by_name["5–95% of draws (p5)"]
    assert (p95 >= p5 - 1e-9).all() and np.isfinite(by_name["median"]).all()


def test_no_finance_means_no_cash_chart_and_a_note(no_finance_run):
    run = load_run(no_finance_run)
    ids = [c.id for c in build_charts(run)]
    assert "cash-flow" not in ids and "cash-fan" not in ids and "capacity-gw-provider" in ids
    html, charts = render_report(run)
    assert "No finance section in this scenario" in html
    assert "No Monte Carlo simulation" in html
    assert f'name="gigawatt-figures" content="{len(charts)}"' in html


def test_page_is_self_contained(openai):
    html, charts = render_report(openai)
    assert len([c for c in charts if c.section not in ("exposure", "sensitivity")]) == len(BUILDERS)
    assert not re.search(r"<script[^>]+src=", html), "an external script"
    assert not re.search(r"<link[^>]+href=", html), "an external stylesheet"
    assert "cdn.plot.ly/plotly" not in html.split("</head>")[0]
    assert html.count("window.PlotlyConfig") == 1  # plotly.js embedded once
    assert html.count("plotly.js (basic - minified) v") == 1  # ... the basic bundle, not the full library
    assert "plotly.js v" not in html  # no full bundle
    assert len(html.encode()) <= 1_500_000, f"report page {len(html.encode()):,} bytes"
    for c in charts:
        assert f'id="fig-{c.id}"' in html
    # the run's own top binding constraint (which one binds is the reference scenario's data, not the report's)
    top_binding = openai.summary["binding_constraints"][0]["constraint"]
    for needle in ("Headline", "stargate+oracle share in 2030", "Inputs and sources", "azure_250b",
                   'href="#src-R44"', "Binding constraints", top_binding):
        assert needle in html, needle


def test_basic_bundle_matches_plotly_and_draws_every_chart(openai, minimal_run):
    from plotly.offline import get_plotlyjs_version

    from gigawatt.report.plotlyjs import TRACE_TYPES, bundle_version

    assert bundle_version() == get_plotlyjs_version()  # same plotly.js as the Python package's figures target
    runs = [openai, load_run(minimal_run)]
    for chart in [*build_charts(runs[0]), *build_charts(runs[1]), *compare_charts(runs)]:
        kinds = {trace.type for trace in chart.figure.data}
        assert kinds <= TRACE_TYPES, f"{chart.id} uses {kinds - TRACE_TYPES}: the basic bundle cannot draw it"


def test_compare_overlays_one_trace_per_run(openai, minimal_run):
    runs = [openai, load_run(minimal_run)]
    charts = compare_charts(runs)
    power = next(c for c in charts if c.id == "cmp-power")
    assert [t.name for t in power.figure.data] == [r.label for r in runs]
    assert all("GW" in t.hovertemplate for t in power.figure.data)
    html, _ = render_compare(runs)
    assert html.count("window.PlotlyConfig") == 1 and "openai-reference" in html


def test_one_colour_per_provider_and_vendor_across_charts(openai):
    from gigawatt.report.figures import party_colors

    by_party = {"capacity-gw-provider", "capacity-chips-provider", "capacity-gw-vendor", "capacity-chips-vendor",
                "share-provider"}
    seen: dict[str, set[str]] = {}
    for chart in build_charts(openai):
        if chart.id in by_party:
            for trace in chart.figure.data:
                seen.setdefault(trace.name, set()).add(trace.line.color)
    assert {"azure", "oracle", "nvidia", "amd"} <= set(seen)
    assert {name: colours for name, colours in seen.items() if len(colours) > 1} == {}
    palette = party_colors(openai)
    assert all(colours == {palette[name]} for name, colours in seen.items())
    assert len(set(palette.values())) == len(palette)  # no two parties share a colour


def test_the_cash_charts_are_split_and_named_as_the_glossary(openai):
    charts = {c.id: c.figure for c in build_charts(openai)}
    names = {cid: [t.name for t in charts[cid].data] for cid in ("cash-flow", "cash-position", "revenue")}
    assert names["cash-flow"] == ["free cash flow (before financing)", "financing", "cash flow after financing"]
    assert names["cash-position"] == ["cash position", "cumulative free cash flow"]
    assert names["revenue"] == ["revenue", "operating income"]
    fin = openai.finance  # after financing = before + financing, as drawn
    flow = {t.name: np.asarray(t.y, dtype=float) for t in charts["cash-flow"].data}
    np.testing.assert_allclose(flow["cash flow after financing"],
                               flow["free cash flow (before financing)"] + flow["financing"], rtol=1e-9, atol=1e-6)
    assert list(charts["cash-position"].data[0].y) == pytest.approx(list(fin["cash_usd"] * 1e-9))


def test_repeated_binding_constraints_are_one_row_with_their_period_range():
    import pandas as pd

    from gigawatt.report.binding import group_binding

    rel = "one more MW energised at site a in {}"
    t = pd.DataFrame({"constraint": ["Site-power-upper"] * 4 + ["Lease-capacity"],
                      "period": ["2026", "2027", "2028", "2030", "2026"],
                      "relaxation": [rel.format(p) for p in ("2026", "2027", "2028", "2030")] + ["one more chip in 2026"],
                      "unit": ["MW"] * 4 + ["chip"], "value_usd": [1.0, 2.0, 3.0, 4.0, 9.0],
                      "pv_usd": [1.0, 1.5, 2.0, 2.5, 8.0]})
    g = group_binding(t, ["2025", "2026", "2027", "2028", "2029", "2030"])
    assert len(g) == 2 and g.iloc[0]["constraint"] == "Lease-capacity"  # the dearest first
    row = g.iloc[1]
    assert row["relaxation"] == "one more MW energised at site a in 2026–2028, 2030"
    assert row["n_periods"] == 4 and row["value_min_usd"] == 1.0 and row["value_max_usd"] == 4.0
    assert row["pv_sum_usd"] == pytest.approx(7.0) and row["pv_max_usd"] == 2.5


def test_the_reference_binding_table_groups_its_repeated_limits(openai, openai_run):
    from gigawatt.report.page import render_report

    html, _ = render_report(openai)
    rows = openai.table("binding_constraints")
    repeated = rows.groupby(["constraint", "unit"]).size().max()
    assert repeated > 1  # the reference repeats a limit over periods: the test can fail
    # the same relaxation over several periods reads as one row naming its years, runs joined by "–"
    label = "one more MW energised at site lordstown, milam, openai_built in "
    years = sorted(int(p) for p in rows.loc[rows["relaxation"].str.startswith(label), "period"])
    assert len(years) > 2, years
    after = html.split(label, 1)[1][:40]
    assert "–" in after or "\\u2013" in after, after  # a run of consecutive years is a range (JSON escapes it)
    assert html.count(label + "20") <= 2
