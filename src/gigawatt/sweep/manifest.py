"""A sweep's manifest: every run fully resolved, so any worker (a local process, a Ray node) can run it alone.

The manifest (DIR/manifest.json) holds the resolved base scenario once (YAML text: the file with its
imports, the named scenario and --set values applied) and, per task, the changes to it: ``sets`` (a grid
point: ``key.path=value`` strings, as --set) and ``overrides``/``removals`` (a Monte Carlo draw's sampled
inputs, as key paths and values). Task ids are stable, so an interrupted sweep resumes by skipping the
tasks whose Parquet file exists.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from gigawatt.errors import Problem, ScenarioError

MANIFEST_VERSION = 1


@dataclass
class Task:
    """One fully resolved run: the base scenario plus these changes."""

    task_id: str
    params: dict[str, Any]  # what distinguishes it (vary values as written; draw index)
    sets: list[str] = field(default_factory=list)
    overrides: list[list] = field(default_factory=list)  # [[key path as list, value], ...]
    removals: list[list[str]] = field(default_factory=list)  # key paths deleted (a failed contract)


@dataclass
class Manifest:
    scenario_path: str
    scenario: str | None
    base_yaml: str
    vary: dict[str, list[Any]]
    draws: int
    seed: int
    tasks: list[Task]
    solve: dict[str, Any] = field(default_factory=dict)  # allow_unmet, method, threads (always 1)
    version: int = MANIFEST_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=False, default=str) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        raw = json.loads(text)
        raw["tasks"] = [Task(**t) for t in raw["tasks"]]
        return cls(**raw)

    def fingerprint(self) -> str:
        """Hash of what the sweep computes (not where it was written or when)."""
        body = json.dumps({"base": self.base_yaml, "tasks": [asdict(t) for t in self.tasks], "solve": self.solve},
                          sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:16]


# --- --vary parsing ----------------------------------------------------------------------------------------


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """``key.path=v1,v2,...`` (or ``key.path=[v1, v2]``, YAML flow list, when values contain commas)."""
    if "=" not in text:
        raise ScenarioError(Problem("--vary needs key.path=v1,v2,...", path="--vary", value=text,
                                    expected="e.g. --vary sites.texas.lead_time=6months,12months,24months",
                                    fix="write the key path, '=', then the values separated by commas "
                                        "(or a YAML list [a, b] when a value contains a comma)"),
                            title="bad --vary")
    key, raw = text.split("=", 1)
    key = key.strip()
    raw = raw.strip()
    if raw.startswith("["):
        try:
            values = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ScenarioError(Problem("--vary list is not valid YAML", path=f"--vary {key}", value=raw,
                                        expected="a flow list such as [1, 2, '3 GW']", fix=f"fix the list ({exc})"),
                                title="bad --vary") from None
    else:
        values = [_scalar(v) for v in raw.split(",")]
    if not key or not isinstance(values, list) or not values:
        raise ScenarioError(Problem("--vary needs a key path and at least one value", path="--vary", value=text,
                                    expected="key.path=v1,v2", fix="add the values after '='"), title="bad --vary")
    return key, values


def _scalar(text: str) -> Any:
    text = text.strip()
    try:
        value = yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        value = text
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    return value


def _set_text(key: str, value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"{key}={yaml.safe_dump(value, default_flow_style=True).strip()}"
    return f"{key}={value}"


def _task_id(index: int, params: dict) -> str:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{index:05d}-{digest}"


# --- building -----------------------------------------------------------------------------------------------


def build(path: str | Path, *, vary: list[str] | None = None, scenario: str | None = None,
          sets: list[str] | None = None, draws: int | None = None, seed: int | None = None,
          allow_unmet: bool | None = None, method: str | None = None, check: bool = True) -> Manifest:
    """The manifest of a sweep: the grid of ``vary`` values, times ``draws`` Monte Carlo draws if given.

    Parameters
    ----------
    path, scenario, sets
        The scenario file, a named scenario and --set values: the base every task starts from.
    vary
        ``key.path=v1,v2,...`` strings; the grid is their Cartesian product.
    draws, seed
        With draws: per grid point, ``draws`` runs whose uncertain inputs (scenario ``uncertainty``) are
        sampled with ``seed`` (the same draws as ``gigawatt simulate``), each re-optimised.
    check
        Validate every vary value and the first draw before anything runs (bad input fails fast).
    """
    from gigawatt.scenario.load import read

    resolved = read(path, scenario=scenario, sets=sets or [])
    base_yaml = yaml.safe_dump(resolved.data, sort_keys=False, allow_unicode=True)
    grid_keys, grid_values = [], []
    for text in vary or []:
        key, values = parse_vary(text)
        if key in grid_keys:
            raise ScenarioError(Problem(f"--vary {key} given twice", path=f"--vary {key}",
                                        expected="each key path once", fix="merge the values into one --vary"),
                                title="bad --vary")
        grid_keys.append(key)
        grid_values.append(values)
    if check:
        for key, values in zip(grid_keys, grid_values):
            for v in values:
                _check_sets(base_yaml, [_set_text(key, v)], what=f"--vary {key}={v}")
    points = list(itertools.product(*grid_values)) if grid_keys else [()]
    draw_specs: list[tuple[dict, list, list]] = [({}, [], [])]
    used_seed = 0
    if draws:
        draw_specs, used_seed = draw_overrides(base_yaml, draws=int(draws), seed=seed)
    tasks: list[Task] = []
    for point in points:
        grid = {k: v for k, v in zip(grid_keys, point)}
        for params_d, overrides, removals in draw_specs:
            params = {**grid, **params_d}
            tasks.append(Task(task_id=_task_id(len(tasks), params), params=params,
                              sets=[_set_text(k, v) for k, v in grid.items()], overrides=overrides,
                              removals=removals))
    manifest = Manifest(scenario_path=str(path), scenario=scenario, base_yaml=base_yaml,
                        vary=dict(zip(grid_keys, grid_values)), draws=int(draws or 0), seed=used_seed,
                        tasks=tasks, solve={"allow_unmet": allow_unmet, "method": method, "threads": 1})
    if check and draws and tasks:
        resolve_task(manifest, tasks[0], validate=True)
    return manifest


def _check_sets(base_yaml: str, sets: list[str], *, what: str) -> None:
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.validate import validate

    m = Manifest("", None, base_yaml, {}, 0, 0, [])
    resolved = resolve_task(m, Task("check", {}, sets=sets))
    try:
        Portfolio.from_scenario(validate(resolved), resolved)
    except ScenarioError as exc:
        exc.title = f"{what} makes the scenario invalid"
        raise ScenarioError(exc.problems, title=exc.title) from None


_BASE: dict[str, tuple] = {}  # this process's parsed base scenarios, by the hash of their text


def _base(text: str) -> tuple[Any, dict]:
    """The manifest's base scenario (data, line map), parsed once per process (a sweep's tasks all start
    from it). Shared: never change it; :func:`_fresh_along` copies what a task changes."""
    from gigawatt.scenario.load import load_yaml_text

    key = hashlib.sha256(text.encode()).hexdigest()
    if key not in _BASE:
        if len(_BASE) >= 4:
            _BASE.clear()
        _BASE[key] = load_yaml_text(text, name="manifest base scenario")
    return _BASE[key]


def _fresh_along(data: dict, paths: list) -> dict:
    """``data`` with the mappings and lists on each key path's way (every key but the last: where a task's
    changes write) copied, and everything else shared with ``data``. A task's changes then leave the base
    as it was, at the cost of copying a few containers instead of the whole scenario (a deep copy of the
    reference scenario is a few hundred microseconds, more than the rest of resolving a task)."""
    out = dict(data)
    fresh = {id(out)}
    for path in paths:
        node: Any = out
        for key in path[:-1]:
            if isinstance(node, dict) and key in node:
                slot: Any = key
            elif isinstance(node, list) and str(key).isdigit() and int(key) < len(node):
                slot = int(key)
            else:
                break  # nothing of the base below: the change creates it (or reports a problem)
            child = node[slot]
            if not isinstance(child, (dict, list)):
                break
            if id(child) not in fresh:
                child = dict(child) if isinstance(child, dict) else list(child)
                node[slot] = child
                fresh.add(id(child))
            node = child
    return out


@lru_cache(maxsize=4096)
def _parsed_set(text: str) -> tuple[tuple[str, ...], Any]:
    """:func:`~gigawatt.scenario.load.parse_set`, remembered (a grid repeats each value in many tasks).
    The value is shared between tasks: apply_override copies it into the scenario, never changes it.
    A text that cannot be read raises afresh each time (lru_cache keeps no exceptions)."""
    from gigawatt.scenario.load import parse_set

    return parse_set(text)


def resolve_task(manifest: Manifest, task: Task, *, validate: bool = False):
    """The task's scenario as a :class:`~gigawatt.scenario.load.Resolved` (and validated, if asked).

    Its data shares the parts the task does not change with this process's parsed base scenario: read
    it, never change it in place (deep-copy it first)."""
    from gigawatt.scenario.load import Resolved, apply_override

    base, lines = _base(manifest.base_yaml)
    sets = [_parsed_set(text) for text in task.sets]
    paths = [p for p, _ in sets] + [tuple(p) for p, _ in task.overrides] + [tuple(p) for p in task.removals]
    resolved = Resolved(data=_fresh_along(base, paths), lines=dict(lines))
    problems: list[Problem] = []
    for text, (p, v) in zip(task.sets, sets):
        problems += apply_override(resolved.data, resolved.lines, [(p, v)], origin=f"--vary {text}",
                                   location_of={p: "--vary"})
    for path, value in task.overrides:  # generated by draw_overrides: create what is missing
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
    if validate:
        from gigawatt.scenario.validate import validate as _validate

        return resolved, _validate(resolved)
    return resolved


# --- Monte Carlo draws as scenario changes -----------------------------------------------------------------


def draw_overrides(base_yaml: str, *, draws: int, seed: int | None) -> tuple[list[tuple[dict, list, list]], int]:
    """Per draw: (params, overrides, removals) that put the draw's sampled inputs into the scenario.

    The draws are those of ``gigawatt simulate`` with the same seed (same sampler, same blocks). Per-period
    factors go into per-period series (demand, finance.revenue, other costs); scalar fields (on-demand
    prices, energy prices, per-unit revenue) get the factor averaged over the horizon. Contract prices stay
    as contracted. Events: a delayed site's lead time grows by the delay; a failed contract is removed;
    a replaced vendor's deals lose their equity and its chips' purchase price changes."""
    # long: left whole while sweep/ changes on another branch (issue 10); to split after that merge into
    # one function per target (demand, prices, revenue, costs) and one per event kind.
    from gigawatt.portfolio import Portfolio
    from gigawatt.risk.sample import Sampler, price_options, require_valid
    from gigawatt.scenario.load import Resolved, load_yaml_text
    from gigawatt.scenario.validate import validate

    data, lines = load_yaml_text(base_yaml, name="manifest base scenario")
    resolved = Resolved(data=data, lines=lines)
    sc = validate(resolved)
    p = Portfolio.from_scenario(sc, resolved)
    require_valid(p)
    unc = sc.uncertainty
    seed = int(unc.seed if seed is None else seed)
    labels = list(p.horizon.labels)
    table = p.horizon.table
    years = sorted(set(int(y) for y in table["year"]))
    year_index = [years.index(int(y)) for y in table["year"]]
    sampler = Sampler(unc, len(years))
    sample = sampler.sample(seed, 0, draws)

    def per_period(names: tuple[str, ...], i: int) -> list[float]:
        out = [1.0] * len(labels)
        for n in names:
            f = sample.factors[n][:, i]
            for t in range(len(labels)):
                out[t] *= float(f[0] if f.shape[0] == 1 else f[year_index[t]])
        return out

    def drivers_for(target: str, name: str) -> tuple[str, ...]:
        return tuple(n for n, d in unc.drivers.items()
                     if d.target == target and (d.applies_to is None or name in d.applies_to))

    demand = p.data["demand_h100e_hours"]
    out = []
    for i in range(draws):
        ov: list[list] = []
        removals: list[list[str]] = [["uncertainty"]]
        for w in sc.workloads:
            f = per_period(drivers_for("demand", w), i)
            if any(x != 1.0 for x in f):
                d = demand.sel(workload=w).values
                flop = float(p.workloads.at[w, "flop_per_h100e_hour"])  # the H100e at the workload's precision
                ov.append([["workloads", w, "demand"],
                           {lab: f"{float(d[t]) * flop * f[t]!r} FLOP" for t, lab in enumerate(labels)}])
            fr = per_period(drivers_for("revenue", w), i)
            rate = sc.workloads[w].revenue_per_h100_hour
            if rate and any(x != 1.0 for x in fr):
                ov.append([["workloads", w, "revenue_per_h100_hour"], f"{rate * sum(fr) / len(fr)!r} USD/H100_hour"])
        fx = per_period(drivers_for("revenue", "exogenous"), i)
        if sc.finance.revenue is not None and any(x != 1.0 for x in fx):
            rev = p.data["revenue_usd"].values
            ov.append([["finance", "revenue"], {lab: f"{float(rev[t]) * fx[t]!r} USD" for t, lab in enumerate(labels)}])
        if sc.finance.other_costs:
            from gigawatt.series import resolve

            for name, spec in sc.finance.other_costs.items():
                fo = per_period(drivers_for("other_costs", name), i)
                if any(x != 1.0 for x in fo):
                    vals = resolve(spec, p.horizon, path="", location=None, problems=[])
                    ov.append([["finance", "other_costs", name],
                               {lab: f"{float(vals[t]) * fo[t]!r} USD" for t, lab in enumerate(labels)}])
        for s, site in sc.sites.items():
            fe = per_period(drivers_for("energy_price", s), i)
            if any(x != 1.0 for x in fe):
                ov.append([["sites", s, "energy_price"], f"{site.energy_price * sum(fe) / len(fe)!r} USD/MWh"])
        lease_factor: dict[str, float] = {}
        for n, d in unc.drivers.items():
            if d.target in ("price", "lease_price"):
                for o in price_options(p, "lease_price", d.applies_to):
                    f = per_period((n,), i)
                    lease_factor[o] = lease_factor.get(o, 1.0) * sum(f) / len(f)
        for o, f in lease_factor.items():
            row = p.supply.loc[o]
            price = float(p.data["lease_price_usd_per_chip_hour"].sel(supply=o).values[0])
            ov.append([["providers", row["provider"], "offers", row["accelerator"], "on_demand_price"],
                       f"{price * f!r} USD/h"])
        params: dict[str, Any] = {"draw": i}
        for en, e in unc.events.items():
            params[f"event.{en}"] = bool(sample.events[en][i])
            if not params[f"event.{en}"]:
                continue
            if e.kind == "site_delay":
                lead = sc.sites[e.target].lead_time + float(e.delay or 0.0)
                ov.append([["sites", e.target, "lead_time"], f"{lead!r} months"])
            elif e.kind == "contract_failure":
                removals.append(["contracts", e.target])
            else:
                for cname, c in sc.contracts.items():
                    if c.kind == "supply" and c.counterparty == e.target:
                        removals.append(["contracts", cname, "equity_per_gw"])
                        removals.append(["contracts", cname, "equity_max"])
                if e.price_change:
                    for a in p.accelerators.index[p.accelerators["vendor"] == e.target]:
                        price = p.accelerators.at[a, "purchase_price_usd"]
                        if price == price:  # not NaN
                            ov.append([["accelerators", a, "purchase_price"],
                                       f"{float(price) * (1 + e.price_change)!r} USD"])
        out.append((params, ov, removals))
    return out, seed


__all__ = ["Manifest", "Task", "build", "parse_vary", "resolve_task", "draw_overrides", "MANIFEST_VERSION"]
