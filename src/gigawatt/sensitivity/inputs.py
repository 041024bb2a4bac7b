"""The inputs a sensitivity analysis varies, each with its range, and how a value of each becomes changes of
the scenario a sweep task solves (docs/sensitivity.md).

Three kinds: a driver of the uncertainty section (a factor; its range is the 5th to 95th percentile of its
distribution), an event of the uncertainty section (0 = does not happen, 1 = happens) and a key path given
as ``--vary key=low,high`` (a number with the same unit at both ends). Drivers and events become scenario
changes exactly as ``gigawatt sweep --draws`` makes them (:func:`gigawatt.sweep.manifest.draw_overrides`, fed
a degenerate distribution at the chosen factor), so a factor means here what it means in ``simulate``.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from gigawatt.errors import Problem, ScenarioError

LOW_Q, HIGH_Q = 0.05, 0.95  # the one-at-a-time range of a driver: its 5th and 95th percentiles
_NUMBER = re.compile(r"^\s*([-+]?(?:\d[\d_,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Input:
    """One varied input: ``kind`` driver, event or key; ``spec`` its validated entry (driver/event as a
    dict, canonical units) or (low, high, unit) for a key path; ``raw`` the entry as written (what a task's
    scenario gets back); ``base`` its value in the scenario as written."""

    name: str
    kind: str
    spec: Any
    base: float
    raw: Any = None

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values at quantiles ``u`` ∈ [0, 1] (Sobol samples on the unit cube mapped onto the input)."""
        u = np.clip(np.asarray(u, dtype=float), 1e-9, 1 - 1e-9)
        if self.kind == "event":
            return (u < float(self.spec["probability"])).astype(float)
        if self.kind == "key":
            low, high, _ = self.spec
            return low + u * (high - low)
        return _driver_ppf(self.spec, u)

    @property
    def low(self) -> float:
        if self.kind != "driver":
            return 0.0 if self.kind == "event" else float(self.spec[0])
        return float(self.ppf(np.array([LOW_Q]))[0])

    @property
    def high(self) -> float:
        if self.kind != "driver":
            return 1.0 if self.kind == "event" else float(self.spec[1])
        return float(self.ppf(np.array([HIGH_Q]))[0])

    def text(self, value: float) -> str:
        """The value as people read it: a factor (×0.72), happens / does not, or the key's quantity."""
        if self.kind == "event":
            return "happens" if value >= 0.5 else "does not happen"
        if self.kind == "key":
            return "as written" if value != value else f"{value:.6g} {self.spec[2]}".strip()
        return f"×{value:.3g}"


def _driver_ppf(d: dict, u: np.ndarray) -> np.ndarray:
    from scipy import stats

    p, dist = d["params"], d["distribution"]
    if dist == "normal":
        x = p["mean"] + p["sd"] * stats.norm.ppf(u)
    elif dist == "lognormal":
        x = np.exp(p["mean"] + p["sd"] * stats.norm.ppf(u))
    elif dist == "uniform":
        x = p["low"] + u * (p["high"] - p["low"])
    elif dist == "triangular":
        width = p["high"] - p["low"]
        x = stats.triang.ppf(u, (p["mode"] - p["low"]) / width, loc=p["low"], scale=width) if width > 0 \
            else np.full_like(u, p["low"])
    else:  # empirical: equally likely values
        vals = np.sort(np.asarray(p["values"], dtype=float))
        x = vals[np.minimum((u * len(vals)).astype(int), len(vals) - 1)]
    return np.maximum(x, 0.0)  # a factor below 0 counts as 0 (docs/risk.md)


def from_uncertainty(base: dict, scenario, names: list[str] | None = None) -> list[Input]:
    """The drivers and events of the uncertainty section of ``scenario`` (validated; ``base`` its resolved
    data), ``names``: only those."""
    unc = scenario.uncertainty
    raw = base.get("uncertainty") or {}
    out = [Input(n, "driver", d.model_dump(), 1.0, raw["drivers"][n]) for n, d in unc.drivers.items()]
    out += [Input(n, "event", e.model_dump(), 0.0, raw["events"][n]) for n, e in unc.events.items()]
    if names:
        unknown = sorted(set(names) - {i.name for i in out})
        if unknown:
            raise ScenarioError(Problem(f"no driver or event named {unknown[0]}", path="--only", value=unknown[0],
                                        expected="one of: " + ", ".join(i.name for i in out) or "(none)",
                                        fix="name drivers or events of the scenario's uncertainty section"),
                                title="bad --only")
        out = [i for i in out if i.name in names]
    return out


def from_vary(text: str) -> Input:
    """``key.path=low,high``: the two ends of a numeric input with the same unit (e.g. 6 months,24 months).
    Its base is the scenario as written (NaN: the key is not set)."""
    def bad(why: str, value: str) -> ScenarioError:
        return ScenarioError(Problem(f"--vary {why}", path="--vary", value=value,
                                     expected="key.path=low,high with numbers in the same unit, e.g. "
                                              "sites.texas.lead_time=6 months,24 months",
                                     fix="give the key path, '=', then the low and the high value"), title="bad --vary")

    if "=" not in text:
        raise bad("needs key.path=low,high", text)
    key, raw = (s.strip() for s in text.split("=", 1))
    ends = [s.strip() for s in raw.strip("[]").split(",")]
    if len(ends) != 2:
        raise bad("needs exactly two values, low and high", raw)
    parsed = [_NUMBER.match(e) for e in ends]
    if not all(parsed):
        raise bad("values must be numbers (with a unit)", raw)
    (lo, ulo), (hi, uhi) = ((float(m.group(1).replace(",", "").replace("_", "")), m.group(2)) for m in parsed)
    if ulo != uhi or not (math.isfinite(lo) and math.isfinite(hi)):
        raise bad("low and high must be finite and in the same unit", raw)
    return Input(key, "key", (lo, hi, ulo), float("nan"))


def changes(base: dict, inputs: list[Input], values: list[float]) -> tuple[list[str], list, list]:
    """(sets, overrides, removals) that give the scenario ``base`` (resolved data) these input values:
    key paths as --set strings; drivers and events through the sweep's draw translation (one draw of an
    uncertainty section in which each driver is fixed at its value and each event happens or not)."""
    from gigawatt.sweep.manifest import draw_overrides

    sets = [f"{i.name}={float(v)!r} {i.spec[2]}".rstrip() for i, v in zip(inputs, values)
            if i.kind == "key" and v == v]
    drivers = {i.name: {**i.raw, "distribution": "empirical", "params": {"values": [float(v)]}}
               for i, v in zip(inputs, values) if i.kind == "driver" and v != 1.0}
    events = {i.name: {**i.raw, "probability": 1.0}
              for i, v in zip(inputs, values) if i.kind == "event" and v >= 0.5}
    if not drivers and not events:
        return sets, [], [["uncertainty"]]
    data = copy.deepcopy(base)
    data["uncertainty"] = {"drivers": drivers, "events": events, "draws": 1, "seed": 0}
    [(_, overrides, removals)] = draw_overrides(yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                                                draws=1, seed=0)[0]
    return sets, overrides, removals


__all__ = ["Input", "from_uncertainty", "from_vary", "changes", "LOW_Q", "HIGH_Q"]
