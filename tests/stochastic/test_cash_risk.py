"""The cash limit in risk terms (docs/formulation.md, "Cash in risk terms"): a soft per-future cash floor
and a CVaR limit on the funding gap, on the hand-solved newsvendor of test_stochastic.py with revenue."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from helpers import build_test_portfolio

# test_stochastic.py's newsvendor (a chip costs 10,000 USD cash, 2,000 USD net of salvage; an unserved
# chip-year costs 2,628 USD; demand 1,000 or 3,000 chip-years) plus revenue of 0.5 USD per H100-hour
# served (4,380 USD per chip-year) and no starting cash. Cash at the year's end in future f, buying q:
#   K_f = −10,000 q + 4,380 min(q, D_f),  so for q ≤ 1,000 both futures have K = −5,620 q, and for
#   1,000 ≤ q ≤ 3,000: K_low = −10,000 q + 4,380,000, K_high = −5,620 q.
BODY = """
    providers:
      lab: {kind: owned, sites: [dc]}
    sites:
      dc: {power_max: 100 MW, build_cost: 0 USD/MW, energy_price: 0 USD/MWh, accelerators: [h100]}
    workloads:
      train: {kind: training, demand: 17520000 H100_hours, revenue_per_h100_hour: 0.5 USD/H100_hour}
    finance:
      starting_cash: 0 USD
    config: {solve: {unmet_penalty: 0.3 USD/H100_hour}}
"""


@pytest.fixture(scope="module")
def futures(tmp_path_factory):
    from gigawatt.stochastic.futures import Futures

    p = build_test_portfolio(tmp_path_factory.mktemp("cash"), BODY, start=2025, end=2025)
    names = ["low", "high"]
    f = xr.DataArray([0.5, 1.5], coords={"future": names})
    data = p.data.copy()
    data["demand_h100e_hours"] = data["demand_h100e_hours"] * f
    return Futures(replace(p, data=data), xr.ones_like(f) / 2, 0, pd.DataFrame({"demand": [0.5, 1.5]}, index=names))


def bought(sol) -> float:
    return float(sol.commitments["Own-buy"].sum()) * 1e3


def test_funding_gap_read_per_future(futures):
    """Unconstrained, risk-neutral: q = 1,000 (test_stochastic.py), so each future's cash is −5,620,000
    and its funding gap 5,620,000."""
    from gigawatt.stochastic.extensive import solve_extensive

    sp = solve_extensive(futures)
    assert bought(sp) == pytest.approx(1000, rel=1e-6)
    np.testing.assert_allclose(sp.funding_gap_usd.values, [5_620_000, 5_620_000], rtol=1e-6)


def test_cvar_gap_limit_binds_as_derived(futures):
    """Risk-averse in cost (ω = 1, α = ½: the high future's cost 2,000 q + 2,628 (3,000 − q), which falls
    with q, so q = 3,000 unconstrained) under CVaR_¼ of the funding gap ≤ L. For 1,000 ≤ q ≤ 3,000 the gaps
    are G_low = 10,000 q − 4,380,000 > G_high = 5,620 q, and CVaR_¼ is the mean of the worst ¾ of
    probability: (½ G_low + ¼ G_high) / ¾ = (2 G_low + G_high) / 3 = 8,540 q − 2,920,000. With
    L = 14,160,000 the limit allows q ≤ 17,080,000 / 8,540 = 2,000, where the cost objective stops:
    q* = 2,000, cost CVaR_½ = 4,000,000 + 2,628,000 = 6,628,000. A loose limit changes nothing."""
    from gigawatt.optimize.context import CashRisk
    from gigawatt.stochastic.extensive import solve_extensive

    free = solve_extensive(futures, cvar_=(1.0, 0.5))
    assert bought(free) == pytest.approx(3000, rel=1e-6)
    limit = CashRisk(max_cvar_gap_usd=14_160_000, gap_alpha=0.25)
    sol = solve_extensive(futures, cvar_=(1.0, 0.5), cash_risk=limit)
    assert bought(sol) == pytest.approx(2000, rel=1e-6)
    assert sol.cvar_usd(0.5) == pytest.approx(6_628_000, rel=1e-6)
    assert sol.funding_gap(0.25)["cvar_usd"] == pytest.approx(14_160_000, rel=1e-6)
    loose = solve_extensive(futures, cvar_=(1.0, 0.5), cash_risk=CashRisk(max_cvar_gap_usd=1e12, gap_alpha=0.25))
    assert bought(loose) == pytest.approx(bought(free), rel=1e-9)
    assert loose.expected_usd == pytest.approx(free.expected_usd, rel=1e-9)


def test_risk_neutral_gap_limit(futures):
    """Risk-neutral: below q = 1,000 both gaps are 5,620 q and expected cost falls with q (slope
    2,000 − 2,628), so CVaR_¼(gap) ≤ 4,000,000 gives q = 4,000,000 / 5,620 = 711.74."""
    from gigawatt.optimize.context import CashRisk
    from gigawatt.stochastic.extensive import solve_extensive

    sol = solve_extensive(futures, cash_risk=CashRisk(max_cvar_gap_usd=4_000_000, gap_alpha=0.25))
    assert bought(sol) == pytest.approx(4_000_000 / 5_620, rel=1e-6)


def test_soft_floor_penalty_as_derived(futures):
    """Floor 0, penalty λ per USD short for a year (one yearly period here). For q ≤ 1,000 the shortfall
    is 5,620 q in both futures and the expected cost's slope is 2,000 − 2,628 + 5,620 λ; above 1,000 it
    is positive for any λ ≥ 0. So λ = 0.05 keeps q = 1,000 (cost 4,628,000 + 0.05 × 5,620,000 =
    4,909,000) and λ = 0.2 (> 628 / 5,620 = 0.1117) buys nothing: cost ½ 2,628 (1,000 + 3,000) = 5,256,000."""
    from gigawatt.optimize.context import CashRisk
    from gigawatt.stochastic.extensive import solve_extensive

    low = solve_extensive(futures, cash_risk=CashRisk(floor_penalty=0.05))
    assert bought(low) == pytest.approx(1000, rel=1e-6)
    assert low.expected_usd == pytest.approx(4_909_000, rel=1e-6)
    np.testing.assert_allclose(low.shortfall_penalty_usd.values, [281_000, 281_000], rtol=1e-6)
    high = solve_extensive(futures, cash_risk=CashRisk(floor_penalty=0.2))
    assert bought(high) == pytest.approx(0, abs=1e-6)
    assert high.expected_usd == pytest.approx(5_256_000, rel=1e-6)


def test_impossible_limit_names_it(futures, tmp_path):
    """A funding gap limit below what the futures need whatever the plan: exit 2 naming the limit.
    Here q = 0 has no gap, so make the floor 1 USD above cash: with policy.cash_floor 1 million USD, every
    plan's gap is ≥ 1,000,000 > L = 10."""
    from gigawatt.errors import InfeasibleError
    from gigawatt.optimize.context import CashRisk
    from gigawatt.stochastic.extensive import solve_extensive

    sc = futures.portfolio.scenario
    policy = sc.policy.model_copy(update={"cash_floor": 1e6})
    f = replace(futures, portfolio=replace(futures.portfolio, scenario=sc.model_copy(update={"policy": policy})))
    with pytest.raises(InfeasibleError) as err:
        solve_extensive(f, cash_risk=CashRisk(max_cvar_gap_usd=10, gap_alpha=0.25, floor_penalty=1.0))
    assert err.value.exit_code == 2
    assert "funding gap" in str(err.value) and "--max-cvar-funding-gap" in str(err.value)


UNC = """
    uncertainty:
      seed: 7
      drivers:
        d: {target: demand, distribution: lognormal, params: {mean: 0, sd: 0.3}, mode: yearly}
"""


def test_hedge_command_reports_and_limits_the_funding_gap(tmp_path):
    """The CLI: the funding gap of both plans in summary.json and futures.csv, the limits set, a loose
    limit leaves the plan risk-neutral, an impossible one exits 2 naming it, a bad amount exits 1."""
    import json

    from typer.testing import CliRunner

    from gigawatt.cli import app
    from helpers import scenario_text

    src = tmp_path / "s.yaml"
    src.write_text(scenario_text(BODY + UNC, start=2025, end=2026))
    base = ["--futures", "3", "--no-register", "--no-metrics", "--out-of-sample", "0", "--no-option-values"]
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["hedge", str(src), "--out", str(out), *base,
                                   "--max-cvar-funding-gap", "1 trillion USD", "--cash-floor-penalty", "0"])
    assert res.exit_code == 0, res.output
    block = json.loads((out / "summary.json").read_text())["stochastic"]
    gap = block["funding_gap"]
    assert gap["hedged"]["expected_usd"] > 0 and gap["hedged"]["cvar_usd"] >= gap["hedged"]["expected_usd"]
    assert gap["hedged"]["expected_usd"] == pytest.approx(gap["risk_neutral"]["expected_usd"], rel=1e-6)
    assert block["cash_limits"]["max_cvar_funding_gap_usd"] == 1e12
    assert block["hedged_expected_usd"] == pytest.approx(block["sp_usd"], rel=1e-9)  # nothing binds
    frame = pd.read_csv(out / "tables" / "futures.csv", index_col=0)
    assert (frame["funding_gap_hedged_usd"] >= 0).all() and len(frame) == 3
    assert "funding gap over the futures" in res.output
    bad = CliRunner().invoke(app, ["hedge", str(src), "--out", str(tmp_path / "r2"), *base,
                                   "--set", "policy.cash_floor=1 million USD", "--cash-floor-penalty", "1",
                                   "--max-cvar-funding-gap", "10 USD"])
    assert bad.exit_code == 2, bad.output
    assert "--max-cvar-funding-gap" in bad.output and not (tmp_path / "r2" / "summary.json").exists()
    unit = CliRunner().invoke(app, ["hedge", str(src), "--out", str(tmp_path / "r3"), *base,
                                    "--max-cvar-funding-gap", "10 GW"])
    assert unit.exit_code == 1 and "--max-cvar-funding-gap" in unit.output
