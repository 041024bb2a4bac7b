#!/usr/bin/env python3
"""Write the hedged-plan section of docs/reference-openai.md: what a risk-neutral and a risk-averse planner
would commit to on the reference, beside the deterministic plan and what was signed.

    .venv/bin/python scripts/reference_hedge.py                  # run the three plans into runs/reference-hedge/
    .venv/bin/python scripts/reference_hedge.py --runs DIR       # read DIR/{deterministic,neutral,averse}/ instead
    .venv/bin/python scripts/reference_hedge.py --check          # exit 1 if the doc's section is not what DIR gives

Runs `gigawatt solve` (the deterministic plan) and `gigawatt hedge` twice on scenarios/openai.yaml (risk-neutral;
risk-averse with CVaR), with the settings in SETTINGS (every one is printed in the section). Every figure in
the section is read from those runs (summary.json, plan.nc, scenario.resolved.yaml) by :func:`extract`,
listed unrounded in the section's JSON block, and rendered from that block alone by :func:`render`, so
tests/test_reference_hedge.py can check that the doc is what the block gives. The section sits between
markers; scripts/reference_table.py writes the rest of the doc and keeps the section as it is.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_table import usd  # noqa: E402  one money format for both sections of the doc

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "openai.yaml"
PUBLISHED = ROOT / "scenarios" / "openai" / "published.yaml"
DOC = ROOT / "docs" / "reference-openai.md"
NAME = "reference_hedge.py"
BEGIN, END = f"<!-- BEGIN {NAME} -->\n", f"<!-- END {NAME} -->\n"
# N futures: 50 keeps the three runs (with WS: one solve per future, option values: 2 per option, and the SAA
# replications) to ~10 minutes on a shared 2-core machine; --futures to change it.
SETTINGS = {"futures": 50, "seed": 2026, "cvar_weight": 0.5, "cvar_alpha": 0.9, "out_of_sample": 2000,
            "replications": 5, "upper_futures": 250}
PLANS = ("deterministic", "neutral", "averse")
LABEL = {"deterministic": "deterministic (`solve`)", "neutral": "hedged, risk-neutral",
         "averse": "hedged, risk-averse"}


# --- running -------------------------------------------------------------------------------------------------

def _gigawatt() -> list[str]:
    exe = Path(sys.executable).with_name("gigawatt")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from gigawatt.cli import main; main()"]


def commands(out_root: Path, s: dict, scenario: Path = SCENARIO) -> dict[str, list[str]]:
    """The three command lines (without the gigawatt executable)."""
    common = ["--futures", str(s["futures"]), "--seed", str(s["seed"]), "--out-of-sample", str(s["out_of_sample"]),
              "--no-register", "--overwrite"]
    return {"deterministic": ["solve", str(scenario), "--out", str(out_root / "deterministic"), "--no-register",
                              "--overwrite"],
            "neutral": ["hedge", str(scenario), "--out", str(out_root / "neutral"), *common,
                        "--replications", str(s["replications"]), "--upper-futures", str(s["upper_futures"])],
            # option values and WS/EEV are risk-neutral: the neutral run has them, so the averse one skips them
            "averse": ["hedge", str(scenario), "--out", str(out_root / "averse"), *common, "--cvar-weight",
                       str(s["cvar_weight"]), "--cvar-alpha", str(s["cvar_alpha"]), "--no-metrics",
                       "--no-option-values"]}


def run_all(out_root: Path, s: dict, scenario: Path = SCENARIO) -> dict[str, float]:
    """Run the three plans; their wall seconds. Exits 2 with the command's stderr if one fails."""
    seconds = {}
    for plan, cmd in commands(out_root, s, scenario).items():
        t0 = time.perf_counter()
        proc = subprocess.run([*_gigawatt(), *cmd], capture_output=True, text=True, cwd=ROOT)
        seconds[plan] = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"error: `gigawatt {' '.join(cmd)}` failed (exit {proc.returncode}):\n"
                             f"{proc.stderr[-3000:]}")
        print(f"{plan}: {seconds[plan]:.0f} s", file=sys.stderr)
    return seconds


# --- reading the runs ------------------------------------------------------------------------------------------

def _plan_figures(run: Path) -> dict:
    """Commitments of one run directory's plan: per year chips bought, site power in service and built;
    over the horizon (nominal) the capex of chips and sites, the partners' share, chips by vendor, and the
    payments to each capacity option and the power it supplies at most."""
    import xarray as xr
    import yaml

    firm = {k: c.get("firm", True) is not False
            for k, c in (yaml.safe_load((run / "scenario.resolved.yaml").read_text()).get("contracts") or {}).items()}
    with xr.open_dataset(run / "plan.nc") as ds:
        years = [str(p) for p in ds["period"].values]
        per_year = lambda v: dict(zip(years, (float(x) for x in v)))  # noqa: E731
        out = {"chips_bought": per_year(ds["chips_bought"].sum("supply").values),
               "site_power_mw": per_year(ds["site_power_mw"].sum("site").values),
               "site_power_built_mw": per_year(ds["site_power_built_mw"].sum("site").values),
               "capex_chips_usd": float(ds["finance_capex_chips_usd"].sum()),
               "capex_sites_usd": float(ds["finance_capex_sites_usd"].sum()),
               "capex_partners_usd": float(ds["finance_capex_partners_usd"].sum())}
        vendor = ds["chips_bought"].groupby(ds["supply_vendor"]).sum(["supply", "period"])
        out["chips_bought_by_vendor"] = {str(k): float(v) for k, v in zip(vendor["supply_vendor"].values,
                                                                            vendor.values)}
        contract = ds["supply_contract"].values
        options = {}
        for name in sorted({str(c) for c in contract if str(c) and not firm.get(str(c), True)}):
            sel = contract == name
            options[name] = {"paid_usd": float(ds["cost_contract_usd"].isel(supply=sel).sum()),
                             "peak_mw": float(ds["power_mw"].isel(supply=sel).sum("supply").max())}
        out["options_used"] = options
    return out


def _tail(run: Path, alpha: float) -> dict:
    """The costliest 1 − α of futures (by probability) for the risk-neutral plan: each driver's mean factor
    there and over all futures (what makes a future costly), from the averse run's futures.csv."""
    import pandas as pd

    f = pd.read_csv(run / "tables" / "futures.csv", index_col=0).sort_values("npc_risk_neutral_usd", ascending=False)
    tail = f[(f["probability"].cumsum() - f["probability"]) < 1 - alpha - 1e-12]  # ≥ 1 future, as CVaR's tail
    skip = {"probability", "node_path"} | {c for c in f.columns  # outcomes per future, not drivers
                                           if c.startswith(("npc_", "unmet_", "funding_gap_", "cash_shortfall_"))}
    cols = [c for c in f.columns if c not in skip and f[c].nunique() > 2]  # drivers (events are 0/1)
    w = lambda g: {c: float((g[c] * g["probability"]).sum() / g["probability"].sum()) for c in cols}  # noqa: E731
    return {"futures": int(len(tail)), "share": float(tail["probability"].sum()), "tail": w(tail), "all": w(f)}


def _contracts(run: Path) -> dict:
    """What the scenario holds signed (firm) and open (options), valued as finance.commitments values them."""
    from gigawatt.commands.common import load_portfolio
    from gigawatt.finance import commitments

    portfolio, _ = load_portfolio(run / "scenario.resolved.yaml", None, [])
    t = commitments(portfolio)
    firm = t["firm"].astype(bool)
    supply = t["kind"] == "supply"
    return {"firm_capacity_usd": float(t.loc[firm & ~supply, "value_usd"].sum()),
            "firm_supply_usd": float(t.loc[firm & supply, "value_usd"].sum()),
            "firm_supply": {k: float(v) for k, v in t.loc[firm & supply, "value_usd"].items()},
            "options_usd": {k: float(v) for k, v in t.loc[~firm, "value_usd"].items()}}


def _rel(p: Path) -> Path:
    p = p.resolve()
    return p.relative_to(ROOT) if p.is_relative_to(ROOT) else p


def extract(run_root: Path, settings: dict, scenario: Path = SCENARIO) -> dict:
    """Every figure the section shows, unrounded, from the three run directories."""
    runs = {p: json.loads((run_root / p / "summary.json").read_text()) for p in PLANS}
    fig: dict = {"settings": settings,
                 "commands": {p: " ".join(["gigawatt", *c]) for p, c in
                              commands(_rel(run_root), settings, _rel(scenario)).items()},
                 "contracts": _contracts(run_root / "deterministic")}
    for p in PLANS:
        s = runs[p]
        fig[p] = {"status": s["status"], "net_present_cost_usd": s["net_present_cost_usd"],
                  "funding_gap_usd": s.get("funding_gap_usd"), "commitments_usd_total": s.get("commitments_usd_total"),
                  **_plan_figures(run_root / p)}
    for p in ("neutral", "averse"):
        # commitments are read from plan.nc above (the test checks they agree): not stored twice
        fig[p]["stochastic"] = {k: v for k, v in runs[p]["stochastic"].items() if k != "commitments"}
    fig["tail"] = _tail(run_root / "averse", runs["averse"]["stochastic"]["cvar_alpha"])
    if "stochastic" not in runs["neutral"] or "out_of_sample" not in runs["neutral"]["stochastic"]:
        raise SystemExit("error: the neutral run has no out-of-sample block: run it with --out-of-sample > 0")
    return fig


def drivers(scenario_yaml: Path) -> list[dict]:
    """The uncertainty section's drivers and events as the section lists them (name, target, spread, source)."""
    import yaml

    unc = yaml.safe_load(scenario_yaml.read_text()).get("uncertainty") or {}
    rows = [{"name": k, "target": d.get("target"), "distribution": d.get("distribution"),
             "params": d.get("params"), "mode": d.get("mode", "level"), "source": d.get("source", "assumption")}
            for k, d in (unc.get("drivers") or {}).items()]
    rows += [{"name": k, "target": f"{e.get('kind')} of {e.get('target')}", "distribution": "event",
              "params": {"probability": e.get("probability"), **({"delay": e["delay"]} if "delay" in e else {})},
              "mode": "event", "source": e.get("source", "assumption")} for k, e in (unc.get("events") or {}).items()]
    return rows


# --- rendering -----------------------------------------------------------------------------------------------

def mchips(v: float) -> str:
    return f"{v / 1e6:,.2f}M"


def gw(mw: float) -> str:
    return f"{mw / 1e3:,.1f} GW"


def pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f}%"


def span(f: dict) -> str:
    """The horizon's years as the runs have them, e.g. 2025–2033."""
    years = list(f["deterministic"]["chips_bought"])
    return f"{years[0]}–{years[-1]}"


def comparable(f: dict, plan: str) -> dict:
    """The plan's commitments in USD on the basis of the published ~$1.4T (see the section's text)."""
    c, p = f["contracts"], f[plan]
    orders = p["capex_chips_usd"] + p["capex_sites_usd"] + p["capex_partners_usd"]
    signed = c["firm_capacity_usd"] + c["firm_supply_usd"]
    return {"signed": signed, "orders": orders, "total": signed + orders - c["firm_supply_usd"]}


def _intro(f: dict) -> list[str]:
    s, pub = f["settings"], f["published"]
    L = ["## Committing under uncertainty: the hedged plans", "",
         f"<!-- Generated by scripts/{NAME} from the runs below. Do not edit by hand: run "
         f"`.venv/bin/python scripts/{NAME}`. -->", "",
         f"The plans above are made for one forecast. Here `gigawatt hedge` (docs/stochastic.md) chooses the "
         f"commitments — chips bought and site power built, every year of {span(f)} — that are cheapest over "
         f"{s['futures']} futures drawn from the scenario's uncertainty section (seed {s['seed']}), and then "
         f"judges them on {s['out_of_sample']:,} fresh draws. The **risk-neutral** planner minimises the expected "
         f"net present cost; the **risk-averse** one minimises (1 − ω) × expected cost + ω × CVaR_α, with "
         f"ω = {s['cvar_weight']} and α = {s['cvar_alpha']} (the mean of the worst {1 - s['cvar_alpha']:.0%} of "
         f"futures). Both are set against the deterministic plan (`gigawatt solve`, the forecast as written) and "
         f"against what was signed: {pub['text']} [{pub['source']}], {pub['date']}.", "",
         "Commands (the script runs them; `--runs DIR` reuses runs already made):", "", "```sh"]
    L += [f["commands"][p] for p in PLANS] + ["```", "", "What varies between futures (scenarios/openai/uncertainty.yaml; "
                                                      "each spread is sourced or labelled an assumption there):", "",
                                                      "| driver or event | scales | spread | mode | source |",
                                                      "|---|---|---|---|---|"]
    for d in f["drivers"]:
        spread = ", ".join(f"{k} {v}" for k, v in (d["params"] or {}).items())
        L.append(f"| {d['name']} | {d['target']} | {d['distribution']}: {spread} | {d['mode']} | {d['source']} |")
    notes = f["neutral"]["stochastic"].get("ignored_events") or []
    L += [""] + [f"Note from the hedge: {n}." for n in notes] + ([""] if notes else [])
    return L


def _commitments(f: dict) -> list[str]:
    d, n, a = (f[p] for p in PLANS)
    L = ["### What each planner commits to", "",
         f"In a two-stage plan every order of chips and every site build of {span(f)} is fixed before anything "
         "is revealed, and shared by all futures; dispatch, rentals, capacity options and unmet demand adapt to "
         "each future. Chips bought per year (all suppliers, millions of chips) and site power in service at the "
         "lab's and the JV's own sites (GW):", "",
         "| year | chips bought: deterministic | risk-neutral | risk-averse | site power: deterministic "
         "| risk-neutral | risk-averse |", "|---|---:|---:|---:|---:|---:|---:|"]
    for y in d["chips_bought"]:
        L.append(f"| {y} | {mchips(d['chips_bought'][y])} | {mchips(n['chips_bought'][y])} | "
                 f"{mchips(a['chips_bought'][y])} | {gw(d['site_power_mw'][y])} | {gw(n['site_power_mw'][y])} | "
                 f"{gw(a['site_power_mw'][y])} |")
    tot = {p: sum(f[p]["chips_bought"].values()) for p in PLANS}
    L.append(f"| **{span(f)}** | **{mchips(tot['deterministic'])}** | **{mchips(tot['neutral'])}** | "
             f"**{mchips(tot['averse'])}** | | | |")
    vendors = sorted({v for p in PLANS for v, x in f[p]["chips_bought_by_vendor"].items() if x > 0.5})
    L += ["", f"Chips bought {span(f)} by vendor, and capital spent (nominal USD, {span(f)}):", "",
          "| | deterministic | risk-neutral | risk-averse |", "|---|---:|---:|---:|"]
    for v in vendors:
        L.append(f"| chips from {v} | " + " | ".join(mchips(f[p]["chips_bought_by_vendor"].get(v, 0.0))
                                                    for p in PLANS) + " |")
    for key, label in (("capex_chips_usd", "chips (the lab's share)"), ("capex_sites_usd", "sites (the lab's share)"),
                       ("capex_partners_usd", "JV partners' share of chips and sites")):
        L.append(f"| capex: {label} | " + " | ".join(usd(f[p][key]) for p in PLANS) + " |")
    opts = sorted({o for p in PLANS for o, u in f[p]["options_used"].items() if u["paid_usd"] > 0.5})
    unused = sorted({o for p in PLANS for o in f[p]["options_used"]} - set(opts))
    for o in opts:
        L.append(f"| option `{o}`: paid (peak power) | " + " | ".join(
            f"{usd(f[p]['options_used'].get(o, {}).get('paid_usd', 0.0))} "
            f"({gw(f[p]['options_used'].get(o, {}).get('peak_mw', 0.0))})" for p in PLANS) + " |")
    L += ["", "Capacity options are not commitments here: each future uses them or not. The rows show their use "
          "in the plan's run directory (the forecast as written for the deterministic plan, the mean future for "
          "the hedged ones)" + (f"; not used there by any plan: {', '.join(f'`{o}`' for o in unused)}" if unused
                                else "") + ". What they are worth is in the option table below.", ""]
    return L


def _against_signed(f: dict) -> list[str]:
    c, pub = f["contracts"], f["published"]
    cmp = {p: comparable(f, p) for p in PLANS}
    supply = ", ".join(f"`{k}` {usd(v)}" for k, v in c["firm_supply"].items()) or "none"
    L = ["### Against what was signed", "",
         f"The published {usd(pub['value'])} counts the chip programmes at full size (Nvidia 10 GW, AMD 6 GW, "
         "Broadcom 10 GW at ~$50B per GW all-in, chips and facilities) plus the cloud contracts, over about eight "
         "years, whoever ends up paying. The nearest the model gets is: the contracts signed and firm in the "
         "scenario (their values, and the firm chip supply), plus the chips and site power the plan orders in "
         f"{span(f)} at the model's prices, whoever pays (the lab's share and the JV partners'), with the firm "
         f"supply counted once (its chips are in both: {supply}).", "",
         "| USD, nominal | deterministic | risk-neutral | risk-averse |", "|---|---:|---:|---:|",
         "| signed and firm in the scenario (the same data in every plan) | "
         + " | ".join(usd(cmp[p]["signed"]) for p in PLANS) + " |",
         f"| + chips and sites the plan orders, {span(f)} | " + " | ".join(usd(cmp[p]["orders"]) for p in PLANS) + " |",
         f"| − firm supply counted in both | " + " | ".join(usd(c["firm_supply_usd"]) for _ in PLANS) + " |",
         "| **= the plan's commitments** | " + " | ".join(f"**{usd(cmp[p]['total'])}**" for p in PLANS) + " |",
         f"| against the published {usd(pub['value'])} | "
         + " | ".join(usd(cmp[p]["total"] - pub["value"], True) for p in PLANS) + " |", "",
         f"Options left open in the scenario (not counted above; valued as finance.commitments values them, "
         f"at full use): " + ", ".join(f"`{k}` {usd(v)}" for k, v in c["options_usd"].items()) + ".", "",
         "What is not comparable: the published figure has no date range or price basis beyond \"~30 GW over "
         "eight years\"; it counts the Nvidia and Broadcom programmes at their announced size, which the "
         "scenario holds as a replaced LOI and an option (docs/reference-openai-assumptions.md); the model's "
         "orders are what the plan buys by 2033 at its own chip prices and build costs, not programme ceilings; "
         "energy, operations and rentals beyond the signed contracts are in neither. The difference between "
         "the three plans is comparable: it is what the uncertainty changes in what is ordered.", ""]
    return L


def _metrics(f: dict) -> list[str]:
    n, a, d = f["neutral"]["stochastic"], f["averse"]["stochastic"], f["deterministic"]
    L = ["### Expected cost and the value of information", "",
         f"Net present cost over the {n['futures']} futures (risk-neutral; the deterministic plan's "
         f"{usd(d['net_present_cost_usd'])} is its cost if the forecast as written comes true, not an expectation):", "",
         "| | USD | what it means |", "|---|---:|---|",
         f"| WS (wait and see) | {usd(n.get('ws_usd'))} | each future's own best plan, known in advance: the floor |",
         f"| SP (the risk-neutral hedge) | {usd(n['sp_usd'])} | one set of commitments for every future |",
         f"| EEV | {usd(n.get('eev_usd'))} | the commitments of the mean-future plan, lived through every future |",
         f"| EVPI = SP − WS | {usd(n.get('evpi_usd'))} | what knowing the future before committing would be worth |",
         f"| VSS = EEV − SP | {usd(n.get('vss_usd'))} | what planning for the spread instead of the mean saves |",
         f"| risk-averse hedge: expected cost | {usd(a['hedged_expected_usd'])} | "
         f"{usd(a['hedged_expected_usd'] - n['sp_usd'], True)} against the risk-neutral hedge: the premium paid for the tail |",
         f"| CVaR{a['cvar_alpha']:.0%} of cost: risk-averse / risk-neutral | {usd(a['hedged_cvar_usd'])} / "
         f"{usd(a['neutral_cvar_usd'])} | the mean of the worst {1 - a['cvar_alpha']:.0%} of futures under each |"]
    saa = n.get("saa")
    if saa:
        lo, up = saa["lower_bound_usd"], saa["upper_bound_usd"]
        L.append(f"| SAA interval | {usd(lo['mean'])} ± {usd(lo['half_width_95'])} … {usd(up['mean'])} ± "
                 f"{usd(up['half_width_95'])} | the true optimum's lower bound ({lo['n']} more sets of "
                 f"{lo['futures_each']} futures) and the hedge's cost on {up['n']} fresh futures; gap "
                 f"{usd(saa['gap_usd'])}, ≤ {usd(saa.get('gap_upper_95_usd'))} at 95% |")
    L.append("")
    return L


def _out_of_sample(f: dict) -> list[str]:
    oos_n, oos_a = f["neutral"]["stochastic"]["out_of_sample"], f["averse"]["stochastic"]["out_of_sample"]
    h = oos_n["hedged"]
    rows = {"deterministic": oos_n["deterministic"], "neutral": h, "averse": oos_a["hedged"]}
    L = ["### The three plans on the same fresh draws", "",
         f"{h['draws']:,} Monte Carlo draws of `simulate` (seed {h['seed']}, not the futures the hedges were fitted "
         "to), each plan's commitments fixed and its operations re-run per draw. Compute spending is the present "
         "value of what is paid for compute (no penalty for demand not served, so read it beside that share); the "
         "funding gap is the cash needed beyond the cash and funding in hand, and P(out of cash) the share of "
         "draws with a gap (docs/glossary.md).", "",
         "| plan | compute spending p5 / p50 / p95 (mean) | funding gap p5 / p50 / p95 (mean) "
         "| P(out of cash) | demand not served (mean) |", "|---|---|---|---:|---:|"]
    for p, r in rows.items():
        c, g = r["compute_spending_pv_usd"], r["funding_gap_usd"]
        L.append(f"| {LABEL[p]} | {usd(c['p5'])} / {usd(c['p50'])} / {usd(c['p95'])} ({usd(c['mean'])}) | "
                 f"{usd(g['p5'])} / {usd(g['p50'])} / {usd(g['p95'])} ({usd(g['mean'])}) | "
                 f"{pct(r['probability_out_of_cash'])} | {100 * r['unmet_demand_fraction']['mean']:.1f}% |")
    L += ["", f"The deterministic plan's own funding gap, in the forecast as written, is "
          f"{usd(f['deterministic']['funding_gap_usd'])}.", ""]
    return L


def _options(f: dict) -> list[str]:
    ov = f["neutral"]["stochastic"].get("option_values")
    if not ov:
        return []
    L = ["### What flexibility is worth", "",
         "Each of the largest capacity options re-priced over the same futures (risk-neutral): signed firm "
         "instead (its take-or-pay owed in every future), and removed. **Value of flexibility** = SP(firm) − SP: "
         "what keeping it an option saves over signing it firm on the scenario's firm terms; **value of the "
         "option** = SP(removed) − SP: what having it at all saves.", "",
         "| option | size (all capacity used) | value of the option | value of flexibility |",
         "|---|---:|---:|---:|"]
    for r in ov["options"]:
        L.append(f"| `{r['contract']}` | {usd(r['size_usd'])} | {usd(r['value_of_option_usd'])} | "
                 f"{usd(r['value_of_flexibility_usd'])} |")
    L += ["", "Each is valued alone, the others kept as they are, so the values do not add up. A premium below "
          "an option's value of flexibility, asked by its counterparty for keeping it an option rather than a firm "
          "contract, is worth paying." + (
              f" Not valued (smaller): {', '.join(ov['not_valued'])}." if ov.get("not_valued") else ""), ""]
    return L


def _reading(f: dict) -> list[str]:
    """The plain-words summary: every number from the figures, the direction words from their signs."""
    d, n, a = (f[p] for p in PLANS)
    tot = {p: sum(f[p]["chips_bought"].values()) for p in PLANS}
    cmp = {p: comparable(f, p)["total"] for p in PLANS}
    last = list(d["site_power_mw"])[-1]
    st = n["stochastic"]
    oos = {"deterministic": st["out_of_sample"]["deterministic"], "neutral": st["out_of_sample"]["hedged"],
           "averse": a["stochastic"]["out_of_sample"]["hedged"]}
    more = lambda x, y: "more" if x > y else "fewer" if x < y else "as many"  # noqa: E731
    gap = {p: oos[p]["funding_gap_usd"] for p in PLANS}
    return ["### In plain words", "",
            f"- **Risk-neutral:** the hedge orders {mchips(tot['neutral'])} chips over {span(f)}, "
            f"{abs(tot['neutral'] / tot['deterministic'] - 1):.0%} {more(tot['neutral'], tot['deterministic'])} than "
            f"the deterministic plan's {mchips(tot['deterministic'])}, and has {gw(n['site_power_mw'][last])} of its "
            f"own sites in service in {last} (deterministic {gw(d['site_power_mw'][last])}). Its commitments come "
            f"to {usd(cmp['neutral'])} on the basis above (deterministic {usd(cmp['deterministic'])}; signed, "
            f"as published, {usd(f['published']['value'])}).",
            f"- **Risk-averse** (ω {a['stochastic']['cvar_weight']}, α {a['stochastic']['cvar_alpha']}): "
            f"{mchips(tot['averse'])} chips, {gw(a['site_power_mw'][last])} of sites in {last}, commitments "
            f"{usd(cmp['averse'])}; it pays {usd(a['stochastic']['hedged_expected_usd'] - st['sp_usd'], True)} in "
            f"expected cost for {usd(a['stochastic']['hedged_cvar_usd'] - a['stochastic']['neutral_cvar_usd'], True)} "
            f"on the mean of its worst {1 - a['stochastic']['cvar_alpha']:.0%} of futures.",
            *_why_averse(f, tot),
            f"- **Information and flexibility:** knowing the future before committing would be worth "
            f"{usd(st.get('evpi_usd'))} ({st.get('evpi_usd', 0) / st['sp_usd']:.1%} of the expected cost); "
            f"planning for the spread rather than the mean saves {usd(st.get('vss_usd'))}.",
            f"- **Cash:** on fresh draws the median funding gap is {usd(gap['deterministic']['p50'])} for the "
            f"deterministic plan, {usd(gap['neutral']['p50'])} for the risk-neutral and {usd(gap['averse']['p50'])} "
            f"for the risk-averse hedge (p95 {usd(gap['deterministic']['p95'])}, {usd(gap['neutral']['p95'])}, "
            f"{usd(gap['averse']['p95'])}); each needs new money in "
            f"{pct(oos['deterministic']['probability_out_of_cash'])}, {pct(oos['neutral']['probability_out_of_cash'])} "
            f"and {pct(oos['averse']['probability_out_of_cash'])} of draws. The hedge minimises cost, not the "
            "funding gap: revenue is not in its objective (docs/stochastic.md), so it protects cash only through cost.",
            "- **Limits:** two stages (later years' orders cannot adapt to what the first years reveal; "
            "`uncertainty.stages` gives a multi-stage plan over a scenario tree, not run for this section), "
            + ("events listed above as not in the futures, " if st.get("ignored_events") else "")
            + f"{st['futures']} futures (the SAA interval says how far that sample may be from the optimum); no cash "
            "limit in risk terms (`--max-cvar-funding-gap`, `--cash-floor-penalty`), so the hedge weighs cost only.", ""]


def _why_averse(f: dict, tot: dict) -> list[str]:
    """Why the risk-averse plan differs (the tail futures' drivers) and why fresh draws may disagree."""
    t, a, n = f["tail"], f["averse"], f["neutral"]
    drivers = ", ".join(f"{k} {v:.2f} (all futures {t['all'][k]:.2f})" for k, v in t["tail"].items())
    direction = "more" if tot["averse"] > tot["neutral"] else "less"
    last = list(a["chips_bought"])[-1]
    oos_a = a["stochastic"]["out_of_sample"]["hedged"]["compute_spending_pv_usd"]
    oos_n = n["stochastic"]["out_of_sample"]["hedged"]["compute_spending_pv_usd"]
    out = [f"- **Why risk aversion buys {direction}:** the costliest {t['share']:.0%} of futures for the "
           f"risk-neutral plan ({t['futures']} futures) have mean driver factors {drivers}. Cost is what the "
           "objective measures, so its tail is where demand outruns the committed capacity and the rest is rented "
           "or contracted per use; "
           "revenue is not in it, so a revenue shortfall does not argue for committing less. A limit on the "
           "funding gap in risk terms would pull the other way."]
    if oos_a["p95"] > oos_n["p95"]:
        out.append(f"- **Why fresh draws disagree:** the risk-averse plan's compute spending on fresh draws is "
                   f"higher at p95 ({usd(oos_a['p95'])} against {usd(oos_n['p95'])}), although its CVaR of net "
                   "present cost is lower. Compute spending counts chips and sites at purchase with no credit "
                   "for what they are still worth at the end of the horizon (docs/glossary.md), and the "
                   f"risk-averse plan buys late ({mchips(a['chips_bought'][last])} chips in {last} against "
                   f"{mchips(n['chips_bought'][last])}); net present cost, the hedge's objective, credits "
                   "that salvage value.")
    return out


def render(f: dict) -> str:
    """The section, markers included, from the figures alone (as the JSON block holds them: keys sorted)."""
    f = json.loads(json.dumps(f, sort_keys=True))
    L = [*_intro(f), *_commitments(f), *_against_signed(f), *_metrics(f), *_out_of_sample(f), *_options(f),
         *_reading(f), "### Values read from the runs", "",
         f"Every figure above, unrounded (tests/test_reference_hedge.py renders the section from this block and "
         f"compares it with the text above).", "", "```json hedge", json.dumps(f, indent=1, sort_keys=True), "```", ""]
    return BEGIN + "\n" + "\n".join(L) + END


def section_of(text: str) -> str | None:
    m = re.search(re.escape(BEGIN) + ".*?" + re.escape(END), text, flags=re.S)
    return m.group(0) if m else None


def figures_of(section: str) -> dict:
    start = section.index("```json hedge\n") + len("```json hedge\n")
    return json.loads(section[start:section.index("\n```", start)])


def splice(text: str, section: str) -> str:
    """The doc with ``section`` in place of its old one (appended at the end when there is none)."""
    old = section_of(text)
    return text.replace(old, section) if old else text + section


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, help="read DIR/{deterministic,neutral,averse}/ instead of running")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "reference-hedge", help="where to run")
    ap.add_argument("--doc", type=Path, default=DOC)
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the doc's section differs")
    for k, v in SETTINGS.items():
        ap.add_argument(f"--{k.replace('_', '-')}", type=type(v), default=v)
    a = ap.parse_args(argv)
    settings = {k: getattr(a, k) for k in SETTINGS}
    if a.runs is None:
        run_all(a.out, settings)
    f = figures(a.runs or a.out, settings)
    section = render(f)
    old = a.doc.read_text() if a.doc.exists() else ""
    if a.check:
        if section_of(old) != section:
            print(f"{a.doc}: the hedged section is out of date: run scripts/{NAME}", file=sys.stderr)
            return 1
        return 0
    from gigawatt.atomic import atomic_write

    atomic_write(a.doc, lambda p: p.write_text(splice(old, section)))
    print(f"wrote the hedged section of {a.doc}", file=sys.stderr)
    return 0


def figures(run_root: Path, settings: dict) -> dict:
    """:func:`extract` plus the published figure and the uncertainty section's drivers."""
    from gigawatt.report.published import load_published

    f = extract(run_root, settings)
    pub = load_published(PUBLISHED)["published"]["commitments_total_usd"][0]
    f["published"] = {k: pub[k] for k in ("value", "text", "source", "date")}
    f["drivers"] = drivers(run_root / "deterministic" / "scenario.resolved.yaml")
    return f


if __name__ == "__main__":
    sys.exit(main())
