"""docs/scenario-format.md, generated from the schema's field docstrings (`gigawatt schema --markdown`)."""

from __future__ import annotations

import typing

from pydantic import BaseModel

from gigawatt.scenario import schema as s

INTRO = """# The scenario format

A scenario is a YAML file (read with a safe loader) whose top-level keys are the sections below; any other
key is an error, with a "Did you mean …?". Quantities are strings with units, converted at load time into
the canonical unit named in each field ("4.5 GW" → 4500 MW; "$38B" → 3.8e10 USD; "2.35 USD/h"); a bare
number is accepted only where the field says so. Percentages are accepted for fractions ("75%"). Every
quantity must be finite and within the plausible range of its kind (at most 1,000 GW of power, 10,000 USD
per chip-hour, 100 years of term, a horizon of at most 100 years, ...): the table of ranges, with the reason
for each, and the limits on a file's size, nesting and aliases are in [reliability.md](reliability.md).

**Series** (a value per period) take one of four forms: one quantity for every period (`"1 GW"`); a mapping
that names every period of the horizon, and only those (`{2026: "1 GW", 2027: "2 GW"}`); interpolated
points `{points: {2026: "1 GW", 2030: "5 GW"}, interpolate: linear|geometric|step}` (nothing is
extrapolated: the points must cover the horizon, except that `step` holds the last value); or growth
`{base: "400 million H100_hours", base_period: 2026, growth_per_year: 50%}`. Period keys use the horizon's
step: `2027`, `2027Q3` or `2027-07`.

**Imports, overrides and named scenarios.** `imports: [other.yaml]` merges other files under this one.
An import resolves relative to the folder of the file that names it, must end in `.yaml` or `.yml`, and
must stay inside the folder of the scenario given on the command line (subfolders included, symbolic links
followed); a file elsewhere needs `--allow-imports-outside` (`read(..., allow_imports_outside=True)`).
`overrides:` holds named sets of `key.path: value` changes (nested mappings work too); `scenarios:` names
lists of overrides, applied in order by `--scenario NAME`; `--set key.path=value` applies last. Precedence:
schema defaults < imported files < the file < the scenario's overrides < `--set`. Every key on an override's
path but the last must exist (an override that matches nothing is an error); the last may add a field or a
new named entry, which the schema then checks. A null value removes the key: `--set contracts.aws=null`
(or `contracts.aws: null` in an override, `contracts: {aws: null}` too) drops the contract, and the same
works for any named entry (a site, a provider, a funding round) or field (which returns to its default). A
null that matches no key is an error; a null in an imported file is not a removal (it is the value null).

Errors name the key path and file:line, the value, what was expected and how to fix it, and are reported
all at once. This page is generated from the schema: `gigawatt schema --markdown > docs/scenario-format.md`;
`gigawatt schema` prints the JSON Schema for editors.

**Editor support.** Save the schema once (`gigawatt schema > gigawatt.schema.json`) and put this modeline
on the first line of a scenario file; editors with the YAML language server (VS Code's YAML extension,
Neovim, Helix, JetBrains) then complete keys, show each field's description and flag mistakes as you type:

```yaml
# yaml-language-server: $schema=./gigawatt.schema.json
```

The schema checks one file as you edit it: `imports` is a key like any other, and a file may leave out
any section, or any key of `meta`, since the files it imports (or the file importing it) may supply them;
`gigawatt validate` checks the merged scenario, which needs them all. A quantity string must match the
pattern of its dimension (power `"4.5 GW"`, money `"38 billion USD"` or `"$38B"`, a price per hour
`"2.35 USD/h"`, per H100-hour `"4 USD/H100_hour"`, time `"18 months"`, chips `"400,000 chips"`,
fractions `"75%"`), so `"4.5 GW"` where money is due is marked at once; the patterns are a guide and
`gigawatt validate` the judge (plausible ranges, unknown names, periods). Defaults are shown with their unit
("0 USD", "14 years").
"""

SECTIONS: list[tuple[str, type[BaseModel], str]] = [
    ("meta", s.Meta, "meta"),
    ("horizon", s.HorizonSpec, "horizon"),
    ("accelerators.<id>", s.Accelerator, "accelerators"),
    ("providers.<name>", s.Provider, "providers"),
    ("providers.<name>.offers.<accelerator>", s.Offer, "offers"),
    ("sites.<name>", s.Site, "sites"),
    ("contracts.<name>", s.Contract, "contracts"),
    ("contracts.<name>.renegotiation", s.Renegotiation, "contracts"),
    ("contracts.<name>.renegotiation.deferral", s.Deferral, "contracts"),
    ("contracts.<name>.renegotiation.termination", s.Termination, "contracts"),
    ("workloads.<name>", s.Workload, "workloads"),
    ("finance", s.Finance, "finance"),
    ("finance.funding.<name>", s.Funding, "funding"),
    ("policy", s.Policy, "policy"),
    ("policy.share_targets.<name>", s.ShareTarget, "share_targets"),
    ("uncertainty", s.Uncertainty, "uncertainty"),
    ("uncertainty.drivers.<name>", s.Driver, "drivers"),
    ("uncertainty.events.<name>", s.Event, "events"),
    ("uncertainty.correlations[]", s.Correlation, "correlations"),
    ("config.solve", s.SolveConfig, "config"),
]


def _type_text(annotation) -> str:
    """A readable type: the JSON-schema hint of quantity/series fields, else the Python type."""
    for meta in getattr(annotation, "__metadata__", ()):
        hint = getattr(meta, "json_schema", None)
        if hint and "description" in hint:
            return hint["description"]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_text(typing.get_args(annotation)[0])
    if origin in (typing.Union, __import__("types").UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner = " or ".join(_type_text(a) for a in args)
        return inner + " (optional)" if len(args) < len(typing.get_args(annotation)) else inner
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin is list:
        return f"list of {_type_text(typing.get_args(annotation)[0])}"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"mapping of {_type_text(key)} to {_type_text(value)}"
    if origin is tuple:
        return "tuple of " + ", ".join(_type_text(a) for a in typing.get_args(annotation))
    if origin is not None:  # a generic we have no words for: its name, never a repr with addresses
        return getattr(origin, "__name__", "value")
    return getattr(annotation, "__name__", str(annotation))


def markdown() -> str:
    lines = [INTRO]
    for title, model, _ in SECTIONS:
        lines.append(f"## `{title}`\n")
        if model.__doc__ and not model.__doc__.startswith(("A base", "Usage")):
            doc = " ".join(model.__doc__.split())
            if not doc.startswith("!!!"):
                lines.append(doc + "\n")
        lines.append("| key | type and unit | default | description |")
        lines.append("|---|---|---|---|")
        for name, field in model.model_fields.items():
            default = "required" if field.is_required() else f"`{field.default!r}`" if field.default not in (None, {}, []) else "–"
            desc = " ".join((field.description or "").split())
            hint = next((m.json_schema["description"] for m in field.metadata
                         if getattr(m, "json_schema", None) and "description" in m.json_schema), None)
            typ = (hint or _type_text(field.annotation)).replace("|", "\\|")
            lines.append(f"| `{name}` | {typ} | {default} | {desc.replace('|', '/')} |")
        lines.append("")
    return "\n".join(lines)
