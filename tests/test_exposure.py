"""Exposure by counterparty: the columns sum over counterparties to the finance lines (identity), vendor
equity and funding come back to the counterparty that paid them, and a small case by hand."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import solve_text
from gigawatt import exposure, finance
from gigawatt.optimize.cash import vendor_equity_by_deal_usd

HOURS = 8760.0

# A cloud (firm contract, an option, rentals) that also invests; a JV building a site; the lab's own site;
# a vendor deal with equity and warrants; a round with no named investor.
WEB = """
    providers:
      cloud: {kind: cloud, offers: {h100: {on_demand_price: 3 USD/h}}}
      jv: {kind: joint_venture, sites: [jvdc]}
      lab: {kind: owned, sites: [dc]}
    sites:
      dc: {power_max: 1 MW, build_cost: 1 million USD/MW, energy_price: 50 USD/MWh, accelerators: [mi300x]}
      jvdc: {power_max: 2 MW, build_cost: 2 million USD/MW, energy_price: 50 USD/MWh, accelerators: [h100]}
    contracts:
      reserved: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 2 years,
                 chips: 500, price: 2 USD/h, source: test}
      option: {counterparty: cloud, kind: capacity, accelerator: h100, start: 2025, term: 3 years,
               chips: 300, price: 2.5 USD/h, firm: false, source: test}
      amd: {counterparty: amd, kind: supply, accelerator: mi300x, start: 2026, term: 1 year, chips: 1000,
            equity_per_gw: 2 billion USD/GW, equity_max: 10 million USD, warrants: "1M shares at $0.01",
            source: test}
    workloads:
      train: {kind: training, demand: 20000000 H100_hours}
    finance:
      starting_cash: 100 million USD
      funding:
        from_cloud: {period: 2026, amount: 7 million USD, investor: cloud}
        seed: {period: 2025, amount: 3 million USD}
"""


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    plan = solve_text(tmp_path_factory.mktemp("web"), WEB)
    return plan, plan.portfolio, finance.compute(plan, plan.portfolio)


def test_columns_sum_to_the_finance_lines(web):
    plan, p, fin = web
    long = exposure.by_period(plan, p)
    total = long.groupby(level="period").sum()
    for col, (_, line) in exposure.COLUMNS.items():
        if line:
            assert total[col].to_numpy() == pytest.approx(fin[line].to_numpy(), rel=1e-9, abs=1e-3), col
    paid = total["paid_usd"].to_numpy()
    spent = (fin["outflows_usd"] - fin["other_costs_usd"]).to_numpy()
    assert paid == pytest.approx(spent, rel=1e-9)  # every compute payment has exactly one counterparty


def test_flows_come_back_to_who_paid_them(web):
    """Vendor equity per vendor is the deals' equity (1000 chips × 1 kW × $2B/GW = $2M in 2026); funding
    with a named investor is that counterparty's; the net flow is inflow − paid."""
    plan, p, _ = web
    y = exposure.by_year(plan, p)
    eq = vendor_equity_by_deal_usd(p).sum("period")
    assert float(eq.sel(deal="amd")) == pytest.approx(2e6)
    assert y.loc[("amd", 2026), "vendor_equity_usd"] == pytest.approx(2e6)
    assert y.xs("amd")["vendor_equity_usd"].sum() == pytest.approx(float(eq.sum()))
    assert y.loc[("cloud", 2026), "funding_usd"] == pytest.approx(7e6)
    assert y.loc[(exposure.UNNAMED_INVESTORS, 2025), "funding_usd"] == pytest.approx(3e6)
    assert (y["net_flow_usd"] == y["vendor_equity_usd"] + y["funding_usd"] - y["paid_usd"]).all()


def test_summary_by_hand(web):
    plan, p, _ = web
    s = exposure.summary(plan, p)
    # firm: 500 chips × $2/h × 2 years of hours; the option is not firm; the supply deal 1000 × $8000
    reserved = 500 * 2 * 2 * HOURS
    assert s.at["cloud", "commitments_firm_usd"] == pytest.approx(reserved)
    assert s.at["cloud", "commitments_option_usd"] == pytest.approx(300 * 2.5 * 3 * HOURS)
    assert s.at["amd", "commitments_firm_usd"] == pytest.approx(1000 * 8000)
    assert s["share_of_firm_commitments"].sum() == pytest.approx(1.0)
    assert s["commitments_firm_usd"].sum() == pytest.approx(finance.commitments_usd_total(p))
    assert s.at["cloud", "firm_owed_usd"] == pytest.approx(reserved)  # take-or-pay over the horizon
    assert s.at["cloud", "role"] == "cloud+investor"
    assert s.at["jv", "role"] == "joint_venture"
    assert s.at["amd", "warrants"] == "1M shares at $0.01"
    # the chips at the JV's site are the vendor's; the JV is paid its site capex only
    assert s.at["jv", "capex_chips_usd"] == 0
    assert s.at["amd", "capex_chips_usd"] >= 1000 * 8000 - 1e-3


def test_via_providers_is_what_clouds_are_paid_for_the_vendors_chips(web):
    plan, p, fin = web
    s = exposure.summary(plan, p)
    assert s.at["nvidia", "via_providers_usd"] == pytest.approx(float((fin["contract_usd"] + fin["lease_usd"]).sum()))
    assert s.at["amd", "via_providers_usd"] == 0


def test_solve_writes_the_tables_and_the_command_prints_them(tmp_path):
    from typer.testing import CliRunner

    from helpers import scenario_text
    from gigawatt.cli import app

    path = tmp_path / "web.yaml"
    path.write_text(scenario_text(WEB))
    runner = CliRunner()
    res = runner.invoke(app, ["-q", "solve", str(path), "--out", str(tmp_path / "run"), "--no-register"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "run" / "tables" / "exposure.csv").is_file()
    res = runner.invoke(app, ["exposure", str(tmp_path / "run"), "--years"])
    assert res.exit_code == 0, res.output
    assert "amd" in res.output and "1M shares at $0.01" in res.output
    res = runner.invoke(app, ["exposure", str(tmp_path / "nowhere")])
    assert res.exit_code == 1 and "run directory not found" in res.output


def test_an_older_run_gets_the_tables_added_and_listed_in_its_marker(tmp_path):
    import json

    from typer.testing import CliRunner

    from helpers import scenario_text
    from gigawatt.cli import app

    path = tmp_path / "web.yaml"
    path.write_text(scenario_text(WEB))
    runner = CliRunner()
    run = tmp_path / "run"
    assert runner.invoke(app, ["-q", "solve", str(path), "--out", str(run), "--no-register"]).exit_code == 0
    for stem in ("exposure", "exposure_by_year"):
        (run / "tables" / f"{stem}.csv").unlink()  # as solve wrote it before exposure existed
    marker_before = (run / ".gigawatt-run.json").read_text()
    for bad in (["--risk", "--policy", "forgive"], ["--draws", "8", "--can-raise", "5 GW"]):
        res = runner.invoke(app, ["exposure", str(run), *bad])  # a bad option is refused before anything is written
        assert res.exit_code == 1, res.output
        assert not (run / "exposure.csv").exists() and (run / ".gigawatt-run.json").read_text() == marker_before
    res = runner.invoke(app, ["exposure", str(run)])
    assert res.exit_code == 0, res.output
    marker = json.loads((run / ".gigawatt-run.json").read_text())
    assert marker["files"]["exposure.csv"]["by"] == "exposure"
    assert "counterparty,role" in (run / "exposure.csv").read_text().splitlines()[0]


def test_report_draws_the_flows_with_bundled_trace_types_only(tmp_path):
    from typer.testing import CliRunner

    from helpers import scenario_text
    from gigawatt.cli import app
    from gigawatt.report.data import load_run
    from gigawatt.report.page import render_report
    from gigawatt.report.plotlyjs import TRACE_TYPES

    path = tmp_path / "web.yaml"
    path.write_text(scenario_text(WEB))
    run = tmp_path / "run"
    assert CliRunner().invoke(app, ["-q", "solve", str(path), "--out", str(run), "--no-register"]).exit_code == 0
    page, charts = render_report(load_run(run))
    ours = {c.id: c for c in charts if c.section == "exposure"}
    assert set(ours) == {"exposure-flows", "exposure-paid"}
    assert {t.type for c in charts for t in c.figure.data} <= set(TRACE_TYPES)
    flows = {t.name: t for t in ours["exposure-flows"].figure.data}
    amd = list(flows["paid by the lab"].y).index("amd")
    assert flows["back to the lab: equity and funding"].x[amd] == pytest.approx(2e6 * 1e-9)  # the deal's equity
    assert 'id="exposure-table"' in page and 'id="no-sensitivity"' in page


def test_unpaid_two_counterparties_by_hand():
    """Two periods, A due 10 then 30, B due 10 then 10; four equally likely cash paths (end of period):

    draw 1: (−10, −30): the running deficit is 10 then 30 → 10 skipped in period 1 (½ each: A 5, B 5) and 20
            in period 2 (¾ to A: 15, ¼ to B: 5) → A 20, B 10.
    draw 2: (−10, 5): 10 skipped in period 1 and nothing more (skipping lifted every later cash) → A 5, B 5.
    draw 3: (5, 5): nothing.  draw 4: (0, −5): 5 in period 2 → A 3.75, B 1.25.
    E[A] = (20 + 5 + 0 + 3.75)/4 = 7.1875, E[B] = (10 + 5 + 0 + 1.25)/4 = 4.0625; P(unpaid) = 3/4 each;
    CVaR 75% (the worst quarter: one draw) A 20, B 10. Σ over counterparties of a draw = its funding gap.
    With 5 more raisable the threshold is −5: draw 1 skips 5 then 20 (A 2.5 + 15, B 2.5 + 5), draw 2 skips 5
    (A 2.5, B 2.5), draw 4 nothing → E[A] = 5, E[B] = 2.5."""
    import pandas as pd

    cash = np.array([[-10, -10, 5, 0], [-30, 5, 5, -5]], dtype=float)
    due = pd.DataFrame([[10, 30], [10, 10]], index=["A", "B"], columns=["2026", "2027"], dtype=float)
    u = exposure.unpaid(cash, due.to_numpy())
    assert u.sum(axis=(0, 1)) == pytest.approx(np.maximum(0, -cash).max(axis=0))  # = funding gap per draw
    st = exposure.UnpaidStatistics(due, floor=0.0, can_raise=0.0, alpha=0.75)
    st.consume(cash[:, :2])  # in two chunks, as the Monte Carlo feeds it
    st.consume(cash[:, 2:])
    s, y = st.result()
    assert s.at["A", "expected_unpaid_usd"] == pytest.approx(7.1875)
    assert s.at["B", "expected_unpaid_usd"] == pytest.approx(4.0625)
    assert s.at["A", "probability_unpaid"] == pytest.approx(0.75) == s.at["B", "probability_unpaid"]
    assert (s.at["A", "cvar75_unpaid_usd"], s.at["B", "cvar75_unpaid_usd"]) == pytest.approx((20.0, 10.0))
    assert y.loc[("A", 2026), "probability_unpaid"] == pytest.approx(0.5)
    assert y.loc[("A", 2027), "expected_unpaid_usd"] == pytest.approx((15 + 3.75) / 4)
    assert s.at["A", "peak_year"] == 2027
    st = exposure.UnpaidStatistics(due, floor=0.0, can_raise=5.0)
    st.consume(cash)
    s, _ = st.result()
    assert (s.at["A", "expected_unpaid_usd"], s.at["B", "expected_unpaid_usd"]) == pytest.approx((5.0, 2.5))


def test_unpaid_under_the_monte_carlo_sums_to_its_funding_gap(tmp_path):
    """On a solved run with an uncertainty section: with floor 0 and nothing to raise, the expected unpaid
    amounts of all counterparties add up to the Monte Carlo's mean funding gap (same draws, same seed)."""
    from gigawatt.commands.exposure import unpaid_under_uncertainty
    from gigawatt.risk.io import load_run
    from gigawatt.risk.simulate import simulate
    from typer.testing import CliRunner

    from helpers import scenario_text
    from gigawatt.cli import app

    body = WEB.replace("starting_cash: 100 million USD", "starting_cash: 1 million USD") + """
    uncertainty:
      drivers:
        costs: {target: other_costs, distribution: uniform, params: {low: 0.5, high: 1.5}}
      draws: 4096
      seed: 1
    """
    body = body.replace("      funding:\n", "      other_costs: {staff: 20 million USD}\n      funding:\n")
    path = tmp_path / "web.yaml"
    path.write_text(scenario_text(body))
    run = tmp_path / "run"
    res = CliRunner().invoke(app, ["-q", "solve", str(path), "--out", str(run), "--no-register"])
    assert res.exit_code == 0, res.output
    s, _, _ = unpaid_under_uncertainty(run, draws=4096, seed=1, floor=0.0, can_raise=0.0)
    plan, portfolio = load_run(run)
    gap = simulate(plan, portfolio, draws=4096, seed=1).funding_gap["mean"]
    assert gap > 0
    assert s["expected_unpaid_usd"].sum() == pytest.approx(gap, rel=1e-9)
    assert exposure.OTHER_COSTS in s.index


def test_tables_added_to_an_older_run_are_not_written_again(tmp_path):
    """An older run gets exposure.csv at its top from the first `gigawatt exposure`; a later call finds it
    there and writes nothing (it used to look only under tables/ and rewrite the file and the run's marker
    every time)."""
    import pandas as pd

    from gigawatt.commands.exposure import write_if_missing

    (tmp_path / "exposure.csv").write_text("counterparty,paid_usd\nx,1\n")
    assert write_if_missing(tmp_path, {"exposure": pd.DataFrame({"paid_usd": [2.0]})}) == []
    assert (tmp_path / "exposure.csv").read_text() == "counterparty,paid_usd\nx,1\n"
