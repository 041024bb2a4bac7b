"""`gigawatt runs list|show|rm`: the runs catalog (every solve, simulate and sweep, in DuckDB)."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.table import Table

from gigawatt.fmt import usd as _usd

app = typer.Typer(help="The runs catalog: every solve, simulate and sweep registered in a DuckDB file "
                       "($GIGAWATT_RUNS_DB, else runs.duckdb in your data directory).", no_args_is_help=True)


@app.command("list")
def list_runs(kind: Optional[str] = typer.Option(None, "--kind", help="solve, simulate or sweep."),
              scenario: Optional[str] = typer.Option(None, "--scenario", help="Only runs of this scenario name."),
              as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Every registered run, newest first; a run whose directory was deleted is marked missing."""
    from gigawatt.commands.common import guarded

    guarded(_list)(kind, scenario, as_json)


def _list(kind, scenario, as_json) -> None:
    from gigawatt.commands.common import out
    from gigawatt.runs import KINDS, RunsCatalog

    if kind is not None and kind not in KINDS:
        from gigawatt.errors import Problem, ScenarioError, did_you_mean

        raise ScenarioError(Problem("unknown run kind", path="--kind", value=kind, expected=", ".join(KINDS),
                                    fix="pass one of them." + did_you_mean(kind, KINDS)), title="bad option")
    cat = RunsCatalog()
    runs = cat.list(kind=kind, scenario=scenario)
    if as_json:
        print(json.dumps(runs, indent=1, default=str))
        return
    t = Table(title=f"{len(runs)} run{'s' if len(runs) != 1 else ''} in {cat.db_path}")
    for col in ("id", "kind", "scenario", "variant", "status", "objective", "created", "path"):
        t.add_column(col, overflow="fold")
    for r in runs:
        path = r["path"] if r["exists"] else f"[red]missing:[/] {r['path']}"
        t.add_row(r["id"], r["kind"], r["scenario"] or "", r["variant"] or "", r["status"] or "",
                  _usd(r["objective_usd"]), r["created_at"][:19], path)
    out.print(t)
    missing = [r["id"] for r in runs if not r["exists"]]
    if missing:
        out.print(f"{len(missing)} run{'s' if len(missing) != 1 else ''} missing their files: {', '.join(missing)} "
                  "(`gigawatt runs rm ID` forgets one)", highlight=False, soft_wrap=True)


@app.command("show")
def show(run_id: str = typer.Argument(..., help="A run id (a unique prefix is enough).")) -> None:
    """One run: its record, timings, versions, and whether its files are still there."""
    from gigawatt.commands.common import guarded

    guarded(_show)(run_id)


def _show(run_id: str) -> None:
    from pathlib import Path

    from gigawatt.commands.common import out
    from gigawatt.runs import RunsCatalog

    rec = RunsCatalog().get(run_id)
    t = Table(show_header=False, box=None)
    for key in ("id", "kind", "scenario", "variant", "status", "inputs_hash", "created_at", "path"):
        t.add_row(key, str(rec[key] if rec[key] is not None else "–"))
    t.add_row("objective", _usd(rec["objective_usd"]))
    t.add_row("files", "present: " + ", ".join(sorted(p.name for p in Path(rec["path"]).iterdir()))
              if rec["exists"] else "[red]missing[/]: the directory was deleted or moved "
                                    f"(`gigawatt runs rm {rec['id']}` forgets it)")
    for key, value in rec["timings"].items():
        if value is not None:
            t.add_row(f"timing {key}", f"{value:.3f} s" if isinstance(value, (int, float)) else str(value))
    t.add_row("versions", ", ".join(f"{k} {v}" for k, v in rec["versions"].items()))
    out.print(t)


@app.command("rm")
def rm(run_id: str = typer.Argument(..., help="A run id (a unique prefix is enough)."),
       delete_files: bool = typer.Option(False, "--delete-files", help="Also delete the files this run wrote "
                                         "(only those: a simulation's risk files, not the run they sit in).")) -> None:
    """Forget a run (its files stay unless --delete-files)."""
    from gigawatt.commands.common import guarded

    guarded(_rm)(run_id, delete_files)


def _rm(run_id: str, delete_files: bool) -> None:
    from gigawatt.commands.common import say
    from gigawatt.runs import RunsCatalog

    rec = RunsCatalog().remove(run_id, delete_files=delete_files)
    gone = f"; deleted {', '.join(rec['deleted'])} in {rec['deleted_in']}" if rec["deleted"] else ""
    say(f"removed run {rec['id']} ({rec['kind']} of {rec['scenario']}){gone}", highlight=False, soft_wrap=True)
    if rec["kept"]:
        say(f"kept {', '.join(rec['kept'])}: a later command rewrote them since this run", highlight=False,
            soft_wrap=True)
    if delete_files and not rec["exists"]:
        say("its files were already gone", highlight=False)
