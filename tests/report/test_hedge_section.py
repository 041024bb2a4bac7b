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
