"""Resolve a written series (constant, every period, interpolated points, growth) onto the horizon."""

from __future__ import annotations

import numpy as np

from gigawatt.errors import Problem
from gigawatt.periods import Horizon, label_start, label_step
from gigawatt.scenario import limits
from gigawatt.scenario.schema import SeriesSpec


def _years_from_start(label: str, horizon: Horizon) -> float:
    """Calendar years (months / 12) from the horizon start to the start of the period ``label`` names."""
    a, b = label_start(label), horizon.table["start"].iloc[0]
    return ((a.year - b.year) * 12 + (a.month - b.month)) / 12.0


def resolve(spec: SeriesSpec, horizon: Horizon, *, path: str, location: str | None,
            problems: list[Problem]) -> np.ndarray:
    """Values of ``spec`` per horizon period (canonical unit). Misaligned or missing periods are problems,
    appended to ``problems``; the returned array is then zeros (never used, the caller raises)."""
    n = horizon.n
    if spec.kind == "constant":
        return np.full(n, spec.value)
    if spec.kind == "growth":
        t0 = _years_from_start(spec.base_period, horizon)
        with np.errstate(over="ignore"):
            out = spec.value * (1.0 + spec.growth_per_year) ** (horizon.table["t_years"].to_numpy() - t0)
        return _plausible(out, spec, horizon, path=path, location=location, problems=problems)
    labels = [lab for lab, _ in spec.points]
    steps = {label_step(lab) for lab in labels}
    if steps != {horizon.step}:
        problems.append(Problem(
            "series periods do not match the horizon's step", path=path, location=location,
            value=", ".join(labels[:6]), expected=f"periods written as a {horizon.step} ({horizon.labels[0]})",
            fix=f"write the keys at the horizon's step '{horizon.step}'"))
        return np.zeros(n)
    if spec.kind == "exact":
        given = dict(spec.points)
        missing = [p for p in horizon.labels if p not in given]
        outside = [p for p in given if p not in horizon.labels]
        if missing or outside:
            what = []
            if missing:
                what.append(f"missing {', '.join(missing[:8])}{' …' if len(missing) > 8 else ''}")
            if outside:
                what.append(f"outside the horizon: {', '.join(outside[:8])}")
            problems.append(Problem(
                "a mapping series must name every period of the horizon, and only those", path=path,
                location=location, value="; ".join(what),
                expected=f"keys {horizon.labels[0]} … {horizon.labels[-1]}",
                fix="add the missing periods, or write {points: {...}, interpolate: linear|geometric|step}"))
            return np.zeros(n)
        return np.array([given[p] for p in horizon.labels], dtype=float)
    # points, interpolated on period start time
    pts = sorted(spec.points, key=lambda kv: label_start(kv[0]))
    x = np.array([_years_from_start(k, horizon) for k, _ in pts])
    y = np.array([v for _, v in pts], dtype=float)
    t = horizon.table["t_years"].to_numpy()
    if t[0] < x[0] - 1e-9 or (spec.method != "step" and t[-1] > x[-1] + 1e-9):
        problems.append(Problem(
            "interpolation points do not cover the horizon", path=path, location=location,
            value=f"{pts[0][0]} … {pts[-1][0]}",
            expected=f"a first point at or before {horizon.labels[0]}" + (
                "" if spec.method == "step" else f" and a last point at or after {horizon.labels[-1]}"),
            fix="add points at the horizon's ends (nothing is extrapolated)"))
        return np.zeros(n)
    if spec.method == "linear":
        return np.interp(t, x, y)
    if spec.method == "geometric":
        if (y <= 0).any():
            problems.append(Problem("geometric interpolation needs positive values", path=path,
                                    location=location, value=y.min(), expected="values > 0",
                                    fix="use interpolate: linear"))
            return np.zeros(n)
        return np.exp(np.interp(t, x, np.log(y)))
    idx = np.searchsorted(x, t + 1e-9, side="right") - 1
    return y[idx]


def _plausible(values: np.ndarray, spec: SeriesSpec, horizon: Horizon, *, path: str, location: str | None,
               problems: list[Problem]) -> np.ndarray:
    """``values`` if every one is in the plausible range of the series' unit (a growth series compounds
    past it when the rate is large for a long horizon); else a problem and zeros."""
    bad = [(lab, v) for lab, v in zip(horizon.labels, values) if limits.out_of_range(float(v), spec.unit)]
    if not bad:
        return values
    lab, v = bad[0]
    problems.append(Problem(
        "the series grows out of the plausible range", path=path, location=location,
        value=f"{v:.3g} {spec.unit} in {lab}", expected=limits.out_of_range(float(v), spec.unit) or "",
        fix="lower growth_per_year or the base value, or write the series as points"))
    return np.zeros(horizon.n)
