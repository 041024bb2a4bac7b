"""What `gigawatt hedge` prints: the plan's cost and commitments, WS/SP/EEV, the funding gap over the futures,
CVaR, option values and the out-of-sample table (commands/hedge.py computes and writes; this module prints)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console


def money(v) -> str:
    from gigawatt.fmt import usd

    return usd(v, style="compact")


def print_metrics(block: dict, out_dir: Path, console: Console) -> None:
    expected = block.get("hedged_expected_usd", block["sp_usd"])
    kind = "risk-averse" if "hedged_expected_usd" in block else "risk-neutral"
    console.print(f"{kind} hedged plan over {block['futures']} futures (seed {block['seed']}): expected net "
                  f"present cost {money(expected)}", highlight=False)
    print_commitments(block.get("commitments") or {}, console)
    if "tree" in block:
        t, now = block["tree"], block["commitments"].get("here_and_now", {})
        chips = sum(now.get("chips_bought", {}).values())
        mw = list(now.get("site_power_mw", {}).values())[-1:] or [0.0]  # a stock: the last period's, not a sum
        console.print(f"  scenario tree: revelations {t['stages']}, branching {t['branching']}; commit now "
                      f"({', '.join(t['here_and_now_periods'])}): {chips:,.0f} chips bought, {mw[0]:,.0f} MW of "
                      "new site power in service by the end", highlight=False)
    if "ws_usd" in block:
        console.print(f"  risk-neutral: WS {money(block['ws_usd'])} ≤ SP {money(block['sp_usd'])} ≤ EEV "
                      f"{money(block['eev_usd'])} · EVPI {money(block['evpi_usd'])} · VSS {money(block['vss_usd'])}",
                      highlight=False)
    print_cash(block, console)
    if "hedged_cvar_usd" in block:
        console.print(f"  CVaR{block['cvar_alpha']:.0%}: risk-averse {money(block['hedged_cvar_usd'])} vs "
                      f"risk-neutral {money(block['neutral_cvar_usd'])}; expected {money(block['hedged_expected_usd'])}",
                      highlight=False)
    for r in (block.get("option_values") or {}).get("options", []):
        console.print(f"  option {r['contract']} ({money(r['size_usd'])} if fully used): worth "
                      f"{money(r['value_of_option_usd'])} against not having it, {money(r['value_of_flexibility_usd'])}"
                      " kept open against signing it firm", highlight=False)
    if "saa" in block:
        a = block["saa"]
        lo, up = a["lower_bound_usd"], a["upper_bound_usd"]
        pm = lambda r: f" ± {money(r['half_width_95'])}" if r["half_width_95"] is not None else ""  # noqa: E731
        console.print(f"  SAA: optimum between {money(lo['mean'])}{pm(lo)} ({lo['n']} replications) and "
                      f"{money(up['mean'])}{pm(up)} ({up['n']} fresh futures); gap {money(a['gap_usd'])}"
                      + (f", ≤ {money(a['gap_upper_95_usd'])} at 95%" if "gap_upper_95_usd" in a else ""),
                      highlight=False)
    if "out_of_sample" in block:
        print_out_of_sample(block["out_of_sample"], console)
    for note in block["ignored_events"]:
        console.print(f"  note: {note}", highlight=False)
    console.print(f"  wrote {out_dir}/ (summary.json with a stochastic block, tables/futures.csv)", highlight=False)


def print_cash(block: dict, console: Console) -> None:
    """The funding gap over the futures, hedged beside risk-neutral, and the cash limits set."""
    g = block.get("funding_gap")
    if not g:
        return
    h, n = g["hedged"], g["risk_neutral"]
    console.print(f"  funding gap over the futures (floor {money(g['floor_usd'])}): expected {money(h['expected_usd'])}, "
                  f"CVaR{h['cvar_alpha']:.0%} {money(h['cvar_usd'])}"
                  + ("" if "cash_limits" not in block else f" (risk-neutral: {money(n['expected_usd'])}, "
                     f"{money(n['cvar_usd'])})"), highlight=False)
    lim = block.get("cash_limits") or {}
    if lim.get("max_cvar_funding_gap_usd") is not None:
        console.print(f"  limit: CVaR{lim['funding_gap_alpha']:.0%} of the funding gap ≤ "
                      f"{money(lim['max_cvar_funding_gap_usd'])}", highlight=False)
    if lim.get("cash_floor_penalty_usd_per_usd") is not None:
        console.print(f"  soft cash floor: {lim['cash_floor_penalty_usd_per_usd']:g} USD per USD short a year; expected "
                      f"penalty {money(block.get('cash_shortfall_penalty_expected_usd', 0.0))} (in the hedged cost)",
                      highlight=False)


def print_commitments(c: dict, console: Console) -> None:
    """What the plan commits to (chips bought over the horizon, site power in service at its end), beside the
    expected-value plan's: the decision, not only its cost."""
    h, e = c.get("hedged") or {}, c.get("expected_value") or {}
    if not h.get("chips_bought"):
        return
    chips = lambda d: f"{sum(d['chips_bought'].values()) / 1e6:,.2f}M chips bought"  # noqa: E731
    power = lambda d, y: f"{d['site_power_mw'][y] / 1e3:,.1f} GW of sites in service in {y}"  # noqa: E731
    years = list(h["chips_bought"])
    last = years[-1] if h.get("site_power_mw") else None
    text = f"  commits to: {chips(h)} {years[0]}–{years[-1]}" + (f", {power(h, last)}" if last else "")
    if e.get("chips_bought"):
        text += f" (expected-value plan: {chips(e)}" + (f", {power(e, last)}" if last else "") + ")"
    console.print(text, highlight=False)


def print_out_of_sample(oos: dict, console: Console) -> None:
    """The two plans over the same fresh draws: compute spending PV and funding gap (p5 / p50 / p95, mean),
    and the probability of running out of cash."""
    h = oos["hedged"]
    console.print(f"  out of sample ({h['draws']:,} fresh draws, seed {h['seed']}): p5 / p50 / p95 · mean",
                  highlight=False)
    for name in ("hedged", "deterministic"):
        r = oos[name]
        c, g = r["compute_spending_pv_usd"], r["funding_gap_usd"]
        console.print(f"    {name:<13} compute spending (PV) {money(c['p5'])} / {money(c['p50'])} / "
                      f"{money(c['p95'])} · {money(c['mean'])}", highlight=False)
        console.print(f"    {'':<13} funding gap {money(g['p5'])} / {money(g['p50'])} / {money(g['p95'])} · "
                      f"{money(g['mean'])} · P(out of cash) {r['probability_out_of_cash']:.0%}", highlight=False)
        u = r["unmet_demand_fraction"]
        console.print(f"    {'':<13} demand not served {u['p5']:.0%} / {u['p50']:.0%} / {u['p95']:.0%} · "
                      f"{u['mean']:.0%} (spending has no penalty for it)", highlight=False)
