"""Plotly figure builders: one function per chart, each taking a loaded Run and returning a Figure or None.

None means the run has nothing to draw for that chart (no sites, no finance, no simulation); the page says
why in its place. Every trace carries a hovertemplate with the unit of its values. Money is drawn in
USD billions, power in GW, chips in millions.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from gigawatt.report.binding import group_binding
from gigawatt.report.cash_charts import (add_published_cash_flow, cash_fan, cash_flow, cash_position, out_of_cash,
                                         revenue)
from gigawatt.report.compare import compare_charts
from gigawatt.report.data import Run
from gigawatt.report.plotting import (HEIGHT, UNITS, Chart, colors, hover, int_x, layout, mark_year, party_colors,
                                      stacked_area, stacked_bars)


# --- capacity ----------------------------------------------------------------------------------------------


def _party_area(t: pd.DataFrame | None, run: Run, *, unit: str, scale: float, title: str,
                y_title: str) -> go.Figure | None:
    """A stacked area by provider or vendor, in the run's one colour per party."""
    if t is None:
        return None
    return stacked_area(t, unit=unit, scale=scale, title=title, y_title=y_title, cmap=party_colors(run))


def capacity_gw_by_provider(run: Run) -> go.Figure | None:
    return _party_area(run.by_period("capacity_mw_by_provider"), run, unit="GW", scale=1e-3,
                       title="Installed power by provider", y_title="GW (all-in)")


def capacity_chips_by_provider(run: Run) -> go.Figure | None:
    return _party_area(run.by_period("capacity_chips_by_provider"), run, unit="Mchips", scale=1e-6,
                       title="Chips by provider", y_title="million chips")


def capacity_gw_by_vendor(run: Run) -> go.Figure | None:
    return _party_area(run.plan_by("power_mw", "supply_vendor"), run, unit="GW", scale=1e-3,
                       title="Installed power by chip vendor", y_title="GW (all-in)")


def capacity_chips_by_vendor(run: Run) -> go.Figure | None:
    return _party_area(run.by_period("capacity_chips_by_vendor"), run, unit="Mchips", scale=1e-6,
                       title="Chips by vendor", y_title="million chips")


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
    layout(fig, title="Site power: energised against the envelope, and what the chips draw", y_title="GW",
            integer_x=int_x(energised))
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
        mark_year(fig, year, f"first year inference cost > training: {year}")
    return fig


# --- shares, prices, unmet ---------------------------------------------------------------------------------


def share_by_provider(run: Run, basis: str = "compute") -> go.Figure | None:
    stem = "share_by_provider" + ("" if basis == "compute" else f"_{basis}")
    t = run.by_period(stem)
    if t is None:
        return None
    what = {"compute": "delivered compute", "power": "power in service", "spend": "spend on capacity"}[basis]
    fig = stacked_area(t, unit="pct", title=f"Share of {what} by provider", y_title="share",
                       cmap=party_colors(run))
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
        hovertemplate="<b>idle</b>: %{y:$,.1f}B, %{customdata:.0%} of chips<extra></extra>"))
    return layout(fig, title="Idle paid-for capacity: cost (bars) and share of chips (labels)",
                  y_title="USD billion", y_prefix="$", y_suffix="B", integer_x=int_x(t))


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
    layout(fig, title="Shares against policy targets", y_title="share of delivered compute", y_format=".0%",
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
    layout(fig, title="Marginal cost of compute (dual of the demand balance)", y_title="USD per H100-hour",
            y_prefix="$", integer_x=int_x(t))
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
    layout(fig, title="Unmet demand by workload", y_title="share of demand not served", y_format=".0%",
            barmode="group", integer_x=int_x(t))
    if not np.nan_to_num(t.to_numpy(dtype=float)).any():
        fig.add_annotation(text="all demand served in every period", x=0.5, y=0.5, xref="paper", yref="paper",
                           showarrow=False, font=dict(size=14, color="#2ca02c"))
        fig.update_yaxes(range=[0, 0.1])
    return fig


def binding_value(run: Run, *, top: int = 12) -> go.Figure | None:
    """The binding limits (grouped over periods, report/binding.py) by the present value of relaxing them."""
    t = run.table("binding_constraints")
    if t is None or t.empty or "pv_usd" not in t:
        return None
    t = group_binding(t, run.summary.get("periods")).head(top).iloc[::-1]
    fig = go.Figure(go.Bar(x=t["pv_max_usd"] * 1e-6, y=list(t["relaxation"]), orientation="h",
                           name="present value of relaxing", marker_color="#ff7f0e",
                           customdata=list(zip(t["unit"].astype(str), t["pv_min_usd"] * 1e-6, t["n_periods"])),
                           hovertemplate="<b>%{y}</b><br>present value: %{x:$,.1f}M per %{customdata[0]} "
                                         "(lowest %{customdata[1]:$,.1f}M over %{customdata[2]} periods)"
                                         "<extra></extra>"))
    layout(fig, title=f"What relaxing each binding constraint is worth (top {len(t)})",
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
    ("cash-flow", "finance", "Cash flow before and after financing", cash_flow,
     "Per year: free cash flow (EBITDA − capex, before financing), financing (funding rounds, vendor equity) and "
     "their sum, the cash flow after financing. Terms: docs/glossary.md."),
    ("cash-position", "finance", "Cash position", cash_position,
     "Cash at each year's end (starting cash + cash flow after financing, summed), and the cumulative free cash "
     "flow: how much cash the plan would have used with no financing."),
    ("revenue", "finance", "Revenue and operating income", revenue,
     "Revenue (exogenous and per unit served) and operating income (EBITDA − depreciation): the P&L, not cash."),
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
     "What one more H100-equivalent hour of demand would cost, per workload and period (the dual of demand). "
     "$0.00 is not a bug: capacity already paid for (take-or-pay contracts, owned chips) is to spare that "
     "period, so one more hour costs nothing."),
    ("unmet-demand", "prices", "Unmet demand", unmet_demand,
     "Share of each workload's demand the plan could not serve."),
    ("binding-value", "constraints", "Binding constraints", binding_value,
     "Present value of relaxing each binding limit by one unit, in its dearest period (a limit binding in "
     "several periods is one bar, named with their range); the table below lists them all."),
]


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
                            "it compares with the orange bars, this run's free cash flow (before financing).")
            charts.append(Chart(id=cid, title=title, caption=caption, section=section, figure=fig))
    return charts


__all__ = ["Chart", "BUILDERS", "build_charts", "compare_charts", "hover", "party_colors", "UNITS"]
