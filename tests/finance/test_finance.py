"""Finance of a plan: hand-computed P&L and cash, and properties (cash identity, NPV, depreciation,
take-or-pay) checked against figures rebuilt independently from the plan and the inputs."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings, strategies as st

from helpers import build_test_portfolio, scenario_text, solve_text
from gigawatt import finance

HOURS = 8760.0  # 2025, 2026 and 2027 are not leap years

# 1000 chips of training and 500 of inference (h100 is the H100 reference: an H100-hour is a chip-hour),
# all owned: chips live 2 years, the site's facility 2 years.
LAB = """
    providers:
      lab: {kind: owned, sites: [dc]}
    sites:
      dc: {power_max: 10 MW, build_cost: 1 million USD/MW, energy_price: 100 USD/MWh, facility_life: 2 years,
           accelerators: [h100]}
    workloads:
      train: {kind: training, demand: 8760000 H100_hours}
      serve: {kind: inference, demand: 4380000 H100_hours, revenue_per_h100_hour: 2 USD/H100_hour}
    finance:
      starting_cash: 5 million USD
      revenue: 10 million USD
      other_costs: {staff: 3 million USD}
      funding: {seed: {period: 2026, amount: 20 million USD}}
"""
LIFE_2Y = ["accelerators.h100.useful_life=2 years"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    plan = solve_text(tmp_path_factory.mktemp("lab"), LAB, sets=LIFE_2Y)
    return plan, finance.compute(plan, plan.portfolio)


def test_lab_by_hand(lab):
    """1500 chips bought in 2025 (retire after 2026) and again in 2027; 1.5 MW built in 2025."""
    plan, fin = lab
    assert plan.ds["chips_bought"].sum("supply").values == pytest.approx([1500, 0, 1500])
    M = 1e6
    energy = 1500 * 1.0 * HOURS * 100 / 1e3  # chips × kW × h × USD/MWh
    revenue = 10 * M + 500 * HOURS * 2  # exogenous + 500 chips of inference at $2/H100-hour
    v = {k: fin[k].values for k in fin.data_vars if fin[k].dims == ("period",)}
    assert v["revenue_usd"] == pytest.approx([revenue] * 3)
    assert v["revenue_per_unit_usd"] == pytest.approx([8.76 * M] * 3)
    assert v["energy_usd"] == pytest.approx([energy] * 3)
    assert v["capex_chips_usd"] == pytest.approx([15 * M, 0, 15 * M])
    assert v["capex_sites_usd"] == pytest.approx([1.5 * M, 0, 0], abs=1e-3)
    ebitda = revenue - energy - 3 * M
    assert v["ebitda_usd"] == pytest.approx([ebitda] * 3)
    assert v["depreciation_chips_usd"] == pytest.approx([7.5 * M] * 3)
    assert v["depreciation_sites_usd"] == pytest.approx([0.75 * M, 0.75 * M, 0], abs=1e-3)
    assert v["operating_income_usd"] == pytest.approx([ebitda - 8.25 * M, ebitda - 8.25 * M, ebitda - 7.5 * M])
    flow = [revenue - 16.5 * M - energy - 3 * M, revenue - energy - 3 * M + 20 * M, revenue - 15 * M - energy - 3 * M]
    assert v["cash_flow_after_financing_usd"] == pytest.approx(flow)
    assert v["cash_usd"] == pytest.approx(5 * M + np.cumsum(flow))
    assert v["funding_usd"] == pytest.approx([0, 20 * M, 0])
    # the glossary's identities: after = before + financing; cumulative free cash flow = Σ before
    fcf = np.array(flow) - np.array([0, 20 * M, 0])
    assert v["free_cash_flow_usd"] == pytest.approx(fcf)
    assert v["cumulative_free_cash_flow_usd"] == pytest.approx(np.cumsum(fcf))
    # the compute cost in the P&L split by workload: 2/3 of the option's cost to training, 1/3 to inference
    option = 7.5 * M + energy
    assert v["compute_cost_training_usd"] == pytest.approx([option * 2 / 3] * 3)
    assert v["compute_cost_inference_usd"] == pytest.approx([option / 3] * 3)
    assert v["compute_cost_research_usd"] == pytest.approx([0] * 3)
    assert v["compute_cost_idle_usd"] == pytest.approx([0.75 * M, 0.75 * M, 0], abs=1e-3)
    parts = v["compute_cost_training_usd"] + v["compute_cost_inference_usd"] + v["compute_cost_idle_usd"]
    assert parts == pytest.approx(v["compute_cost_usd"])
    assert fin.attrs["min_cash_usd"] == pytest.approx(5 * M + flow[0])
    assert fin.attrs["min_cash_year"] == 2025 and fin.attrs["funding_gap_usd"] == 0.0
    assert v["net_book_value_usd"][-1] == pytest.approx(7.5 * M, abs=1e-3)  # half of the 2027 chips


def test_funding_gap_when_cash_goes_negative(tmp_path):
    plan = solve_text(tmp_path, LAB.replace("starting_cash: 5 million", "starting_cash: 0"), sets=LIFE_2Y)
    fin = finance.compute(plan, plan.portfolio)
    first = 18.76e6 - 16.5e6 - 1.314e6 - 3e6
    assert fin.attrs["min_cash_usd"] == pytest.approx(first)
    assert fin.attrs["funding_gap_usd"] == pytest.approx(-first)


def test_summary_json_has_the_finance_keys(tmp_path):
    from typer.testing import CliRunner

    from gigawatt.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(LAB))
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["-q", "solve", str(path), "--out", str(out), "--no-register",
                                   "--set", LIFE_2Y[0]])
    assert res.exit_code == 0, res.output
    s = json.loads((out / "summary.json").read_text())
    y = s["years"]["2026"]
    assert y["funding_usd"] == pytest.approx(20e6)
    assert y["cash_flow_after_financing_usd"] == pytest.approx(18.76e6 - 1.314e6 - 3e6 + 20e6)
    assert y["financing_usd"] == pytest.approx(20e6)
    assert y["free_cash_flow_usd"] == pytest.approx(y["cash_flow_after_financing_usd"] - y["financing_usd"])
    assert y["cost_usd_by_category"]["other"] == pytest.approx(3e6)
    for key in ("revenue_usd", "cumulative_free_cash_flow_usd", "cash_usd", "ebitda_usd", "operating_income_usd",
                "vendor_equity_usd"):
        assert y[key] is not None
    assert s["first_free_cash_flow_positive_year"] == 2026
    assert s["min_cash_year"] == 2025 and s["funding_gap_usd"] == 0.0
    assert s["commitments_usd_total"] == 0.0
    ds = xr.load_dataset(out / "plan.nc", engine="h5netcdf")
    assert ds["finance_cash_usd"].values[-1] == pytest.approx(s["years"]["2027"]["cash_usd"])
    assert (out / "tables" / "finance.csv").exists()
    assert (out / "tables" / "finance_compute_cost_by_workload_usd.csv").exists()


# --- properties ----------------------------------------------------------------------------------------------

FLOWS = """
    providers:
      cloud: {{kind: cloud, offers: {{h100: {{on_demand_price: 3 USD/h}}}}}}
      lab: {{kind: owned, sites: [dc]}}
    sites:
      dc: {{power_max: 2 MW, build_cost: 2 million USD/MW, energy_price: 80 USD/MWh, accelerators: [h100]}}
    contracts:
      reserved: {{counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 2 years, chips: 300,
                 price: 2 USD/h, take_or_pay: {top:.2f}, source: test}}
    workloads:
      train: {{kind: training, demand: {{base: {train} H100_hours, base_period: 2025, growth_per_year: 50%}}}}
      serve: {{kind: inference, demand: 2000000 H100_hours, revenue_per_h100_hour: {rate} USD/H100_hour}}
    finance:
      starting_cash: {cash} USD
      revenue: {{base: {revenue} USD, base_period: 2025, growth_per_year: 20%}}
      other_costs: {{staff: {other} USD}}
      funding: {{round: {{period: {round_period}, amount: {round_amount} USD}}}}
"""

money = st.integers(min_value=0, max_value=50_000_000)


@settings(max_examples=12, deadline=None)
@given(cash=money, revenue=money, other=money, rate=st.sampled_from([0, 1.5, 4]), top=st.floats(0, 1),
       train=st.integers(0, 30_000_000), round_period=st.sampled_from([2025, 2026, 2027]), round_amount=money)
def test_cash_identity_every_period(cash, revenue, other, rate, top, train, round_period, round_amount):
    top = round(top, 2)
    """Δcash = inflows − outflows in every period, both rebuilt here from the plan's decisions and the inputs."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = solve_text(Path(tmp), FLOWS.format(cash=cash, revenue=revenue, other=other, rate=rate, top=top,
                                                  train=train, round_period=round_period,
                                                  round_amount=round_amount))
    fin = finance.compute(plan, plan.portfolio)
    ds = plan.ds
    years = np.arange(3)
    served = ds["delivered_h100e_hours"].sel(workload="serve").sum("supply").values / 0.5  # H100-hours
    inflows = revenue * 1.2 ** years + rate * served + round_amount * (years == round_period - 2025)
    costs = sum(ds[f"cost_{k}_usd"].sum([d for d in ds[f"cost_{k}_usd"].dims if d != "period"]).values
                for k in ("capex_chips", "capex_sites", "lease", "contract", "energy"))
    outflows = costs + other
    cash_t = fin["cash_usd"].values
    delta = np.diff(cash_t, prepend=cash)
    assert delta == pytest.approx(inflows - outflows, rel=1e-9, abs=1e-3)
    assert fin["cash_flow_after_financing_usd"].values == pytest.approx(fin["inflows_usd"].values - fin["outflows_usd"].values)
    # take-or-pay payments whatever the use
    assert fin["contract_take_or_pay_usd"].values == pytest.approx([300 * 2 * HOURS * top] * 2 + [0.0])


def _stream():
    return st.lists(st.floats(0, 1e9), min_size=1, max_size=12)


@given(values=_stream(), r1=st.floats(0, 0.5), dr=st.floats(1e-3, 0.5))
def test_npv_of_a_cost_stream_falls_as_the_rate_rises(values, r1, dr):
    t = np.arange(len(values)) + 0.5  # mid-period, as the horizon discounts
    lo, hi = finance.npv(values, discount_rate=r1, t_years=t), finance.npv(values, discount_rate=r1 + dr, t_years=t)
    if max(values) > 1e-6:
        assert hi < lo
    else:
        assert hi <= lo


def test_npv_by_hand():
    assert finance.npv([100, 100], discount_rate=0.1, t_years=[0, 1]) == pytest.approx(100 + 100 / 1.1)
    assert np.isnan(finance.npv([1.0, np.nan], discount_rate=0.1, t_years=[0, 1]))


@settings(deadline=None)  # a shared machine: never fail on time (tests do not assert on time)
@given(outlay=st.lists(st.floats(0, 1e9), min_size=1, max_size=10), lives=st.data())
def test_depreciation_sums_to_capex_over_the_full_life(outlay, lives):
    n = len(outlay)
    life = lives.draw(st.lists(st.integers(1, 8), min_size=2, max_size=2))  # two assets, two lives
    padded = np.zeros((2, n + 8))
    padded[:, :n] = outlay
    da = xr.DataArray(padded, dims=("asset", "period"), coords={"asset": ["a", "b"]})
    dep = finance.straight_line(da, life_periods=xr.DataArray(life, dims="asset", coords={"asset": ["a", "b"]}))
    assert dep.sum("period").values == pytest.approx([sum(outlay)] * 2, rel=1e-9, abs=1e-6)
    # each period's charge is what the outlays still inside their life put there, by hand
    for i, L in enumerate(life):
        for t in range(n + 8):
            by_hand = sum(padded[i, s] / L for s in range(max(0, t - L + 1), t + 1))
            assert float(dep[i, t]) == pytest.approx(by_hand, rel=1e-9, abs=1e-6)
    assert (dep.values >= -1e-6).all()


def test_plan_depreciation_sums_to_capex_when_lives_end_inside(lab):
    """Chips of 2025 (2-year life) and the 2-year facility are fully depreciated within 2025-2027."""
    plan, fin = lab
    assert float(fin["depreciation_sites_usd"].sum()) == pytest.approx(float(fin["capex_sites_usd"].sum()))
    # chips: the 2025 purchase is fully depreciated, the 2027 one by half
    assert float(fin["depreciation_chips_usd"].sum()) == pytest.approx(15e6 + 7.5e6)


TAKE_OR_PAY = """
    providers:
      cloud: {{kind: cloud, offers: {{h100: {{on_demand_price: 3 USD/h}}}}}}
    contracts:
      reserved: {{counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 3 years, chips: 1000,
                 price: 2 USD/h, take_or_pay: 100%, source: test}}
    workloads:
      train: {{kind: training, demand: {demand} H100_hours}}
"""


@settings(max_examples=8, deadline=None)
@given(share=st.floats(0, 1.5))
def test_take_or_pay_costs_the_same_whatever_the_usage(share):
    """From no demand to 1.5× the contract's capacity: the contract's payments do not move."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = solve_text(Path(tmp), TAKE_OR_PAY.format(demand=share * 1000 * HOURS))
    fin = finance.compute(plan, plan.portfolio)
    assert fin["contract_usd"].values == pytest.approx([1000 * 2 * HOURS] * 3)
    assert fin["contract_use_usd"].values == pytest.approx([0.0] * 3, abs=1e-6)
    assert fin["lease_usd"].values == pytest.approx([max(0.0, share - 1) * 1000 * HOURS * 3] * 3, abs=1e-3)


def test_commitments_by_hand(tmp_path):
    p = build_test_portfolio(tmp_path, """
        providers:
          cloud: {kind: cloud, offers: {h100: {on_demand_price: 3 USD/h}}}
          lab: {kind: owned, sites: [dc]}
        sites:
          dc: {power_max: 10 MW, build_cost: 0 USD/MW, energy_price: 0 USD/MWh, accelerators: [mi300x]}
        contracts:
          reserved: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 5 years,
                     chips: 100, price: 1 USD/h, source: test}
          valued: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 2 years,
                   value: 3 million USD, price: 2 USD/h, source: test}
          amd: {counterparty: amd, kind: supply, accelerator: mi300x, start: 2026, term: 1 year, chips: 1000,
                source: test}
          option: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 1 year,
                   value: 1 billion USD, price: 2 USD/h, firm: false, source: test}
        workloads:
          train: {kind: training, demand: 0 H100_hours}
    """)
    t = finance.commitments(p)
    # 5 years from 2025-01: 2025-2029, 2028 a leap year; 2028-2029 lie past the horizon (ends 2027)
    assert t.at["reserved", "value_usd"] == pytest.approx(100 * 1 * (5 * 8760 + 24))
    assert t.at["valued", "value_usd"] == 3e6
    assert t.at["amd", "value_usd"] == pytest.approx(1000 * 8000)
    assert finance.commitments_usd_total(p) == pytest.approx(100 * (5 * 8760 + 24) + 3e6 + 8e6)
    assert finance.commitments_usd_total(p, include_options=True) == pytest.approx(100 * 43824 + 3e6 + 8e6 + 1e9)


def test_vendor_equity_is_financing_not_revenue(tmp_path):
    """A firm deal of 1000 chips × 1 kW = 1 MW at $2B/GW: $2M of equity the year it delivers, capped."""
    body = """
        providers:
          lab: {kind: owned, sites: [dc]}
        sites:
          dc: {power_max: 10 MW, build_cost: 0 USD/MW, energy_price: 0 USD/MWh, accelerators: [mi300x]}
        contracts:
          amd: {counterparty: amd, kind: supply, accelerator: mi300x, start: 2026, term: 1 year, chips: 1000,
                equity_per_gw: 2 billion USD/GW, equity_max: EQMAX, source: test}
        workloads:
          train: {kind: training, demand: 0 H100_hours}
    """
    plan = solve_text(tmp_path, body.replace("EQMAX", "10 million USD"))
    fin = finance.compute(plan, plan.portfolio)
    assert fin["vendor_equity_usd"].values == pytest.approx([0, 2e6, 0])
    assert fin["revenue_usd"].values == pytest.approx([0, 0, 0])
    assert fin["ebitda_usd"].values == pytest.approx([0, 0, 0])
    assert fin["cash_flow_after_financing_usd"].values == pytest.approx([0, 2e6 - 8e6, 0])
    plan = solve_text(tmp_path, body.replace("EQMAX", "1.5 million USD"))
    assert finance.compute(plan, plan.portfolio)["vendor_equity_usd"].values == pytest.approx([0, 1.5e6, 0])


def test_nan_is_never_zero(lab):
    """A NaN cost in the plan makes the cash from then on NaN, and the headline figures unknown."""
    plan, _ = lab
    from gigawatt.plan import Plan

    ds = plan.ds.copy(deep=True)
    ds["cost_energy_usd"][0, 1] = np.nan
    fin = finance.compute(Plan(ds, plan.portfolio), plan.portfolio)
    cash = fin["cash_usd"].values
    assert np.isfinite(cash[0]) and np.isnan(cash[1:]).all()
    assert np.isnan(fin.attrs["min_cash_usd"]) and np.isnan(fin.attrs["funding_gap_usd"])


def test_first_cash_flow_positive_year_is_before_financing(tmp_path):
    """A $20M round in 2025 makes 2025's cash flow positive, but not its free cash flow (−$2.054M)."""
    from gigawatt.results import summary

    plan = solve_text(tmp_path, LAB, sets=LIFE_2Y + ["finance.funding.seed.period=2025"])
    fin = finance.compute(plan, plan.portfolio)
    assert fin["cash_flow_after_financing_usd"].values[0] == pytest.approx(20e6 - 2.054e6)
    assert fin["free_cash_flow_usd"].values == pytest.approx([-2.054e6, 14.446e6, -0.554e6])
    s = summary(plan, fin)
    assert s["first_free_cash_flow_positive_year"] == 2026
    assert s["years"]["2025"]["free_cash_flow_usd"] == pytest.approx(-2.054e6)
