"""Workloads: demand in H100e-hours per period, what each supply option delivers per chip for each
workload, which options a workload accepts, and the check that every workload with demand can be served.

A workload runs at a precision (bf16 unless it states fp8 or fp4) and is counted in H100e-hours *at that
precision*: one hour of an H100's dense peak at the precision (``h100e_peak_flop_per_s``) of useful model
FLOP. A chip's credit for it is its dense peak at the precision (with the fallback of ``peak_at``) over the
H100's, times its utilisation (the workload's if it states one, else the chip's catalog figure for the kind)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gigawatt.errors import did_you_mean
from gigawatt.portfolio.accelerators import REFERENCE_ACCELERATOR, h100e_peak_flop_per_s, need, peak_at
from gigawatt.portfolio.context import BuildContext


def _util_column(kind: str) -> str:
    return "utilisation_inference" if kind == "inference" else "utilisation_training"


def build_workloads(ctx: BuildContext, accel: pd.DataFrame, supply: pd.DataFrame):
    cfg = ctx.sc.config.solve
    rows, demand = [], []
    ref_ok = need(ctx, accel, REFERENCE_ACCELERATOR, ["utilisation_training", "utilisation_inference"],
                       "as the H100-hour reference", ("accelerators",))
    unit_peak = h100e_peak_flop_per_s()
    for wname, w in ctx.sc.workloads.items():
        path = ("workloads", wname)
        util_col = _util_column(w.kind)
        for a in sorted(set(supply["accelerator"])):
            if w.utilisation is None and a in accel.index and (w.accelerators is None or a in w.accelerators):
                need(ctx, accel, a, [util_col], f"to serve {w.kind} workload '{wname}'", path)
        for listname, known in (("accelerators", accel.index), ("providers", list(ctx.sc.providers))):
            for name in getattr(w, listname) or []:
                if name not in known:
                    ctx.problem(f"unknown {listname[:-1]} '{name}'", path + (listname,), value=name,
                                 expected=f"a known {listname[:-1]} id",
                                 fix="correct the name." + did_you_mean(name, known))
        raw = ctx.series(w.demand, *path, "demand")
        if (raw < 0).any():
            ctx.problem("negative demand", path + ("demand",), value=float(raw.min()), expected="demand ≥ 0",
                         fix="demand is compute needed per period; use 0 for none")
        peak = float(unit_peak[w.precision])
        if w.utilisation is not None:
            u_ref = w.utilisation
        else:
            u_ref = accel.at[REFERENCE_ACCELERATOR, util_col] if ref_ok else np.nan
        unit = w.demand.unit
        if unit == "FLOP":
            d = raw / (peak * 3600.0)
        elif unit == "FLOP/s":
            d = raw * ctx.hours / peak
        else:  # H100_hour: hours of an H100 at the workload's precision and utilisation
            d = raw * u_ref
        demand.append(d)
        rows.append({"workload": wname, "kind": w.kind, "precision": w.precision,
                     "utilisation": np.nan if w.utilisation is None else w.utilisation,
                     "utilisation_h100": u_ref, "flop_per_h100e_hour": peak * 3600.0,
                     "unmet_penalty_usd_per_h100_hour": w.unmet_penalty if w.unmet_penalty is not None
                     else cfg.unmet_penalty,
                     "revenue_per_h100_hour_usd": w.revenue_per_h100_hour or 0.0})
    workloads = pd.DataFrame(rows, columns=["workload", "kind", "precision", "utilisation", "utilisation_h100",
                                            "flop_per_h100e_hour", "unmet_penalty_usd_per_h100_hour",
                                            "revenue_per_h100_hour_usd"]).set_index("workload")
    return workloads, np.array(demand).reshape(len(workloads), ctx.horizon.n)


def h100e_per_chip_hour(accel: pd.DataFrame, accelerators, workloads: pd.DataFrame) -> np.ndarray:
    """(accelerator-of-each-option × workload): H100e-hours one chip-hour delivers, at the workload's precision,

        peak[a, p_w] / peak[H100, p_w] × u[a, w]

    with peak after the fallback (``peak_at``), the H100's from the catalog (``h100e_peak_flop_per_s``) and
    u the workload's utilisation where it states one, else the chip's catalog utilisation for its kind. A
    missing utilisation counts as 0 (``need`` has already reported it)."""
    a = np.asarray(accelerators, dtype=object)
    prec = workloads["precision"].to_numpy(dtype=object)
    peaks = peak_at(accel).loc[a, list(prec)].to_numpy(dtype=float).reshape(len(a), len(prec))
    unit = h100e_peak_flop_per_s().loc[list(prec)].to_numpy(dtype=float)
    cols = [_util_column(k) for k in workloads["kind"]]
    u_cat = accel.loc[a, cols].to_numpy(dtype=float).reshape(len(a), len(cols))
    u_w = workloads["utilisation"].to_numpy(dtype=float)
    util = np.where(np.isnan(u_w)[None, :], u_cat, u_w[None, :])
    return peaks / unit[None, :] * np.nan_to_num(util, nan=0.0)


def efficiency(ctx: BuildContext, accel, supply, workloads) -> np.ndarray:
    """H100e-hours of useful compute per chip per period: ``h100e_per_chip_hour`` × hours (supply × workload × period)."""
    per_hour = h100e_per_chip_hour(accel, supply["accelerator"].to_numpy(), workloads)
    return per_hour[:, :, None] * ctx.hours[None, None, :]


def eligibility(ctx: BuildContext, supply, workloads) -> np.ndarray:
    out = np.ones((len(supply), len(workloads)), dtype=bool)
    for j, (wname, _) in enumerate(workloads.iterrows()):
        w = ctx.sc.workloads[wname]
        if w.accelerators is not None:
            out[:, j] &= supply["accelerator"].isin(w.accelerators).to_numpy()
        if w.providers is not None:
            out[:, j] &= supply["provider"].isin(w.providers).to_numpy()
    return out


def check_servable(ctx: BuildContext, eligible: np.ndarray, eff: np.ndarray, demand: np.ndarray,
                   workloads: pd.DataFrame) -> None:
    """Problem for each workload with demand that no option can serve: none both eligible for it and
    delivering compute (efficiency > 0) in some period. ``eligible`` (supply × workload), ``eff`` (supply ×
    workload × period), ``demand`` (workload × period)."""
    useful = (eligible & (eff > 0).any(axis=2)).any(axis=0)
    for j, wname in enumerate(workloads.index):
        if not bool(useful[j]) and float(np.nansum(demand[j])) > 0:
            ctx.problem(f"workload '{wname}' has demand but no supply option can serve it",
                         ("workloads", wname), expected="at least one site, offer or contract whose accelerator "
                         "and provider the workload accepts", fix="add an offer or site, or widen the "
                         "workload's accelerators/providers lists")
