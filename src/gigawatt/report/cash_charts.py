"""The charts of revenue and cash, in docs/glossary.md's words: flows before and after financing (with a
published forecast beside them), the cash position with the cumulative free cash flow, revenue and operating
income, the Monte Carlo fan of the cash position and the probability of running out of cash."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from gigawatt.report.data import Run
from gigawatt.report.plotting import hover, int_x, layout


def _bars(fig: go.Figure, fin, x: list, key: str, name: str, color: str) -> None:
    if key in fin:
        fig.add_trace(go.Bar(x=x, y=fin[key] * 1e-9, name=name, marker_color=color, hovertemplate=hover("USDbn")))


def _lines(fig: go.Figure, fin, x: list, key: str, name: str, line: dict) -> None:
    if key in fin:
        fig.add_trace(go.Scatter(x=x, y=fin[key] * 1e-9, name=name, mode="lines+markers", line=line,
                                 hovertemplate=hover("USDbn")))


def _finish(fig: go.Figure, fin, title: str, **kw) -> go.Figure | None:
    if not fig.data:
        return None
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    layout(fig, title=title, y_title="USD billion", integer_x=int_x(fin), **kw)
    fig.update_yaxes(rangemode="normal")
    return fig


def cash_flow(run: Run) -> go.Figure | None:
    """Flows per year (docs/glossary.md): free cash flow (before financing), financing, and cash flow after
    financing, side by side."""
    fin = run.finance
    if fin is None:
        return None
    fig, x = go.Figure(), list(fin.index)
    _bars(fig, fin, x, "free_cash_flow_usd", "free cash flow (before financing)", "#ff7f0e")
    _bars(fig, fin, x, "financing_usd", "financing", "#9467bd")
    _bars(fig, fin, x, "cash_flow_after_financing_usd", "cash flow after financing", "#1f77b4")
    return _finish(fig, fin, "Cash flow before and after financing", barmode="group")


def cash_position(run: Run) -> go.Figure | None:
    """Stocks at each year's end: the cash position and the cumulative free cash flow."""
    fin = run.finance
    if fin is None:
        return None
    fig, x = go.Figure(), list(fin.index)
    _lines(fig, fin, x, "cash_usd", "cash position", dict(color="#111", width=2.5))
    _lines(fig, fin, x, "cumulative_free_cash_flow_usd", "cumulative free cash flow",
           dict(color="#ff7f0e", width=2, dash="dot"))
    return _finish(fig, fin, "Cash position and cumulative free cash flow")


def revenue(run: Run) -> go.Figure | None:
    """Revenue and operating income per year (the P&L, not cash)."""
    fin = run.finance
    if fin is None:
        return None
    fig, x = go.Figure(), list(fin.index)
    _bars(fig, fin, x, "revenue_usd", "revenue", "#2ca02c")
    _lines(fig, fin, x, "operating_income_usd", "operating income", dict(color="#8c564b", dash="dot", width=2))
    return _finish(fig, fin, "Revenue and operating income")


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
    """Overlay a published cash-burn forecast (dashed, diamonds) on the cash-flow chart, beside the run's
    free cash flow (before financing, the basis of the published burn)."""
    from gigawatt.report.published import VINTAGE_LABEL

    cf = published.cash_flow_usd
    if not cf:
        return
    label = f"published forecast ({VINTAGE_LABEL.get(published.vintage, published.vintage)}, {published.cash_flow_source})"
    fig.add_trace(go.Scatter(x=list(cf), y=[v * 1e-9 for v in cf.values()], name=label, mode="lines+markers",
                             line=dict(color="#111", dash="dash", width=2),
                             marker=dict(symbol="diamond-open", size=10, color="#111", line=dict(width=2)),
                             meta={"published": True, "vintage": published.vintage},
                             hovertemplate=hover("USDbn")))
