"""Infeasible plans are explained in the scenario's words; --allow-unmet reports the shortfall instead."""

import pytest

from helpers import scenario_text, solve_text
from gigawatt.errors import InfeasibleError

LEAD = """
    providers:
      lab: {kind: owned, sites: [abilene]}
    sites:
      abilene: {power_max: 10 MW, build_cost: 1 million USD/MW, lead_time: 24 months,
                energy_price: 0 USD/MWh, accelerators: [h100]}
    workloads:
      train: {kind: training, demand: 876000 H100_hours}
"""


def test_lead_time_conflict_names_workload_period_and_site(tmp_path):
    with pytest.raises(InfeasibleError) as info:
        solve_text(tmp_path, LEAD)
    msg = str(info.value)
    assert "no plan meets every constraint" in msg and "--allow-unmet" in msg
    assert "workload 'train' in 2025" in msg and "workload 'train' in 2026" in msg
    assert "'train' in 2027" not in msg
    assert "site abilene has no new power before its lead time (24 months)" in msg
    assert info.value.exit_code == 2


def test_allow_unmet_reports_the_shortfall_instead(tmp_path):
    plan = solve_text(tmp_path, LEAD, allow_unmet=True)
    assert plan.stats.unmet()["train"].to_numpy() == pytest.approx([1, 1, 0], abs=1e-9)


def test_firm_supply_without_room_names_site_contract_and_period(tmp_path):
    with pytest.raises(InfeasibleError) as info:
        solve_text(tmp_path, """
            providers:
              lab: {kind: owned, sites: [abilene]}
            sites:
              abilene: {power_max: {2025: 1.2 MW, 2026: 1.2 MW, 2027: 1.2 MW}, build_cost: 1 million USD/MW,
                        energy_price: 0 USD/MWh, accelerators: [mi300x]}
            contracts:
              amd_deal: {counterparty: amd, kind: supply, accelerator: mi300x, start: 2026, term: 1 year,
                         power: 1.8 MW, source: test}
            workloads:
              train: {kind: training, demand: 0 H100_hours}
        """)
    msg = str(info.value)
    assert "site 'abilene' needs 1.8 MW in 2026 but only 1.2 MW can be energised by then" in msg


def test_impossible_share_target_is_named(tmp_path):
    with pytest.raises(InfeasibleError) as info:
        solve_text(tmp_path, """
            providers:
              a: {kind: cloud, offers: {h100: {on_demand_price: 2 USD/h}}}
              b: {kind: cloud, offers: {h100: {on_demand_price: 3 USD/h, available: 10}}}
            workloads:
              train: {kind: training, demand: 1752000 H100_hours}
            policy:
              share_targets:
                stargate_2030: {providers: [b], min_share: 75%, periods: [2026]}
        """)
    msg = str(info.value)
    assert "share target 'stargate_2030' asks at least 75% of compute from b in 2026" in msg


def test_cli_exit_code_2_and_nothing_written(tmp_path):
    from typer.testing import CliRunner

    from gigawatt.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(LEAD))
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["solve", str(path), "--out", str(out), "--no-register"])
    assert result.exit_code == 2
    assert "infeasible:" in result.output and "workload 'train' in 2025" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    ok = CliRunner().invoke(app, ["-q", "solve", str(path), "--out", str(out), "--no-register", "--allow-unmet"])
    assert ok.exit_code == 0, ok.output
    assert (out / "summary.json").exists()
