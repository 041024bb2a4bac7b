"""A sweep task's row from the fast path's HiGHS solution (optimize/figures.py: no linopy assignment, no Plan
dataset, no attribution LP) equals the cold path's row key by key, on every kind of --vary key of both
example scenarios; a task whose finance fails keeps its row without the finance figures, as cold does."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gigawatt.optimize import figures as figures_mod
from gigawatt.optimize import optimize
from gigawatt.optimize.figures import Solved
from gigawatt.portfolio import Portfolio
from gigawatt.sweep import executors
from gigawatt.sweep.headline import headline
from gigawatt.sweep.manifest import build, resolve_task

ROOT = Path(__file__).resolve().parents[2]

# one value per kind of number a sweep varies, each a one-task manifest, in this order after the base task
KINDS = {
    "examples/minimal.yaml": {
        "site cost": "sites.texas.build_cost=14 million USD/MW",
        "contract chips": "contracts.cloudco_reserved.chips=80000",
        "discount rate": "horizon.discount_rate=12%",
        "demand": "workloads.inference.demand.base=420 million H100_hours",
        "company revenue": "finance.revenue.base=11 billion USD",
        "revenue per unit": "workloads.inference.revenue_per_h100_hour=2.5 USD/H100_hour",
        "accelerator price": "accelerators.gb200.purchase_price=52000 USD",
    },
    "scenarios/openai.yaml": {
        "site cost": "sites.milam.build_cost=13 million USD/MW",
        "contract chips": "contracts.stargate_norway.chips=160000",
        "discount rate": "horizon.discount_rate=7%",
        "demand": "workloads.training.demand.2030=120 billion H100_hours",
        "starting cash": "finance.starting_cash=4 billion USD",
        "accelerator price": "accelerators.custom_xpu.purchase_price=16000 USD",
    },
}


@pytest.fixture(autouse=True)
def _fresh_worker(monkeypatch):
    monkeypatch.setattr(executors, "_FAST", None)
    monkeypatch.setattr(executors, "_RESOLVER", None)


def _tasks(scenario: str):
    """(label, portfolio, solve options): the base task, then one task per kind."""
    path = ROOT / scenario
    out = []
    for label, vary in [("base", None), *KINDS[scenario].items()]:
        manifest = build(path, vary=[vary] if vary else [])
        assert len(manifest.tasks) == 1
        resolved, sc = resolve_task(manifest, manifest.tasks[0], validate=True)
        out.append((label, Portfolio.from_scenario(sc, resolved), manifest.solve))
    return out


def assert_rows_equal(fast: dict, cold: dict, label: str) -> None:
    """Same keys; money and fractions within 1e-9 relative; years exactly."""
    assert set(fast) == set(cold), f"{label}: {sorted(set(fast) ^ set(cold))}"
    for k, v in cold.items():
        if isinstance(v, float):
            assert fast[k] == pytest.approx(v, rel=1e-9, abs=1e-9), f"{label}: {k}: {fast[k]!r} != {v!r}"
        else:
            assert type(fast[k]) is type(v) and fast[k] == v, f"{label}: {k}: {fast[k]!r} != {v!r}"


def _same_solution_plan(p, solved: Solved):
    """The Plan the cold path's code (linopy assignment, extract, attribution) makes of the solution the
    fast path's HiGHS holds now."""
    from gigawatt.optimize.run import finish
    from gigawatt.optimize.solve import SolveResult

    fp = executors.fastpath()
    a = solved.attrs
    result = SolveResult(status="ok", termination="optimal", solve_seconds=a["solve_seconds"], method=a["method"],
                         highs_run_seconds=a["highs_run_seconds"])
    return finish(fp._assign(p), result, a["resolve"], build_seconds=0.0, allow_unmet=bool(a["allow_unmet"]),
                  duals=False)


# the reference scenario's cold solves take seconds each: its rows are compared with the Plan of the same
# solution (the cold path's code), the minimal example's with a cold build-and-solve too
COLD = {"examples/minimal.yaml"}


@pytest.mark.parametrize("scenario", sorted(KINDS))
def test_fast_row_equals_cold_row_on_every_vary_kind(scenario):
    seen = []
    for label, p, solve in _tasks(scenario):
        solved = executors.solve_task(p, solve, figures=True)
        assert isinstance(solved, Solved), label  # read from HiGHS: no Plan
        seen.append(solved.attrs["resolve"])
        fast_row = headline(solved, p)
        plan_row = headline(_same_solution_plan(p, solved), p)
        assert "cash_usd_2030" in plan_row and "power_gw_2030" in plan_row, label
        assert_rows_equal(fast_row, plan_row, f"{scenario} {label} (the same solution's Plan)")
        if scenario in COLD:
            cold = optimize(p, threads=1, confirm_binding=0, method=solve.get("method"),
                            allow_unmet=solve.get("allow_unmet"))
            assert_rows_equal(fast_row, headline(cold, p), f"{scenario} {label} (cold)")
    assert all(h.startswith("fast: ") for h in seen), seen
    assert any(h != "fast: no change" for h in seen), seen  # the kinds changed the LP


def test_a_stale_input_would_be_caught(monkeypatch):
    """The check can fail: figures that keep the first task's portfolio numbers (a memo never refreshed)
    give another row than cold on the kinds whose numbers the row reads."""
    calls = {}

    def stale(self, portfolio, known=None):
        if id(self) not in calls:
            calls[id(self)] = self.fn(portfolio)
        return calls[id(self)]

    real = figures_mod.Reader._coefficients

    def stale_coefficients(self, portfolio, grids=None):  # the fast path's cost grids of the task, kept too
        if ("c", id(self)) not in calls:
            calls[("c", id(self))] = real(self, portfolio, grids)
        return calls[("c", id(self))]

    monkeypatch.setattr(figures_mod.Memo, "__call__", stale)
    monkeypatch.setattr(figures_mod.Reader, "_coefficients", stale_coefficients)
    failed = []
    for label, p, solve in [t for t in _tasks("examples/minimal.yaml")
                            if t[0] in ("base", "accelerator price", "revenue per unit")]:
        solved = executors.solve_task(p, solve, figures=True)
        fast_row, cold_row = headline(solved, p), headline(_same_solution_plan(p, solved), p)
        try:
            assert_rows_equal(fast_row, cold_row, label)
        except AssertionError:
            failed.append(label)
    assert "accelerator price" in failed and "revenue per unit" in failed, failed


def test_failed_finance_leaves_it_out_with_a_warning(monkeypatch, caplog):
    """Finance is a headline, not the task: when it fails the row keeps the plan's figures, fast and cold."""
    from gigawatt import finance

    def broken(*a, **k):
        raise RuntimeError("no finance today")

    monkeypatch.setattr(finance, "cash_lines", broken)
    (_, p, solve), = _tasks("examples/minimal.yaml")[:1]
    with caplog.at_level(logging.WARNING, logger="gigawatt.sweep.headline"):
        fast_row = headline(executors.solve_task(p, solve, figures=True), p)
        cold_row = headline(optimize(p, threads=1, confirm_binding=0), p)
    assert_rows_equal(fast_row, cold_row, "no finance")
    assert "min_cash_usd" not in fast_row and "net_present_cost_usd" in fast_row
    assert sum("finance figures unavailable: no finance today" in r.getMessage() for r in caplog.records) == 2


def test_figures_that_cannot_be_read_fall_back_to_the_plan(monkeypatch, caplog):
    """A model the reader does not know: the task extracts a Plan (and says so); its row is the same."""
    def unreadable(self, *a, **k):
        raise ValueError("unknown layout")

    monkeypatch.setattr(figures_mod.Reader, "figures", unreadable)
    (_, p, solve), = _tasks("examples/minimal.yaml")[:1]
    with caplog.at_level(logging.WARNING, logger="gigawatt.optimize.fastpath"):
        plan = executors.solve_task(p, solve, figures=True)
    assert not isinstance(plan, Solved) and plan.ds.attrs["resolve"].startswith("fast: ")
    assert any("unknown layout" in r.getMessage() for r in caplog.records)
    assert_rows_equal(headline(plan, p), headline(optimize(p, threads=1, confirm_binding=0), p), "fallback")


def test_rows_per_monte_carlo_draw_equal_cold(tmp_path, caplog):
    """Re-optimisation per draw (demand, prices, revenue, a delayed site, a failed contract): each task's
    row from the sweep's task function equals the cold path's; the draws the fast path takes are read from
    HiGHS."""
    from dataclasses import asdict

    from sweep_helpers import SCENARIO, UNCERTAINTY

    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO + UNCERTAINTY)
    manifest = build(path, draws=4, seed=3)
    fast_paths = 0
    caplog.set_level(logging.WARNING, logger="gigawatt.optimize.fastpath")
    for task in manifest.tasks:
        spec = {"base_yaml": manifest.base_yaml, "task": asdict(task), "solve": manifest.solve}
        fast, cold = executors.run_task(spec), executors.run_task({**spec, "resolve": False})
        assert fast["status"] == cold["status"] == "ok", (fast["error"], cold["error"])
        fast_paths += fast["resolve"].startswith("fast: ")
        skip = ("elapsed_s", "cpu_s", "solve_s", "resolve", "worker")
        assert_rows_equal({k: v for k, v in fast.items() if k not in skip},
                          {k: v for k, v in cold.items() if k not in skip}, f"draw {task.params}")
    assert fast_paths >= len(manifest.tasks) // 2
    assert not [r for r in caplog.records if "figures not read" in r.getMessage()]  # read from HiGHS


def test_a_worker_whose_base_is_another_structure_rebases():
    """A worker loaded on a task of another structure (here: unmet demand allowed) falls back for the next
    tasks, and after REBASE_AFTER of them in a row loads the current structure: later tasks are fast again
    (before, every later task fell back to update-and-resolve for the rest of the sweep)."""
    (_, p, solve), = _tasks("examples/minimal.yaml")[:1]
    other = {**solve, "allow_unmet": not p.scenario.config.solve.allow_unmet}
    assert executors.solve_task(p, other, figures=True).attrs["resolve"].startswith("fast: ")
    hows = []
    for _ in range(executors.REBASE_AFTER + 2):
        got = executors.solve_task(p, solve, figures=True)
        hows.append(got.attrs["resolve"] if isinstance(got, Solved) else got.ds.attrs["resolve"])
    fallbacks = executors.REBASE_AFTER
    assert all("fast path: structure" in h for h in hows[:fallbacks]), hows
    assert all(h.startswith("fast: ") for h in hows[fallbacks:]), hows
