"""The exported JSON Schema, made for editors (``gigawatt schema``; yaml-language-server, VS Code).

pydantic's schema describes a whole scenario after its imports are merged; an editor checks one file.
Three changes make the two agree (docs/scenario-format.md, "Editor support"):

- ``imports`` is a property (the files read first, merged under this one);
- a file need not hold every section: any top-level section and any key of ``meta`` may come from a file
  it imports, or from the file importing it, so ``required`` is relaxed there (``gigawatt validate``
  checks the merged scenario, which must have them all); inside other sections ``required`` stays;
- every default is a value of its own type: a quantity's default is written with its unit
  ("0 USD"), since a bare number is not a valid quantity string.
"""

from __future__ import annotations

import copy
import math

DIALECT = "https://json-schema.org/draft/2020-12/schema"
IMPORTS = {
    "description": "Scenario files read first (paths relative to this file), merged in order; this file's keys win.",
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
}


def for_editors(schema: dict) -> dict:
    """The editor's schema from pydantic's (a new dict)."""
    out = copy.deepcopy(schema)
    out = {"$schema": DIALECT, **out}
    out["properties"] = {"imports": IMPORTS, **out["properties"]}
    out.pop("required", None)
    defs = out.get("$defs", {})
    if "Meta" in defs:
        defs["Meta"].pop("required", None)
    for sub in [out, *defs.values()]:
        _typed_defaults(sub, defs)
    return out


def _resolve(prop: dict, defs: dict) -> dict:
    """The schema a property points at: its $ref, or the first non-null branch of an anyOf."""
    for branch in prop.get("anyOf") or []:
        if branch.get("type") != "null":
            return _resolve(branch, defs)
    ref = prop.get("$ref") or (prop.get("allOf") or [{}])[0].get("$ref")
    return defs.get(ref.rsplit("/", 1)[-1], {}) if ref else prop


def _typed_defaults(model: dict, defs: dict) -> None:
    """Rewrite each default of ``model``'s properties as a value of its own type (see :func:`_typed`)."""
    for prop in (model.get("properties") or {}).values():
        if "default" in prop:
            prop["default"] = _typed(prop["default"], prop, defs)


def _typed(value, prop: dict, defs: dict):
    """A quantity's number as a string with its unit where the schema wants a string; a section's default
    (a dict) key by key."""
    target = _resolve(prop, defs)
    if isinstance(value, dict) and "properties" in target:
        return {k: (_typed(v, target["properties"][k], defs) if k in target["properties"] else v)
                for k, v in value.items()}
    unit = target.get("x-unit")
    if unit and target.get("type") == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _with_unit(float(value), unit)
    return value


def _with_unit(value: float, unit: str) -> str:
    """``value`` in canonical ``unit`` as a quantity string the pattern and gigawatt.units both read."""
    if not math.isfinite(value):
        raise ValueError(f"a default must be finite, not {value!r}")
    words = {"USD/hour": "USD/h", "chip": "chips", "year": "years", "month": "months", "second": "seconds"}
    return f"{value:g} {words.get(unit, unit)}"


__all__ = ["for_editors", "DIALECT"]
