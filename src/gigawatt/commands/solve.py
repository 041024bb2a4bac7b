"""`gigawatt solve`: read, validate, optimise, add finance, write the run, print the headline."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table


def run_solve(path: Path, *, out_dir: Path, scenario: str | None, sets: list[str], allow_unmet: bool,
              method: str | None, save_lp: Path | None, verbose: bool, register: bool, console: Console,
              quiet: bool) -> dict:
    from gigawatt.cli import load_portfolio
    from gigawatt.optimize import optimize
    from gigawatt.results import write_run

    t0 = time.perf_counter()
    portfolio, resolved = load_portfolio(path, scenario, sets)
    load_s = time.perf_counter() - t0
    status = console.status("Solving with HiGHS…", spinner="dots") if not (quiet or verbose) else _Null()
    with status:
        plan = optimize(portfolio, allow_unmet=allow_unmet or None, method=method, verbose=verbose, save_lp=save_lp)
    fin, commitments = None, None
    try:
        from gigawatt import finance as finance_mod
    except ImportError:
        finance_mod = None
    if finance_mod is not None:
        fin = finance_mod.compute(plan, portfolio)
        commitments = finance_mod.commitments_usd_total(portfolio)
    resolved_yaml = yaml.safe_dump(resolved.data, sort_keys=False, allow_unicode=True)
    summ = write_run(plan, out_dir, resolved_yaml=resolved_yaml, finance=fin, scenario_name=portfolio.scenario.meta.name,
                     variant=scenario, commitments_usd_total=commitments, extra_attrs={"load_seconds": load_s})
    if register:
        _register(out_dir, portfolio, scenario, resolved.data, summ)
    if not quiet:
        print_headline(summ, out_dir, console)
    return summ


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _register(out_dir: Path, portfolio, scenario, data, summ) -> None:
    from gigawatt.results import versions
    from gigawatt.runs import inputs_hash, register_quietly

    register_quietly(kind="solve", path=Path(out_dir).resolve(), scenario=portfolio.scenario.meta.name,
                     variant=scenario, inputs_hash=inputs_hash(data), status=summ["status"],
                     objective_usd=summ["objective_usd"], timings=summ["timings_s"], versions=versions())


def _usd(x) -> str:
    if x is None:
        return "–"
    ax = abs(x)
    for div, s in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if ax >= div:
            return f"${x / div:,.1f}{s}"
    return f"${x:,.0f}"


def print_headline(summ: dict, out_dir: Path, console: Console) -> None:
    t = Table(title=f"{summ['scenario']}{' / ' + summ['variant'] if summ.get('variant') else ''}: "
                    f"{summ['status']}, net present cost {_usd(summ['objective_usd'])}")
    for col in ("year", "power GW", "chips (M)", "capex", "lease+contracts", "energy", "unmet", "$/H100-h",
                "cash flow", "cum. cash flow"):
        t.add_column(col, justify="right")
    for y, e in summ["years"].items():
        mc = e["marginal_cost_usd_per_h100_hour"]
        mc_txt = ", ".join(f"{v:.2f}" for v in mc.values() if v is not None) if mc else "–"
        c = e["cost_usd_by_category"]
        t.add_row(y, f"{e['power_gw']:.2f}", f"{e['chips'] / 1e6:.2f}", _usd(c["capex"]), _usd(c["lease"]),
                  _usd(c["energy"]), f"{e['unmet_demand_fraction']:.0%}", mc_txt, _usd(e.get("cash_flow_usd")),
                  _usd(e.get("cumulative_cash_flow_usd")))
    console.print(t)
    facts = []
    if summ.get("commitments_usd_total") is not None:
        facts.append(f"commitments {_usd(summ['commitments_usd_total'])}")
    facts.append(f"inference cost exceeds training: {summ.get('inference_exceeds_training_year') or 'not within horizon'}")
    if "first_cash_flow_positive_year" in summ:
        facts.append(f"first cash-flow-positive year: {summ.get('first_cash_flow_positive_year') or 'none'}")
    console.print("  " + " · ".join(facts), highlight=False)
    b = summ.get("binding_constraints") or []
    if b:
        console.print("  binding: " + "; ".join(f"{r['relaxation']} would save {_usd(r['value_usd'])}" for r in b[:3]),
                      highlight=False)
    tm = summ["timings_s"]
    console.print(f"  wrote {out_dir}/summary.json, plan.nc, tables/ · HiGHS {tm.get('solve_seconds') or 0:.2f} s, "
                  f"build {tm.get('build_seconds') or 0:.2f} s", highlight=False)
