"""What a portfolio section reads of the scenario, and what differs between two scenarios.

``Fields`` wraps the validated scenario (a pydantic model) and records the key path of every value a
section reads: a leaf (number, string, list, a series), or a whole model when it is read otherwise than
field by field (a property, a method, handed to other code). The keys of a mapping of models (sites,
contracts, …) are the scenario's structure: reading them records nothing, because two scenarios whose
keys differ are never compared field by field (``changes`` says so). portfolio/reuse.py re-runs a section
only when a path it read is among the paths ``changes`` finds."""

from __future__ import annotations

import math

Path = tuple[str, ...]


def _is_model(value) -> bool:
    return hasattr(type(value), "model_fields")


def _is_models(value) -> bool:
    return isinstance(value, dict) and any(_is_model(v) for v in value.values())


def _wrap(value, path: Path, reads: set):
    if _is_model(value):
        return Fields(value, path, reads)
    if _is_models(value):
        return Models(value, path, reads)
    reads.add(path)
    return value


class Fields:
    """A pydantic model that records the paths of the fields read (see the module's docstring)."""

    __slots__ = ("_obj", "_path", "_reads")

    def __init__(self, obj, path: Path, reads: set):
        self._obj, self._path, self._reads = obj, path, reads

    def __getattr__(self, name: str):
        value = getattr(self._obj, name)
        if name not in type(self._obj).model_fields:  # a property or method reads fields unseen: all of it
            self._reads.add(self._path)
            return value
        return _wrap(value, (*self._path, name), self._reads)


class Models:
    """A mapping of names to models (sites, contracts, offers…): its keys are structure, its values
    recorded as ``Fields``."""

    __slots__ = ("_d", "_path", "_reads")

    def __init__(self, d: dict, path: Path, reads: set):
        self._d, self._path, self._reads = d, path, reads

    def __getitem__(self, key):
        return _wrap(self._d[key], (*self._path, key), self._reads)

    def get(self, key, default=None):
        return self[key] if key in self._d else default

    def __contains__(self, key) -> bool:
        return key in self._d

    def __iter__(self):
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __bool__(self) -> bool:
        return bool(self._d)

    def keys(self):
        return self._d.keys()

    def values(self):
        return [self[k] for k in self._d]

    def items(self):
        return [(k, self[k]) for k in self._d]


def unwrap(value):
    """The object behind a recording proxy (recorded as read whole), or ``value`` itself."""
    if isinstance(value, (Fields, Models)):
        value._reads.add(value._path)
        return value._d if isinstance(value, Models) else value._obj
    return value


class Structural(Exception):
    """Two scenarios differ in structure (the keys of a mapping of models, a model's type)."""


def same_value(a, b) -> bool:
    """Equal and of the same types throughout (1 and 1.0 build different tables); NaN equals NaN."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_value(a[k], b[k]) for k in a)
    if hasattr(a, "__dataclass_fields__"):
        return all(same_value(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    try:
        return bool(a == b)
    except Exception:  # not comparable: changed
        return False


def changes(old, new, fields: list[str] | None = None) -> set[Path]:
    """Paths of the values that differ between two scenarios (only their ``fields``, if given); raises
    ``Structural`` when their structure differs."""
    out: set[Path] = set()
    if fields is None:
        _diff(old, new, (), out)
    elif type(old) is not type(new):
        raise Structural("")
    for name in fields or ():
        _diff(getattr(old, name), getattr(new, name), (name,), out)
    return out


def _diff(a, b, path: Path, out: set) -> None:
    if a is b:
        return
    if _is_model(a) and _is_model(b):
        if type(a) is not type(b):
            raise Structural(".".join(path))
        if a == b:  # pydantic: equal fields (each field's type is fixed by the schema: quantities are floats)
            return
        for name in type(a).model_fields:
            _diff(getattr(a, name), getattr(b, name), (*path, name), out)
        return
    if _is_models(a) or _is_models(b):
        if not (isinstance(a, dict) and isinstance(b, dict)) or list(a) != list(b):
            raise Structural(".".join(path))
        for key in a:
            _diff(a[key], b[key], (*path, key), out)
        return
    if not same_value(a, b):
        out.add(path)


def prefixes(paths: set[Path]) -> set[Path]:
    """Every proper prefix of the paths (a change there contains them)."""
    return {p[:i] for p in paths for i in range(len(p))}


def touches(changed: set[Path], reads: set[Path], read_prefixes: set[Path]) -> bool:
    """Whether a change at one of ``changed`` reaches a section that read ``reads``: a path read is
    changed, inside a changed value, or contains one."""
    for c in changed:
        if c in reads or c in read_prefixes or any(c[:i] in reads for i in range(len(c))):
            return True
    return False


__all__ = ["Fields", "Models", "Structural", "changes", "prefixes", "same_value", "touches", "unwrap"]
