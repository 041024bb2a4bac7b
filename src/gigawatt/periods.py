"""Periods of the planning horizon: labels ("2025", "2025Q1", "2025-01"), lengths in hours, discounting."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

STEPS = ("year", "quarter", "month")
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-01)?$")


def periods_spanning(years: float, months_per_period: int) -> int:
    """How many periods of ``months_per_period`` a span of ``years`` takes, rounded up (a notice or delay
    of part of a period waits for the whole period)."""
    return int(np.ceil(years * 12.0 / months_per_period - 1e-9))


def normalise_label(value: object) -> str:
    """A period label as text; YAML reads 2025 as an int and 2025-01-01 as a date."""
    text = str(value).strip()
    return text[:-3] if re.match(r"^\d{4}-\d{2}-01$", text) else text


def label_step(label: str) -> str | None:
    """Which step a label is written in ('year', 'quarter', 'month'), or None if it is not a period."""
    if _YEAR.match(label):
        return "year"
    if _QUARTER.match(label):
        return "quarter"
    m = _MONTH.match(label)
    if m and 1 <= int(m.group(2)) <= 12:
        return "month"
    return None


def label_start(label: str) -> pd.Timestamp:
    """First instant of the period a label names."""
    label = normalise_label(label)
    if m := _YEAR.match(label):
        return pd.Timestamp(year=int(m.group(1)), month=1, day=1)
    if m := _QUARTER.match(label):
        return pd.Timestamp(year=int(m.group(1)), month=3 * int(m.group(2)) - 2, day=1)
    if (m := _MONTH.match(label)) and 1 <= int(m.group(2)) <= 12:
        return pd.Timestamp(year=int(m.group(1)), month=int(m.group(2)), day=1)
    raise ValueError(f"not a period label: {label!r}")


def to_label(ts: pd.Timestamp, step: str) -> str:
    if step == "year":
        return f"{ts.year}"
    if step == "quarter":
        return f"{ts.year}Q{(ts.month - 1) // 3 + 1}"
    return f"{ts.year}-{ts.month:02d}"


_FREQ = {"year": "YS", "quarter": "QS", "month": "MS"}
_MONTHS = {"year": 12, "quarter": 3, "month": 1}


@dataclass(frozen=True)
class Horizon:
    """The periods of a plan. ``table`` has one row per period, indexed by label."""

    step: str
    labels: tuple[str, ...]
    table: pd.DataFrame  # columns: start, hours, year, t_years (years from horizon start to period start)

    @classmethod
    def build(cls, start: str, end: str, step: str, discount_rate: float) -> "Horizon":
        first = label_start(start)
        last = label_start(end)
        starts = pd.date_range(first, last, freq=_FREQ[step])
        ends = starts + pd.DateOffset(months=_MONTHS[step])
        hours = ((ends - starts) / pd.Timedelta(hours=1)).to_numpy(dtype=float)
        months = ((starts.year - first.year) * 12 + (starts.month - first.month)).to_numpy(dtype=float)
        # Year fractions are calendar-based (a month is 1/12 year) so that yearly grids are exact;
        # hours stay exact for energy and chip-hours.
        t_years = months / 12.0
        length_years = np.full(len(starts), _MONTHS[step] / 12.0)
        # Mid-period discounting: cash in a period is taken to flow at its middle.
        mid = t_years + length_years / 2
        labels = tuple(to_label(s, step) for s in starts)
        table = pd.DataFrame(
            {
                "start": starts,
                "hours": hours,
                "year": starts.year.to_numpy(),
                "t_years": t_years,  # years from the horizon start to the period start
                "years": length_years,  # length of the period in years
                "months": months,  # calendar months from the horizon start to the period start
                "discount_factor": (1.0 + discount_rate) ** (-mid),
            },
            index=pd.Index(labels, name="period"),
        )
        return cls(step=step, labels=labels, table=table)

    @property
    def end_years(self) -> float:
        """Years from the horizon start to its end."""
        return float(self.table["t_years"].iloc[-1] + self.table["years"].iloc[-1])

    @property
    def n(self) -> int:
        return len(self.labels)

    def position(self, label: str) -> int:
        return self.labels.index(label)

    def months_per_period(self) -> int:
        return _MONTHS[self.step]

    def periods_from(self, label: str) -> np.ndarray:
        """Boolean mask of periods at or after the one containing ``label``'s start."""
        return (self.table["start"] >= label_start(label)).to_numpy()
