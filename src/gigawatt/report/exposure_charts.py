"""The report's counterparty sections: circular flows and payments per counterparty (tables/exposure.csv,
exposure_by_year.csv, written by solve or `gigawatt exposure`) and the sensitivity tornado and Sobol ranking
(sensitivity_oat.csv, sensitivity_sobol.csv, written by `gigawatt sensitivity --out RUN`). Bar and scatter
traces only: the page's plotly bundle draws no other type. Reads files; computes nothing new."""

from __future__ import annotations

import html
from functools import partial
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from gigawatt.fmt import usd
from gigawatt.report.data import Run
from gigawatt.report.plotting import Chart, colors, layout

TOP = 12  # counterparties drawn; the rest are in the table and the CSV
MONEY_X = "<b>%{fullData.name}</b>: %{x:$,.1f}B<extra>%{y}</extra>"
MONEY_Y = "<b>%{fullData.name}</b>: %{y:$,.1f}B<extra></extra>"


def _read(run: Run, stem: str) -> pd.DataFrame | None:
    """tables/<stem>.csv as loaded, else <stem>.csv at the run directory's top (added to older runs)."""
    t = run.table(stem)
    if t is None and (Path(run.path) / f"{stem}.csv").is_file():
        t = pd.read_csv(Path(run.path) / f"{stem}.csv", index_col=0)
    return t if t is not None and len(t) else None


def flows(run: Run) -> go.Figure | None:
    """Per counterparty: paid by the lab (left), what comes back as vendor equity and funding (right) and,
    for vendors, what the lab pays providers for capacity of their chips (left, lighter)."""
    s = _read(run, "exposure")
    if s is None:
        return None
    s = s.assign(size=s["paid_usd"] + s["inflow_usd"]).sort_values("size", ascending=False).head(TOP)
    s = s[s["size"] > 0].iloc[::-1]
    if s.empty:
        return None
    y = list(s.index)
    fig = go.Figure()
    fig.add_trace(go.Bar(y=y, x=-s["paid_usd"] * 1e-9, orientation="h", name="paid by the lab",
                         marker_color="#d62728", hovertemplate=MONEY_X))
    if (s["via_providers_usd"] > 0).any():
        fig.add_trace(go.Bar(y=y, x=-s["via_providers_usd"] * 1e-9, orientation="h",
                             name="paid to providers for its chips (indirect)", marker_color="#f4a6a6",
                             hovertemplate=MONEY_X))
    fig.add_trace(go.Bar(y=y, x=s["inflow_usd"] * 1e-9, orientation="h", name="back to the lab: equity and funding",
                         marker_color="#2ca02c", hovertemplate=MONEY_X))
    fig.add_trace(go.Scatter(y=y, x=s["net_flow_usd"] * 1e-9, mode="markers", name="net flow (back − paid)",
                             marker=dict(symbol="diamond", size=10, color="#111"), hovertemplate=MONEY_X))
    layout(fig, title="Circular flows: paid to each counterparty and what it puts back", y_title="",
           x_title="USD billion over the horizon", barmode="relative", hovermode="closest", integer_x=False)
    fig.update_xaxes(rangemode="normal")
    fig.update_yaxes(type="category", automargin=True)
    return fig


def paid_by_year(run: Run) -> go.Figure | None:
    """Stacked payments per year by counterparty, with the firm take-or-pay owed whatever the plan uses."""
    t = _read(run, "exposure_by_year")
    if t is None or "year" not in t:
        return None
    paid = t.pivot_table(index="year", columns=t.index, values="paid_usd", aggfunc="sum").fillna(0.0)
    paid = paid.loc[:, paid.sum() > 0]
    if paid.empty:
        return None
    paid = paid[paid.sum().sort_values(ascending=False).index]
    col = colors(paid.columns)
    fig = go.Figure()
    for name in paid.columns:
        fig.add_trace(go.Bar(x=list(paid.index), y=paid[name] * 1e-9, name=str(name), marker_color=col[name],
                             hovertemplate=MONEY_Y))
    owed = t.groupby("year")["firm_owed_usd"].sum()
    fig.add_trace(go.Scatter(x=list(owed.index), y=owed * 1e-9, name="of it take-or-pay (firm)", mode="lines+markers",
                             line=dict(color="#111", dash="dot", width=2), hovertemplate=MONEY_Y))
    layout(fig, title="Paid per year by counterparty", y_title="USD billion", barmode="stack")
    return fig


def unpaid(run: Run) -> go.Figure | None:
    """Expected and tail (CVaR) amount left unpaid per counterparty (exposure_unpaid.csv of `gigawatt exposure
    RUN --risk`)."""
    s = _read(run, "exposure_unpaid")
    if s is None:
        return None
    s = s[s["expected_unpaid_usd"] > 0].head(TOP)
    if s.empty:
        return None
    cvar = next(c for c in s.columns if c.startswith("cvar"))
    fig = go.Figure()
    fig.add_trace(go.Bar(x=list(s.index), y=s["expected_unpaid_usd"] * 1e-9, name="expected", marker_color="#ff7f0e",
                         hovertemplate=MONEY_Y))
    fig.add_trace(go.Bar(x=list(s.index), y=s[cvar] * 1e-9, name=f"CVaR {cvar[4:6]}% (mean of the worst draws)",
                         marker_color="#d62728", hovertemplate=MONEY_Y))
    r0 = s.iloc[0]
    layout(fig, title=f"Left unpaid if the lab runs short ({int(r0['draws']):,} draws, floor {usd(r0['floor_usd'])}, "
                      f"{usd(r0['can_raise_usd'])} more raisable)", y_title="USD billion", barmode="group",
           integer_x=False)
    return fig


def deferral(run: Run) -> go.Figure | None:
    """Under the renegotiation policy (exposure_deferral.csv of `gigawatt exposure RUN --risk --policy defer`):
    per counterparty the expected amount it defers (the gap it absorbs), the penalty owed to it and what is
    still left unpaid."""
    s = _read(run, "exposure_deferral")
    if s is None:
        return None
    s = s[(s["expected_deferred_usd"] + s["expected_unpaid_usd"] + s.get("expected_terminated_value_usd", 0.0)) > 0].head(TOP)
    if s.empty:
        return None
    fig = go.Figure()
    bars = [("expected_deferred_usd", "deferred (absorbed by it)", "#1f77b4"),
            ("expected_penalty_usd", "penalty owed to it", "#2ca02c")]
    if "expected_absorbed_termination_usd" in s:  # a terminating policy
        bars += [("expected_absorbed_termination_usd", "lost to termination (remaining value − fee)", "#9467bd"),
                 ("expected_fee_usd", "termination fee paid to it", "#8c564b")]
    for col, name, color in [*bars, ("expected_unpaid_usd", "still left unpaid", "#d62728")]:
        fig.add_trace(go.Bar(x=list(s.index), y=s[col] * 1e-9, name=name, marker_color=color, hovertemplate=MONEY_Y))
    r0 = s.iloc[0]
    layout(fig, title=f"Who absorbs the funding gap under policy {r0.get('policy', 'defer')} (expected; order "
                      f"{r0['order']}, {int(r0['draws']):,} draws)", y_title="USD billion", barmode="group",
           integer_x=False)
    return fig


OUTPUT_TITLES = {"net_present_cost_usd": "net present cost", "funding_gap_usd": "funding need",
                 "first_free_cash_flow_positive_year": "first year free cash flow > 0"}


def _sensitivity(run: Run, name: str, output: str) -> pd.DataFrame | None:
    f = Path(run.path) / name
    if not f.is_file():
        return None
    t = pd.read_csv(f)
    t = t[t["output"] == output]
    return t if len(t) else None


def tornado(run: Run, output: str = "net_present_cost_usd") -> go.Figure | None:
    """One-at-a-time swings of each input around the base for one output: per input its low and high."""
    t = _sensitivity(run, "sensitivity_oat.csv", output)
    if t is None:
        return None
    t = t.assign(swing=(t["high_delta"] - t["low_delta"]).abs()).sort_values("swing")
    fig = go.Figure()
    for side, color in (("low", "#1f77b4"), ("high", "#ff7f0e")):
        fig.add_trace(go.Bar(y=list(t["input"]), x=t[f"{side}_delta"] * (1e-9 if t["unit"].iloc[0] == "USD" else 1),
                             base=0, orientation="h", name=f"input at its {side} value", marker_color=color,
                             customdata=t[side], hovertemplate="<b>%{y}</b> = %{customdata}: %{x:,.2f}<extra></extra>"))
    unit = "USD billion" if t["unit"].iloc[0] == "USD" else "years"
    layout(fig, title=f"Tornado: change of {OUTPUT_TITLES.get(output, output)} from the base", y_title="", x_title=unit,
           barmode="overlay", hovermode="closest", integer_x=False)
    fig.update_xaxes(rangemode="normal")
    fig.update_yaxes(type="category", automargin=True)
    return fig


def sobol(run: Run, output: str = "net_present_cost_usd") -> go.Figure | None:
    """First-order and total Sobol indices per input with their confidence intervals (error bars)."""
    t = _sensitivity(run, "sensitivity_sobol.csv", output)
    if t is None:
        return None
    fig = go.Figure()
    for key, name, color in (("S1", "first order", "#1f77b4"), ("ST", "total", "#9467bd")):
        fig.add_trace(go.Bar(x=list(t["input"]), y=t[key], name=name, marker_color=color,
                             error_y=dict(type="data", array=t[f"{key}_conf"], visible=True),
                             hovertemplate=f"<b>{name}</b>: %{{y:.2f}}<extra></extra>"))
    n = int(t["samples"].iloc[0]) if "samples" in t else None
    layout(fig, title=f"Sobol indices of {OUTPUT_TITLES.get(output, output)}" + (f" ({n:,} solves)" if n else ""),
           y_title="share of variance", barmode="group", integer_x=False)
    fig.update_xaxes(tickangle=-30, automargin=True)
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0))
    return fig


_SHORT = {"npc": "net_present_cost_usd", "gap": "funding_gap_usd", "fcf": "first_free_cash_flow_positive_year"}

BUILDERS = [
    ("exposure-flows", "exposure", "Circular flows", flows,
     "Per counterparty over the horizon: what the lab pays it (red), what the lab pays clouds for capacity of a "
     "vendor's chips (light red: indirect, counted with the cloud too), vendor equity and funding it puts in "
     "(green) and the net (diamond). Amazon's funding nets against AWS, Nvidia's against Nvidia."),
    ("exposure-paid", "exposure", "Paid per year", paid_by_year,
     "Payments per year by counterparty (contracts, rentals, chips, sites, energy); dotted: the take-or-pay "
     "share owed whether the capacity is used or not."),
    ("exposure-unpaid", "exposure", "Left unpaid", unpaid,
     "Monte Carlo of the plan: per counterparty the expected amount left unpaid and its tail (CVaR), when a "
     "draw skips what keeps its cash above the floor, shared in proportion to what each is due (docs/exposure.md)."),
    ("exposure-deferral", "exposure", "Renegotiation as a stated policy", deferral,
     "Monte Carlo of the plan with the contracts' renegotiation terms: when a draw's cash would fall below the "
     "floor the lab defers what the terms allow (after their notice), repays it with the penalty after the "
     "delay, and (policy terminate) ends contracts at their fee, lowest fee first; the rest is left unpaid pro rata "
     "(docs/exposure.md). Terms are the scenario's: check their source."),
    *[(f"sensitivity-tornado-{k}", "sensitivity", f"Tornado: {OUTPUT_TITLES[o]}", partial(tornado, output=o),
       "Each input set to its low and its high value (drivers: 5th and 95th percentiles; events: off and on), "
       "the others as written: the change of the output from the base solve.") for k, o in _SHORT.items()],
    *[(f"sensitivity-sobol-{k}", "sensitivity", f"Sobol indices: {OUTPUT_TITLES[o]}", partial(sobol, output=o),
       "Share of the output's variance due to each input alone (first order) and with its interactions (total), "
       "with 95% bootstrap confidence intervals (SALib); inputs sampled independently.")
      for k, o in _SHORT.items() if k != "fcf"],  # the year's indices are in the CSV; the page keeps its size
]


def extra_charts(run: Run) -> list[Chart]:
    """The charts of the exposure and sensitivity sections this run has data for."""
    out = []
    for cid, section, title, builder, caption in BUILDERS:
        fig = builder(run)
        if fig is not None and len(fig.data):
            out.append(Chart(id=cid, title=title, caption=caption, section=section, figure=fig))
    return out


def section_html(run: Run, section: str) -> str:
    """The table above a section's charts (exposure), or a note saying how to get the data."""
    if section == "sensitivity":
        if (Path(run.path) / "sensitivity_oat.csv").is_file():
            return ""
        return ('<p class="note" id="no-sensitivity">No sensitivity ranking in this run: <code>gigawatt sensitivity '
                f"SCENARIO --out {html.escape(str(run.path))}</code> adds the tornado and the Sobol indices.</p>")
    s = _read(run, "exposure")
    if s is None:
        return ('<p class="note" id="no-exposure">No exposure table in this run: <code>gigawatt exposure '
                f"{html.escape(str(run.path))}</code> adds it.</p>")
    head = ("counterparty", "role", "firm commitments", "share", "options", "paid", "take-or-pay", "inflow", "net")
    rows = []
    for name, r in s.iterrows():
        cells = (name, r["role"], usd(r["commitments_firm_usd"]), f"{r['share_of_firm_commitments']:.0%}",
                 usd(r["commitments_option_usd"]), usd(r["paid_usd"]), usd(r["firm_owed_usd"]), usd(r["inflow_usd"]),
                 usd(r["net_flow_usd"]))
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    note = ('<p class="note">Commitments: each contract\'s value over its whole term (firm; options apart), as '
            "summary.json's commitments_usd_total counts them. Paid, take-or-pay and inflow: this plan over the "
            "horizon. Warrants are listed as stated, not valued.</p>")
    return (f'{note}<table id="exposure-table"><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


__all__ = ["BUILDERS", "extra_charts", "section_html", "flows", "paid_by_year", "unpaid", "deferral", "tornado", "sobol"]
