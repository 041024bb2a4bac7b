#!/usr/bin/env python3
"""Regenerate docs/reference-openai.md: published figures beside gigawatt's output for the same quantity.

    .venv/bin/python scripts/reference_table.py                 # solve every run into runs/reference/, write the doc
    .venv/bin/python scripts/reference_table.py --runs DIR      # read DIR/<run>/summary.json instead of solving
    .venv/bin/python scripts/reference_table.py --check         # exit 1 if the doc is not what the runs give

The published figures come from scenarios/openai/published.yaml (each with its source tag and date); gigawatt's
figures are read from the runs' summary.json and written exactly as found there (rounded for display; the raw
values are listed at the end of the doc, so tests/test_reference.py can compare them with summary.json).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from gigawatt.atomic import atomic_write
from gigawatt.report.published import load_published

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "openai.yaml"
PUBLISHED = ROOT / "scenarios" / "openai" / "published.yaml"
DOC = ROOT / "docs" / "reference-openai.md"
NA_FINANCE = "n/a (finance not computed)"

# run name -> --scenario argument (None = the file as written)
RUNS: dict[str, str | None] = {
    "default": None,
    "q1_2026": "q1_2026",
    "q3_2025": "q3_2025",
    "q1_2025": "q1_2025",
    "nvidia_replaced": "nvidia_replaced",
    "nvidia_signed": "nvidia_signed",
    "broadcom_firm": "broadcom_firm",
    "successors": "successors",
}
# named scenarios left out of this table: their plan is the default's (they change no constraint)
NOT_IN_TABLE = {"deferral_assumed": "renegotiation terms only: docs/reference-openai-exposure.md section 5"}
# the run whose output stands for each forecast vintage (default = the Q1-2026 information set)
VINTAGE_RUN = {"q1_2025": "q1_2025", "q3_2025": "q3_2025", "q1_2026": "default"}
VINTAGE_LABEL = {"q1_2025": "Q1-2025", "q3_2025": "Q3-2025", "q1_2026": "Q1-2026"}


# --- running -------------------------------------------------------------------------------------------------

def _gigawatt() -> list[str]:
    exe = Path(sys.executable).with_name("gigawatt")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from gigawatt.cli import main; main()"]


def solve_all(out_root: Path, runs: dict[str, str | None] = RUNS, scenario: Path = SCENARIO) -> dict[str, dict]:
    """Solve each run into out_root/<run>; return {run: {"seconds", "returncode", "stderr"}}."""
    info = {}
    for run, variant in runs.items():
        out = out_root / run
        cmd = [*_gigawatt(), "solve", str(scenario), "--out", str(out), "--no-register", "--overwrite"]
        if variant:
            cmd += ["--scenario", variant]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        info[run] = {"seconds": time.perf_counter() - t0, "returncode": proc.returncode,
                     "stderr": proc.stderr[-2000:]}
    return info


def load_summaries(run_root: Path, runs=RUNS) -> dict[str, dict]:
    out = {}
    for run in runs:
        f = run_root / run / "summary.json"
        if not f.exists():
            raise SystemExit(f"error: {f} not found. What: the summary of run '{run}'. "
                             f"Fix: run without --runs to solve it, or solve it into {f.parent}.")
        out[run] = json.loads(f.read_text())
    return out


def upgraded(summaries: dict[str, dict]) -> dict[str, dict]:
    """Each summary in the current schema's names (summary.json schema 1 keys renamed, docs/files.md)."""
    from gigawatt.report.data import upgrade_summary

    return {run: upgrade_summary({"years": {}, **s}) for run, s in summaries.items()}


# --- references into summary.json ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ref:
    run: str
    path: tuple[str, ...]

    def key(self) -> str:
        return f"{self.run}:{'.'.join(self.path)}"

    def get(self, summaries: dict[str, dict]):
        node = summaries[self.run]
        for p in self.path:
            if not isinstance(node, dict) or p not in node:
                return None
            node = node[p]
        return node


def yr(run: str, year: int | str, *path: str) -> Ref:
    return Ref(run, ("years", str(year), *path))


FINANCE_KEYS = {"revenue_usd", "free_cash_flow_usd", "cash_flow_after_financing_usd", "cumulative_free_cash_flow_usd",
                "cash_usd", "first_free_cash_flow_positive_year", "funding_gap_usd", "commitments_usd_total",
                "min_cash_usd"}


def _is_finance(ref: Ref) -> bool:
    return any(p in FINANCE_KEYS for p in ref.path)


# --- formatting --------------------------------------------------------------------------------------------------

def usd(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "–"
    b = v / 1e9
    sign = ("+" if b > 0 else "−" if b < 0 else "") if signed else ("−" if b < 0 else "")
    a = abs(b)
    return f"{sign}${a / 1000:,.2f}T" if a >= 1000 else f"{sign}${a:,.1f}B"


def gw(v: float | None) -> str:
    return "–" if v is None else f"{v:,.2f} GW"


def pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def year_fmt(v) -> str:
    return "none in 2025–2033" if v is None else str(int(v))


@dataclass
class Row:
    quantity: str
    published: str           # as published, with the source tags
    pub_value: float | None  # for the difference (None: no numeric difference)
    refs: list[Ref]
    render: callable         # values (list) -> str (the gigawatt cell)
    combine: callable = None  # values -> number compared with pub_value
    diff_fmt: callable = None
    why: str = ""
    section: str = ""
    extra: dict = field(default_factory=dict)


def _single(vals):
    return vals[0]


def _sum(vals):
    return None if any(v is None for v in vals) else float(sum(vals))


def build_rows(pub: dict) -> list[Row]:
    P = pub["published"]
    rows: list[Row] = []
    sec = "Scale"
    c = P["commitments_total_usd"]
    rows.append(Row(
        "Total commitments (contract values + firm chip purchases)",
        f"{c[0]['text']} [{c[0]['source']}], {c[0]['date']}; {c[1]['text']} [{c[1]['source']}]",
        c[0]["value"], [Ref("nvidia_signed", ("commitments_usd_total",)), Ref("default", ("commitments_usd_total",))],
        lambda v: f"{usd(v[0])} (`nvidia_signed`, the Nov-2025 set with the LOI); {usd(v[1])} (default, Feb 2026)",
        combine=_single, diff_fmt=lambda d: usd(d, True),
        why=("The $1.4T counts the chip programmes' full size (Nvidia 10 GW, AMD 6 GW, Broadcom 10 GW at ~$50B/GW "
             "all-in [F17][F37]) and facilities; the scenario counts only binding money: contract values and the "
             "firm supply (AMD's first GW; the Nvidia LOI in `nvidia_signed`). AMD's next 5 GW and Broadcom are "
             "options (not binding [R6][R17]) and the Stargate sites the planner builds are decisions, not commitments."),
        section=sec))
    cap = P["capacity_gw"]
    for y in (2023, 2024):
        rows.append(Row(f"Compute capacity, end-{y}", f"{cap[y]['text']} [{cap[y]['source']}]", None, [],
                        lambda v: "before the horizon (2025–2033)", why="Not modelled: the horizon starts in 2025.",
                        section=sec))
    rows.append(Row(
        "Compute capacity, 2025", f"{cap[2025]['text']} at year-end [{cap[2025]['source']}], {cap[2025]['date']}",
        cap[2025]["value"], [yr("default", 2025, "power_gw")], lambda v: f"{gw(v[0])} (year average)",
        combine=_single, diff_fmt=lambda d: f"{d:+.2f} GW".replace("-", "−"),
        why=("A yearly period holds one fleet for the whole year, so 2025 is the year average "
             "((0.6 + 1.9) / 2 = 1.25 GW of demand, demand.yaml), not the year-end figure."), section=sec))
    t = P["power_target_gw"][0]
    rows.append(Row(
        "Power, 2033 (the ~30 GW plan)", f"{t['text']} [{t['source']}]", t["value"],
        [yr("default", 2033, "power_gw"), yr("default", 2030, "power_gw")],
        lambda v: f"{gw(v[0])} in 2033 ({gw(v[1])} in 2030)", combine=_single, diff_fmt=lambda d: f"{d:+.2f} GW".replace("-", "−"),
        why=("Demand is sized on a 30 GW year-end 2033 fleet (27.2 GW year average, demand.yaml); the planner "
             "serves it with what is cheapest, and newer chips need fewer GW for the same compute."), section=sec))
    s = P["stargate_2030"]
    rows.append(Row(
        "Stargate share of compute, 2030 (Q1-2026 information set)", f"{s['share']['text']} [{s['share']['source']}], {s['share']['date']}",
        s["share"]["value"], [yr("default", 2030, "share_by_provider", "stargate"), yr("default", 2030, "share_by_provider", "oracle")],
        lambda v: f"{pct(_sum(v))} = {pct(v[0])} JV/OpenAI sites + {pct(v[1])} Oracle's Stargate sites",
        combine=_sum, diff_fmt=lambda d: f"{100 * d:+.1f} pp",
        why=("The 75% share target (policy.share_targets.stargate_2030) is a lower bound and binds in 2030 on the "
             "LP's own dispatch (the CLI and binding_constraints.csv price one percentage point less of it). The "
             "share shown is summary.json's share_by_provider, which credits each provider the compute of its used "
             "chips (docs/finance.md, Attribution), so it does not depend on which surplus capacity the solver "
             "leaves idle, and it is above the dispatch share the target measures: the JV/OpenAI sites hold the "
             "Broadcom chips bought up to 2029 (the programme ends in 2029 [R16]), the cheapest compute in the file."),
        section=sec))
    rows.append(Row(
        "Stargate share of compute, 2030 (Q1-2025 vintage)", f"{s['share']['text']} [{s['share']['source']}]",
        s["share"]["value"], [yr("q1_2025", 2030, "share_by_provider", "stargate"), yr("q1_2025", 2030, "share_by_provider", "oracle")],
        lambda v: f"{pct(_sum(v))} = {pct(v[0])} + {pct(v[1])}", combine=_sum, diff_fmt=lambda d: f"{100 * d:+.1f} pp",
        why=("The same 75% target is a lower bound: in this vintage (a smaller fleet, few firm cloud contracts) "
             "the JV/OpenAI sites are the cheapest capacity, so the planner goes well above it."), section=sec))
    rows.append(Row(
        "Fleet power, 2030 (Q1-2025 vintage)", f"{s['fleet_gw']['text']} [{s['fleet_gw']['source']}], {s['fleet_gw']['date']}",
        s["fleet_gw"]["value"], [yr("q1_2025", 2030, "power_gw")], lambda v: f"{gw(v[0])} in total",
        combine=_single, diff_fmt=lambda d: f"{d:+.2f} GW".replace("-", "−"),
        why=("The vintage's demand is sized on Stargate's ~8 GW being ~75% of a 10.67 GW year-end-2030 fleet "
             "(9.11 GW year average); the fleet is larger than that because the planner buys the Broadcom chips "
             "while the programme lasts (to end-2029 [R16]) for the demand of 2030-2033. If the ~8 GW is the whole "
             "fleet, the gap is larger still."), section=sec))

    sec = "Free cash flow by vintage"
    cf = P["cash_flow_usd"]
    for vin in ("q1_2025", "q3_2025", "q1_2026"):
        run = VINTAGE_RUN[vin]
        for y in range(2025, 2031):
            pv = cf[vin][y]
            rows.append(Row(
                f"Free cash flow {y}, {VINTAGE_LABEL[vin]} vintage (`{run}`)", f"{usd(pv, True)} [{cf['source']}]", pv,
                _fcf_refs(run, y), lambda v: usd(_fcf(v), True), combine=_fcf,
                diff_fmt=lambda d: usd(d, True), why=_cash_why(vin, y), section=sec))
    a = P["cash_flow_2025_actual_usd"]
    rows.append(Row("Free cash flow 2025, actual", f"{usd(a['value'], True)}: {a['text']} [{a['source']}], {a['date']}",
                    a["value"], _fcf_refs("default", 2025), lambda v: usd(_fcf(v), True), combine=_fcf,
                    diff_fmt=lambda d: usd(d, True), why=_cash_why("q1_2026", 2025), section=sec))
    cb = P["cumulative_burn_2025_2029_usd"]["q3_2025"]
    cum_years = list(range(2025, 2030))
    rows.append(Row("Cumulative free cash flow 2025–2029, Q3-2025 vintage (`q3_2025`)",
                    f"{usd(cb['value'], True)}: {cb['text']} [{cb['source']}]", cb["value"],
                    [r for y in cum_years for r in _fcf_refs("q3_2025", y)],
                    lambda v: f"{usd(_fcf_sum(v), True)} (sum of the five years)", combine=_fcf_sum,
                    diff_fmt=lambda d: usd(d, True), why="The sum of the yearly differences above.", section=sec))
    fp = P["first_cash_flow_positive_year"]
    all_years = list(range(2025, 2034))
    for vin in ("q1_2025", "q3_2025", "q1_2026"):
        run = VINTAGE_RUN[vin]
        refs = [Ref(run, ("first_free_cash_flow_positive_year",))] + [r for y in all_years for r in _fcf_refs(run, y)]
        rows.append(Row(f"First year of positive free cash flow, {VINTAGE_LABEL[vin]} (`{run}`)",
                        f"{fp[vin]['text']} [{fp[vin]['source']}]", fp[vin]["value"], refs,
                        lambda v: (f"{year_fmt(v[0])}" if v[0] == _first_positive(v[1:], all_years) else
                                   f"{year_fmt(v[0])} (summary.json; {year_fmt(_first_positive(v[1:], all_years))} "
                                   f"from the cash flow before financing)"),
                        combine=lambda v: v[0],
                        diff_fmt=lambda d: f"{d:+.0f} years",
                        why="Follows from the yearly cash flows above (before financing, as the published burn).",
                        section=sec))
    cs = P["compute_spend_through_2030_usd"][0]
    spend_years = list(range(2025, 2031))
    rows.append(Row("Compute spend 2025–2030 (capex + leases and contracts + energy), Q1-2026 vintage (`default`)",
                    f"{cs['text']} [{cs['source']}], {cs['date']}", cs["value"],
                    [yr("default", y, "cost_usd_by_category", k) for y in spend_years for k in ("capex", "lease", "energy")],
                    lambda v: usd(_sum(v)), combine=_sum, diff_fmt=lambda d: usd(d, True),
                    why=("Cash spent on compute in the plan. The record's totals use different scopes ($600B "
                         "compute [F10], $665B to train and run models [F12]; deals.md open question 6); the "
                         "scenario pays its firm contracts in full on assumed ramps and buys the chips of the "
                         "2030+ fleet in 2029-2030 (the whole last Broadcom tranche in 2029, the programme's end "
                         "[R16])."), section=sec))
    fg = P["funding_gap_usd"][0]
    rows.append(Row("Funding gap (cash needed beyond cash and funding in hand)", f"{fg['text']} [{fg['source']}], {fg['date']}",
                    fg["value"], [Ref("default", ("funding_gap_usd",)), Ref("q3_2025", ("funding_gap_usd",))],
                    lambda v: f"{usd(v[0])} (default); {usd(v[1])} (`q3_2025`, HSBC's information set)",
                    combine=lambda v: v[1], diff_fmt=lambda d: usd(d, True),
                    why=("HSBC's is an outside estimate with its own revenue and cost paths; the scenario's gap is "
                         "the lowest cumulative cash below zero given the funding rounds in finance.yaml."), section=sec))

    sec = "Inference and training"
    it = P["inference_exceeds_training"][0]
    years = list(range(2025, 2034))
    for run in ("q1_2025", "default"):
        refs = [Ref(run, ("inference_first_exceeds_training_year",))]
        refs += [yr(run, y, "cost_usd_by_workload_kind", k) for y in years for k in ("inference", "training")]
        rows.append(Row(
            f"Inference cost exceeds training cost (`{run}`)", f"{it['text']} [{it['source']}], {it['date']}", it["value"],
            refs, lambda v: (f"first year: {year_fmt(v[0])}; above in every later year from: "
                             f"{year_fmt(_stays_above(v[1:], years))}; 2030: inference {usd(v[11])} vs training {usd(v[12])}"),
            combine=lambda v: _stays_above(v[1:], years), diff_fmt=lambda d: f"{d:+.0f} years",
            why=("summary.json's `inference_first_exceeds_training_year` is the first year inference (serving) costs "
                 "more than training (research excluded); `inference_exceeds_training_year` the year from which it "
                 "stays above, recomputed here from the yearly costs. Inference already cost more in 2024 (~$4B vs ~$3B [F9]) and "
                 "does in the scenario's 2025, whose demand split follows the 2024-2025 figures; the published "
                 "claim is that inference overtakes training again after the training build-out, so the difference "
                 "is taken on the year from which inference stays above training (from the yearly "
                 "`cost_usd_by_workload_kind`). The default's training share follows the Q1-2026 vintage's $440B "
                 "of training in $665B [F12][F13]; inference runs at FP8 (an assumption, openai.yaml), so it "
                 "costs less per unit of compute than training at BF16, and it stays above training from 2030 "
                 "in the default run."), section=sec))

    sec = "Revenue"
    rv = P["revenue_usd"]
    for y, item in rv["actual"].items():
        if int(y) < 2025:
            rows.append(Row(f"Revenue {y}, actual", f"{usd(item['value'])} [{item['source']}]", None, [],
                            lambda v: "before the horizon (2025–2033)", why="Not modelled.", section=sec))
            continue
        rows.append(Row(f"Revenue {y}, actual", f"{usd(item['value'])} [{item['source']}], {item['date']}", item["value"],
                        [yr("default", y, "revenue_usd")], lambda v: usd(v[0]), combine=_single,
                        diff_fmt=lambda d: usd(d, True), why=_rev_why, section=sec))
    for vin in ("q1_2025", "q3_2025", "q1_2026"):
        run = VINTAGE_RUN[vin]
        for y, item in rv[vin].items():
            rows.append(Row(f"Revenue {y}, {VINTAGE_LABEL[vin]} vintage (`{run}`)",
                            f"{item.get('text', usd(item['value']))} [{item['source']}], {item['date']}", item["value"],
                            [yr(run, y, "revenue_usd")], lambda v: usd(v[0]), combine=_single,
                            diff_fmt=lambda d: usd(d, True), why=_rev_why, section=sec))
    return rows


_rev_why = "An input (finance.revenue of the vintage); a difference would mean the finance module altered it."


def _cash_why(vin: str, y: int) -> str:
    if y == 2025:
        if vin == "q1_2026":
            return ("The scenario pays the 2025 contracts at face value (Azure ~$13B [R43], CoreWeave, Abilene from "
                    "Q4, AWS from Nov) and on-demand GPUs for the rest of the 1.25 GW year-average fleet, and "
                    "Microsoft the leaked net revenue share ($0.87B for Jan-Sep × 12/9 [R49b]). The residual is "
                    "within what H1 2025 shows was not paid in cash: operating loss $7.8B − stock compensation "
                    "$2.5B − burn $2.5B = $2.8B in H1 [F1] (credits, payables, prepaid subscriptions), ≈$5.6B "
                    "for the year; the record does not split it, so it is not an input.")
        return ("The scenario pays the 2025 contracts at face value (Azure ~$13B [R43], CoreWeave, Abilene from Q4, "
                "AWS from Nov) for the whole 1.25 GW year-average fleet, and the Microsoft revenue share at the "
                "gross 20% of this vintage's revenue (~$2.6B, [F22]) where leaked net payments were $0.87B for "
                "Jan-Sep [R49b]; the reported burn nets credits and payment timing the record does not give.")
    if y == 2030:
        return ("Revenue is the vintage's projection; the compute bill is the planner's least-cost fleet, including "
                "chips bought in 2030 for the fleet growth of 2031 (capex counted when paid).")
    last_tranche = (" In 2029 the planner also buys the last Broadcom tranche (the programme ends in 2029 [R16] and "
                    "no successor is in the record), the cheapest compute in the file, for the demand of 2030-2033; "
                    "its capex lands in 2029.") if y == 2029 else ""
    return {
        "q1_2025": ("This vintage's fleet (Stargate ~8 GW = 75% in 2030) and the Azure path of that date ($82B "
                    "2025-2028 [R43]) are the inputs; the vintage's ~$320B compute plan 2025-2030 [R43] is priced "
                    "here at the 2026 chip and contract prices of the catalog and of openai.yaml."),
        "q3_2025": ("The vintage predates the Oct-2025 deals, which stay options here; it serves the geometric "
                    "fleet path before issue 13 (its $350B + $100B of servers 2025-2030 [F6] is of that order) and buys chips where "
                    "renting costs more, so capex moves burn into the years chips are bought."),
        "q1_2026": ("The firm contracts (Azure $250B from 2026, Oracle 4.5 GW and AWS $100B from 2027) are paid on "
                    "this file's assumed ramps, not on schedules the record gives, and revenue between the "
                    "published anchors is interpolated (finance.yaml), so the burn lands in different years."),
    }[vin] + last_tranche


def _fcf_refs(run: str, y: int) -> list[Ref]:
    """Cash flow before financing: summary.json's free_cash_flow_usd (EBITDA − capex), or, in runs written
    before that key existed, cash_flow_after_financing_usd − funding_usd − vendor_equity_usd."""
    return [yr(run, y, "free_cash_flow_usd"), yr(run, y, "cash_flow_after_financing_usd"), yr(run, y, "funding_usd"),
            yr(run, y, "vendor_equity_usd")]


def _fcf(v):
    if v[0] is not None:
        return v[0]
    if v[1] is None:
        return None
    return v[1] - (v[2] or 0.0) - (v[3] or 0.0)


def _fcf_sum(v):
    parts = [_fcf(v[i:i + 4]) for i in range(0, len(v), 4)]
    return None if any(p is None for p in parts) else float(sum(parts))


def _first_positive(v, years):
    parts = [_fcf(v[4 * i:4 * i + 4]) for i in range(len(years))]
    if any(p is None for p in parts):
        return None
    pos = [y for y, p in zip(years, parts) if p > 0]
    return pos[0] if pos else None


def _stays_above(vals, years):
    """First year from which inference cost (even positions) exceeds training cost (odd) in every later year."""
    if any(v is None for v in vals):
        return None
    above = [vals[2 * i] > vals[2 * i + 1] for i in range(len(years))]
    first = None
    for y, a in zip(years, above):
        if a and first is None:
            first = y
        elif not a:
            first = None
    return first


def evaluate(rows: list[Row], summaries: dict[str, dict], finance_present: bool):
    """Each row as (row, values, cell, diff) with the raw values used."""
    out = []
    summaries = upgraded(summaries)
    for r in rows:
        vals = [ref.get(summaries) for ref in r.refs]
        missing_fin = any(v is None and _is_finance(ref) for v, ref in zip(vals, r.refs))
        if r.refs and missing_fin and not finance_present:
            out.append((r, vals, NA_FINANCE, "–"))
            continue
        cell = r.render(vals)
        diff = "–"
        if r.combine is not None and r.pub_value is not None:
            g = r.combine(vals)
            if g is not None:
                d = g - r.pub_value
                diff = r.diff_fmt(d) if r.diff_fmt else f"{d:+g}"
        out.append((r, vals, cell, diff))
    return out


def render_doc(summaries: dict[str, dict], pub: dict) -> str:
    summaries = upgraded(summaries)
    finance_present = any(s.get("commitments_usd_total") is not None or
                          any(e.get("revenue_usd") is not None for e in s.get("years", {}).values())
                          for s in summaries.values())
    rows = build_rows(pub)
    ev = evaluate(rows, summaries, finance_present)
    L = []
    L.append("# The reference scenario beside the published figures")
    L.append("")
    L.append("<!-- Generated by scripts/reference_table.py from scenarios/openai/published.yaml and the runs' "
             "summary.json. Do not edit by hand: run `.venv/bin/python scripts/reference_table.py`. -->")
    L.append("")
    L.append("Each row puts a figure published about OpenAI (left, with its source tag; tags resolve in "
             "`scenarios/openai/sources.yaml`, copied from the sourced dataset) beside gigawatt's output for the same "
             "quantity from `scenarios/openai.yaml` (right), read from the run's `summary.json` and only rounded. "
             "Published figures are as reported (leaks, projections, estimates), not audited. The assumptions behind "
             "the scenario are in [reference-openai-assumptions.md](reference-openai-assumptions.md).")
    L.append("")
    L.append("Runs: `default` = the file as written (the Feb-2026 information set, Nvidia LOI replaced by equity); "
             "`q1_2025`, `q3_2025` = the earlier forecast vintages; `nvidia_signed` = the 10 GW LOI as a binding "
             "deal; `broadcom_firm` = the Broadcom programme binding; `successors` = extrapolated supply after the "
             "sourced programmes (a Broadcom successor at 4 GW/yr, later AMD generations). Money is nominal USD per calendar year. Cash flow is free cash flow (before financing, docs/glossary.md), as the published burn "
             "(summary.json `free_cash_flow_usd` = EBITDA − capex; funding rounds and vendor equity excluded); it is "
             "negative when cash is burned.")
    L.append("")
    if not finance_present:
        L.append(f"**Finance not computed.** These runs have no finance figures (src/gigawatt/finance.py was absent "
                 f"when they were solved), so revenue, cash flow, commitments and the funding gap read "
                 f"\"{NA_FINANCE}\".")
        L.append("")
    L.append("## Run status")
    L.append("")
    L.append("| run | `--scenario` | status | net present cost |")
    L.append("|---|---|---|---|")
    for run, variant in RUNS.items():
        s = summaries[run]
        L.append(f"| `{run}` | {variant or '(none)'} | {s['status']} | {usd(s.get('net_present_cost_usd'))} |")
    L.append("")
    sections: dict[str, list] = {}
    for item in ev:
        sections.setdefault(item[0].section, []).append(item)
    for section, items in sections.items():
        L.append(f"## {section}")
        L.append("")
        L.append("| quantity | published | gigawatt | difference | why they differ |")
        L.append("|---|---|---|---|---|")
        for r, _vals, cell, diff in items:
            why = "" if cell == NA_FINANCE else r.why
            L.append(f"| {r.quantity} | {r.published} | {cell} | {diff} | {why} |")
        L.append("")
    L.append("## Values read from summary.json")
    L.append("")
    L.append("Every gigawatt figure above, unrounded, as `run:key.path` (tests/test_reference.py checks these "
             "against the runs' summary.json).")
    L.append("")
    values = {}
    for r, vals, _c, _d in ev:
        for ref, v in zip(r.refs, vals):
            values[ref.key()] = v
    L.append("```json")
    L.append(json.dumps(values, indent=1, sort_keys=True))
    L.append("```")
    L.append("")
    return "\n".join(L)


# Sections other scripts write into the same doc (scripts/reference_hedge.py), between these markers: this
# script keeps them as they are (appended after its own text) and compares only its own part.
SECTION_RE = re.compile(r"<!-- BEGIN (\S+) -->\n.*?<!-- END \1 -->\n", re.S)


def own_part(text: str) -> str:
    """The doc without the sections other scripts write (what :func:`render_doc` produces)."""
    return SECTION_RE.sub("", text)


def other_sections(text: str) -> str:
    """The sections other scripts wrote, in order, markers included."""
    return "".join(m.group(0) for m in SECTION_RE.finditer(text))


def doc_values(text: str) -> dict:
    """The JSON block of raw values in a generated doc."""
    start = text.index("```json\n") + len("```json\n")
    end = text.index("\n```", start)
    return json.loads(text[start:end])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, help="read DIR/<run>/summary.json instead of solving")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "reference", help="where to solve (default runs/reference)")
    ap.add_argument("--doc", type=Path, default=DOC)
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the doc differs")
    a = ap.parse_args(argv)
    timings = None
    if a.runs is None:
        timings = solve_all(a.out)
        bad = {r: i for r, i in timings.items() if i["returncode"] != 0}
        if bad:
            for r, i in bad.items():
                print(f"error: run '{r}' failed (exit {i['returncode']}):\n{i['stderr']}", file=sys.stderr)
            return 2
        root = a.out
    else:
        root = a.runs
    summaries = load_summaries(root)
    pub = load_published(PUBLISHED)  # the reader the report uses too (gigawatt report --published)
    text = render_doc(summaries, pub)
    old = a.doc.read_text() if a.doc.exists() else ""
    if a.check:
        if own_part(old) != text:
            print(f"{a.doc} is out of date: run scripts/reference_table.py", file=sys.stderr)
            return 1
        return 0
    atomic_write(a.doc, lambda p: p.write_text(text + other_sections(old)))
    for run, s in summaries.items():
        t = f" in {timings[run]['seconds']:.1f} s" if timings else ""
        print(f"{run}: {s['status']}{t}")
    print(f"wrote {a.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
