"""The headline of a run: the figures that tell its story (cards on the report, rows of `compare`), and
after `simulate` the risk in a form that informs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gigawatt.fmt import usd
from gigawatt.report.data import Run, _finite


@dataclass(frozen=True)
class Fact:
    """One headline figure: a machine key, a label, the value (None when the run has none) and its text."""

    key: str
    label: str
    value: Any
    text: str
    note: str = ""


def _target_facts(run: Run) -> list[Fact]:
    t = run.share_targets()
    out = []
    if t is None:
        return out
    for name, g in t.groupby("target", sort=False):
        active = g[g["active"].astype(str).str.lower() == "true"] if "active" in g else g.iloc[0:0]
        row = active.iloc[-1] if len(active) else g.iloc[-1]
        dispatch = _finite(row.get("share"))
        lo, hi = _finite(row.get("min_share")), _finite(row.get("max_share"))
        goal = f"≥ {lo:.0%}" if lo is not None else (f"≤ {hi:.0%}" if hi is not None else "")
        spec = ((run.scenario.get("policy") or {}).get("share_targets") or {}).get(name) or {}
        who = "+".join(spec.get("providers") or spec.get("vendors") or []) or str(name)
        share = _attributed_share(run, spec, str(row["period"]))
        note = f"target {name}"
        if share is None:
            share = dispatch
        elif dispatch is not None and abs(share - dispatch) >= 0.005:
            note += f"; {dispatch:.0%} on the LP's dispatch, the constraint's own measure"
        out.append(Fact(key=f"share_target.{name}", label=f"{who} share in {row['period']}",
                        value={"share": share, "min_share": lo, "max_share": hi, "period": str(row["period"]),
                               "dispatch_share": dispatch},
                        text=(f"{share:.0%}" if share is not None else "–") + (f" (target {goal})" if goal else ""),
                        note=note))
    return out


def _attributed_share(run: Run, spec: dict, period: str) -> float | None:
    """The group's share in a year as summary.json reports it (attributed, on the target's basis), or None
    where the period is not a year or summary.json has no such share."""
    basis = spec.get("basis") or "compute"
    by = "provider" if spec.get("providers") else "vendor"
    key = f"share_by_{by}" + ("" if basis == "compute" else f"_{basis}")
    shares = ((run.summary.get("years") or {}).get(period) or {}).get(key)
    members = spec.get("providers") or spec.get("vendors") or []
    if not shares or not members:
        return None
    return float(sum(_finite(shares.get(m)) or 0.0 for m in members))


def headline(run: Run) -> list[Fact]:
    """The figures that tell the run's story, in the order the page and `gigawatt compare` show them."""
    s = run.summary
    power = run.yearly("power_gw").dropna()
    chips = run.yearly("chips").dropna()
    facts = [
        Fact("status", "solver status", s.get("status"), str(s.get("status") or "–")),
        Fact("net_present_cost_usd", "net present cost", _finite(s.get("net_present_cost_usd")),
             usd(_finite(s.get("net_present_cost_usd"))),
             "the objective: compute costs net of salvage, present value"
             + (f"; compute spending {usd(_finite(s['compute_spending_pv_usd']))} with no salvage credit"
                if _finite(s.get("compute_spending_pv_usd")) is not None else "")),
        Fact("commitments_usd_total", "total commitments", _finite(s.get("commitments_usd_total")),
             usd(_finite(s.get("commitments_usd_total"))),
             "" if s.get("commitments_usd_total") is not None else "not in summary.json"),
    ]
    if len(power):
        y = int(power.idxmax())
        facts.append(Fact("peak_power_gw", "peak power", float(power.max()), f"{power.max():,.1f} GW in {y}",
                          f"{chips.get(y, float('nan')) / 1e6:,.1f}M chips" if y in chips else ""))
    facts.extend(_target_facts(run))
    fin = run.finance
    first = s.get("first_free_cash_flow_positive_year")
    facts.append(Fact("first_cash_flow_positive_year", "first year of positive free cash flow", first,
                      str(first) if first is not None else ("none in the horizon" if fin is not None else "–"),
                      "" if fin is not None else "no finance section"))
    min_cash = _finite(s.get("min_cash_usd"))
    gap = _finite(s.get("funding_gap_usd"))
    note = f"in {s['min_cash_year']}" if s.get("min_cash_year") is not None else ""
    facts.append(Fact("min_cash_usd", "lowest cash position", min_cash, usd(min_cash), note))
    risk_gap = (run.risk or {}).get("funding_gap_usd") or {}
    if gap is None and risk_gap:
        gap = _finite(risk_gap.get("p50"))
        facts.append(Fact("funding_gap_usd", "funding gap", gap, usd(gap), "Monte Carlo median (risk.json)"))
    else:
        facts.append(Fact("funding_gap_usd", "funding gap", gap, usd(gap)))
    inf = s.get("inference_exceeds_training_year")
    first_inf = s.get("inference_first_exceeds_training_year")
    facts.append(Fact("inference_exceeds_training_year", "inference cost overtakes training for good", inf,
                      str(inf) if inf is not None else "not in the horizon",
                      f"first above in {first_inf}" if first_inf is not None and first_inf != inf else ""))
    idle = {int(y): (_finite(e.get("idle_capacity_fraction")), _finite(e.get("idle_cost_usd")))
            for y, e in (s.get("years") or {}).items() if e.get("idle_capacity_fraction") is not None}
    if idle:
        y = max(idle, key=lambda k: idle[k][0] or 0.0)
        frac, cost = idle[y]
        total = _finite(s.get("idle_cost_usd_total"))
        facts.append(Fact("idle_capacity_fraction_max", "idle paid-for capacity", frac,
                          f"{frac:.0%} of chips in {y}" if frac else "none",
                          f"{usd(cost)} idle cost that year; {usd(total)} over the horizon" if frac else ""))
    unmet = _finite(s.get("unmet_demand_fraction_total"))
    facts.append(Fact("unmet_demand_fraction_total", "unmet demand", unmet, f"{unmet:.1%}" if unmet is not None else "–"))
    if run.risk:
        facts.extend(_risk_facts(run.risk))
    return facts


def _risk_facts(risk: dict) -> list[Fact]:
    """The Monte Carlo headline: the funding gap's median and p95 beside the plan's own, where the plan's
    tightest year sits in the simulated cash fan, and the probability of needing funding *earlier* than the
    plan itself does (when the plan runs out of cash on its own, P(out of cash by the end) is ~100% and says
    nothing)."""
    draws = f"{risk.get('draws', 0):,} draws"
    det = risk.get("deterministic") or {}
    det_cash = {str(k): _finite(v) for k, v in (det.get("cash_usd") or {}).items()}
    facts = []
    gap = risk.get("funding_gap_usd") or {}
    if gap.get("p50") is not None:
        plan_gap = _finite(det.get("funding_gap_usd"))
        facts.append(Fact("funding_gap_usd_p50", "funding gap under uncertainty", _finite(gap.get("p50")),
                          f"{usd(_finite(gap.get('p50')))} median · {usd(_finite(gap.get('p95')))} p95",
                          f"the plan's own path: {usd(plan_gap)}; {draws}"))
    band = _plan_band(risk, det_cash)
    if band is not None:
        facts.append(band)
    prob = risk.get("probability_cash_below_zero_by_year") or {}
    if prob:
        negative = [y for y, c in det_cash.items() if c is not None and c < 0]
        years = list(prob)
        if negative and negative[0] in years and years.index(negative[0]) > 0:
            before = years[years.index(negative[0]) - 1]
            p = _finite(prob[before])
            facts.append(Fact("probability_out_of_cash", f"P(out of cash by {before})", p,
                              f"{p:.0%}" if p is not None else "–",
                              f"earlier than the plan, whose cash position is below zero from {negative[0]}; {draws}"))
        else:
            last = years[-1]
            p = _finite(prob[last])
            facts.append(Fact("probability_out_of_cash", f"P(out of cash by {last})", p,
                              f"{p:.0%}" if p is not None else "–", draws))
    return facts


def _plan_band(risk: dict, det_cash: dict[str, float | None]) -> Fact | None:
    """Where the plan's cash sits among the simulated cash percentiles, in the plan's tightest year."""
    pct = risk.get("cash_usd_percentiles") or {}
    known = {y: c for y, c in det_cash.items() if c is not None}
    if not pct or not known:
        return None
    year = min(known, key=known.get)
    levels = sorted((int(k[1:]), _finite(v.get(year))) for k, v in pct.items() if k.startswith("p") and year in v)
    levels = [(q, v) for q, v in levels if v is not None]
    if not levels:
        return None
    cash = known[year]
    below = [q for q, v in levels if v <= cash]
    if len(below) == len(levels):
        text, where = f"above p{levels[-1][0]}", "at the optimistic edge of its fan"
    elif not below:
        text, where = f"below p{levels[0][0]}", "at the pessimistic edge of its fan"
    else:
        lo, hi = below[-1], next(q for q, v in levels if v > cash)
        side = "on the optimistic side" if lo >= 50 else "on the pessimistic side" if hi <= 50 else "mid-fan"
        text, where = f"between p{lo} and p{hi}", f"{side} of its fan"
    return Fact("plan_in_fan", f"the plan's cash in {year}", cash, text,
                f"{usd(cash)} in its tightest year: {where} (simulated cash percentiles)")


__all__ = ["Fact", "headline"]
