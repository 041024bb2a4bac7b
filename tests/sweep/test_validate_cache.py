"""A sweep task's read+validate with this process's caches (units' parsed quantities, the parsed base
scenario shared between tasks, the parsed --vary texts) gives what it gave without them: the same
Scenario, the same errors, and no task's value in another task's scenario."""

from __future__ import annotations

import copy

import pytest
from helpers import ROOT

from gigawatt import units
from gigawatt.errors import Problem, ScenarioError
from gigawatt.scenario.load import apply_override, load_yaml_text, parse_set, read
from gigawatt.scenario.resolved import Resolved
from gigawatt.scenario.validate import validate
from gigawatt.sweep import manifest as mf
from gigawatt.sweep.manifest import Manifest, Task, resolve_task

# per scenario, per kind of --vary key: the key and values (each value in two tasks, alternating)
VARY = {
    "minimal": {
        "quantity": ("sites.texas.build_cost", ["9 million USD/MW", "$12.5 million per MW", "11700000 USD/MW"]),
        "plain number": ("contracts.cloudco_reserved.chips", [20000, "35,000", 65000.5]),
        "percent": ("contracts.cloudco_reserved.take_or_pay", ["80%", 0.5, "100 %"]),
        "series": ("sites.texas.power_max", ["{points: {2026: 0 MW, 2028: 0.4 GW, 2030: 1 GW}}",  # merged into points
                                             "{points: {2026: 0 MW, 2030: 2 GW}, interpolate: geometric}"]),
        "contract field": ("contracts.cloudco_reserved.price", ["2.1 USD/h", "$3/h"]),
        "site field": ("sites.texas.lead_time", ["18 months", "2 years", "30 months"]),
        "discount rate": ("horizon.discount_rate", ["6%", 0.12, "10 percent"]),
        "demand": ("workloads.training.demand", ["{base: 500 million H100_hours, base_period: 2026, growth_per_year: 40%}",
                                                 "2e27 FLOP", "3 EFLOP/s"]),
    },
    "openai": {
        "quantity": ("sites.milam.build_cost", ["10.3 million USD/MW", "9 million USD/MW", "14 million USD/MW"]),
        "plain number": ("contracts.oracle_abilene.chips", [300000, "450,000"]),
        "percent": ("contracts.oracle_abilene.take_or_pay", ["90%", 0.75]),
        "series": ("sites.milam.power_max", ["{2025: 0 MW, 2026: 300 MW, 2027: 1.5 GW, 2028: 1.5 GW, 2029: 1.5 GW, "
                                             "2030: 1.5 GW, 2031: 1.5 GW, 2032: 1.5 GW, 2033: 1.5 GW}", "1.2 GW"]),
        "contract field": ("contracts.oracle_abilene.price", ["3.1 USD/h", "4 USD/h"]),
        "site field": ("sites.lordstown.energy_price", ["45 USD/MWh", "80 USD/MWh"]),
        "discount rate": ("horizon.discount_rate", ["8%", "12%", 0.1]),
        "demand": ("workloads.training.demand", ["150 billion H100_hours",  # then two years merged into the mapping
                                                 "{2025: 3 billion H100_hours, 2030: 90 billion H100_hours}",
                                                 "5e28 FLOP"]),
    },
}
PATHS = {"minimal": ROOT / "examples" / "minimal.yaml", "openai": ROOT / "scenarios" / "openai.yaml"}


@pytest.fixture(scope="module")
def bases() -> dict[str, str]:
    import yaml

    return {name: yaml.safe_dump(read(path).data, sort_keys=False, allow_unicode=True) for name, path in PATHS.items()}


def _parse_before(value, unit: str, *, plain_ok: bool = False) -> float:
    """units.parse as it was before its outcomes were remembered (main d8d58a8, less the lru_cache): pint
    reads every text anew, and a refusal is worked out anew."""
    import math

    if isinstance(value, bool):
        raise units.UnitError(f"a quantity in {units.describe(unit)}, e.g. {units.example(unit)!r}, not a boolean")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            raise units.UnitError("a number, not NaN")
        if not units._finite(value):
            raise units.UnitError("a finite number")
        if not plain_ok:
            raise units.UnitError(f"a quantity with a unit of {units.describe(unit)}, e.g. {units.example(unit)!r}; "
                                  "a bare number is ambiguous here, write the unit")
        return float(value)
    if not isinstance(value, str):
        raise units.UnitError(f"a quantity string such as {units.example(unit)!r}")
    units._check_length(value)
    try:
        return units._parse_text(value, unit, plain_ok=plain_ok)
    except OverflowError:
        raise units.UnitError(f"a finite quantity, but {value!r} is too large for a number") from None


_BEFORE: dict = {}


def _parse_before_kept(value, unit: str, *, plain_ok: bool = False) -> float:
    """:func:`_parse_before`'s outcomes kept by this test, independently of units' own cache (pint takes
    ~0.15 s to read the reference scenario's quantities, once per validation without a cache)."""
    try:
        key = (type(value), value, unit, plain_ok)
        hash(key)
    except TypeError:
        return _parse_before(value, unit, plain_ok=plain_ok)
    if key not in _BEFORE:
        try:
            _BEFORE[key] = _parse_before(value, unit, plain_ok=plain_ok), None
        except units.UnitError as exc:
            _BEFORE[key] = None, str(exc)
    out, error = _BEFORE[key]
    if error is not None:
        raise units.UnitError(error)
    return out


def _uncached(resolved: Resolved):
    """Validation as it was before the caches (the schema and units.try_parse call units.parse)."""
    cached, units.parse = units.parse, _parse_before_kept
    try:
        return validate(resolved)
    finally:
        units.parse = cached


_PARSED: dict[str, tuple] = {}


def _parsed(base_yaml: str) -> tuple:
    """The base as this test parsed it (its own, never handed out: callers get deep copies)."""
    if base_yaml not in _PARSED:
        _PARSED[base_yaml] = load_yaml_text(base_yaml, name="manifest base scenario")
    return _PARSED[base_yaml]


def _reference(base_yaml: str, task: Task):
    """The task resolved as before (main d8d58a8): a deep copy of the parsed base, every change applied
    to it, then validated without caches."""
    data, lines = copy.deepcopy(_parsed(base_yaml))
    resolved = Resolved(data=data, lines=lines)
    problems: list[Problem] = []
    for text in task.sets:
        p, v = parse_set(text)
        problems += apply_override(resolved.data, resolved.lines, [(p, v)], origin=f"--vary {text}",
                                   location_of={p: "--vary"})
    for path, value in task.overrides:
        node = resolved.data
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = copy.deepcopy(value)
    for path in task.removals:
        node = resolved.data
        for key in path[:-1]:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(path[-1], None)
    if problems:
        raise ScenarioError(problems, title=f"task {task.task_id}: cannot apply its values")
    return resolved, _uncached(resolved)


def _manifest(base_yaml: str) -> Manifest:
    return Manifest("", None, base_yaml, {}, 0, 0, [])


def _same(base_yaml: str, task: Task) -> None:
    fast_resolved, fast = resolve_task(_manifest(base_yaml), task, validate=True)
    ref_resolved, ref = _reference(base_yaml, task)
    assert fast_resolved.data == ref_resolved.data
    assert fast_resolved.lines == ref_resolved.lines
    assert fast.model_dump() == ref.model_dump()


def _untouched(base_yaml: str) -> None:
    """This process's parsed base scenario is still the text's."""
    assert mf._base(base_yaml) == _parsed(base_yaml)


@pytest.mark.parametrize("name", list(VARY))
@pytest.mark.parametrize("kind", list(VARY["minimal"]))
def test_every_vary_kind_validates_as_without_caches(bases, name, kind):
    key, values = VARY[name][kind]
    for i, v in enumerate(values + values):  # each value twice: cold caches, then warm ones
        _same(bases[name], Task(f"t{i}", {key: v}, sets=[mf._set_text(key, v)]))
    _untouched(bases[name])


def test_two_keys_and_a_draw_change_only_their_task(bases):
    """A grid point of two keys, then a draw's overrides and removals (a failed contract, a new field),
    then the bare base: each as without caches, and the base unchanged after each."""
    base = bases["minimal"]
    tasks = [
        Task("a", {}, sets=["sites.texas.build_cost=9 million USD/MW", "contracts.cloudco_reserved.chips=20000"]),
        Task("b", {}, overrides=[[["sites", "texas", "lead_time"], "30 months"],
                                 [["workloads", "training", "demand"], {2026: "1e26 FLOP", 2027: "2e26 FLOP",
                                                                        2028: "3e26 FLOP", 2029: "4e26 FLOP",
                                                                        2030: "5e26 FLOP"}],
                                 [["config", "solve", "allow_unmet"], True]],
             removals=[["contracts", "cloudco_reserved"], ["policy", "share_targets", "own_campus_2030"]]),
        Task("c", {}),
        Task("d", {}, sets=["providers.cloudco.offers.h100={on_demand_price: 3 USD/h}",
                            "policy.share_targets.own_campus_2030=null"]),
        # sections and entries the file leaves at their defaults: created by the task, in the task only
        Task("e", {}, sets=["config.solve.method=simplex", "accelerators.h100.purchase_price=30000 USD"]),
    ]
    for task in tasks + tasks:
        _same(base, task)
        _untouched(base)


def test_a_value_does_not_leak_into_the_next_task(bases):
    """The same key back and forth: each task's scenario has its own value, never the previous task's."""
    base = bases["openai"]
    rates = ["8%", "12%"] * 3
    for i, r in enumerate(rates):
        resolved, sc = resolve_task(_manifest(base), Task(f"t{i}", {}, sets=[f"horizon.discount_rate={r}"]),
                                    validate=True)
        assert resolved.data["horizon"]["discount_rate"] == r
        assert sc.horizon.discount_rate == pytest.approx(float(r.rstrip("%")) / 100)
    plain = resolve_task(_manifest(base), Task("plain", {}), validate=True)[1]
    assert plain == _reference(base, Task("plain", {}))[1]
    _untouched(base)


BAD = [  # (what is wrong, --vary text, the key path the error names)
    ("wrong unit", "sites.texas.build_cost=4.5 GW", "sites.texas.build_cost"),
    ("NaN", "sites.texas.lead_time=.nan", "sites.texas.lead_time"),
    ("bare number", "sites.texas.energy_price=60", "sites.texas.energy_price"),
    ("unknown key", "sites.texas.bogus=1", "sites.texas.bogus"),
    ("unknown entry", "sites.nowhere.build_cost=9 million USD/MW", "sites.nowhere.build_cost"),
    ("series unit", "workloads.training.demand=4.5 GW", "workloads.training.demand"),
    ("unreadable", "contracts.cloudco_reserved.price=two dollars", "contracts.cloudco_reserved.price"),
]


@pytest.mark.parametrize("what,text,path", BAD, ids=[b[0] for b in BAD])
def test_a_bad_value_raises_what_it_raised(bases, what, text, path):
    base = bases["minimal"]
    task = Task("bad", {}, sets=[text])
    with pytest.raises(ScenarioError) as ref:
        _reference(base, task)
    for _ in range(2):  # cold, then with the quantity (and its refusal) remembered
        _same(base, Task("ok", {}, sets=["sites.texas.build_cost=9 million USD/MW"]))
        with pytest.raises(ScenarioError) as fast:
            resolve_task(_manifest(base), task, validate=True)
        assert str(fast.value) == str(ref.value)
        assert [p.path for p in fast.value.problems] == [p.path for p in ref.value.problems]
        assert path in {p.path for p in fast.value.problems}
    _untouched(base)


@pytest.mark.parametrize("text,unit,plain_ok", [
    ("5 million H100_hours", "FLOP", False),  # a series' first unit refused, then the next one tried
    ("4.5 GW", "USD", False),
    ("1e400 FLOP", "FLOP", False),  # too large for a float
    ("50,000", "chip", False),  # a bare number where a unit is needed
    ("abc def", "MW", False),
    ("12 %", "", True),
    ("2.35 USD/h", "USD/hour", False),
])
def test_units_remember_values_and_refusals_alike(text, unit, plain_ok):
    """A remembered reading (or refusal) is the uncached one, on every call."""
    def outcome(fn):
        try:
            return fn(text, unit, plain_ok=plain_ok), None
        except units.UnitError as exc:
            return None, str(exc)

    want = outcome(_parse_before)
    for _ in range(3):
        assert outcome(units.parse) == want
