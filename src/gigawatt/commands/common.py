"""What the subcommands share with cli.py: the consoles, the global flags' state, the error guard and
reading a scenario into a Portfolio. cli.py and commands/* both import it; it imports neither."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

import typer
from rich.console import Console

from gigawatt.errors import GigawattError

out = Console()
err = Console(stderr=True)
STATE = {"debug": False, "quiet": False}


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


def load_portfolio(path: Path, scenario: str | None, sets: list[str] | None):
    """(Portfolio, its resolved YAML) of a scenario file: :meth:`gigawatt.portfolio.Portfolio.from_file`."""
    from gigawatt.portfolio import Portfolio

    portfolio = Portfolio.from_file(path, scenario=scenario, sets=sets)
    return portfolio, portfolio.resolved


def option_amount(option: str, text: str, unit: str, example: str) -> float:
    """A command-line option's quantity in ``unit`` (canonical), or a clear error naming the option, its
    value, what was expected and an example (exit 1), never a traceback."""
    from gigawatt.errors import Problem, ScenarioError
    from gigawatt.units import UnitError, parse

    try:
        return parse(text, unit)
    except UnitError as e:
        raise ScenarioError(Problem("option out of range", path=option, value=text, expected=str(e),
                                    fix=f"e.g. {option} '{example}'"), title="bad option") from None
