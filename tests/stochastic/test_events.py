"""Events in the futures (stochastic/events.py), applied as simulate applies them: a delayed site serves
nothing before its delayed date, a failed firm supply deal delivers no chips and is not paid, a replaced
vendor's chips cost more. Commitments stay shared; the draws are simulate's."""

import numpy as np
import pytest

from helpers import build_test_portfolio

# Demand 1,000 chip-years a year (the test chip is the H100 reference); a chip costs 10,000 USD, net of
# salvage 2,000 USD in a one-year horizon; an unserved chip-year costs 3 × 8,760 = 26,280 USD.
BODY = """
    providers:
      lab: {kind: owned, sites: [dc]}
    sites:
      dc: {power_max: 100 MW, build_cost: 0 USD/MW, energy_price: 0 USD/MWh, accelerators: [h100]}
    workloads:
      train: {kind: training, demand: 8760000 H100_hours}
    config: {solve: {unmet_penalty: 3 USD/H100_hour}}
    uncertainty:
      seed: 11
      events:
EVENTS"""


def futures(tmp_path, events: str, n: int = 8, **kw):
    from gigawatt.stochastic.futures import draw_futures

    p = build_test_portfolio(tmp_path, BODY.replace("EVENTS", events), **kw)
    return p, draw_futures(p, n)


def test_event_draws_are_simulates(tmp_path):
    """Future i has the event exactly when simulate's draw i of the same seed has it."""
    from gigawatt.risk.sample import Sampler

    p, f = futures(tmp_path, "        late: {kind: site_delay, target: dc, probability: 50%, delay: 12 months}\n")
    drawn = Sampler(p.scenario.uncertainty, 3).sample(11, 0, 8).events["late"]
    np.testing.assert_array_equal(f.factors["late"].to_numpy(), drawn.astype(int))
    assert 0 < drawn.sum() < 8 and f.ignored == []


def test_delayed_site_serves_nothing_before_its_delay(tmp_path):
    """Three years, delay of 12 months (one period) in the futures that draw it: their chips serve from
    2026, so 2025's demand is unmet there, whatever is bought; the other futures serve everything (a
    chip-year at 2,000 USD beats 26,280 unmet) and have no delay in their data."""
    from gigawatt.stochastic.extensive import solve_extensive

    _, f = futures(tmp_path, "        late: {kind: site_delay, target: dc, probability: 50%, delay: 12 months}\n")
    hit = f.factors["late"].to_numpy().astype(bool)
    delay = f.portfolio.data["site_delay_periods"].sel(site="dc").to_numpy()
    np.testing.assert_allclose(delay, np.where(hit, 1.0, 0.0))
    from gigawatt.optimize.build import create_model
    from gigawatt.optimize.solve import solve

    ctx = create_model(f.portfolio, allow_unmet=True, probability=f.probability)
    assert solve(ctx).termination == "optimal"
    unmet = ctx.model.variables["Workload-unmet"].solution.sel(workload="train") * 1e6  # H100e-hours
    x = ctx.model.variables["Supply-dispatch"].solution.sel(supply=list(ctx.own)).fillna(0).sum(["supply", "workload"])
    first = f.portfolio.data.indexes["period"][0]
    assert float(x.sel(period=first).isel(future=np.flatnonzero(hit)).max()) == pytest.approx(0, abs=1e-9)
    demand = float(f.portfolio.data["demand_h100e_hours"].sel(workload="train", period=first))
    np.testing.assert_allclose(unmet.sel(period=first).isel(future=np.flatnonzero(hit)), demand, rtol=1e-6)
    np.testing.assert_allclose(unmet.isel(future=np.flatnonzero(~hit)), 0, atol=1e-3)
    np.testing.assert_allclose(unmet.isel(future=np.flatnonzero(hit)).sel(period=slice("2026", None)), 0, atol=1e-3)
    sol = solve_extensive(f)
    assert float(sol.commitments["Own-buy"].sum()) * 1e3 == pytest.approx(1000, rel=1e-6)


def test_vendor_replaced_makes_its_chips_dearer_where_it_happens(tmp_path):
    """One year, 1,000 chips bought in every future (shared); a future with nvidia replaced (+50%) pays
    1.5 × 2,000 × 1,000 = 3,000,000 for them, the others 2,000,000."""
    from gigawatt.stochastic.extensive import solve_extensive

    _, f = futures(tmp_path, "        swap: {kind: vendor_replaced, target: nvidia, probability: 50%, price_change: 50%}\n",
                   start=2025, end=2025)
    hit = f.factors["swap"].to_numpy().astype(bool)
    assert 0 < hit.sum() < len(hit)
    sol = solve_extensive(f)
    assert float(sol.commitments["Own-buy"].sum()) * 1e3 == pytest.approx(1000, rel=1e-6)
    np.testing.assert_allclose(sol.npc_usd.values, np.where(hit, 3_000_000, 2_000_000), rtol=1e-6)


DEAL = """
    contracts:
      nv: {counterparty: nvidia, kind: supply, accelerator: h100, start: 2025, term: 1 year, chips: 500,
           source: test}
"""


def test_failed_supply_deal_delivers_nothing_and_is_not_paid(tmp_path):
    """One year, a firm deal for 500 chips fails in some futures: there the lab holds q − 500 chips and is
    refunded 500 × 2,000 = 1,000,000 (capex net of salvage). Chips are shared: q chips cost 2,000 q and an
    unserved chip-year 26,280, so with P(fail) = p ≥ 2,000 / 26,280 the hedge buys q = 1,500 (every future
    served) and each future costs 3,000,000, less the refund where the deal failed. Its cash gets the
    capex back: 5,000,000."""
    from gigawatt.stochastic.extensive import solve_extensive

    p, f = futures(tmp_path, "        nv_fails: {kind: contract_failure, target: nv, probability: 50%}\n" + DEAL,
                   start=2025, end=2025)
    hit = f.factors["nv_fails"].to_numpy().astype(bool)
    assert 0 < hit.sum() < len(hit) and f.ignored == []
    sol = solve_extensive(f)
    assert float(sol.commitments["Own-buy"].sum()) * 1e3 == pytest.approx(1500, rel=1e-6)
    np.testing.assert_allclose(sol.npc_usd.values, np.where(hit, 2_000_000, 3_000_000), rtol=1e-6)
    np.testing.assert_allclose(sol.unmet_h100e_hours.values, 0, atol=1e-3)
    cash = f.portfolio.data["event_cash_usd"].sum("period").to_numpy()
    np.testing.assert_allclose(cash, np.where(hit, 5_000_000, 0.0))
