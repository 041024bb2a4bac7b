"""Reading scenario files: file:line map, imports, overrides, scenarios, --set precedence."""

import textwrap

import pytest

from gigawatt.errors import ScenarioError
from gigawatt.scenario.load import read


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


BASE = """\
meta: {name: base}
horizon: {start: 2025, end: 2027, discount_rate: 8%}
providers:
  aws:
    kind: cloud
    offers:
      h100: {on_demand_price: 2.95 USD/h}
workloads:
  chat: {kind: inference, demand: 1e8 H100_hours}
overrides:
  cheap: {providers.aws.offers.h100.on_demand_price: 1.5 USD/h}
  pricey:
    providers:
      aws:
        offers:
          h100: {on_demand_price: 4 USD/h}
  typo: {providers.awz.offers.h100.on_demand_price: 1 USD/h}
scenarios:
  low: [cheap]
  low_then_high: [cheap, pricey]
  broken: [typo]
  missing: [nonexistent]
"""


def test_line_map_points_at_keys(tmp_path):
    r = read(write(tmp_path, "s.yaml", BASE))
    assert r.where(("providers", "aws", "offers", "h100", "on_demand_price")) == "s.yaml:7"
    assert r.where(("workloads", "chat", "demand")) == "s.yaml:9"


def test_precedence_file_then_scenario_then_set(tmp_path):
    path = write(tmp_path, "s.yaml", BASE)
    price = ("providers", "aws", "offers", "h100", "on_demand_price")

    def get(r):
        node = r.data
        for k in price:
            node = node[k]
        return node

    assert get(read(path)) == "2.95 USD/h"
    assert get(read(path, scenario="low")) == "1.5 USD/h"
    assert get(read(path, scenario="low_then_high")) == "4 USD/h"
    assert get(read(path, scenario="low", sets=["providers.aws.offers.h100.on_demand_price=9 USD/h"])) == "9 USD/h"


def test_override_matching_no_key_is_an_error_with_path_and_hint(tmp_path):
    with pytest.raises(ScenarioError) as info:
        read(write(tmp_path, "s.yaml", BASE), scenario="broken")
    msg = str(info.value)
    assert "providers.awz" in msg and "matches no key" in msg
    assert "Did you mean 'aws'?" in msg
    assert "s.yaml:" in msg


def test_set_matching_no_key_is_an_error(tmp_path):
    with pytest.raises(ScenarioError, match="horizn"):
        read(write(tmp_path, "s.yaml", BASE), sets=["horizn.start=2026"])


def test_unknown_scenario_and_unknown_override_name(tmp_path):
    path = write(tmp_path, "s.yaml", BASE)
    with pytest.raises(ScenarioError, match="Did you mean 'low'"):
        read(path, scenario="lo")
    with pytest.raises(ScenarioError, match="unknown override 'nonexistent'"):
        read(path, scenario="missing")


def test_imports_merge_with_importing_file_on_top(tmp_path):
    write(tmp_path, "common.yaml", """\
        horizon: {start: 2025, end: 2030, discount_rate: 5%}
        workloads:
          chat: {kind: inference, demand: 1e8 H100_hours}
    """)
    path = write(tmp_path, "main.yaml", """\
        imports: [common.yaml]
        meta: {name: m}
        horizon: {end: 2027}
        providers: {aws: {kind: cloud}}
    """)
    r = read(path)
    assert r.data["horizon"] == {"start": 2025, "end": 2027, "discount_rate": "5%"}
    assert r.where(("horizon", "end")) == "main.yaml:3"
    assert r.where(("workloads", "chat")) == "common.yaml:3"


def test_circular_import_is_reported(tmp_path):
    write(tmp_path, "a.yaml", "imports: [b.yaml]\nmeta: {name: a}\n")
    write(tmp_path, "b.yaml", "imports: [a.yaml]\n")
    with pytest.raises(ScenarioError, match="circular import"):
        read(tmp_path / "a.yaml")


def test_duplicate_keys_and_bad_yaml_have_locations(tmp_path):
    with pytest.raises(ScenarioError) as info:
        read(write(tmp_path, "d.yaml", "meta: {name: a}\nmeta: {name: b}\n"))
    assert "meta (d.yaml:2): duplicate key 'meta'" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        read(write(tmp_path, "y.yaml", "meta: {name: a}\nhorizon: [1, 2\n"))
    assert "(y.yaml:2, found at line 3): not valid YAML" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        read(tmp_path / "nope.yaml")


def test_precedence_defaults_then_file_then_scenario_then_set(tmp_path):
    """defaults < file < scenario < --set, on a field the file leaves at its default (config.solve.method)."""
    from gigawatt.scenario.validate import validate

    text = BASE.replace("overrides:\n", "overrides:\n  ipm: {config.solve.method: ipm}\n").replace(
        "scenarios:\n", "scenarios:\n  use_ipm: [ipm]\n")
    path = write(tmp_path, "s.yaml", text)
    assert validate(read(path)).config.solve.method == "auto"                       # schema default
    path2 = write(tmp_path, "f.yaml", text + "config: {solve: {method: pdlp}}\n")
    assert validate(read(path2)).config.solve.method == "pdlp"                      # file over default
    assert validate(read(path2, scenario="use_ipm")).config.solve.method == "ipm"  # scenario over file
    top = read(path2, scenario="use_ipm", sets=["config.solve.method=simplex"])
    assert validate(top).config.solve.method == "simplex"                           # --set over scenario
    # --set reaches a default section the file does not write at all
    assert validate(read(path, sets=["config.solve.method=simplex"])).config.solve.method == "simplex"
    # and a catalog accelerator's figures, which are its defaults
    r = read(path, sets=["accelerators.h100.useful_life=4 years"])
    assert validate(r).accelerators["h100"].useful_life == 4.0


def test_set_cannot_invent_a_section_or_a_catalog_id(tmp_path):
    path = write(tmp_path, "s.yaml", BASE)
    with pytest.raises(ScenarioError) as info:
        read(path, sets=["config.solv.method=ipm"])
    assert "'config.solv' matches no key" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        read(path, sets=["accelerators.h1000.useful_life=4 years"])
    assert "'accelerators.h1000' matches no key" in str(info.value) and "Did you mean 'h100'?" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        read(path, sets=["providers.awss.kind=cloud"])  # a named entry is never created through a dotted path
    assert "'providers.awss' matches no key" in str(info.value) and "Did you mean 'aws'?" in str(info.value)
