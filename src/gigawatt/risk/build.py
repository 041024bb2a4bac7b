"""Build the risk model of a solved plan (:class:`~gigawatt.risk.model.RiskModel`): the plan's options as
arrays (options.py), what each event does (events.py), each workload's tranches (tranches.py), energy and
other costs with their drivers, then the kernel's packed inputs (pack.py)."""

from __future__ import annotations

import numpy as np

from gigawatt.risk.baseline import base_finance, net_present_cost
from gigawatt.risk.events import event_effects
from gigawatt.risk.model import RiskModel
from gigawatt.risk.options import PlanOptions, plan_options
from gigawatt.risk.pack import derive, pack_model
from gigawatt.risk.checks import require_valid
from gigawatt.risk.sample import Sampler
from gigawatt.risk.tranches import price_drivers, workload_models


def build_model(plan, portfolio, *, finance: dict[str, np.ndarray] | None = None) -> RiskModel:
    """Precompute the deterministic arrays a draw perturbs.

    Parameters
    ----------
    plan
        A solved :class:`gigawatt.plan.Plan` (its commitments stay fixed).
    portfolio
        The portfolio it was solved from (its ``scenario.uncertainty`` says what is uncertain).
    finance
        The plan's ``cash_flow_usd`` and ``cash_usd`` per period (default: :func:`base_finance`).
    """
    require_valid(portfolio)
    ds = plan.ds
    unc = portfolio.scenario.uncertainty
    periods = [str(p) for p in ds["period"].values]
    P = len(periods)
    cal_years = portfolio.horizon.table["year"].to_numpy()
    years = sorted(set(int(y) for y in cal_years))
    year_index = np.array([years.index(int(y)) for y in cal_years])
    if finance is None:
        finance, source = base_finance(plan, portfolio)
    else:
        source = "given"
    drivers = unc.drivers

    def drivers_for(target: str, name: str) -> tuple[str, ...]:
        return tuple(n for n, d in drivers.items()
                     if d.target == target and (d.applies_to is None or name in d.applies_to))

    o = plan_options(plan, portfolio)
    loss_chips, event_cash, event_energy = event_effects(plan, portfolio, o)
    workloads = workload_models(o, loss_chips, price_drivers(portfolio), _revenue_rates(portfolio, o.workloads),
                                drivers_for)
    site_names = [str(s) for s in portfolio.sites.index]
    model = RiskModel(
        periods=periods, years=years, year_index=year_index,
        discount_factor=ds["discount_factor"].values.astype(float),
        cash_flow=np.asarray(finance["cash_flow_usd"], dtype=float), cash=np.asarray(finance["cash_usd"], dtype=float),
        npc=net_present_cost(plan), workloads=workloads,
        exogenous_revenue=portfolio.data["revenue_usd"].values.astype(float),
        exogenous_revenue_drivers=drivers_for("revenue", "exogenous"),
        energy=[(_site_energy(o, s), drivers_for("energy_price", s)) for s in site_names],
        other_costs=_other_costs(portfolio, drivers_for), event_cash=event_cash, event_energy=event_energy,
        sampler=Sampler(unc, len(years)), finance_source=source)
    if not (len(years) == P and (year_index == np.arange(P)).all()):
        model.year_starts = np.searchsorted(year_index, np.arange(len(years)))
    model.derived = derive(model)
    model.packed = pack_model(model)
    return model


def _revenue_rates(portfolio, workloads: list[str]) -> np.ndarray:
    """USD per H100e-hour served, per workload: the planner's and finance's own rates."""
    from gigawatt.optimize.cash import revenue_usd_per_h100e_hour

    return revenue_usd_per_h100e_hour(portfolio).sel(workload=workloads).to_numpy().astype(float)


def _site_energy(o: PlanOptions, site: str) -> np.ndarray:
    """The plan's energy cost at ``site`` per period (its own chips')."""
    rows = [i for i, s in enumerate(o.supply) if o.kind[s] == "own" and o.site_of[s] == site]
    return o.energy_cost[rows].sum(axis=0) if rows else np.zeros(len(o.hours))


def _other_costs(portfolio, drivers_for) -> list[tuple[np.ndarray, tuple[str, ...]]]:
    """Each finance.other_costs entry per period, with the drivers that scale it."""
    from gigawatt.series import resolve

    problems: list = []
    return [(resolve(spec, portfolio.horizon, path=f"finance.other_costs.{name}", location=None, problems=problems),
             drivers_for("other_costs", name)) for name, spec in portfolio.scenario.finance.other_costs.items()]
