"""A share target names its basis: compute (the default), power or spend."""

from __future__ import annotations

import pytest
from helpers import solve_text

# two clouds with chips of equal compute: 'fast' rents mi300x at 3x the price, and (set below) 3x the power
BODY = """
    providers:
      slow: {kind: cloud, offers: {h100: {on_demand_price: 1 USD/h}}}
      fast: {kind: cloud, offers: {mi300x: {on_demand_price: 3 USD/h}}}
    policy:
      share_targets:
        fast_half: {providers: [fast], min_share: 50%BASIS}
    workloads:
      train: {kind: training, demand: 876000 H100_hours}   # 100 chip-years
"""


@pytest.mark.parametrize("basis, fast_chips", [("", 50.0), ("compute", 50.0), ("power", 25.0), ("spend", 25.0)])
def test_share_target_holds_on_its_basis(tmp_path, basis, fast_chips):
    """Half of compute: 50 chips each. Half of power or of spend (3x per chip): 3·b = s, b + s = 100 → b = 25."""
    plan = solve_text(tmp_path, BODY.replace("BASIS", f", basis: {basis}" if basis else ""),
                      sets=["accelerators.mi300x.all_in_power=3 kW"])
    t = plan.stats.targets()
    assert (t["basis"] == (basis or "compute")).all()
    assert t["share"].to_numpy() == pytest.approx([0.5] * 3, rel=1e-6)  # binding: fast is dearer
    assert plan.stats.shares("provider", basis or "compute")["fast"].to_numpy() == pytest.approx([0.5] * 3, rel=1e-6)
    chips = plan.stats.capacity("provider", "chips")
    assert chips["fast"].to_numpy() == pytest.approx([fast_chips] * 3, rel=1e-6)
    assert chips["slow"].to_numpy() == pytest.approx([100 - fast_chips] * 3, rel=1e-6)
