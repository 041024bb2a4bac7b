"""Each kind of bad input, written in a file as a user would, read back through the real pipeline.

Every case asserts the five parts of the message: what is wrong, the key path with the exact file:line
of the offending key, the value, what was expected, and the fix (with "Did you mean ...?" for names).
The line numbers are those of GOOD below (line 1 is `meta:`), so each case also proves the line map.
"""

from __future__ import annotations

import textwrap

import pytest
from typer.testing import CliRunner

from gigawatt.cli import app
from gigawatt.errors import ScenarioError

GOOD = """\
meta: {name: t}
horizon: {start: 2025, end: 2027, step: year, discount_rate: 8%}
providers:
  aws: {kind: cloud, offers: {h100: {on_demand_price: 2.95 USD/h}}}
  lab: {kind: owned, sites: [tx]}
sites:
  tx:
    power_max: 100 MW
    build_cost: 11.7 million USD/MW
    energy_price: 60 USD/MWh
    accelerators: [h100]
contracts:
  aws38:
    counterparty: aws
    kind: capacity
    accelerator: h100
    start: 2025
    term: 3 years
    chips: 1,000
    price: 2.35 USD/h
    source: test
workloads:
  chat: {kind: inference, demand: 1e6 H100_hours}
policy:
  share_targets:
    own: {providers: [lab], min_share: 10%, periods: [2027]}
overrides:
  cheaper: {providers.aws.offers.h100.on_demand_price: 2 USD/h}
  typo: {providers.awz.offers.h100.on_demand_price: 2 USD/h}
scenarios:
  broken: [typo]
"""


def load(tmp_path, text: str, **kw):
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate

    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text))
    r = read(path, **kw)
    return Portfolio.from_scenario(validate(r), r)


def message(tmp_path, text: str, **kw) -> str:
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, text, **kw)
    assert info.value.exit_code == 1
    return str(info.value)


def edit(old: str, new: str) -> str:
    assert GOOD.count(old) == 1, old
    return GOOD.replace(old, new)


def test_good_file_is_valid(tmp_path):
    p = load(tmp_path, GOOD)
    assert p.scenario.contracts["aws38"].chips == 1000.0


CASES = [
    # (id, edited text, fragments the message must hold: key path + file:line, what, value, expected, fix)
    ("unknown_key", edit("    energy_price:", "    energy_prise:"),
     ["sites.tx.energy_prise (s.yaml:10): unknown key 'energy_prise'", "expected one of: power_max",
      "Fix: remove it or correct the spelling. Did you mean 'energy_price'?"]),
    ("unknown_key_in_nested_offer", edit("on_demand_price: 2.95", "on_demand_prize: 2.95"),
     ["providers.aws.offers.h100.on_demand_prize (s.yaml:4): unknown key", "Did you mean 'on_demand_price'?"]),
    ("wrong_unit", edit("power_max: 100 MW", "power_max: 100 USD"),
     ["sites.tx.power_max (s.yaml:8): invalid value", "got '100 USD'", "expected a quantity of power (e.g. MW, GW)",
      "but '100 USD' is money", "Fix: write the value with a unit of that kind"]),
    ("wrong_unit_on_a_price", edit("price: 2.35 USD/h", "price: 2.35 USD"),
     ["contracts.aws38.price (s.yaml:20)", "a price per hour", "Fix: write the value with a unit"]),
    ("bare_number_where_the_docs_name_no_unit", edit("term: 3 years", "term: 3"),
     ["contracts.aws38.term (s.yaml:18)", "got 3", "a bare number is ambiguous here, write the unit"]),
    ("negative_capacity", edit("power_max: 100 MW", "power_max: -100 MW"),
     ["sites.tx.power_max (s.yaml:8): invalid value", "got '-100 MW'", "expected a quantity ≥ 0",
      "Fix: drop the minus sign or use 0"]),
    ("negative_chips", edit("chips: 1,000", "chips: -1,000"),
     ["contracts.aws38.chips (s.yaml:19)", "got '-1,000'", "≥ 0", "Fix: drop the minus sign"]),
    ("negative_demand_in_a_series", edit("demand: 1e6 H100_hours", "demand: {2025: 1 H100_hours, "
                                         "2026: -1 H100_hours, 2027: 1 H100_hours}"),
     ["workloads.chat.demand (s.yaml:23)", "at period 2026", "≥ 0", "Fix: drop the minus sign"]),
    ("bad_date", edit("start: 2025\n    term", "start: 2025-13\n    term"),
     ["contracts.aws38.start (s.yaml:17): invalid value", "got '2025-13'",
      "expected a period: a year (2027), a quarter (2027Q3) or a month (2027-07)",
      "Fix: write a period at the horizon's step"]),
    ("bad_enum", edit("kind: owned", "kind: owend"),
     ["providers.lab.kind (s.yaml:5): value not allowed", "got 'owend'", "Did you mean 'owned'?"]),
    ("contract_names_unknown_provider", edit("counterparty: aws", "counterparty: awz"),
     ["contracts.aws38.counterparty (s.yaml:14): unknown provider 'awz'", "got 'awz'",
      "expected a provider defined under providers:", "Fix: correct the name. Did you mean 'aws'?"]),
    ("contract_names_unknown_accelerator", edit("accelerator: h100", "accelerator: h1000"),
     ["contracts.aws38.accelerator (s.yaml:16): unknown accelerator 'h1000'", "got 'h1000'",
      "expected a catalog id or one defined under accelerators:", "Did you mean 'h100'?"]),
    ("site_used_by_no_provider", edit("sites: [tx]", "sites: []"),
     ["sites.tx (s.yaml:7): site 'tx' is used by no provider",
      "Fix: add 'tx' to a provider's sites list, or remove the site"]),
    ("provider_names_unknown_site", edit("sites: [tx]", "sites: [txx]"),
     ["providers.lab.sites (s.yaml:5)", "unknown site 'txx'", "Did you mean 'tx'?"]),
    ("period_outside_horizon", edit("periods: [2027]", "periods: [2031]"),
     ["policy.share_targets.own.periods (s.yaml:26): period outside the horizon", "got '2031'",
      "expected 2025 … 2027 at step 'year'", "Fix: use a period inside the horizon, or extend the horizon"]),
    ("contract_after_horizon", edit("start: 2025\n    term", "start: 2029\n    term"),
     ["contracts.aws38.start (s.yaml:17)", "contract starts after the horizon ends"]),
]


@pytest.mark.parametrize(("text", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_message_has_path_line_value_expected_and_fix(tmp_path, text, says):
    msg = message(tmp_path, text)
    for fragment in says:
        assert fragment in msg, f"{fragment!r} not in:\n{msg}"


def test_override_that_matches_nothing_names_path_line_and_hint(tmp_path):
    msg = message(tmp_path, GOOD, scenario="broken")
    assert "providers.awz.offers.h100.on_demand_price (s.yaml:29)" in msg
    assert "override 'typo' sets 'providers.awz.offers.h100.on_demand_price', but 'providers.awz' matches no key" in msg
    assert "got '2 USD/h'" in msg and "keys at 'providers': aws, lab" in msg
    assert "Did you mean 'aws'?" in msg


def test_set_that_matches_nothing_says_it_came_from_the_command_line(tmp_path):
    msg = message(tmp_path, GOOD, sets=["sites.txx.power_max=1 GW"])
    assert "sites.txx.power_max (--set)" in msg and "'sites.txx' matches no key" in msg and "Did you mean 'tx'?" in msg


def test_every_schema_problem_in_a_file_is_reported_at_once(tmp_path):
    bad = (GOOD.replace("energy_price:", "energy_prise:").replace("power_max: 100 MW", "power_max: -1 MW")
           .replace("start: 2025\n    term", "start: 2025-13\n    term").replace("kind: owned", "kind: owend"))
    msg = message(tmp_path, bad)
    assert msg.startswith("s.yaml is invalid: 5 problems")  # the missing energy_price is the fifth
    for where in ("providers.lab.kind (s.yaml:5)", "sites.tx.power_max (s.yaml:8)",
                  "sites.tx.energy_prise (s.yaml:10)", "sites.tx.energy_price", "contracts.aws38.start (s.yaml:17)"):
        assert where in msg, where


def test_every_reference_problem_in_a_file_is_reported_at_once(tmp_path):
    bad = (GOOD.replace("counterparty: aws", "counterparty: awz").replace("sites: [tx]", "sites: []")
           .replace("periods: [2027]", "periods: [2031]").replace("accelerator: h100", "accelerator: h1000"))
    msg = message(tmp_path, bad)
    assert "4 problems" in msg.splitlines()[0]
    for where in ("contracts.aws38.counterparty (s.yaml:14)", "contracts.aws38.accelerator (s.yaml:16)",
                  "sites.tx (s.yaml:7)", "policy.share_targets.own.periods (s.yaml:26)"):
        assert where in msg, where


def test_validate_cli_prints_every_problem_exit_1_no_traceback(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD.replace("energy_price:", "energy_prise:").replace("kind: owned", "kind: owend"))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "error: s.yaml is invalid: 3 problems" in result.output
    assert "Did you mean 'energy_price'?" in result.output and "Did you mean 'owned'?" in result.output
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD.replace("counterparty: aws", "counterparty: awz"))
    result = CliRunner().invoke(app, ["--debug", "validate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" in result.output and "unknown provider 'awz'" in result.output


# plain numbers only where the field's docs name the unit ---------------------------------------------------


def _quantity_fields():
    """(model, field, json schema) of every quantity-like field: its schema says what a bare number means."""
    from gigawatt.scenario.schema import json_schema

    schema = json_schema()
    for name, model in schema["$defs"].items():
        for field, spec in model.get("properties", {}).items():
            options = spec.get("anyOf", [spec])
            for o in options:
                desc = o.get("description", "")
                if desc.startswith(("Quantity of", "A series in")):
                    yield name, field, o


def test_fields_that_accept_a_bare_number_say_in_which_unit():
    seen_plain, seen_strict = 0, 0
    for model, field, spec in _quantity_fields():
        types = spec.get("type", [])
        plain = "number" in types if isinstance(types, list) else types == "number"
        desc = spec["description"]
        if plain or "bare number" in desc:
            assert "A bare number is read as" in desc, (model, field, desc)
            seen_plain += 1
        else:
            seen_strict += 1
    assert seen_plain >= 3 and seen_strict >= 20


@pytest.mark.parametrize(("key", "plain", "ok"), [
    ("contracts.aws38.chips", "1000", True),                     # documented: a bare number is chips
    ("providers.aws.offers.h100.available", "500", True),        # documented: a bare number is chips
    ("contracts.aws38.price", "2.35", False),
    ("sites.tx.power_max", "100", False),
    ("sites.tx.build_cost", "11700000", False),
    ("contracts.aws38.term", "3", False),
])
def test_bare_numbers_accepted_exactly_where_documented(tmp_path, key, plain, ok):
    if ok:
        load(tmp_path, GOOD, sets=[f"{key}={plain}"])
    else:
        msg = message(tmp_path, GOOD, sets=[f"{key}={plain}"])
        assert f"{key} (--set)" in msg and "a bare number is ambiguous here, write the unit" in msg
