"""Which pydantic model of the schema describes the mapping at a key path of the scenario.

Used by reading (load.py: may an override create this section?) and validation (validate.py: which keys
were expected here?), so it lives beside the schema rather than in either.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from gigawatt.scenario.schema import Scenario


def _inner_types(annotation: Any) -> list[Any]:
    """Unwrap Optional/Union/Annotated/dict/list into the types a value at the next level may have."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _inner_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out = []
        for arg in typing.get_args(annotation):
            out += _inner_types(arg)
        return out
    return [annotation]


def _model_at(path: tuple) -> type[BaseModel] | None:
    """The pydantic model describing the mapping at ``path`` in the scenario, if there is one."""
    current: list[Any] = [Scenario]
    for key in path:
        nxt: list[Any] = []
        for t in current:
            for u in _inner_types(t):
                origin = typing.get_origin(u)
                if isinstance(u, type) and issubclass(u, BaseModel):
                    field = u.model_fields.get(str(key))
                    if field is not None:
                        nxt.append(field.annotation)
                elif origin is dict:
                    nxt.append(typing.get_args(u)[1])
                elif origin is list and str(key).isdigit():
                    nxt.append(typing.get_args(u)[0])
        current = nxt
        if not current:
            return None
    for t in current:
        for u in _inner_types(t):
            if isinstance(u, type) and issubclass(u, BaseModel):
                return u
    return None
