"""`gigawatt hedge`: commitments that hedge N futures of the uncertainty section (docs/stochastic.md).

Writes the run directory `solve` writes (the hedged plan: its commitments fixed, recourse re-optimised in
the expected-value future), plus futures.csv (net present cost per future under the hedged, risk-neutral,
expected-value and wait-and-see plans) and a `stochastic` block in summary.json (WS, SP, EEV, EVPI, VSS,
CVaR, the commitments of the hedged and the expected-value plan)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console

if TYPE_CHECKING:  # numpy, pandas and yaml load inside the functions: `gigawatt --help` stays light
    import pandas as pd


def run_hedge(path: Path, *, out_dir: Path, futures: int, seed: int | None, cvar_weight: float,
              cvar_alpha: float, metrics: bool, scenario: str | None, sets: list[str], register: bool,
              console: Console, quiet: bool, overwrite: bool = False, oos_draws: int = 0,
              oos_seed: int | None = None, option_values: bool = False, replications: int = 0,
              upper_futures: int | None = None, reduce_to: int | None = None) -> dict:
    import yaml

    from gigawatt.commands.common import load_portfolio
    from gigawatt.errors import Problem, ScenarioError
    from gigawatt.results import write_run_dir
    from gigawatt.rundir import check_target
    from gigawatt.stochastic.extensive import hedge, hedged_plan

    for name, value, ok, expected in (("--cvar-weight", cvar_weight, 0.0 <= cvar_weight <= 1.0, "0 ≤ ω ≤ 1"),
                                      ("--cvar-alpha", cvar_alpha, 0.0 < cvar_alpha < 1.0, "0 < α < 1")):
        if not ok:
            raise ScenarioError(Problem("CVaR option out of range", path=name, value=value, expected=expected,
                                        fix="e.g. --cvar-weight 0.5 --cvar-alpha 0.9"), title="bad option")
    check_target(Path(out_dir), kind="solve", overwrite=overwrite)
    t0 = time.perf_counter()
    portfolio, resolved = load_portfolio(path, scenario, sets)
    cvar = (cvar_weight, cvar_alpha) if cvar_weight > 0 else None
    result = hedge(portfolio, futures, seed=seed, cvar_=cvar, metrics=metrics, reduce_to=reduce_to)
    plan = hedged_plan(result.futures, result.sp.commitments)
    fin, commitments_usd = _finance(plan)
    resolved_yaml = yaml.safe_dump(resolved.data, sort_keys=False, allow_unicode=True)
    summ, written = write_run_dir(plan, out_dir, resolved_yaml=resolved_yaml, finance=fin,
                                  commitments_usd_total=commitments_usd,
                                  scenario_name=portfolio.scenario.meta.name, variant=scenario,
                                  extra_attrs={"hedge_seconds": time.perf_counter() - t0}, overwrite=overwrite)
    summ["stochastic"] = stochastic_block(result)
    if reduce_to and reduce_to < futures:
        summ["stochastic"]["reduced_from"] = futures  # `futures` is then K; method in stochastic/reduce.py
    if option_values:
        summ["stochastic"]["option_values"] = option_block(result)
    if replications > 0:
        from gigawatt.stochastic.saa import saa_interval

        summ["stochastic"]["saa"] = saa_interval(portfolio, futures, result.futures.seed,
                                                 result.sp_neutral.commitments, replications=replications,
                                                 upper_futures=upper_futures or 5 * futures)
    if oos_draws > 0:
        oos_seed = result.futures.seed + 1 if oos_seed is None else int(oos_seed)
        summ["stochastic"]["out_of_sample"] = out_of_sample_block(portfolio, result, oos_draws, oos_seed)
    _write_extra(Path(out_dir), summ, per_future(result))
    if register:
        from gigawatt.results import versions
        from gigawatt.runs import inputs_hash, register_quietly

        register_quietly(kind="hedge", path=Path(out_dir).resolve(), scenario=portfolio.scenario.meta.name,
                         variant=scenario, inputs_hash=inputs_hash(resolved.data), status=summ["status"],
                         objective_usd=summ["stochastic"]["sp_usd"], timings=summ["timings_s"],
                         versions=versions(), files=written.to_json())
    if not quiet:
        print_metrics(summ["stochastic"], out_dir, console)
    return summ


def _finance(plan):
    """Finance of the hedged plan (as `solve` adds it), so its run directory has cash figures."""
    from gigawatt import finance

    return finance.compute(plan, plan.portfolio), finance.commitments_usd_total(plan.portfolio)


def out_of_sample_block(portfolio, result, draws: int, seed: int) -> dict:
    """Both plans on the same fresh draws of `simulate` (seed ≠ the futures'): the hedged commitments and
    the deterministic plan's (the `solve` plan of the base forecast), each with recourse in the base
    forecast so the draws scale the same figures."""
    from gigawatt.stochastic.evaluate import out_of_sample
    from gigawatt.stochastic.extensive import fixed_plan

    hedged = fixed_plan(portfolio, result.sp.commitments)
    deterministic = fixed_plan(portfolio)
    return {"hedged": out_of_sample(hedged, portfolio, draws=draws, seed=seed),
            "deterministic": out_of_sample(deterministic, portfolio, draws=draws, seed=seed)}


def option_block(result) -> dict:
    """What each sizeable option is worth kept open (vs firm) and at all (vs removed); which were valued."""
    from gigawatt.stochastic.options import MAX_OPTIONS, MIN_SHARE, option_sizes, option_values

    rows = option_values(result.futures, result.sp_neutral.expected_usd)
    sizes = option_sizes(result.futures.portfolio)
    skipped = [n for n in sizes.index if n not in {r["contract"] for r in rows}]
    return {"options": rows, "not_valued": skipped,
            "rule": f"capacity options (contracts not firm), the largest {MAX_OPTIONS} with a size (use of all "
                    f"their capacity, USD) at least {MIN_SHARE:.0%} of the largest; risk-neutral expected cost"}


def stochastic_block(result) -> dict:
    """summary.json's `stochastic` block: metrics, commitments by year (chips bought, MW built), notes."""
    import numpy as np

    block = {**result.metrics(), "ignored_events": result.futures.ignored,
             "probabilities_equal": bool(np.allclose(result.futures.probability, 1.0 / result.futures.n)),
             "commitments": {"hedged": _commitments(result.sp.commitments)}}
    if result.ev_commitments is not None:
        block["commitments"]["expected_value"] = _commitments(result.ev_commitments)
    return block


def _commitments(c: dict) -> dict:
    out = {}
    if "Own-buy" in c:
        out["chips_bought"] = {str(k): float(v) * 1e3 for k, v in c["Own-buy"].sum("supply").to_series().items()}
    if "Site-power" in c:
        out["site_power_mw"] = {str(k): float(v) for k, v in c["Site-power"].sum("site").to_series().items()}
    return out


def per_future(result) -> pd.DataFrame:
    """One row per future: its driver factors and events, and the net present cost of each plan in it."""
    frame = result.futures.factors.copy()
    frame["probability"] = result.futures.probability.to_series()
    frame["npc_hedged_usd"] = result.sp.npc_usd.to_series()
    frame["unmet_h100e_hours_hedged"] = result.sp.unmet_h100e_hours.to_series()
    if result.cvar is not None:
        frame["npc_risk_neutral_usd"] = result.sp_neutral.npc_usd.to_series()
    if result.eev is not None:
        frame["npc_expected_value_plan_usd"] = result.eev.npc_usd.to_series()
    if result.ws is not None:
        frame["npc_wait_and_see_usd"] = result.ws.npc_usd.to_series()
    return frame


def _write_extra(out_dir: Path, summ: dict, frame: pd.DataFrame) -> None:
    from gigawatt.runs import atomic_write

    atomic_write(out_dir / "summary.json",
                 lambda p: p.write_text(json.dumps(summ, indent=2, allow_nan=False, default=float) + "\n"))
    atomic_write(out_dir / "tables" / "futures.csv", lambda p: frame.to_csv(p))


def print_metrics(block: dict, out_dir: Path, console: Console) -> None:
    from gigawatt.fmt import usd

    money = lambda v: usd(v, style="compact")  # noqa: E731
    expected = block.get("hedged_expected_usd", block["sp_usd"])
    kind = "risk-averse" if "hedged_expected_usd" in block else "risk-neutral"
    console.print(f"{kind} hedged plan over {block['futures']} futures (seed {block['seed']}): expected net "
                  f"present cost {money(expected)}", highlight=False)
    if "ws_usd" in block:
        console.print(f"  risk-neutral: WS {money(block['ws_usd'])} ≤ SP {money(block['sp_usd'])} ≤ EEV "
                      f"{money(block['eev_usd'])} · EVPI {money(block['evpi_usd'])} · VSS {money(block['vss_usd'])}",
                      highlight=False)
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


def print_out_of_sample(oos: dict, console: Console) -> None:
    """The two plans over the same fresh draws: compute spending PV and funding gap (p5 / p50 / p95, mean),
    and the probability of running out of cash."""
    from gigawatt.fmt import usd

    money = lambda v: usd(v, style="compact")  # noqa: E731
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


def register(app: typer.Typer) -> None:
    from gigawatt.commands.common import STATE, guarded, out

    @app.command()
    @guarded
    def hedge(path: Path = typer.Argument(..., help="Scenario YAML file (with an uncertainty section).",
                                          show_default=False),
              out_dir: Path = typer.Option(..., "--out", "-o", help="Output directory."),
              futures: int = typer.Option(20, "--futures", "-n", min=1, help="Number of futures to hedge."),
              seed: Optional[int] = typer.Option(None, "--seed", help="Root seed (default: uncertainty.seed)."),
              cvar_weight: float = typer.Option(0.0, "--cvar-weight", help="ω: weight of CVaR of net present "
                                                "cost in the objective (0 = risk-neutral, 1 = CVaR only)."),
              cvar_alpha: float = typer.Option(0.9, "--cvar-alpha", help="α: CVaR level (mean of the worst 1 − α)."),
              metrics: bool = typer.Option(True, "--metrics/--no-metrics", help="Also solve WS, EV and EEV "
                                           "(N + 2 more solves) for EVPI and VSS."),
              oos_draws: int = typer.Option(2000, "--out-of-sample", min=0, help="Fresh Monte Carlo draws "
                                            "on which to evaluate the hedged and the deterministic plan (0: skip)."),
              oos_seed: Optional[int] = typer.Option(None, "--out-of-sample-seed", help="Their seed (default: "
                                                     "the futures' seed + 1)."),
              option_values: bool = typer.Option(True, "--option-values/--no-option-values", help="Value each "
                                                 "sizeable option (≤5): re-solve with it firm and without it."),
              replications: int = typer.Option(0, "--replications", min=0, help="SAA confidence interval: "
                                                "M more sets of N futures for the lower bound (0: skip)."),
              upper_futures: Optional[int] = typer.Option(None, "--upper-futures", min=1, help="Fresh futures "
                                                          "for the SAA upper bound (default 5 × N)."),
              reduce_to: Optional[int] = typer.Option(None, "--reduce", min=1, help="Reduce the N futures to K "
                                                      "weighted representatives (fast forward selection)."),
              scenario: Optional[str] = typer.Option(None, "--scenario", "-s", help="Named scenario to apply."),
              set_: Optional[list[str]] = typer.Option(None, "--set", help="key.path=value (repeatable)."),
              register_: bool = typer.Option(True, "--register/--no-register", help="Record it in the runs catalog."),
              overwrite: bool = typer.Option(False, "--overwrite", help="Replace the gigawatt run already in DIR.")
              ) -> None:
        """Commit under uncertainty: the plan whose commitments are cheapest in expectation (or in CVaR)
        over N futures of the uncertainty section, with EVPI and VSS."""
        run_hedge(path, out_dir=out_dir, futures=futures, seed=seed, cvar_weight=cvar_weight,
                  cvar_alpha=cvar_alpha, metrics=metrics, scenario=scenario, sets=set_ or [],
                  register=register_, console=out, quiet=STATE["quiet"], overwrite=overwrite,
                  oos_draws=oos_draws, oos_seed=oos_seed, option_values=option_values,
                  replications=replications, upper_futures=upper_futures, reduce_to=reduce_to)
