"""Objective: least net present cost (MUSD), every term discounted to the horizon start."""

from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.optimize.context import CHIP_SCALE, COMPUTE_SCALE, MONEY_SCALE, Context
from gigawatt.optimize.grid import Grid


# Elastic penalties (MUSD per unit of slack), far above any real cost and ordered so each conflict reads
# as its cause: a share target gives way before demand does (dropping demand would otherwise "meet" any
# share); a capacity shortfall reads as unmet demand (cheaper than conjuring power); a firm supply deal
# that cannot be installed reads as the site power it lacks (cheaper than breaking the deal).
ELASTIC_PENALTY = {
    "Share-target-lower": 1e3,  # per MH100e-h
    "Share-target-upper": 1e3,
    "Workload-demand": 1e4,  # per MH100e-h (≈ $10,000 per H100e-hour)
    "Site-power-envelope": 1e5,  # per MW
    "Contract-supply-lower": 1e6,  # per kchip
    "Accelerator-purchase-upper": 1e6,
    # per MUSD below the floor: far above what a dollar of cash saved costs (leasing instead of buying,
    # deferring a build), and a shortfall reads as the floor rather than as unmet demand while compute
    # costs under $100 per H100e-hour (1e4 / 1e2)
    "Cash-floor": 1e2,
}


# Phantom chips (MUSD per kchip per period) should a failed deal's lost chips exceed what the plan holds of
# its accelerator (bought early and retired; capacity.define_deal_loss): far above a chip's price, so used
# only where no plan can hold them, never to avoid a loss
DEAL_LOSS_PENALTY = 1e3


def cost_coefficients(ctx: Context) -> dict[str, xr.DataArray]:
    """Undiscounted cost per unit of each variable, in MUSD (used by the objective and by finance)."""
    return {k: v.to_xarray() for k, v in cost_grids(ctx).items()}


def cost_grids(ctx: Context) -> dict[str, Grid]:
    """:func:`cost_coefficients` as :class:`~gigawatt.optimize.grid.Grid` (numpy: the fast path's speed)."""
    d = ctx.data
    hours = ctx.grid("hours")
    out: dict[str, Grid] = {}
    if len(ctx.own):
        # at a joint venture's site the lab pays its share s of capex and energy, and the partners' share
        # of the JV's offtake price per chip-hour in service, (1 − s) q h (docs/finance.md, "Joint ventures")
        share = ctx.own_grid("lab_share")
        price = ctx.own_grid("purchase_price_usd")
        out["own_buy"] = share * price * CHIP_SCALE / MONEY_SCALE  # per kchip
        if "purchase_price_factor" in d:  # a stochastic model: a vendor replaced in some futures (events.py)
            out["own_buy"] = out["own_buy"] * ctx.grid("purchase_price_factor").sel(supply=ctx.own)
        energy = ctx.own_power_grid() * hours * ctx.own_grid("energy_price_usd_per_mwh") / MONEY_SCALE
        if "energy_price_factor" in d:  # a stochastic model: the energy price of each site in each future
            sites = ctx.portfolio.supply.loc[ctx.own, "site"].to_numpy()
            energy = energy * ctx.grid("energy_price_factor").sel(site=sites).relabel("site", ctx.own)
        out["own_energy"] = share * energy  # per kchip in service per period
        out["own_offtake"] = ((1.0 - share) * ctx.own_grid("offtake_usd_per_chip_hour") * hours
                              * CHIP_SCALE / MONEY_SCALE)  # per kchip in service per period
    if len(ctx.lease):
        out["lease"] = ctx.grid("lease_price_usd_per_chip_hour").sel(supply=ctx.lease) * hours * CHIP_SCALE / MONEY_SCALE
    if len(ctx.contract):
        out["contract_use"] = (ctx.grid("contract_use_price_usd_per_chip_hour").sel(supply=ctx.contract) * hours
                               * CHIP_SCALE / MONEY_SCALE)
    if len(ctx.portfolio.sites):
        sites = ctx.portfolio.sites  # the lab's share of the facility
        out["site_build"] = Grid.along(ctx.column("sites", "build_cost_usd_per_mw").to_numpy(dtype=float)
                                       * ctx.column("sites", "lab_share").to_numpy(dtype=float),
                                       sites.index) / MONEY_SCALE
    w = ctx.portfolio.workloads
    per_h100_hour = (ctx.column("workloads", "unmet_penalty_usd_per_h100_hour").to_numpy(dtype=float)
                     / ctx.column("workloads", "utilisation_h100").to_numpy(dtype=float))
    out["unmet"] = Grid.along(per_h100_hour, w.index) * COMPUTE_SCALE / MONEY_SCALE
    return out


def define_objective(ctx: Context) -> None:
    """min Σ_t δ_t [ Σ_o p_o(1 − r_{o,t} δ_T/δ_t) B + Σ_o e_o N + Σ_s c_s(1 − r_{s,t} δ_T/δ_t)(P_t − P_{t−1})
                     + Σ_l q_l h_t X + Σ_k u_k h_t X + π_w U ]  + fixed contract payments (constant)

    δ discount factor (mid-period), r salvage share left at the horizon end (straight line over the
    useful life), so an asset bought late is charged only for the years it serves inside the horizon.

    Stochastic (``ctx.probability``): terms over ``future`` are weighted by p_f (the expected net present
    cost); with ``ctx.cvar`` = (ω, α) the objective is (1 − ω)·E[L] + ω·CVaR_α(L) (:func:`_cvar`)."""
    terms = cost_terms(ctx)
    expected = [ctx.expect(t).sum() for t in terms]
    total = sum(expected[1:], expected[0])
    if ctx.cvar is not None and ctx.probability is not None and ctx.cvar[0] > 0:
        total = (1 - ctx.cvar[0]) * total + ctx.cvar[0] * _cvar(ctx, terms)
    ctx.model.add_objective(total)


def cost_factors(ctx: Context, grids: dict[str, Grid] | None = None) -> list[tuple[str, dict | None, Grid]]:
    """The objective's terms that are a variable times a coefficient, as (variable name, selection or None,
    coefficient over the variable's dimensions: MUSD per unit, discounted): term = variable.sel(selection)
    × coefficient. :func:`cost_terms` makes them linear expressions; the fast path (optimize/fastpath.py)
    fills HiGHS's cost vector from them directly. ``grids``: :func:`cost_grids` of ``ctx``, if computed
    already."""
    m = ctx.model
    c = cost_grids(ctx) if grids is None else grids
    df = ctx.grid("discount_factor")
    out = []
    if len(ctx.own):
        r = ctx.salvage_grid(ctx.own_grid("useful_life_years"))
        out.append(("Own-buy", None, c["own_buy"] * (df - r * ctx.df_end())))
        out.append(("Own-chips", None, (c["own_energy"] + c["own_offtake"]) * df))
    if len(ctx.portfolio.sites):
        sites = ctx.portfolio.sites
        r = ctx.salvage_grid(Grid.along(ctx.column("sites", "facility_life_years").to_numpy(), sites.index))
        coeff = c["site_build"] * (df - r * ctx.df_end())
        # P_t − P_{t−1} weighted by coeff_t  ==  Σ_t P_t (coeff_t − coeff_{t+1})
        out.append(("Site-power", None, coeff - coeff.shift_back("period")))
    if len(ctx.lease):
        out.append(("Supply-dispatch", {"supply": ctx.lease}, c["lease"] * df))
    if len(ctx.contract) and (c["contract_use"] > 0).any():
        out.append(("Supply-dispatch", {"supply": ctx.contract}, c["contract_use"] * df))
    if ctx.allow_unmet and not ctx.elastic:
        out.append(("Workload-unmet", None, c["unmet"] * df))
    if "Deal-loss-excess" in m.variables:  # phantom chips of a failed deal (capacity.define_deal_loss)
        out.append(("Deal-loss-excess", None, DEAL_LOSS_PENALTY * df))
    if "Cash-shortfall" in m.variables:  # a soft cash floor (cash.define_soft_floor): λ y_t δ_t V[t, f]
        out.append(("Cash-shortfall", None, ctx.cash_risk.floor_penalty * ctx.period_years_grid() * df))
    return out


def cost_terms(ctx: Context) -> list:
    """The objective's terms as linear expressions (MUSD, discounted), before summing or weighting:
    :func:`cost_factors`, the elastic slacks' penalties and the renegotiation recourse's terms."""
    m = ctx.model
    terms = []
    for name, selection, coeff in cost_factors(ctx):
        var = m.variables[name]
        terms.append((var.sel(selection) if selection else var) * coeff.to_xarray())
    if ctx.elastic:
        ctx.slacks["Workload-demand"] = ("Workload-unmet", ELASTIC_PENALTY["Workload-demand"])
        for name, (var, penalty) in ctx.slacks.items():
            terms.append(m.variables[var] * penalty)
    from gigawatt.optimize import renegotiation_recourse  # deferral and termination (extensive form only)

    terms.extend(renegotiation_recourse.cost_terms(ctx))
    if not terms:  # nothing the plan decides costs anything (e.g. take-or-pay only): objective 0
        terms.append(0 * m.variables["Supply-dispatch"])
    return terms


def _cvar(ctx: Context, terms: list):
    """CVaR_α of the net present cost L_f of each future (Rockafellar–Uryasev):

        CVaR = η + 1/(1 − α) Σ_f p_f s_f,   CVaR-excess: s_f ≥ L_f − η,  s_f ≥ 0

    L_f from :func:`loss_per_future`. Adds Risk-var η (free) and Risk-excess s_f."""
    m = ctx.model
    weight, alpha = ctx.cvar
    eta = m.add_variables(name="Risk-var")
    s = m.add_variables(lower=0, coords=[ctx.futures], name="Risk-excess")
    loss = loss_per_future(ctx, terms)
    fixed = fixed_payments_npv_musd(ctx, per_future=True)
    m.add_constraints(s - loss + eta >= fixed, name="Risk-excess-lower")
    return eta + (s * ctx.probability).sum() / (1 - alpha)


def loss_per_future(ctx: Context, terms: list | None = None):
    """L_f − fixed payments: every cost term summed over its dimensions other than ``future`` (a
    commitment term, without ``future``, is the same in every future), MUSD, a linear expression. The
    CVaR above and the stochastic planner's reading of each future's cost (stochastic/extensive.py) both
    use it, so the two cannot disagree; add :func:`fixed_payments_npv_musd` (per_future) for L_f."""
    per_future = [t.sum([d for d in t.dims if d != "future"]) for t in (cost_terms(ctx) if terms is None else terms)]
    return sum(per_future[1:], per_future[0])


def fixed_payments_pv_musd(fixed_usd: np.ndarray, discount_factor: np.ndarray) -> float:
    """Σ_t δ_t Σ_k F[k, t] / 10⁶: the present value (MUSD) of one future's take-or-pay payments F
    (contract, period; NaN skipped, as xarray's sums skip it), as numpy (a sweep's fast row reads it too,
    optimize/figures.py)."""
    return float(np.nansum(np.nansum(fixed_usd, axis=0) * discount_factor) / MONEY_SCALE)


def fixed_payments_npv_musd(ctx: Context, *, per_future: bool = False):
    """Present value of take-or-pay contract payments: owed whatever the plan, so a constant (its
    expectation over futures in a stochastic model; with ``per_future``, one value per future). In the
    futures it also holds what events change whatever the plan (``event_cost_pv_usd``: a failed supply
    deal's capex refunded, stochastic/events.py)."""
    d = ctx.data
    if ctx.probability is None and not per_future and "event_cost_pv_usd" not in d:  # one future
        if not len(ctx.contract):
            return 0.0
        fixed = d["contract_fixed_payment_usd"].sel(supply=ctx.contract).transpose("supply", "period")
        return fixed_payments_pv_musd(fixed.values, ctx.df().values)
    pv = d["event_cost_pv_usd"] / MONEY_SCALE if "event_cost_pv_usd" in d else xr.DataArray(0.0)
    if len(ctx.contract):
        fixed = d["contract_fixed_payment_usd"].sel(supply=ctx.contract).sum("supply")
        pv = pv + (fixed * ctx.df()).sum("period") / MONEY_SCALE
    if per_future:
        return pv if "future" in pv.dims else pv + xr.zeros_like(ctx.probability)
    if "future" in pv.dims:
        pv = (pv * ctx.probability).sum("future")
    return float(pv)


__all__ = ["DEAL_LOSS_PENALTY", "cost_coefficients", "cost_factors", "cost_grids", "cost_terms", "define_objective",
           "fixed_payments_npv_musd", "fixed_payments_pv_musd", "loss_per_future", "np"]
