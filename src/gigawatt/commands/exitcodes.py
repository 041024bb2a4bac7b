"""Exit codes of the `gigawatt` command, for what the commands themselves do not handle.

0 ok, 1 bad input, 2 infeasible or not optimal, 3 solver or internal error, 4 usage error (an unknown
flag, a missing option, an option value click rejects), 130 interrupted (Ctrl-C), always with a message.
"""

from __future__ import annotations

import contextlib
import sys

import click
import typer
from typer.core import TyperGroup

USAGE = 4
INTERRUPTED = 130
INTERRUPT_MESSAGE = "interrupted; nothing was written half (outputs are renamed into place at the end)"

_reported = {"interrupt": False}


def _types(name: str, *extra: type) -> tuple[type, ...]:
    """click's exception ``name`` and, where typer vendors its own click (typer._click), that one too."""
    found = [getattr(click.exceptions, name), *extra]
    with contextlib.suppress(ImportError, AttributeError):
        from typer._click import exceptions as vendored

        found.append(getattr(vendored, name))
    return tuple(found)


_USAGE_ERRORS = _types("UsageError")
_EXITS = _types("Exit", typer.Exit)


def report_interrupt() -> None:
    """Say once that the command was interrupted."""
    if not _reported["interrupt"]:
        _reported["interrupt"] = True
        from rich.console import Console

        Console(stderr=True).print(f"[red]interrupted[/]{INTERRUPT_MESSAGE[len('interrupted'):]}", highlight=False)


@contextlib.contextmanager
def _usage_exit():
    try:
        yield
    except _USAGE_ERRORS as exc:  # click's own code, 2, is the one for "infeasible" here
        exc.exit_code = USAGE
        raise


class GigawattGroup(TyperGroup):
    """The top-level command group: usage errors exit 4; a Ctrl-C outside a command's own handling exits
    130 with a message."""

    def make_context(self, *args, **kwargs):
        with _usage_exit():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        try:
            with _usage_exit():
                return super().invoke(ctx)
        except _EXITS as exc:
            if exc.exit_code == INTERRUPTED:  # the command reported it (cli.guarded)
                _reported["interrupt"] = True
            raise
        except KeyboardInterrupt:
            report_interrupt()
            raise typer.Exit(INTERRUPTED) from None


def run(app, args: list[str]) -> None:
    """Run the typer app as the `gigawatt` command; never leave a Ctrl-C without its message and code."""
    _reported["interrupt"] = False
    try:
        app(args=args, prog_name="gigawatt")
    except SystemExit as exc:
        if exc.code == INTERRUPTED:
            report_interrupt()
        raise
    except KeyboardInterrupt:
        report_interrupt()
        sys.exit(INTERRUPTED)


__all__ = ["GigawattGroup", "run", "report_interrupt", "USAGE", "INTERRUPTED"]
