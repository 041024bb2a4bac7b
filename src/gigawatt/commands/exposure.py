"""`gigawatt exposure RUN`: what the lab pays, owes and receives, per counterparty (gigawatt.exposure)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from gigawatt.fmt import usd


def exposure_tables(run_dir: Path, loaded: tuple | None = None) -> dict:
    """The exposure tables of the run in ``run_dir`` (its plan and the portfolio rebuilt from its scenario;
    ``loaded``: that pair, if the caller has read it already)."""
    from gigawatt.exposure import tables
    from gigawatt.risk.io import load_run

    plan, portfolio = loaded or load_run(run_dir)
    return tables(plan, portfolio)


def write_if_missing(run_dir: Path, t: dict) -> list[str]:
    """Runs solved before exposure existed lack tables/exposure.csv: add the tables at the run directory's top
    (atomically, listed in its marker). Returns the names written (none when solve wrote them)."""
    from gigawatt.rundir import add_files

    if any((Path(run_dir) / where).is_file() for where in ("tables/exposure.csv", "exposure.csv")):
        return []  # solve wrote them, or an earlier `exposure` added them at the run's top
    writers = {f"{stem}.csv": (lambda frame: lambda tmp: frame.to_csv(tmp))(frame) for stem, frame in t.items()}
    add_files(Path(run_dir), kind="exposure", writers=writers, option="RUN")
    return sorted(writers)


def add_unpaid(run_dir: Path, summary, yearly) -> None:
    """exposure_unpaid.csv and exposure_unpaid_by_year.csv into the run directory (atomically, in its marker)."""
    from gigawatt.rundir import add_files

    add_files(Path(run_dir), kind="exposure", option="RUN",
              writers={"exposure_unpaid.csv": lambda tmp: summary.to_csv(tmp),
                       "exposure_unpaid_by_year.csv": lambda tmp: yearly.to_csv(tmp)})


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


def unpaid_under_uncertainty(run_dir: Path, *, draws: int | None, seed: int | None, floor: float | None,
                             can_raise: float, alpha: float = 0.95, policy: str | None = None,
                             order: str = "cheapest", loaded: tuple | None = None):
    """Monte Carlo of the run's plan (risk: the kernel's per-draw cash, chunk by chunk) → who is left unpaid
    (gigawatt.exposure.UnpaidStatistics). ``floor`` defaults to the scenario's policy.cash_floor, else 0.
    With a ``policy`` (defer, terminate, defer-then-terminate) also the renegotiation policy's table
    (gigawatt.renegotiation), else None. ``loaded``: the run's (plan, portfolio), if read already."""
    from gigawatt.exposure import UnpaidStatistics, scheduled_payments
    from gigawatt.risk.io import load_run
    from gigawatt.risk.schedule import chunk_draws, chunk_starts
    from gigawatt.risk.simulate import build_model, run_chunk, warm_up

    plan, portfolio = loaded or load_run(run_dir)
    unc = portfolio.scenario.uncertainty
    n = int(unc.draws if draws is None else draws)
    seed = int(unc.seed if seed is None else seed)
    if floor is None:
        floor = float(portfolio.scenario.policy.cash_floor or 0.0)
    due = scheduled_payments(plan, portfolio)
    stats = [UnpaidStatistics(due, floor=floor, can_raise=can_raise, alpha=alpha)]
    if policy is not None:
        stats.append(deferral_statistics(plan, portfolio, due, floor=floor, can_raise=can_raise, order=order,
                                         alpha=alpha, run_dir=run_dir, policy=policy))
    model = build_model(plan, portfolio)
    warm_up(model)
    chunk = chunk_draws(model.n_periods, None)
    for start in chunk_starts(n, chunk):
        r = run_chunk(model, seed, start, min(chunk, n - start))
        for s in stats:
            s.consume(r.cash)  # the chunk's arrays are reused by the next chunk: consume first
    summary, yearly = stats[0].result()
    return summary, yearly, (stats[1].result() if len(stats) > 1 else None)


def deferral_statistics(plan, portfolio, due, *, floor, can_raise, order, alpha, run_dir, policy="defer"):
    """The renegotiation policy's accumulator; a scenario without the terms the policy uses is a clear error."""
    from gigawatt.errors import Problem, ScenarioError
    from gigawatt.renegotiation import DeferralStatistics, contract_terms

    terms = contract_terms(plan, portfolio)
    need = {"defer": "deferral", "terminate": "termination"}.get(policy, "deferral or termination")
    has = {"deferral": bool((terms.max_share > 0).any()), "termination": bool(terms.terminable.any())}
    if not any(has[k] for k in has if k in need):
        raise ScenarioError(Problem(
            what=f"--policy {policy}: no contract of the run's scenario has {need} terms",
            path=str(run_dir), value="no contracts.<name>.renegotiation." + need.split(" ")[0],
            expected=f"at least one capacity contract with renegotiation.{need.split(' ')[0]}",
            fix="add renegotiation terms (docs/scenario-format.md) or solve a scenario variant that has them"))
    return DeferralStatistics(due, terms, floor=floor, can_raise=can_raise, order=order, alpha=alpha, policy=policy)


def add_deferral(run_dir: Path, table) -> None:
    """exposure_deferral.csv into the run directory (atomically, in its marker)."""
    from gigawatt.rundir import add_files

    add_files(Path(run_dir), kind="exposure", option="RUN",
              writers={"exposure_deferral.csv": lambda tmp: table.to_csv(tmp)})


def print_deferral(table, console: Console) -> None:
    cvar = next(c for c in table.columns if c.startswith("cvar") and c.endswith("deferred_usd"))
    r0 = table.iloc[0]
    policy = r0.get("policy", "defer")
    defers, ends = policy != "terminate", "expected_absorbed_termination_usd" in table
    t = Table(title=f"Renegotiation policy '{policy}' (order {r0['order']}; floor "
                    f"{usd(r0['floor_usd'])}, {int(r0['draws']):,} draws): who absorbs the funding gap",
              title_justify="left")
    cols = ["counterparty"]
    cols += ["deferred (exp.)", f"CVaR {cvar[4:6]}%", "share of gap", "penalty (exp.)"] if defers else []
    cols += ["P(terminated)", "fee (exp.)", "absorbed by termination (exp.)"] if ends else []
    for col in cols + ["still unpaid (exp.)"]:
        t.add_column(col, justify="left" if col == "counterparty" else "right")
    for name, r in table.iterrows():
        row = [str(name)]
        if defers:
            row += [usd(r["expected_deferred_usd"]), usd(r[cvar]), f"{r['share_of_expected_gap']:.1%}",
                    usd(r["expected_penalty_usd"])]
        if ends:
            row += [f"{r['probability_terminated']:.1%}", usd(r["expected_fee_usd"]),
                    usd(r["expected_absorbed_termination_usd"])]
        t.add_row(*row, usd(r["expected_unpaid_usd"]))
    console.print(t)


def print_unpaid(summary, console: Console) -> None:
    cvar = next(c for c in summary.columns if c.startswith("cvar"))
    r0 = summary.iloc[0]
    t = Table(title=f"Left unpaid if cash may not fall below {usd(r0['floor_usd'])} with {usd(r0['can_raise_usd'])} "
                    f"more raisable ({int(r0['draws']):,} draws)", title_justify="left")
    for col in ("counterparty", "P(unpaid)", "expected", f"CVaR {cvar[4:6]}%", "peak year"):
        t.add_column(col, justify="left" if col == "counterparty" else "right")
    for name, r in summary.iterrows():
        t.add_row(str(name), f"{r['probability_unpaid']:.1%}", usd(r["expected_unpaid_usd"]), usd(r[cvar]),
                  "–" if r["peak_year"] is None or r["peak_year"] != r["peak_year"] else str(int(r["peak_year"])))
    console.print(t)


def _check_policy(policy: str | None, order: str, simulating: bool) -> None:
    from gigawatt.errors import Problem, ScenarioError
    from gigawatt.renegotiation import ORDERS, POLICIES

    if policy is not None and policy not in POLICIES:
        raise ScenarioError(Problem(what="unknown renegotiation policy", path="--policy", value=policy,
                                    expected=" or ".join(POLICIES), fix="write --policy defer"))
    if order not in ORDERS:
        raise ScenarioError(Problem(what="unknown deferral order", path="--order", value=order,
                                    expected=" or ".join(ORDERS), fix="write --order cheapest"))
    if policy and not simulating:
        raise ScenarioError(Problem(what="--policy needs the Monte Carlo", path="--policy", value=policy,
                                    expected="--risk or --draws N", fix="add --risk"))


def register(app: typer.Typer) -> None:
    from gigawatt.commands.common import STATE, guarded, out

    @app.command()
    @guarded
    def exposure(run_dir: Path = typer.Argument(..., help="A run directory written by `gigawatt solve --out`.",
                                                show_default=False),
                 years: bool = typer.Option(False, "--years", help="Also print the payments per year."),
                 draws: Optional[int] = typer.Option(None, "--draws", help="Also simulate N draws of the plan (as `gigawatt "
                                                     "simulate`) and say who would be left unpaid."),
                 risk: bool = typer.Option(False, "--risk", help="Simulate with the scenario's uncertainty.draws."),
                 seed: Optional[int] = typer.Option(None, "--seed", help="Root seed (default: the scenario's)."),
                 floor: Optional[str] = typer.Option(None, "--floor", help="Cash the lab keeps, e.g. '5 billion "
                                                     "USD' (default: policy.cash_floor, else 0)."),
                 can_raise: str = typer.Option("0 USD", "--can-raise", help="More financing the lab can raise "
                                               "over the horizon before it stops paying, e.g. '20 billion USD'."),
                 policy: Optional[str] = typer.Option(None, "--policy", help="With --risk/--draws: 'defer', 'terminate' or "
                                                      "'defer-then-terminate' applies the contracts' renegotiation "
                                                      "terms when cash falls below the floor and says who absorbs "
                                                      "the gap."),
                 order: str = typer.Option("cheapest", "--order", help="Which renegotiable contract defers first: "
                                           "'cheapest' (lowest penalty) or 'pro-rata'.")
                 ) -> None:
        """Who is exposed to the lab: per counterparty (provider, vendor, joint venture, utility, investor)
        what the lab commits, pays (firm take-or-pay apart), receives back (vendor equity, funding) and the
        net flow. Tables: DIR/tables/exposure.csv and exposure_by_year.csv (added to older runs)."""
        from gigawatt.commands.common import option_amount
        from gigawatt.risk.io import load_run

        _check_policy(policy, order, risk or bool(draws))  # every option is checked before anything is written
        fl = None if floor is None else option_amount("--floor", floor, "USD", "5 billion USD")
        raisable = option_amount("--can-raise", can_raise, "USD", "20 billion USD")
        loaded = load_run(run_dir)
        t = exposure_tables(run_dir, loaded)
        written = write_if_missing(run_dir, t)
        if not STATE["quiet"]:
            print_exposure(t["exposure"], t["exposure_by_year"], out, years=years)
            where = ", ".join(str(Path(run_dir) / n) for n in written) or str(Path(run_dir) / "tables" / "exposure.csv")
            out.print(f"  tables: {where}", highlight=False)
        if risk or draws:
            summary, yearly, deferral = unpaid_under_uncertainty(run_dir, draws=draws, seed=seed, floor=fl,
                                                                 can_raise=raisable, policy=policy,
                                                                 order=order, loaded=loaded)
            add_unpaid(run_dir, summary, yearly)
            if deferral is not None:
                add_deferral(run_dir, deferral)
            if not STATE["quiet"]:
                print_unpaid(summary, out)
                if deferral is not None:
                    print_deferral(deferral, out)


__all__ = ["register", "exposure_tables", "print_exposure", "write_if_missing", "unpaid_under_uncertainty",
           "print_unpaid", "add_unpaid", "add_deferral", "print_deferral"]
