"""Explain an infeasible plan in the user's words: which entities, which periods, how far apart.

Two views: HiGHS's irreducible infeasible subset (the constraint rows that conflict, by name and
coordinates) where it works, and an elastic re-solve (every hard family with a penalised slack) whose
non-zero slacks say how much each limit would have to give.
"""

from __future__ import annotations

import functools
import logging

import numpy as np
import pandas as pd

from gigawatt.fmt import usd
from gigawatt.optimize.build import create_model
from gigawatt.optimize.context import CHIP_SCALE, COMPUTE_SCALE, Context
from gigawatt.portfolio import Portfolio

log = logging.getLogger(__name__)
TOL = 1e-6


def iis_rows(ctx: Context, limit: int = 12) -> list[str]:
    """Constraint rows in HiGHS's IIS, as 'Name[coord, coord]' (empty if HiGHS could not compute one)."""
    try:
        labels = ctx.model.compute_infeasibilities()
    except Exception as exc:  # IIS support depends on the HiGHS build; the elastic view still works
        log.info("IIS not available: %s", exc)
        return []
    out = []
    for label in labels[:limit]:
        try:
            name, coords = ctx.model.constraints.get_label_position(int(label))
        except Exception:
            continue
        out.append(f"{name}[{', '.join(str(v) for v in coords.values())}]")
    if len(labels) > limit:
        out.append(f"(+{len(labels) - limit} more rows)")
    return out


def elastic_explanation(portfolio: Portfolio) -> list[str]:
    """Solve with slacks and describe every non-zero one in the scenario's terms."""
    from gigawatt.optimize.solve import solve_in_scratch

    ctx = create_model(portfolio, allow_unmet=True, elastic=True)
    status, _ = solve_in_scratch(ctx.model, solver_name="highs", io_api="direct", progress=False, output_flag=False)
    if status != "ok":
        return [f"the elastic re-solve did not finish ({status}); save the model with --save-lp to inspect it"]
    sol = {name: ctx.model.variables[name].solution for name in ctx.model.variables}
    lines: list[str] = []
    lines += _unmet_lines(ctx, sol)
    lines += _power_lines(ctx, sol)
    lines += _supply_lines(ctx, sol)
    lines += _purchase_lines(ctx, sol)
    lines += _share_lines(ctx, sol)
    lines += _cash_lines(ctx, sol)
    return lines or ["no single limit explains it; save the model with --save-lp and inspect it"]


def _nonzero(sol, name):
    if name not in sol:
        return []
    s = sol[name].to_series().fillna(0.0)
    return [(idx, v) for idx, v in s.items() if v > TOL]


def _unmet_lines(ctx: Context, sol) -> list[str]:
    d = ctx.data
    out = []
    for (w, t), v in _nonzero(sol, "Workload-unmet"):
        u_ref = ctx.portfolio.workloads.at[w, "utilisation_h100"]
        demand = float(d["demand_h100e_hours"].sel(workload=w, period=t)) / u_ref
        short = v * COMPUTE_SCALE / u_ref
        limits = _limits_at(ctx, sol, t)
        out.append(f"workload '{w}' in {t}: demand {_fmt(demand)} H100-hours, but at most {_fmt(demand - short)} "
                   f"can be served ({_fmt(short)} short)" + (f"; at their limit: {limits}" if limits else ""))
    return out


def _limits_at(ctx: Context, sol, t) -> str:
    """What is exhausted in period t: sites at their envelope or before their lead time, offers and contracts."""
    p = ctx.portfolio
    parts = []
    if "Site-power" in sol and len(p.sites):
        room = (ctx.data["site_power_max_mw"] - ctx.data["site_power_existing_mw"]).sel(period=t)
        months = float(p.horizon.table.loc[t, "months"])
        for s in p.sites.index:
            lead = p.sites.at[s, "lead_time_months"]
            built = float(sol["Site-power"].sel(site=s, period=t)) + float(ctx.data["site_power_existing_mw"].sel(site=s, period=t))
            if months + 1e-6 < lead:
                parts.append(f"site {s} has no new power before its lead time ({lead:g} months)")
            elif float(room.sel(site=s)) - float(sol["Site-power"].sel(site=s, period=t)) <= 1e-6:
                parts.append(f"site {s} at its power_max ({_mw(built)})")
    x = sol["Supply-dispatch"].sum("workload")
    for name in ctx.lease:
        avail = float(ctx.data["lease_available_chips"].sel(supply=name, period=t))
        if np.isfinite(avail) and float(x.sel(supply=name, period=t)) * CHIP_SCALE >= avail - 1e-3:
            parts.append(f"offer {name} at {_fmt(avail)} chips")
    for name in ctx.contract:
        cap = float(ctx.data["contract_capacity_chips"].sel(supply=name, period=t))
        if cap > 0 and float(x.sel(supply=name, period=t)) * CHIP_SCALE >= cap - 1e-3:
            parts.append(f"{name} at {_fmt(cap)} chips")
    return "; ".join(parts[:8])


def _power_lines(ctx: Context, sol) -> list[str]:
    p = ctx.portfolio
    out = []
    for (s, t), v in _nonzero(sol, "Site-power-envelope-slack"):
        existing = float(ctx.data["site_power_existing_mw"].sel(site=s, period=t))
        need = float(sol["Site-power"].sel(site=s, period=t)) + existing
        months = float(p.horizon.table.loc[t, "months"])
        lead = p.sites.at[s, "lead_time_months"]
        if months + 1e-6 < lead:
            can = existing
            why = f"its lead time of {lead:g} months allows no new power before then"
        else:
            can = float(ctx.data["site_power_max_mw"].sel(site=s, period=t))
            why = "its power_max"
        out.append(f"site '{s}' needs {_mw(need)} in {t} but only {_mw(can)} can be energised by then ({why})")
    return out


def _supply_lines(ctx: Context, sol) -> list[str]:
    out = []
    deals = ctx.portfolio.deals
    for (a, t), v in _nonzero(sol, "Contract-supply-lower-slack"):
        need = float(ctx.data["purchase_min_cumulative_chips"].sel(accelerator=a, period=t))
        names = ", ".join(deals.index[(deals["accelerator"] == a) & deals["firm"]]) if len(deals) else a
        out.append(f"firm supply contract {names} requires {_fmt(need)} {a} chips installed by {t}, "
                   f"but only {_fmt(need - v * CHIP_SCALE)} can be installed (no site with power and room for them)")
    return out


def _purchase_lines(ctx: Context, sol) -> list[str]:
    out = []
    for (a, t), v in _nonzero(sol, "Accelerator-purchase-upper-slack"):
        cap = float(ctx.data["purchase_max_chips"].sel(accelerator=a, period=t))
        out.append(f"accelerator '{a}' in {t}: the plan needs {_fmt(cap + v * CHIP_SCALE)} chips but purchase_max "
                   f"is {_fmt(cap)}")
    return out


def _share_lines(ctx: Context, sol) -> list[str]:
    p = ctx.portfolio
    out = []
    for bound in ("lower", "upper"):
        for (g, t), v in _nonzero(sol, f"Share-target-{bound}-slack"):
            row = p.targets.loc[g]
            group = ", ".join(x for x in (row["providers"], row["vendors"]) if x)
            share = row["min_share"] if bound == "lower" else row["max_share"]
            verb = "at least" if bound == "lower" else "at most"
            out.append(f"share target '{g}' asks {verb} {share:.0%} of compute from {group} in {t}, "
                       f"which the available capacity cannot deliver")
    return out


def _cash_lines(ctx: Context, sol) -> list[str]:
    """Periods where even the cash-lightest plan leaves cash below policy.cash_floor."""
    from gigawatt.optimize.context import MONEY_SCALE

    short = _nonzero(sol, "Cash-floor-slack")
    if not short:
        return []
    floor = float(ctx.portfolio.scenario.policy.cash_floor)
    where = ctx.portfolio.resolved.where(("policy", "cash_floor")) if ctx.portfolio.resolved else None
    (t, v), rest = short[0], short[1:]
    gap = v * MONEY_SCALE
    money = functools.partial(usd, style="words")
    line = (f"cash floor: cash falls to {money(floor - gap)} in {t}, {money(gap)} below the floor of {money(floor)} "
            f"(policy.cash_floor{' at ' + where if where else ''}), even with the cash-lightest plan")
    if rest:
        later = ", ".join(f"{t} (by {money(v * MONEY_SCALE)})" for t, v in rest[:6])
        line += f"; also below it in {later}" + (f" and {len(rest) - 6} more periods" if len(rest) > 6 else "")
    return [line + "; add funding by then (finance.funding), lower the floor, or cut costs"]


def _fmt(x: float) -> str:
    ax = abs(x)
    for div, suffix in ((1e12, " trillion"), (1e9, " billion"), (1e6, " million"), (1e3, " thousand")):
        if ax >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


def _mw(x: float) -> str:
    return f"{x / 1e3:.3g} GW" if abs(x) >= 1e3 else f"{x:.3g} MW"


__all__ = ["iis_rows", "elastic_explanation", "pd"]
