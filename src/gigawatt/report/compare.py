"""Comparison charts: one series per run overlaid on the same axes (``gigawatt report --compare``)."""

from __future__ import annotations

from typing import Callable

import pandas as pd
import plotly.graph_objects as go

from gigawatt.report.data import Run
from gigawatt.report.plotting import PALETTE, Chart, hover, layout


def _overlay(runs: list[Run], series: Callable[[Run], pd.Series | None], *, unit: str, scale: float, title: str,
             y_title: str, y_format: str | None = None) -> go.Figure | None:
    cmap = {r.label: PALETTE[i % len(PALETTE)] for i, r in enumerate(runs)}
    fig = go.Figure()
    for r in runs:
        s = series(r)
        if s is None or s.dropna().empty:
            continue
        fig.add_trace(go.Scatter(x=list(s.index), y=s.to_numpy(dtype=float) * scale, name=r.label,
                                 mode="lines+markers", line=dict(color=cmap[r.label], width=2.5),
                                 hovertemplate=hover(unit)))
    if not fig.data:
        return None
    layout(fig, title=title, y_title=y_title, y_format=y_format)
    fig.update_yaxes(rangemode="normal")
    return fig


def _cash_series(run: Run) -> pd.Series | None:
    fin = run.finance
    if fin is not None:
        if "cash_usd" in fin:
            return fin["cash_usd"]
    return None


def _cost_total(run: Run) -> pd.Series | None:
    t = run.yearly_nested("cost_usd_by_category")
    if t.empty:
        return None
    cols = [c for c in ("capex", "lease", "energy", "other") if c in t]
    return t[cols].sum(axis=1, min_count=1)


def _target_share(run: Run) -> pd.Series | None:
    t = run.share_targets()
    if t is None:
        return None
    first = t["target"].iloc[0]
    g = t[t["target"] == first]
    return pd.Series(g["share"].to_numpy(dtype=float), index=list(g["x"]))


COMPARE: list[tuple[str, str, Callable, dict]] = [
    ("cmp-cash", "Cash position", _cash_series, dict(unit="USDbn", scale=1e-9, y_title="USD billion")),
    ("cmp-power", "Power in service", lambda r: r.yearly("power_gw"), dict(unit="GW", scale=1.0, y_title="GW")),
    ("cmp-chips", "Chips in service", lambda r: r.yearly("chips"), dict(unit="Mchips", scale=1e-6,
                                                                        y_title="million chips")),
    ("cmp-cost", "Cost per year", _cost_total, dict(unit="USDbn", scale=1e-9, y_title="USD billion")),
    ("cmp-revenue", "Revenue", lambda r: (r.finance["revenue_usd"] if r.finance is not None and
                                          "revenue_usd" in r.finance else None),
     dict(unit="USDbn", scale=1e-9, y_title="USD billion")),
    ("cmp-target-share", "Share of the first policy target's group", _target_share,
     dict(unit="pct", scale=1.0, y_title="share", y_format=".0%")),
    ("cmp-unmet", "Unmet demand", lambda r: r.yearly("unmet_demand_fraction"),
     dict(unit="pct", scale=1.0, y_title="share of demand", y_format=".0%")),
]


def compare_charts(runs: list[Run]) -> list[Chart]:
    charts = []
    for cid, title, series, kw in COMPARE:
        fig = _overlay(runs, series, title=title, **kw)
        if fig is not None:
            charts.append(Chart(id=cid, title=title, caption="", section="compare", figure=fig))
    return charts
