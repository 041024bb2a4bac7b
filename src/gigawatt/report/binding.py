"""Binding constraints grouped for reading: the same limit binding in many periods is one row with its
period range and the range of its values (tables/binding_constraints.csv keeps one row per period)."""

from __future__ import annotations

import pandas as pd


def _span(periods: list[str], order: list[str]) -> str:
    """Periods as ranges of consecutive horizon periods: "2026–2032", "2025, 2028–2029"."""
    pos = sorted({order.index(p) if p in order else len(order) + i for i, p in enumerate(periods)})
    labels = order + [p for p in periods if p not in order]
    runs: list[list[int]] = []
    for i in pos:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ", ".join(labels[r[0]] if len(r) == 1 else f"{labels[r[0]]}–{labels[r[-1]]}" for r in runs)


def group_binding(t: pd.DataFrame, periods: list[str] | None = None) -> pd.DataFrame:
    """One row per (constraint, relaxation with its period taken out, unit): ``periods`` (their span),
    ``n_periods``, ``value_min_usd``/``value_max_usd`` (in each period's money), ``pv_min_usd``/``pv_max_usd``
    (present value) and ``pv_sum_usd`` (relaxing it in every one of those periods, to first order),
    ``relaxation`` with "{period}" for the span. Sorted by the largest present value."""
    if t is None or t.empty:
        return pd.DataFrame(columns=["constraint", "relaxation", "unit", "periods", "n_periods", "value_min_usd",
                                     "value_max_usd", "pv_min_usd", "pv_max_usd", "pv_sum_usd"])
    t = t.copy()
    t["period"] = t["period"].astype(str)
    rel = t["relaxation"] if "relaxation" in t else t["constraint"]
    t["pattern"] = [str(r).replace(p, "{period}") if p and p != "nan" else str(r) for r, p in zip(rel, t["period"])]
    t["unit"] = t["unit"].astype(str) if "unit" in t else ""
    order = list(periods) if periods else sorted(t["period"].unique())
    rows = []
    for (constraint, pattern, unit), g in t.groupby(["constraint", "pattern", "unit"], sort=False):
        span = _span(list(g["period"]), order)
        rows.append({"constraint": constraint, "relaxation": pattern.replace("{period}", span), "unit": unit,
                     "periods": span, "n_periods": len(g), "value_min_usd": g["value_usd"].min(),
                     "value_max_usd": g["value_usd"].max(), "pv_min_usd": g["pv_usd"].min(),
                     "pv_max_usd": g["pv_usd"].max(), "pv_sum_usd": g["pv_usd"].sum()})
    return pd.DataFrame(rows).sort_values("pv_max_usd", ascending=False, kind="stable").reset_index(drop=True)


__all__ = ["group_binding"]
