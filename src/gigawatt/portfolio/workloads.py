"""Workloads: demand in H100e-hours per period, what each supply option delivers per chip for each
workload, which options a workload accepts, and the check that every workload with demand can be served."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt import units
from gigawatt.errors import did_you_mean
from gigawatt.portfolio.accelerators import H100E_HOUR_FLOP, REFERENCE_ACCELERATOR, need
from gigawatt.portfolio.context import BuildContext


def build_workloads(ctx: BuildContext, accel: pd.DataFrame, supply: pd.DataFrame):
    cfg = ctx.sc.config.solve
    rows, demand = [], []
    ref_ok = need(ctx, accel, REFERENCE_ACCELERATOR, ["utilisation_training", "utilisation_inference"],
                       "as the H100-hour reference", ("accelerators",))
    for wname, w in ctx.sc.workloads.items():
        path = ("workloads", wname)
        util_col = "utilisation_inference" if w.kind == "inference" else "utilisation_training"
        for a in sorted(set(supply["accelerator"])):
            if a in accel.index and (w.accelerators is None or a in w.accelerators):
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
        unit = w.demand.unit
        u_ref = accel.at[REFERENCE_ACCELERATOR, util_col] if ref_ok else np.nan
        if unit == "FLOP":
            d = raw / H100E_HOUR_FLOP
        elif unit == "FLOP/s":
            d = raw * ctx.hours / units.H100_PEAK_BF16_FLOP_PER_S
        else:  # H100_hour: hours of an H100 at its catalog utilisation for this kind
            d = raw * u_ref
        demand.append(d)
        rows.append({"workload": wname, "kind": w.kind, "utilisation_h100": u_ref,
                     "unmet_penalty_usd_per_h100_hour": w.unmet_penalty if w.unmet_penalty is not None
                     else cfg.unmet_penalty,
                     "revenue_per_h100_hour_usd": w.revenue_per_h100_hour or 0.0})
    workloads = pd.DataFrame(rows).set_index("workload")
    return workloads, np.array(demand).reshape(len(workloads), ctx.horizon.n)


def efficiency(ctx: BuildContext, accel, supply, workloads) -> np.ndarray:
    """H100e-hours of useful compute per chip per period: bf16 / 989 TFLOP/s × utilisation × hours."""
    a = supply["accelerator"].to_numpy()
    peak = accel.loc[a, "bf16_flop_per_s"].to_numpy() / units.H100_PEAK_BF16_FLOP_PER_S
    util = np.stack([accel.loc[a, "utilisation_inference" if k == "inference" else "utilisation_training"]
                     .to_numpy(dtype=float) for k in workloads["kind"]], axis=1) if len(workloads) else None
    eff = (peak[:, None] * np.nan_to_num(util, nan=0.0))[:, :, None] * ctx.hours[None, None, :]
    return eff


def eligibility(ctx: BuildContext, supply, workloads) -> np.ndarray:
    out = np.ones((len(supply), len(workloads)), dtype=bool)
    for j, (wname, _) in enumerate(workloads.iterrows()):
        w = ctx.sc.workloads[wname]
        if w.accelerators is not None:
            out[:, j] &= supply["accelerator"].isin(w.accelerators).to_numpy()
        if w.providers is not None:
            out[:, j] &= supply["provider"].isin(w.providers).to_numpy()
    return out


def check_servable(ctx: BuildContext, data: xr.Dataset, workloads: pd.DataFrame) -> None:
    useful = (data["eligible"] & (data["efficiency_h100e_hours_per_chip"] > 0).any("period")).any("supply")
    for wname in workloads.index:
        if not bool(useful.sel(workload=wname)) and float(data["demand_h100e_hours"].sel(workload=wname).sum()) > 0:
            ctx.problem(f"workload '{wname}' has demand but no supply option can serve it",
                         ("workloads", wname), expected="at least one site, offer or contract whose accelerator "
                         "and provider the workload accepts", fix="add an offer or site, or widen the "
                         "workload's accelerators/providers lists")
