"""The compiled kernel computes what the numpy version of the same model computed, output by output."""

from __future__ import annotations

import numpy as np
import pytest
from numpy_kernel import run_chunk as numpy_run_chunk
from risk_helpers import UNCERTAINTY, solve_to_run, write_scenario

from gigawatt.risk.io import load_run
from gigawatt.risk.simulate import build_model, run_chunk

# every event often, and driver sets of two drivers (demand, per-use price) so products are exercised
BUSY = (UNCERTAINTY.replace("probability: 25%", "probability: 50%").replace("probability: 5%", "probability: 40%")
        .replace("  events:", """    all_demand: {target: demand, distribution: normal, params: {mean: 1.0, sd: 0.1}}
    any_price: {target: price, distribution: uniform, params: {low: 0.9, high: 1.2}}
  events:"""))


@pytest.fixture(scope="module", params=["scenario", "busy"])
def model(request, risk_run, tmp_path_factory):
    if request.param == "scenario":
        run = risk_run
    else:
        tmp = tmp_path_factory.mktemp("busy")
        run = solve_to_run(write_scenario(tmp, BUSY), tmp / "run")
    plan, portfolio = load_run(run)
    return build_model(plan, portfolio)


def test_compiled_kernel_matches_the_numpy_kernel(model):
    n = 2 * 4096 + 300  # two full blocks and a partial one
    got = run_chunk(model, 3, 4096, n)
    want = numpy_run_chunk(model, 3, 4096, n)
    for name in ("cash", "cash_flow", "unmet_fraction", "stranded_fraction", "npc", "funding_gap"):
        a, b = np.asarray(getattr(got, name)), np.asarray(getattr(want, name))
        scale = max(float(np.abs(b).max()), 1.0)
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11 * scale, err_msg=name)
        assert np.std(b) > 0, f"{name} does not vary: the comparison would prove little"
    assert np.array_equal(got.below_zero, want.below_zero)
    assert np.array_equal(got.below_zero_by, want.below_zero_by)


def test_busy_scenario_has_products_and_events(model):
    """The second model really exercises driver products and frequent events (else the match above is weak)."""
    km = model.packed
    if "all_demand" in [v.name for v in model.sampler.drivers]:
        assert (np.diff(km.set_start) > 1).any()
        assert km.loss.any() and (km.event_cost.any() or km.event_saved.any())
