"""`gigawatt exposure RUN`: what the lab pays, owes and receives, per counterparty (gigawatt.exposure)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gigawatt.fmt import usd


def exposure_tables(run_dir: Path) -> dict:
    """The exposure tables of the run in ``run_dir`` (its plan and the portfolio rebuilt from its scenario)."""
    from gigawatt.exposure import tables
    from gigawatt.risk.io import load_run

    plan, portfolio = load_run(run_dir)
    return tables(plan, portfolio)


def write_if_missing(run_dir: Path, t: dict) -> list[str]:
    """Runs solved before exposure existed lack tables/exposure.csv: add the tables to the run directory
    (atomically, listed in its marker). Returns the names written (none when solve wrote them)."""
    from gigawatt.rundir import add_files

    if (Path(run_dir) / "tables" / "exposure.csv").is_file():
        return []
    writers = {f"{stem}.csv": (lambda frame: lambda tmp: frame.to_csv(tmp))(frame) for stem, frame in t.items()}
    add_files(Path(run_dir), kind="exposure", writers=writers, option="RUN")
    return sorted(writers)


def print_exposure(summary, yearly, console: Console, *, years: bool) -> None:
    t = Table(title="Exposure by counterparty (horizon totals; commitments over whole terms)", title_justify="left")
    for col in ("counterparty", "role", "firm commit.", "share", "options", "paid", "take-or-pay", "inflow", "net",
                "via prov.", "peak"):
        t.add_column(col, justify="left" if col in ("counterparty", "role") else "right")
    for name, r in summary.iterrows():
        t.add_row(str(name), r["role"], usd(r["commitments_firm_usd"]), f"{r['share_of_firm_commitments']:.0%}",
                  usd(r["commitments_option_usd"]), usd(r["paid_usd"]), usd(r["firm_owed_usd"]), usd(r["inflow_usd"]),
                  usd(r["net_flow_usd"]), usd(r["via_providers_usd"]) if r["via_providers_usd"] else "–",
                  "–" if r["peak_year"] is None or r["peak_year"] != r["peak_year"] else str(int(r["peak_year"])))
    console.print(t)
    for name, r in summary[summary["warrants"] != ""].iterrows():
        console.print(f"  warrants from {name} (terms as stated, not valued): {r['warrants']}", highlight=False)
    if years:
        paid = yearly["paid_usd"].unstack("year").fillna(0.0)
        y = Table(title="Paid per year (USD)", title_justify="left")
        y.add_column("counterparty")
        for c in paid.columns:
            y.add_column(str(c), justify="right")
        for name, row in paid.loc[paid.sum(axis=1) > 0].iterrows():
            y.add_row(str(name), *[usd(v) for v in row])
        console.print(y)


def register(app: typer.Typer) -> None:
    from gigawatt.commands.common import STATE, guarded, out

    @app.command()
    @guarded
    def exposure(run_dir: Path = typer.Argument(..., help="A run directory written by `gigawatt solve --out`.",
                                                show_default=False),
                 years: bool = typer.Option(False, "--years", help="Also print the payments per year.")) -> None:
        """Who is exposed to the lab: per counterparty (provider, vendor, joint venture, utility, investor)
        what the lab commits, pays (firm take-or-pay apart), receives back (vendor equity, funding) and the
        net flow. Tables: DIR/tables/exposure.csv and exposure_by_year.csv (added to older runs)."""
        t = exposure_tables(run_dir)
        written = write_if_missing(run_dir, t)
        if not STATE["quiet"]:
            print_exposure(t["exposure"], t["exposure_by_year"], out, years=years)
            where = ", ".join(str(Path(run_dir) / n) for n in written) or str(Path(run_dir) / "tables" / "exposure.csv")
            out.print(f"  tables: {where}", highlight=False)


__all__ = ["register", "exposure_tables", "print_exposure", "write_if_missing"]
