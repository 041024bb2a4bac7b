"""An override or --set removes a key with null (issue 13, defect c): a contract, any named entry, a field."""

from __future__ import annotations

import textwrap

import pytest

from gigawatt.errors import ScenarioError
from gigawatt.scenario.load import read
from gigawatt.scenario.validate import validate

BASE = """\
meta: {name: base}
horizon: {start: 2025, end: 2027, discount_rate: 8%}
providers:
  aws: {kind: cloud, offers: {h100: {on_demand_price: 2.95 USD/h}}}
contracts:
  aws_deal: {counterparty: aws, kind: capacity, accelerator: h100, start: 2025, term: 2 years, chips: 100,
             price: 2 USD/h, source: test}
  aws_more: {counterparty: aws, kind: capacity, accelerator: h100, start: 2026, term: 1 year, chips: 50,
             price: 2 USD/h, source: test}
workloads:
  chat: {kind: inference, demand: 1e6 H100_hours}
policy: {cash_floor: 0 USD}
overrides:
  drop_dotted: {contracts.aws_deal: null}
  drop_nested:
    contracts: {aws_more: null}
  drop_typo: {contracts.aws_dael: null}
scenarios:
  no_deal: [drop_dotted]
  no_more: [drop_nested]
  typo: [drop_typo]
"""


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(textwrap.dedent(BASE))
    return p


def test_set_null_removes_a_contract(path):
    sc = validate(read(path, sets=["contracts.aws_deal=null"]))
    assert list(sc.contracts) == ["aws_more"]


@pytest.mark.parametrize("scenario, left", [("no_deal", ["aws_more"]), ("no_more", ["aws_deal"])])
def test_named_scenario_removes_a_contract(path, scenario, left):
    assert list(validate(read(path, scenario=scenario)).contracts) == left


def test_null_returns_a_field_to_its_default(path):
    assert validate(read(path)).policy.cash_floor == 0.0
    assert validate(read(path, sets=["policy.cash_floor=null"])).policy.cash_floor is None


def test_removing_a_key_that_does_not_exist_is_an_error(path):
    with pytest.raises(ScenarioError, match="removes 'contracts.aws_dael', which matches no key") as info:
        read(path, scenario="typo")
    assert "Did you mean 'aws_deal'?" in str(info.value)
    with pytest.raises(ScenarioError, match="matches no key"):
        read(path, sets=["contracts.nothing=null"])
