"""The Hedged plan section's data: compare rows of a hedge run, nothing for a run of `solve`."""

import json


def test_compare_shows_the_stochastic_metrics(hedge_run, minimal_run):
    from gigawatt.report.data import load_run
    from gigawatt.report.hedge_section import charts, html_of
    from gigawatt.report.page import compare_rows

    hedged, plain = load_run(hedge_run), load_run(minimal_run)
    labels, cols = compare_rows([hedged, plain])
    block = json.loads((hedge_run / "summary.json").read_text())["stochastic"]
    for label in ("EVPI", "VSS", "SP (stochastic optimum)"):
        i = labels.index(label)
        assert cols[0][i] != "–" and cols[1][i] == "–"  # the solve run has no stochastic metrics
    assert block["ws_usd"] <= block["sp_usd"] + 1e-6 <= block["eev_usd"] + 2e-6
    assert charts(plain) == [] and html_of(plain) == ""


def test_the_funding_gap_over_the_futures_is_shown(hedge_run):
    """The hedged plan's expected and CVaR funding gap over the futures: a metric row with the block's value."""
    from gigawatt.report.data import load_run
    from gigawatt.report.hedge_section import facts, html_of

    run = load_run(hedge_run)
    g = json.loads((hedge_run / "summary.json").read_text())["stochastic"]["funding_gap"]["hedged"]
    got = {f.key: f.value for f in facts(run)}
    assert got["funding_gap_expected_usd"] == g["expected_usd"] and got["funding_gap_cvar_usd"] == g["cvar_usd"]
    assert g["cvar_usd"] >= g["expected_usd"] - 1e-6 and "Funding gap over the futures" in html_of(run)


def test_risk_averse_metrics_say_which_plan_they_belong_to():
    """SP, WS, EEV are risk-neutral: in a risk-averse run the table must not call SP the plan shown, and it
    shows the risk-averse plan's own expected cost and both plans' CVaR. Site power is power in service."""
    from types import SimpleNamespace

    from gigawatt.report.hedge_section import charts, facts, html_of

    block = {"futures": 3, "seed": 1, "sp_usd": 10e9, "ws_usd": 9e9, "eev_usd": 11e9, "evpi_usd": 1e9,
             "vss_usd": 1e9, "cvar_weight": 0.5, "cvar_alpha": 0.9, "hedged_expected_usd": 10.5e9,
             "hedged_cvar_usd": 12e9, "neutral_cvar_usd": 13e9,
             "commitments": {"hedged": {"site_power_mw": {"2025": 1.0, "2026": 2.0}}}}
    run = SimpleNamespace(summary={"stochastic": block, "net_present_cost_usd": 9.9e9})
    labels = {f.key: f.label for f in facts(run)}
    assert labels["sp_usd"] == "SP (risk-neutral stochastic optimum)"
    assert labels["hedged_expected_usd"] == "Expected cost of the hedged (risk-averse) plan"
    assert labels["neutral_cvar_usd"] == "CVaR90% of the risk-neutral plan"
    page = html_of(run)
    assert "$10.5B" in page and "$13B" in page and "mean future (net present cost $9.9B)" in page
    power = [c for c in charts(run) if c.id == "hedge-power"]
    assert power and "in service" in power[0].title
    neutral = {k: v for k, v in block.items() if k not in ("cvar_weight", "cvar_alpha", "hedged_expected_usd",
                                                           "hedged_cvar_usd", "neutral_cvar_usd")}
    assert {f.key: f.label for f in facts(SimpleNamespace(summary={"stochastic": neutral}))}["sp_usd"] \
        == "SP (stochastic optimum)"


def test_a_run_without_metrics_does_not_describe_them():
    from types import SimpleNamespace

    from gigawatt.report.hedge_section import charts, html_of

    block = {"futures": 3, "seed": 1, "sp_usd": 10e9,
             "commitments": {"hedged": {"chips_bought": {"2025": 1.0}, "site_power_mw": {"2025": 1.0}}}}
    run = SimpleNamespace(summary={"stochastic": block})
    assert "WS ≤ SP ≤ EEV" not in html_of(run) and "--no-metrics" in html_of(run)
    assert all("expected-value" not in c.caption for c in charts(run))
