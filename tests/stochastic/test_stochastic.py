"""The stochastic planner: a hand-solved newsvendor, WS ≤ SP ≤ EEV on random cases, seeds, sharing."""

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import build_test_portfolio

BODY = """
    providers:
      lab: {kind: owned, sites: [dc]}
    sites:
      dc: {power_max: 100 MW, build_cost: 0 USD/MW, energy_price: 0 USD/MWh, accelerators: [h100]}
    workloads:
      train: {kind: training, demand: 17520000 H100_hours}   # 2,000 chips all year
    config: {solve: {unmet_penalty: PENALTY USD/H100_hour}}
"""


def futures_of(portfolio, factors):
    """Equally likely futures whose demand is the portfolio's times each factor."""
    from gigawatt.stochastic.futures import Futures

    names = [f"f{i}" for i in range(len(factors))]
    f = xr.DataArray(np.asarray(factors, dtype=float), coords={"future": names})
    data = portfolio.data.copy()
    data["demand_h100e_hours"] = data["demand_h100e_hours"] * f
    prob = xr.ones_like(f) / len(factors)
    import pandas as pd

    return Futures(replace(portfolio, data=data), prob, 0, pd.DataFrame({"demand": factors}, index=names))


@pytest.fixture(scope="module")
def newsvendor(tmp_path_factory):
    p = build_test_portfolio(tmp_path_factory.mktemp("nv"), BODY.replace("PENALTY", "0.3"), start=2025, end=2025)
    return futures_of(p, [0.5, 1.5])


def test_newsvendor_optimum_by_hand(newsvendor):
    """One year, discount 0. A chip costs c = 10,000 × (1 − 4/5 salvage) = 2,000 USD within the horizon and
    serves 8,760 H100-hours; an unserved chip-year costs π = 0.3 × 8,760 = 2,628 USD. Demand is 1,000 or
    3,000 chip-years, each with probability 1/2; chips are bought before it is known.

    Expected cost of q chips (1,000 ≤ q ≤ 3,000): 2,000 q + ½ · 2,628 · (3,000 − q), slope 2,000 − 1,314 > 0,
    and below 1,000 the slope is 2,000 − 2,628 < 0: the newsvendor's q* = 1,000 (P(D > q) = ½ < c/π = 0.761).
    SP = 2,000,000 + ½ · 2,628 · 2,000 = 4,628,000.
    EV plan: mean demand 2,000, c < π so buy 2,000; EEV = 4,000,000 + ½ · 2,628 · 1,000 = 5,314,000.
    WS: buy exactly the demand: ½ (2,000,000 + 6,000,000) = 4,000,000.
    EVPI = 628,000, VSS = 686,000.
    Risk-averse, ω = 1, α = ½: CVaR is the cost of the high future, 2,000 q + 2,628 (3,000 − q), least at
    q = 3,000: 6,000,000."""
    from gigawatt.stochastic.extensive import solve_extensive, solve_mean, _wait_and_see

    sp = solve_extensive(newsvendor)
    assert float(sp.commitments["Own-buy"].sum()) * 1e3 == pytest.approx(1000, rel=1e-6)
    assert sp.expected_usd == pytest.approx(4_628_000, rel=1e-6)
    ev = solve_mean(newsvendor)
    assert float(ev["Own-buy"].sum()) * 1e3 == pytest.approx(2000, rel=1e-6)
    eev = solve_extensive(newsvendor, fixed=ev)
    assert eev.expected_usd == pytest.approx(5_314_000, rel=1e-6)
    ws = _wait_and_see(newsvendor, "auto", None)
    assert ws.expected_usd == pytest.approx(4_000_000, rel=1e-6)
    averse = solve_extensive(newsvendor, cvar_=(1.0, 0.5))
    assert float(averse.commitments["Own-buy"].sum()) * 1e3 == pytest.approx(3000, rel=1e-6)
    assert averse.cvar_usd(0.5) == pytest.approx(6_000_000, rel=1e-6)


def test_commitments_are_shared_and_recourse_is_not(newsvendor):
    """Non-anticipativity: one purchase for every future; dispatch differs by future (it serves what each
    future needs up to the shared chips)."""
    from gigawatt.optimize.build import create_model
    from gigawatt.optimize.solve import solve

    ctx = create_model(newsvendor.portfolio, allow_unmet=True, probability=newsvendor.probability)
    assert solve(ctx).termination == "optimal"
    m = ctx.model
    for name in ("Own-buy", "Own-chips", "Site-power"):
        assert "future" not in m.variables[name].dims
    unmet = m.variables["Workload-unmet"].solution.sum(["workload", "period"])
    assert float(unmet.sel(future="f0")) == pytest.approx(0.0, abs=1e-6)
    assert float(unmet.sel(future="f1")) > 1.0


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(factors=st.lists(st.floats(0.1, 3.0), min_size=2, max_size=4),
       penalty=st.sampled_from(["0.25", "0.3", "0.5", "1"]))
def test_ws_le_sp_le_eev(tmp_path_factory, factors, penalty):
    from gigawatt.stochastic.extensive import _wait_and_see, solve_extensive, solve_mean

    p = build_test_portfolio(tmp_path_factory.mktemp("r"), BODY.replace("PENALTY", penalty), start=2025, end=2026)
    fut = futures_of(p, factors)
    sp = solve_extensive(fut).expected_usd
    eev = solve_extensive(fut, fixed=solve_mean(fut)).expected_usd
    ws = _wait_and_see(fut, "auto", None).expected_usd
    tol = 1e-7 * max(1.0, abs(sp))
    assert ws <= sp + tol and sp <= eev + tol  # EVPI = SP − WS ≥ 0, VSS = EEV − SP ≥ 0


UNC = """
    uncertainty:
      seed: 7
      drivers:
        d: {target: demand, distribution: lognormal, params: {mean: 0, sd: 0.3}, mode: yearly}
        r: {target: revenue, applies_to: [exogenous], distribution: normal, params: {mean: 1, sd: 0.1}}
      correlations: [{between: [d, r], rho: 0.5}]
    finance: {revenue: 1 billion USD}
"""


def test_same_seed_same_futures_and_draws_do_not_depend_on_their_number(tmp_path):
    from gigawatt.stochastic import draw_futures

    p = build_test_portfolio(tmp_path, BODY.replace("PENALTY", "0.3") + UNC)
    a, b = draw_futures(p, 5), draw_futures(p, 5)
    xr.testing.assert_identical(a.portfolio.data, b.portfolio.data)
    more = draw_futures(p, 9)
    xr.testing.assert_identical(a.portfolio.data["demand_h100e_hours"],
                                more.portfolio.data["demand_h100e_hours"].isel(future=slice(0, 5)))
    other = draw_futures(p, 5, seed=8)
    assert not np.allclose(other.portfolio.data["demand_h100e_hours"], a.portfolio.data["demand_h100e_hours"])
    # the demand of future i is the base demand times simulate's factor of draw i in that year
    from gigawatt.risk.sample import Sampler

    s = Sampler(p.scenario.uncertainty, 3).sample(7, 0, 5)
    base = p.data["demand_h100e_hours"].sel(workload="train").values
    got = a.portfolio.data["demand_h100e_hours"].sel(workload="train").transpose("period", "future").values
    np.testing.assert_allclose(got, base[:, None] * s.factors["d"], rtol=1e-12)


def test_hedge_identical_for_identical_seeds(tmp_path):
    from gigawatt.stochastic import hedge

    p = build_test_portfolio(tmp_path, BODY.replace("PENALTY", "0.3") + UNC)
    one, two = hedge(p, 4, seed=3, metrics=False), hedge(p, 4, seed=3, metrics=False)
    assert one.sp.expected_usd == two.sp.expected_usd
    xr.testing.assert_equal(one.sp.commitments["Own-buy"], two.sp.commitments["Own-buy"])


def test_hedge_command_writes_the_run_directory_and_the_stochastic_block(tmp_path):
    import json

    from typer.testing import CliRunner

    from gigawatt.cli import app
    from helpers import scenario_text

    src = tmp_path / "s.yaml"
    src.write_text(scenario_text(BODY.replace("PENALTY", "0.3") + UNC))
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["hedge", str(src), "--out", str(out), "--futures", "3", "--no-register",
                                   "--cvar-weight", "0.5", "--cvar-alpha", "0.6"])
    assert res.exit_code == 0, res.output
    block = json.loads((out / "summary.json").read_text())["stochastic"]
    assert block["futures"] == 3 and block["ws_usd"] <= block["sp_usd"] + 1e-6 <= block["eev_usd"] + 2e-6
    assert block["hedged_cvar_usd"] <= block["neutral_cvar_usd"] + 1e-6  # CVaR weight buys tail protection
    frame = (out / "tables" / "futures.csv").read_text().splitlines()
    assert len(frame) == 4 and "npc_hedged_usd" in frame[0]
    assert (out / "plan.nc").exists()
    bad = CliRunner().invoke(app, ["hedge", str(src), "--out", str(tmp_path / "r2"), "--cvar-alpha", "1.5"])
    assert bad.exit_code == 1 and "--cvar-alpha" in bad.output
