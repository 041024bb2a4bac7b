"""`gigawatt simulate` (Monte Carlo over a solved plan) and `gigawatt sweep` (many solves on an executor)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from gigawatt.fmt import usd as _usd


def _progress(console: Console, quiet: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, disable=quiet, transient=True)


# --- simulate -----------------------------------------------------------------------------------------------


def run_simulate(run_dir: Path, *, draws: int | None, seed: int | None, out_dir: Path | None,
                 chunk_size: int | None, workers: int, register: bool, console: Console, quiet: bool,
                 sets: list[str] | None = None) -> dict:
    from gigawatt.risk.io import check_results_dir, load_run, write_results
    from gigawatt.risk.simulate import build_model, simulate

    t0 = time.perf_counter()
    plan, portfolio = load_run(run_dir, sets=sets)
    check_results_dir(Path(out_dir) if out_dir else Path(run_dir), run_dir)  # before the work, not after it
    unc = portfolio.scenario.uncertainty
    model = build_model(plan, portfolio)
    n = int(unc.draws if draws is None else draws)
    if n < 1:
        from gigawatt.errors import Problem, ScenarioError

        raise ScenarioError(Problem("--draws must be at least 1", path="--draws", value=n, expected="≥ 1",
                                    fix="pass --draws 10000, say"), title="bad option")
    if not unc.drivers and not unc.events and not quiet:
        console.print("[yellow]note:[/] the scenario has no uncertainty section: every draw equals the plan",
                      highlight=False)
    from gigawatt.risk.simulate import warm_up

    if quiet:
        warm_up(model)
    else:
        with console.status("loading the compiled Monte Carlo kernel (the first run after an install compiles "
                            "it: ~15 s)"):
            warm_up(model)
    with _progress(console, quiet) as bar:
        task = bar.add_task(f"simulating {n:,} draws", total=n)
        result = simulate(plan, portfolio, draws=n, seed=seed, chunk_size=chunk_size, workers=workers,
                          progress=lambda done: bar.update(task, completed=done), model=model)
    out = Path(out_dir) if out_dir else Path(run_dir)
    doc = result.to_dict()
    doc["run_dir"] = str(Path(run_dir))
    written = write_results(result, out, extra={"run_dir": str(Path(run_dir)), "elapsed_s": time.perf_counter() - t0},
                            run_dir=run_dir)
    if register:
        _register(out, portfolio, result, written)
    if not quiet:
        print_risk(doc, out, console, elapsed=time.perf_counter() - t0)
    return doc


def _register(out: Path, portfolio, result, written) -> None:
    """Record the simulation in the runs catalog (a catalog problem is logged, never fatal)."""
    from gigawatt.results import versions
    from gigawatt.runs import inputs_hash, register_quietly

    register_quietly(kind="simulate", path=Path(out).resolve(), scenario=portfolio.scenario.meta.name, variant=None,
                     inputs_hash=inputs_hash(portfolio.resolved.data if portfolio.resolved else {}), status="ok",
                     objective_usd=result.net_present_cost["mean"], timings=result.timings, versions=versions(),
                     files=written.to_json())


def print_risk(doc: dict, out: Path, console: Console, *, elapsed: float) -> None:
    t = Table(title=f"Monte Carlo: {doc['draws']:,} draws, seed {doc['seed']}")
    for col in ("period", "cash p5", "cash p50", "cash p95", "flow p50", "unmet p95", "stranded p50"):
        t.add_column(col, justify="right")
    c, cf = doc["cash_usd_percentiles"], doc["cash_flow_after_financing_usd_percentiles"]
    un, st = doc["unmet_demand_fraction_percentiles"], doc["stranded_capacity_fraction_percentiles"]
    for p in doc["periods"]:
        t.add_row(p, _usd(c["p5"][p]), _usd(c["p50"][p]), _usd(c["p95"][p]), _usd(cf["p50"][p]),
                  f"{un['p95'][p]:.1%}", f"{st['p50'][p]:.1%}")
    console.print(t)
    prob = doc["probability_cash_below_zero"]
    console.print("  P(cash < 0): " + ", ".join(f"{y} {v:.1%}" for y, v in prob.items()), highlight=False)
    g, pv = doc["funding_gap_usd"], doc["compute_spending_pv_usd"]
    console.print("  cash: cash position at the period's end · flow: cash flow after financing",
                  style="dim", highlight=False)
    console.print(f"  funding gap: mean {_usd(g['mean'])}, p95 {_usd(g['p95'])}, max {_usd(g['max'])}", highlight=False)
    console.print(f"  compute spending, present value: mean {_usd(pv['mean'])}, VaR95 {_usd(pv['var_95'])}, "
                  f"CVaR95 {_usd(pv['cvar_95'])}", highlight=False)
    console.print(f"    (plan {_usd(pv['deterministic'])}: no salvage credit, unlike solve's net present cost)",
                  highlight=False)
    rate = doc["timings_s"].get("draw_periods_per_s")
    console.print(f"  wrote {out}/risk.json, risk_paths.parquet · {elapsed:.2f} s"
                  + (f", {rate:,.3g} draw-periods/s" if rate else ""), highlight=False)


# --- sweep --------------------------------------------------------------------------------------------------


def run_sweep(path: Path, *, vary: list[str], sets: list[str], scenario: str | None, draws: int | None,
              seed: int | None, engine: str, workers: int, address: str | None, out_dir: Path,
              allow_unmet: bool, console: Console, err: Console, quiet: bool) -> int:
    from gigawatt.sweep.executors import make_executor
    from gigawatt.sweep.manifest import build
    from gigawatt.sweep.run import run

    t0 = time.perf_counter()
    manifest = build(path, vary=vary, scenario=scenario, sets=sets, draws=draws, seed=seed,
                     allow_unmet=allow_unmet or None)
    if not quiet:
        grid = " × ".join(f"{len(v)} {k}" for k, v in manifest.vary.items()) or "base"
        console.print(f"sweep: {len(manifest.tasks)} runs ({grid}"
                      f"{f' × {manifest.draws} draws' if manifest.draws else ''}) on {engine} with {workers} "
                      f"worker{'s' if workers != 1 else ''}", highlight=False)
    executor = make_executor(engine, workers=workers, address=address)
    try:
        with _progress(console, quiet) as bar:
            task = bar.add_task("solving", total=None)
            result = run(manifest, out_dir, executor=executor,
                         progress=lambda done, total: bar.update(task, completed=done, total=total))
    finally:
        executor.close()
    s = result.summary
    _register_sweep(out_dir, manifest, result, scenario)
    if not quiet:
        print_sweep(result, manifest, out_dir, console, elapsed=time.perf_counter() - t0)
    if len(result.failed):
        for _, r in result.failed.iterrows():
            params = {k: r[k] for k in manifest.vary if k in r}
            if "draw" in r and r["draw"] == r["draw"]:
                params["draw"] = int(r["draw"])
            err.print(f"[bold red]failed:[/] task {r['task_id']} {params}: {r['error']}", highlight=False,
                      soft_wrap=True)
        err.print(f"{len(result.failed)} of {len(s)} runs failed (after one retry); their rows are in "
                  f"{out_dir}/summary.csv with status=failed", highlight=False)
        return 2
    return 0


def _register_sweep(out_dir: Path, manifest, result, variant: str | None) -> None:
    import yaml

    from gigawatt.results import versions
    from gigawatt.runs import register_quietly

    s = result.summary
    status = "ok" if not len(result.failed) else f"{len(result.failed)} of {len(s)} failed"
    name = (yaml.safe_load(manifest.base_yaml) or {}).get("meta", {}).get("name")
    register_quietly(kind="sweep", path=Path(out_dir).resolve(), scenario=name, variant=variant,
                     inputs_hash=manifest.fingerprint(), status=status,
                     timings=dict(result.timings), versions=versions(),
                     files=result.written.to_json() if result.written else None)


# outputs a sweep table may show, in order of interest; it shows the net present cost and those that change
SWEEP_OUTPUTS = ("net_present_cost_usd", "funding_gap_usd", "min_cash_usd", "unmet_demand_fraction",
                 "compute_spending_pv_usd", "capex_chips_usd", "lease_usd", "contract_usd", "energy_usd")
SWEEP_TABLE_OUTPUTS = 4  # output columns beside the varied keys: the table stays readable at 80 columns


def short_keys(keys: list[str]) -> dict[str, str]:
    """Each dotted key's shortest unique tail: horizon.discount_rate -> discount_rate."""
    out = {}
    for k in keys:
        parts = k.split(".")
        for n in range(1, len(parts) + 1):
            tail = ".".join(parts[-n:])
            if sum(1 for other in keys if other == tail or other.endswith("." + tail)) == 1:
                out[k] = tail
                break
        else:
            out[k] = k
    return out


def changing_outputs(s, limit: int = SWEEP_TABLE_OUTPUTS) -> tuple[list[str], list[str]]:
    """(outputs to show, outputs that are the same in every ok row): the net present cost first, then the
    outputs that differ between rows, the last year's power and cash among them."""
    ok = s[s["status"] == "ok"] if "status" in s.columns else s
    last = lambda prefix: sorted(c for c in s.columns if c.startswith(prefix))[-1:]  # noqa: E731
    candidates = [c for c in (*SWEEP_OUTPUTS, *last("power_gw_"), *last("cash_usd_")) if c in s.columns]

    def varies(c) -> bool:
        import numpy as np

        values = ok[c].dropna()
        return len(values) > 1 and not np.allclose(values.to_numpy(dtype=float), float(values.iloc[0]),
                                                   rtol=1e-9, atol=1e-6)

    changing = [c for c in candidates if varies(c)]
    same = [c for c in candidates if c not in changing]
    first = "net_present_cost_usd"
    shown = ([first] if first in s.columns else []) + [c for c in changing if c != first]
    return shown[:limit], same


def _sweep_cell(c: str, v) -> str:
    if v is None or v != v:
        return "–"
    if c.endswith("_usd") or c.startswith("cash_usd_"):
        return _usd(v)
    if c == "unmet_demand_fraction":
        return f"{v:.1%}"
    if c.startswith("power_gw_"):
        return f"{v:.2f}"
    return str(v)


def _sweep_header(c: str) -> str:
    if c.startswith(("power_gw_", "cash_usd_")):
        what, year = c.rsplit("_", 1)
        return f"{'GW' if what == 'power_gw' else 'cash'} {year}"
    words = c.replace("_usd", "").split("_")
    return {"net_present_cost_usd": "net present\ncost", "compute_spending_pv_usd": "compute\nspending PV",
            "unmet_demand_fraction": "unmet"}.get(
        c, " ".join(words[:2]) + ("\n" + " ".join(words[2:]) if len(words) > 2 else ""))


def print_sweep(result, manifest, out_dir: Path, console: Console, *, elapsed: float) -> None:
    """The sweep as a table: the varied keys (short names), status, and the outputs that change."""
    s = result.summary
    keys = [k for k in manifest.vary if k in s.columns] + (["draw"] if "draw" in s.columns else [])
    names = short_keys(keys)
    shown, same = changing_outputs(s)
    from rich import box

    t = Table(title=f"sweep: {len(s)} runs, {int((s['status'] == 'ok').sum()) if len(s) else 0} ok",
              box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True)
    for c in keys:
        t.add_column(names[c], justify="right", min_width=min(len(names[c]), 24))
    t.add_column("status", justify="right")
    for c in shown:
        t.add_column(_sweep_header(c), justify="right", no_wrap=True)
    for _, r in s.head(20).iterrows():
        t.add_row(*[str(r.get(c)) for c in keys], str(r.get("status")), *[_sweep_cell(c, r.get(c)) for c in shown])
    console.print(t)
    if len(s) > 20:
        console.print(f"  (+{len(s) - 20} more rows in {out_dir}/summary.csv)", highlight=False)
    if len(s) > 1 and same:
        console.print("  the same in every run: " + ", ".join(_sweep_header(c).replace("\n", " ") for c in same),
                      style="dim",
                      highlight=False)
    console.print(f"  ran {result.ran}, resumed {result.skipped}, retried {result.retried} · wrote {out_dir}/"
                  f"manifest.json, tasks/, summary.parquet, summary.csv · {elapsed:.1f} s "
                  f"({result.ran / result.timings['run_s']:.2f} solves/s)" if result.ran else
                  f"  nothing to run: all {result.skipped} tasks were done · wrote {out_dir}/summary.csv",
                  highlight=False)


# --- registration -------------------------------------------------------------------------------------------


def register(app: typer.Typer) -> None:
    from gigawatt.commands.common import STATE, err, guarded, out

    @app.command()
    @guarded
    def simulate(run_dir: Path = typer.Argument(..., help="A run directory written by `gigawatt solve --out`.",
                                                show_default=False),
                 draws: Optional[int] = typer.Option(None, "--draws", "-n",
                                                     help="Number of draws (default: uncertainty.draws)."),
                 seed: Optional[int] = typer.Option(None, "--seed", help="Root seed (default: uncertainty.seed)."),
                 out_dir: Optional[Path] = typer.Option(None, "--out", "-o",
                                                        help="Where to write risk.json (default: the run directory)."),
                 chunk_size: Optional[int] = typer.Option(None, "--chunk-size",
                                                          help="Draws per chunk (whole blocks of 4,096); bounds memory. "
                                                               "Results do not depend on it."),
                 workers: int = typer.Option(1, "--workers", "-w", min=1,
                                             help="Threads evaluating chunks. Results do not depend on it."),
                 set_: Optional[list[str]] = typer.Option(None, "--set", help="Change the uncertainty: "
                                                          "uncertainty.key.path=value (repeatable)."),
                 register: bool = typer.Option(True, "--register/--no-register",
                                               help="Record the simulation in the runs catalog.")) -> None:
        """Monte Carlo over a solved plan: its commitments fixed, operations and cash re-evaluated per draw.
        Writes risk.json (percentiles, probabilities, VaR/CVaR) and risk_paths.parquet."""
        run_simulate(run_dir, draws=draws, seed=seed, out_dir=out_dir, chunk_size=chunk_size, workers=workers,
                     register=register, console=out, quiet=STATE["quiet"], sets=set_ or [])

    @app.command()
    @guarded
    def sweep(path: Path = typer.Argument(..., help="Scenario YAML file.", show_default=False),
              vary: Optional[list[str]] = typer.Option(None, "--vary",
                                                       help="key.path=v1,v2,... (repeatable; the grid is their product)."),
              set_: Optional[list[str]] = typer.Option(None, "--set", help="Fixed override for every run: key.path=value."),
              scenario: Optional[str] = typer.Option(None, "--scenario", "-s", help="Named scenario to apply first."),
              draws: Optional[int] = typer.Option(None, "--draws", "-n", min=1,
                                                  help="Re-optimise per Monte Carlo draw (sampled inputs), per grid point."),
              seed: Optional[int] = typer.Option(None, "--seed", help="Root seed of the draws (default: uncertainty.seed)."),
              engine: str = typer.Option("local", "--engine", help="local (process pool) or ray."),
              workers: int = typer.Option(1, "--workers", "-w", min=1, help="Parallel solves (one HiGHS thread each)."),
              address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (default: a local "
                                                                           "instance with --workers CPUs)."),
              allow_unmet: bool = typer.Option(False, "--allow-unmet", help="Serve what can be served in every run."),
              out_dir: Path = typer.Option(..., "--out", "-o", help="Sweep directory (resumed if it exists).")) -> None:
        """Many solves: a grid of --vary values and/or a re-optimisation per Monte Carlo draw, one row per task in
        DIR/tasks/*.parquet (a file per chunk of tasks); the summary (DuckDB) goes to DIR/summary.parquet and
        .csv. Exit 2 when a run failed (after one retry)."""
        if not vary and not draws:
            from gigawatt.errors import Problem, ScenarioError

            raise ScenarioError(Problem("nothing to sweep", path="--vary/--draws",
                                        expected="at least one --vary key.path=v1,v2 or --draws N",
                                        fix="add --vary, or --draws to re-optimise per Monte Carlo draw"),
                                title="bad options")
        code = run_sweep(path, vary=vary or [], sets=set_ or [], scenario=scenario, draws=draws, seed=seed,
                         engine=engine, workers=workers, address=address, out_dir=out_dir, allow_unmet=allow_unmet,
                         console=out, err=err, quiet=STATE["quiet"])
        if code:
            raise typer.Exit(code)


__all__ = ["register", "run_simulate", "run_sweep"]
