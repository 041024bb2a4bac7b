"""`gigawatt hedge` prints what the plan commits to, beside the expected-value plan."""

from rich.console import Console


def test_commitments_line_sums_the_chips_and_takes_the_last_years_power():
    from gigawatt.commands.hedge_print import print_commitments

    c = {"hedged": {"chips_bought": {"2025": 1e6, "2026": 2.5e6}, "site_power_mw": {"2025": 500.0, "2026": 1500.0}},
         "expected_value": {"chips_bought": {"2025": 1e6, "2026": 1e6}, "site_power_mw": {"2025": 0.0, "2026": 900.0}}}
    con = Console(width=200, record=True)
    print_commitments(c, con)
    text = con.export_text()
    assert "3.50M chips bought 2025–2026, 1.5 GW of sites in service in 2026" in text
    assert "(expected-value plan: 2.00M chips bought, 0.9 GW of sites in service in 2026)" in text
    con = Console(width=200, record=True)
    print_commitments({}, con)
    assert con.export_text() == ""
