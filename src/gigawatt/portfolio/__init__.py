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

import pandas as pd
import xarray as xr

from gigawatt.catalog import PUE_REFERENCE
from gigawatt.duckarrays import defer_dask
from gigawatt.errors import GigawattWarning
from gigawatt.periods import Horizon
from gigawatt.portfolio import assemble
from gigawatt.portfolio.accelerators import H100E_HOUR_FLOP, REFERENCE_ACCELERATOR
from gigawatt.portfolio.context import BuildContext, term_end
from gigawatt.portfolio.reuse import PortfolioCache, process_cache
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
    def from_scenario(cls, scenario: Scenario, resolved: Resolved | None = None, *,
                      reuse: bool | PortfolioCache = False) -> "Portfolio":
        """The portfolio of a validated scenario. ``reuse``: rebuild only the sections whose inputs differ
        from the previous scenario built with the same cache (True: this process's, for sweep workers; see
        portfolio/reuse.py); the result equals a full build."""
        if reuse is False:
            return _assemble(BuildContext(scenario, resolved))
        cache = process_cache() if reuse is True else reuse
        return cls(**cache.fields(scenario, resolved))

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
    """Every section in the order the scenario is checked (``assemble.SECTIONS``), then one Dataset over
    the shared dimensions."""
    v = assemble.run(ctx)
    return Portfolio(scenario=ctx.sc, resolved=ctx.resolved, horizon=ctx.horizon, data=assemble.dataset(ctx, v),
                     warnings=ctx.warnings, **{k: v[k] for k in assemble.TABLES})


def build(scenario: Scenario, resolved: Resolved | None = None) -> Portfolio:
    """Portfolio from a validated scenario (see :meth:`Portfolio.from_scenario`)."""
    return Portfolio.from_scenario(scenario, resolved)


__all__ = ["Portfolio", "PortfolioCache", "build", "term_end", "H100E_HOUR_FLOP", "REFERENCE_ACCELERATOR", "PUE_REFERENCE",
           "GigawattWarning"]
