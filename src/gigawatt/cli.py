"""The `gigawatt` command (typer + rich). Exit codes: 0 ok, 1 bad input, 2 infeasible, 3 solver/internal,
4 usage error, 130 interrupted (gigawatt.commands.exitcodes)."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from gigawatt.commands.common import STATE, err, guarded, load_portfolio, out, say
from gigawatt.commands.exitcodes import GigawattGroup

app = typer.Typer(help="Plan and stress-test the compute portfolio of an AI lab.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False, cls=GigawattGroup)


def _print_version(value: bool) -> None:
    if value:
        from gigawatt.results import versions

        v = versions()
        print(f"gigawatt {v.pop('gigawatt')} (" + ", ".join(f"{k} {x}" for k, x in v.items()) + ")")
        raise typer.Exit(0)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print gigawatt's version and those of its solver stack, then exit."),
          debug: bool = typer.Option(False, "--debug", help="Show full tracebacks."),
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


ScenarioArg = typer.Argument(..., help="Scenario YAML file.", show_default=False)
ScenarioOpt = typer.Option(None, "--scenario", "-s", help="Named scenario (a list of overrides) to apply.")
SetOpt = typer.Option(None, "--set", help="Override a value: key.path=value (repeatable).")


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
          register: bool = typer.Option(True, "--register/--no-register", help="Record the run in the runs catalog."),
          overwrite: bool = typer.Option(False, "--overwrite", help="Replace the gigawatt run already in DIR (it is "
                                         "kept in DIR/previous/). A folder gigawatt did not write is never replaced.")
          ) -> None:
    """Find the least-cost plan and write DIR/summary.json, DIR/plan.nc and CSV tables."""
    from gigawatt.commands.solve import run_solve

    run_solve(path, out_dir=out_dir, scenario=scenario, sets=set_ or [], allow_unmet=allow_unmet, method=method,
              save_lp=save_lp, verbose=verbose, register=register, console=out, quiet=STATE["quiet"],
              overwrite=overwrite)


def _register_subapps() -> None:
    """Commands that live in their own modules: each exposes register(app) (or a typer sub-app)."""
    import importlib

    with contextlib.suppress(ImportError):
        from gigawatt.commands.runs import app as runs_app

        app.add_typer(runs_app, name="runs")
    for name in ("report", "risk", "hedge", "exposure", "sensitivity"):
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
    """The `gigawatt` console script: usage errors exit 4, a Ctrl-C at any point exits 130 with a message."""
    from gigawatt.commands.exitcodes import run

    run(app, hoist_global_flags(sys.argv[1:]))


__all__ = ["app", "main", "guarded", "say", "out", "err", "STATE", "load_portfolio", "time"]
