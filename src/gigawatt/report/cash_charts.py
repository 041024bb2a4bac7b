"""The charts of revenue and cash: the plan's cash flow (with a published forecast beside it), the Monte
Carlo fan of cash and the probability of running out of cash."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from gigawatt.report.data import Run
from gigawatt.report.plotting import hover, int_x, layout


def cash_flow(run: Run) -> go.Figure | None:
    fin = run.finance
    if fin is None:
        return None
    fig = go.Figure()
    x = list(fin.index)
    if "revenue_usd" in fin:
        fig.add_trace(go.Bar(x=x, y=fin["revenue_usd"] * 1e-9, name="revenue", marker_color="#2ca02c",
                             hovertemplate=hover("USDbn")))
    if "cash_flow_usd" in fin:
        fig.add_trace(go.Bar(x=x, y=fin["cash_flow_usd"] * 1e-9, name="cash flow",
                             marker_color=["#1f77b4" if v >= 0 else "#d62728" for v in fin["cash_flow_usd"].fillna(0)],
                             hovertemplate=hover("USDbn")))
    for key, name, line in (("operating_income_usd", "operating income", dict(color="#8c564b", dash="dot", width=2)),
                            ("cumulative_cash_flow_usd", "cumulative cash flow", dict(color="#9467bd", width=2)),
                            ("cash_usd", "cash", dict(color="#111", width=2.5))):
        if key in fin:
            fig.add_trace(go.Scatter(x=x, y=fin[key] * 1e-9, name=name, mode="lines+markers", line=line,
                                     hovertemplate=hover("USDbn")))
    if not fig.data:
        return None
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    layout(fig, title="Revenue, cash flow and cumulative cash", y_title="USD billion", barmode="group",
            integer_x=int_x(fin))
    fig.update_yaxes(rangemode="normal")
    return fig


def cash_fan(run: Run) -> go.Figure | None:
    """Monte Carlo fan of cash (risk.json percentiles), with the plan's own path."""
    risk = run.risk or {}
    pct = risk.get("cash_usd_percentiles") or {}
    if not pct or "p50" not in pct:
        return None
    periods = list(pct["p50"])
    from gigawatt.report.data import period_x

    x = period_x(periods)

    def band(p: str) -> np.ndarray:
        return np.array([np.nan if pct[p].get(k) is None else pct[p][k] * 1e-9 for k in periods], dtype=float)

    fig = go.Figure()
    for lo, hi, name, alpha in (("p5", "p95", "5–95%", 0.15), ("p25", "p75", "25–75%", 0.3)):
        if lo in pct and hi in pct:
            fig.add_trace(go.Scatter(x=x, y=band(hi), mode="lines", line=dict(width=0), showlegend=False,
                                     name=f"{hi}", hovertemplate=hover("USDbn"), legendgroup=name))
            fig.add_trace(go.Scatter(x=x, y=band(lo), mode="lines", line=dict(width=0), fill="tonexty",
                                     fillcolor=f"rgba(31,119,180,{alpha})", name=f"{name} of draws ({lo})",
                                     hovertemplate=hover("USDbn"), legendgroup=name))
    fig.add_trace(go.Scatter(x=x, y=band("p50"), mode="lines+markers", name="median", line=dict(color="#1f77b4",
                                                                                                 width=2.5),
                             hovertemplate=hover("USDbn")))
    det = (risk.get("deterministic") or {}).get("cash_usd") or {}
    if det:
        fig.add_trace(go.Scatter(x=x, y=[None if det.get(k) is None else det[k] * 1e-9 for k in periods],
                                 mode="lines", name="plan (no uncertainty)", line=dict(color="#111", dash="dash"),
                                 hovertemplate=hover("USDbn")))
    fig.add_hline(y=0, line=dict(color="#d62728", width=1))
    title = f"Cash position: Monte Carlo fan ({risk.get('draws', 0):,} draws)"
    layout(fig, title=title, y_title="USD billion", integer_x=all(isinstance(v, int) for v in x))
    fig.update_yaxes(rangemode="normal")
    return fig


def out_of_cash(run: Run) -> go.Figure | None:
    risk = run.risk or {}
    ever = risk.get("probability_cash_below_zero_by_year") or {}
    within = risk.get("probability_cash_below_zero") or {}
    if not ever and not within:
        return None
    from gigawatt.report.data import period_x

    fig = go.Figure()
    if ever:
        fig.add_trace(go.Bar(x=period_x(list(ever)), y=list(ever.values()), name="out of cash by then",
                             marker_color="#d62728", hovertemplate=hover("pct")))
    if within:
        fig.add_trace(go.Scatter(x=period_x(list(within)), y=list(within.values()), name="cash below 0 in that year",
                                 mode="lines+markers", line=dict(color="#111"), hovertemplate=hover("pct")))
    layout(fig, title="Probability of running out of cash", y_title="probability", y_format=".0%",
            integer_x=all(isinstance(v, int) for v in period_x(list(ever or within))))
    fig.update_yaxes(range=[0, 1.05])
    return fig


def add_published_cash_flow(fig: go.Figure, run: Run, published) -> None:
    """Overlay a published cash-burn forecast (dashed, diamonds) and the run's cash flow before financing
    (summary.json free_cash_flow_usd, the basis of the published burn) on the cash-flow chart."""
    from gigawatt.report.published import VINTAGE_LABEL

    fcf = run.yearly("free_cash_flow_usd").dropna()
    if len(fcf):
        fig.add_trace(go.Scatter(x=list(fcf.index), y=fcf.values * 1e-9, name="cash flow before financing",
                                 mode="lines+markers", line=dict(color="#ff7f0e", width=2),
                                 marker=dict(size=6), hovertemplate=hover("USDbn")))
    cf = published.cash_flow_usd
    if not cf:
        return
    label = f"published forecast ({VINTAGE_LABEL.get(published.vintage, published.vintage)}, {published.cash_flow_source})"
    fig.add_trace(go.Scatter(x=list(cf), y=[v * 1e-9 for v in cf.values()], name=label, mode="lines+markers",
                             line=dict(color="#111", dash="dash", width=2),
                             marker=dict(symbol="diamond-open", size=10, color="#111", line=dict(width=2)),
                             meta={"published": True, "vintage": published.vintage},
                             hovertemplate=hover("USDbn")))
