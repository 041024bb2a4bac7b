"""Renegotiation as a stated policy (issue 12 item 3): deferral on each contract's terms when a draw's cash
would fall below the floor; cases derived by hand, the policy without terms equals the unpaid rule, the
schema refuses bad terms, and on a solved run the deferred and unpaid amounts add up to the funding gap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gigawatt import exposure
from gigawatt.errors import ScenarioError
from gigawatt.renegotiation import DeferralStatistics, Terms, defer

DUE = np.array([[40.0, 40.0, 40.0], [20.0, 20.0, 20.0]])  # counterparties A (has contract a), B


def terms(share=(0.5,), penalty=(0.1,), delay=(1,), notice=(0,), names=("a",), cps=("A",), pay=((40.0,) * 3,)):
    return Terms(names=list(names), counterparty=list(cps), payments=np.array(pay, dtype=float),
                 max_share=np.array(share), penalty=np.array(penalty), delay=np.array(delay, dtype=int),
                 notice=np.array(notice, dtype=int))


def col(r, k):
    return r[k][:, 0]


def test_deferral_rolls_with_its_penalty():
    """Three yearly periods, floor 0; contract a (counterparty A, due 40 a period) may defer 50% (≤ 20 a
    period) at a 10% penalty, repaid one period later, no notice. B (due 20) has no terms. Cash with every
    payment made: (−10, −10, −10): the draw is 10 short in period 1 and nothing worse after.

    t=1: need 10 → a defers 10 (≤ 20); repaid with 11 in t=2.
    t=2: the repayment lowers cash to −10 − 11 + 10 = −11 → need 11 → a defers 11, repaid with 12.1 in t=3.
    t=3: need 10 + 12.1 − 10 = 12.1 → a defers 12.1, repaid after the horizon.
    A absorbs 10 + 11 + 12.1 = 33.1, the penalty is 3.31, 11 + 12.1 = 23.1 is repaid inside the horizon,
    nothing is left unpaid (B untouched)."""
    r = defer(np.full((3, 1), -10.0), DUE, np.array([0]), terms())
    assert col(r, "deferred") == pytest.approx([33.1, 0.0])
    assert col(r, "penalty") == pytest.approx([3.31, 0.0])
    assert col(r, "repaid") == pytest.approx([23.1, 0.0])
    assert col(r, "unpaid") == pytest.approx([0.0, 0.0])


def test_max_share_and_notice_leave_a_residual_gap():
    """Delay 5 years (all repaid after the horizon), penalty 10%.

    No notice, cash (−30, −30, −30): t=1 needs 30, a may defer 20 → 10 skipped pro rata among what is
    still due in t=1 (A 40 − 20 = 20, B 20): A 5, B 5. A absorbs 20, penalty 2.
    Notice 1 year, cash (−10, −20, −20): t=1 needs 10, notice served, no deferral yet → 10 skipped pro rata
    to A 40, B 20: A 20/3, B 10/3. t=2 needs 20 − 10 = 10 → a defers 10 (penalty 1). t=3 needs 0."""
    r = defer(np.full((3, 1), -30.0), DUE, np.array([0]), terms(delay=(5,)))
    assert col(r, "deferred") == pytest.approx([20.0, 0.0])
    assert col(r, "penalty") == pytest.approx([2.0, 0.0])
    assert col(r, "unpaid") == pytest.approx([5.0, 5.0])
    r = defer(np.array([[-10.0], [-20.0], [-20.0]]), DUE, np.array([0]), terms(delay=(5,), notice=(1,)))
    assert col(r, "deferred") == pytest.approx([10.0, 0.0])
    assert col(r, "penalty") == pytest.approx([1.0, 0.0])
    assert col(r, "unpaid") == pytest.approx([20 / 3, 10 / 3])


def test_cheapest_first_or_pro_rata():
    """Two renegotiable contracts: a (A, 40 a period, 10% penalty), b (B, 20 a period, 5%), both 50%.
    Cash −25 in every period, repaid after the horizon. Cheapest first: b defers its 10, a the other 15.
    Pro rata to what each may defer (20 and 10): a 25·20/30, b 25·10/30. Nothing is left unpaid."""
    t = terms(share=(0.5, 0.5), penalty=(0.1, 0.05), delay=(5, 5), notice=(0, 0), names=("a", "b"),
              cps=("A", "B"), pay=((40.0,) * 3, (20.0,) * 3))
    cash = np.full((3, 1), -25.0)
    r = defer(cash, DUE, np.array([0, 1]), t, order="cheapest")
    assert col(r, "deferred") == pytest.approx([15.0, 10.0])
    assert col(r, "penalty") == pytest.approx([1.5, 0.5])
    r = defer(cash, DUE, np.array([0, 1]), t, order="pro-rata")
    assert col(r, "deferred") == pytest.approx([50 / 3, 25 / 3])
    assert col(r, "unpaid") == pytest.approx([0.0, 0.0])


@pytest.mark.parametrize("floor,can_raise", [(0.0, 0.0), (15.0, 5.0)])
def test_without_terms_the_policy_is_the_unpaid_rule(floor, can_raise):
    rng = np.random.default_rng(3)
    cash = rng.normal(0, 30, size=(3, 200)).cumsum(axis=0)
    empty = terms(share=(), penalty=(), delay=(), notice=(), names=(), cps=(), pay=np.zeros((0, 3)))
    r = defer(cash, DUE, np.array([], dtype=int), empty, floor=floor, can_raise=can_raise)
    u = exposure.unpaid(cash, DUE, floor=floor, can_raise=can_raise).sum(axis=1)
    assert r["unpaid"] == pytest.approx(u, abs=1e-9)
    assert u.sum() > 0 and not r["deferred"].any()


def test_statistics_per_counterparty():
    """The hand case of test_max_share_and_notice_leave_a_residual_gap (no notice) as one draw and a draw
    with cash ≥ 0: expected deferred A 10, CVaR 50% (the worse draw) 20, expected unpaid 2.5 each; A's
    share of the expected gap (deferred + unpaid = 30 in the bad draw, 15 on average) is 10/15."""
    due = pd.DataFrame(DUE, index=["A", "B"], columns=["2026", "2027", "2028"])
    st = DeferralStatistics(due, terms(delay=(5,)), floor=0.0, can_raise=0.0, alpha=0.5)
    st.consume(np.array([[-30.0, 5.0]] * 3))
    s = st.result()
    assert s.at["A", "expected_deferred_usd"] == pytest.approx(10.0)
    assert s.at["A", "cvar50_deferred_usd"] == pytest.approx(20.0)
    assert s.at["B", "expected_unpaid_usd"] == pytest.approx(2.5)
    assert s.at["A", "share_of_expected_gap"] == pytest.approx(10 / 15)
    assert bool(s.at["A", "renegotiable"]) and not bool(s.at["B", "renegotiable"])


CONTRACT = """
    providers:
      cloud: {kind: cloud, offers: {h100: {on_demand_price: 3 USD/h}}}
    contracts:
      reserved:
        counterparty: cloud
        kind: capacity
        accelerator: h100
        start: 2025
        term: 3 years
        chips: 500
        price: 2 USD/h
        source: test
        renegotiation: RENEG
    workloads:
      train: {kind: training, demand: 10000000 H100_hours}
"""


@pytest.mark.parametrize("reneg,needle", [
    ("{deferral: {max_share: 0%, delay: 1 year}, source: assumption}", "above 0"),
    ("{deferral: {max_share: 50%, penalty: 150%, delay: 1 year}, source: assumption}", "between 0 and 1"),
    ("{deferral: {max_share: 50%}, source: assumption}", "delay"),
    ("{deferral: {max_share: 50%, delay: 1 GW}, source: assumption}", "year"),
    ("{deferral: {max_share: 50%, delay: 1 year, penality: 5%}, source: assumption}", "penality"),
    ("{deferral: {max_share: 50%, delay: 1 year}}", "source"),
    ("{termination: {fee: 120%}, source: assumption}", "between 0 and 1"),
    ("{termination: {fee: 20%, notice: 2 MW}, source: assumption}", "year"),
    ("{termination: {fees: 20%}, source: assumption}", "fees"),
    ("{source: assumption}", "deferral or termination"),
])
def test_bad_terms_are_refused(tmp_path, reneg, needle):
    from helpers import build_test_portfolio

    with pytest.raises(ScenarioError) as info:
        build_test_portfolio(tmp_path, CONTRACT.replace("RENEG", reneg))
    assert needle in str(info.value) and "renegotiation" in str(info.value)


def test_terms_only_on_capacity_contracts(tmp_path):
    from helpers import build_test_portfolio

    body = """
    contracts:
      amd: {counterparty: amd, kind: supply, accelerator: mi300x, start: 2025, term: 1 year, chips: 10,
            source: test, renegotiation: {deferral: {max_share: 50%, delay: 1 year}, source: assumption}}
    workloads:
      train: {kind: training, demand: 10000 H100_hours}
    """
    with pytest.raises(ScenarioError, match="only on capacity contracts"):
        build_test_portfolio(tmp_path, body)


def test_policy_on_a_solved_run_absorbs_the_funding_gap(tmp_path):
    """Deferral with no penalty and repayment after the horizon, floor 0: in every draw the policy defers or
    skips exactly what the unpaid rule skips, so Σ expected deferred + unpaid = Σ expected unpaid of the
    plain rule (= the Monte Carlo's mean funding gap); the CLI writes exposure_deferral.csv; a scenario
    without terms and an unknown policy are clear errors (exit 1)."""
    from typer.testing import CliRunner

    from helpers import scenario_text
    from gigawatt.cli import app

    reneg = ("{deferral: {max_share: 60%, delay: 10 years}, termination: {fee: 30%, notice: 1 year}, "
             "source: assumption (test)}")
    body = CONTRACT.replace("RENEG", reneg) + """
    finance:
      starting_cash: 1 million USD
      other_costs: {staff: 20 million USD}
    uncertainty:
      drivers:
        costs: {target: other_costs, distribution: uniform, params: {low: 0.5, high: 1.5}}
      draws: 512
      seed: 2
    """
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(body))
    run = tmp_path / "run"
    cli = CliRunner()
    res = cli.invoke(app, ["-q", "solve", str(path), "--out", str(run), "--no-register"])
    assert res.exit_code == 0, res.output
    res = cli.invoke(app, ["exposure", str(run), "--risk", "--policy", "defer"])
    assert res.exit_code == 0, res.output
    assert "Renegotiation" in res.output  # the table (its title wraps in a narrow terminal)
    d = pd.read_csv(run / "exposure_deferral.csv", index_col=0)
    u = pd.read_csv(run / "exposure_unpaid.csv", index_col=0)
    assert d.at["cloud", "expected_deferred_usd"] > 0
    total = d["expected_deferred_usd"].sum() + d["expected_unpaid_usd"].sum()
    assert total == pytest.approx(u["expected_unpaid_usd"].sum(), rel=1e-9)
    assert d["expected_unpaid_usd"].sum() < u["expected_unpaid_usd"].sum()
    res = cli.invoke(app, ["exposure", str(run), "--risk", "--policy", "stop"])
    assert res.exit_code == 1 and "defer-then-terminate" in res.output
    res = cli.invoke(app, ["exposure", str(run), "--risk", "--policy", "terminate"])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(run / "exposure_deferral.csv", index_col=0)
    assert t.at["cloud", "probability_terminated"] > 0 and not t["expected_deferred_usd"].any()
    assert t["expected_terminated_value_usd"].to_numpy() == pytest.approx(
        (t["expected_fee_usd"] + t["expected_absorbed_termination_usd"]).to_numpy())
    assert t.at["cloud", "expected_fee_usd"] == pytest.approx(0.3 * t.at["cloud", "expected_terminated_value_usd"])
    res = cli.invoke(app, ["exposure", str(run), "--risk", "--policy", "defer"])  # back to the deferral table
    from gigawatt.report.data import load_run
    from gigawatt.report.exposure_charts import deferral

    fig = deferral(load_run(run))
    bars = {t.name: dict(zip(t.x, t.y)) for t in fig.data}
    assert {t.type for t in fig.data} == {"bar"}
    assert bars["deferred (absorbed by it)"]["cloud"] == pytest.approx(d.at["cloud", "expected_deferred_usd"] * 1e-9)


# --- termination ------------------------------------------------------------------------------------------

DUE4 = np.array([[40.0] * 4, [20.0] * 4])  # A (contract a, 40 a period), B (contract b, 20 a period)


def two_contracts(**kw):
    """a: fee 50% of its remaining value, 1 period's notice, 40 more due after the horizon; b: fee 25%, no
    notice, nothing after the horizon. No deferral terms."""
    base = dict(names=["a", "b"], counterparty=["A", "B"], payments=DUE4.copy(), max_share=np.zeros(2),
                penalty=np.zeros(2), delay=np.ones(2, dtype=int), notice=np.zeros(2, dtype=int),
                fee=np.array([0.5, 0.25]), term_notice=np.array([1, 0]), after=np.array([40.0, 0.0]))
    base.update(kw)
    return Terms(**base)


def identity(r, t):
    """Per counterparty (one contract each): paid (planned payments − those stopped + fee) + absorbed
    (remaining value − fee) = planned (horizon payments + what is due after it), for a terminated contract."""
    planned = t.payments.sum(axis=1) + t.after
    paid = t.payments.sum(axis=1) - col(r, "saved") + col(r, "fee")
    return paid + col(r, "absorbed"), planned


def test_termination_lowest_fee_first_covers_a_small_gap():
    """Four periods, cash with every payment made (−10, −10, −10, −10): 10 short in period 1 only.
    t=1: need 10. Net relief inside the horizon: b (no notice, effective t=1) saves 4 × 20 = 80 for a fee of
    25% × 80 = 20 → 60; a (effective t=2) saves 3 × 40 = 120 for 50% × (120 + 40) = 80 → 40. Lowest fee
    first: b is terminated (60 covers 10), a is not. b's fee (20) is paid in t=1 and its payment (20) stops:
    cash unchanged, so the 10 is skipped pro rata to what is due (A 40, B 20 − 20 + 20 = 20): A 20/3, B 10/3.
    From t=2 b's payments stop: no later need. B: remaining value 80, fee 20, absorbs 60, saved 80."""
    t = two_contracts()
    r = defer(np.full((4, 1), -10.0), DUE4, np.array([0, 1]), t, policy="terminate")
    assert col(r, "terminated") == pytest.approx([0.0, 80.0])
    assert col(r, "fee") == pytest.approx([0.0, 20.0])
    assert col(r, "absorbed") == pytest.approx([0.0, 60.0])
    assert col(r, "saved") == pytest.approx([0.0, 80.0])
    assert col(r, "unpaid") == pytest.approx([20 / 3, 10 / 3])
    assert not r["deferred"].any()
    got, planned = identity(r, t)
    assert got[1] == pytest.approx(planned[1])


def test_termination_with_notice_and_both_contracts():
    """Cash (−70, −70, −70, −70): t=1 needs 70 > b's relief 60, so a is terminated too (a's 40 brings the
    total to 100). b takes effect in t=1 (fee 20 = its payment: cash unchanged); a on a period's notice in
    t=2. t=1: 70 skipped pro rata to A 40, B 20: A 140/3, B 70/3. t=2: b saves 20, a saves 40 and pays its
    fee 50% × (120 + 40) = 80: cash −20 → need 70 − 50 = 20, skipped: A owes 40 − 40 + 80 = 80, B 0 →
    A 20. t=3, t=4: the payments stopped lift cash above the floor.
    A: remaining 160 (3 × 40 + 40 after the horizon), fee 80, absorbs 80, saved 120; B: 80, 20, 60, 80."""
    t = two_contracts()
    r = defer(np.full((4, 1), -70.0), DUE4, np.array([0, 1]), t, policy="terminate")
    assert col(r, "terminated") == pytest.approx([160.0, 80.0])
    assert col(r, "fee") == pytest.approx([80.0, 20.0])
    assert col(r, "absorbed") == pytest.approx([80.0, 60.0])
    assert col(r, "saved") == pytest.approx([120.0, 80.0])
    assert col(r, "unpaid") == pytest.approx([140 / 3 + 20, 70 / 3])
    got, planned = identity(r, t)
    assert got == pytest.approx(planned)


def test_policies_choose_their_terms():
    """Deferral terms on a (50%, no penalty, repaid after the horizon) beside the termination terms: 'defer'
    never terminates; 'defer-then-terminate' defers a's 20 first and terminates b only for what is left
    (10 > 0); 'terminate' does not defer. Cash (−30, −30, −30, −30)."""
    t = two_contracts(max_share=np.array([0.5, 0.0]), delay=np.array([9, 1]))
    cash = np.full((4, 1), -30.0)
    r = defer(cash, DUE4, np.array([0, 1]), t, policy="defer")
    assert not r["terminated"].any() and col(r, "deferred") == pytest.approx([20.0, 0.0])
    r = defer(cash, DUE4, np.array([0, 1]), t, policy="defer-then-terminate")
    assert col(r, "deferred")[0] == pytest.approx(20.0) and col(r, "terminated") == pytest.approx([0.0, 80.0])
    r = defer(cash, DUE4, np.array([0, 1]), t, policy="terminate")
    assert not r["deferred"].any() and col(r, "terminated")[1] == pytest.approx(80.0)
    with pytest.raises(ValueError, match="policy"):
        defer(cash, DUE4, np.array([0, 1]), t, policy="walk-away")


def test_termination_identity_over_random_draws():
    """Over random cash paths and the defer-then-terminate policy: for every counterparty and draw,
    Σ remaining value ended = fee + absorbed, and what is saved inside the horizon never exceeds the horizon's
    payments; with no terms the policy still equals the unpaid rule."""
    rng = np.random.default_rng(5)
    cash = rng.normal(-20, 40, size=(4, 300)).cumsum(axis=0)
    t = two_contracts(max_share=np.array([0.25, 0.25]), penalty=np.array([0.1, 0.0]), delay=np.array([1, 2]))
    r = defer(cash, DUE4, np.array([0, 1]), t, policy="defer-then-terminate")
    assert r["terminated"] == pytest.approx(r["fee"] + r["absorbed"])
    assert (r["saved"] <= t.payments.sum(axis=1)[:, None] + 1e-9).all()
    assert r["terminated"].any() and (r["terminated"] == 0).any()


def test_equal_fees_end_the_contract_with_the_largest_relief_first():
    """Both fees 25%, no notice, cash −10 in every period (10 short in period 1). Net relief: a 160 − 40 = 120
    (4 × 40, nothing after the horizon), b 80 − 20 = 60: a is ended (120 covers 10), b is not — the order is
    by relief, not by name: with a renamed z, b would come first by name and still is not ended."""
    t = two_contracts(fee=np.array([0.25, 0.25]), term_notice=np.array([0, 0]), after=np.zeros(2))
    r = defer(np.full((4, 1), -10.0), DUE4, np.array([0, 1]), t, policy="terminate")
    assert col(r, "terminated") == pytest.approx([160.0, 0.0])
    t = two_contracts(names=["z", "b"], fee=np.array([0.25, 0.25]), term_notice=np.array([0, 0]), after=np.zeros(2))
    r = defer(np.full((4, 1), -10.0), DUE4, np.array([0, 1]), t, policy="terminate")
    assert col(r, "terminated") == pytest.approx([160.0, 0.0])


def test_deferred_and_terminated_in_the_same_period_ends_only_what_was_not_deferred():
    """One contract paying 10 a period for 3 periods; it may defer 50% (penalty 10%, repaid a period later)
    and end at a fee of 20% of its remaining value, no notice. Cash −12 in every period: at t=0 the policy
    defers 5 (still owed: repaid as 5.5 at t=1) and, 7 still short, terminates. What ends is the remaining
    value less the deferred part: 30 − 5 = 25; fee 20% × 25 = 5; absorbed 20; payments saved 5 (t=0, the part
    not deferred) + 10 + 10 = 25. So paid (30 − 25 + 5) + absorbed (20) = planned (30); counting the deferred
    5 as ended too gave 35."""
    due = np.array([[10.0] * 3])
    t = Terms(names=["a"], counterparty=["A"], payments=due.copy(), max_share=np.array([0.5]),
              penalty=np.array([0.1]), delay=np.array([1]), notice=np.array([0]), fee=np.array([0.2]),
              term_notice=np.array([0]), after=np.array([0.0]))
    r = defer(np.full((3, 1), -12.0), due, np.array([0]), t, policy="defer-then-terminate")
    assert col(r, "deferred") == pytest.approx([5.0])
    assert col(r, "terminated") == pytest.approx([25.0])
    assert col(r, "fee") == pytest.approx([5.0])
    assert col(r, "absorbed") == pytest.approx([20.0])
    assert col(r, "saved") == pytest.approx([25.0])
    got, planned = identity(r, t)
    assert got == pytest.approx(planned)
