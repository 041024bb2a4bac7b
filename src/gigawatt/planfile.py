"""plan.nc as a file for other tools (docs/files.md): the solved Dataset with units on every variable,
constraint duals in user units, periods with their start as a time coordinate and the attributes of each
supply option (provider, vendor, ...) as coordinates, so it opens cleanly in xarray::

    ds = xr.open_dataset("DIR/plan.nc")
    ds["chips"].groupby("supply_vendor").sum()          # chips in service by vendor
    ds["power_mw"].sum("supply").swap_dims(period="period_start")   # a time series

The LP is solved in scaled units (optimize/context.py: kchips, MUSD, MH100e-h); its duals are MUSD per
scaled row unit. In the file a dual ``dual_<Constraint>`` is in USD per unit of its limit (per chip, per MW,
per H100e-hour, per percentage point of share, per USD), present value at the horizon's start, with the sign
the solver gives. :func:`to_file` writes that form, :func:`from_file` restores the in-memory one.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.duckarrays import defer_dask
from gigawatt.periods import label_start

defer_dask()  # xarray would import dask.array (~0.9 s) on the first array; gigawatt makes none

PLAN_FILE_VERSION = 1

CHIP_SCALE, MONEY_SCALE = 1e3, 1e6  # optimize/context.py: chips in thousands, money in millions of USD

# constraint family -> (unit of its limit, USD per that unit per model unit of the dual)
DUALS: dict[str, tuple[str, float | None]] = {
    "Workload-demand": ("H100e-hour", 1.0),  # MUSD per MH100e-h
    "Own-chips-balance": ("chip", MONEY_SCALE / CHIP_SCALE),
    "Own-capacity": ("chip", MONEY_SCALE / CHIP_SCALE),
    "Lease-capacity": ("chip", MONEY_SCALE / CHIP_SCALE),
    "Contract-capacity": ("chip", MONEY_SCALE / CHIP_SCALE),
    "Accelerator-purchase-upper": ("chip", MONEY_SCALE / CHIP_SCALE),
    "Contract-supply-lower": ("chip", MONEY_SCALE / CHIP_SCALE),
    "Site-power-upper": ("MW", MONEY_SCALE),
    "Site-power-envelope": ("MW", MONEY_SCALE),
    "Site-power-build": ("MW", MONEY_SCALE),
    "Cash-balance": ("USD", 1.0),
    "Cash-floor": ("USD", 1.0),
    # per percentage point of the period's delivered compute: 0.01 × delivered H100e-hours / 1e6 MH100e-h
    "Share-target-lower": ("percentage point", None),
    "Share-target-upper": ("percentage point", None),
}
# the supply options', workloads' and targets' descriptions: coordinates in the file
DESCRIPTIONS = ("supply_kind", "supply_provider", "supply_site", "supply_accelerator", "supply_vendor",
                "supply_contract", "workload_kind", "target_basis")
_UNITS = {"marginal_cost_usd_per_h100_hour": "USD per H100-hour", "hours": "hours", "discount_factor": "1",
          "idle_share": "1", "workload_utilisation_h100": "1", "target_min_share": "1", "target_max_share": "1",
          "chips": "chips", "chips_bought": "chips"}
_SUFFIXES = (("_usd", "USD"), ("_mw", "MW"), ("_chips", "chips"), ("_h100e_hours", "H100e-hours"),
             ("_fraction", "1"))


def units_of(name: str, da: xr.DataArray) -> str | None:
    """The unit of a plan variable by its name (canonical units are in the names), None when unknown."""
    if name.startswith("dual_") and name[5:] in DUALS:
        return f"USD per {DUALS[name[5:]][0]}"
    if name in _UNITS:
        return _UNITS[name]
    if da.dtype == bool:
        return "1"
    return next((u for suffix, u in _SUFFIXES if name.endswith(suffix)), None)


def _share_scale(ds: xr.Dataset) -> xr.DataArray:
    """USD per percentage point per model unit of a share target's dual, by period."""
    scale = ds["delivered_h100e_hours"].sum(("supply", "workload")) * 0.01
    return scale.where(scale > 0, 1.0)  # no compute delivered: the dual stays as the model gives it


def _dual_scale(ds: xr.Dataset, family: str):
    scale = DUALS[family][1]
    return _share_scale(ds) if scale is None else scale


def to_file(ds: xr.Dataset) -> xr.Dataset:
    """The Dataset as plan.nc holds it (see the module docstring); ``ds`` is not changed."""
    out = ds.copy()
    for name in [n for n in out.data_vars if str(n).startswith("dual_") and str(n)[5:] in DUALS]:
        family = str(name)[5:]
        out[name] = out[name] * _dual_scale(ds, family)
        out[name].attrs.update(description=f"shadow price of {family}: USD per {DUALS[family][0]} of its limit, "
                                           "present value at the horizon's start")
    for name, da in out.data_vars.items():
        unit = units_of(str(name), da)
        if unit is not None:
            da.attrs["units"] = unit
    labels = [str(p) for p in out["period"].values]
    out = out.assign_coords(period_start=("period", np.array([label_start(p) for p in labels],
                                                             dtype="datetime64[ns]")))
    out["period_start"].attrs["description"] = "first instant of the period"
    out = out.set_coords([n for n in DESCRIPTIONS if n in out.data_vars])
    out.attrs["plan_file_version"] = PLAN_FILE_VERSION
    return out


def from_file(ds: xr.Dataset) -> xr.Dataset:
    """The in-memory Dataset of a plan.nc: duals back in model units, descriptions as variables. A file
    written before plan_file_version (duals in model units) passes unchanged."""
    if "plan_file_version" not in ds.attrs:
        return ds
    out = ds.reset_coords([n for n in DESCRIPTIONS if n in ds.coords]).drop_vars("period_start", errors="ignore")
    for name in [n for n in out.data_vars if str(n).startswith("dual_") and str(n)[5:] in DUALS]:
        attrs = dict(out[name].attrs)
        out[name] = out[name] / _dual_scale(out, str(name)[5:])
        out[name].attrs = {k: v for k, v in attrs.items() if k not in ("units", "description")}
    out.attrs = {k: v for k, v in out.attrs.items() if k != "plan_file_version"}
    return out


__all__ = ["to_file", "from_file", "units_of", "DUALS", "PLAN_FILE_VERSION"]
