"""policy.cash_floor in the planner: it binds and changes the plan, its shadow price is reported, the
planner's cash is finance's cash, and an impossible floor is named with its period and shortfall."""

from __future__ import annotations

import pytest

from helpers import scenario_text, solve_text
from gigawatt import finance
from gigawatt.errors import InfeasibleError

HOURS = 8760.0

# One year, 1000 chips of demand. Buying costs $10,000 a chip now but only $2,000 net over the year (80%
# salvage: 4 of its 5 years are left at the horizon's end); renting costs $0.5/h = $4,380 a chip-year.
# Buying is cheaper, renting lighter on cash. With $6M of cash and a floor of 0:
#   10,000 b + 4,380 (1000 − b) ≤ 6,000,000  →  b = 1,620,000 / 5,620 = 288.256 chips bought,
# and each dollar more of cash lets 1/5,620 chip more be bought, saving 2,380/5,620 = $0.4235.
ONE_YEAR = """
    providers:
      cloud: {kind: cloud, offers: {h100: {on_demand_price: 0.5 USD/h}}}
      lab: {kind: owned, sites: [dc]}
    sites:
      dc: {power_max: 10 MW, build_cost: 0 USD/MW, energy_price: 0 USD/MWh, accelerators: [h100]}
    workloads:
      train: {kind: training, demand: 8760000 H100_hours}
    finance:
      starting_cash: CASH
    policy:
      cash_floor: 0 USD
"""


NO_FLOOR = ("cash_floor: 0 USD", "share_targets: {}")


def one_year(tmp_path, cash: str, *, floor: bool = True):
    body = ONE_YEAR.replace("CASH", cash)
    return solve_text(tmp_path, body if floor else body.replace(*NO_FLOOR), start=2025, end=2025)


def test_floor_binds_and_changes_the_plan(tmp_path):
    free = one_year(tmp_path, "6 million USD", floor=False)
    assert float(free.ds["chips_bought"].sum()) == pytest.approx(1000)
    plan = one_year(tmp_path, "6 million USD")
    assert float(plan.ds["chips_bought"].sum()) == pytest.approx(1_620_000 / 5_620)
    rented = float(plan.ds["dispatch_chips"].sel(supply="cloud/h100").sum())
    assert rented == pytest.approx(1000 - 1_620_000 / 5_620)
    fin = finance.compute(plan, plan.portfolio)
    assert fin["cash_usd"].values == pytest.approx([0.0], abs=1e-3)
    assert plan.objective_usd == pytest.approx(4_380_000 - 2_380 * 1_620_000 / 5_620)


def test_shadow_price_is_in_binding(tmp_path):
    plan = one_year(tmp_path, "6 million USD")
    b = plan.stats.binding()
    row = b[b["constraint"] == "Cash-floor"]
    assert len(row) == 1
    assert row["period"].iloc[0] == "2025"
    assert row["value_usd"].iloc[0] == pytest.approx(2_380 / 5_620, rel=1e-6)
    assert row["relaxation"].iloc[0] == "one more dollar of funding available by 2025"


def test_slack_floor_has_no_shadow_price(tmp_path):
    plan = one_year(tmp_path, "20 million USD")
    assert float(plan.ds["chips_bought"].sum()) == pytest.approx(1000)
    assert "Cash-floor" not in set(plan.stats.binding()["constraint"])


# Three years with every cash line: the planner's own cash (Cash-level) is finance's cash.
RICH = """
    providers:
      cloud: {kind: cloud, offers: {h100: {on_demand_price: 0.6 USD/h}}}
      lab: {kind: owned, sites: [dc]}
    sites:
      dc: {power_max: 10 MW, build_cost: 1 million USD/MW, energy_price: 50 USD/MWh, accelerators: [h100, mi300x]}
    contracts:
      reserved: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 2 years, chips: 200,
                 price: 0.4 USD/h, take_or_pay: 50%, source: test}
      amd: {counterparty: amd, kind: supply, accelerator: mi300x, start: 2026, term: 1 year, chips: 300,
            equity_per_gw: 1 billion USD/GW, source: test}
    workloads:
      train: {kind: training, demand: {base: 8760000 H100_hours, base_period: 2025, growth_per_year: 30%}}
      serve: {kind: inference, demand: 4380000 H100_hours, revenue_per_h100_hour: 1 USD/H100_hour}
    finance:
      starting_cash: 8 million USD
      revenue: 2 million USD
      other_costs: {staff: 1 million USD}
      funding: {seed: {period: 2026, amount: 3 million USD}}
    policy:
      cash_floor: 1 million USD
"""


def test_planner_cash_is_finance_cash(tmp_path):
    plan = solve_text(tmp_path, RICH)
    fin = finance.compute(plan, plan.portfolio)
    assert plan.ds["cash_level_usd"].values == pytest.approx(fin["cash_usd"].values, rel=1e-9, abs=1e-2)
    assert fin["cash_usd"].values.min() >= 1e6 - 1e-2
    assert "Cash-floor" in set(plan.stats.binding()["constraint"])  # the floor binds in some period
    free = solve_text(tmp_path, RICH.replace("cash_floor: 1 million USD", "share_targets: {}"))
    assert plan.objective_usd > free.objective_usd + 1.0


def test_impossible_floor_names_the_floor_and_the_period(tmp_path):
    # renting everything, the cash-lightest plan, costs $4.38M: $0.38M more than the $4M there is
    with pytest.raises(InfeasibleError) as info:
        one_year(tmp_path, "4 million USD")
    msg = str(info.value)
    assert "cash floor: cash falls to -$380 thousand in 2025, $380 thousand below the floor of $0" in msg
    assert "policy.cash_floor at scenario.yaml:" in msg
    assert info.value.exit_code == 2


def test_cli_exit_code_2_for_an_impossible_floor(tmp_path):
    from typer.testing import CliRunner

    from gigawatt.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(ONE_YEAR.replace("CASH", "4 million USD"), start=2025, end=2025))
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["solve", str(path), "--out", str(out), "--no-register"])
    assert res.exit_code == 2, res.output
    assert "cash floor" in res.output and "2025" in res.output and "below the floor" in res.output
    assert "Traceback" not in res.output
    assert not out.exists()
