"""Assemble the self-contained HTML pages: plotly.js (the basic bundle) embedded once, no network asset, no MathJax."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import plotly.io as pio

from gigawatt.fmt import usd
from gigawatt.report.binding import group_binding
from gigawatt.report.data import Run
from gigawatt.report.headline import Fact, headline
from gigawatt.report.exposure_charts import extra_charts, section_html
from gigawatt.report import hedge_section
from gigawatt.report.figures import Chart, build_charts, compare_charts
from gigawatt.report.plotlyjs import script_tags

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
                 "toImageButtonOptions": {"format": "png", "scale": 2}}

SECTIONS = [
    ("headline", "Headline"),
    ("capacity", "Capacity and power"),
    ("cost", "Cost"),
    ("finance", "Revenue and cash"),
    ("exposure", "Counterparty exposure"),
    ("sensitivity", "Sensitivity"),
    ("shares", "Shares and targets"),
    ("prices", "Marginal cost and unmet demand"),
    ("constraints", "Binding constraints"),
    ("inputs", "Inputs and sources"),
    ("run", "About this run"),
]

CSS = """
:root { --fg:#1b1f24; --muted:#59636e; --line:#d8dee4; --bg:#f6f8fa; --accent:#0969da; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg);
       background:#fff; }
header.top { padding:16px 24px 8px; border-bottom:1px solid var(--line); background:var(--bg); }
header.top h1 { margin:0 0 4px; font-size:22px; }
header.top .meta { color:var(--muted); font-size:13px; }
nav { position:sticky; top:0; z-index:10; background:#fff; border-bottom:1px solid var(--line);
      padding:6px 24px; font-size:13px; white-space:nowrap; overflow-x:auto; }
nav a { color:var(--accent); text-decoration:none; margin-right:16px; }
main { max-width:1360px; margin:0 auto; padding:8px 24px 40px; }
section { margin-top:24px; }
h2 { font-size:18px; margin:0 0 8px; padding-top:8px; border-top:1px solid var(--line); }
h3 { font-size:15px; margin:16px 0 6px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(200px, 1fr)); gap:10px; }
.card { border:1px solid var(--line); border-radius:8px; padding:10px 12px; background:var(--bg); }
.card .label { color:var(--muted); font-size:12px; }
.card .value { font-size:20px; font-weight:600; margin-top:2px; }
.card .sub { color:var(--muted); font-size:12px; }
.charts { display:grid; grid-template-columns:repeat(auto-fill, minmax(600px, 1fr)); gap:16px; }
figure { margin:0; border:1px solid var(--line); border-radius:8px; padding:6px; min-width:0; }
figure.wide { grid-column:1 / -1; }
figcaption { color:var(--muted); font-size:12px; padding:2px 6px 4px; }
.note { color:var(--muted); background:var(--bg); border-left:3px solid var(--line); padding:8px 12px; }
table { border-collapse:collapse; width:100%; font-size:12.5px; margin:6px 0 12px; }
th, td { border-bottom:1px solid var(--line); padding:4px 8px; text-align:left; vertical-align:top; }
th { background:var(--bg); position:sticky; top:30px; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
table.inputs { table-layout:fixed; }
table.inputs col.name { width:15%; } table.inputs col.details { width:35%; }
table.inputs col.src { width:14%; } table.inputs col.notes { width:36%; }
td.notes { color:var(--muted); }
td { overflow-wrap:anywhere; }
.src a { margin-right:4px; }
details summary { cursor:pointer; color:var(--accent); }
ol.refs { font-size:12px; color:var(--muted); columns:2; column-gap:32px; }
ol.refs li { break-inside:avoid; margin-bottom:2px; word-break:break-all; }
code { font-size:12px; background:var(--bg); padding:1px 4px; border-radius:4px; }
"""

PUBLISHED_CSS = """
.card.has-pub { border-color:#8c959f; }
.card .pub { margin-top:6px; padding-top:5px; border-top:1px dashed var(--line); font-size:12px; }
.card .pub .pv { font-weight:600; font-size:14px; }
.card .pub .diff { color:var(--muted); }
.card .pub .src a { margin-right:0; }
.nowrap { white-space:nowrap; }
table.published td.wording { color:var(--muted); }
"""  # only on pages with --published: without it the page is as before

PUBLISHED_TITLE = "Published figures beside this run"
WIDE = ("binding-value", "site-power")  # charts that take the whole width of the page

_URL = re.compile(r"https?://[^\s'\"<>)]+")


def e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _linkify(text: str) -> str:
    out, pos = [], 0
    for m in _URL.finditer(text):
        out.append(e(text[pos:m.start()]))
        url = m.group(0)
        out.append(f'<a href="{e(url)}" rel="noreferrer">{e(url)}</a>')
        pos = m.end()
    out.append(e(text[pos:]))
    return "".join(out)


def source_html(text: Any, sources: dict[str, str]) -> str:
    """A `source` field with each reference id linked to the page's list of sources."""
    if text is None:
        return ""
    parts = []
    for tok in str(text).split():
        key = tok.strip("[](),;")
        if key in sources:
            parts.append(f'<a href="#src-{e(key)}" title="{e(sources[key])}">{e(tok)}</a>')
        elif _URL.match(tok):
            parts.append(_linkify(tok))
        else:
            parts.append(e(tok))
    return " ".join(parts)


def _summarise(value: Any) -> str:
    """A compact, readable form of one input value (period series shown first … last)."""
    if isinstance(value, dict):
        items = list(value.items())
        if not items:
            return "{}"
        if all(isinstance(v, (str, int, float, bool)) or v is None for _, v in items):
            if len(items) <= 3:
                return ", ".join(f"{k}: {v}" for k, v in items)
            (k0, v0), (k1, v1) = items[0], items[-1]
            return f"{k0}: {v0} … {k1}: {v1} ({len(items)} entries)"
        return ", ".join(str(k) for k, _ in items[:8]) + (" …" if len(items) > 8 else "")
    if isinstance(value, list):
        return ", ".join(_summarise(v) for v in value[:8]) + (" …" if len(value) > 8 else "")
    return str(value)


def inputs_table(items: dict, sources: dict[str, str], *, skip: tuple[str, ...] = ()) -> str:
    rows = []
    for name, spec in items.items():
        if not isinstance(spec, dict):
            rows.append(f"<tr><td><b>{e(name)}</b></td><td class=details>{e(_summarise(spec))}</td><td></td>"
                        "<td></td></tr>")
            continue
        details = "<br>".join(f"<span title='{e(k)}'>{e(k)}</span>: {e(_summarise(v))}" for k, v in spec.items()
                              if k not in ("source", "notes", "description", *skip))
        notes = " ".join(str(spec[k]) for k in ("description", "notes") if spec.get(k))
        short = notes if len(notes) <= 240 else notes[:237] + "…"
        notes_html = (f"<details><summary>{e(short[:120])}…</summary>{_linkify(notes)}</details>"
                      if len(notes) > 120 else _linkify(notes))
        rows.append(f"<tr><td><b>{e(name)}</b></td><td class=details>{details}</td>"
                    f"<td class=src>{source_html(spec.get('source'), sources)}</td>"
                    f"<td class=notes>{notes_html}</td></tr>")
    return ("<table class=inputs><colgroup><col class=name><col class=details><col class=src><col class=notes>"
            "</colgroup><thead><tr><th>name</th><th>inputs</th><th>source</th><th>notes</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _figure_html(chart: Chart) -> str:
    fig = chart.figure
    height = fig.layout.height or 420
    body = pio.to_html(fig, include_plotlyjs=False, include_mathjax=False, full_html=False,
                       config=PLOTLY_CONFIG, div_id=f"fig-{chart.id}", default_width="100%",
                       default_height=f"{height}px", validate=False)
    wide = " wide" if chart.id in WIDE else ""
    return (f'<figure id="{e(chart.id)}" class="chart{wide}" data-chart="{e(chart.id)}">{body}'
            f"<figcaption>{e(chart.caption)}</figcaption></figure>")


def _pub_card(b, sources: dict[str, str]) -> str:
    p = b.published
    return (f'<div class="pub" data-published="{e(p.value)}" title="{e(p.text)}">published: '
            f'<span class="pv">{e(b.published_text)}</span> '
            f'<span class="src">[{source_html(p.source, sources)}]</span> {e(p.date)}<br>'
            f'“{e(p.text)}”<br>'
            + (f'gigawatt: {e(b.gigawatt_text)}<br>' if b.show_gigawatt else "")
            + f'<span class="diff">gigawatt − published: <span class="nowrap">{e(b.difference_text)}</span></span></div>')


def _cards(facts: list[Fact], published=None, sources: dict[str, str] | None = None) -> str:
    out = []
    for f in facts:
        if f.key in ("status",):
            continue
        b = published.by_key(f.key) if published is not None else None
        pub = _pub_card(b, sources or {}) if b is not None else ""
        cls = "card has-pub" if b is not None else "card"
        out.append(f'<div class="{cls}" data-key="{e(f.key)}"><div class="label">{e(f.label)}</div>'
                   f'<div class="value">{e(f.text)}</div><div class="sub">{e(f.note)}</div>{pub}</div>')
    return '<div class="cards">' + "".join(out) + "</div>"


def _published_table(published, sources: dict[str, str]) -> str:
    """Section "Published figures beside this run": each figure, its wording, sources, date, gigawatt's, difference."""
    rows = []
    for b in published.rows:
        p = b.published
        rows.append(f'<tr data-key="{e(b.key)}"><td>{e(b.quantity)}</td><td class=num>{e(b.published_text)}</td>'
                    f"<td class=wording>{e(p.text)}</td><td class=src>{source_html(p.source, sources)}</td>"
                    f"<td>{e(p.date)}</td><td class=num>{e(b.gigawatt_text)}</td>"
                    f"<td class=num>{e(b.difference_text)}</td><td class=notes>{e(b.note)}</td></tr>")
    intro = (f'<p class="note">Published figures from <code>{e(published.file)}</code> (as reported: leaks, '
             f"projections, estimates; not audited) beside this run's. Forecast vintage: "
             f"<b>{e(published.vintage)}</b> ({e(published.vintage_reason)}). Cash flow is compared before "
             "financing (summary.json <code>free_cash_flow_usd</code>), as the published burn; negative = cash "
             "burned. Difference = gigawatt − published.</p>")
    return (intro + "<table class=published><thead><tr><th>quantity</th><th class=num>published</th>"
            "<th>as published</th><th>source</th><th>date</th><th class=num>gigawatt</th>"
            "<th class=num>difference</th><th>note</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _range(lo: Any, hi: Any) -> str:
    return usd(lo) if usd(lo) == usd(hi) else f"{usd(lo)} – {usd(hi)}"


def _binding_table(run: Run, *, top: int = 25) -> str:
    """Binding constraints, the same limit over many periods as one row (report/binding.py)."""
    t = run.table("binding_constraints")
    if t is None or t.empty:
        return '<p class="note">No binding constraint: relaxing any limit would not lower the cost.</p>'
    g = group_binding(t, run.summary.get("periods"))
    rows = []
    for _, r in g.head(top).iterrows():
        rows.append(f"<tr><td>{e(r['constraint'])}</td><td>{e(r['relaxation'])}</td>"
                    f"<td>{e(r['periods'])}</td><td class=num>{e(_range(r['value_min_usd'], r['value_max_usd']))}</td>"
                    f"<td class=num>{e(_range(r['pv_min_usd'], r['pv_max_usd']))}</td><td>per {e(r['unit'])}</td></tr>")
    more = (f'<p class="note">+{len(g) - top} more in <code>tables/binding_constraints.csv</code>.</p>'
            if len(g) > top else "")
    note = (f'<p class="note">{len(t)} binding constraint rows (one per period in '
            "<code>tables/binding_constraints.csv</code>) as "
            f"{len(g)} limits: a limit binding in several periods is one row, its values ranging over them.</p>"
            if len(g) < len(t) else "")
    return (note + "<table><thead><tr><th>constraint</th><th>relaxation</th><th>periods</th>"
            "<th class=num>value in that period</th><th class=num>present value</th><th>unit</th></tr></thead>"
            "<tbody>" + "".join(rows) + "</tbody></table>" + more)


def _inputs(run: Run) -> str:
    sc, sources = run.scenario, run.sources
    if not sc:
        return '<p class="note">The run directory has no scenario.resolved.yaml: inputs unknown.</p>'
    parts = []
    blocks = [("Contracts", sc.get("contracts")), ("Providers", sc.get("providers")), ("Sites", sc.get("sites")),
              ("Workloads", sc.get("workloads")),
              ("Policy share targets", (sc.get("policy") or {}).get("share_targets")),
              ("Funding", (sc.get("finance") or {}).get("funding")),
              ("Accelerators (overrides of the catalog)", sc.get("accelerators"))]
    for title, items in blocks:
        if isinstance(items, dict) and items:
            parts.append(f"<h3>{e(title)} ({len(items)})</h3>" + inputs_table(items, sources))
    fin = sc.get("finance")
    if isinstance(fin, dict):
        top = {k: v for k, v in fin.items() if k not in ("funding",)}
        if top:
            parts.append("<h3>Finance</h3>" + inputs_table({"finance": top}, sources))
    hz = sc.get("horizon")
    if isinstance(hz, dict):
        parts.append("<h3>Horizon</h3><p>" + e(", ".join(f"{k}: {v}" for k, v in hz.items())) + "</p>")
    if sources:
        items = "".join(f'<li id="src-{e(k)}"><b>{e(k)}</b> {_linkify(v)}</li>' for k, v in sources.items())
        parts.append(f"<h3>Sources ({len(sources)})</h3><ol class=refs>{items}</ol>")
    return "".join(parts)


def _run_info(run: Run) -> str:
    s, a = run.summary, run.attrs
    rows = [("run directory", str(run.path)), ("scenario", s.get("scenario")), ("variant", s.get("variant")),
            ("status", s.get("status")), ("net present cost", usd(s.get("net_present_cost_usd"))),
            ("compute spending (present value)", usd(s.get("compute_spending_pv_usd"))),
            ("periods", f"{s['periods'][0]} – {s['periods'][-1]} ({len(s['periods'])})" if s.get("periods") else None),
            ("model", ", ".join(f"{k}: {v}" for k, v in (s.get("model") or {}).items()))]
    t = s.get("timings_s") or {}
    rows.append(("timings", ", ".join(f"{k} {v:.2f} s" for k, v in t.items() if isinstance(v, (int, float)))))
    try:
        v = json.loads(a.get("versions", "{}"))
        rows.append(("versions", ", ".join(f"{k} {x}" for k, x in v.items())))
    except (TypeError, ValueError):
        pass
    if run.risk:
        m = run.risk.get("method") or {}
        rows.append(("Monte Carlo", f"{run.risk.get('draws', 0):,} draws, seed {run.risk.get('seed')}; "
                     + ", ".join(f"{k}: {x}" for k, x in m.items())))
    return "<table><tbody>" + "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows if v) + \
        "</tbody></table>"


def _page(title: str, subtitle: str, nav: list[tuple[str, str]], body: str, n_figures: int, css: str = CSS) -> str:
    links = "".join(f'<a href="#{e(i)}">{e(t)}</a>' for i, t in nav)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta name=\"generator\" content=\"gigawatt\"><meta name=\"gigawatt-figures\" content=\"{n_figures}\">"
            f"<title>{e(title)}</title><style>{css}</style></head><body>{script_tags()}"
            f"<header class=\"top\"><h1>{e(title)}</h1><div class=\"meta\">{subtitle}</div></header>"
            f"<nav>{links}</nav><main>{body}</main></body></html>\n")


def render_report(run: Run, published=None) -> tuple[str, list[Chart]]:
    """The report page of one run and the charts on it; ``published`` (gigawatt.report.published.Published)
    adds the published figures beside the headline cards, on the cash-flow chart and in a table section."""
    charts = build_charts(run, published) + extra_charts(run) + hedge_section.charts(run)
    by_section: dict[str, list[Chart]] = {}
    for c in charts:
        by_section.setdefault(c.section, []).append(c)

    def grid(section: str) -> str:
        out = [_figure_html(c) for c in by_section.get(section, [])]
        return '<div class="charts">' + "".join(out) + "</div>" if out else ""

    s = run.summary
    parts = [f'<section id="headline"><h2>Headline</h2>{_cards(headline(run), published, run.sources)}</section>']
    nav = list(SECTIONS)
    if published is not None:
        parts.append(f'<section id="published"><h2>{e(PUBLISHED_TITLE)}</h2>'
                     f"{_published_table(published, run.sources)}</section>")
        nav.insert(1, ("published", "Published figures"))
    if hedge_section.block(run) is not None:  # a run of `gigawatt hedge`
        sid, title = hedge_section.SECTION
        parts.append(f'<section id="{sid}"><h2>{e(title)}</h2>{hedge_section.html_of(run)}{grid(sid)}</section>')
        nav.insert(len(parts) - 1, hedge_section.SECTION)
    for sid, title in SECTIONS[1:]:
        inner = grid(sid)
        if sid == "finance":
            notes = []
            if run.finance is None:
                notes.append('<p class="note" id="no-finance">No finance section in this scenario: revenue, '
                             "cash flow and the cash position are not in this run (summary.json has no finance figures).</p>")
            if not run.risk:
                notes.append('<p class="note" id="no-risk">No Monte Carlo simulation in this run: '
                             f"<code>gigawatt simulate {e(run.path)}</code> adds the fan chart and the probability "
                             "of running out of cash.</p>")
            inner = "".join(notes) + inner
        elif sid in ("exposure", "sensitivity"):
            inner = section_html(run, sid) + inner
        elif sid == "constraints":
            inner += _binding_table(run)
        elif sid == "inputs":
            inner = _inputs(run)
        elif sid == "run":
            inner = _run_info(run)
        if not inner:
            inner = '<p class="note">Nothing to show for this run.</p>'
        parts.append(f'<section id="{sid}"><h2>{e(title)}</h2>{inner}</section>')
    subtitle = (f"{e(run.path)} · status <b>{e(s.get('status'))}</b> · "
                f"{e(s['periods'][0]) if s.get('periods') else ''}–{e(s['periods'][-1]) if s.get('periods') else ''}"
                " · gigawatt report (computed by the solve; this page only draws it)")
    title = f"gigawatt report: {run.label}"
    css = CSS + PUBLISHED_CSS if published is not None else CSS
    return _page(title, subtitle, nav, "".join(parts), len(charts), css), charts


def compare_rows(runs: list[Run]) -> tuple[list[str], list[list[str]]]:
    """The headline figures side by side: (row labels, one list of texts per run)."""
    facts = [headline(r) + hedge_section.facts(r) for r in runs]
    keys: list[tuple[str, str]] = []
    for fs in facts:
        for f in fs:
            if f.key not in [k for k, _ in keys]:
                keys.append((f.key, f.label))
    cols = [[next((f.text for f in fs if f.key == k), "–") for k, _ in keys] for fs in facts]
    return [label for _, label in keys], cols


def render_compare(runs: list[Run]) -> tuple[str, list[Chart]]:
    charts = compare_charts(runs)
    labels, cols = compare_rows(runs)
    head = "".join(f"<th class=num>{e(r.label)}</th>" for r in runs)
    body = "".join(f"<tr><th>{e(label)}</th>" + "".join(f"<td class=num>{e(c[i])}</td>" for c in cols) + "</tr>"
                   for i, label in enumerate(labels))
    table = f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"
    figs = "".join(_figure_html(c) for c in charts)
    runs_list = "".join(f"<li><b>{e(r.label)}</b>: <code>{e(r.path)}</code></li>" for r in runs)
    notes = ""
    missing = [r.label for r in runs if r.finance is None]
    if missing:
        notes = ('<p class="note">No finance section in ' + e(", ".join(missing)) +
                 ": their cash and revenue lines are absent.</p>")
    parts = [f'<section id="headline"><h2>Headline figures</h2>{table}</section>',
             f'<section id="charts"><h2>Overlaid</h2>{notes}<div class="charts">{figs}</div></section>',
             f'<section id="runs"><h2>Runs</h2><ul>{runs_list}</ul></section>']
    title = "gigawatt compare: " + " · ".join(r.label for r in runs)
    nav = [("headline", "Headline figures"), ("charts", "Overlaid"), ("runs", "Runs")]
    return _page(title, f"{len(runs)} runs", nav, "".join(parts), len(charts)), charts


__all__ = ["render_report", "render_compare", "compare_rows", "source_html", "PLOTLY_CONFIG"]
