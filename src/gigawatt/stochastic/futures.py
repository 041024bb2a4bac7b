"""Futures: draws of the scenario's ``uncertainty`` section turned into the portfolio arrays of each future.

A future is one draw of every driver and event over the horizon, taken with the sampler, seed and
correlations of ``gigawatt simulate`` (:class:`gigawatt.risk.sample.Sampler`): draw ``i`` of seed ``s``
is the same numbers here as there, whatever the number of futures. Each future scales the base
``Portfolio.data`` (demand, exogenous revenue, lease and contract prices, site energy prices, other
costs) and applies its events as simulate does (stochastic/events.py). Events the extensive form does
not model (a non-firm supply deal's failure) are listed in :attr:`Futures.ignored` (docs/stochastic.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.errors import Problem, ScenarioError
from gigawatt.portfolio import Portfolio
from gigawatt.risk.sample import Sampler, price_options
from gigawatt.stochastic.events import apply_event

FUTURE_NAME = "f{:04d}"


@dataclass
class Futures:
    """N futures: the portfolio with the arrays that differ carrying a ``future`` dimension."""

    portfolio: Portfolio  # data with a `future` dimension on the uncertain arrays
    probability: xr.DataArray  # (future,), sums to 1
    seed: int
    factors: pd.DataFrame  # one row per future: each driver's mean factor and each event (0/1)
    ignored: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.probability.sizes["future"])

    def mean(self) -> Portfolio:
        """The expected-value portfolio: every uncertain array at its probability-weighted mean."""
        d = self.portfolio.data
        mean = d.map(lambda v: (v * self.probability).sum("future") if "future" in v.dims else v)
        mean = mean.drop_vars("future", errors="ignore")
        return replace(self.portfolio, data=mean)

    def select(self, futures) -> "Futures":
        """The futures named ``futures``, their probabilities renormalised."""
        p = self.probability.sel(future=list(futures))
        data = self.portfolio.data.sel(future=list(futures))
        return Futures(replace(self.portfolio, data=data), p / float(p.sum()), self.seed,
                       self.factors.loc[list(futures)], self.ignored)


def draw_futures(portfolio: Portfolio, n: int, seed: int | None = None) -> Futures:
    """``n`` equally likely futures from ``portfolio.scenario.uncertainty`` (seed: its ``seed`` by default)."""
    unc = portfolio.scenario.uncertainty
    if n < 1:
        raise ScenarioError(Problem("too few futures", path="--futures", value=n, expected="at least 1",
                                    fix="e.g. --futures 20"), title="bad option")
    if not unc.drivers and not unc.events:
        raise ScenarioError(Problem("no uncertainty to hedge against", path="uncertainty", value="(empty)",
                                    expected="drivers or events (docs/risk.md)",
                                    fix="add an uncertainty section, or use `gigawatt solve`"),
                            title="nothing is uncertain")
    seed = unc.seed if seed is None else int(seed)
    cal = portfolio.horizon.table["year"].to_numpy()
    years = sorted(set(int(y) for y in cal))
    slot = np.array([years.index(int(y)) for y in cal])
    sample = Sampler(unc, len(years)).sample(seed, 0, n)
    names = pd.Index([FUTURE_NAME.format(i) for i in range(n)], name="future")
    periods = portfolio.data.indexes["period"]

    def path(name: str) -> xr.DataArray:  # (period, future) multiplier of a driver
        f = sample.factors[name]
        values = f[slot] if f.shape[0] > 1 else np.broadcast_to(f[0], (len(slot), n))
        return xr.DataArray(values, coords={"period": periods, "future": names})

    d = portfolio.data.copy()
    ignored: list[str] = []
    for name, drv in unc.drivers.items():
        d = _apply_driver(portfolio, d, name, drv, path(name))
    for name, ev in unc.events.items():
        hit = xr.DataArray(sample.events[name].astype(float), coords={"future": names})
        d, note = apply_event(portfolio, d, name, ev, hit)
        if note:
            ignored.append(note)
    factors = pd.DataFrame({k: v.mean(axis=0) for k, v in sample.factors.items()}, index=names)
    for k, v in sample.events.items():
        factors[k] = v.astype(int)
    prob = xr.DataArray(np.full(n, 1.0 / n), coords={"future": names})
    return Futures(replace(portfolio, data=d), prob, seed, factors, ignored)


def _apply_driver(portfolio: Portfolio, d: xr.Dataset, name: str, drv, f: xr.DataArray, *,
                  energy_per_period: bool = False) -> xr.Dataset:
    """Scale the arrays ``drv`` targets by its path ``f`` (period, future). ``energy_per_period``: an
    energy-price driver keeps its per-period factors (a scenario tree) instead of their horizon mean."""
    applies = drv.applies_to
    if drv.target == "demand":
        w = d.indexes["workload"]
        on = xr.DataArray(np.array([applies is None or x in applies for x in w]), coords={"workload": w})
        d["demand_h100e_hours"] = d["demand_h100e_hours"] * xr.where(on, f, 1.0)
    elif drv.target == "revenue":
        rates = portfolio.workloads["revenue_per_h100_hour_usd"]
        per_unit = [x for x in rates.index[rates.to_numpy(dtype=float) != 0] if applies is None or x in applies]
        if per_unit:
            raise ScenarioError(Problem("revenue per unit of a workload is not yet uncertain in `gigawatt hedge`",
                                        path=f"uncertainty.drivers.{name}.applies_to", value=applies,
                                        expected="[exogenous]", fix="set applies_to: [exogenous]"),
                                title="not supported by hedge")
        if applies is None or "exogenous" in applies:
            d["revenue_usd"] = d["revenue_usd"] * f
    elif drv.target in ("price", "lease_price", "contract_price"):
        opts = set(price_options(portfolio, drv.target, applies))
        s = d.indexes["supply"]
        on = xr.DataArray(np.array([x in opts for x in s]), coords={"supply": s})
        for var in ("lease_price_usd_per_chip_hour", "contract_use_price_usd_per_chip_hour"):
            d[var] = d[var] * xr.where(on, f, 1.0)
    elif drv.target == "energy_price":
        sites = d.indexes["site"]
        on = xr.DataArray(np.array([applies is None or x in applies for x in sites]), coords={"site": sites})
        # a level driver (the only kind that makes sense for a price paid every period) scales every period
        # alike; per-year factors are averaged over the horizon (documented in docs/stochastic.md), except
        # in a tree, whose nodes differ per period
        factor = xr.where(on, f if energy_per_period else f.mean("period"), 1.0)
        old = d["energy_price_factor"] if "energy_price_factor" in d else xr.ones_like(factor)
        dims = ("site", "period", "future") if energy_per_period else ("site", "future")
        d["energy_price_factor"] = (old * factor).transpose(*dims)
    elif drv.target == "other_costs":
        from gigawatt.series import resolve

        for entry, spec in portfolio.scenario.finance.other_costs.items():
            if applies is None or entry in applies:
                base = xr.DataArray(resolve(spec, portfolio.horizon, path=f"finance.other_costs.{entry}",
                                            location=None, problems=[]), coords={"period": d.indexes["period"]})
                d["other_costs_usd"] = d["other_costs_usd"] + base * (f - 1.0)
    return d


__all__ = ["Futures", "draw_futures"]
