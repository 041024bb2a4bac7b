"""Plotly figure builders: one function per chart, each taking a loaded Run and returning a Figure or None.

None means the run has nothing to draw for that chart (no sites, no finance, no simulation); the page says
why in its place. Every trace carries a hovertemplate with the unit of its values. Money is drawn in
USD billions, power in GW, chips in millions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from gigawatt.report.data import Run

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#e7ba52", "#843c39", "#5254a3", "#6b6ecf", "#637939")
HEIGHT = 420

# hover formats by unit: the value part of a hovertemplate
UNITS = {
    "GW": "%{y:,.2f} GW",
    "MW": "%{y:,.0f} MW",
    "Mchips": "%{y:,.3f}M chips",
    "USDbn": "$%{y:,.2f}B",
    "pct": "%{y:.1%}",
    "usd_per_h100_hour": "$%{y:,.3f} per H100-hour",
    "USDm": "$%{x:,.1f}M",
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


def _layout(fig: go.Figure, *, title: str, y_title: str, x_title: str = "", y_format: str | None = None,
            y_prefix: str = "", y_suffix: str = "", hovermode: str = "x unified", barmode: str | None = None,
            integer_x: bool = True) -> go.Figure:
    fig.update_layout(template="plotly_white", height=HEIGHT, title=dict(text=title, x=0.01, font=dict(size=15)),
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


def _int_x(frame: pd.DataFrame | pd.Series) -> bool:
    return all(isinstance(v, (int, np.integer)) for v in frame.index)


def _nonzero_columns(frame: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in frame.columns if np.nan_to_num(frame[c].to_numpy(dtype=float)).any()]
    return frame[keep] if keep else frame


def stacked_area(frame: pd.DataFrame, *, unit: str, scale: float = 1.0, title: str, y_title: str,
                 groupnorm: str | None = None, custom_unit: str | None = None) -> go.Figure:
    frame = _nonzero_columns(frame.fillna(0.0))
    cmap = colors(frame.columns)
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
    return _layout(fig, title=title, y_title=y_title, integer_x=_int_x(frame),
                   y_suffix="%" if groupnorm else "")


def stacked_bars(frame: pd.DataFrame, *, unit: str, scale: float, title: str, y_title: str,
                 order: list[str] | None = None, cmap: dict[str, str] | None = None) -> go.Figure:
    frame = _nonzero_columns(frame.fillna(0.0))
    cols = [c for c in (order or []) if c in frame.columns] + [c for c in frame.columns if c not in (order or [])]
    cmap = cmap or colors(cols)
    fig = go.Figure()
    for c in cols:
        fig.add_trace(go.Bar(x=list(frame.index), y=frame[c].to_numpy(dtype=float) * scale, name=str(c),
                             marker_color=cmap.get(str(c)), hovertemplate=hover(unit)))
    return _layout(fig, title=title, y_title=y_title, barmode="relative", integer_x=_int_x(frame))


# --- capacity ----------------------------------------------------------------------------------------------


def capacity_gw_by_provider(run: Run) -> go.Figure | None:
    t = run.by_period("capacity_mw_by_provider")
    if t is None:
        return None
    return stacked_area(t, unit="GW", scale=1e-3, title="Installed power by provider", y_title="GW (all-in)")


def capacity_chips_by_provider(run: Run) -> go.Figure | None:
    t = run.by_period("capacity_chips_by_provider")
    if t is None:
        return None
    return stacked_area(t, unit="Mchips", scale=1e-6, title="Chips by provider", y_title="million chips")


def capacity_gw_by_vendor(run: Run) -> go.Figure | None:
    t = run.plan_by("power_mw", "supply_vendor")
    if t is None:
        return None
    return stacked_area(t, unit="GW", scale=1e-3, title="Installed power by chip vendor", y_title="GW (all-in)")


def capacity_chips_by_vendor(run: Run) -> go.Figure | None:
    t = run.by_period("capacity_chips_by_vendor")
    if t is None:
        return None
    return stacked_area(t, unit="Mchips", scale=1e-6, title="Chips by vendor", y_title="million chips")


def accelerator_mix(run: Run) -> go.Figure | None:
    t = run.by_period("capacity_chips_by_accelerator")
    if t is None:
        return None
    return stacked_area(t, unit="pct", scale=1e-6, groupnorm="percent", custom_unit="M chips",
                        title="Accelerator mix (share of installed chips)", y_title="% of chips")


def site_power(run: Run) -> go.Figure | None:
    """Per site: power energised (solid) against the envelope (dashed) and what the chips draw (dotted)."""
    from plotly.subplots import make_subplots

    energised = run.plan_frame("site_power_mw", "site")
    if energised is None:
        energised = run.by_period("site_power_mw")
    if energised is None or energised.shape[1] == 0:
        return None
    envelope = run.plan_frame("site_power_max_mw", "site")
    drawn = run.plan_by("power_mw", "supply_site")
    sites = [str(s) for s in energised.columns]
    ncols = min(len(sites), 3)
    nrows = -(-len(sites) // ncols)
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=sites, horizontal_spacing=0.06,
                        vertical_spacing=0.12 if nrows > 1 else 0.0)
    styles = (("envelope", envelope, dict(color="#7f7f7f", dash="dash", width=1.8)),
              ("energised", energised, dict(color="#1f77b4", width=2.5)),
              ("drawn by chips", drawn, dict(color="#ff7f0e", dash="dot", width=2.2)))
    for i, site in enumerate(sites):
        row, col = i // ncols + 1, i % ncols + 1
        for name, frame, line in styles:
            if frame is None or site not in frame.columns:
                continue
            y = frame[site].to_numpy(dtype=float) * 1e-3
            y = np.where(np.isfinite(y), y, np.nan)
            fig.add_trace(go.Scatter(x=list(frame.index), y=y, name=name, legendgroup=name, showlegend=i == 0,
                                     mode="lines+markers" if name == "energised" else "lines", line=line,
                                     hovertemplate=f"<b>{site} %{{fullData.name}}</b>: {UNITS['GW']}"
                                                   "<extra></extra>"), row=row, col=col)
    _layout(fig, title="Site power: energised against the envelope, and what the chips draw", y_title="GW",
            integer_x=_int_x(energised))
    fig.update_yaxes(title_text="", col=2)
    fig.update_yaxes(title_text="", col=3)
    fig.update_layout(height=HEIGHT if nrows == 1 else 300 * nrows + 120, margin=dict(t=80))
    return fig


# --- cost --------------------------------------------------------------------------------------------------

COST_CATEGORIES = ["capex_chips", "capex_sites", "contracts", "lease_on_demand", "energy", "other"]
COST_LABELS = {"capex_chips": "chips bought", "capex_sites": "sites built", "contracts": "contracts",
               "lease_on_demand": "on-demand leases", "energy": "energy", "other": "other costs"}


def cost_by_category(run: Run) -> go.Figure | None:
    t = run.yearly_nested("cost_usd_by_category")
    if t.empty:
        return None
    cols = [c for c in COST_CATEGORIES if c in t] or [c for c in t.columns]
    t = t[cols].dropna(axis=1, how="all").rename(columns=COST_LABELS)
    return stacked_bars(t, unit="USDbn", scale=1e-9, title="Cost by category per year",
                        y_title="USD billion", order=[COST_LABELS[c] for c in COST_CATEGORIES])


def _mark_year(fig: go.Figure, year, text: str) -> None:
    fig.add_vline(x=year, line=dict(color="#444", dash="dot", width=1.5))
    fig.add_annotation(x=year, y=1, yref="paper", text=text, showarrow=False, xanchor="left", yanchor="top",
                       xshift=4, font=dict(size=11, color="#333"), bgcolor="rgba(255,255,255,0.8)")


def cost_by_workload(run: Run) -> go.Figure | None:
    t = run.yearly_nested("cost_usd_by_workload")
    if t.empty:
        return None
    order = [c for c in ("training", "research", "inference") if c in t] + \
            [c for c in t.columns if c not in ("training", "research", "inference", "idle", "sites")] + \
            [c for c in ("idle", "sites") if c in t]
    fig = stacked_bars(t, unit="USDbn", scale=1e-9, title="Cost by workload per year", y_title="USD billion",
                       order=order)
    year = run.summary.get("inference_exceeds_training_year")
    if year is not None:
        _mark_year(fig, year, f"first year inference cost > training: {year}")
    return fig


# --- finance -----------------------------------------------------------------------------------------------


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
    _layout(fig, title="Revenue, cash flow and cumulative cash", y_title="USD billion", barmode="group",
            integer_x=_int_x(fin))
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
    _layout(fig, title=title, y_title="USD billion", integer_x=all(isinstance(v, int) for v in x))
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
    _layout(fig, title="Probability of running out of cash", y_title="probability", y_format=".0%",
            integer_x=all(isinstance(v, int) for v in period_x(list(ever or within))))
    fig.update_yaxes(range=[0, 1.05])
    return fig


# --- shares, prices, unmet ---------------------------------------------------------------------------------


def share_by_provider(run: Run, basis: str = "compute") -> go.Figure | None:
    stem = "share_by_provider" + ("" if basis == "compute" else f"_{basis}")
    t = run.by_period(stem)
    if t is None:
        return None
    what = {"compute": "delivered compute", "power": "power in service", "spend": "spend on capacity"}[basis]
    fig = stacked_area(t, unit="pct", title=f"Share of {what} by provider", y_title="share")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return fig


def share_by_provider_power(run: Run) -> go.Figure | None:
    return share_by_provider(run, "power")


def share_by_provider_spend(run: Run) -> go.Figure | None:
    return share_by_provider(run, "spend")


def idle_capacity(run: Run) -> go.Figure | None:
    t = run.by_period("idle_capacity")
    if t is None or "cost_usd" not in t:
        return None
    frac = t["fraction"].fillna(0.0).to_numpy() if "fraction" in t else np.zeros(len(t))
    fig = go.Figure(go.Bar(
        x=list(t.index), y=t["cost_usd"].to_numpy() / 1e9, name="idle cost", customdata=frac,
        text=[f"{f:.0%}" if f >= 0.005 else "" for f in frac], textposition="outside",
        hovertemplate="%{x}: $%{y:.1f}B idle, %{customdata:.0%} of chips<extra></extra>"))
    fig.update_layout(title="Idle paid-for capacity: cost (bars) and share of chips (labels)",
                      yaxis={"title": "USD billions", "tickprefix": "$", "ticksuffix": "B"})
    return fig


def share_targets(run: Run) -> go.Figure | None:
    t = run.share_targets()
    if t is None:
        return None
    cmap = colors(t["target"].unique())
    fig = go.Figure()
    policy = (run.scenario.get("policy") or {}).get("share_targets") or {}
    for name, g in t.groupby("target", sort=False):
        spec = policy.get(name) or {}
        who = "+".join(spec.get("providers") or spec.get("vendors") or []) or str(name)
        c = cmap[str(name)]
        fig.add_trace(go.Scatter(x=list(g["x"]), y=g["share"], name=f"{who} share", mode="lines+markers",
                                 line=dict(color=c, width=2.5), hovertemplate=hover("pct")))
        active = g[g["active"].astype(str).str.lower() == "true"] if "active" in g else g.iloc[0:0]
        for col, label, sym in (("min_share", "minimum", "triangle-up"), ("max_share", "maximum", "triangle-down")):
            if col in g and g[col].notna().any():
                shown = active if len(active) else g
                fig.add_trace(go.Scatter(x=list(shown["x"]), y=shown[col], name=f"{name} {label}",
                                         mode="markers", marker=dict(symbol=sym, size=14, color=c,
                                                                     line=dict(color="#111", width=1)),
                                         hovertemplate=hover("pct")))
                if len(active):
                    fig.add_hline(y=float(active[col].iloc[0]), line=dict(color=c, dash="dash", width=1))
    _layout(fig, title="Shares against policy targets", y_title="share of delivered compute", y_format=".0%",
            integer_x=all(isinstance(v, (int, np.integer)) for v in t["x"]))
    fig.update_yaxes(range=[0, 1.05])
    return fig


def marginal_cost(run: Run) -> go.Figure | None:
    t = run.by_period("marginal_cost_usd_per_h100_hour")
    if t is None:
        return None
    cmap = colors(t.columns)
    fig = go.Figure()
    for c in t.columns:
        fig.add_trace(go.Scatter(x=list(t.index), y=t[c].to_numpy(dtype=float), name=str(c), mode="lines+markers",
                                 line=dict(color=cmap[str(c)], width=2), hovertemplate=hover("usd_per_h100_hour")))
    _layout(fig, title="Marginal cost of compute (dual of the demand balance)", y_title="USD per H100-hour",
            y_prefix="$", integer_x=_int_x(t))
    fig.update_yaxes(rangemode="normal")
    return fig


def unmet_demand(run: Run) -> go.Figure | None:
    t = run.by_period("unmet_fraction")
    if t is None:
        return None
    cmap = colors(t.columns)
    fig = go.Figure()
    for c in t.columns:
        fig.add_trace(go.Bar(x=list(t.index), y=t[c].to_numpy(dtype=float), name=str(c), marker_color=cmap[str(c)],
                             hovertemplate=hover("pct")))
    _layout(fig, title="Unmet demand by workload", y_title="share of demand not served", y_format=".0%",
            barmode="group", integer_x=_int_x(t))
    if not np.nan_to_num(t.to_numpy(dtype=float)).any():
        fig.add_annotation(text="all demand served in every period", x=0.5, y=0.5, xref="paper", yref="paper",
                           showarrow=False, font=dict(size=14, color="#2ca02c"))
        fig.update_yaxes(range=[0, 0.1])
    return fig


def binding_value(run: Run, *, top: int = 12) -> go.Figure | None:
    t = run.table("binding_constraints")
    if t is None or t.empty or "pv_usd" not in t:
        return None
    t = t.sort_values("pv_usd", ascending=False).head(top).iloc[::-1]
    labels = [str(r) for r in t.get("relaxation", t["constraint"])]
    fig = go.Figure(go.Bar(x=t["pv_usd"] * 1e-6, y=labels, orientation="h", name="present value of relaxing",
                           marker_color="#ff7f0e", customdata=t.get("unit", pd.Series([""] * len(t))).astype(str),
                           hovertemplate="<b>%{y}</b><br>present value: $%{x:,.1f}M per %{customdata}<extra></extra>"))
    _layout(fig, title=f"What relaxing each binding constraint is worth (top {len(t)})",
            y_title="", hovermode="closest", integer_x=False)
    fig.update_xaxes(title_text="USD million (present value) per unit relaxed", tickprefix="$")
    fig.update_yaxes(automargin=True, tickfont=dict(size=11))
    fig.update_layout(height=max(HEIGHT, 28 * len(t) + 120), showlegend=False)
    return fig


# --- the list the page draws -------------------------------------------------------------------------------

BUILDERS: list[tuple[str, str, str, Callable[[Run], go.Figure | None], str]] = [
    # (id, section, title, builder, caption)
    ("capacity-gw-provider", "capacity", "Power by provider", capacity_gw_by_provider,
     "All-in power (chips, hosts, network, cooling) of the capacity in service, by who supplies it."),
    ("capacity-chips-provider", "capacity", "Chips by provider", capacity_chips_by_provider,
     "Accelerators in service at the end of each period, by supplier."),
    ("capacity-gw-vendor", "capacity", "Power by vendor", capacity_gw_by_vendor,
     "The same power split by chip vendor (plan.nc power_mw by supply_vendor)."),
    ("capacity-chips-vendor", "capacity", "Chips by vendor", capacity_chips_by_vendor,
     "Accelerators in service by chip vendor."),
    ("accelerator-mix", "capacity", "Accelerator mix", accelerator_mix,
     "Share of installed chips by accelerator model; hover for the chip count."),
    ("site-power", "capacity", "Site power", site_power,
     "Owned and joint-venture sites: power energised (solid) against the site's envelope (dashed), and what the "
     "installed chips draw at full load (dotted)."),
    ("cost-category", "cost", "Cost by category", cost_by_category,
     "Spending per year: chips bought, sites built, contract and lease payments, energy."),
    ("cost-workload", "cost", "Cost by workload", cost_by_workload,
     "The same spending allocated to workloads; the dotted line marks summary.json's "
     "inference_exceeds_training_year (the year from which inference costs more than training)."),
    ("cash-flow", "finance", "Revenue and cash", cash_flow,
     "Revenue, yearly cash flow (red when negative) and the cash position."),
    ("cash-fan", "finance", "Cash fan chart", cash_fan,
     "Cash position across Monte Carlo draws (risk.json): median, 25–75% and 5–95% bands, and the plan's path."),
    ("out-of-cash", "finance", "Out-of-cash probability", out_of_cash,
     "Share of Monte Carlo draws whose cash fell below zero by each year (bars) and within it (line)."),
    ("idle-capacity", "cost", "Idle capacity", idle_capacity,
     "Capacity paid whether used or not (owned chips, take-or-pay contracts) that served no workload: its cost "
     "(bars) and its share of the chips in service (line), by the attribution rule of docs/finance.md."),
    ("share-provider", "shares", "Share by provider", share_by_provider,
     "Share of delivered compute (H100-equivalent hours) by provider, as attributed by docs/finance.md's rule."),
    ("share-provider-power", "shares", "Share by provider (power)", share_by_provider_power,
     "Share of the power of chips in service (MW) by provider."),
    ("share-provider-spend", "shares", "Share by provider (spend)", share_by_provider_spend,
     "Share of cash spent on capacity (chips bought, energy, rentals, contract payments) by provider."),
    ("share-targets", "shares", "Shares against targets", share_targets,
     "Each policy target's group share over time; triangles mark the target in the periods it applies."),
    ("marginal-cost", "prices", "Marginal cost of compute", marginal_cost,
     "What one more H100-equivalent hour of demand would cost, per workload and period (the dual of demand)."),
    ("unmet-demand", "prices", "Unmet demand", unmet_demand,
     "Share of each workload's demand the plan could not serve."),
    ("binding-value", "constraints", "Binding constraints", binding_value,
     "Present value of relaxing each binding constraint by one unit; the table below lists them all."),
]


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


def build_charts(run: Run, published=None) -> list[Chart]:
    """Every chart the run has data for, in page order; with ``published`` (gigawatt.report.published.Published)
    the cash-flow chart carries the published cash-burn forecast of the run's vintage."""
    charts = []
    for cid, section, title, builder, caption in BUILDERS:
        fig = builder(run)
        if fig is not None and len(fig.data):
            if cid == "cash-flow" and published is not None:
                add_published_cash_flow(fig, run, published)
                caption += (f" Dashed diamonds: the published cash-flow forecast of the "
                            f"{published.vintage} vintage [{published.cash_flow_source}], {published.cash_flow_date}; "
                            "orange: this run's cash flow before financing, the basis of the published burn.")
            charts.append(Chart(id=cid, title=title, caption=caption, section=section, figure=fig))
    return charts


# --- comparison (overlays across runs) ---------------------------------------------------------------------


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
    _layout(fig, title=title, y_title=y_title, y_format=y_format)
    fig.update_yaxes(rangemode="normal")
    return fig


def _cash_series(run: Run) -> pd.Series | None:
    fin = run.finance
    if fin is not None:
        for key in ("cash_usd", "cumulative_cash_flow_usd"):
            if key in fin:
                return fin[key]
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


__all__ = ["Chart", "BUILDERS", "build_charts", "compare_charts", "hover", "UNITS"]
