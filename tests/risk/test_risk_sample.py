"""Sampling: distributions converge to their means, the copula correlates, events happen at their rate,
the seed scheme is chunk-invariant, and bad uncertainty sections fail with five-part messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from risk_helpers import portfolio_of, write_scenario

from gigawatt.errors import ScenarioError
from gigawatt.risk.sample import BLOCK, Sampler, check_uncertainty, distribution_moments, require_valid
from gigawatt.scenario.schema import Uncertainty

N = 40_000


def sampler(drivers=None, events=None, correlations=None, years=1) -> Sampler:
    unc = Uncertainty.model_validate({"drivers": drivers or {}, "events": events or {},
                                      "correlations": correlations or []})
    return Sampler(unc, years)


@pytest.mark.parametrize("dist,params", [
    ("normal", {"mean": 1.1, "sd": 0.2}),
    ("lognormal", {"mean": 0.0, "sd": 0.3}),
    ("uniform", {"low": 0.5, "high": 1.7}),
    ("triangular", {"low": 0.6, "mode": 0.9, "high": 1.8}),
    ("empirical", {"values": [0.7, 1.0, 1.0, 1.4, 2.0]}),
])
def test_sample_mean_converges_within_four_standard_errors(dist, params):
    s = sampler({"x": {"target": "demand", "distribution": dist, "params": params}})
    x = s.sample(5, 0, N).factors["x"][0]
    mean, sd = distribution_moments(dist, params)
    assert abs(x.mean() - mean) < 4 * sd / math.sqrt(N)
    assert abs(x.std() - sd) < 0.05 * sd  # the spread is right too


def test_growth_mode_compounds_independent_yearly_factors():
    params = {"mean": 0.0, "sd": 0.1}
    s = sampler({"g": {"target": "demand", "distribution": "lognormal", "params": params, "mode": "growth"}},
                years=4)
    f = s.sample(1, 0, N).factors["g"]
    assert f.shape == (4, N)
    steps = np.vstack([f[:1], f[1:] / f[:-1]])  # back to the yearly factors
    m, sd = distribution_moments("lognormal", params)
    for y in range(4):
        assert abs(steps[y].mean() - m) < 4 * sd / math.sqrt(N)
        assert abs(f[y].mean() - m ** (y + 1)) < 4 * f[y].std() / math.sqrt(N)
    assert abs(np.corrcoef(np.log(steps[1]), np.log(steps[2]))[0, 1]) < 4 / math.sqrt(N)


def test_copula_correlates_normals_and_keeps_marginals():
    s = sampler({"a": {"target": "revenue", "distribution": "normal", "params": {"mean": 1, "sd": 0.1}},
                 "b": {"target": "demand", "distribution": "uniform", "params": {"low": 0, "high": 2}}},
                correlations=[{"between": ["a", "b"], "rho": 0.7}])
    z = s.normals(3, 0, N)
    r = np.corrcoef(z[0], z[1])[0, 1]
    assert abs(r - 0.7) < 0.02
    f = s.sample(3, 0, N).factors
    assert abs(f["b"][0].mean() - 1.0) < 4 * (2 / math.sqrt(12)) / math.sqrt(N)  # still uniform(0, 2)
    ranks = [np.argsort(np.argsort(f[k][0])) for k in ("a", "b")]
    assert np.corrcoef(*ranks)[0, 1] > 0.6  # rank correlation survives the non-normal marginal


def test_event_happens_at_its_probability():
    s = sampler(events={"e": {"kind": "site_delay", "target": "tx", "probability": 0.2, "delay": "6 months"}})
    occ = s.sample(9, 0, N).events["e"]
    assert abs(occ.mean() - 0.2) < 4 * math.sqrt(0.2 * 0.8 / N)
    never = sampler(events={"e": {"kind": "contract_failure", "target": "c", "probability": 0}})
    assert not never.sample(9, 0, N).events["e"].any()


def _all(s: Sampler, seed: int, start: int, n: int) -> np.ndarray:
    out = s.sample(seed, start, n)
    return np.vstack([v.reshape(-1, n) for v in out.factors.values()] + [out.events[k][None] for k in out.events])


def test_same_seed_same_draws_whatever_the_chunking():
    s = sampler({"a": {"target": "demand", "distribution": "lognormal", "params": {"mean": 0, "sd": 0.2},
                       "mode": "growth"},
                 "b": {"target": "revenue", "distribution": "triangular",
                       "params": {"low": 0.5, "mode": 1, "high": 2}}},
                events={"e": {"kind": "site_delay", "target": "tx", "probability": 0.3, "delay": "3 months"}},
                correlations=[{"between": ["a", "b"], "rho": -0.4}], years=3)
    n = 3 * BLOCK + 123
    whole = _all(s, 42, 0, n)
    parts = np.hstack([_all(s, 42, 0, BLOCK), _all(s, 42, BLOCK, 2 * BLOCK), _all(s, 42, 3 * BLOCK, 123)])
    assert np.array_equal(whole, parts)
    # a draw's numbers do not depend on how many draws follow it
    assert np.array_equal(_all(s, 42, 0, 1000), whole[:, :1000])
    assert not np.array_equal(_all(s, 43, 0, 1000), whole[:, :1000])


def test_block_generator_is_the_spawned_child():
    child = np.random.SeedSequence(7).spawn(4)[3]
    a = np.random.Generator(np.random.PCG64(child)).standard_normal(5)
    assert np.array_equal(Sampler.generator(7, 3).standard_normal(5), a)


# --- checks: five-part messages ------------------------------------------------------------------------------


def problems_for(tmp_path, sets):
    path = write_scenario(tmp_path)
    with pytest.raises(ScenarioError) as info:
        require_valid(portfolio_of(path, sets))
    return str(info.value)


def test_valid_uncertainty_has_no_problems(tmp_path):
    assert check_uncertainty(portfolio_of(write_scenario(tmp_path))) == []


@pytest.mark.parametrize("sets,says", [
    (["uncertainty.drivers.training_growth.applies_to=[trainng]"],
     ["uncertainty.drivers.training_growth.applies_to", "unknown name 'trainng'", "Did you mean 'training'?",
      "(--set)"]),
    (["uncertainty.correlations=[{between: [revenue, revenu], rho: 0.5}]"],
     ["uncertainty.correlations.0.between", "unknown driver or event 'revenu'", "Did you mean 'revenue'?"]),
    (["uncertainty.correlations=[{between: [revenue, energy], rho: 0.9}, {between: [energy, staff], rho: 0.9},"
      " {between: [revenue, staff], rho: -0.9}]"],
     ["uncertainty.correlations", "not positive semi-definite", "smallest eigenvalue", "weaken the correlations"]),
    (["uncertainty.drivers.rev2={target: revenue, distribution: normal, params: {mean: 1}}"],
     ["uncertainty.drivers.rev2.params", "normal distribution lacks sd", "add sd"]),
    (["uncertainty.drivers.revenue.params.sdev=0.1"],
     ["unknown parameter 'sdev'", "Did you mean 'sd'?"]),
    (["uncertainty.drivers.lease_price.params={low: 1.5, mode: 1.0, high: 0.8}"],
     ["triangular parameters out of order", "0 ≤ low ≤ mode ≤ high"]),
    (["uncertainty.events.tx_late.target=txx"],
     ["uncertainty.events.tx_late.target", "unknown site 'txx'", "Did you mean 'tx'?"]),
    (["uncertainty.events.reserved_fails.delay=3 months"],
     ["delay given for a contract_failure event"]),
    (["uncertainty.drivers.lease_price.applies_to=[nobody]"],
     ["matches no lease option"]),
])
def test_bad_uncertainty_is_reported_with_path_value_and_fix(tmp_path, sets, says):
    msg = problems_for(tmp_path, sets)
    for fragment in says:
        assert fragment in msg, f"{fragment!r} not in:\n{msg}"
    assert "Fix:" in msg


def test_problem_points_at_the_file_and_line(tmp_path):
    from risk_helpers import UNCERTAINTY

    path = write_scenario(tmp_path, UNCERTAINTY.replace("applies_to: [inference]", "applies_to: [inferense]"))
    with pytest.raises(ScenarioError) as info:
        require_valid(portfolio_of(path))
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "inferense" in t)
    assert f"scenario.yaml:{line}" in str(info.value)
    assert "Did you mean 'inference'?" in str(info.value)


def test_schema_rejects_out_of_range_rho_and_probability(tmp_path):
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate

    path = write_scenario(tmp_path)
    with pytest.raises(ScenarioError) as info:
        validate(read(path, sets=["uncertainty.correlations.0.rho=1.5", "uncertainty.events.tx_late.probability=2"]))
    msg = str(info.value)
    assert "uncertainty.correlations.0.rho" in msg and "uncertainty.events.tx_late.probability" in msg
