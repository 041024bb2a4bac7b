#!/usr/bin/env python3
"""Print the number tables of docs/reference-openai-exposure.md from a reference run and sensitivity output.

    .venv/bin/gigawatt solve scenarios/openai.yaml --out runs/openai
    .venv/bin/gigawatt exposure runs/openai --risk
    .venv/bin/gigawatt sensitivity scenarios/openai.yaml --out runs/openai --sobol 32 --seed 2026
    .venv/bin/python scripts/reference_exposure.py runs/openai [SOBOL_DIR]
    .venv/bin/python scripts/reference_exposure.py --policy DIR/exposure_deferral.csv ...   # per policy run

Every figure is read from the run's CSVs (tables/exposure.csv, exposure_unpaid.csv, sensitivity_oat.csv,
sensitivity_sobol.csv) and rounded for display; nothing is computed here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from gigawatt.fmt import usd


def exposure_table(run: Path) -> str:
    s = pd.read_csv(run / "tables" / "exposure.csv", index_col=0)
    rows = ["| counterparty | role | firm commitments (whole terms) | share of firm | options | paid 2025-2033 "
            "| of it take-or-pay | back to the lab | net flow | paid to others for its chips | peak year |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in s.iterrows():
        peak = "–" if pd.isna(r["peak_year"]) else str(int(r["peak_year"]))
        rows.append(f"| {name} | {r['role']} | {usd(r['commitments_firm_usd'])} | {r['share_of_firm_commitments']:.0%} "
                    f"| {usd(r['commitments_option_usd'])} | {usd(r['paid_usd'])} | {usd(r['firm_owed_usd'])} "
                    f"| {usd(r['inflow_usd'])} | {usd(r['net_flow_usd'])} | {usd(r['via_providers_usd'])} | {peak} |")
    return "\n".join(rows)


def unpaid_table(run: Path) -> str:
    f = run / "exposure_unpaid.csv"
    if not f.is_file():
        return "(no exposure_unpaid.csv: run `gigawatt exposure RUN --risk`)"
    s = pd.read_csv(f, index_col=0)
    r0 = s.iloc[0]
    rows = [f"{int(r0['draws']):,} draws, floor {usd(r0['floor_usd'])}, {usd(r0['can_raise_usd'])} more raisable.", "",
            "| counterparty | P(left unpaid) | expected unpaid | CVaR 95% | peak year |", "|---|---:|---:|---:|---:|"]
    for name, r in s.iterrows():
        peak = "–" if pd.isna(r["peak_year"]) else str(int(r["peak_year"]))
        rows.append(f"| {name} | {r['probability_unpaid']:.1%} | {usd(r['expected_unpaid_usd'])} "
                    f"| {usd(r['cvar95_unpaid_usd'])} | {peak} |")
    return "\n".join(rows)


def _value(v: float, unit: str) -> str:
    if pd.isna(v):
        return "never"
    return usd(v) if unit == "USD" else f"{v:.0f}"


def tornado_table(run: Path) -> str:
    t = pd.read_csv(run / "sensitivity_oat.csv")
    out = []
    for output, part in t.groupby("output", sort=False):
        unit = part["unit"].iloc[0]
        out += [f"**{output}** (base {_value(part['base_value'].iloc[0], unit)})", "",
                "| input | low | at low | high | at high |", "|---|---|---:|---|---:|"]
        out += [f"| {r['input']} | {r['low']} | {_value(r['low_value'], unit)} | {r['high']} "
                f"| {_value(r['high_value'], unit)} |" for _, r in part.iterrows()]
        out.append("")
    return "\n".join(out)


def sobol_table(d: Path) -> str:
    t = pd.read_csv(d / "sensitivity_sobol.csv")
    out = []
    for output, part in t.groupby("output", sort=False):
        r0 = part.iloc[0]
        out += [f"**{output}** (N = {int(r0['N'])}, {int(r0['samples'])} solves, {r0['conf_level']:.0%} intervals)", "",
                "| input | first order S1 | total ST |", "|---|---:|---:|"]
        out += [f"| {r['input']} | {r['S1']:.2f} ± {r['S1_conf']:.2f} | {r['ST']:.2f} ± {r['ST_conf']:.2f} |"
                for _, r in part.iterrows()]
        out.append("")
    return "\n".join(out)


def policy_table(csv: Path) -> str:
    """exposure_deferral.csv of `gigawatt exposure RUN --risk --policy P` (copied aside per policy): the
    renegotiable counterparties' rows and the expected totals over all counterparties."""
    s = pd.read_csv(csv, index_col=0)
    r0 = s.iloc[0]
    defers, ends = r0["policy"] != "terminate", "expected_absorbed_termination_usd" in s
    head, rule = ["counterparty"], ["|---"]
    if defers:
        head += ["deferred (expected)", "CVaR 95%", "share of gap", "penalty", "repaid in horizon"]
    if ends:
        head += ["P(terminated)", "remaining value ended", "fee", "absorbed (value − fee)"]
    head += ["still unpaid", "CVaR 95%"]
    rule += ["|---:"] * (len(head) - 1)
    rows = [f"policy {r0['policy']}, order {r0['order']}: {int(r0['draws']):,} draws, floor {usd(r0['floor_usd'])}, "
            f"{usd(r0['can_raise_usd'])} more raisable.", "", "| " + " | ".join(head) + " |", "".join(rule) + "|"]
    for name, r in s[s["renegotiable"].astype(bool)].iterrows():
        cells = [str(name)]
        if defers:
            cells += [usd(r["expected_deferred_usd"]), usd(r["cvar95_deferred_usd"]), f"{r['share_of_expected_gap']:.1%}",
                      usd(r["expected_penalty_usd"]), usd(r["expected_repaid_in_horizon_usd"])]
        if ends:
            cells += [f"{r['probability_terminated']:.1%}", usd(r["expected_terminated_value_usd"]),
                      usd(r["expected_fee_usd"]), usd(r["expected_absorbed_termination_usd"])]
        cells += [usd(r["expected_unpaid_usd"]), usd(r["cvar95_unpaid_usd"])]
        rows.append("| " + " | ".join(cells) + " |")
    tot = s[[c for c in s.columns if c.startswith("expected_")]].sum()
    tot = tot[tot != 0]
    rows += ["", "Expected totals over all counterparties: " + ", ".join(
        f"{k.removeprefix('expected_').removesuffix('_usd').replace('_', ' ')} {usd(v)}" for k, v in tot.items()) + "."]
    return "\n".join(rows)


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--policy":  # reference_exposure.py --policy CSV... (section 5)
        for f in argv[1:]:
            print(f"<!-- {f} -->\n{policy_table(Path(f))}\n")
        return
    run = Path(argv[0])
    sobol_dir = Path(argv[1]) if len(argv) > 1 else run
    for title, text in (("exposure", exposure_table(run)), ("unpaid", unpaid_table(run)),
                        ("tornado", tornado_table(run)), ("sobol", sobol_table(sobol_dir))):
        print(f"<!-- {title} -->\n{text}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
