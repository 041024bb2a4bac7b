"""A portfolio rebuilt from the previous one (``Portfolio.from_scenario(..., reuse=cache)``) equals a full
build: every table, the Dataset, the horizon and the warnings, for every kind of sweep key on both
example scenarios, on structural changes, on problems, and over random sequences of tasks."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gigawatt.errors import ScenarioError
from gigawatt.portfolio import Portfolio, PortfolioCache
from gigawatt.portfolio import recording
from gigawatt.sweep.manifest import Task, build, parse_vary, resolve_task

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "examples" / "minimal.yaml"
REFERENCE = ROOT / "scenarios" / "openai.yaml"
TABLES = ("accelerators", "sites", "supply", "workloads", "deals", "contracts", "targets")

# One kind of sweep key each: a site field, a contract field, an accelerator price, an offer, demand, the
# discount rate, a policy field, finance (revenue) and a workload's revenue; two values each, one the base's.
MINIMAL_KEYS = [
    "sites.texas.build_cost=11.7 million USD/MW,9 million USD/MW",
    "contracts.cloudco_reserved.chips=50000,35000",
    "accelerators.h100.purchase_price=25000 USD,31000 USD",
    "providers.cloudco.offers.b200.on_demand_price=5 USD/h,4.2 USD/h",
    "workloads.training.demand=[{base: 400 million H100_hours, base_period: 2026, growth_per_year: 50%}, "
    "{base: 500 million H100_hours, base_period: 2026, growth_per_year: 40%}]",
    "horizon.discount_rate=8%,12%",
    "policy.share_targets.own_campus_2030.min_share=50%,30%",
    "finance.revenue=[{base: 8 billion USD, base_period: 2026, growth_per_year: 60%}, 12 billion USD]",
    "workloads.inference.revenue_per_h100_hour=1 USD/H100_hour,2 USD/H100_hour",
]
REFERENCE_KEYS = [
    "sites.milam.build_cost=10.3 million USD/MW,12 million USD/MW",
    "contracts.azure_legacy.value=44 billion USD,40 billion USD",
    "contracts.amd_first_gw.power=1 GW,1.5 GW",
    "accelerators.custom_xpu.purchase_price=12189 USD,15000 USD",
    "providers.stargate.ownership.partner_return=10%,14%",
    "horizon.discount_rate=10%,7%",
    "policy.share_targets.stargate_2030.min_share=75%,60%",
    "finance.revenue=[{2025: 13.1 billion USD, 2026: 30 billion USD, 2027: 62 billion USD, 2028: 102.48 billion USD, "
    "2029: 150 billion USD, 2030: 200 billion USD, 2031: 236 billion USD, 2032: 278.5 billion USD, "
    "2033: 328.6 billion USD}]",
]


@functools.cache
def _manifest(path: Path):
    return build(path)


def inputs(path: Path, vary: list[str], **task_changes) -> list[tuple]:
    """(resolved, scenario) of each point of the grid ``vary`` (--vary strings), with ``task_changes``
    (removals, overrides) added to every task."""
    manifest = _manifest(path)
    grid = itertools.product(*[[f"{k}={v}" for v in parse_vary(text)[1]] for text in vary for k in [text.split("=")[0]]])
    return [resolve_task(manifest, Task("t", {}, sets=list(sets), **task_changes), validate=True) for sets in grid]


def assert_same(reused: Portfolio, full: Portfolio) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(reused, name), getattr(full, name), check_exact=True, obj=name)
    xr.testing.assert_identical(reused.data, full.data)
    for k in full.data.variables:
        assert reused.data[k].dtype == full.data[k].dtype, k
    assert reused.horizon.labels == full.horizon.labels and reused.horizon.step == full.horizon.step
    pd.testing.assert_frame_equal(reused.horizon.table, full.horizon.table, check_exact=True)
    assert reused.warnings == full.warnings
    assert reused.scenario is full.scenario and reused.resolved is full.resolved


_FULL: dict = {}


def full(resolved, sc) -> Portfolio:
    """A full build of a scenario (built once: the tests only read it)."""
    if id(sc) not in _FULL:
        _FULL[id(sc)] = (sc, Portfolio.from_scenario(sc, resolved))
    return _FULL[id(sc)][1]


def check_sequence(items: list[tuple], cache: PortfolioCache | None = None) -> list[str]:
    cache = cache or PortfolioCache()
    hows = []
    for resolved, sc in items:
        reused = Portfolio.from_scenario(sc, resolved, reuse=cache)
        hows.append(cache.last)
        assert_same(reused, full(resolved, sc))
    return hows


@pytest.mark.parametrize("key", MINIMAL_KEYS, ids=lambda k: k.split("=")[0])
def test_each_kind_of_key_on_the_minimal_example(key):
    items = inputs(MINIMAL, [key])
    hows = check_sequence(items + items[::-1])  # there and back
    assert hows[0].startswith("full") and all(h.startswith("reuse") for h in hows[1:]), hows


@pytest.mark.parametrize("key", REFERENCE_KEYS, ids=lambda k: k.split("=")[0])
def test_each_kind_of_key_on_the_reference(key):
    items = inputs(REFERENCE, [key])
    hows = check_sequence(items + items[:1])
    assert hows[0].startswith("full") and all(h.startswith("reuse") for h in hows[1:]), hows


def test_the_discount_rate_reaches_an_offtake_price_priced_at_it():
    """Without a partner return the JV's offtake is priced at the discount rate: the offtake is rebuilt."""
    items = inputs(REFERENCE, ["horizon.discount_rate=10%,7%"],
                   removals=[["providers", "stargate", "ownership", "partner_return"]])
    hows = check_sequence(items)
    assert "offtake" in hows[1], hows
    assert not np.array_equal(full(*items[0]).supply["offtake_usd_per_chip_hour"],
                              full(*items[1]).supply["offtake_usd_per_chip_hour"])


def test_two_keys_at_once_and_the_bench_grid():
    items = inputs(MINIMAL, ["sites.texas.build_cost=9 million USD/MW,13 million USD/MW",
                             "contracts.cloudco_reserved.chips=20000,35000,50000"])
    check_sequence(items)


def test_other_structure_builds_in_full():
    base = inputs(MINIMAL, ["contracts.cloudco_reserved.chips=50000"])
    gone = inputs(MINIMAL, ["contracts.cloudco_reserved.chips=50000"], removals=[["contracts", "cloudco_reserved"]])
    more = inputs(MINIMAL, ["sites.texas.accelerators=[[gb200, h100]]"])
    later = inputs(MINIMAL, ["horizon.end=2031", "sites.texas.power_max=[{points: {2026: 0 MW, 2031: 1.2 GW}, interpolate: linear}]"])
    hows = check_sequence(base + gone + base + more + base + later + base)
    assert [h.split(":")[0] for h in hows] == ["full", "full", "full", "full", "full", "full", "full"], hows


def test_a_problem_raises_as_a_full_build_and_the_next_task_is_right():
    items = inputs(MINIMAL, ["sites.texas.power_existing=0 MW,2 GW", "contracts.cloudco_reserved.chips=50000,35000"])
    cache = PortfolioCache()
    check_sequence(items[:1], cache)  # power_existing 0, 50,000 chips
    with pytest.raises(ScenarioError) as cold:
        Portfolio.from_scenario(items[3][1], items[3][0])
    with pytest.raises(ScenarioError) as reused:
        Portfolio.from_scenario(items[3][1], items[3][0], reuse=cache)
    assert str(reused.value) == str(cold.value)
    assert "exceeds" in str(cold.value)
    hows = check_sequence(items[1:2] + items[:1], cache)  # the failed task left nothing behind
    assert all(h.startswith("reuse") and "capacity" in h and "sites" not in h for h in hows), hows


def test_changing_a_portfolio_handed_out_does_not_change_the_next():
    items = inputs(MINIMAL, ["horizon.discount_rate=8%,12%"])
    cache = PortfolioCache()
    p = Portfolio.from_scenario(items[0][1], items[0][0], reuse=cache)
    p.data["demand_h100e_hours"].values[:] = -1.0
    p.data["discount_factor"].values[:] = -1.0
    p.supply.loc[p.supply.index[0], "lab_share"] = -1.0
    p.horizon.table.loc[p.horizon.labels[0], "hours"] = -1.0
    p.data.attrs["x"] = 1
    check_sequence(items[1:] + items[:1], cache)


def test_a_wrong_reuse_is_caught(monkeypatch):
    """The comparison can fail: a cache told that no section read a changed value gives a wrong portfolio."""
    monkeypatch.setattr("gigawatt.portfolio.reuse.touches", lambda *a: False)
    items = inputs(MINIMAL, ["contracts.cloudco_reserved.chips=50000,35000"])
    with pytest.raises(AssertionError):
        check_sequence(items)


def test_recording_sees_leaves_models_and_mapping_keys():
    sc = inputs(MINIMAL, ["horizon.discount_rate=8%"])[0][1]
    reads: set = set()
    f = recording.Fields(sc, (), reads)
    assert "texas" in f.sites and list(f.sites) == ["texas"]
    assert reads == set()  # keys are structure
    assert f.sites["texas"].build_cost == sc.sites["texas"].build_cost
    assert recording.unwrap(f.workloads["training"].demand) is sc.workloads["training"].demand
    assert reads == {("sites", "texas", "build_cost"), ("workloads", "training", "demand")}
    assert recording.touches({("sites", "texas")}, reads, recording.prefixes(reads))  # a change above a read
    assert recording.touches({("workloads", "training", "demand", "value")}, reads, recording.prefixes(reads))
    assert not recording.touches({("sites", "texas", "pue")}, reads, recording.prefixes(reads))
    assert not recording.same_value(1, 1.0) and recording.same_value(float("nan"), float("nan"))


CHIPS = [20000, 35000, 50000]
COSTS = ["9 million USD/MW", "11.7 million USD/MW"]
RATES = ["8%", "12%"]
_GRID: list = []


def _grid():
    if not _GRID:
        _GRID.extend(inputs(MINIMAL, [f"sites.texas.build_cost={','.join(COSTS)}",
                                      f"contracts.cloudco_reserved.chips={','.join(map(str, CHIPS))}",
                                      f"horizon.discount_rate={','.join(RATES)}"]))
    return _GRID


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, len(CHIPS) * len(COSTS) * len(RATES) - 1), min_size=2, max_size=5))
def test_random_sequences_of_tasks(order):
    grid = _grid()
    check_sequence([grid[i] for i in order])


_CELL = st.one_of(st.none(), st.integers(-5, 5), st.floats(-1e3, 1e3), st.just(float("nan")), st.sampled_from(["a", "b"]),
                  st.booleans())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_CELL, _CELL, _CELL), min_size=1, max_size=4),
       st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), _CELL), max_size=3))
def test_a_patched_table_equals_one_built_anew(cells, edits):
    """``patch_table`` changes cells of the previous table only when that equals building it anew."""
    from gigawatt.portfolio.contracts import contracts_from_rows
    from gigawatt.portfolio.reuse import patch_table

    cols = ["value_usd", "chips", "warrants"]
    old_rows = [{"contract": f"c{i}", **dict(zip(cols, row)), **{c: None for c in
                 ["counterparty", "kind", "accelerator", "start", "term_years", "power_mw", "firm", "take_or_pay",
                  "equity_per_gw_usd", "equity_max_usd", "source"]}} for i, row in enumerate(cells)]
    rows = [dict(r) for r in old_rows]
    for i, j, value in edits:
        if i < len(rows):
            rows[i][cols[j]] = value
    patched = patch_table(old_rows, contracts_from_rows(None, old_rows), rows, "contract")
    if patched is not None:
        pd.testing.assert_frame_equal(patched, contracts_from_rows(None, rows), check_exact=True)


def test_a_contract_change_patches_the_contracts_table(monkeypatch):
    from gigawatt.portfolio import reuse

    patched = []
    real = reuse.patch_table
    monkeypatch.setattr(reuse, "patch_table", lambda *a: patched.append(real(*a)) or patched[-1])
    items = inputs(MINIMAL, ["contracts.cloudco_reserved.chips=50000,35000",
                             "contracts.cloudco_reserved.price=2.35 USD/h,2 USD/h"])
    check_sequence(items + items[:1])
    assert patched and all(t is not None for t in patched)
