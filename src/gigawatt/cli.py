"""The `gigawatt` command (typer + rich). Exit codes: 0 ok, 1 bad input, 2 infeasible, 3 solver/internal."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
import time
from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console
from rich.table import Table

from gigawatt.errors import GigawattError

app = typer.Typer(help="Plan and stress-test the compute portfolio of an AI lab.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
out = Console()
err = Console(stderr=True)
STATE = {"debug": False, "quiet": False}


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="Show full tracebacks."),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors."),
          log_file: Optional[Path] = typer.Option(None, "--log-file", help="Also write the log here."),
          imports_outside: bool = typer.Option(False, "--allow-imports-outside",
                                               help="Let a scenario's imports: name files outside its folder.")) -> None:
    STATE["debug"], STATE["quiet"] = debug, quiet
    from gigawatt.scenario.limits import allow_imports_outside

    allow_imports_outside(imports_outside)
    level = logging.DEBUG if debug else logging.WARNING
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file))
    logging.basicConfig(level=level, handlers=handlers, format="%(levelname)s %(name)s: %(message)s", force=True)
    for noisy in ("linopy", "highspy", "numexpr"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.ERROR)


def guarded(fn: Callable) -> Callable:
    """Turn gigawatt errors into a clear message and an exit code; never a traceback unless --debug."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except GigawattError as exc:
            if STATE["debug"]:
                err.print_exception()
            label = {1: "error", 2: "infeasible", 3: "solver error"}.get(exc.exit_code, "error")
            err.print(f"[bold red]{label}:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[red]interrupted[/]; nothing was written half (outputs are renamed into place at the end)")
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug: say so, point at --debug
            if STATE["debug"]:
                err.print_exception()
            err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
                      "This is a bug in gigawatt. Run again with --debug for the traceback and report it.",
                      highlight=False, soft_wrap=True)
            raise typer.Exit(3) from None

    return wrapper


def say(*args, **kwargs) -> None:
    if not STATE["quiet"]:
        out.print(*args, **kwargs)


ScenarioArg = typer.Argument(..., help="Scenario YAML file.", show_default=False)
ScenarioOpt = typer.Option(None, "--scenario", "-s", help="Named scenario (a list of overrides) to apply.")
SetOpt = typer.Option(None, "--set", help="Override a value: key.path=value (repeatable).")


def load_portfolio(path: Path, scenario: str | None, sets: list[str] | None):
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate

    resolved = read(path, scenario=scenario, sets=sets or [])
    sc = validate(resolved)
    return Portfolio.from_scenario(sc, resolved), resolved


@app.command()
@guarded
def validate(path: Path = ScenarioArg, scenario: Optional[str] = ScenarioOpt, set_: Optional[list[str]] = SetOpt,
             strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors.")) -> None:
    """Check a scenario file: schema, units, references, periods. Exit 1 with every problem listed."""
    import warnings

    from gigawatt.errors import GigawattWarning

    with warnings.catch_warnings():
        if strict:
            warnings.simplefilter("error", GigawattWarning)
        p, resolved = load_portfolio(path, scenario, set_)
    sc = p.scenario
    say(f"[green]✓[/] {path} is valid" + (f" (scenario {scenario})" if scenario else ""))
    t = Table(show_header=False, box=None)
    t.add_row("horizon", f"{p.horizon.labels[0]} – {p.horizon.labels[-1]} ({p.horizon.n} {sc.horizon.step}s)")
    for label, items in (("providers", sc.providers), ("sites", sc.sites), ("contracts", sc.contracts),
                         ("workloads", sc.workloads), ("share targets", sc.policy.share_targets)):
        t.add_row(label, f"{len(items)}: {', '.join(list(items)[:8])}{' …' if len(items) > 8 else ''}")
    t.add_row("supply options", str(len(p.supply)))
    say(t)


@app.command()
@guarded
def schema(markdown: bool = typer.Option(False, "--markdown", help="Print the field-by-field docs instead.")) -> None:
    """Print the JSON Schema of the scenario format (for editors), or its documentation."""
    if markdown:
        from gigawatt.scenario.docs import markdown as md

        print(md(), end="")
        return
    from gigawatt.scenario.schema import json_schema

    print(json.dumps(json_schema(), indent=2))


@app.command()
@guarded
def catalog(accelerator: Optional[str] = typer.Option(None, "--accelerator", "-a", help="Show one accelerator."),
            fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
            sources: bool = typer.Option(False, "--sources", help="Show the source of every figure.")) -> None:
    """The built-in accelerator catalog, every figure with its source and date."""
    from gigawatt.commands.catalog import show_catalog

    show_catalog(accelerator=accelerator, fmt=fmt, sources=sources, console=out)


@app.command()
@guarded
def convert(quantity: str = typer.Argument(..., help='e.g. "10 GW", "$38B", "1 million chips".'),
            accelerator: str = typer.Option(..., "--accelerator", "-a", help="Catalog id, e.g. gb300."),
            to: str = typer.Option(..., "--to", help="chips, flops, power, capex, chip-hours or usd."),
            price: Optional[str] = typer.Option(None, "--price", help="USD per chip-hour for dollars → chip-hours "
                                                "(default: the catalog's committed, else on-demand, price)."),
            utilisation: Optional[float] = typer.Option(None, "--utilisation", help="Fraction of peak for flops "
                                                        "(default: none, i.e. peak)."),
            term: Optional[str] = typer.Option(None, "--term", help="Duration for chips ↔ chip-hours, e.g. "
                                               "'7 years' (with money: the chips the amount keeps running).")) -> None:
    """Convert between gigawatts, chips, FLOP/s, dollars and chip-hours for one accelerator."""
    from gigawatt.commands.convert import run_convert

    run_convert(quantity, accelerator=accelerator, to=to, price=price, utilisation=utilisation, term=term,
                console=out)


@app.command()
@guarded
def solve(path: Path = ScenarioArg, out_dir: Path = typer.Option(..., "--out", "-o", help="Output directory."),
          scenario: Optional[str] = ScenarioOpt, set_: Optional[list[str]] = SetOpt,
          allow_unmet: bool = typer.Option(False, "--allow-unmet", help="Serve what can be served; report the rest."),
          method: Optional[str] = typer.Option(None, "--method", help="HiGHS method: auto, simplex, ipm, pdlp."),
          save_lp: Optional[Path] = typer.Option(None, "--save-lp", help="Also write the model as an LP file."),
          verbose: bool = typer.Option(False, "--verbose", "-v", help="Show HiGHS's log."),
          register: bool = typer.Option(True, "--register/--no-register", help="Record the run in the runs catalog.")) -> None:
    """Find the least-cost plan and write DIR/summary.json, DIR/plan.nc and CSV tables."""
    from gigawatt.commands.solve import run_solve

    run_solve(path, out_dir=out_dir, scenario=scenario, sets=set_ or [], allow_unmet=allow_unmet, method=method,
              save_lp=save_lp, verbose=verbose, register=register, console=out, quiet=STATE["quiet"])


def _register_subapps() -> None:
    """Commands that live in their own modules: each exposes register(app) (or a typer sub-app)."""
    import importlib

    with contextlib.suppress(ImportError):
        from gigawatt.commands.runs import app as runs_app

        app.add_typer(runs_app, name="runs")
    for name in ("report", "risk"):
        try:
            module = importlib.import_module(f"gigawatt.commands.{name}")
        except ImportError as exc:
            if exc.name != f"gigawatt.commands.{name}":
                raise
            continue
        module.register(app)


_register_subapps()


GLOBAL_FLAGS = {"--debug": 0, "--quiet": 0, "-q": 0, "--log-file": 1, "--allow-imports-outside": 0}


def hoist_global_flags(argv: list[str]) -> list[str]:
    """Let the shared flags (--debug, --quiet, --log-file) stand after the subcommand too."""
    head, rest, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if name in GLOBAL_FLAGS:
            take = 0 if "=" in arg else GLOBAL_FLAGS[name]
            head.extend(argv[i:i + 1 + take])
            i += 1 + take
        else:
            rest.append(arg)
            i += 1
    return head + rest


def main() -> None:
    app(args=hoist_global_flags(sys.argv[1:]), prog_name="gigawatt")


__all__ = ["app", "main", "guarded", "say", "time"]
