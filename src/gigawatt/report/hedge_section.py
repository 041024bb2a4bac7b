"""The report's "Hedged plan" section, for a run of `gigawatt hedge` (summary.json has a `stochastic` block):
commitments beside the expected-value plan's, the out-of-sample distributions of both plans, WS/SP/EEV
with EVPI and VSS, the SAA interval and option values. Bar traces only (the page's plotly bundle has
scatter, bar and pie). Reads summary.json; computes nothing new."""

from __future__ import annotations

import html

import plotly.graph_objects as go

from gigawatt.fmt import usd
from gigawatt.report.data import Run
from gigawatt.report.headline import Fact
from gigawatt.report.plotting import PALETTE, Chart, layout

SECTION = ("hedge", "Hedged plan")
PLANS = {"hedged": "hedged", "expected_value": "expected-value plan", "deterministic": "deterministic plan"}
# the expected-value plan (mean future) and the deterministic plan (forecast as written) are different plans:
# different colours
COLOR = {"hedged": PALETTE[0], "expected_value": PALETTE[1], "deterministic": PALETTE[2]}


def block(run: Run) -> dict | None:
    return run.summary.get("stochastic") or None


def _money(v) -> str:
    return usd(v, style="compact")  # None prints "–"


def _commitment_chart(b: dict, key: str, title: str, unit: str, scale: float) -> go.Figure | None:
    fig = go.Figure()
    for plan, values in (b.get("commitments") or {}).items():
        series = values.get(key)
        if series:
            fig.add_bar(name=PLANS.get(plan, plan), x=[int(y) for y in series], marker_color=COLOR.get(plan),
                        y=[v * scale for v in series.values()],
                        hovertemplate=f"<b>%{{fullData.name}}</b>: %{{y:,.3g}} {unit}<extra>%{{x}}</extra>")
    return layout(fig, title=title, y_title=unit, barmode="group", hovermode="closest") if fig.data else None


def _distribution_chart(oos: dict, key: str, title: str) -> go.Figure | None:
    stats = ("p5", "p50", "mean", "p95")
    fig = go.Figure()
    for plan in ("hedged", "deterministic"):
        d = (oos.get(plan) or {}).get(key)
        if d:
            fig.add_bar(name=PLANS[plan], x=list(stats), y=[d[s] / 1e9 for s in stats], marker_color=COLOR[plan],
                        hovertemplate="<b>%{fullData.name}</b> %{x}: %{y:$,.1f}B<extra></extra>")
    if not fig.data:
        return None
    return layout(fig, title=title, y_title="billion USD", y_prefix="$", barmode="group", hovermode="closest",
                  integer_x=False)


def charts(run: Run) -> list[Chart]:
    """Chips bought and MW built per year (hedged vs expected-value plan); both plans' out-of-sample
    compute spending and funding gap."""
    b = block(run)
    if b is None:
        return []
    oos = b.get("out_of_sample") or {}
    n = (oos.get("hedged") or {}).get("draws")
    beside = (", hedged against the expected-value plan (the plan of the mean future)"
              if "expected_value" in (b.get("commitments") or {}) else " of the hedged plan")
    specs = [
        ("hedge-chips", "Chips bought per year", f"Commitments: chips bought per year{beside}.",
         _commitment_chart(b, "chips_bought", "Chips bought", "million chips", 1e-6)),
        ("hedge-power", "Site power in service per year", "Commitments: power of the lab's and the JV's own sites "
         f"in service (MW, built up to that year; built power stays){beside}.",
         _commitment_chart(b, "site_power_mw", "Site power in service", "MW", 1.0)),
        ("hedge-oos-spending", "Compute spending out of sample", f"Compute spending (present value) of each plan "
         f"over the same {n or 'fresh'} Monte Carlo draws, not the futures the hedge was fitted to.",
         _distribution_chart(oos, "compute_spending_pv_usd", "Compute spending (PV) over fresh draws")),
        ("hedge-oos-gap", "Funding gap out of sample", "Funding gap of each plan over the same fresh draws.",
         _distribution_chart(oos, "funding_gap_usd", "Funding gap over fresh draws")),
    ]
    return [Chart(id=i, title=t, caption=c, section=SECTION[0], figure=f) for i, t, c, f in specs if f is not None]


def _table(head: tuple[str, ...], rows: list[tuple], tid: str) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table id="{tid}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def facts(run: Run) -> list[Fact]:
    """The stochastic metrics as headline facts (compare shows them as rows)."""
    b = block(run)
    if b is None:
        return []
    out = [Fact("futures", "Futures hedged", b.get("futures"), str(b.get("futures")))]
    # SP, WS, EEV, EVPI and VSS are risk-neutral even in a risk-averse run: say so, and show the risk-averse
    # plan's own expected cost and CVaR beside the risk-neutral plan's
    averse = "cvar_weight" in b
    sp = "SP (risk-neutral stochastic optimum)" if averse else "SP (stochastic optimum)"
    alpha = f"{b['cvar_alpha']:.0%}" if averse else ""
    for key, label in (("ws_usd", "WS (wait and see)"), ("sp_usd", sp),
                       ("eev_usd", "EEV (expected-value plan)"), ("evpi_usd", "EVPI"), ("vss_usd", "VSS"),
                       ("hedged_expected_usd", "Expected cost of the hedged (risk-averse) plan"),
                       ("hedged_cvar_usd", f"CVaR{alpha} of the hedged plan"),
                       ("neutral_cvar_usd", f"CVaR{alpha} of the risk-neutral plan")):
        if b.get(key) is not None:
            out.append(Fact(key, label, b[key], _money(b[key])))
    out += _cash_facts(b)
    for plan, r in (b.get("out_of_sample") or {}).items():
        out.append(Fact(f"oos_{plan}_p_out_of_cash", f"P(out of cash), {PLANS[plan]}, out of sample",
                        r["probability_out_of_cash"], f"{r['probability_out_of_cash']:.0%}"))
    return out


def _cash_facts(b: dict) -> list[Fact]:
    """The funding gap over the futures (hedged plan) and the cash limits the hedge was given."""
    out = []
    g = (b.get("funding_gap") or {}).get("hedged")
    if g:
        out.append(Fact("funding_gap_expected_usd", "Funding gap over the futures, expected", g["expected_usd"],
                        _money(g["expected_usd"])))
        out.append(Fact("funding_gap_cvar_usd", f"Funding gap over the futures, CVaR{g['cvar_alpha']:.0%}",
                        g["cvar_usd"], _money(g["cvar_usd"])))
    lim = b.get("cash_limits") or {}
    if lim.get("max_cvar_funding_gap_usd") is not None:
        v = lim["max_cvar_funding_gap_usd"]
        out.append(Fact("max_cvar_funding_gap_usd", f"Limit: CVaR{lim['funding_gap_alpha']:.0%} of the funding gap ≤",
                        v, _money(v)))
    if lim.get("cash_floor_penalty_usd_per_usd") is not None:
        v = lim["cash_floor_penalty_usd_per_usd"]
        out.append(Fact("cash_floor_penalty", "Soft cash floor: penalty per USD short", v, f"{v:g} USD"))
    return out


def html_of(run: Run) -> str:
    """The section's tables above its charts: metrics, out-of-sample figures, SAA interval, option values."""
    b = block(run)
    if b is None:
        return ""
    kind = (f"risk-averse (CVaR weight {b['cvar_weight']}, α {b['cvar_alpha']})" if "cvar_weight" in b
            else "risk-neutral")
    metrics = ("WS ≤ SP ≤ EEV: each future's own best plan, the stochastic optimum, the expected-value plan "
               "evaluated over the futures; EVPI = SP − WS is what perfect foresight would be worth, VSS = EEV − SP "
               "what planning for many futures saves." if "ws_usd" in b or "eev_usd" in b else
               "WS, EEV, EVPI and VSS were not computed (<code>--no-metrics</code>).")
    parts = [f'<p class="note">A {kind} plan hedged over {b["futures"]} futures (seed {b["seed"]}). {metrics} '
             "Expected net present cost."
             + (f" The headline and the other sections show this plan's commitments with its operations in the "
                f"mean future (net present cost {_money(run.summary.get('net_present_cost_usd'))}); its expected "
                "cost over the futures is in the table." if run.summary.get("net_present_cost_usd") else "")
             + "</p>",
             _table(("metric", "value"), [(f.label, f.text) for f in facts(run)[1:] if not f.key.startswith("oos")],
                    "hedge-metrics")]
    oos = b.get("out_of_sample")
    if oos:
        rows = [(PLANS[p], _money(r["compute_spending_pv_usd"]["p5"]), _money(r["compute_spending_pv_usd"]["p50"]),
                 _money(r["compute_spending_pv_usd"]["p95"]), _money(r["funding_gap_usd"]["p50"]),
                 _money(r["funding_gap_usd"]["p95"]), f"{r['probability_out_of_cash']:.0%}",
                 f"{r['unmet_demand_fraction']['mean']:.1%}") for p, r in oos.items()]
        parts.append(_table(("plan", "spending p5", "p50", "p95", "funding gap p50", "p95", "P(out of cash)",
                             "not served (mean)"), rows, "hedge-oos"))
        parts.append('<p class="note">Out of sample: both plans over the same fresh Monte Carlo draws of '
                     "<code>simulate</code>. Compute spending (present value) has no penalty for demand not "
                     "served: read it with the share not served.</p>")
    saa = b.get("saa")
    if saa:
        lo, up = saa["lower_bound_usd"], saa["upper_bound_usd"]
        pm = lambda r: f" ± {_money(r['half_width_95'])}" if r.get("half_width_95") is not None else ""  # noqa: E731
        parts.append(f'<p class="note" id="hedge-saa">How far the answer is from optimal (SAA, 95%): lower bound '
                     f"{_money(lo['mean'])}{pm(lo)} from {lo['n']} replications, upper bound {_money(up['mean'])}"
                     f"{pm(up)} from {up['n']} fresh futures; gap {_money(saa['gap_usd'])}.</p>")
    opts = b.get("option_values")
    if opts and opts.get("options"):
        rows = [(r["contract"], _money(r["size_usd"]), _money(r["value_of_option_usd"]),
                 _money(r["value_of_flexibility_usd"])) for r in opts["options"]]
        parts.append(_table(("option", "size (all used)", "worth having", "worth keeping open (vs firm)"), rows,
                            "hedge-options"))
        parts.append(f'<p class="note">Options valued: {html.escape(opts["rule"])}.'
                     + (f" Not valued: {html.escape(', '.join(opts['not_valued']))}." if opts["not_valued"] else "")
                     + "</p>")
    return "".join(parts)


__all__ = ["SECTION", "charts", "facts", "html_of"]
