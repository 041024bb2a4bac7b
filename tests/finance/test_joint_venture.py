"""Joint-venture sites (issue 13, item 3): the lab pays its equity share s of capex and energy and the
partners' share of the JV's offtake price, (1 − s) q per chip-hour in service; finance shows the partners'
share of capex beside the lab's. Checked against figures computed by hand from the inputs."""

from __future__ import annotations

import pytest

from helpers import solve_text
from gigawatt import finance

HOURS = 8760.0
M = 1e6

JV = """
    providers:
      jv:
        kind: joint_venture
        sites: [dc]
        ownership: {lab_share: 40%, offtake_price: {h100: 1.5 USD/h}}
    sites:
      dc: {power_max: 10 MW, build_cost: 1 million USD/MW, energy_price: 100 USD/MWh, facility_life: 2 years,
           accelerators: [h100]}
    workloads:
      train: {kind: training, demand: 8760000 H100_hours}
"""


@pytest.fixture(scope="module")
def jv(tmp_path_factory):
    plan = solve_text(tmp_path_factory.mktemp("jv"), JV, sets=["accelerators.h100.useful_life=3 years"])
    return plan, finance.compute(plan, plan.portfolio)


def test_lab_pays_its_share_and_the_partners_offtake(jv):
    """1000 chips bought in 2025 at $10k (life 3 years), 1 MW built; s = 40%, q = $1.5/h."""
    plan, fin = jv
    v = {k: fin[k].values for k in fin.data_vars if fin[k].dims == ("period",)}
    assert plan.ds["chips_bought"].sum("supply").values == pytest.approx([1000, 0, 0])
    assert v["capex_chips_usd"] == pytest.approx([0.4 * 10 * M, 0, 0])
    assert v["capex_sites_usd"] == pytest.approx([0.4 * 1 * M, 0, 0], abs=1e-3)
    assert v["capex_partners_usd"] == pytest.approx([0.6 * 11 * M, 0, 0], abs=1e-3)
    assert v["capex_sites_total_usd"] == pytest.approx([11 * M, 0, 0], abs=1e-3)
    energy = 1000 * 1.0 * HOURS * 100 / 1e3
    assert v["energy_usd"] == pytest.approx([0.4 * energy] * 3)
    assert v["offtake_usd"] == pytest.approx([0.6 * 1.5 * 1000 * HOURS] * 3)
    assert v["depreciation_chips_usd"] == pytest.approx([0.4 * 10 * M / 3] * 3)
    # the objective (0% discount rate, no salvage past a life ending with the horizon) counts the same
    facility_salvage = 0.0
    total = 0.4 * 11 * M + 3 * (0.4 * energy + 0.6 * 1.5 * 1000 * HOURS) - facility_salvage
    assert plan.ds.attrs["objective_usd"] == pytest.approx(total, rel=1e-6)


def test_default_offtake_is_the_levelised_cost(tmp_path):
    """Without offtake_price: q = p/L + c·kW/L_s per year over 8,760 h + energy, at a partner return of 0."""
    body = JV.replace("offtake_price: {h100: 1.5 USD/h}", "partner_return: 0%")
    plan = solve_text(tmp_path, body, sets=["accelerators.h100.useful_life=3 years"])
    q = (10000 / 3 + 1e6 * 1.0 / 1e3 / 2) / HOURS + 1.0 / 1e3 * 100
    assert plan.portfolio.supply.at["dc/h100", "offtake_usd_per_chip_hour"] == pytest.approx(q)


def test_full_ownership_is_unchanged(tmp_path):
    plan = solve_text(tmp_path, JV.replace("lab_share: 40%", "lab_share: 100%"),
                      sets=["accelerators.h100.useful_life=3 years"])
    fin = finance.compute(plan, plan.portfolio)
    assert fin["capex_partners_usd"].values == pytest.approx([0, 0, 0])
    assert fin["offtake_usd"].values == pytest.approx([0, 0, 0])
    assert fin["capex_chips_usd"].values == pytest.approx([10 * M, 0, 0])


def test_ownership_outside_a_joint_venture_is_refused(tmp_path):
    from gigawatt.errors import GigawattError

    with pytest.raises(GigawattError, match="ownership only for the sites of a joint_venture"):
        solve_text(tmp_path, JV.replace("kind: joint_venture", "kind: owned"))
