"""Accelerators: catalog rows with the scenario's overrides in canonical units, the check that an
accelerator has the figures a use of it needs, and purchase limits.

Compute is counted in H100e-hours at a workload's precision: one hour of an H100 SXM's dense peak at that
precision (989 TFLOP/s BF16, 1,979 TFLOP/s FP8; FP4 falls back to FP8) of useful model FLOP. A chip's peak
at a precision it has no figure for is its peak at the next wider precision it has (``peak_at``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gigawatt import units
from gigawatt.catalog import load_catalog
from gigawatt.errors import did_you_mean
from gigawatt.portfolio.context import BuildContext


H100E_HOUR_FLOP = units.H100_PEAK_BF16_FLOP_PER_S * 3600.0  # at BF16; per workload: workloads "flop_per_h100e_hour"
REFERENCE_ACCELERATOR = "h100"
# Precisions from widest to narrowest, with the column of each dense peak; a missing figure falls back to the
# one before it (fp4 → fp8 → bf16): a chip without FP4 units runs FP4-quantised maths at FP8 (or BF16).
PRECISIONS = ("bf16", "fp8", "fp4")
PEAK_COLUMNS = tuple(f"{p}_flop_per_s" for p in PRECISIONS)

# scenario field -> (catalog column, factor from the scenario's canonical unit to the catalog's stored unit)
_ACCEL_FIELDS = {
    "name": ("name", None),
    "vendor": ("vendor", None),
    "available": ("available", None),
    "bf16_flops": ("bf16_tflops", 1e-12),
    "fp8_flops": ("fp8_tflops", 1e-12),
    "fp4_flops": ("fp4_tflops", 1e-12),
    "all_in_power": ("all_in_power_w", 1e3),
    "purchase_price": ("purchase_price_usd", 1.0),
    "rental_price": ("rental_price_usd_per_chip_hour", 1.0),
    "committed_price": ("committed_price_usd_per_chip_hour", 1.0),
    "utilisation_training": ("utilisation_training", 1.0),
    "utilisation_inference": ("utilisation_inference", 1.0),
    "useful_life": ("useful_life_years", 1.0),
}


def build_accelerators(ctx: BuildContext) -> pd.DataFrame:
    cat = load_catalog()
    known = list(cat.index)
    for aid, spec in ctx.sc.accelerators.items():
        if aid in cat.index:
            row = cat.loc[aid].copy()
        elif spec.base is not None:
            if spec.base not in cat.index:
                ctx.problem(f"unknown base accelerator '{spec.base}'", ("accelerators", aid, "base"),
                             value=spec.base, expected="a catalog id (gigawatt catalog)",
                             fix="use a catalog id." + did_you_mean(spec.base, known))
                continue
            row = cat.loc[spec.base].copy()
        else:
            row = pd.Series(np.nan, index=cat.columns, dtype=object)
            row["name"] = aid
        for fname, (col, factor) in _ACCEL_FIELDS.items():
            value = getattr(spec, fname)
            if value is not None:
                row[col] = value if factor is None else value * factor
        cat.loc[aid] = row
    out = pd.DataFrame(index=cat.index)
    out["name"] = cat["name"]
    out["vendor"] = cat["vendor"]
    out["available"] = cat["available"]
    for prec in PRECISIONS:
        out[f"{prec}_flop_per_s"] = pd.to_numeric(cat[f"{prec}_tflops"]) * 1e12
    out["all_in_power_kw"] = pd.to_numeric(cat["all_in_power_w"]) / 1e3
    out["purchase_price_usd"] = pd.to_numeric(cat["purchase_price_usd"])
    out["rental_price_usd_per_chip_hour"] = pd.to_numeric(cat["rental_price_usd_per_chip_hour"])
    out["committed_price_usd_per_chip_hour"] = pd.to_numeric(cat["committed_price_usd_per_chip_hour"])
    out["utilisation_training"] = pd.to_numeric(cat["utilisation_training"])
    out["utilisation_inference"] = pd.to_numeric(cat["utilisation_inference"])
    out["useful_life_years"] = pd.to_numeric(cat["useful_life_years"])
    return out


def peak_at(accel: pd.DataFrame) -> pd.DataFrame:
    """Dense peak FLOP/s of each accelerator (rows) at each precision (columns ``PRECISIONS``), a missing
    figure replaced by the next wider precision's (fp4 → fp8 → bf16); NaN only where BF16 is missing too."""
    peaks = accel.loc[:, list(PEAK_COLUMNS)].astype(float).ffill(axis=1)
    peaks.columns = list(PRECISIONS)
    return peaks


def h100e_peak_flop_per_s() -> pd.Series:
    """The unit of compute at each precision: the catalog H100's dense peak there, after the fallback (BF16
    989e12, FP8 1,979e12, FP4 1,979e12 as H100 has no FP4). Taken from the catalog, not a scenario's
    overrides, so the unit is the same in every scenario."""
    cat = load_catalog().loc[[REFERENCE_ACCELERATOR]]
    peaks = cat[[f"{p}_tflops" for p in PRECISIONS]].astype(float).ffill(axis=1) * 1e12
    peaks.columns = list(PRECISIONS)
    return peaks.loc[REFERENCE_ACCELERATOR]


def need(ctx: BuildContext, accel: pd.DataFrame, aid: str, fields: list[str], why: str, path: tuple[str, ...]) -> bool:
    """Problem if accelerator ``aid`` is unknown or lacks a figure the scenario relies on."""
    if aid not in accel.index:
        ctx.problem(f"unknown accelerator '{aid}'", path, value=aid,
                     expected="a catalog id or one defined under accelerators:",
                     fix="correct the id (see `gigawatt catalog`)." + did_you_mean(aid, accel.index))
        return False
    missing = [f for f in fields if pd.isna(accel.at[aid, f])]
    if missing:
        names = {v[0]: k for k, v in _ACCEL_FIELDS.items()}
        scen = {"bf16_flop_per_s": "bf16_flops", "all_in_power_kw": "all_in_power",
                "purchase_price_usd": "purchase_price", "rental_price_usd_per_chip_hour": "rental_price",
                "committed_price_usd_per_chip_hour": "committed_price", "useful_life_years": "useful_life"}
        keys = [scen.get(m, names.get(m, m)) for m in missing]
        ctx.problem(f"accelerator '{aid}' has no {', '.join(keys)} in the catalog, needed {why}", path,
                     value=aid, expected="a figure for each (the catalog leaves unpublished figures empty)",
                     fix=f"set accelerators.{aid}.{keys[0]} (and the others) in the scenario, with a source")
        return False
    return True


def build_purchase_max(ctx: BuildContext, accel: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(np.inf, index=accel.index, columns=ctx.periods)
    for aid, spec in ctx.sc.accelerators.items():
        if spec.purchase_max is not None:
            out.loc[aid] = ctx.series(spec.purchase_max, "accelerators", aid, "purchase_max")
    return out
