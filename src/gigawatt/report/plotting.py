"""The charts' shared look: palette and one colour per provider and vendor, height, template, hover formats
by unit, the layout every chart gets, and stacked areas and bars. A chart is a :class:`Chart` (id, title,
caption, section, figure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from gigawatt.report.data import Run
from gigawatt.report.plotlyjs import TRACE_TYPES

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#e7ba52", "#843c39", "#5254a3", "#6b6ecf", "#637939")
HEIGHT = 420


def _white_template() -> go.layout.Template:
    """plotly_white with only the trace defaults of the types the page's bundle draws: the same look, and
    ~4 kB less per chart (each figure carries its template)."""
    import plotly.io as pio

    base = pio.templates["plotly_white"]
    return go.layout.Template(layout=base.layout, data={k: base.data[k] for k in sorted(TRACE_TYPES)})


TEMPLATE = _white_template()

# hover formats by unit: the value part of a hovertemplate. Money uses d3's currency format ("$,.1f"), so a
# negative reads -$43.3B as in gigawatt.fmt.usd (not $-43.29B).
UNITS = {
    "GW": "%{y:,.2f} GW",
    "MW": "%{y:,.0f} MW",
    "Mchips": "%{y:,.3f}M chips",
    "USDbn": "%{y:$,.1f}B",
    "pct": "%{y:.1%}",
    "usd_per_h100_hour": "%{y:$,.3f} per H100-hour",
    "USDm": "%{x:$,.1f}M",
}


@dataclass(frozen=True)
class Chart:
    """A built chart: its id (HTML anchor), title, one-line caption, section and figure."""

    id: str
    title: str
    caption: str
    section: str
    figure: go.Figure


def hover(unit: str) -> str:
    """A trace's hovertemplate: its name and value with the unit (the charts' unified hover shows x above)."""
    return f"<b>%{{fullData.name}}</b>: {UNITS[unit]}<extra></extra>"


def colors(names) -> dict[str, str]:
    """Stable colours: sorted names take palette entries in order, so a provider keeps its colour."""
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(sorted(map(str, names)))}


PARTY_TABLES = ("capacity_chips_by_provider", "capacity_mw_by_provider", "share_by_provider",
                "capacity_chips_by_vendor", "share_by_vendor")


def party_colors(run: Run) -> dict[str, str]:
    """One colour per provider and per vendor for the whole run (a name shared by a provider and a vendor,
    e.g. aws or google, keeps one colour): every chart by provider or vendor draws with this map, so a
    provider that is zero in one chart does not shift the others' colours."""
    names: set[str] = set()
    for key in PARTY_TABLES:
        t = run.tables.get(key)
        if t is not None:
            names.update(str(c) for c in t.columns if c not in ("period", ""))
    return colors(names)


def layout(fig: go.Figure, *, title: str, y_title: str, x_title: str = "", y_format: str | None = None,
           y_prefix: str = "", y_suffix: str = "", hovermode: str = "x unified", barmode: str | None = None,
           integer_x: bool = True) -> go.Figure:
    """The layout every chart shares: white template, title, legend below, y from zero, whole years on x."""
    fig.update_layout(template=TEMPLATE, height=HEIGHT, title=dict(text=title, x=0.01, font=dict(size=15)),
                      margin=dict(l=64, r=16, t=48, b=36), hovermode=hovermode,
                      legend=dict(orientation="h", yanchor="top", y=-0.12, x=0, font=dict(size=11),
                                  traceorder="normal"),
                      font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=12))
    if hovermode == "x unified":  # anywhere over the plot shows the nearest period, not only near a point
        fig.update_layout(hoverdistance=-1)
    if barmode:
        fig.update_layout(barmode=barmode)
    fig.update_yaxes(title_text=y_title, tickformat=y_format, tickprefix=y_prefix, ticksuffix=y_suffix,
                     rangemode="tozero", zeroline=True)
    fig.update_xaxes(title_text=x_title)
    if integer_x:
        fig.update_xaxes(dtick=1, tickformat="d")
    return fig


def int_x(frame: pd.DataFrame | pd.Series) -> bool:
    """Whether the index is whole numbers (years), so ticks are drawn one per year."""
    return all(isinstance(v, (int, np.integer)) for v in frame.index)


def _nonzero_columns(frame: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in frame.columns if np.nan_to_num(frame[c].to_numpy(dtype=float)).any()]
    return frame[keep] if keep else frame


def stacked_area(frame: pd.DataFrame, *, unit: str, scale: float = 1.0, title: str, y_title: str,
                 groupnorm: str | None = None, custom_unit: str | None = None,
                 cmap: dict[str, str] | None = None) -> go.Figure:
    cmap = cmap or colors(frame.columns)  # before zero columns go, so the rest keep their colours
    frame = _nonzero_columns(frame.fillna(0.0))
    fig = go.Figure()
    for c in frame.columns:
        y = frame[c].to_numpy(dtype=float) * scale
        kw = {}
        if groupnorm:
            kw["groupnorm"] = groupnorm
            kw["customdata"] = y
            template = (f"<b>%{{fullData.name}}</b>: %{{y:.1f}}% of the total"
                        f" (%{{customdata:,.3f}}{custom_unit})<extra></extra>")
        else:
            template = hover(unit)
        fig.add_trace(go.Scatter(x=list(frame.index), y=y, name=str(c), mode="lines", stackgroup="one",
                                 line=dict(width=0.8, color=cmap[str(c)]), hovertemplate=template, **kw))
    return layout(fig, title=title, y_title=y_title, integer_x=int_x(frame),
                   y_suffix="%" if groupnorm else "")


def stacked_bars(frame: pd.DataFrame, *, unit: str, scale: float, title: str, y_title: str,
                 order: list[str] | None = None, cmap: dict[str, str] | None = None) -> go.Figure:
    cmap = cmap or colors(frame.columns)  # before zero columns go, so the rest keep their colours
    frame = _nonzero_columns(frame.fillna(0.0))
    cols = [c for c in (order or []) if c in frame.columns] + [c for c in frame.columns if c not in (order or [])]
    fig = go.Figure()
    for c in cols:
        fig.add_trace(go.Bar(x=list(frame.index), y=frame[c].to_numpy(dtype=float) * scale, name=str(c),
                             marker_color=cmap.get(str(c)), hovertemplate=hover(unit)))
    return layout(fig, title=title, y_title=y_title, barmode="relative", integer_x=int_x(frame))


def mark_year(fig: go.Figure, year, text: str) -> None:
    """A dotted vertical line at ``year`` with a note."""
    fig.add_vline(x=year, line=dict(color="#444", dash="dot", width=1.5))
    fig.add_annotation(x=year, y=1, yref="paper", text=text, showarrow=False, xanchor="left", yanchor="top",
                       xshift=4, font=dict(size=11, color="#333"), bgcolor="rgba(255,255,255,0.8)")
