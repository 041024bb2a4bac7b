"""What every section of the portfolio build shares: the horizon, where a key path was written, the
problems found so far, and series and term coverage at the horizon's periods."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from gigawatt.errors import Problem
from gigawatt.periods import Horizon, label_start
from gigawatt.portfolio.recording import unwrap
from gigawatt.scenario.resolved import Resolved
from gigawatt.scenario.schema import Scenario, SeriesSpec
from gigawatt.series import resolve


def term_end(start: pd.Timestamp, term_years: float) -> pd.Timestamp:
    """End of a term: whole months are calendar months (a 3-year term from 2025-01 ends 2028-01)."""
    months = term_years * 12.0
    if abs(months - round(months)) < 1e-6:
        return start + pd.DateOffset(months=int(round(months)))
    return start + pd.Timedelta(days=365.25 * term_years)


class BuildContext:
    """The scenario being turned into arrays, its horizon, and the problems found so far (raised once, at
    the end, so that every problem of the file is reported together)."""

    def __init__(self, sc: Scenario, resolved: Resolved | None, horizon: Horizon | None = None):
        self.sc = sc
        self.resolved = resolved
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        h = sc.horizon
        self.horizon = horizon if horizon is not None else Horizon.build(h.start, h.end, h.step, h.discount_rate)

    @cached_property
    def periods(self) -> pd.Index:
        return pd.Index(self.horizon.labels, name="period")

    @cached_property
    def hours(self) -> np.ndarray:
        return self.horizon.table["hours"].to_numpy()

    def where(self, *path: str) -> str | None:
        return self.resolved.where(path) if self.resolved else None

    def problem(self, what: str, path: tuple[str, ...], **kw) -> None:
        self.problems.append(Problem(what, path=".".join(path), location=self.where(*path), **kw))

    def series(self, spec: SeriesSpec | None, *path: str, default: float = 0.0) -> np.ndarray:
        if spec is None:
            return np.full(self.horizon.n, default)
        spec = unwrap(spec)
        return resolve(spec, self.horizon, path=".".join(path), location=self.where(*path), problems=self.problems)

    @cached_property
    def discount_factor(self) -> np.ndarray:
        """The horizon's discount factor per period (a rebuild gives the one kept with its horizon)."""
        return self.horizon.table["discount_factor"].to_numpy()

    @cached_property
    def period_start(self) -> np.ndarray:
        return self.horizon.table["start"].to_numpy()

    @cached_property
    def period_end(self) -> np.ndarray:
        """First instant after each period (datetime64)."""
        return (self.horizon.table["start"] + pd.DateOffset(months=self.horizon.months_per_period())).to_numpy()

    @cached_property
    def horizon_end(self) -> pd.Timestamp:
        """First instant after the horizon's last period."""
        return self.horizon.table["start"].iloc[-1] + pd.DateOffset(months=self.horizon.months_per_period())

    def coverage(self, start: str, term_years: float) -> np.ndarray:
        """Fraction of each period inside [start, start + term)."""
        t0 = label_start(start)
        t1 = term_end(t0, term_years)
        lo = np.maximum(self.period_start, np.datetime64(t0))
        hi = np.minimum(self.period_end, np.datetime64(t1))
        overlap = np.clip((hi - lo) / np.timedelta64(1, "h"), 0, None)
        return overlap / self.hours

    def check_periods(self, labels: list[str], *path: str) -> None:
        outside = [p for p in labels if p not in self.horizon.labels]
        if outside:
            self.problem("period outside the horizon", path, value=", ".join(outside),
                         expected=f"{self.horizon.labels[0]} … {self.horizon.labels[-1]} at step '{self.horizon.step}'",
                         fix="use a period inside the horizon, or extend the horizon")
