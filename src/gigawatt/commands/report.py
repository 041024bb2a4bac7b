"""`gigawatt report DIR` (one self-contained HTML page) and `gigawatt compare DIR DIR ...`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table


def run_report(run_dir: Path, *, out: Path | None, console: Console, quiet: bool,
               published: Path | None = None) -> Path:
    from gigawatt.report import write_report

    t0 = time.perf_counter()
    w = write_report(run_dir, out, published=published)
    if not quiet:
        console.print(f"wrote {w.path} · {w.size_bytes / 1024:,.0f} KB, {len(w.charts)} charts · "
                      f"{time.perf_counter() - t0:.2f} s (opens offline in any browser)", highlight=False)
    return w.path


def compare_table(runs) -> Table:
    from gigawatt.report.page import compare_rows

    labels, cols = compare_rows(runs)
    t = Table(title=f"{len(runs)} runs side by side")
    t.add_column("", style="bold")
    for r in runs:
        t.add_column(r.label, justify="right", overflow="fold")
    for i, label in enumerate(labels):
        t.add_row(label, *[c[i] for c in cols])
    return t


def run_compare(run_dirs: list[Path], *, out: Path | None, console: Console, quiet: bool) -> Path:
    from gigawatt.errors import Problem, ScenarioError
    from gigawatt.report import write_compare

    if len(run_dirs) < 2:
        raise ScenarioError(Problem("compare needs at least two run directories", path="DIR",
                                    value=[str(d) for d in run_dirs], expected="two or more run directories",
                                    fix="gigawatt compare runs/a runs/b [-o compare.html]"), title="bad arguments")
    t0 = time.perf_counter()
    w, runs = write_compare(run_dirs, out)
    if not quiet:
        console.print(compare_table(runs))
        console.print(f"wrote {w.path} · {w.size_bytes / 1024:,.0f} KB, {len(w.charts)} overlaid charts · "
                      f"{time.perf_counter() - t0:.2f} s", highlight=False)
    return w.path


def register(app: typer.Typer) -> None:
    from gigawatt.commands.common import STATE, guarded, out

    @app.command()
    @guarded
    def report(run_dir: Path = typer.Argument(..., help="A run directory written by `gigawatt solve --out`.",
                                              show_default=False),
               output: Optional[Path] = typer.Option(None, "--output", "-o",
                                                     help="HTML file to write (default: DIR/report.html)."),
               published: Optional[Path] = typer.Option(
                   None, "--published", metavar="FILE",
                   help="Published figures to set beside the run's (e.g. scenarios/openai/published.yaml): "
                        "on the headline cards, the cash-flow chart and a table section.")) -> None:
        """One self-contained HTML report of a run (plotly.js embedded; opens without a network): capacity,
        power, cost, cash (and the Monte Carlo fan when `gigawatt simulate` ran), shares, marginal cost,
        binding constraints and the inputs with their sources."""
        run_report(run_dir, out=output, console=out, quiet=STATE["quiet"], published=published)

    @app.command()
    @guarded
    def compare(run_dirs: list[Path] = typer.Argument(..., help="Two or more run directories.", show_default=False),
                output: Optional[Path] = typer.Option(None, "--output", "-o",
                                                      help="HTML file to write (default: ./compare.html).")) -> None:
        """The headline figures of several runs side by side (terminal table) and overlaid charts (HTML)."""
        run_compare(run_dirs, out=output, console=out, quiet=STATE["quiet"])


__all__ = ["register", "run_report", "run_compare", "compare_table"]
