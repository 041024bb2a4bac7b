"""The numbers-only fast path (optimize/fastpath.py, used by sweep tasks) gives the rows and plan a cold
build-and-solve gives, on every kind of --vary key and per Monte Carlo draw; a task of another structure
falls back to update-and-resolve and its record says why (issue 16, item 1)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "risk"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from risk_helpers import SCENARIO, UNCERTAINTY  # noqa: E402
from test_resolve import VARY, _assert_same, _scenario  # noqa: E402

from gigawatt.optimize import optimize  # noqa: E402
from gigawatt.portfolio import Portfolio  # noqa: E402
from gigawatt.sweep import executors  # noqa: E402
from gigawatt.sweep.manifest import build, resolve_task  # noqa: E402

# kinds whose tasks change structure, not only numbers (none today: a lead time only moves a bound)
STRUCTURAL: set[str] = set()
# kinds the LP does not read (this scenario has no cash floor): the fast path changes nothing in HiGHS, and
# the row's finance figures still follow the task's numbers (compared with cold below)
NOT_IN_LP = {"company revenue", "revenue"}


@pytest.fixture(autouse=True)
def _fresh_worker(monkeypatch):
    monkeypatch.setattr(executors, "_FAST", None)
    monkeypatch.setattr(executors, "_RESOLVER", None)


def _fast_and_cold(manifest):
    out = []
    for task in manifest.tasks:
        resolved, sc = resolve_task(manifest, task, validate=True)
        p = Portfolio.from_scenario(sc, resolved)
        fast = executors.solve_task(p, manifest.solve)
        cold = optimize(p, threads=1, confirm_binding=0)
        out.append((task, fast, cold, p))
    return out


def _assert_rows_equal(fast, cold, p, label: str) -> None:
    a, b = executors.headline(fast, p), executors.headline(cold, p)
    assert set(a) == set(b), label
    for k, v in b.items():
        if isinstance(v, float):
            assert a[k] == pytest.approx(v, rel=1e-6, abs=1e-3), f"{label}: {k}"
        else:
            assert a[k] == v, f"{label}: {k}"


@pytest.mark.parametrize("kind", sorted(VARY))
def test_fast_path_matches_cold_for_every_vary_kind(tmp_path, kind):
    manifest = build(_scenario(tmp_path), vary=[VARY[kind]])
    hows = []
    for task, fast, cold, p in _fast_and_cold(manifest):
        label = f"{kind} {task.params}"
        _assert_same(fast, cold, label)
        _assert_rows_equal(fast, cold, p, label)
        hows.append(fast.ds.attrs["resolve"])
    assert all(h.startswith("fast: ") or "(fast path: " in h for h in hows), hows
    if kind not in STRUCTURAL:
        assert all(h.startswith("fast: ") for h in hows), (kind, hows)
        # the first task solved the base cold; the later ones rebuilt only what their numbers feed
        assert hows[0] == "fast: no change", hows
        assert all((h == "fast: no change") == (kind in NOT_IN_LP) for h in hows[1:]), hows
    assert executors.fastpath().stats["fast"] == hows.count("fast: no change") + sum(
        h.startswith("fast: ") and h != "fast: no change" for h in hows)


def test_fast_path_rebuilds_only_the_families_that_read_a_changed_number(tmp_path):
    """A discount rate feeds the objective alone; a contract's size its capacity rows and the dispatch mask's
    inputs (whose mask stays): the record names them."""
    manifest = build(_scenario(tmp_path), vary=[VARY["discount rate"]])
    hows = [f.ds.attrs["resolve"] for _, f, _, _ in _fast_and_cold(manifest)]
    assert hows[1:] == ["fast: objective"] * (len(hows) - 1), hows


def test_fast_path_matches_cold_per_monte_carlo_draw(tmp_path):
    manifest = build(_scenario(tmp_path, SCENARIO + UNCERTAINTY), draws=12, seed=3)
    hows = []
    for task, fast, cold, p in _fast_and_cold(manifest):
        _assert_same(fast, cold, f"draw {task.params}")
        _assert_rows_equal(fast, cold, p, f"draw {task.params}")
        hows.append(fast.ds.attrs["resolve"])
    assert sum(h.startswith("fast: ") for h in hows) >= len(hows) // 2, hows
    assert all(h.startswith("fast: ") or "(fast path: structure" in h for h in hows), hows


def test_another_structure_falls_back_and_says_why(tmp_path):
    """A task without the contract has other supply options: update-and-resolve builds it, and the record
    names the fast path's reason; the base is kept for the tasks that follow."""
    base = build(_scenario(tmp_path), vary=[])
    no_contract = build(_scenario(tmp_path, SCENARIO.split("contracts:")[0] + "workloads:" +
                                  SCENARIO.split("workloads:")[1]), vary=[])
    runs = _fast_and_cold(base) + _fast_and_cold(no_contract) + _fast_and_cold(base)
    hows = [f.ds.attrs["resolve"] for _, f, _, _ in runs]
    assert hows[0] == "fast: no change" and hows[2] == "fast: no change", hows
    assert hows[1].startswith("build (fast path: structure"), hows
    for task, fast, cold, p in runs:
        _assert_same(fast, cold, "structure")


def test_infeasible_task_reports_as_cold(tmp_path):
    from gigawatt.errors import InfeasibleError

    manifest = build(_scenario(tmp_path), vary=["workloads.training.demand.base=200 million H100_hours,"
                                                 "900 billion H100_hours"])
    solved = []
    for task in manifest.tasks:
        resolved, sc = resolve_task(manifest, task, validate=True)
        p = Portfolio.from_scenario(sc, resolved)
        try:
            solved.append(executors.solve_task(p, {**manifest.solve, "allow_unmet": False}))
            continue
        except InfeasibleError as exc:
            fast_err = exc
        with pytest.raises(InfeasibleError) as cold_err:
            optimize(p, threads=1, confirm_binding=0, allow_unmet=False)
        assert str(fast_err) == str(cold_err.value)
    assert len(solved) == 1


def test_sweep_rows_equal_cold_rows(tmp_path):
    """The sweep's task function: every column of the row equal with the fast path and cold."""
    manifest = build(_scenario(tmp_path), vary=[VARY["demand"], VARY["energy price"]])
    for task in manifest.tasks:
        spec = {"base_yaml": manifest.base_yaml, "task": asdict(task), "solve": manifest.solve}
        fast = executors.run_task(spec)
        cold = executors.run_task({**spec, "resolve": False})
        assert fast["status"] == cold["status"] == "ok", (fast["error"], cold["error"])
        assert fast["resolve"].startswith("fast: ") and cold["resolve"] == "cold"
        assert set(fast) == set(cold)
        for k, v in cold.items():
            if k in ("elapsed_s", "cpu_s", "solve_s", "resolve", "worker"):
                continue
            if isinstance(v, float):
                assert fast[k] == pytest.approx(v, rel=1e-6, abs=1e-3), k
            else:
                assert fast[k] == v, k
