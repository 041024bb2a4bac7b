"""Monte Carlo over a plan: exactness at zero variance, the dispatch rule by hand, invariance to chunking and
workers, a different seed differs, probabilities and percentiles are well formed."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import xarray as xr
from risk_helpers import solve_to_run

from gigawatt.risk.io import load_run
from gigawatt.risk.simulate import simulate


def stable(doc: dict) -> dict:
    """risk.json without what may differ between identical simulations (timings, chunking, workers)."""
    return {k: v for k, v in doc.items() if k not in ("timings_s", "method")}


def test_zero_variance_reproduces_the_plan_exactly(zero_run):
    plan, portfolio = load_run(zero_run)
    res = simulate(plan, portfolio, draws=3000, seed=1)
    doc = res.to_dict()
    ds = xr.load_dataset(zero_run / "plan.nc", engine="h5netcdf")
    if "finance_cash_usd" in ds:
        cash = ds["finance_cash_usd"].values
        flow = ds["finance_cash_flow_after_financing_usd"].values
    else:
        cash = np.array(list(doc["deterministic"]["cash_usd"].values()))
        flow = np.array(list(doc["deterministic"]["cash_flow_after_financing_usd"].values()))
    for q in ("p5", "p25", "p50", "p75", "p95"):
        assert [doc["cash_usd_percentiles"][q][p] for p in res.periods] == cash.tolist()  # bit for bit
        assert [doc["cash_flow_after_financing_usd_percentiles"][q][p] for p in res.periods] == flow.tolist()
    assert (res.paths.groupby("draw")["cash_usd"].apply(list).apply(lambda c: c == cash.tolist())).all()
    for y, p in doc["probability_cash_below_zero"].items():
        assert p == float(any(c < 0 for c, per in zip(cash, res.periods) if per.startswith(y)))
    assert doc["funding_gap_usd"]["max"] == max(0.0, -float(cash.min()))
    npc = doc["compute_spending_pv_usd"]
    assert npc["var_95"] == npc["deterministic"] == npc["p50"]
    assert npc["mean"] == pytest.approx(npc["deterministic"], rel=1e-12)


def test_plan_finance_is_the_finance_modules(zero_run):
    """When gigawatt.finance exists, the simulation starts from its cash figures."""
    finance = pytest.importorskip("gigawatt.finance")
    if not hasattr(finance, "compute"):
        pytest.skip("gigawatt.finance.compute not there yet")
    plan, portfolio = load_run(zero_run)
    fin = finance.compute(plan, portfolio)
    res = simulate(plan, portfolio, draws=10, seed=1)
    assert list(res.deterministic["cash_usd"].values()) == fin["cash_usd"].values.tolist()


# --- the dispatch rule, by hand ---------------------------------------------------------------------------------

DISPATCH = """\
meta: {name: dispatch}
horizon: {start: 2026, end: 2026, step: year, discount_rate: 0%}
accelerators:
  h100: {bf16_flops: 989 TFLOP/s, utilisation_training: 50%, utilisation_inference: 50%, all_in_power: 1 kW,
         purchase_price: 10000 USD, useful_life: 5 years, available: 2020-01, vendor: nvidia}
providers:
  cloud:
    kind: cloud
    offers: {h100: {on_demand_price: 3 USD/h, available: 500}}
contracts:
  reserved: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2026, term: 1 year, chips: 1000,
             price: 2 USD/h, take_or_pay: 100%, source: test}
workloads:
  inference: {kind: inference, demand: 10 million H100_hours}
uncertainty:
  drivers:
    d: {target: demand, distribution: normal, params: {mean: 1.0, sd: 0}}
  events:
    fails: {kind: contract_failure, target: reserved, probability: 0}
"""
HOURS = 8760.0
CONTRACT = 1000 * HOURS  # chip-hours (H100 at its utilisation: 1 H100-hour = 1 chip-hour here)
LEASE_AVAILABLE = 500 * HOURS
DEMAND = 10e6


@pytest.fixture(scope="module")
def dispatch_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dispatch")
    path = tmp / "dispatch.yaml"
    path.write_text(textwrap.dedent(DISPATCH))
    return path


def one_draw(path, tmp, sets):
    out = solve_to_run(path, tmp / "run", sets=sets)
    plan, portfolio = load_run(out)
    res = simulate(plan, portfolio, draws=1, seed=0)
    row = res.paths.iloc[0]
    return res, row, plan


def test_demand_above_plan_uses_lease_spare_then_goes_unmet(dispatch_dir, tmp_path):
    lease_plan = DEMAND - CONTRACT
    res, row, plan = one_draw(dispatch_dir, tmp_path, ["uncertainty.drivers.d.params.mean=1.5"])
    assert plan.ds["dispatch_chips"].sel(supply="cloud/h100").sum() * HOURS == pytest.approx(lease_plan)
    spare = LEASE_AVAILABLE - lease_plan
    unmet = 1.5 * DEMAND - DEMAND - spare
    assert row["unmet_demand_fraction"] == pytest.approx(unmet / (1.5 * DEMAND), rel=1e-9)
    assert row["stranded_capacity_fraction"] == pytest.approx(0.0, abs=1e-12)
    base = res.deterministic["cash_flow_usd"]["2026"]
    assert row["cash_flow_after_financing_usd"] - base == pytest.approx(-spare * 3.0, rel=1e-9)  # the extra lease, at its price


def test_demand_below_plan_cuts_the_lease_first_then_strands_committed(dispatch_dir, tmp_path):
    res, row, _ = one_draw(dispatch_dir, tmp_path, ["uncertainty.drivers.d.params.mean=0.5"])
    lease_plan = DEMAND - CONTRACT
    stranded = CONTRACT - 0.5 * DEMAND
    assert row["unmet_demand_fraction"] == 0.0
    assert row["stranded_capacity_fraction"] == pytest.approx(stranded / CONTRACT, rel=1e-9)
    base = res.deterministic["cash_flow_usd"]["2026"]
    assert row["cash_flow_after_financing_usd"] - base == pytest.approx(lease_plan * 3.0, rel=1e-9)  # lease saved; contract paid


def test_failed_contract_is_not_paid_and_its_service_moves_to_the_lease(dispatch_dir, tmp_path):
    res, row, _ = one_draw(dispatch_dir, tmp_path, ["uncertainty.events.fails.probability=1"])
    lease_plan = DEMAND - CONTRACT
    spare = LEASE_AVAILABLE - lease_plan
    unmet = CONTRACT - spare
    assert row["unmet_demand_fraction"] == pytest.approx(unmet / DEMAND, rel=1e-9)
    base = res.deterministic["cash_flow_usd"]["2026"]
    saved = 1000 * 2.0 * HOURS  # take-or-pay payments not owed
    assert row["cash_flow_after_financing_usd"] - base == pytest.approx(saved - spare * 3.0, rel=1e-9)


def test_price_factor_scales_what_the_lease_costs(dispatch_dir, tmp_path):
    sets = ["uncertainty.drivers.p={target: lease_price, distribution: uniform, params: {low: 1.2, high: 1.2}}"]
    res, row, _ = one_draw(dispatch_dir, tmp_path, sets)
    base = res.deterministic["cash_flow_usd"]["2026"]
    assert row["cash_flow_after_financing_usd"] - base == pytest.approx(-0.2 * (DEMAND - CONTRACT) * 3.0, rel=1e-9)


# --- reproducibility ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan_and_portfolio(risk_run):
    return load_run(risk_run)


def test_same_seed_is_bit_identical_whatever_chunks_and_workers(plan_and_portfolio):
    plan, portfolio = plan_and_portfolio
    n = 3 * 4096 + 77
    ref = simulate(plan, portfolio, draws=n, seed=5, chunk_size=4096)
    for kw in ({"chunk_size": 8192}, {"chunk_size": 50_000}, {"chunk_size": 4096, "workers": 2},
               {"chunk_size": None, "workers": 3}):
        other = simulate(plan, portfolio, draws=n, seed=5, **kw)
        assert stable(other.to_dict()) == stable(ref.to_dict()), kw
        assert other.paths.equals(ref.paths)


def test_bounded_store_is_chunk_invariant_too(plan_and_portfolio):
    plan, portfolio = plan_and_portfolio
    n = 5 * 4096
    a = simulate(plan, portfolio, draws=n, seed=5, chunk_size=4096, budget=8192)
    b = simulate(plan, portfolio, draws=n, seed=5, chunk_size=12288, workers=2, budget=8192)
    exact = simulate(plan, portfolio, draws=n, seed=5)
    assert stable(a.to_dict()) == stable(b.to_dict())
    for k in ("cash_usd", "cash_flow_usd"):  # the compactor's percentiles sit next to the exact ones
        spread = exact.percentiles[k][:, 4] - exact.percentiles[k][:, 0]
        assert np.all(np.abs(a.percentiles[k] - exact.percentiles[k]) <= 0.02 * spread[:, None] + 1e-6)


def test_different_seed_differs(plan_and_portfolio):
    plan, portfolio = plan_and_portfolio
    a = simulate(plan, portfolio, draws=4096, seed=1).to_dict()
    b = simulate(plan, portfolio, draws=4096, seed=2).to_dict()
    assert a["cash_usd_percentiles"] != b["cash_usd_percentiles"]
    assert a["compute_spending_pv_usd"]["mean"] != b["compute_spending_pv_usd"]["mean"]


def test_first_draws_do_not_depend_on_how_many_follow(plan_and_portfolio):
    plan, portfolio = plan_and_portfolio
    small = simulate(plan, portfolio, draws=300, seed=9)
    big = simulate(plan, portfolio, draws=9000, seed=9)
    assert small.paths.equals(big.paths)  # the sampled paths are the first 256 draws either way


def test_probabilities_and_percentiles_are_well_formed(plan_and_portfolio):
    plan, portfolio = plan_and_portfolio
    res = simulate(plan, portfolio, draws=6000, seed=3)
    doc = res.to_dict()
    probs = list(doc["probability_cash_below_zero"].values())
    cum = list(doc["probability_cash_below_zero_by_year"].values())
    assert all(0.0 <= p <= 1.0 for p in probs + cum)
    assert all(b >= a for a, b in zip(cum, cum[1:])) and all(c >= p for c, p in zip(cum, probs))
    assert 0 < max(probs) < 1  # this scenario can run out of cash, but not always
    for key in ("cash_usd_percentiles", "cash_flow_after_financing_usd_percentiles", "unmet_demand_fraction_percentiles",
                "stranded_capacity_fraction_percentiles"):
        fan = doc[key]
        for p in res.periods:
            values = [fan[q][p] for q in ("p5", "p25", "p50", "p75", "p95")]
            assert values == sorted(values), (key, p)
    for key in ("unmet_demand_fraction_percentiles", "stranded_capacity_fraction_percentiles"):
        assert all(0.0 <= v <= 1.0 for q in doc[key].values() for v in q.values())
    g, npc = doc["funding_gap_usd"], doc["compute_spending_pv_usd"]
    assert 0 <= g["p50"] <= g["p95"] <= g["max"] and g["mean"] <= g["max"]
    assert npc["p50"] <= npc["var_95"] <= npc["cvar_95"]
    # percentiles are the exact ones of the draws (the store keeps every value at this size)
    cash = res.paths.pivot(index="draw", columns="period", values="cash_usd")
    assert cash.shape == (256, len(res.periods))


def test_percentiles_match_numpy_on_the_draws(plan_and_portfolio):
    """Exact mode: np.partition-based percentiles equal np.percentile over the same draws."""
    from gigawatt.risk.quantiles import QuantileStore

    rng = np.random.default_rng(0)
    values = np.round(rng.standard_normal((3, 20_001)), 2)  # ties included
    values[1, :15_000] = 0.0  # a row that is mostly one value
    st = QuantileStore(3, values.shape[1])
    st.put(0, values[:, :7000])
    st.put(7000, values[:, 7000:])
    got = st.quantiles([0.05, 0.25, 0.5, 0.75, 0.95])
    assert np.array_equal(got, np.percentile(values, [5, 25, 50, 75, 95], axis=1).T)
