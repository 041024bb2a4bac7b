"""Read a scenario YAML file into a plain dict, resolving imports, named scenarios and --set overrides.

Precedence: schema defaults < imported files < the file itself < named scenario overrides (in order)
< ``--set`` overrides. Every key path keeps the file:line where its value was written, so errors can
point at it.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import yaml

from gigawatt.errors import Problem, ScenarioError, did_you_mean, short_repr
from gigawatt.scenario import limits, yamlsafe
from gigawatt.scenario.resolved import KeyPath, Resolved, dotted


# --- YAML with line numbers ---------------------------------------------------------------------------


def _load_yaml(path: Path, *, key: str = "", via: str | None = None) -> tuple[Any, dict[KeyPath, str]]:
    """Read and parse one file (a regular file of bounded size, UTF-8). ``key`` and ``via`` (file:line)
    say where an import named it."""
    text = yamlsafe.read_text(path, key=key, via=via)
    return load_yaml_text(text, name=path.name)


def load_yaml_text(text: str, *, name: str = "<string>") -> tuple[Any, dict[KeyPath, str]]:
    """Parse YAML safely; return the data and a key-path → "name:line" map. Duplicate keys are errors.
    Size, nesting, alias expansion, tags and control characters are bounded first (yamlsafe)."""
    yamlsafe.check_text(text, name)
    loader = yamlsafe.BoundedLoader(text, name=name)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        if context is not None and mark is not None and context.line != mark.line:
            where = f"{name}:{context.line + 1}, found at line {mark.line + 1}"
        raise ScenarioError(
            Problem(f"not valid YAML ({getattr(exc, 'problem', None) or exc})", path="", location=where,
                    fix="fix the YAML syntax at that line (indentation, a missing colon, an unclosed quote)"),
            title="cannot read scenario",
        ) from None
    finally:
        loader.dispose()
    lines: dict[KeyPath, str] = {}
    problems: list[Problem] = []
    if node is None:  # empty, or comments only: problems about missing keys point at line 1
        return {}, {(): f"{name}:1"}
    yamlsafe.check_graph(node, name)
    constructor = yaml.SafeLoader("")

    def build(n: yaml.Node, path: KeyPath) -> Any:
        lines[path] = f"{name}:{n.start_mark.line + 1}"
        yamlsafe.check_tag(n, path=dotted(path), name=name)
        if isinstance(n, yaml.MappingNode):
            try:
                constructor.flatten_mapping(n)
            except yaml.YAMLError:
                raise ScenarioError(Problem("a merge key (<<) that is not a mapping or a list of mappings",
                                            path=dotted(path), location=lines[path], fix="merge mappings only"),
                                    title="cannot read scenario") from None
            out: dict[str, Any] = {}
            for key_node, value_node in n.value:
                yamlsafe.check_tag(key_node, path=dotted(path), name=name)
                key = yamlsafe.scalar(constructor, key_node, path=dotted(path), name=name)
                key = str(key)
                if key in out:
                    problems.append(Problem(
                        f"duplicate key '{key}'", path=dotted(path + (key,)),
                        location=f"{name}:{key_node.start_mark.line + 1}",
                        expected="each key once per mapping", fix="remove or rename one of the two"))
                out[key] = build(value_node, path + (key,))
                lines[path + (key,)] = f"{name}:{key_node.start_mark.line + 1}"
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, path + (str(i),)) for i, item in enumerate(n.value)]
        value = yamlsafe.scalar(constructor, n, path=dotted(path), name=name)
        if hasattr(value, "isoformat"):  # YAML dates: keep as text, periods are parsed by the schema
            value = value.isoformat()
        return value

    data = build(node, ())
    if problems:
        raise ScenarioError(problems, title="cannot read scenario")
    return data, lines


# --- merging ------------------------------------------------------------------------------------------


def deep_merge(base: dict, top: dict, *, null_removes: bool = False) -> dict:
    """A new dict: ``top`` over ``base``, mappings merged recursively, everything else replaced. With
    ``null_removes`` (overrides and ``--set``, not imports), a null in ``top`` removes the key from ``base``."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if value is None and null_removes:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value, null_removes=null_removes)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_with_imports(path: Path, seen: tuple[Path, ...] = (), *, root: Path | None = None,
                       count: list[int] | None = None, key: str = "",
                       via: str | None = None) -> tuple[dict, dict[KeyPath, str]]:
    """Read ``path`` and, first, the files its ``imports:`` names (relative to ``path``'s folder), merged
    under it. Imports must stay inside ``root`` (the top scenario's folder) unless allowed outside, end in
    .yaml or .yml, and number at most MAX_IMPORTS in all."""
    path = path.resolve()
    root = root or path.parent
    count = count if count is not None else [0]
    if path in seen:
        chain = " → ".join(p.name for p in (*seen, path))
        raise ScenarioError(Problem("circular import", path=key or "imports", value=chain, location=via,
                                    fix="remove one of the imports in the cycle"), title="cannot read scenario")
    data, lines = _load_yaml(path, key=key, via=via)
    if not isinstance(data, dict):
        raise ScenarioError(Problem("the top level must be a mapping of sections", path="", value=type(data).__name__,
                                    location=f"{path.name}:1", expected="keys such as meta, horizon, providers"),
                            title="cannot read scenario")
    imports = data.pop("imports", []) or []
    if isinstance(imports, str):
        imports = [imports]
    if not isinstance(imports, list):
        raise ScenarioError(Problem("imports must be a list of file paths", path="imports", value=imports,
                                    location=lines.get(("imports",))), title="cannot read scenario")
    merged: dict = {}
    merged_lines: dict[KeyPath, str] = {}
    for i, rel in enumerate(imports):
        entry_key = f"imports.{i}"
        entry_at = lines.get(("imports", str(i))) or lines.get(("imports",))
        count[0] += 1
        if count[0] > limits.MAX_IMPORTS:
            raise ScenarioError(Problem("too many imports", path=entry_key, location=entry_at,
                                        expected=f"at most {limits.MAX_IMPORTS} files read through imports in all",
                                        fix="import each file once"), title="cannot read scenario")
        target = _import_target(path, rel, root=root, key=entry_key, via=entry_at)
        sub, sub_lines = _read_with_imports(target, (*seen, path), root=root, count=count, key=entry_key,
                                            via=entry_at)
        merged = deep_merge(merged, sub)
        merged_lines.update(sub_lines)
    lines = {k: v for k, v in lines.items() if not (k and k[0] == "imports")}
    merged = deep_merge(merged, data)
    merged_lines.update(lines)
    return merged, merged_lines


def _import_target(importer: Path, rel: Any, *, root: Path, key: str, via: str | None) -> Path:
    """The file an ``imports:`` entry names, checked against the imports rule (docs/reliability.md)."""
    def refuse(what: str, expected: str, fix: str, value: Any = rel) -> ScenarioError:
        return ScenarioError(Problem(what, path=key, value=value, location=via, expected=expected, fix=fix),
                             title="cannot read scenario")

    if not isinstance(rel, str) or not rel.strip():
        raise refuse("an import must be a file path", "a path such as 'parts/finance.yaml'",
                     "write the path as text")
    target = importer.parent / rel
    if target.suffix.lower() not in limits.IMPORT_SUFFIXES:
        raise refuse("an import must be a YAML file", "a path ending in .yaml or .yml",
                     "import scenario parts only (other files are never read)")
    if not limits.imports_outside_allowed():
        resolved = target.resolve()
        if resolved != root and root not in resolved.parents:
            raise refuse("import outside the scenario's folder", f"a file inside {root}",
                         f"move the file into {root}, or pass --allow-imports-outside "
                         "(read(..., allow_imports_outside=True)) if you trust it")
    if not target.exists():
        raise refuse("imported file not found",
                     f"a path relative to the importing file's folder ({importer.parent})",
                     f"check the path; it resolves to {target}")
    return target


# --- overrides ----------------------------------------------------------------------------------------


def _split_path(key: str) -> KeyPath:
    return tuple(part for part in str(key).split(".") if part != "")


def _flatten_override(mapping: dict, prefix: KeyPath = ()) -> list[tuple[KeyPath, Any]]:
    """Nested or dotted override mapping → [(path, value)]. A nested mapping is walked until it reaches
    a key the base does not have; values are set there."""
    out = []
    for key, value in mapping.items():
        path = prefix + _split_path(key)
        out.append((path, value))
    return out


def _is_schema_section(path: KeyPath) -> bool:
    """Whether ``path`` names a field of the schema whose value is a mapping of fields (a section with
    defaults, such as ``config.solve``), not a named entry (``providers.aws``): those may be created by an
    override, so that ``--set`` can change a default the file does not write."""
    from gigawatt.scenario.fields import _model_at

    if len(path) == 2 and path[0] == "accelerators":  # a catalog accelerator's figures are its defaults
        from gigawatt.catalog import accelerator_ids

        return path[1] in accelerator_ids()
    parent = _model_at(path[:-1])
    return parent is not None and str(path[-1]) in parent.model_fields


def apply_override(data: dict, lines: dict[KeyPath, str], items: list[tuple[KeyPath, Any]], *,
                   origin: str, location_of: dict[KeyPath, str] | None = None) -> list[Problem]:
    """Set each (path, value) in ``data``. Every key on the path but the last must exist; the last may be
    new (the schema then checks it is a known field or a new named entry). A mapping value is merged
    into an existing mapping. A null value removes the key (``--set contracts.aws=null``; inside a mapping
    value too), so an override can drop a contract or any named entry, or return a field to its default. Returns the problems found (an override that matches no key)."""
    problems = []
    for path, value in items:
        where = (location_of or {}).get(path)
        node: Any = data
        ok = True
        for depth, key in enumerate(path[:-1]):
            if isinstance(node, dict) and key in node:
                node = node[key]
                continue
            if isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
                continue
            if isinstance(node, dict) and _is_schema_section(path[:depth + 1]):
                # a section or field the file leaves at its default (config.solve.method): defaults < --set
                node = node.setdefault(key, {})
                continue
            known = list(node.keys()) if isinstance(node, dict) else []
            if depth == 1 and path[0] == "accelerators":
                from gigawatt.catalog import accelerator_ids

                known += [a for a in accelerator_ids() if a not in known]
            problems.append(Problem(
                f"{origin} sets '{dotted(path)}', but '{dotted(path[:depth + 1])}' matches no key",
                path=dotted(path), value=value, location=where,
                expected="a key path that exists in the scenario" + (
                    f"; keys at '{dotted(path[:depth]) or '<top level>'}': {', '.join(map(str, known[:12]))}" if known else ""),
                fix="correct the key path." + did_you_mean(key, known)))
            ok = False
            break
        if not ok:
            continue
        last = path[-1]
        if not isinstance(node, dict):
            problems.append(Problem(f"{origin} sets '{dotted(path)}', but '{dotted(path[:-1])}' is not a mapping",
                                    path=dotted(path), value=value, location=where,
                                    fix="point the override at a key inside a mapping"))
            continue
        if value is None:  # null removes the key: a contract, a named entry, or a field (back to its default)
            if last not in node:
                problems.append(Problem(
                    f"{origin} removes '{dotted(path)}', which matches no key", path=dotted(path), location=where,
                    expected="a key that exists: " + ", ".join(map(str, list(node)[:12])),
                    fix="correct the key path." + did_you_mean(str(last), list(node))))
                continue
            del node[last]
            continue
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            node[last] = deep_merge(node[last], value, null_removes=True)
        else:
            node[last] = copy.deepcopy(value)
        if where:
            lines[path] = where
    return problems


def parse_set(text: str) -> tuple[KeyPath, Any]:
    """``key.path=value`` from the command line; the value is read as a YAML scalar."""
    if "=" not in text:
        raise ScenarioError(Problem("--set needs key.path=value", path="--set", value=text,
                                    expected="e.g. --set horizon.discount_rate=0.08",
                                    fix="write the key path, '=', then the value"), title="bad --set")
    key, raw = text.split("=", 1)
    if not _split_path(key):
        raise ScenarioError(Problem("--set needs a key path before '='", path="--set", value=text,
                                    expected="e.g. --set horizon.discount_rate=0.08",
                                    fix="write the key path, '=', then the value"), title="bad --set")
    try:
        value, _ = load_yaml_text(raw, name="--set") if raw.strip() else ("", {})
    except ScenarioError as exc:
        if not exc.problems[0].what.startswith("not valid YAML"):  # bounds, tags: name the key set
            raise ScenarioError([dataclasses.replace(p, path=dotted(_split_path(key)) + (f".{p.path}" if p.path else ""),
                                                     location="--set") for p in exc.problems], title="bad --set") from None
        value = raw
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    return _split_path(key.strip()), value


def read(path: str | Path, *, scenario: str | None = None, overrides: list[str] | None = None,
         sets: list[str] | None = None, allow_imports_outside: bool | None = None) -> Resolved:
    """Read a scenario file: imports, then named scenario (or overrides), then ``--set`` values.

    Parameters
    ----------
    path
        The scenario YAML file.
    scenario
        Name of an entry under ``scenarios:`` (a list of override names) to apply.
    overrides
        Override names (under ``overrides:``) to apply after the scenario's own.
    sets
        ``key.path=value`` strings, applied last.
    allow_imports_outside
        Let ``imports:`` name files outside the scenario's folder (default: the CLI's
        ``--allow-imports-outside``, else no).
    """
    path = Path(path)
    if allow_imports_outside is None:
        data, lines = _read_with_imports(path)
    else:
        token = limits.allow_imports_outside(allow_imports_outside)
        try:
            data, lines = _read_with_imports(path)
        finally:
            limits._imports_outside.reset(token)
    resolved = Resolved(data=data, lines=lines, path=path, scenario=scenario)
    defined_overrides = data.get("overrides") or {}
    defined_scenarios = data.get("scenarios") or {}
    problems: list[Problem] = []
    names: list[str] = []
    if scenario is not None:
        if scenario not in defined_scenarios:
            raise ScenarioError(Problem(
                f"unknown scenario '{scenario}'", path="scenarios", value=scenario,
                location=lines.get(("scenarios",)) or "--scenario",
                expected="one of: " + (", ".join(defined_scenarios) or "(none defined)"),
                fix="pass a name defined under 'scenarios:'." + did_you_mean(scenario, defined_scenarios)),
                title="cannot apply scenario")
        entry = defined_scenarios[scenario]
        entry_names = entry.get("overrides", []) if isinstance(entry, dict) else entry
        if isinstance(entry_names, str):
            entry_names = [entry_names]
        names.extend(entry_names or [])
    names.extend(overrides or [])
    for name in names:
        if name not in defined_overrides:
            problems.append(Problem(
                f"unknown override '{name}'", path=f"scenarios.{scenario}" if scenario else "overrides",
                value=name, location=lines.get(("scenarios", scenario)) if scenario else "read(overrides=...)",
                expected="one of: " + (", ".join(defined_overrides) or "(none defined)"),
                fix="define it under 'overrides:' or correct the name." + did_you_mean(name, defined_overrides)))
            continue
        body = defined_overrides[name]
        if not isinstance(body, dict):
            problems.append(Problem("an override must be a mapping of key paths to values",
                                    path=f"overrides.{name}", value=body,
                                    location=lines.get(("overrides", name))))
            continue
        items = _flatten_override(body)
        location_of = {p: lines.get(("overrides", name, *(k for k in p))) or lines.get(("overrides", name))
                       for p, _ in items}
        # dotted keys are stored under their literal key in the line map
        for p, _ in items:
            literal = lines.get(("overrides", name, dotted(p)))
            if literal:
                location_of[p] = literal
        problems += apply_override(resolved.data, resolved.lines, items, origin=f"override '{name}'",
                                   location_of=location_of)
        resolved.overrides_applied.append(name)
    for text in sets or []:
        p, v = parse_set(text)
        problems += apply_override(resolved.data, resolved.lines, [(p, v)], origin=f"--set {text}",
                                   location_of={p: "--set"})
        resolved.sets.append(text)
    if problems:
        raise ScenarioError(problems, title="cannot apply overrides")
    return resolved


def describe_value(value: Any) -> str:
    return short_repr(value)
