"""Several stages: a scenario tree of futures, non-anticipativity per node, a hand-solved 3-stage case."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import build_test_portfolio

U = 1000  # chips in a unit of demand
R = 0.42 * 8760  # renting a chip for a year, USD (3,679.2)

BODY = """
    providers:
      lab: {kind: owned, sites: [dc]}
      cloud: {kind: cloud, offers: {h100: {on_demand_price: 0.42 USD/h}}}
    sites:
      dc: {power_max: 100 MW, build_cost: 0 USD/MW, energy_price: 0 USD/MWh, accelerators: [h100]}
    workloads:
      train: {kind: training, demand: 8760000 H100_hours}   # 1,000 chips all year
    config: {solve: {unmet_penalty: 1 USD/H100_hour}}
    uncertainty:
      stages: [2026, 2027]
      branching: [2, 2]
      drivers:
        d: {target: demand, distribution: lognormal, params: {mean: 0, sd: 0.3}, mode: yearly}
"""

# demand in units of 1,000 chips per year, (period 2025, 2026, 2027) × future (HH, HL, LH, LL)
HAND = [[1, 1, 1, 1], [2, 2, 0, 0], [1, 1, 2, 0]]


def tree_futures(portfolio, factors):
    """Equally likely futures of the scenario's tree whose demand is the base demand times ``factors``
    (period, future)."""
    from gigawatt.stochastic.tree import TreeFutures, node_numbers, tree_of

    tree = tree_of(portfolio, None)
    names = pd.Index([f"f{i}" for i in range(tree.n)], name="future")
    periods = portfolio.data.indexes["period"]
    f = xr.DataArray(np.asarray(factors, dtype=float), coords={"period": periods, "future": names})
    data = portfolio.data.copy()
    data["demand_h100e_hours"] = data["demand_h100e_hours"] * f
    prob = xr.DataArray(np.full(tree.n, 1.0 / tree.n), coords={"future": names})
    cal = portfolio.horizon.table["year"].to_numpy()
    from dataclasses import replace

    return TreeFutures(replace(portfolio, data=data), prob, 0, pd.DataFrame(index=names), tree=tree,
                       nodes=node_numbers(tree, cal, names, periods))


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    p = build_test_portfolio(tmp_path_factory.mktemp("hand"), BODY, start=2025, end=2027)
    return tree_futures(p, HAND)


def test_three_stage_optimum_by_hand(hand):
    """Three years 2025-2027, discount 0, revelations at 2026 and 2027, two equally likely branches at
    each: futures HH, HL, LH, LL. Demand (units of 1,000 chips): 2025: 1; 2026: H 2, L 0; 2027: HH 1,
    HL 1, LH 2, LL 0. A chip costs 10,000 USD with a 5-year life, charged net of its straight-line salvage at
    the horizon end: 2,000 USD per year it is held in the horizon (bought in 2025: 6,000; 2026: 4,000;
    2027: 2,000), and it cannot be sold. Renting costs R = 0.42 × 8,760 = 3,679.2 USD a chip-year, and
    unserved demand 8,760 (never chosen). Costs are linear and demand levels nested, so the optimum is a
    sum over layers of one unit:

    Layer 1 (demand ≥ 1: 2025; 2026 in H; 2027 in HH, HL, LH). Buy at the root: 6,000. Wait instead: rent
    2025 (R), then in H buy (4,000 < R + 2,000) and in L wait and buy in LH (½ · 2,000): R + ½ · 4,000 +
    ½ · 1,000 = 6,179.2 > 6,000, so buy one unit now.
    Layer 2 (demand ≥ 2: 2026 in H, 2027 in LH). In H, rent (R < 4,000 for a chip held two years and used
    one); in L wait, and in LH buy in 2027 (2,000 < R). Expected ½ R + ¼ · 2,000 = 2,339.6.
    SP = 6,000 + 2,339.6 = 8,339.6 per unit → 8,339,600 USD.

    WS (each future alone): HH, HL: 6,000 + R = 9,679.2; LH: rent 2025 and buy 2 units in 2027: R +
    2 · 2,000 = 7,679.2; LL: rent 2025: R. WS = (2 · 9,679.2 + 7,679.2 + 3,679.2)/4 = 7,679.2 per unit.
    EV: mean demand 1 in every year, buy one unit in 2025 and nothing later; fixed in every future (EEV)
    layer 2 is rented where needed: 6,000 + ¾ R = 8,759.4 per unit. WS ≤ SP ≤ EEV: EVPI 660.4, VSS 419.8."""
    from gigawatt.stochastic.extensive import _wait_and_see, solve_extensive, solve_mean

    sp = solve_extensive(hand)
    assert sp.expected_usd == pytest.approx(8_339.6 * U, rel=1e-6)
    buy = sp.commitments["Own-buy"].sum("supply") * 1e3  # chips, (period, future)
    np.testing.assert_allclose(buy.sel(period="2025"), [U] * 4, atol=1e-3)  # here and now, every future
    np.testing.assert_allclose(buy.sel(period="2026"), [0] * 4, atol=1e-3)
    np.testing.assert_allclose(buy.sel(period="2027"), [0, 0, U, 0], atol=1e-3)  # only LH buys
    ws = _wait_and_see(hand, "auto", None)
    assert ws.expected_usd == pytest.approx(7_679.2 * U, rel=1e-6)
    eev = solve_extensive(hand, fixed=solve_mean(hand))
    assert eev.expected_usd == pytest.approx(8_759.4 * U, rel=1e-6)


def test_rentals_follow_the_node_and_commitments_split_after_it(hand):
    """Recourse is tied per node too: both H futures rent one unit in 2026, no L future rents; in 2027
    the futures of H differ from each other only where their own node allows (they are separate nodes)."""
    from gigawatt.optimize.build import create_model
    from gigawatt.optimize.nonanticipativity import SUFFIX
    from gigawatt.optimize.solve import solve

    ctx = create_model(hand.portfolio, allow_unmet=True, probability=hand.probability, nodes=hand.nodes)
    assert solve(ctx).termination == "optimal"
    m = ctx.model
    assert "future" in m.variables["Own-buy"].dims
    assert "Own-buy" + SUFFIX in m.constraints and "Supply-dispatch" + SUFFIX in m.constraints
    lease = [s for s in hand.portfolio.supply.index if hand.portfolio.supply.at[s, "kind"] == "lease"]
    rent = m.variables["Supply-dispatch"].solution.sel(supply=lease).sum(["supply", "workload"]) * 1e3
    np.testing.assert_allclose(rent.sel(period="2026"), [U, U, 0, 0], atol=1e-3)
    np.testing.assert_allclose(rent.sel(period="2025"), [0] * 4, atol=1e-3)


def test_nonanticipativity_binds(hand):
    """With the ties futures of a node agree period by period (the spread within every node is 0) while
    different nodes differ. Two stages instead (every purchase decided now, rentals per future) cannot buy
    in LH only: layer 2 is rented in H and in LH (½ R + ¼ R, cheaper than buying in 2027 in every future,
    2,000 + ½ R), so it costs 6,000 + ¾ R = 8,759.4 per unit, more than the tree's 8,339.6."""
    from gigawatt.stochastic.extensive import solve_extensive
    from gigawatt.stochastic.staged import spread

    sp = solve_extensive(hand)
    assert spread(sp.commitments, hand.nodes) == pytest.approx(0.0, abs=1e-9)
    buy = sp.commitments["Own-buy"].sum("supply")
    assert float(abs(buy.sel(period="2027", future="f2") - buy.sel(period="2027", future="f3"))) > 0.5
    two_stage = solve_extensive(type(hand)(hand.portfolio, hand.probability, 0, hand.factors))  # no nodes
    assert two_stage.expected_usd == pytest.approx(8_759.4 * U, rel=1e-6)


UNC = """
    finance: {revenue: 1 billion USD}
    uncertainty:
      seed: 11
      stages: [2027, 2029]
      branching: [3, 2]
      drivers:
        y: {target: demand, distribution: lognormal, params: {mean: 0, sd: 0.3}, mode: yearly}
        g: {target: demand, distribution: lognormal, params: {mean: 0.05, sd: 0.1}, mode: growth}
        lv: {target: revenue, applies_to: [exogenous], distribution: normal, params: {mean: 1, sd: 0.1}}
        ep: {target: energy_price, distribution: normal, params: {mean: 1, sd: 0.1}, mode: yearly}
      events:
        cut: {kind: contract_failure, target: deal, probability: 0.5}
      correlations: [{between: [y, lv], rho: 0.5}]
    contracts:
      deal: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 6 years, chips: 100,
             price: 1 USD/h, take_or_pay: 100%, source: test}
"""


def _tree_portfolio(tmp_path, extra=""):
    body = BODY.split("    uncertainty:")[0] + UNC + extra
    return build_test_portfolio(tmp_path, body, start=2025, end=2030)


def test_tree_draws_share_history_per_node(tmp_path):
    """Futures of one node have identical demand, revenue and contract capacity in every period before the
    node's next revelation and differ after it; level drivers and events start differing at the first
    revelation; every future's number of a year is some path of the sampler (simulate's draws)."""
    from gigawatt.stochastic.tree import draw_tree, tree_of

    p = _tree_portfolio(tmp_path)
    tree = tree_of(p, 6)
    f = draw_tree(p, tree)
    dem = f.portfolio.data["demand_h100e_hours"].sum("workload")  # (period, future)
    rev = f.portfolio.data["revenue_usd"] if "revenue_usd" in f.portfolio.data else None
    cap = f.portfolio.data["contract_capacity_chips"].sum("supply")
    energy = f.portfolio.data["energy_price_factor"].sum("site")  # per period in a tree
    years = p.horizon.table["year"].to_numpy()
    for k in range(3):  # stage k: nodes of k, periods before the next revelation
        node = tree.node(k)
        before = years < (tree.stages[k] if k < len(tree.stages) else 10_000)
        for arr in [dem, cap, energy] + ([rev] if rev is not None else []):
            if "future" not in arr.dims:
                continue
            a = arr.isel(period=np.flatnonzero(before)).to_numpy()
            for n in np.unique(node):  # a handful of nodes: checking, not building
                cols = a[..., node == n]
                assert np.allclose(cols, cols[..., :1])
    # after each revelation, futures of different nodes differ (continuous draws)
    d = dem.to_numpy()
    assert not np.allclose(d[years == 2027][:, 0], d[years == 2027][:, 2])  # stage-1 nodes 0 and 1
    assert not np.allclose(d[years == 2029][:, 0], d[years == 2029][:, 1])  # stage-2 siblings
    e = energy.transpose("period", "future").to_numpy()
    assert not np.allclose(e[years == 2027][:, 0], e[years == 2027][:, 2])
    assert list(f.factors["node_path"]) == ["0.0", "0.1", "1.0", "1.1", "2.0", "2.1"]
    # the event never happens before the first revelation
    assert np.allclose(cap.isel(period=np.flatnonzero(years < 2027)), float(cap.isel(period=0, future=0)))


def test_same_seed_same_tree_and_objective(tmp_path):
    from gigawatt.stochastic.extensive import solve_extensive
    from gigawatt.stochastic.tree import draw_tree, tree_of

    p = _tree_portfolio(tmp_path)
    tree = tree_of(p, None)
    a, b = draw_tree(p, tree), draw_tree(p, tree)
    xr.testing.assert_identical(a.portfolio.data, b.portfolio.data)
    xr.testing.assert_identical(a.nodes, b.nodes)
    assert solve_extensive(a).expected_usd == solve_extensive(b).expected_usd
    other = draw_tree(p, tree, seed=12)
    assert not a.portfolio.data["demand_h100e_hours"].equals(other.portfolio.data["demand_h100e_hours"])


def test_without_stages_the_hedge_is_the_two_stage_one(tmp_path):
    """No uncertainty.stages: hedge draws draw_futures' futures (no tree, no ties) and its optimum is
    the two-stage extensive form's, exactly."""
    from gigawatt.stochastic.extensive import hedge, solve_extensive
    from gigawatt.stochastic.futures import draw_futures

    body = BODY.split("    uncertainty:")[0] + UNC.replace("      stages: [2027, 2029]\n", "").replace(
        "      branching: [3, 2]\n", "")
    p = build_test_portfolio(tmp_path, body, start=2025, end=2030)
    res = hedge(p, 5, metrics=False)
    assert getattr(res.futures, "nodes", None) is None
    assert "future" not in res.sp.commitments["Own-buy"].dims
    assert res.sp.expected_usd == solve_extensive(draw_futures(p, 5)).expected_usd


@pytest.mark.parametrize("sets,match", [
    (["uncertainty.stages=[2029, 2027]"], "strictly increasing"),
    (["uncertainty.branching=[3]"], "one entry per stage"),
    (["uncertainty.stages=[2025, 2027]"], "outside the horizon"),
    (["uncertainty.stages=[2027, 2031]"], "outside the horizon"),
])
def test_bad_trees_are_refused(tmp_path, sets, match):
    from gigawatt.errors import ScenarioError
    from gigawatt.stochastic.tree import tree_of

    body = BODY.split("    uncertainty:")[0] + UNC
    with pytest.raises(ScenarioError, match=match):
        p = build_test_portfolio(tmp_path, body, sets=sets, start=2025, end=2030)
        tree_of(p, None)


def test_futures_must_match_the_branching(tmp_path):
    from gigawatt.errors import ScenarioError
    from gigawatt.stochastic.tree import tree_of

    with pytest.raises(ScenarioError, match="6 = the product"):
        tree_of(_tree_portfolio(tmp_path), 20)


def _node_factors(rng_values, tree, years):
    """Demand factors (period, future) consistent with the tree: one value per (node, period)."""
    stage = tree.stage_of(years)
    return np.stack([rng_values[y][tree.node(int(k))] for y, k in enumerate(stage)])


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.lists(st.floats(0.0, 3.0), min_size=4, max_size=4), min_size=3, max_size=3),
       price=st.sampled_from(["0.25", "0.42", "0.6"]))
def test_ws_le_sp_le_eev_on_random_trees(tmp_path_factory, values, price):
    from gigawatt.stochastic.extensive import _wait_and_see, solve_extensive, solve_mean
    from gigawatt.stochastic.tree import tree_of

    p = build_test_portfolio(tmp_path_factory.mktemp("t"), BODY.replace("0.42 USD/h", f"{price} USD/h"),
                             start=2025, end=2027)
    tree = tree_of(p, None)
    factors = _node_factors(np.asarray(values), tree, p.horizon.table["year"].to_numpy())
    fut = tree_futures(p, factors)
    sp = solve_extensive(fut).expected_usd
    eev = solve_extensive(fut, fixed=solve_mean(fut)).expected_usd
    ws = _wait_and_see(fut, "auto", None).expected_usd
    tol = 1e-7 * max(1.0, abs(sp))
    assert ws <= sp + tol and sp <= eev + tol


def test_hedge_command_with_stages(tmp_path):
    """`gigawatt hedge` of a tree: summary.json has the tree and the here-and-now commitments (the root's
    periods), futures.csv each future's node path, the run's plan buys what the root commits; --futures
    that does not match the branching, and --replications, exit 1 with a clear message."""
    import json

    from typer.testing import CliRunner

    from gigawatt.cli import app
    from helpers import scenario_text

    src = tmp_path / "s.yaml"
    src.write_text(scenario_text(BODY.split("    uncertainty:")[0] + UNC, end=2030))
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["hedge", str(src), "--out", str(out), "--no-register", "--out-of-sample", "50",
                                   "--no-option-values"])
    assert res.exit_code == 0, res.output
    block = json.loads((out / "summary.json").read_text())["stochastic"]
    assert block["futures"] == 6 and block["tree"]["stages"] == [2027, 2029]
    assert block["tree"]["branching"] == [3, 2] and block["tree"]["nodes_per_stage"] == [1, 3, 6]
    assert block["tree"]["here_and_now_periods"] == ["2025", "2026"]
    now = block["commitments"]["here_and_now"]["chips_bought"]
    assert set(now) == {"2025", "2026"}
    assert block["ws_usd"] <= block["sp_usd"] + 1e-6 <= block["eev_usd"] + 2e-6
    frame = pd.read_csv(out / "tables" / "futures.csv", dtype={"node_path": str})
    assert list(frame["node_path"]) == ["0.0", "0.1", "1.0", "1.1", "2.0", "2.1"]
    plan = xr.open_dataset(out / "plan.nc")
    for y in ("2025", "2026"):  # the run's plan commits exactly the root's purchases
        assert float(plan["chips_bought"].sel(period=y).sum()) == pytest.approx(now[y], rel=1e-6, abs=1e-3)
    bad = CliRunner().invoke(app, ["hedge", str(src), "--out", str(tmp_path / "r2"), "--futures", "5"])
    assert bad.exit_code == 1 and "--futures" in bad.output and "6" in bad.output
    bad = CliRunner().invoke(app, ["hedge", str(src), "--out", str(tmp_path / "r3"), "--replications", "2"])
    assert bad.exit_code == 1 and "--replications" in bad.output
