"""Update-and-resolve gives the plan a cold build-and-solve gives, on every kind of --vary key and on
re-optimisation per Monte Carlo draw (issue 16, item 1)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "risk"))

from risk_helpers import SCENARIO, UNCERTAINTY  # noqa: E402

from gigawatt.optimize import optimize  # noqa: E402
from gigawatt.optimize.resolve import Resolver  # noqa: E402
from gigawatt.portfolio import Portfolio  # noqa: E402
from gigawatt.sweep import executors  # noqa: E402
from gigawatt.sweep.manifest import Task, build, resolve_task  # noqa: E402

# one key per kind of number a sweep varies; each list's first value is the scenario's own
VARY = {
    "demand": "workloads.training.demand.base=200 million H100_hours,260 million H100_hours,150 million H100_hours",
    "cloud price": "providers.cloud.offers.h100.on_demand_price=3 USD/h,3.6 USD/h,2.2 USD/h",
    "energy price": "sites.tx.energy_price=60 USD/MWh,95 USD/MWh",
    "chip price": "accelerators.h100.purchase_price=10000 USD,16000 USD",
    "build cost": "sites.tx.build_cost=10 million USD/MW,14 million USD/MW",
    "contract capacity": "contracts.reserved.chips=40000,70000,10000",
    "cloud capacity": "providers.cloud.offers.h100.available=300000 chips,120000 chips",
    "power envelope": "sites.tx.power_max.points=[{2026: 50 MW, 2030: 400 MW}, {2026: 20 MW, 2030: 250 MW}]",
    "discount rate": "horizon.discount_rate=8%,14%,3%",
    "revenue": "workloads.inference.revenue_per_h100_hour=3 USD/H100_hour,5 USD/H100_hour",
    "company revenue": "finance.revenue.base=1 billion USD,3 billion USD",
    "penalty": "config.solve.unmet_penalty=50 USD/H100_hour,8 USD/H100_hour",
    "lead time": "sites.tx.lead_time=0 months,24 months",
}

# Not compared: dispatch by workload (which option serves which workload), which is degenerate: at the
# optimum HiGHS may return any of several splits of the same capacity, cold or warm alike. Everything
# reported from it goes through attribution's dispatch-independent rule (cost_by_workload_usd, idle).
COMPARED = ("chips", "chips_bought", "power_mw", "site_power_mw", "unmet_h100e_hours",
            "cost_economic_usd", "cost_capex_chips_usd", "cost_energy_usd", "cost_lease_usd", "cost_contract_usd",
            "cost_by_workload_usd", "cost_idle_usd")


def _scenario(tmp_path: Path, text: str = SCENARIO) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def _plans(manifest, resolver: Resolver):
    """Each task solved twice: through ``resolver`` (in manifest order) and cold."""
    out = []
    for task in manifest.tasks:
        resolved, sc = resolve_task(manifest, task, validate=True)
        p = Portfolio.from_scenario(sc, resolved)
        warm = optimize(p, threads=1, confirm_binding=0, resolver=resolver)
        cold = optimize(p, threads=1, confirm_binding=0)
        out.append((task, warm, cold))
    return out


def _assert_same(warm, cold, label: str) -> None:
    a, b = warm.ds, cold.ds
    assert a.attrs["objective_usd"] == pytest.approx(b.attrs["objective_usd"], rel=1e-7, abs=1.0), label
    for name in COMPARED:
        if name in b:
            scale = max(1.0, float(np.nanmax(np.abs(b[name].values))))
            np.testing.assert_allclose(a[name].values, b[name].values, rtol=1e-6, atol=1e-6 * scale,
                                       err_msg=f"{label}: {name}")


@pytest.mark.parametrize("kind", sorted(VARY))
def test_resolve_matches_cold_for_every_vary_kind(tmp_path, kind):
    manifest = build(_scenario(tmp_path), vary=[VARY[kind]])
    assert len(manifest.tasks) >= 2
    resolver = Resolver()
    hows = []
    for task, warm, cold in _plans(manifest, resolver):
        _assert_same(warm, cold, f"{kind} {task.params}")
        hows.append(warm.ds.attrs["resolve"])
        assert cold.ds.attrs["resolve"] == "cold"
    assert hows[0] == "build"
    # every later task either updated the HiGHS model in place or says why it could not
    assert all(h == "update" or h.startswith(("rebuild: ", "build")) for h in hows[1:]), hows
    if kind != "lead time":  # a lead time moves where site power may be built: a new structure, fair
        assert set(hows[1:]) == {"update"}, (kind, hows)


def test_resolve_matches_cold_per_monte_carlo_draw(tmp_path):
    """Re-optimisation per draw (sweep --draws): demand, prices, revenue, site delays, a failed contract."""
    manifest = build(_scenario(tmp_path, SCENARIO + UNCERTAINTY), draws=12, seed=3)
    resolver = Resolver()
    hows = []
    for task, warm, cold in _plans(manifest, resolver):
        _assert_same(warm, cold, f"draw {task.params}")
        hows.append(warm.ds.attrs["resolve"])
    assert hows.count("update") >= len(hows) // 2, hows


def test_sweep_task_rows_equal_cold_rows(tmp_path, monkeypatch):
    """The sweep's task function: the same row with and without update-and-resolve, and it says which."""
    monkeypatch.setattr(executors, "_RESOLVER", None)
    manifest = build(_scenario(tmp_path), vary=[VARY["demand"], VARY["energy price"]])
    for task in manifest.tasks:
        spec = {"base_yaml": manifest.base_yaml, "task": asdict(task), "solve": manifest.solve}
        warm = executors.run_task({**spec, "resolve": "update"})
        cold = executors.run_task({**spec, "resolve": False})
        assert warm["status"] == cold["status"] == "ok", (warm["error"], cold["error"])
        assert cold["resolve"] == "cold"
        for k, v in cold.items():
            if isinstance(v, float) and k not in ("elapsed_s", "cpu_s", "solve_s"):
                assert warm[k] == pytest.approx(v, rel=1e-7, abs=1.0), k
    assert executors.resolver().stats["update"] == len(manifest.tasks) - 1


def test_a_new_structure_is_built_not_updated(tmp_path):
    """A task with another set of options gets its own HiGHS model; the first structure is kept."""
    resolver = Resolver()
    base = build(_scenario(tmp_path), vary=[])
    no_contract = build(_scenario(tmp_path, SCENARIO.split("contracts:")[0] + "workloads:" +
                                  SCENARIO.split("workloads:")[1]), vary=[])
    hows = [w.ds.attrs["resolve"] for _, w, c in _plans(base, resolver) + _plans(no_contract, resolver)
            + _plans(base, resolver)]
    assert hows == ["build", "build", "update"]
    assert resolver.stats == {"update": 1, "build": 2, "rebuild": 0}
    _ = Task  # the manifest's task type, used through build()


def test_infeasible_task_reports_as_cold(tmp_path):
    """A task that is infeasible raises the cold path's error, with its diagnosis."""
    from gigawatt.errors import InfeasibleError

    manifest = build(_scenario(tmp_path), vary=["config.solve.allow_unmet=true,false",
                                                 "workloads.training.demand.base=900 billion H100_hours"])
    resolver = Resolver()
    for task in manifest.tasks:
        resolved, sc = resolve_task(manifest, task, validate=True)
        p = Portfolio.from_scenario(sc, resolved)
        if sc.config.solve.allow_unmet:
            optimize(p, threads=1, confirm_binding=0, resolver=resolver)
            continue
        with pytest.raises(InfeasibleError) as warm_err:
            optimize(p, threads=1, confirm_binding=0, resolver=resolver)
        with pytest.raises(InfeasibleError) as cold_err:
            optimize(p, threads=1, confirm_binding=0)
        assert str(warm_err.value) == str(cold_err.value)
