"""optimize(): build, solve, and either extract a Plan or explain why there is none."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.errors import InfeasibleError
from gigawatt.optimize import diagnose
from gigawatt.optimize.build import create_model
from gigawatt.optimize.capacity import effective_compute
from gigawatt.optimize.context import CHIP_SCALE, COMPUTE_SCALE, MONEY_SCALE, Context
from gigawatt.optimize.figures import (cash_costs, chips_in_service, delivered, mw_per_chip, objective_usd,
                                       site_capex)
from gigawatt.optimize.objective import cost_coefficients, fixed_payments_npv_musd
from gigawatt.optimize.solve import solve
from gigawatt.portfolio import Portfolio

log = logging.getLogger(__name__)


def optimize(portfolio: Portfolio, *, allow_unmet: bool | None = None, method: str | None = None,
             threads: int | None = None, time_limit: float | None = None, verbose: bool = False,
             save_lp: str | Path | None = None, confirm_binding: int = 8, resolver=None,
             fixed: dict[str, xr.DataArray] | None = None):
    """Least-cost plan for ``portfolio``.

    Parameters
    ----------
    allow_unmet
        Serve what can be served and report the rest (default: the scenario's config.solve.allow_unmet).
    method
        HiGHS method: auto, simplex, ipm or pdlp (default: the scenario's config).
    threads, time_limit
        HiGHS threads and time limit in seconds.
    save_lp
        Also write the model as an LP file (for inspection; not on the hot path).
    confirm_binding
        Re-solve with each of this many most valuable binding constraints relaxed, to report only savings
        that hold (:func:`confirm`; 0 skips it, as sweeps do).
    resolver
        A :class:`~gigawatt.optimize.resolve.Resolver`: update a HiGHS model, re-solve warm (:func:`_solve_step`).
    fixed
        Values at which to fix variables by name (model units; e.g. the stochastic planner's commitments
        Own-buy and Site-power): the plan of these commitments with the rest re-optimised (:func:`fix`).

    Returns
    -------
    gigawatt.plan.Plan

    Raises
    ------
    InfeasibleError
        No plan satisfies the constraints (the message names the conflicting entities and periods), or
        HiGHS stopped short of optimal (a time limit): exit code 2 either way, nothing saved.
    SolverError
        HiGHS itself failed (exit code 3).
    """
    cfg = portfolio.scenario.config.solve
    allow = cfg.allow_unmet if allow_unmet is None else allow_unmet
    t0 = time.perf_counter()
    ctx = create_model(portfolio, allow_unmet=allow)
    if fixed:
        fix(ctx, fixed)
    build_s = time.perf_counter() - t0
    if save_lp:
        ctx.model.to_file(Path(save_lp))
    result, how = _solve_step(ctx, resolver, verbose, method=method or cfg.method, threads=threads or cfg.threads,
                              time_limit=time_limit if time_limit is not None else cfg.time_limit)
    _raise_unless_optimal(ctx, result, allow)
    plan = finish(ctx, result, how, build_seconds=build_s, allow_unmet=allow)
    if confirm_binding:
        t2 = time.perf_counter()
        ds = plan.ds
        ds.attrs["binding_confirmed"] = json.dumps(confirm(ctx, ds, top=int(confirm_binding),
                                                           method=result.method, threads=threads or cfg.threads))
        ds.attrs["confirm_seconds"] = time.perf_counter() - t2
    return plan


def finish(ctx: Context, result, how: str, *, build_seconds: float, allow_unmet: bool, duals: bool = True):
    """The Plan of a solved ``ctx`` (solution written into ``ctx.model``): extract, the run's attributes,
    the inputs a saved plan needs. ``duals=False`` leaves out the shadow prices (a sweep's row reads none)."""
    from gigawatt.plan import Plan

    t1 = time.perf_counter()
    ds = extract(ctx, duals=duals)
    extract_s = time.perf_counter() - t1
    ds.attrs.update({
        "status": "optimal",
        "solver": "highs",
        "method": result.method,
        "n_variables": int(ctx.model.nvars),
        "n_constraints": int(ctx.model.ncons),
        "build_seconds": build_seconds,
        "solve_seconds": result.solve_seconds,
        "highs_run_seconds": result.highs_run_seconds if result.highs_run_seconds is not None else np.nan,
        "extract_seconds": extract_s,
        "allow_unmet": int(allow_unmet),
        "resolve": how,
    })
    attach_inputs(ds, ctx.portfolio)
    return Plan(ds, ctx.portfolio)


def _raise_unless_optimal(ctx: Context, result, allow: bool) -> None:
    """InfeasibleError naming the conflicts (elastic re-solve, HiGHS IIS), or the solver's stop."""
    if result.termination in ("infeasible", "infeasible_or_unbounded"):
        iis = diagnose.iis_rows(ctx)
        conflicts = diagnose.elastic_explanation(ctx.portfolio)
        if iis:
            conflicts.append("conflicting constraint rows (HiGHS IIS): " + "; ".join(iis))
        raise InfeasibleError(
            "no plan meets every constraint" + ("" if allow else " (pass --allow-unmet to serve what can be "
                                                "served and report the rest)"),
            conflicts=conflicts, status=result.termination)
    if result.status != "ok" or result.termination != "optimal":
        raise InfeasibleError(f"HiGHS stopped without an optimal plan: status {result.status}, termination "
                              f"{result.termination}; nothing was saved (a time limit? raise config.solve."
                              "time_limit, or try --method ipm)", status=result.termination)


def fix(ctx: Context, values: dict[str, xr.DataArray]) -> None:
    """Fix each named variable at the given values (lower = upper; absent entries at 0), broadcast over
    ``future`` when the variable has it and the value has not; periods a value does not cover stay free
    (a tree's here-and-now commitments fix the root's periods only)."""
    for name, value in values.items():
        if name in ctx.model.variables:
            var = ctx.model.variables[name]
            v = value.reindex_like(var.lower).fillna(0.0).broadcast_like(var.lower).transpose(*var.lower.dims)
            if "period" in value.dims:
                free = ~var.lower["period"].isin(value.indexes["period"])
                var.update(lower=xr.where(free, var.lower, v).transpose(*var.lower.dims),
                           upper=xr.where(free, var.upper, v).transpose(*var.lower.dims))
            else:
                var.update(lower=v, upper=v)


def _solve_step(ctx: Context, resolver, verbose: bool, **opts):
    """HiGHS on ``ctx``: through ``resolver`` (update and warm re-solve) when given, else cold; a
    non-optimal update is repeated cold so that errors and their diagnosis are the cold path's."""
    if resolver is None:
        return solve(ctx, **opts, verbose=verbose), "cold"
    result, how = resolver.solve(ctx, **opts)
    if result.status != "ok" or result.termination != "optimal":
        return solve(ctx, **opts, verbose=verbose), f"cold (after {how}: {result.termination})"
    return result, how


# The step each family's right-hand side is relaxed by to confirm a shadow price (in the sentence's unit;
# large enough to stand clear of the solver's tolerance, small enough to stay local), or 1% of the
# right-hand side where that is smaller
CONFIRM_STEP = {"MW": 10.0, "chip": 1000.0, "pp": 1.0, "USD": 1e6}
# model units per sentence unit: MW, kchips, MUSD (a percentage point is 1% of the period's compute)
_MODEL_PER_UNIT = {"MW": 1.0, "chip": 1e-3, "USD": 1e-6}


def confirm(ctx: Context, ds: xr.Dataset, *, top: int = 5, method: str = "simplex",
            threads: int | None = None) -> list[dict]:
    """Re-solve with each of the ``top`` most valuable binding constraints relaxed, one at a time, by
    :data:`CONFIRM_STEP` and return what each relaxation really saves (present value, USD per unit).

    A dual at a degenerate vertex can promise a saving no relaxation delivers (site power before a site's
    lead time); the re-solve is the test. Rows: constraint, coords, step, pv_usd (per unit, from the
    re-solve; 0 where it saves nothing)."""
    from gigawatt.plan import RELAXABLE, binding_candidates

    cand = binding_candidates(ds)
    if cand.empty:
        return []
    from gigawatt.optimize.resolve import Resolver

    m = ctx.model
    base = float(m.objective.value)
    resolver = Resolver(max_structures=1)
    out = []
    for _, r in cand.head(top).iterrows():
        family = r["constraint"]
        unit = RELAXABLE[family][1]
        coords = {k: v for k, v in r["coords"].items()}
        con = m.constraints[family]
        step = CONFIRM_STEP[unit]
        rhs = con.rhs.copy()
        old = rhs.loc[coords].copy()
        if unit == "pp":
            total = float(ds["delivered_h100e_hours"].sum(("supply", "workload")).sel(period=coords["period"])) / 1e6
            delta = 0.01 * step * total
        else:
            # 1% of the right-hand side where that is smaller than the unit step (a small model's limits)
            level = abs(float(old.values.flat[0])) * 0.01
            delta = step * _MODEL_PER_UNIT[unit]
            if 0 < level < delta:
                delta, step = level, level / _MODEL_PER_UNIT[unit]
        sign_da = con.sign
        sign = str((sign_da.sel({k: v for k, v in coords.items() if k in sign_da.dims})).values.flat[0])
        rhs.loc[coords] = old + (delta if sign.startswith("<") else -delta)
        con.update(rhs=rhs)
        try:
            # one HiGHS model for all relaxations: each changes one right-hand side and re-solves warm
            result, _ = resolver.solve(ctx, method=method, threads=threads, assign=False)
            ok = result.status == "ok" and result.termination == "optimal" and result.objective is not None
            new = float(result.objective) if ok else np.nan
        finally:
            rhs.loc[coords] = old
            con.update(rhs=rhs)
        saving = (base - new) * MONEY_SCALE / step if np.isfinite(new) else np.nan
        out.append({"constraint": family, "coords": {k: str(v) for k, v in coords.items()}, "step": step,
                    "unit": unit, "pv_usd": max(0.0, saving) if np.isfinite(saving) else None})
    resolver.close()
    return out


def attach_inputs(ds: xr.Dataset, portfolio: Portfolio) -> None:
    """Inputs a saved plan needs to be read alone: option attributes, targets, site envelopes."""
    from gigawatt.plan import attach_supply_table

    attach_supply_table(ds, portfolio)
    d = portfolio.data
    ds["target_group"] = d["target_group"]
    ds["target_active"] = d["target_active"]
    t = portfolio.targets
    ds["target_min_share"] = ("target", t["min_share"].to_numpy(dtype=float))
    ds["target_max_share"] = ("target", t["max_share"].to_numpy(dtype=float))
    if "basis" in t:
        ds["target_basis"] = ("target", t["basis"].astype(str).to_numpy(dtype=object))


def _sol(ctx: Context, name: str) -> xr.DataArray | None:
    """A variable's solution (absent slots are 0), or None if the model has no such variable."""
    if name not in ctx.model.variables:
        return None
    return ctx.model.variables[name].solution.fillna(0.0)


def extract(ctx: Context, *, duals: bool = True) -> xr.Dataset:
    """The solution in canonical units: chips, MW, USD, H100e-hours; with duals of every constraint
    (unless ``duals`` is false)."""
    p = ctx.portfolio
    d = ctx.data
    periods = ctx.periods
    supply = d.indexes["supply"]
    eff = effective_compute(ctx)
    x = _sol(ctx, "Supply-dispatch").reindex(supply=supply, fill_value=0.0)  # kchips
    ds = xr.Dataset(coords={"period": periods.to_numpy(dtype=object), "supply": supply.to_numpy(dtype=object),
                            "workload": d.indexes["workload"].to_numpy(dtype=object),
                            "site": d.indexes["site"].to_numpy(dtype=object),
                            "accelerator": d.indexes["accelerator"].to_numpy(dtype=object),
                            "target": d.indexes["target"].to_numpy(dtype=object)})
    ds["dispatch_chips"] = x * CHIP_SCALE
    ds["delivered_h100e_hours"] = delivered(x, eff)
    kind = xr.DataArray(p.supply["kind"].to_numpy(), coords={"supply": supply})
    used = x.sum("workload") * CHIP_SCALE
    zeros = xr.zeros_like(used)
    own_chips = _sol(ctx, "Own-chips")
    own_buy = _sol(ctx, "Own-buy")
    own_full = zeros
    bought = zeros
    if own_chips is not None:
        own_full = (own_chips * CHIP_SCALE).reindex(supply=supply, fill_value=0.0)
        bought = (own_buy * CHIP_SCALE).reindex(supply=supply, fill_value=0.0)
    firm = ((d["contract_firm"] > 0) & (kind == "contract")) if len(ctx.contract) else None
    chips = chips_in_service(used, own_full, kind == "own", firm, d["contract_capacity_chips"], xr.where)
    ds["chips"] = chips.transpose("supply", "period")
    ds["chips_bought"] = bought.transpose("supply", "period")
    mw = xr.DataArray(mw_per_chip(p), coords={"supply": p.supply.index})
    ds["power_mw"] = ds["chips"] * mw.reindex(supply=supply)
    if len(p.sites):
        built = _sol(ctx, "Site-power")
        ds["site_power_mw"] = built + d["site_power_existing_mw"]
        ds["site_power_built_mw"] = built - built.shift(period=1).fillna(0.0)
        ds["site_power_max_mw"] = d["site_power_max_mw"]
    unmet = _sol(ctx, "Workload-unmet")
    ds["demand_h100e_hours"] = d["demand_h100e_hours"]
    ds["unmet_h100e_hours"] = (unmet * COMPUTE_SCALE) if unmet is not None else xr.zeros_like(d["demand_h100e_hours"])
    _costs(ctx, ds, x)
    if duals:
        _duals(ctx, ds)
    cash = _sol(ctx, "Cash-level")
    if cash is not None:  # the planner's view of cash under policy.cash_floor (finance recomputes it)
        ds["cash_level_usd"] = cash * MONEY_SCALE
        ds.attrs["cash_floor_usd"] = float(p.scenario.policy.cash_floor)
    ds["discount_factor"] = d["discount_factor"]
    ds["hours"] = d["hours"]
    ds.attrs["objective_usd"] = objective_usd(ctx.model.objective.value, fixed_payments_npv_musd(ctx))
    return ds


def _costs(ctx: Context, ds: xr.Dataset, x: xr.DataArray) -> None:
    """Cash costs by category and period, and the economic cost of each option (for cost by workload)."""
    p = ctx.portfolio
    d = ctx.data
    c = cost_coefficients(ctx)
    supply = d.indexes["supply"]
    zeros = xr.zeros_like(x.sum("workload"))

    def full(part: xr.DataArray) -> xr.DataArray:
        return part.reindex(supply=supply, fill_value=0.0).transpose("supply", "period")

    cash = {k: zeros for k in ("capex_chips", "energy", "offtake", "lease", "contract")}
    economic = zeros  # depreciation + energy + lease + contract, per option and period (USD)
    own = {}
    if len(ctx.own):
        b = _sol(ctx, "Own-buy")
        n = _sol(ctx, "Own-chips")
        own = {"buy": b, "own_chips": n}
        share = ctx.own_attr("lab_share")
        ds["cost_capex_chips_partners_usd"] = full(b * CHIP_SCALE * ctx.own_attr("purchase_price_usd")
                                                   * (1.0 - share))
    lease = {"lease_used": x.sel(supply=ctx.lease).sum("workload")} if len(ctx.lease) else {}
    contract = {"contract_used": x.sel(supply=ctx.contract).sum("workload"),
                "contract_fixed": d["contract_fixed_payment_usd"].sel(supply=ctx.contract)} if len(ctx.contract) else {}
    for k, v in cash_costs(**own, **lease, **contract, c=c).items():
        cash[k] = full(v)
    if len(ctx.own):
        # straight line over the service life as modelled (whole periods), so it sums to the price paid
        dep = n * CHIP_SCALE * share * ctx.own_attr("purchase_price_usd") / ctx.own_life_periods()
        economic = full(dep + n * (c["own_energy"] + c["own_offtake"]) * MONEY_SCALE)
    for k in ("lease", "contract"):
        economic = economic + cash[k]
    for k, v in cash.items():
        ds[f"cost_{k}_usd"] = v
    ds["cost_economic_usd"] = economic
    if len(p.sites):
        built = ds["site_power_built_mw"]
        cost = xr.DataArray(p.sites["build_cost_usd_per_mw"].to_numpy(), coords={"site": p.sites.index})
        share = xr.DataArray(p.sites["lab_share"].to_numpy(dtype=float), coords={"site": p.sites.index})
        life = xr.DataArray(p.sites["facility_life_years"].to_numpy(), coords={"site": p.sites.index})
        ds["cost_capex_sites_usd"] = site_capex(built, cost, share)  # the lab's share; the partners pay the rest
        ds["cost_capex_sites_partners_usd"] = built * cost * (1.0 - share)
        # straight line over the facility life in whole periods, from the period power is energised
        per_year = 12 / p.horizon.months_per_period()
        life_periods = np.maximum(1, np.rint(life * per_year)).astype(int)
        capex = ds["cost_capex_sites_usd"]
        dep = capex.cumsum("period")
        for lag in np.unique(life_periods.values):  # a few distinct lives, not a loop over sites
            old = capex.shift(period=int(lag)).fillna(0.0).cumsum("period")
            dep = dep - old.where(life_periods == lag, 0.0)
        ds["depreciation_sites_usd"] = (dep / life_periods).transpose("site", "period")
    # cost by workload and idle by a rule that does not depend on the LP's (degenerate) dispatch
    from gigawatt.optimize.attribution import attribute

    kind = xr.DataArray(p.supply["kind"].to_numpy(), coords={"supply": p.supply.index}).reindex(supply=supply)
    pool = kind == "own"
    if len(ctx.contract):
        pool = pool | ((kind == "contract") & (d["contract_firm"].reindex(supply=supply, fill_value=0.0)
                                               .max("period") > 0))
    eff = d["efficiency_h100e_hours_per_chip"].where(d["eligible"], 0.0).reindex(supply=supply, fill_value=0.0)
    att = attribute(chips=ds["chips"], efficiency=eff, served=ds["delivered_h100e_hours"].sum("supply"),
                    cost=economic, pool=pool, power=ds["power_mw"],
                    u_ref=xr.DataArray(p.workloads["utilisation_h100"].to_numpy(dtype=float),
                                       coords={"workload": p.workloads.index}).reindex(workload=ds["workload"].values))
    for name, da in att.data_vars.items():
        ds[name] = da


def _duals(ctx: Context, ds: xr.Dataset) -> None:
    """Marginal cost of compute and every constraint's shadow price, undiscounted to its period."""
    m = ctx.model
    df = ctx.df()
    p = ctx.portfolio
    for name in m.constraints:
        ds[f"dual_{name}"] = m.constraints[name].dual
    if "Workload-demand" in m.constraints:
        u_ref = xr.DataArray(p.workloads["utilisation_h100"].to_numpy(), coords={"workload": p.workloads.index})
        # MUSD per MH100e-h == USD per H100e-hour; one H100-hour is u_ref H100e-hours
        ds["marginal_cost_usd_per_h100_hour"] = m.constraints["Workload-demand"].dual / df * u_ref


__all__ = ["fix", "optimize", "extract", "finish", "pd"]
