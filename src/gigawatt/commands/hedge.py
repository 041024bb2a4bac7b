"""`gigawatt hedge`: commitments that hedge N futures of the uncertainty section (docs/stochastic.md).

Writes the run directory `solve` writes (the hedged plan: its commitments fixed, recourse re-optimised in
the expected-value future), plus futures.csv (net present cost per future under the hedged, risk-neutral,
expected-value and wait-and-see plans, the funding gap) and a `stochastic` block in summary.json (WS, SP,
EEV, EVPI, VSS, CVaR, the funding gap and cash limits, the commitments of the hedged and the expected-value
plan), all written at once by ``results.write_run_dir``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console

if TYPE_CHECKING:  # numpy, pandas and yaml load inside the functions: `gigawatt --help` stays light
    import pandas as pd


def run_hedge(path: Path, *, out_dir: Path, futures: int | None, seed: int | None, cvar_weight: float,
              cvar_alpha: float, metrics: bool, scenario: str | None, sets: list[str], register: bool,
              console: Console, quiet: bool, overwrite: bool = False, oos_draws: int = 0,
              oos_seed: int | None = None, option_values: bool = False, replications: int = 0,
              upper_futures: int | None = None, reduce_to: int | None = None,
              cash_floor_penalty: float | None = None, max_cvar_funding_gap: str | None = None,
              decompose: dict | None = None) -> dict:
    import yaml

    from gigawatt.commands.common import load_portfolio
    from gigawatt.results import write_run_dir
    from gigawatt.rundir import check_target
    from gigawatt.stochastic.extensive import hedge, hedged_plan

    cash_risk = _cash_risk(cvar_weight, cvar_alpha, cash_floor_penalty, max_cvar_funding_gap)
    check_target(Path(out_dir), kind="solve", overwrite=overwrite)
    t0 = time.perf_counter()
    portfolio, resolved = load_portfolio(path, scenario, sets)
    futures = _staged_options(portfolio, futures, replications)
    cvar = (cvar_weight, cvar_alpha) if cvar_weight > 0 else None
    report = None
    if decompose is not None:
        from gigawatt.commands.decompose import run_decomposed

        _decomposable(cash_risk)
        result, report = run_decomposed(portfolio, futures, seed=seed, cvar_=cvar, metrics=metrics,
                                        reduce_to=reduce_to, console=console, quiet=quiet, **decompose)
    else:
        result = hedge(portfolio, futures, seed=seed, cvar_=cvar, metrics=metrics, reduce_to=reduce_to,
                       cash_risk=cash_risk)
    block = stochastic_block(result)
    if report is not None:
        block["decomposition"] = report
    if reduce_to and reduce_to < futures:
        block["reduced_from"] = futures  # `futures` is then K; method in stochastic/reduce.py
    if option_values and report is None:  # each option value is two extensive-form solves: not with --decompose
        block["option_values"] = option_block(result)
    if replications > 0:
        from gigawatt.stochastic.saa import saa_interval

        block["saa"] = saa_interval(portfolio, futures, result.futures.seed, result.sp_neutral.commitments,
                                    replications=replications, upper_futures=upper_futures or 5 * futures)
    if oos_draws > 0:
        oos_seed = result.futures.seed + 1 if oos_seed is None else int(oos_seed)
        block["out_of_sample"] = out_of_sample_block(portfolio, result, oos_draws, oos_seed)
    plan = hedged_plan(result.futures, _first_stage(result))
    fin, commitments_usd = _finance(plan)
    resolved_yaml = yaml.safe_dump(resolved.data, sort_keys=False, allow_unicode=True)
    summ, written = write_run_dir(plan, out_dir, resolved_yaml=resolved_yaml, finance=fin,
                                  commitments_usd_total=commitments_usd,
                                  scenario_name=portfolio.scenario.meta.name, variant=scenario,
                                  extra_attrs={"hedge_seconds": time.perf_counter() - t0}, overwrite=overwrite,
                                  extra_tables={"futures": per_future(result)}, extra_summary={"stochastic": block})
    if register:
        from gigawatt.results import versions
        from gigawatt.runs import inputs_hash, register_quietly

        register_quietly(kind="hedge", path=Path(out_dir).resolve(), scenario=portfolio.scenario.meta.name,
                         variant=scenario, inputs_hash=inputs_hash(resolved.data), status=summ["status"],
                         objective_usd=summ["stochastic"]["sp_usd"], timings=summ["timings_s"],
                         versions=versions(), files=written.to_json())
    if not quiet:
        from gigawatt.commands.hedge_print import print_metrics

        print_metrics(summ["stochastic"], out_dir, console)
    return summ


def _decomposable(cash_risk) -> None:
    """--decompose splits the extensive form into one LP per future: a cash limit in risk terms is refused
    with it (the CVaR of the funding gap ties every future in one row; the soft floor is not wired into
    the split yet)."""
    if cash_risk is None:
        return
    from gigawatt.errors import Problem, ScenarioError

    opt = "--max-cvar-funding-gap" if cash_risk.max_cvar_gap_usd is not None else "--cash-floor-penalty"
    raise ScenarioError(Problem("not supported with --decompose", path=opt, value="set",
                                expected="no cash limit in risk terms with --decompose",
                                fix=f"drop {opt}, or drop --decompose to solve the extensive form"),
                        title="bad option")


def _staged_options(portfolio, futures: int | None, replications: int) -> int:
    """The number of futures: --futures, or the tree's (product of uncertainty.branching), or 20; with a
    tree, --futures must match it and --replications is refused (docs/stochastic.md, "Stages")."""
    from gigawatt.stochastic.staged import refuse
    from gigawatt.stochastic.tree import tree_of

    tree = tree_of(portfolio, futures)
    if tree is not None and replications > 0:
        refuse("--replications", "its upper bound would need a policy for the later stages in fresh trees")
    return tree.n if tree is not None else (20 if futures is None else futures)


def _first_stage(result) -> dict:
    from gigawatt.stochastic.staged import first_stage

    return first_stage(result.futures, result.sp.commitments)


def _cash_risk(cvar_weight: float, cvar_alpha: float, penalty: float | None, max_gap: str | None):
    """The options checked (exit 1 with what, where, expected and a fix) and the cash limit they set."""
    import numpy as np

    from gigawatt.errors import Problem, ScenarioError
    from gigawatt.optimize.context import CashRisk

    def bad(name, value, expected, fix):
        return ScenarioError(Problem("option out of range", path=name, value=value, expected=expected, fix=fix),
                             title="bad option")

    for name, value, ok, expected in (("--cvar-weight", cvar_weight, 0.0 <= cvar_weight <= 1.0, "0 ≤ ω ≤ 1"),
                                      ("--cvar-alpha", cvar_alpha, 0.0 < cvar_alpha < 1.0, "0 < α < 1")):
        if not ok:
            raise bad(name, value, expected, "e.g. --cvar-weight 0.5 --cvar-alpha 0.9")
    if penalty is not None and not (np.isfinite(penalty) and penalty >= 0):
        raise bad("--cash-floor-penalty", penalty, "a number ≥ 0 (USD per USD below the floor)",
                  "e.g. --cash-floor-penalty 0.5")
    gap = None
    if max_gap is not None:
        from gigawatt.commands.common import option_amount

        gap = option_amount("--max-cvar-funding-gap", max_gap, "USD", "100 billion USD")
        if gap < 0:
            raise bad("--max-cvar-funding-gap", max_gap, "an amount ≥ 0", "e.g. --max-cvar-funding-gap '100 billion USD'")
    if penalty is None and gap is None:
        return None
    return CashRisk(floor_penalty=penalty, max_cvar_gap_usd=gap, gap_alpha=cvar_alpha)


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

    hedged = fixed_plan(portfolio, _first_stage(result))
    deterministic = fixed_plan(portfolio)
    return {"hedged": out_of_sample(hedged, portfolio, draws=draws, seed=seed),
            "deterministic": out_of_sample(deterministic, portfolio, draws=draws, seed=seed)}


def option_block(result) -> dict:
    """What each sizeable option is worth kept open (vs firm) and at all (vs removed); which were valued.
    Capacity options first, then supply (vendor) options (stochastic/options.py)."""
    from gigawatt.stochastic.options import (MAX_OPTIONS, MIN_SHARE, option_sizes, option_values,
                                             supply_option_sizes, supply_option_values)

    from gigawatt.stochastic.extensive import soft_floor

    sp, soft = result.sp_neutral.expected_usd, soft_floor(result.cash_risk)
    rows = option_values(result.futures, sp, cash_risk=soft) + supply_option_values(result.futures, sp, cash_risk=soft)
    names = list(option_sizes(result.futures.portfolio).index) + list(supply_option_sizes(result.futures.portfolio).index)
    skipped = [n for n in names if n not in {r["contract"] for r in rows}]
    return {"options": rows, "not_valued": skipped,
            "rule": f"capacity options (contracts not firm) and supply options (vendor deals not firm), of each "
                    f"kind the largest {MAX_OPTIONS} with a size (capacity: use of all of it; supply: its chips at "
                    f"their price; USD) at least {MIN_SHARE:.0%} of the largest; risk-neutral expected cost. A "
                    "supply option obliges nothing and adds no chips the plan could not buy without it, so "
                    "having it is worth 0 here; a supply option that a contract_failure event targets is not "
                    "valued (its failure is modelled only once firm)"}


def stochastic_block(result) -> dict:
    """summary.json's `stochastic` block: metrics, commitments by year (chips bought, MW built), notes."""
    import numpy as np

    from gigawatt.stochastic.staged import expected, here_and_now, tree_block

    fut = result.futures
    block = {**result.metrics(), "ignored_events": fut.ignored,
             "probabilities_equal": bool(np.allclose(fut.probability, 1.0 / fut.n)),
             "commitments": {"hedged": _commitments(expected(result.sp.commitments, fut.probability))}}
    if getattr(fut, "tree", None) is not None:  # a scenario tree: its shape and what to commit now
        block["tree"] = tree_block(fut)
        block["commitments"]["here_and_now"] = _commitments(here_and_now(fut, result.sp.commitments))
    if result.ev_commitments is not None:
        block["commitments"]["expected_value"] = _commitments(result.ev_commitments)
    if result.sp.renegotiation is not None:  # contracts with renegotiation terms: recourse per future
        block["renegotiation"] = result.sp.renegotiation
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
    if result.sp_neutral is not result.sp:  # CVaR or a funding-gap limit: the risk-neutral plan differs
        frame["npc_risk_neutral_usd"] = result.sp_neutral.npc_usd.to_series()
    if result.eev is not None:
        frame["npc_expected_value_plan_usd"] = result.eev.npc_usd.to_series()
    if result.ws is not None:
        frame["npc_wait_and_see_usd"] = result.ws.npc_usd.to_series()
    if result.sp.funding_gap_usd is None:  # --decompose: the subproblems do not report cash
        return frame
    frame["funding_gap_hedged_usd"] = result.sp.funding_gap_usd.to_series()
    if result.sp_neutral is not result.sp and result.sp_neutral.funding_gap_usd is not None:
        frame["funding_gap_risk_neutral_usd"] = result.sp_neutral.funding_gap_usd.to_series()
    if result.sp.shortfall_penalty_usd is not None:
        frame["cash_shortfall_penalty_hedged_usd"] = result.sp.shortfall_penalty_usd.to_series()
    return frame


def register(app: typer.Typer) -> None:
    from gigawatt.commands.common import STATE, guarded, out

    @app.command()
    @guarded
    def hedge(path: Path = typer.Argument(..., help="Scenario YAML file (with an uncertainty section).",
                                          show_default=False),
              out_dir: Path = typer.Option(..., "--out", "-o", help="Output directory."),
              futures: Optional[int] = typer.Option(None, "--futures", "-n", min=1, help="Number of futures "
                                                    "to hedge (default 20; with uncertainty.stages the product "
                                                    "of uncertainty.branching, which it must equal)."),
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
              cash_floor_penalty: Optional[float] = typer.Option(None, "--cash-floor-penalty", help="Make the "
                                                                 "cash floor (policy.cash_floor, else 0) soft in "
                                                                 "every future: USD of penalty per USD short for "
                                                                 "a year, discounted."),
              max_cvar_funding_gap: Optional[str] = typer.Option(None, "--max-cvar-funding-gap", help="Limit "
                                                                 "CVaR (at --cvar-alpha) of the funding gap over "
                                                                 "the futures, e.g. '100 billion USD'."),
              scenario: Optional[str] = typer.Option(None, "--scenario", "-s", help="Named scenario to apply."),
              set_: Optional[list[str]] = typer.Option(None, "--set", help="key.path=value (repeatable)."),
              register_: bool = typer.Option(True, "--register/--no-register", help="Record it in the runs catalog."),
              overwrite: bool = typer.Option(False, "--overwrite", help="Replace the gigawatt run already in DIR."),
              decompose: bool = typer.Option(False, "--decompose", help="Solve by the L-shaped method (one "
                                             "subproblem per future, on --workers) instead of the extensive form."),
              tolerance: float = typer.Option(1e-4, "--tolerance", help="--decompose: stop when (upper − lower "
                                              "bound) / upper ≤ this."),
              max_iterations: int = typer.Option(200, "--max-iterations", min=1, help="--decompose: at most this "
                                                 "many master solves."),
              workers: int = typer.Option(1, "--workers", "-w", min=1, help="--decompose: worker processes."),
              engine: str = typer.Option("local", "--engine", help="--decompose: local (process pool), ray or "
                                         "inline (this process)."),
              ray_address: Optional[str] = typer.Option(None, "--ray-address", help="--engine ray: a cluster's "
                                                        "address (default: a local Ray instance).")
              ) -> None:
        """Commit under uncertainty: the plan whose commitments are cheapest in expectation (or in CVaR)
        over N futures of the uncertainty section, with EVPI and VSS."""
        run_hedge(path, out_dir=out_dir, futures=futures, seed=seed, cvar_weight=cvar_weight,
                  cvar_alpha=cvar_alpha, metrics=metrics, scenario=scenario, sets=set_ or [],
                  register=register_, console=out, quiet=STATE["quiet"], overwrite=overwrite,
                  oos_draws=oos_draws, oos_seed=oos_seed, option_values=option_values,
                  replications=replications, upper_futures=upper_futures, reduce_to=reduce_to,
                  cash_floor_penalty=cash_floor_penalty, max_cvar_funding_gap=max_cvar_funding_gap,
                  decompose={"tolerance": tolerance, "max_iterations": max_iterations, "workers": workers,
                             "engine": engine, "address": ray_address} if decompose else None)
