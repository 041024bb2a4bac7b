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
    out.print(runs_table(runs, cat.db_path, width=out.width))
    missing = [r["id"] for r in runs if not r["exists"]]
    if missing:
        out.print(f"{len(missing)} run{'s' if len(missing) != 1 else ''} missing their files: {', '.join(missing)} "
                  "(`gigawatt runs rm ID` forgets one)", highlight=False, soft_wrap=True)


def _short_path(path: str) -> str:
    """A run's path as short as it reads unambiguously: relative to the working folder, or with ~."""
    from pathlib import Path

    p = Path(path)
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        try:
            return prefix + str(p.relative_to(base))
        except ValueError:
            continue
    return path


def runs_table(runs: list[dict], db_path, *, width: int) -> Table:
    """The catalog as a table that reads at 80 columns: the id whole (it begins with the creation time; `runs
    show` and `rm` take it), kind, status, objective, and the scenario (with its variant and a `+N set` note)
    above its shortened path in one cell; from 120 columns on, path, creation time and the --set values get
    columns of their own."""
    from rich import box

    wide = width >= 120
    t = Table(title=f"{len(runs)} run{'s' if len(runs) != 1 else ''} in {_short_path(str(db_path))}",
              box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    t.add_column("id", no_wrap=True)
    t.add_column("kind", no_wrap=True)
    t.add_column("status", no_wrap=True)
    t.add_column("objective", justify="right", no_wrap=True)
    t.add_column("scenario" if wide else "scenario · path", overflow="fold", ratio=1)
    if wide:
        t.add_column("created", no_wrap=True)
        t.add_column("--set", overflow="fold", ratio=1)
        t.add_column("path", overflow="fold", ratio=2)
    for r in runs:
        name = (r["scenario"] or "") + (f" / {r['variant']}" if r.get("variant") else "")
        sets = r.get("sets") or []
        path = _short_path(r["path"]) if r["exists"] else f"[red]missing:[/] {_short_path(r['path'])}"
        row = [r["id"], r["kind"], r["status"] or "", _usd(r["objective_usd"], style="compact")]
        if wide:
            row += [name, r["created_at"][:19], ", ".join(sets), path]
        else:
            row.append(name + (f" +{len(sets)} --set" if sets else "") + f"\n[dim]{path}[/]")
        t.add_row(*row)
    return t


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
    t.add_row("--set", ", ".join(rec.get("sets") or []) or "–")
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
