"""Each section of the portfolio build on its own: a tiny scenario, one section function, its arrays.

The sections share a BuildContext (horizon, problems); Portfolio.from_scenario runs them all and is
tested through the planner elsewhere. Here each section's own arithmetic and checks are pinned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import scenario_text

from gigawatt.portfolio.accelerators import H100E_HOUR_FLOP, build_accelerators, build_purchase_max, need
from gigawatt.portfolio.context import BuildContext, term_end
from gigawatt.portfolio.contracts import build_deals, contract_schedule, contract_table, ramp_level
from gigawatt.portfolio.finance import build_finance
from gigawatt.portfolio.sites import build_sites
from gigawatt.portfolio.supply import build_supply
from gigawatt.portfolio.targets import build_targets
from gigawatt.portfolio.workloads import build_workloads, efficiency, eligibility

PROVIDERS = """\
providers:
  cloud: {kind: cloud, offers: {h100: {on_demand_price: 2 USD/h, available: 100 chips}}}
  lab: {kind: owned, sites: [s1]}
sites:
  s1: {power_max: 10 MW, power_existing: 2 MW, build_cost: 1 million USD/MW, lead_time: 0 months,
       energy_price: 50 USD/MWh, accelerators: [h100]}
workloads:
  train: {kind: training, demand: 1000 H100_hours}
"""


def context(tmp_path, body: str, sets: list[str] | None = None, **kw) -> BuildContext:
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate

    path = tmp_path / "scenario.yaml"
    path.write_text(scenario_text(body, **kw))
    resolved = read(path, sets=sets or [])
    return BuildContext(validate(resolved), resolved)


def messages(ctx: BuildContext) -> list[str]:
    return [p.what for p in ctx.problems]


# --- context ---------------------------------------------------------------------------------------------


def test_term_end_counts_whole_months_as_calendar_months():
    assert term_end(pd.Timestamp("2025-01-01"), 3) == pd.Timestamp("2028-01-01")
    assert term_end(pd.Timestamp("2025-03-01"), 0.5) == pd.Timestamp("2025-09-01")


def test_coverage_is_the_share_of_each_period_inside_the_term(tmp_path):
    ctx = context(tmp_path, PROVIDERS)  # 2025..2027, yearly
    np.testing.assert_allclose(ctx.coverage("2025-07", 1.0), [184 / 365, 181 / 365, 0.0], rtol=1e-12)


def test_a_period_outside_the_horizon_is_a_problem_at_its_path(tmp_path):
    ctx = context(tmp_path, PROVIDERS)
    ctx.check_periods(["2026", "2031"], "policy", "x", "periods")
    assert messages(ctx) == ["period outside the horizon"]
    assert ctx.problems[0].path == "policy.x.periods" and ctx.problems[0].value == "2031"


# --- accelerators ----------------------------------------------------------------------------------------


def test_scenario_figures_override_the_catalog_in_canonical_units(tmp_path):
    ctx = context(tmp_path, PROVIDERS)
    accel = build_accelerators(ctx)
    assert accel.at["h100", "bf16_flop_per_s"] == pytest.approx(989e12)
    assert accel.at["h100", "all_in_power_kw"] == pytest.approx(1.0)  # "1 kW" in the test chip
    assert accel.at["mi300x", "purchase_price_usd"] == 8000


def test_need_reports_an_unknown_accelerator_and_a_missing_figure(tmp_path):
    ctx = context(tmp_path, PROVIDERS)
    accel = build_accelerators(ctx)
    accel.loc["h100", "rental_price_usd_per_chip_hour"] = np.nan
    assert need(ctx, accel, "h100", ["bf16_flop_per_s"], "here", ("x",))
    assert not need(ctx, accel, "h100", ["rental_price_usd_per_chip_hour"], "for an offer", ("x",))
    assert not need(ctx, accel, "h1000", ["bf16_flop_per_s"], "here", ("x",))
    assert messages(ctx) == ["accelerator 'h100' has no rental_price in the catalog, needed for an offer",
                             "unknown accelerator 'h1000'"]


def test_purchase_max_is_unlimited_unless_the_scenario_caps_it(tmp_path):
    ctx = context(tmp_path, PROVIDERS, sets=["accelerators.mi300x.purchase_max=5 chips"])
    limits = build_purchase_max(ctx, build_accelerators(ctx))
    assert np.isinf(limits.loc["h100"]).all()
    np.testing.assert_allclose(limits.loc["mi300x"], 5.0)


# --- sites -----------------------------------------------------------------------------------------------


def test_sites_carry_their_provider_and_power_envelope(tmp_path):
    ctx = context(tmp_path, PROVIDERS)
    sites, power_max, power_existing = build_sites(ctx, build_accelerators(ctx))
    assert sites.at["s1", "provider"] == "lab"
    np.testing.assert_allclose(power_max, [[10, 10, 10]])
    np.testing.assert_allclose(power_existing, [[2, 2, 2]])
    assert not ctx.problems


def test_a_site_no_provider_lists_is_a_problem(tmp_path):
    ctx = context(tmp_path, PROVIDERS.replace("sites: [s1]", "sites: []"))
    build_sites(ctx, build_accelerators(ctx))
    assert messages(ctx) == ["site 's1' is used by no provider"]


# --- contracts and deals ---------------------------------------------------------------------------------

CAPACITY = """\
contracts:
  c1: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 2 years, chips: 10,
       price: 1 USD/h, take_or_pay: 50%, source: test}
"""


def test_a_flat_ramp_is_one_inside_the_term(tmp_path):
    ctx = context(tmp_path, PROVIDERS + CAPACITY)
    c = ctx.sc.contracts["c1"]
    np.testing.assert_array_equal(ramp_level(ctx, "c1", c, ctx.coverage(c.start, c.term)), [1, 1, 0])


def test_take_or_pay_splits_payments_into_fixed_and_per_use(tmp_path):
    ctx = context(tmp_path, PROVIDERS + CAPACITY)
    cap, fixed, use_price = contract_schedule(ctx, "c1", ctx.sc.contracts["c1"], build_accelerators(ctx))
    np.testing.assert_allclose(cap, [10, 10, 0])
    np.testing.assert_allclose(fixed, 0.5 * cap * 1.0 * ctx.hours)  # half owed whatever the use
    assert use_price == pytest.approx(0.5)  # the other half per chip-hour used
    assert contract_table(ctx).at["c1", "take_or_pay"] == 0.5


def test_a_firm_vendor_deal_sets_a_cumulative_minimum_purchase(tmp_path):
    body = PROVIDERS + """\
contracts:
  deal: {counterparty: nvidia, kind: supply, accelerator: h100, start: 2025, term: 2 years, chips: 100,
         value: 1 million USD, source: test}
"""
    ctx = context(tmp_path, body)
    deals, minimum = build_deals(ctx, build_accelerators(ctx))
    assert deals.at["deal", "chips_total"] == 100
    np.testing.assert_allclose(minimum.loc["h100"], [50, 100, 100])  # spread by hours in the term
    assert not ctx.problems


# --- supply options --------------------------------------------------------------------------------------


def test_one_option_per_site_accelerator_offer_and_capacity_contract(tmp_path):
    ctx = context(tmp_path, PROVIDERS + CAPACITY)
    accel = build_accelerators(ctx)
    sites, _, _ = build_sites(ctx, accel)
    supply, arrays = build_supply(ctx, accel, sites)
    assert list(supply.index) == ["s1/h100", "cloud/h100", "contract:c1"]
    assert list(supply["kind"]) == ["own", "lease", "contract"]
    np.testing.assert_allclose(arrays["lease_available_chips"][1], 100)
    assert np.isinf(arrays["lease_available_chips"][0]).all()  # not a lease: no limit from this array
    np.testing.assert_allclose(arrays["contract_capacity_chips"][2], [10, 10, 0])


# --- workloads -------------------------------------------------------------------------------------------


def test_demand_in_flop_becomes_h100e_hours(tmp_path):
    body = PROVIDERS.replace("demand: 1000 H100_hours", f"demand: {2 * H100E_HOUR_FLOP:.6e} FLOP")
    ctx = context(tmp_path, body)
    accel = build_accelerators(ctx)
    supply, _ = build_supply(ctx, accel, build_sites(ctx, accel)[0])
    workloads, demand = build_workloads(ctx, accel, supply)
    np.testing.assert_allclose(demand, [[2, 2, 2]], rtol=1e-6)
    assert workloads.at["train", "utilisation_h100"] == 0.5


def test_efficiency_and_eligibility_per_option_and_workload(tmp_path):
    body = PROVIDERS.replace("demand: 1000 H100_hours", "demand: 1000 H100_hours, providers: [cloud]")
    ctx = context(tmp_path, body)
    accel = build_accelerators(ctx)
    supply, _ = build_supply(ctx, accel, build_sites(ctx, accel)[0])
    workloads, _ = build_workloads(ctx, accel, supply)
    eff = efficiency(ctx, accel, supply, workloads)
    np.testing.assert_allclose(eff[:, 0, :], 0.5 * ctx.hours[None, :].repeat(2, axis=0))  # H100 at 50%
    np.testing.assert_array_equal(eligibility(ctx, supply, workloads), [[False], [True]])


# --- targets and finance ---------------------------------------------------------------------------------


def test_a_share_target_groups_options_by_provider_in_its_periods(tmp_path):
    body = PROVIDERS + "policy:\n  share_targets:\n    own: {providers: [lab], min_share: 50%, periods: [2026]}\n"
    ctx = context(tmp_path, body)
    accel = build_accelerators(ctx)
    supply, _ = build_supply(ctx, accel, build_sites(ctx, accel)[0])
    targets, mask, active = build_targets(ctx, supply)
    assert targets.at["own", "min_share"] == 0.5
    np.testing.assert_array_equal(mask, [[True, False]])
    np.testing.assert_array_equal(active, [[False, True, False]])


def test_funding_lands_in_its_period(tmp_path):
    body = PROVIDERS + "finance:\n  funding:\n    round: {amount: 5 billion USD, period: 2026}\n"
    ctx = context(tmp_path, body)
    fin = build_finance(ctx)
    np.testing.assert_allclose(fin["funding_usd"], [0, 5e9, 0])
    np.testing.assert_allclose(fin["other_costs_usd"], 0)
