"""`gigawatt solve`: read, validate, optimise, add finance, write the run, print the headline."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table


def run_solve(path: Path, *, out_dir: Path, scenario: str | None, sets: list[str], allow_unmet: bool,
              method: str | None, save_lp: Path | None, verbose: bool, register: bool, console: Console,
              quiet: bool, overwrite: bool = False) -> dict:
    from gigawatt.commands.common import load_portfolio
    from gigawatt.optimize import optimize
    from gigawatt.results import write_run_dir
    from gigawatt.rundir import check_target

    check_target(Path(out_dir), kind="solve", overwrite=overwrite)  # before the work, not after it
    t0 = time.perf_counter()
    portfolio, resolved = load_portfolio(path, scenario, sets)
    load_s = time.perf_counter() - t0
    status = console.status("Solving with HiGHS…", spinner="dots") if not (quiet or verbose) else contextlib.nullcontext()
    with status:
        plan = optimize(portfolio, allow_unmet=allow_unmet or None, method=method, verbose=verbose, save_lp=save_lp)
    from gigawatt.exposure import run_additions
    from gigawatt.finance import compute

    fin = compute(plan, portfolio)
    resolved_yaml = yaml.safe_dump(resolved.data, sort_keys=False, allow_unicode=True)
    summ, written = write_run_dir(plan, out_dir, resolved_yaml=resolved_yaml, finance=fin,
                                  scenario_name=portfolio.scenario.meta.name, variant=scenario,
                                  extra_attrs={"load_seconds": load_s}, overwrite=overwrite,
                                  **run_additions(plan, portfolio))
    if register:
        _register(out_dir, portfolio, scenario, resolved.data, summ, written, sets)
    if not quiet:
        print_headline(summ, out_dir, console, sets=sets)
        if written.kept_previous:
            console.print(f"  replaced the run in {out_dir}/; the previous one (with its risk results and report, "
                          f"if any) is in {Path(out_dir) / 'previous'}/"
                          + (" (the run kept there before was deleted)" if written.dropped_previous else ""),
                          highlight=False)
    return summ


def _register(out_dir: Path, portfolio, scenario, data, summ, written, sets=None) -> None:
    from gigawatt.results import versions
    from gigawatt.runs import inputs_hash, register_quietly

    register_quietly(kind="solve", path=Path(out_dir).resolve(), scenario=portfolio.scenario.meta.name,
                     variant=scenario, inputs_hash=inputs_hash(data), status=summ["status"],
                     objective_usd=summ["net_present_cost_usd"], timings=summ["timings_s"], versions=versions(),
                     files=written.to_json(), sets=list(sets or []))


def print_headline(summ: dict, out_dir: Path, console: Console, sets: list[str] | None = None) -> None:
    """The headline figures per year as a table that fits 80 columns, then the facts worth a line each;
    the title names the scenario, its variant and the ``--set`` overrides."""
    import functools

    from gigawatt.fmt import usd

    money = functools.partial(usd, style="compact")  # 3 significant figures: fits the table's columns
    table, with_cash = _year_table(summ, money, sets)
    console.print(table)
    for note in _table_notes(summ, with_cash):
        console.print(note, style="dim", highlight=False)
    for line in [*_fact_lines(summ, money, with_cash), *_attention_lines(summ, out_dir, money)]:
        console.print(line, highlight=False)
    tm = summ["timings_s"]
    console.print(f"  wrote {out_dir}/ (summary.json, plan.nc, tables/) · HiGHS {tm.get('solve_seconds') or 0:.2f} s, "
                  f"build {tm.get('build_seconds') or 0:.2f} s", highlight=False)


def _table_notes(summ: dict, with_cash: bool) -> list[str]:
    """What the table's columns mean (docs/glossary.md), and why a marginal cost of 0.00 is not a bug."""
    notes = ["  lease includes contracts · $ per H100h: marginal cost of compute (range)"]
    rates = [v for e in summ["years"].values() for v in (e.get("marginal_cost_usd_per_h100_hour") or {}).values()
             if v is not None]
    if any(abs(float(v)) < 0.005 for v in rates):
        notes.append("  0.00: paid-for capacity (take-or-pay, owned) to spare: one more hour is free")
    if with_cash:
        notes.append("  free cash flow: before financing · cash: year-end cash position")
    return notes


def _rate(values: dict) -> str:
    """Marginal cost per H100-hour: one figure when the workloads agree to the cent, else their range."""
    vals = [max(0.0, float(v)) if abs(float(v)) < 0.005 else float(v) for v in values.values() if v is not None]
    if not vals:
        return "–"
    lo, hi = min(vals), max(vals)
    return f"{hi:.2f}" if round(hi - lo, 2) == 0 else f"{lo:.2f}–{hi:.2f}"


def _year_table(summ: dict, money, sets: list[str] | None = None) -> tuple[Table, bool]:
    """One row a year: power, chips, spending by category, unmet demand, marginal cost, and cash."""
    from rich import box

    years = summ["years"]
    with_cash = any(e.get("free_cash_flow_usd") is not None for e in years.values())
    given = f" (--set {', '.join(sets)})" if sets else ""
    t = Table(title=f"{summ['scenario']}{' / ' + summ['variant'] if summ.get('variant') else ''}{given}: "
                    f"{summ['status']} · net present cost {money(summ['net_present_cost_usd'])}",
              box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True)
    columns = ["year", "power\nGW", "chips\nM", "capex", "lease", "energy", "unmet", "$ per\nH100h"]
    if with_cash:
        columns += ["free cash\nflow", "cash"]
    for col in columns:
        t.add_column(col, justify="right", no_wrap=True)
    for y, e in years.items():
        c = e["cost_usd_by_category"]
        unmet = max(0.0, e["unmet_demand_fraction"])
        row = [y, f"{max(0.0, e['power_gw']):.2f}", f"{max(0.0, e['chips']) / 1e6:.2f}", money(c["capex"]),
               money(c["lease"]), money(c["energy"]), f"{unmet:.0%}" if unmet >= 0.005 or unmet == 0 else "<1%",
               _rate(e.get("marginal_cost_usd_per_h100_hour") or {})]
        if with_cash:
            row += [money(e.get("free_cash_flow_usd")), money(e.get("cash_usd"))]
        t.add_row(*row)
    return t, with_cash


def _fact_lines(summ: dict, money, with_cash: bool) -> list[str]:
    """Commitments, the first year of positive free cash flow, inference against training, idle capacity."""
    years = summ["years"]
    out, facts = [], []
    if summ.get("commitments_usd_total") is not None:
        facts.append(f"commitments {money(summ['commitments_usd_total'])}")
    if with_cash:
        first = summ.get("first_free_cash_flow_positive_year")
        facts.append(f"free cash flow positive from {first}" if first else "free cash flow never positive")
    else:
        facts.append("free cash flow not computed (no finance)")
    out.append("  " + " · ".join(facts))
    if summ.get("compute_spending_pv_usd") is not None:
        out.append(f"  compute spending {money(summ['compute_spending_pv_usd'])} (present value; the net present "
                   "cost credits salvage)")
    over = summ.get("inference_exceeds_training_year")
    first = summ.get("inference_first_exceeds_training_year")
    if over:
        line = f"  inference costs more than training from {over} on" + (
            f" (first in {first})" if first and first != over else "")
    elif first:
        line = f"  inference costs more than training in {first}, but not to the horizon's end"
    else:
        line = "  inference costs less than training throughout"
    out.append(line)
    idle = [(y, e.get("idle_capacity_fraction") or 0.0, e.get("idle_cost_usd")) for y, e in years.items()]
    idle = [(y, f, c) for y, f, c in idle if f >= 0.005]
    if idle:
        parts = [f"{y} {f:.0%} {money(c)}" for y, f, c in idle]
        lines, cur = [], "  idle paid-for capacity (chips, cost):"
        for part in parts:
            if len(cur) + len(part) + 2 > 78:
                lines.append(cur + ",")
                cur = "   "
            cur += (" " if cur.endswith(":") or cur == "   " else ", ") + part
        lines.append(cur)
        out += lines
    elif any("idle_capacity_fraction" in e for e in years.values()):
        out.append("  no paid-for capacity idle")
    return out


def _attention_lines(summ: dict, out_dir: Path, money) -> list[str]:
    """What needs a reader's attention: demand not served, and the binding constraints that pay."""
    import csv
    import textwrap

    out = []
    if (summ.get("unmet_demand_fraction_total") or 0) > 0:
        parts = []
        path = Path(out_dir) / "tables" / "unmet_fraction.csv"
        if path.exists():
            with path.open(newline="") as fh:
                for r in csv.DictReader(fh):
                    period = r.pop("period", None) or r.pop("", "")
                    parts += [f"{w} {float(v):.0%} in {period}" for w, v in r.items() if v and float(v) >= 0.005]
        out.append(f"  [bold yellow]not served:[/] {summ['unmet_demand_fraction_total']:.1%} of demand"
                   + (": " + ", ".join(parts[:6]) + (", …" if len(parts) > 6 else "") if parts else "")
                   + " (tables/unmet_fraction.csv)")
    b = [r for r in summ.get("binding_constraints") or [] if r.get("confirmed", True)]
    for r in b[:3]:
        when = f" ({r['period']} money)" if r.get("period") else " (present value)"
        out += textwrap.wrap(f"binding: {r['relaxation']} would save {money(r['value_usd'])}{when}", 78,
                             initial_indent="  ", subsequent_indent="    ")
    return out
