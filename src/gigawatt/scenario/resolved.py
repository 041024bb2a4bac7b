"""A resolved scenario: the merged dict of a scenario file and the file:line each key path came from.

Shared by reading (load.py), which builds it, and validation (validate.py), which points errors at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KeyPath = tuple[str, ...]


@dataclass
class Resolved:
    """The merged scenario dict and where each key path came from."""

    data: dict[str, Any]
    lines: dict[KeyPath, str] = field(default_factory=dict)
    path: Path | None = None
    scenario: str | None = None
    overrides_applied: list[str] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)

    def where(self, path: KeyPath | list) -> str | None:
        """file:line of the closest recorded ancestor of ``path``."""
        p = tuple(str(k) for k in path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)


def dotted(path: KeyPath | list) -> str:
    return ".".join(str(k) for k in path)
