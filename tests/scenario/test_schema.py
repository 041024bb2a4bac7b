"""Schema errors: each names the key path, file:line, the value, what was expected and how to fix it."""

import textwrap

import pytest

from gigawatt.errors import ScenarioError
from gigawatt.scenario.load import read
from gigawatt.scenario.schema import json_schema
from gigawatt.scenario.validate import validate

GOOD = """\
meta: {name: t}
horizon: {start: 2025, end: 2027, step: year, discount_rate: 8%}
providers:
  aws: {kind: cloud, offers: {h100: {on_demand_price: 2.95 USD/h}}}
  lab: {kind: owned, sites: [tx]}
sites:
  tx: {power_max: 1 GW, build_cost: 11.7 million USD/MW, energy_price: 60 USD/MWh, accelerators: [h100]}
workloads:
  chat: {kind: inference, demand: {2025: 1e8 H100_hours, 2026: 2e8 H100_hours, 2027: 3e8 H100_hours}}
contracts:
  aws38: {counterparty: aws, kind: capacity, accelerator: h100, start: 2025, term: 7 years, value: $38B,
          price: 2.35 USD/h, source: "R1 (2025-11-03)"}
"""


def load(tmp_path, text=GOOD, **kw):
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text))
    return validate(read(path, **kw))


def errors(tmp_path, text) -> str:
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, text)
    assert isinstance(info.value, ValueError)  # user-input errors are ValueErrors too
    return str(info.value)


def test_good_file_validates_to_canonical_units(tmp_path):
    sc = load(tmp_path)
    assert sc.sites["tx"].power_max.value == 1000.0
    assert sc.contracts["aws38"].value == 38e9
    assert sc.contracts["aws38"].term == 7.0
    assert sc.horizon.discount_rate == 0.08
    assert sc.providers["aws"].offers["h100"].on_demand_price == 2.95


def test_unknown_key_suggests_the_known_one(tmp_path):
    msg = errors(tmp_path, GOOD.replace("energy_price:", "energy_prise:"))
    assert "sites.tx.energy_prise (s.yaml:7)" in msg
    assert "unknown key 'energy_prise'" in msg
    assert "Did you mean 'energy_price'?" in msg
    assert "sites.tx.energy_price" in msg and "missing" in msg  # and the now-missing one is reported too


def test_unknown_top_level_section(tmp_path):
    msg = errors(tmp_path, GOOD + "polcy: {}\n")
    assert "unknown key 'polcy'" in msg and "Did you mean 'policy'?" in msg


def test_wrong_unit_names_expected_dimension(tmp_path):
    msg = errors(tmp_path, GOOD.replace("power_max: 1 GW", "power_max: 1 billion USD"))
    assert "sites.tx.power_max (s.yaml:7)" in msg
    assert "power (e.g. MW, GW)" in msg
    assert "1 billion USD" in msg


def test_negative_capacity_is_rejected(tmp_path):
    msg = errors(tmp_path, GOOD.replace("power_max: 1 GW", "power_max: -1 GW"))
    assert "sites.tx.power_max" in msg and "≥ 0" in msg


def test_bad_period_is_rejected(tmp_path):
    msg = errors(tmp_path, GOOD.replace("start: 2025, term", "start: 2025-13, term"))
    assert "contracts.aws38.start" in msg and "a period" in msg


def test_horizon_misaligned_with_step(tmp_path):
    msg = errors(tmp_path, GOOD.replace("step: year", "step: quarter"))
    assert "horizon" in msg and "quarter" in msg


def test_bad_enum_suggests(tmp_path):
    msg = errors(tmp_path, GOOD.replace("kind: owned", "kind: owend"))
    assert "providers.lab.kind" in msg and "Did you mean 'owned'?" in msg


def test_every_problem_reported_at_once(tmp_path):
    bad = GOOD.replace("kind: owned", "kind: owend").replace("power_max: 1 GW", "power_max: 1 USD").replace(
        "value: $38B", "value: 38 GW")
    msg = errors(tmp_path, bad)
    assert msg.startswith("s.yaml is invalid: 3 problems")


def test_bare_number_where_unit_needed(tmp_path):
    msg = errors(tmp_path, GOOD.replace("value: $38B", "value: 38000000000"))
    assert "contracts.aws38.value" in msg and "bare number is ambiguous" in msg


def test_capacity_contract_needs_an_amount(tmp_path):
    msg = errors(tmp_path, GOOD.replace("value: $38B,\n          price: 2.35 USD/h,", ""))
    assert "contracts.aws38" in msg and "needs power, chips, or value together with price" in msg


def test_series_value_with_wrong_unit_names_the_period(tmp_path):
    msg = errors(tmp_path, GOOD.replace("2026: 2e8 H100_hours", "2026: 2 GW"))
    assert "workloads.chat.demand" in msg and "at period 2026" in msg


def test_json_schema_has_sections_and_descriptions():
    schema = json_schema()
    assert set(schema["properties"]) >= {"meta", "horizon", "providers", "sites", "contracts", "workloads",
                                         "finance", "policy", "uncertainty", "overrides", "scenarios"}
    assert "Facility power" in json_schema()["$defs"]["Site"]["properties"]["power_max"]["description"]


def test_scenario_format_doc_is_generated_from_the_schema():
    from pathlib import Path

    from gigawatt.scenario.docs import markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md"
    assert doc.read_text() == markdown(), "regenerate: gigawatt schema --markdown > docs/scenario-format.md"
