"""Validate a resolved scenario dict against the schema; translate pydantic errors into five-part problems."""

from __future__ import annotations

from pydantic import ValidationError

from gigawatt.errors import Problem, ScenarioError, did_you_mean
from gigawatt.scenario.fields import _model_at
from gigawatt.scenario.resolved import Resolved, dotted
from gigawatt.scenario.schema import Scenario


def _field_help(path: tuple) -> str:
    model = _model_at(path[:-1]) if path else None
    if model is None:
        return ""
    field = model.model_fields.get(str(path[-1]))
    return (field.description or "").split("\n")[0].strip().rstrip(".") if field else ""


def problem_from_error(err: dict, resolved: Resolved) -> Problem:
    # pydantic appends union/annotated branch tags to loc; keep only real keys
    loc = tuple(str(p) for p in err["loc"] if not str(p).startswith(("function-", "literal[", "dict[", "list[", "str", "constrained")))
    kind = err["type"]
    where = resolved.where(loc)
    value = err.get("input")
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        known = list(model.model_fields) if model else []
        return Problem(f"unknown key '{loc[-1]}'", path=dotted(loc), location=where,
                       expected="one of: " + ", ".join(known) if known else "",
                       fix="remove it or correct the spelling." + did_you_mean(loc[-1], known))
    if value is None and kind in ("dict_type", "model_type", "model_attributes_type", "list_type", "string_type",
                                  "float_type", "int_type", "bool_type", "tuple_type"):
        help_ = _field_help(loc)
        return Problem("empty value (a key with nothing after the colon)", path=dotted(loc), location=where,
                       expected=help_ or err["msg"].replace("Input should be ", ""),
                       fix="write a value after the colon, or remove the key")
    if kind == "missing":
        help_ = _field_help(loc)
        return Problem(f"required key '{loc[-1]}' is missing", path=dotted(loc), location=resolved.where(loc[:-1]),
                       expected=help_ or "a value", fix=f"add '{loc[-1]}:' here")
    if kind in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        return Problem("value not allowed", path=dotted(loc), value=value, location=where,
                       expected=f"one of {expected}",
                       fix="use one of the allowed values." + did_you_mean(value, [x.strip(" '\"") for x in str(expected).replace(" or ", ",").split(",")]))
    if kind in ("quantity", "fraction", "period", "series", "contract", "share", "name", "empty"):
        ctx = err.get("ctx", {})
        msg = ctx.get("msg", err["msg"])
        fix = ctx.get("fix") or {
            "quantity": "write the value with a unit of that kind",
            "fraction": "write a number between 0 and 1, or a percentage",
            "period": "write a period at the horizon's step",
            "series": "see `gigawatt schema` or docs/scenario-format.md for the series forms",
            "contract": "add the missing amount",
            "share": "complete the share target",
            "name": "rename it",
            "empty": "add an entry",
        }[kind]
        return Problem("invalid value", path=dotted(loc),
                       value=value if kind not in ("contract", "share") and not isinstance(value, dict) else None,
                       location=where, expected=msg, fix=fix)
    if kind.startswith(("greater_than", "less_than")):
        return Problem("out of range", path=dotted(loc), value=value, location=where,
                       expected=err["msg"].lower().replace("input should be ", ""),
                       fix="use a value in range")
    help_ = _field_help(loc)
    return Problem(err["msg"].replace("Input should be", "should be"), path=dotted(loc), value=value,
                   location=where, expected=help_, fix="correct the value")


def validate(resolved: Resolved) -> Scenario:
    """Check types, units, enums, ranges and required keys; every problem is reported at once."""
    try:
        return Scenario.model_validate(resolved.data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems = [problem_from_error(e, resolved) for e in errors]
        # unknown names too, in the same run (a valid file has them checked as the portfolio is built)
        from gigawatt.scenario.references import reference_problems

        skip = {tuple(str(p) for p in e["loc"]) for e in errors}
        problems += reference_problems(resolved, skip)
        raise ScenarioError(problems, title=f"{resolved.path.name if resolved.path else 'scenario'} is invalid") from None
