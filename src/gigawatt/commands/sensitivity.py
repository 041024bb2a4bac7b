"""`gigawatt sensitivity FILE`: which input moves net present cost, funding need and the first free-cash-flow
positive year most (one-at-a-time tornado; Sobol indices with --sobol N). gigawatt.sensitivity computes."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from gigawatt.fmt import usd


def _inputs(path: Path, scenario: str | None, sets: list[str], vary: list[str], only: list[str]):
    from gigawatt.commands.common import load_portfolio
    from gigawatt.errors import Problem, ScenarioError
    from gigawatt.sensitivity import from_uncertainty, from_vary

    portfolio, resolved = load_portfolio(path, scenario, sets)
    inputs = from_uncertainty(resolved.data, portfolio.scenario, only or None) if (only or not vary) else []
    inputs += [from_vary(v) for v in vary]
    if not inputs:
        raise ScenarioError(Problem("nothing to vary", path=str(path), value="no uncertainty drivers or events",
                                    expected="an uncertainty section, or --vary key=low,high",
                                    fix="add --vary, e.g. --vary finance.starting_cash='10 billion USD,30 billion USD'"),
                            title="nothing to vary")
    return portfolio, resolved, inputs


def run_sensitivity(path: Path, *, out_dir: Path, scenario: str | None, sets: list[str], vary: list[str],
                    only: list[str], sobol_n: int, seed: int, engine: str, workers: int, allow_unmet: bool,
                    console: Console, quiet: bool) -> dict:
    from gigawatt.rundir import add_files, prepare_output
    from gigawatt.sensitivity import evaluate, oat_values, sobol_indices, sobol_values, tornado
    from gigawatt.sweep.executors import make_executor

    t0 = time.perf_counter()
    prepare_output(Path(out_dir), kind="sensitivity", option="--out")  # before the work, not after it
    portfolio, resolved, inputs = _inputs(path, scenario, sets, vary, only)
    solve = {"allow_unmet": allow_unmet or None}
    executor = make_executor(engine, workers=workers)
    files, result = {}, {}
    try:
        values = oat_values(inputs)
        with console.status(f"one-at-a-time: {len(values)} solves") if not quiet else contextlib.nullcontext():
            oat_out = evaluate(resolved.data, inputs, values, executor=executor, solve=solve)
        t = tornado(inputs, values, oat_out)
        files["sensitivity_oat.csv"] = t
        result["oat"] = t
        if sobol_n:
            u, sv = sobol_values(inputs, sobol_n, seed)
            with console.status(f"Sobol: {len(sv)} solves (N = {sobol_n})") if not quiet else contextlib.nullcontext():
                s_out = evaluate(resolved.data, inputs, sv, executor=executor, solve=solve)
            end = int(portfolio.horizon.table["year"].max())
            s = sobol_indices(inputs, s_out, sobol_n, seed=seed, horizon_end=end)
            files["sensitivity_sobol.csv"] = s
            result["sobol"] = s
    finally:
        executor.close()
    add_files(Path(out_dir), kind="sensitivity", option="--out",
              writers={n: (lambda f: lambda tmp: f.to_csv(tmp, index=False))(f) for n, f in files.items()})
    if not quiet:
        print_sensitivity(result, console, out_dir=Path(out_dir), seconds=time.perf_counter() - t0)
    return result


def _fmt(v: float, unit: str) -> str:
    if v != v:
        return "never" if unit == "year" else "–"
    return usd(v) if unit == "USD" else f"{v:.0f}"


def print_sensitivity(result: dict, console: Console, *, out_dir: Path, seconds: float) -> None:
    t = result["oat"]
    for out, part in t.groupby("output", sort=False):
        unit = part["unit"].iloc[0]
        tab = Table(title=f"Tornado: {out} (base {_fmt(part['base_value'].iloc[0], unit)})", title_justify="left")
        for col in ("input", "low", "at low", "high", "at high", "swing"):
            tab.add_column(col, justify="left" if col in ("input", "low", "high") else "right")
        for _, r in part.iterrows():
            tab.add_row(r["input"], r["low"], _fmt(r["low_value"], unit), r["high"], _fmt(r["high_value"], unit),
                        _fmt(r["swing"], unit) if unit == "USD" else f"{r['swing']:.0f} y" if r["swing"] == r["swing"]
                        else "–")
        console.print(tab)
    if "sobol" in result:
        s = result["sobol"]
        for out, part in s.groupby("output", sort=False):
            tab = Table(title=f"Sobol indices: {out} ({int(part['samples'].iloc[0]):,} solves, N = "
                              f"{int(part['N'].iloc[0])}, {part['conf_level'].iloc[0]:.0%} intervals)",
                        title_justify="left")
            for col in ("input", "first order", "total"):
                tab.add_column(col, justify="left" if col == "input" else "right")
            for _, r in part.iterrows():
                tab.add_row(r["input"], f"{r['S1']:.2f} ± {r['S1_conf']:.2f}", f"{r['ST']:.2f} ± {r['ST_conf']:.2f}")
            console.print(tab)
    console.print(f"  wrote {out_dir}/sensitivity_oat.csv" + (" and sensitivity_sobol.csv" if "sobol" in result else "")
                  + f" · {seconds:.0f} s", highlight=False)


def register(app: typer.Typer) -> None:
    from gigawatt.commands.common import STATE, guarded, out

    @app.command()
    @guarded
    def sensitivity(path: Path = typer.Argument(..., help="Scenario YAML file.", show_default=False),
                    out_dir: Path = typer.Option(..., "--out", "-o", help="Where the CSVs go: a new folder or a "
                                                 "run directory (its report then draws the tornado)."),
                    scenario: Optional[str] = typer.Option(None, "--scenario", "-s", help="Named scenario."),
                    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a value (repeatable)."),
                    vary: Optional[list[str]] = typer.Option(None, "--vary", help="key.path=low,high: vary this input "
                                                             "too (repeatable; without --only, the uncertainty "
                                                             "section is then left out)."),
                    only: Optional[list[str]] = typer.Option(None, "--only", help="Only these drivers/events of the "
                                                             "uncertainty section (repeatable)."),
                    sobol_n: int = typer.Option(0, "--sobol", metavar="N", help="Also Sobol indices from N × (k + 2) "
                                                "solves (k inputs; N a power of 2, e.g. 64). 0: tornado only."),
                    seed: int = typer.Option(0, "--seed", help="Seed of the Sobol design and its bootstrap."),
                    engine: str = typer.Option("local", "--engine", help="local (process pool), ray or inline."),
                    workers: int = typer.Option(1, "--workers", "-w", help="Parallel solves."),
                    allow_unmet: bool = typer.Option(False, "--allow-unmet", help="Serve what can be served.")) -> None:
        """Rank the inputs by how much they move net present cost, funding need and the first year free cash
        flow is positive: a tornado (each input at its low and high, the others as written) and, with --sobol
        N, Sobol indices with confidence intervals. Ranges: the uncertainty section's drivers (5th to 95th
        percentile) and events (off / on), or --vary key=low,high."""
        run_sensitivity(path, out_dir=out_dir, scenario=scenario, sets=set_ or [], vary=vary or [],
                        only=only or [], sobol_n=sobol_n, seed=seed, engine=engine, workers=workers,
                        allow_unmet=allow_unmet, console=out, quiet=STATE["quiet"])


__all__ = ["register", "run_sensitivity", "print_sensitivity"]
