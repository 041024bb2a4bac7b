"""The L-shaped decomposition (hedge --decompose) against the extensive form, its bounds, its stopping rule,
its pools, and a worker lost mid-run."""

import os
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT

# examples/minimal.yaml with uncertainty on demand (yearly), the cloud's price and the energy price (which
# makes a commitment's cost differ by future: chips in service pay their future's energy): its share target and
# take-or-pay contract make the commitments matter, and its futures differ enough to need several cuts
UNCERTAINTY = """
uncertainty:
  seed: 11
  drivers:
    demand_level: {target: demand, distribution: uniform, params: {low: 0.6, high: 1.5}, mode: yearly}
    cloud_price: {target: price, distribution: uniform, params: {low: 0.7, high: 1.4}}
    energy: {target: energy_price, distribution: uniform, params: {low: 0.5, high: 2.0}}
"""


@pytest.fixture(scope="module")
def futures(tmp_path_factory):
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate
    from gigawatt.stochastic.futures import draw_futures

    path = tmp_path_factory.mktemp("dec") / "minimal-uncertain.yaml"
    path.write_text((ROOT / "examples" / "minimal.yaml").read_text() + UNCERTAINTY)
    resolved = read(path)
    return draw_futures(Portfolio.from_scenario(validate(resolved), resolved), 6)


@pytest.fixture(scope="module")
def extensive(futures):
    from gigawatt.stochastic.extensive import solve_extensive

    return solve_extensive(futures)


@pytest.fixture(scope="module")
def inline(futures):
    from gigawatt.stochastic.decompose import InlinePool, solve_decomposed

    return solve_decomposed(futures, InlinePool(), workers=2, tolerance=1e-5)


def _records(report):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in report["iterations"]]


def test_agrees_with_the_extensive_form(futures, extensive, inline):
    """Within 0.1% of the extensive form's expected net present cost (the gap asked is 0.001%), the same
    cost in every future within 0.1%, and chips bought and MW built close to its commitments."""
    got = inline.solution
    assert inline.report["converged"]
    assert got.expected_usd == pytest.approx(extensive.expected_usd, rel=1e-3)
    assert np.allclose(got.npc_usd.values, extensive.npc_usd.values, rtol=1e-3)
    for name in ("Own-buy", "Site-power"):
        a, b = extensive.commitments[name], got.commitments[name]
        scale = float(abs(a).sum()) or 1.0
        assert float(abs(a - b.reindex_like(a)).sum()) / scale < 0.02, name
    # wait-and-see from the decomposition's first step: each future's own optimum, below the stochastic one
    from gigawatt.stochastic.extensive import solve_extensive

    f0 = futures.select([str(futures.probability.indexes["future"][0])])
    assert float(inline.ws.npc_usd[0]) == pytest.approx(solve_extensive(f0).expected_usd, rel=1e-6)
    assert inline.ws.expected_usd <= got.expected_usd * (1 + 1e-9)


def test_bounds_are_monotone_and_it_stops_on_the_tolerance(inline):
    it = inline.report["iterations"]
    lower = np.array([r["lower_bound_usd"] for r in it])
    best = np.array([r["best_upper_bound_usd"] for r in it], dtype=float)
    assert len(it) > 1  # the futures differ enough that one cut per future does not settle it
    assert np.all(np.diff(lower) >= -1e-9 * abs(lower[-1]))
    assert np.all(np.diff(best) <= 0)
    assert np.all(lower <= best * (1 + 1e-9))
    gaps = [r["gap"] for r in it]
    assert gaps[-1] <= 1e-5 and all(g is None or g > 1e-5 for g in gaps[:-1])


def test_a_looser_tolerance_stops_sooner_and_max_iterations_stops_it(futures, inline):
    from gigawatt.stochastic.decompose import InlinePool, solve_decomposed

    loose = solve_decomposed(futures, InlinePool(), workers=2, tolerance=1e-2)
    assert loose.report["final_gap"] <= 1e-2
    assert len(loose.report["iterations"]) < len(inline.report["iterations"])
    capped = solve_decomposed(futures, InlinePool(), workers=2, tolerance=1e-9, max_iterations=2)
    assert len(capped.report["iterations"]) == 2 and not capped.report["converged"]


def test_the_iterations_do_not_depend_on_the_number_of_workers(futures, inline):
    """Each future's LP is built with weight 1 and solved from its own basis, so how futures are chunked
    changes nothing: 1 and 3 workers give the iterations of 2, number for number."""
    from gigawatt.stochastic.decompose import InlinePool, solve_decomposed

    for w in (1, 3):
        assert _records(solve_decomposed(futures, InlinePool(), workers=w, tolerance=1e-5).report) == \
            _records(inline.report)


def test_process_pool_gives_the_same_iterations_as_inline(futures, inline):
    from gigawatt.stochastic.decompose import solve_decomposed
    from gigawatt.sweep.pinned import LocalPinned

    pool = LocalPinned()
    try:
        got = solve_decomposed(futures, pool, workers=2, tolerance=1e-5)
    finally:
        pool.close()
    assert _records(got.report) == _records(inline.report)
    for name, v in inline.solution.commitments.items():
        assert np.array_equal(got.solution.commitments[name].values, v.values)


def crash_once(worker, x):
    """A chunk step whose worker dies (as a killed process does) the first time any worker runs it."""
    from gigawatt.stochastic.decompose import chunk_at

    try:
        fd = os.open(os.environ["GIGAWATT_TEST_CRASH_MARKER"], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return chunk_at(worker, x)
    os.close(fd)
    os._exit(1)


def test_a_lost_worker_is_rebuilt_and_its_call_retried_with_the_same_answer(futures, inline, tmp_path,
                                                                            monkeypatch):
    from gigawatt.stochastic.decompose import solve_decomposed
    from gigawatt.sweep.pinned import LocalPinned

    marker = tmp_path / "crashed"
    monkeypatch.setenv("GIGAWATT_TEST_CRASH_MARKER", str(marker))
    pool = LocalPinned()
    try:
        got = solve_decomposed(futures, pool, workers=2, tolerance=1e-5, step=crash_once)
    finally:
        pool.close()
    assert marker.exists() and pool.restarts == 1
    assert _records(got.report) == _records(inline.report)


@pytest.mark.ray
@pytest.mark.slow
def test_ray_actor_lost_is_restarted_and_gives_the_same_answer(futures, inline, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    import sys

    from gigawatt.stochastic.decompose import solve_decomposed
    from gigawatt.sweep.pinned import RayPinned

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    marker = tmp_path / "crashed"
    monkeypatch.setenv("GIGAWATT_TEST_CRASH_MARKER", str(marker))
    pool = RayPinned(workers=2)
    try:
        got = solve_decomposed(futures, pool, workers=2, tolerance=1e-5, step=crash_once)
    finally:
        pool.close()
    assert marker.exists()
    assert _records(got.report) == _records(inline.report)


def test_cvar_agrees_with_the_extensive_form(futures):
    """Risk-averse (ω = ½, α = 0.8): η is one more commitment in the master, s_f recourse in each future; the
    objective (1 − ω)·E[L] + ω·CVaR_α(L) of both plans within 0.1%, and the best upper bound is that
    objective of the plan returned."""
    from gigawatt.stochastic.decompose import InlinePool, solve_decomposed
    from gigawatt.stochastic.extensive import solve_extensive

    w, a = 0.5, 0.8
    objective = lambda s: (1 - w) * s.expected_usd + w * s.cvar_usd(a)  # noqa: E731
    ext = solve_extensive(futures, cvar_=(w, a))
    got = solve_decomposed(futures, InlinePool(), workers=2, tolerance=1e-5, cvar_=(w, a))
    assert objective(got.solution) == pytest.approx(objective(ext), rel=1e-3)
    assert got.report["iterations"][-1]["best_upper_bound_usd"] == pytest.approx(objective(got.solution), rel=1e-9)


def test_a_bad_tolerance_is_refused_clearly(futures):
    from gigawatt.errors import ScenarioError
    from gigawatt.stochastic.decompose import InlinePool, solve_decomposed

    with pytest.raises(ScenarioError, match="tolerance"):
        solve_decomposed(futures, InlinePool(), tolerance=0)


def test_cli_writes_the_decomposition_block(futures, tmp_path):
    """`hedge --decompose` on the local process pool: summary.json's stochastic.decomposition has the method,
    the iterations with both bounds and the final gap, and SP agrees with the lower bound within the gap."""
    import json

    from typer.testing import CliRunner

    from gigawatt.cli import app

    src = tmp_path / "s.yaml"
    src.write_text((ROOT / "examples" / "minimal.yaml").read_text() + UNCERTAINTY)
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["hedge", str(src), "--out", str(out), "--futures", "3", "--decompose",
                                   "--engine", "local", "--workers", "2", "--no-option-values",
                                   "--out-of-sample", "0", "--no-register"])
    assert res.exit_code == 0, res.output
    block = json.loads((out / "summary.json").read_text())["stochastic"]
    d = block["decomposition"]
    assert d["method"].startswith("L-shaped") and d["converged"] and d["workers"] == 2
    assert d["final_gap"] <= 1e-4 and d["iterations"][-1]["gap"] == d["final_gap"]
    assert block["sp_usd"] == pytest.approx(d["iterations"][-1]["best_upper_bound_usd"], rel=1e-9)
    assert block["ws_usd"] <= block["sp_usd"] <= block["eev_usd"] * (1 + 1e-9)


def _refuse(spec):
    from gigawatt.errors import GigawattError

    raise GigawattError(f"cannot build chunk {spec}")


def test_a_worker_that_cannot_build_reports_its_error_not_a_broken_pool():
    from gigawatt.errors import GigawattError
    from gigawatt.sweep.pinned import LocalPinned

    pool = LocalPinned()
    try:
        with pytest.raises(GigawattError, match="cannot build chunk 7"):
            pool.start(_refuse, [7])
        assert pool.restarts == 0
    finally:
        pool.close()
