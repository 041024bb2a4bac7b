"""The validated scenario as tables and per-period arrays in canonical units, ready for the planner.

Supply options are the one dimension every decision shares (``supply``): chips owned at a site
(``own``: one per site × installable accelerator), chips rented on demand (``lease``: one per provider
offer) and capacity under a contract (``contract``: one per capacity contract). Units are the ones the
names carry; compute is counted in H100e-hours at each workload's precision: one hour of an H100 SXM's
dense peak at that precision (989 TFLOP/s BF16, 1,979 TFLOP/s FP8 and FP4) of useful model FLOP.

`Portfolio` is the one public face; each scenario section is turned into arrays by its own module
(accelerators, sites, supply, contracts, workloads, targets, finance), sharing a `BuildContext`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.catalog import PUE_REFERENCE
from gigawatt.duckarrays import defer_dask
from gigawatt.errors import GigawattWarning, ScenarioError
from gigawatt.periods import Horizon
from gigawatt.portfolio.accelerators import (H100E_HOUR_FLOP, REFERENCE_ACCELERATOR, build_accelerators,
                                             build_purchase_max)
from gigawatt.portfolio.context import BuildContext, term_end
from gigawatt.portfolio.contracts import build_deals, contract_table
from gigawatt.portfolio.finance import build_finance
from gigawatt.portfolio.sites import build_sites
from gigawatt.portfolio.supply import build_supply
from gigawatt.portfolio.targets import build_targets
from gigawatt.portfolio.workloads import build_workloads, check_servable, efficiency, eligibility
from gigawatt.scenario.resolved import Resolved
from gigawatt.scenario.schema import Scenario

defer_dask()  # xarray would import dask.array (~0.9 s) on the first array; gigawatt makes none


@dataclass
class Portfolio:
    """Everything the planner needs, in canonical units. Build with :meth:`from_scenario`."""

    scenario: Scenario
    resolved: Resolved | None
    horizon: Horizon
    accelerators: pd.DataFrame
    sites: pd.DataFrame
    supply: pd.DataFrame
    workloads: pd.DataFrame
    deals: pd.DataFrame
    contracts: pd.DataFrame
    targets: pd.DataFrame
    data: xr.Dataset
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_scenario(cls, scenario: Scenario, resolved: Resolved | None = None) -> "Portfolio":
        return _assemble(BuildContext(scenario, resolved))

    @classmethod
    def from_file(cls, path, *, scenario: str | None = None, sets: list[str] | None = None) -> "Portfolio":
        """Read (imports, the named ``scenario``, ``--set`` overrides ``sets``), validate and build a scenario
        YAML file; ``.resolved`` keeps the merged YAML. The one way the CLI and the Python API load a file."""
        from gigawatt.scenario.load import read
        from gigawatt.scenario.validate import validate

        resolved = read(path, scenario=scenario, sets=list(sets or []))
        return cls.from_scenario(validate(resolved), resolved)

    @property
    def periods(self) -> pd.Index:
        return pd.Index(self.horizon.labels, name="period")


def _assemble(ctx: BuildContext) -> Portfolio:
    """Every section in the order the scenario is checked, then one Dataset over the shared dimensions."""
    accel = build_accelerators(ctx)
    sites, power_max, power_existing = build_sites(ctx, accel)
    supply, sup = build_supply(ctx, accel, sites)
    workloads, demand = build_workloads(ctx, accel, supply)
    deals, purchase_min = build_deals(ctx, accel)
    purchase_max = build_purchase_max(ctx, accel)
    targets, target_mask, target_periods = build_targets(ctx, supply)
    finance = build_finance(ctx)
    if ctx.problems:
        raise ScenarioError(ctx.problems, title="scenario has inconsistent references or values")
    used_accel = sorted(set(supply["accelerator"]))
    data = xr.Dataset(
        {
            "site_power_max_mw": (("site", "period"), power_max),
            "site_power_existing_mw": (("site", "period"), power_existing),
            "demand_h100e_hours": (("workload", "period"), demand),
            "purchase_max_chips": (("accelerator", "period"), purchase_max.loc[used_accel].to_numpy()),
            "purchase_min_cumulative_chips": (("accelerator", "period"), purchase_min.loc[used_accel].to_numpy()),
            "target_group": (("target", "supply"), target_mask),
            "target_active": (("target", "period"), target_periods),
            **{k: (("supply", "period"), v) for k, v in sup.items()},
            **{k: (("period",), v) for k, v in finance.items()},
            "hours": (("period",), ctx.hours),
            "discount_factor": (("period",), ctx.horizon.table["discount_factor"].to_numpy()),
        },
        coords={"site": sites.index.to_numpy(dtype=object), "period": ctx.periods.to_numpy(dtype=object),
                "workload": workloads.index.to_numpy(dtype=object), "accelerator": np.array(used_accel, dtype=object),
                "supply": supply.index.to_numpy(dtype=object), "target": targets.index.to_numpy(dtype=object)},
    )
    eff = efficiency(ctx, accel, supply, workloads)
    data["efficiency_h100e_hours_per_chip"] = (("supply", "workload", "period"), eff)
    data["eligible"] = (("supply", "workload"), eligibility(ctx, supply, workloads))
    check_servable(ctx, data, workloads)
    if ctx.problems:
        raise ScenarioError(ctx.problems, title="scenario has inconsistent references or values")
    return Portfolio(scenario=ctx.sc, resolved=ctx.resolved, horizon=ctx.horizon,
                     accelerators=accel.loc[sorted(set(used_accel) | {REFERENCE_ACCELERATOR})],
                     sites=sites, supply=supply, workloads=workloads, deals=deals,
                     contracts=contract_table(ctx), targets=targets, data=data, warnings=ctx.warnings)


def build(scenario: Scenario, resolved: Resolved | None = None) -> Portfolio:
    """Portfolio from a validated scenario (see :meth:`Portfolio.from_scenario`)."""
    return Portfolio.from_scenario(scenario, resolved)


__all__ = ["Portfolio", "build", "term_end", "H100E_HOUR_FLOP", "REFERENCE_ACCELERATOR", "PUE_REFERENCE",
           "GigawattWarning"]
