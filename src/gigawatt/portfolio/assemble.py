"""The portfolio build as a list of sections: each one function of the scenario (through the shared
``BuildContext``) and of named outputs of the sections before it. ``run`` runs them in order, the same
list for a full build and for a rebuild that reuses sections (portfolio/reuse.py); ``dataset`` puts the
arrays over the shared dimensions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.errors import ScenarioError
from gigawatt.portfolio.accelerators import REFERENCE_ACCELERATOR, build_accelerators, build_purchase_max
from gigawatt.portfolio.context import BuildContext
from gigawatt.portfolio.contracts import build_deals, contract_rows, contracts_from_rows
from gigawatt.portfolio.finance import build_finance
from gigawatt.portfolio.sites import site_owners, site_rows, sites_table
from gigawatt.portfolio.supply import (contract_options, lease_options, options_arrays, options_table, own_options,
                                      supply_offtake, with_offtake)
from gigawatt.portfolio.targets import build_targets
from gigawatt.portfolio.workloads import build_workloads, check_servable, efficiency, eligibility


@dataclass(frozen=True)
class Section:
    """``fn(ctx, *outputs named by args)`` returns the outputs named by ``outs`` (a tuple, in order).
    ``patch``: the section builds a table from rows (its one argument) indexed by this key; a rebuild may
    change the cells that differ in a copy of the previous table instead (``reuse.patch_table``)."""

    name: str
    fn: Callable
    args: tuple[str, ...]
    outs: tuple[str, ...]
    patch: str | None = None


def _one(fn):
    return lambda ctx, *args: (fn(ctx, *args),)


def _used(ctx: BuildContext, accel: pd.DataFrame, rows: pd.DataFrame, purchase_max: pd.DataFrame,
          purchase_min: pd.DataFrame) -> tuple:
    """Accelerators some option uses: their ids, their table (with the reference H100) and purchase limits."""
    used = sorted(set(rows["accelerator"]))
    return (used, accel.loc[sorted(set(used) | {REFERENCE_ACCELERATOR})],
            purchase_max.loc[used].to_numpy(), purchase_min.loc[used].to_numpy())


# In the order the scenario is checked; every problem of these is raised together, then those of AFTER.
SECTIONS = (
    Section("accelerators", _one(build_accelerators), (), ("accel",)),
    Section("site_rows", site_rows, ("accel",), ("site_rows", "power_max", "power_existing")),
    Section("sites", _one(sites_table), ("site_rows",), ("sites",), patch="site"),
    Section("owners", lambda ctx, rows: (site_owners(rows),), ("site_rows",), ("owners",)),
    Section("own", own_options, ("accel", "owners"), ("own_rows", "own_arrays")),
    Section("lease", lease_options, ("accel",), ("lease_rows", "lease_arrays")),
    Section("capacity", contract_options, ("accel",), ("capacity_rows", "capacity_arrays")),
    Section("options", _one(options_table), ("own_rows", "lease_rows", "capacity_rows"), ("rows",)),
    Section("option_arrays", _one(options_arrays), ("own_arrays", "lease_arrays", "capacity_arrays"), ("sup",)),
    Section("offtake", _one(supply_offtake), ("accel", "site_rows", "rows"), ("offtake",)),
    Section("workloads", build_workloads, ("accel", "rows"), ("workloads", "demand")),
    Section("deals", build_deals, ("accel",), ("deals", "purchase_min_all")),
    Section("purchase_max", _one(build_purchase_max), ("accel",), ("purchase_max_all",)),
    Section("targets", build_targets, ("rows",), ("targets", "target_mask", "target_periods")),
    Section("finance", _one(build_finance), (), ("finance",)),
    Section("used", _used, ("accel", "rows", "purchase_max_all", "purchase_min_all"),
            ("used", "accelerators", "purchase_max", "purchase_min")),
    Section("supply_table", lambda ctx, rows, off: (with_offtake(rows, off),), ("rows", "offtake"), ("supply",)),
    Section("efficiency", _one(efficiency), ("accel", "rows", "workloads"), ("efficiency",)),
    Section("eligibility", _one(eligibility), ("rows", "workloads"), ("eligible",)),
    Section("contract_rows", _one(contract_rows), (), ("contract_rows",)),
    Section("contracts", _one(contracts_from_rows), ("contract_rows",), ("contracts",), patch="contract"),
)
CHECKED = "finance"  # the problems of the sections up to this one are raised before the rest run
AFTER = (Section("servable", lambda ctx, *a: (check_servable(ctx, *a),),
                 ("eligible", "efficiency", "demand", "workloads"), ("servable",)),)


def raise_problems(ctx: BuildContext) -> None:
    if ctx.problems:
        raise ScenarioError(ctx.problems, title="scenario has inconsistent references or values")


def run(ctx: BuildContext, runner=None) -> dict:
    """Every section's outputs by name; ``runner(section, args)`` returns a section's outputs (default:
    call it). Raises the scenario's problems as a full build does: those of the sections up to
    ``CHECKED`` first, then those of the rest."""
    values: dict = {}
    for section in (*SECTIONS, *AFTER):
        args = tuple(values[a] for a in section.args)
        outs = runner(section, args) if runner else section.fn(ctx, *args)
        values.update(zip(section.outs, outs))
        if section.name == CHECKED:
            raise_problems(ctx)
    raise_problems(ctx)
    return values


def arrays(ctx: BuildContext, v: dict) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    """The Dataset's variables: dimensions and values, in its order."""
    return {
        "site_power_max_mw": (("site", "period"), v["power_max"]),
        "site_power_existing_mw": (("site", "period"), v["power_existing"]),
        "demand_h100e_hours": (("workload", "period"), v["demand"]),
        "purchase_max_chips": (("accelerator", "period"), v["purchase_max"]),
        "purchase_min_cumulative_chips": (("accelerator", "period"), v["purchase_min"]),
        "target_group": (("target", "supply"), v["target_mask"]),
        "target_active": (("target", "period"), v["target_periods"]),
        **{k: (("supply", "period"), a) for k, a in v["sup"].items()},
        **{k: (("period",), a) for k, a in v["finance"].items()},
        "hours": (("period",), ctx.hours),
        "discount_factor": (("period",), ctx.discount_factor),
        "efficiency_h100e_hours_per_chip": (("supply", "workload", "period"), v["efficiency"]),
        "eligible": (("supply", "workload"), v["eligible"]),
    }


COORD_SOURCES = ("sites", "workloads", "used", "rows", "targets")  # the outputs ``coords`` reads (and the horizon)


def coords(ctx: BuildContext, v: dict) -> dict[str, np.ndarray]:
    return {"site": v["sites"].index.to_numpy(dtype=object), "period": ctx.periods.to_numpy(dtype=object),
            "workload": v["workloads"].index.to_numpy(dtype=object),
            "accelerator": np.array(v["used"], dtype=object),
            "supply": v["rows"].index.to_numpy(dtype=object), "target": v["targets"].index.to_numpy(dtype=object)}


def dataset(ctx: BuildContext, v: dict) -> xr.Dataset:
    variables = arrays(ctx, v)
    late = {k: variables.pop(k) for k in ("efficiency_h100e_hours_per_chip", "eligible")}
    data = xr.Dataset(variables, coords=coords(ctx, v))
    for k, var in late.items():
        data[k] = var
    return data


TABLES = ("accelerators", "sites", "supply", "workloads", "deals", "contracts", "targets")

__all__ = ["AFTER", "SECTIONS", "Section", "TABLES", "arrays", "coords", "dataset", "run"]
