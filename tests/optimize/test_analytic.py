"""Hand-computed optima: each test states the optimum and checks the objective and the key decisions.

Discount rate 0 and the test chip (conftest.TEST_ACCELERATORS: H100 reference, 1 kW, $10,000, 5 years,
50% utilisation) make every figure computable by hand. Hours per year: 8,760 (2025–2027 are not leap years).
"""

import pytest

from helpers import solve_text

H = 8760.0


def test_one_provider_one_workload_costs_price_times_hours(tmp_path):
    plan = solve_text(tmp_path, """
        providers:
          aws: {kind: cloud, offers: {h100: {on_demand_price: 2 USD/h}}}
        workloads:
          chat: {kind: inference, demand: 1000000 H100_hours}
    """)
    assert plan.objective_usd == pytest.approx(2.0 * 1e6 * 3, rel=1e-9)
    chips = plan.stats.capacity("supply")["aws/h100"]
    assert chips.to_numpy() == pytest.approx([1e6 / H] * 3, rel=1e-9)
    assert plan.stats.marginal_cost()["chat"].to_numpy() == pytest.approx([2.0] * 3, rel=1e-9)


def test_cheaper_provider_wins_until_its_limit_then_the_next(tmp_path):
    plan = solve_text(tmp_path, """
        providers:
          a: {kind: cloud, offers: {h100: {on_demand_price: 2 USD/h, available: 100}}}
          b: {kind: cloud, offers: {h100: {on_demand_price: 3 USD/h}}}
        workloads:
          train: {kind: training, demand: 1752000 H100_hours}   # 200 chips all year
    """)
    cap = plan.stats.capacity("supply")
    assert cap["a/h100"].to_numpy() == pytest.approx([100] * 3, rel=1e-9)
    assert cap["b/h100"].to_numpy() == pytest.approx([100] * 3, rel=1e-9)
    assert plan.objective_usd == pytest.approx(3 * H * (100 * 2 + 100 * 3), rel=1e-9)
    # the marginal H100-hour comes from b
    assert plan.stats.marginal_cost()["train"].to_numpy() == pytest.approx([3.0] * 3, rel=1e-9)
    binding = plan.stats.binding()
    row = binding[binding["constraint"] == "Lease-capacity"]
    assert len(row) == 3 and row["value_usd"].to_numpy() == pytest.approx([H * 1.0] * 3, rel=1e-6)


def test_power_limit_binds_and_forces_a_second_site(tmp_path):
    # One year. A chip costs 10,000 × (1 − 4/5 salvage) = 2,000 within the horizon; facility 1 (2) MUSD/MW
    # with 13/14 salvage. 1 MW hosts 1,000 chips (1 kW all-in at the reference PUE 1.14).
    plan = solve_text(tmp_path, """
        providers:
          lab: {kind: owned, sites: [cheap, dear]}
        sites:
          cheap: {power_max: 1 MW, build_cost: 1 million USD/MW, energy_price: 0 USD/MWh, accelerators: [h100]}
          dear: {power_max: 10 MW, build_cost: 2 million USD/MW, energy_price: 0 USD/MWh, accelerators: [h100]}
        workloads:
          train: {kind: training, demand: 13140000 H100_hours}   # 1,500 chips all year
    """, start=2025, end=2025)
    power = plan.ds["site_power_mw"].sel(period="2025").to_pandas()
    assert power["cheap"] == pytest.approx(1.0, rel=1e-9)
    assert power["dear"] == pytest.approx(0.5, rel=1e-9)
    expected = 1500 * 2000 + 1.0 * 1e6 / 14 + 0.5 * 2e6 / 14
    assert plan.objective_usd == pytest.approx(expected, rel=1e-9)
    relax = plan.stats.binding()
    assert "one more MW of power_max at site cheap in 2025" in set(relax["relaxation"])


def test_firm_contract_is_paid_even_when_unused(tmp_path):
    body = """
        providers:
          aws: {kind: cloud, offers: {h100: {on_demand_price: 1 USD/h}}}
        contracts:
          reserved: {counterparty: aws, kind: capacity, accelerator: h100, start: 2025, term: 3 years,
                     chips: 100, price: 2.5 USD/h, take_or_pay: TOP, source: test}
        workloads:
          chat: {kind: inference, demand: 0 H100_hours}
    """
    full = solve_text(tmp_path, body.replace("TOP", "100%"))
    assert full.objective_usd == pytest.approx(100 * 2.5 * H * 3, rel=1e-9)
    assert full.stats.cost("category")["contract"].sum() == pytest.approx(100 * 2.5 * H * 3, rel=1e-9)
    half = solve_text(tmp_path, body.replace("TOP", "50%"))
    assert half.objective_usd == pytest.approx(0.5 * 100 * 2.5 * H * 3, rel=1e-9)


def test_firm_contract_capacity_is_used_before_cheaper_on_demand(tmp_path):
    plan = solve_text(tmp_path, """
        providers:
          aws: {kind: cloud, offers: {h100: {on_demand_price: 1 USD/h}}}
        contracts:
          reserved: {counterparty: aws, kind: capacity, accelerator: h100, start: 2025, term: 3 years,
                     chips: 100, price: 2.5 USD/h, source: test}
        workloads:
          chat: {kind: inference, demand: 1314000 H100_hours}   # 150 chips
    """)
    cap = plan.stats.capacity("supply")
    assert cap["contract:reserved"].to_numpy() == pytest.approx([100] * 3)
    assert cap["aws/h100"].to_numpy() == pytest.approx([50] * 3, rel=1e-9)
    assert plan.objective_usd == pytest.approx(3 * H * (100 * 2.5 + 50 * 1), rel=1e-9)


def test_share_target_changes_the_plan(tmp_path):
    body = """
        providers:
          a: {kind: cloud, offers: {h100: {on_demand_price: 2 USD/h}}}
          b: {kind: cloud, offers: {h100: {on_demand_price: 3 USD/h}}}
        workloads:
          train: {kind: training, demand: 1752000 H100_hours}   # 200 chips
        policy:
          share_targets:
            b_in_2026: {providers: [b], min_share: 75%, periods: [2026]}
    """
    plan = solve_text(tmp_path, body)
    cap = plan.stats.capacity("supply")
    assert cap["b/h100"].to_numpy() == pytest.approx([0, 150, 0], abs=1e-6)
    assert plan.objective_usd == pytest.approx(3 * H * 200 * 2 + 150 * H * 1.0, rel=1e-9)
    shares = plan.stats.targets().set_index("period")
    assert shares.loc["2026", "share"] == pytest.approx(0.75, rel=1e-9)
    without = solve_text(tmp_path, body, sets=["policy.share_targets.b_in_2026.min_share=0"])
    assert without.objective_usd == pytest.approx(3 * H * 200 * 2, rel=1e-9)


def test_vendor_cap_limits_a_vendor_share(tmp_path):
    plan = solve_text(tmp_path, """
        providers:
          a: {kind: cloud, offers: {h100: {on_demand_price: 2 USD/h}, mi300x: {on_demand_price: 3 USD/h}}}
        workloads:
          train: {kind: training, demand: 1752000 H100_hours}
        policy:
          share_targets:
            nvidia_cap: {vendors: [nvidia], max_share: 80%}
    """)
    assert plan.stats.shares("vendor")["nvidia"].to_numpy() == pytest.approx([0.8] * 3, rel=1e-9)
    assert plan.objective_usd == pytest.approx(3 * H * (160 * 2 + 40 * 3), rel=1e-9)


def test_lead_time_makes_early_demand_unmet(tmp_path):
    plan = solve_text(tmp_path, """
        providers:
          lab: {kind: owned, sites: [slow]}
        sites:
          slow: {power_max: 10 MW, build_cost: 1 million USD/MW, lead_time: 24 months,
                 energy_price: 0 USD/MWh, accelerators: [h100]}
        workloads:
          train: {kind: training, demand: 876000 H100_hours, unmet_penalty: 50 USD/H100_hour}  # 100 chips
    """, allow_unmet=True)
    assert plan.stats.unmet()["train"].to_numpy() == pytest.approx([1.0, 1.0, 0.0], abs=1e-9)
    # 2025 and 2026 pay the penalty; 2027 buys 100 chips (salvage 4/5) and 0.1 MW (salvage 13/14)
    expected = 2 * 876000 * 50 + 100 * 10000 * (1 - 4 / 5) + 0.1 * 1e6 / 14
    assert plan.objective_usd == pytest.approx(expected, rel=1e-9)


def test_chips_retire_after_their_useful_life(tmp_path):
    plan = solve_text(tmp_path, """
        providers:
          lab: {kind: owned, sites: [s]}
        sites:
          s: {power_max: 10 MW, build_cost: 1 million USD/MW, energy_price: 0 USD/MWh, accelerators: [h100]}
        workloads:
          train: {kind: training, demand: 876000 H100_hours}
    """, sets=["accelerators.h100.useful_life=1 year"])
    bought = plan.ds["chips_bought"].sel(supply="s/h100").to_numpy()
    assert bought == pytest.approx([100, 100, 100], rel=1e-9)


def test_energy_cost_is_power_times_hours_times_price(tmp_path):
    plan = solve_text(tmp_path, """
        providers:
          lab: {kind: owned, sites: [s]}
        sites:
          s: {power_max: 10 MW, build_cost: 0 USD/MW, energy_price: 100 USD/MWh, accelerators: [h100]}
        workloads:
          train: {kind: training, demand: 876000 H100_hours}
    """, start=2025, end=2025)
    # 100 chips × 1 kW = 0.1 MW × 8,760 h × $100/MWh
    assert plan.stats.cost("category")["energy"].sum() == pytest.approx(0.1 * H * 100, rel=1e-9)


def test_discounting_uses_mid_period_factors(tmp_path):
    plan = solve_text(tmp_path, """
        providers:
          aws: {kind: cloud, offers: {h100: {on_demand_price: 1 USD/h}}}
        workloads:
          chat: {kind: inference, demand: 1000000 H100_hours}
    """, rate="10%")
    df = plan.ds["discount_factor"].to_numpy()
    assert df[0] == pytest.approx(1.1 ** -0.5, rel=1e-3)
    assert plan.objective_usd == pytest.approx(1e6 * df.sum(), rel=1e-9)
