"""The exported JSON Schema as an editor uses it (issue 14 item 5): every scenario file validates, quantity
strings carry their dimension's pattern, and every default is a value of its own type."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
import yaml
from helpers import ROOT
from typer.testing import CliRunner

from gigawatt import units
from gigawatt.cli import app
from gigawatt.scenario.load import read
from gigawatt.scenario.patterns import PATTERNS, quantity_pattern
from gigawatt.scenario.schema import Scenario, json_schema

SCHEMA = json_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
# scenarios/openai/published.yaml is the `report --published` file (published figures), not a scenario
FILES = [p for p in sorted([*(ROOT / "scenarios").rglob("*.yaml"), *(ROOT / "examples").glob("*.yaml")])
         if p.name != "published.yaml"]


def errors(doc) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in VALIDATOR.iter_errors(doc)]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"].endswith("2020-12/schema")


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_scenario_file_validates_as_an_editor_sees_it(path):
    assert errors(yaml.safe_load(path.read_text())) == []


def test_the_reference_merged_with_its_imports_validates_too():
    assert FILES and any(p.name == "openai.yaml" for p in FILES)
    assert "imports" in yaml.safe_load((ROOT / "scenarios" / "openai.yaml").read_text())
    assert errors(read(ROOT / "scenarios" / "openai.yaml").data) == []


def _minimal() -> dict:
    return yaml.safe_load((ROOT / "examples" / "minimal.yaml").read_text())


@pytest.mark.parametrize(("where", "wrong"), [
    (("sites", "texas", "build_cost"), "4.5 GW"),                              # power where USD/MW is due
    (("providers", "cloudco", "offers", "h100", "on_demand_price"), "38 billion USD"),  # money, not per hour
    (("contracts", "cloudco_reserved", "price"), "60 USD/MWh"),
    (("contracts", "cloudco_reserved", "term"), "3 GW"),
    (("sites", "texas", "power_max"), "38 billion USD"),                        # a series' one-quantity form
    (("horizon", "discount_rate"), "8 GW"),
])
def test_a_quantity_of_the_wrong_dimension_fails_its_pattern(where, wrong):
    doc = _minimal()
    node = doc
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = wrong
    bad = list(VALIDATOR.iter_errors(doc))
    assert bad, f"{'.'.join(where)} = {wrong!r} validated"
    assert any(".".join(map(str, e.absolute_path)) == ".".join(where) for e in bad)


@pytest.mark.parametrize("unit", sorted(PATTERNS))
def test_each_dimensions_example_matches_its_own_pattern_and_units_reads_it(unit):
    import re

    example = units.example(unit)
    assert re.search(quantity_pattern(unit), example), (unit, example)
    assert units.parse(example, unit) > 0
    for other in ("MW", "USD", "USD/hour", "USD/MWh", "chip"):
        same = {"MW": {"MW", "kW"}, "USD/MW": {"USD/MW", "USD/GW"}}.get(other, {other}) | \
            {"MW": set(), "kW": {"MW"}, "USD/GW": {"USD/MW"}}.get(unit, set())
        if unit not in same and other != unit:
            assert not re.search(quantity_pattern(other), example), f"{example!r} ({unit}) matches {other}"


def _defaults(schema: dict):
    """(model, field, property schema with $defs, default) for every default in the schema."""
    for name, model in [("Scenario", schema), *schema["$defs"].items()]:
        for field, prop in (model.get("properties") or {}).items():
            if "default" in prop:
                yield name, field, {**{k: v for k, v in prop.items() if k != "default"}, "$defs": schema["$defs"]}, \
                    prop["default"]


def test_every_default_type_checks_against_its_own_schema():
    found = list(_defaults(SCHEMA))
    assert len(found) > 30
    bad = [f"{m}.{f} = {d!r}" for m, f, prop, d in found
           if list(jsonschema.Draft202012Validator(prop).iter_errors(d))]
    assert bad == []


def test_a_quantity_default_is_written_with_its_unit_and_reads_back_to_the_models_default():
    found = {(m, f): d for m, f, _, d in _defaults(SCHEMA)}
    assert found[("Site", "lead_time")] == "0 months"
    assert found[("Finance", "starting_cash")] == "0 USD"
    models = {"Site": "sites", "Finance": "finance", "SolveConfig": None}
    from gigawatt.scenario import schema as mod

    for (m, f), d in found.items():
        if isinstance(d, str) and m in models and hasattr(mod, m):
            unit = SCHEMA["$defs"][m]["properties"][f].get("x-unit") or \
                SCHEMA["$defs"][m]["properties"][f].get("anyOf", [{}])[0].get("x-unit")
            if unit:
                assert units.parse(d, unit) == getattr(mod, m).model_fields[f].default


def test_sections_may_come_from_imports_but_unknown_keys_still_fail():
    doc = {"imports": ["other.yaml"], "policy": {}}
    assert errors(doc) == []
    doc = copy.deepcopy(_minimal())
    doc["workloadz"] = {}
    assert any("workloadz" in e for e in errors(doc))
    assert Scenario.model_json_schema()["required"]  # the merged scenario still needs its sections


def test_gigawatt_schema_prints_the_editor_schema():
    r = CliRunner().invoke(app, ["schema"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == json.loads(json.dumps(SCHEMA))


def test_the_docs_show_the_yaml_language_server_modeline():
    text = (ROOT / "docs" / "scenario-format.md").read_text()
    assert "# yaml-language-server: $schema=" in text
