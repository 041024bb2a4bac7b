"""Exceptions and the five-part problem messages every user-facing error is made of.

Exit codes: 0 ok, 1 bad input, 2 infeasible or not optimal, 3 solver or internal error; the CLI adds 4 for a
usage error and 130 for an interrupt (gigawatt.commands.exitcodes).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Iterable

MAX_PROBLEMS_SHOWN = 20


class GigawattError(Exception):
    """Base of every error gigawatt raises on purpose."""

    exit_code = 3


class GigawattWarning(UserWarning):
    """Something that cannot be wrong but deserves a look (an unused asset, say)."""


def did_you_mean(value: Any, choices: Iterable[str]) -> str:
    """' Did you mean 'x'?' when a close match exists, else ''."""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def short_repr(value: Any, limit: int = 80) -> str:
    """A repr short enough for one error line: never dump a whole dict."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: what, where, the value, what was expected, how to fix it."""

    what: str
    path: str
    value: Any = None
    expected: str = ""
    fix: str = ""
    location: str | None = None  # "file.yaml:42"

    def format(self) -> str:
        where = self.path or "<top level>"
        if self.location:
            where += f" ({self.location})"
        parts = [f"{where}: {self.what}"]
        if self.value is not None:
            parts.append(f"got {short_repr(self.value)}")
        if self.expected:
            parts.append(f"expected {self.expected}")
        line = "; ".join(parts) + "."
        if self.fix:
            line += f" Fix: {self.fix}"
        return line


class ScenarioError(GigawattError, ValueError):
    """Bad input: every problem found, collected and raised once."""

    exit_code = 1

    def __init__(self, problems: list[Problem] | Problem, *, title: str = "scenario is invalid"):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.title = title
        super().__init__(self._message())

    def __reduce__(self):  # pickled back from a worker process (pool, Ray): rebuilt from its problems
        return (_rebuild_scenario_error, (type(self), self.problems, self.title))

    def _message(self) -> str:
        n = len(self.problems)
        head = f"{self.title}: {n} problem{'s' if n != 1 else ''}"
        lines = [f"  - {p.format()}" for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        if n > MAX_PROBLEMS_SHOWN:
            lines.append(f"  (+{n - MAX_PROBLEMS_SHOWN} more)")
        return "\n".join([head, *lines])


def _rebuild_scenario_error(cls, problems, title):
    return cls(problems, title=title)


class InfeasibleError(GigawattError):
    """No plan satisfies the constraints (or the solver stopped short of optimal)."""

    exit_code = 2

    def __init__(self, message: str, *, conflicts: list[str] | None = None, status: str = "infeasible"):
        self.conflicts = conflicts or []
        self.status = status
        text = message
        if self.conflicts:
            text += "\n" + "\n".join(f"  - {c}" for c in self.conflicts[:MAX_PROBLEMS_SHOWN])
            if len(self.conflicts) > MAX_PROBLEMS_SHOWN:
                text += f"\n  (+{len(self.conflicts) - MAX_PROBLEMS_SHOWN} more)"
        super().__init__(text)


class SolverError(GigawattError):
    """The solver failed for a reason other than the model (a crash, a licence, a time limit)."""

    exit_code = 3
