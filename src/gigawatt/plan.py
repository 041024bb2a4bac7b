"""Plan: the solved Dataset, its statistics accessor, binding constraints and summary.json.

A Plan never holds linopy objects: it is an xarray Dataset (``plan.ds``) in canonical units plus the
portfolio it was solved from, so it round-trips through NetCDF.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.portfolio import Portfolio

# What relaxing each constraint family means, the unit its shadow price is per, and the scale from the
# model's dual (MUSD per scaled unit) to USD per that unit.
RELAXABLE = {
    "Site-power-envelope": ("one more MW of power_max at site {site} in {period}", "MW", 1e6),
    "Site-power-upper": ("one more MW energised at site {site} in {period}", "MW", 1e6),
    "Lease-capacity": ("one more chip rentable from {supply} in {period}", "chip", 1e3),
    "Contract-capacity": ("one more chip of capacity under {supply} in {period}", "chip", 1e3),
    "Accelerator-purchase-upper": ("one more {accelerator} chip purchasable in {period}", "chip", 1e3),
    "Contract-supply-lower": ("one chip fewer that firm deals force for {accelerator} by {period}", "chip", 1e3),
    "Share-target-lower": ("one percentage point less of share target {target} in {period}", "pp", None),
    "Share-target-upper": ("one percentage point more of share cap {target} in {period}", "pp", None),
    "Cash-floor": ("one more dollar of funding available by {period}", "USD", 1.0),
}
BINDING_TOL_USD = 1e-3


def _unit(frame, unit: str):
    """Label a statistics table with its unit (``frame.attrs["unit"]``; per cell, periods as rows)."""
    frame.attrs["unit"] = unit
    return frame


class Plan:
    """A solved plan. ``ds`` holds decisions and derived quantities; ``stats`` summarises them."""

    def __init__(self, ds: xr.Dataset, portfolio: Portfolio | None = None):
        self.ds = ds
        self.portfolio = portfolio
        self.stats = PlanStatistics(self)

    @property
    def status(self) -> str:
        return str(self.ds.attrs.get("status", "unknown"))

    @property
    def objective_usd(self) -> float:
        return float(self.ds.attrs["objective_usd"])

    @property
    def periods(self) -> list[str]:
        return [str(p) for p in self.ds["period"].values]

    def supply_table(self) -> pd.DataFrame:
        """Provider, site, accelerator, vendor and kind of each supply option."""
        cols = ["kind", "provider", "site", "accelerator", "vendor", "contract"]
        return pd.DataFrame({c: self.ds[f"supply_{c}"].values for c in cols},
                            index=pd.Index(self.ds["supply"].values, name="supply"))


def attach_supply_table(ds: xr.Dataset, portfolio: Portfolio) -> None:
    """Store the supply options' attributes in the Dataset so a saved plan is self-describing."""
    sup = portfolio.supply.loc[ds["supply"].values]
    for c in ["kind", "provider", "site", "accelerator", "vendor", "contract"]:
        ds[f"supply_{c}"] = ("supply", sup[c].astype(str).to_numpy(dtype=object))
    ws = portfolio.workloads.loc[ds["workload"].values]
    ds["workload_kind"] = ("workload", ws["kind"].astype(str).to_numpy(dtype=object))
    ds["workload_precision"] = ("workload", ws["precision"].astype(str).to_numpy(dtype=object))
    ds["workload_utilisation_h100"] = ("workload", ws["utilisation_h100"].to_numpy(dtype=float))


class PlanStatistics:
    """Statistics of a plan as pandas objects (periods as the index). Methods share keyword arguments.
    Each table names its unit in ``attrs["unit"]`` (chips, MW, GW, H100e-hours, USD, fraction, ...)."""

    def __init__(self, plan: Plan):
        self._plan = plan

    @property
    def _ds(self) -> xr.Dataset:
        return self._plan.ds

    def _by(self, da: xr.DataArray, by: str) -> pd.DataFrame:
        """Sum a (supply, period) array over supply options grouped by an attribute."""
        if by == "supply":
            return da.transpose("period", "supply").to_pandas()
        key = self._ds[f"supply_{by}"]
        out = da.groupby(key.rename(by)).sum("supply")
        return out.transpose("period", by).to_pandas()

    def capacity(self, by: str = "provider", unit: str = "chips") -> pd.DataFrame:
        """Capacity in service per period, in chips or MW (``unit``)."""
        if unit == "chips":
            da = self._ds["chips"]
        elif unit == "mw":
            da = self._ds["power_mw"]
        else:
            raise ValueError(f"unit must be chips or mw, not {unit!r}")
        return _unit(self._by(da, by), "chips" if unit == "chips" else "MW")

    def power_gw(self) -> pd.Series:
        """All-in power of every chip in service (owned, rented and contracted), GW per period."""
        return _unit((self._ds["power_mw"].sum("supply").to_pandas() / 1e3).rename("power_gw"), "GW")

    def delivered(self, by: str = "provider") -> pd.DataFrame:
        """Useful compute delivered, H100e-hours per period (each workload's at its precision, docs/formulation.md), as attributed to the options by the stated rule
        (gigawatt.optimize.attribution: the used share of each option's chips; it does not depend on which of
        several equally cheap dispatches the solver returned). Plans saved before the rule: the dispatch."""
        name = "attributed_h100e_hours" if "attributed_h100e_hours" in self._ds else "delivered_h100e_hours"
        da = self._ds[name]
        return _unit(self._by(da.sum("workload") if "workload" in da.dims else da, by), "H100e-hours")

    def dispatched(self, by: str = "provider") -> pd.DataFrame:
        """The LP's own dispatch, H100e-hours per period (one of possibly many optimal dispatches)."""
        return _unit(self._by(self._ds["delivered_h100e_hours"].sum("workload"), by), "H100e-hours")

    def spend(self, by: str = "provider") -> pd.DataFrame:
        """Cash spent per period on each option's capacity: chips bought, their energy, rentals and contract
        payments (USD; the sites' facility capex serves every option and is left out)."""
        ds = self._ds
        total = xr.zeros_like(ds["chips"])
        for k in ("capex_chips", "energy", "lease", "contract"):
            if f"cost_{k}_usd" in ds:
                total = total + ds[f"cost_{k}_usd"].reindex(supply=ds["supply"].values, fill_value=0.0)
        return _unit(self._by(total, by), "USD")

    def shares(self, by: str = "provider", basis: str = "compute") -> pd.DataFrame:
        """Share per period (rows sum to 1 where the total is positive) on a basis: ``compute`` (attributed
        delivered compute, H100e-hours), ``power`` (MW of chips in service) or ``spend`` (:meth:`spend`)."""
        if basis == "compute":
            d = self.delivered(by)
        elif basis == "power":
            d = self.capacity(by, "mw")
        elif basis == "spend":
            d = self.spend(by)
        else:
            raise ValueError(f"basis must be compute, power or spend, not {basis!r}")
        total = d.sum(axis=1)
        return _unit(d.div(total.where(total > 0), axis=0).fillna(0.0), "fraction")

    def idle(self) -> pd.DataFrame:
        """Idle capacity per period (gigawatt.optimize.attribution): ``fraction`` of chips in service, ``power_fraction``,
        ``chips``, ``cost_usd`` and ``cost_fraction`` (of the fleet's economic cost)."""
        ds = self._ds
        if "idle_fraction" not in ds:
            return pd.DataFrame(index=self._plan.periods, columns=["fraction", "power_fraction", "chips",
                                                                   "cost_usd", "cost_fraction"], dtype=float)
        cols = {"fraction": "idle_fraction", "power_fraction": "idle_power_fraction", "chips": "idle_chips",
                "cost_usd": "cost_idle_usd", "cost_fraction": "idle_cost_fraction"}
        return _unit(pd.DataFrame({k: ds[v].to_pandas() for k, v in cols.items() if v in ds}),
                     "per column: fraction, chips, cost_usd in USD")

    def cost(self, by: str = "category") -> pd.DataFrame:
        """Cash cost per period by category (capex_chips, capex_sites, lease, contract, energy), or the
        economic cost (depreciation, energy, lease, contract) by workload, with idle capacity apart."""
        ds = self._ds
        if by == "category":
            cols = {}
            for k in ("capex_chips", "capex_sites", "lease", "contract", "energy"):
                name = f"cost_{k}_usd"
                if name in ds:
                    v = ds[name]
                    v = v.sum("supply") if "supply" in v.dims else v.sum("site")
                    cols[k] = v.to_pandas()
                else:
                    cols[k] = pd.Series(0.0, index=self._plan.periods)
            return _unit(pd.DataFrame(cols), "USD")
        if by == "workload":
            out = ds["cost_by_workload_usd"].transpose("period", "workload").to_pandas()
            out["idle"] = ds["cost_idle_usd"].to_pandas()
            if "depreciation_sites_usd" in ds:
                out["sites"] = ds["depreciation_sites_usd"].sum("site").to_pandas()
            return _unit(out, "USD")
        if by == "kind":
            out = self.cost("workload").drop(columns=["idle", "sites"], errors="ignore")
            kinds = self._ds["workload_kind"].to_pandas()
            return _unit(out.T.groupby(kinds).sum().T, "USD")
        raise ValueError(f"by must be category, workload or kind, not {by!r}")

    def unmet(self) -> pd.DataFrame:
        """Unmet share of demand per workload and period (0 where demand is 0)."""
        d = self._ds["demand_h100e_hours"]
        u = self._ds["unmet_h100e_hours"]
        return _unit((u / d.where(d > 0)).fillna(0.0).transpose("period", "workload").to_pandas(), "fraction")

    def marginal_cost(self) -> pd.DataFrame:
        """USD per H100-hour (an H100 at its catalog utilisation for the workload's kind), per period."""
        if "marginal_cost_usd_per_h100_hour" not in self._ds:
            return _unit(pd.DataFrame(index=self._plan.periods), "USD per H100-hour")
        return _unit(self._ds["marginal_cost_usd_per_h100_hour"].transpose("period", "workload").to_pandas(),
                     "USD per H100-hour")

    def targets(self) -> pd.DataFrame:
        """Each share target's achieved share per period beside its bounds."""
        ds = self._ds
        if "target_group" not in ds or ds.sizes.get("target", 0) == 0:
            return pd.DataFrame(columns=["target", "period", "share", "min_share", "max_share", "basis", "active"])
        # each target on its basis; compute as its constraint holds it (the LP's dispatch)
        basis = ds["target_basis"] if "target_basis" in ds else xr.full_like(ds["target_min_share"], "compute",
                                                                               dtype=object)
        spend = self.spend("supply")
        measures = {"compute": ds["delivered_h100e_hours"].sum("workload"), "power": ds["power_mw"],
                    "spend": xr.DataArray(spend.to_numpy().T, coords={"supply": spend.columns.to_numpy(),
                                                                      "period": ds["period"].values})}
        share = None
        for b, meas in measures.items():
            total = meas.sum("supply")
            s_b = (meas * ds["target_group"]).sum("supply") / total.where(total > 0)
            share = s_b.where(basis == b) if share is None else share.fillna(s_b.where(basis == b))
        df = share.rename("share").to_dataframe().reset_index()
        df["min_share"] = df["target"].map(ds["target_min_share"].to_pandas())
        df["max_share"] = df["target"].map(ds["target_max_share"].to_pandas())
        df["basis"] = df["target"].map(basis.to_pandas())
        act = ds["target_active"].to_dataframe().reset_index()
        return df.merge(act, on=["target", "period"]).rename(columns={"target_active": "active"})

    def binding(self, top: int | None = None) -> pd.DataFrame:
        """Constraints at their limit with what relaxing each is worth, in the period's money (``value_usd``)
        and in present value (``pv_usd``), per unit of the sentence.

        Where the plan was confirmed (``optimize(confirm_binding=k)``: the k most valuable relaxations
        re-solved), the re-solve's saving replaces the dual's and rows that save nothing are dropped
        (``confirmed``: True; the others: False, the dual's promise unchecked). Entries of one family and
        period with the same value are one row naming every entity."""
        ds = self._ds
        cand = binding_candidates(ds)
        cols = ["constraint", "relaxation", "unit", "value_usd", "pv_usd", "confirmed", "period"]
        if cand.empty:
            return pd.DataFrame(columns=cols)
        import json

        checked = {}
        for r in json.loads(ds.attrs.get("binding_confirmed", "[]") or "[]"):
            checked[(r["constraint"], tuple(sorted(r["coords"].items())))] = r["pv_usd"]
        df = ds["discount_factor"].to_pandas()
        rows = []
        for _, r in cand.iterrows():
            coords = {k: str(v) for k, v in r["coords"].items()}
            key = (r["constraint"], tuple(sorted(coords.items())))
            pv, confirmed = r["pv_usd"], False
            if key in checked:
                confirmed = True
                pv = checked[key] if checked[key] is not None else np.nan
                if not (pv >= BINDING_TOL_USD):
                    continue  # the dual promised a saving the re-solve did not deliver
            period = coords.get("period")
            value = pv / float(df.loc[period]) if period is not None else pv
            rows.append({"constraint": r["constraint"], **coords, "template": RELAXABLE[r["constraint"]][0],
                         "unit": RELAXABLE[r["constraint"]][1], "value_usd": value, "pv_usd": pv,
                         "confirmed": confirmed})
        if not rows:
            return pd.DataFrame(columns=cols)
        out = pd.DataFrame(rows)
        # group identical entries: same family, period, confirmation and value (to 6 significant figures)
        out["_v"] = out["pv_usd"].map(lambda v: float(f"{v:.6g}"))
        coord_cols = [c for c in out.columns if c not in ("constraint", "template", "unit", "value_usd", "pv_usd",
                                                          "confirmed", "_v", "period")]
        groups = []
        for _, g in out.groupby(["constraint", "period", "confirmed", "_v"], sort=False, dropna=False):
            first = g.iloc[0].to_dict()
            names = {}
            for c in coord_cols:
                vals = [str(v) for v in g[c] if isinstance(v, str) and v]
                if vals:
                    names[c] = ", ".join(sorted(set(vals)))  # sorted: the text must not follow the solver's order
            fmt = {c: names.get(c, "") for c in coord_cols}
            fmt["period"] = first["period"]
            first.update(names)
            first["relaxation"] = first["template"].format(**fmt)
            first["entries"] = len(g)
            groups.append(first)
        out = pd.DataFrame(groups).drop(columns=["template", "_v"])
        out = out.sort_values(["confirmed", "pv_usd"], ascending=[False, False]).reset_index(drop=True)
        return out.head(top) if top else out


def binding_candidates(ds: xr.Dataset) -> pd.DataFrame:
    """Every non-zero dual of a relaxable family as (constraint, coords, dual, pv_usd per unit), by pv_usd."""
    rows = []
    for family, (_template, _unit, scale) in RELAXABLE.items():
        name = f"dual_{family}"
        if name not in ds:
            continue
        s = ds[name].to_series().dropna()
        s = s[s.abs() > 0]
        if s.empty:
            continue
        frame = s.rename("dual").reset_index()
        for _, r in frame.iterrows():
            coords = {k: r[k] for k in frame.columns if k != "dual"}
            period = coords.get("period")
            if scale is None:  # share targets: per percentage point of total delivered compute
                total = float(ds["delivered_h100e_hours"].sum(("supply", "workload")).sel(period=period)) / 1e6
                pv = abs(r["dual"]) * total * 0.01 * 1e6
            else:
                pv = abs(r["dual"]) * scale
            if pv < BINDING_TOL_USD:
                continue
            rows.append({"constraint": family, "coords": coords, "dual": r["dual"], "pv_usd": pv})
    out = pd.DataFrame(rows, columns=["constraint", "coords", "dual", "pv_usd"])
    return out.sort_values("pv_usd", ascending=False, kind="stable").reset_index(drop=True)


def year_of(periods: list[str]) -> list[int]:
    return [int(str(p)[:4]) for p in periods]


def first_positive_year(by_year) -> int | None:
    """The first year, in order, whose value is above 0 (NaN is not), or None: the rule of summary.json's
    ``first_free_cash_flow_positive_year`` (free cash flow summed per year; before financing, so a funding
    round is not a positive year), shared by the run's summary and a sweep's rows. ``by_year``: a mapping
    or Series from year to value."""
    return next((int(y) for y, v in by_year.items() if v > 0), None)


__all__ = ["Plan", "PlanStatistics", "attach_supply_table", "year_of", "first_positive_year", "np",
           "compute_spending_usd", "compute_spending_pv_usd", "spending_pv_usd"]


COMPUTE_SPENDING = ("capex_chips", "capex_sites", "lease", "contract", "energy", "offtake")


def compute_spending_usd(ds: xr.Dataset) -> np.ndarray:
    """(category, period) cash spending on compute of a plan's Dataset: capex of chips and sites, leases,
    contracts, energy, the offtake paid to joint-venture partners (categories in :data:`COMPUTE_SPENDING`; 0 where the plan has no such cost)."""
    rows = []
    for k in COMPUTE_SPENDING:
        name = f"cost_{k}_usd"
        if name in ds:
            v = ds[name]
            rows.append(v.sum([d for d in v.dims if d != "period"]).values.astype(float))
        else:
            rows.append(np.zeros(ds.sizes["period"]))
    return np.array(rows)


def compute_spending_pv_usd(ds: xr.Dataset) -> float:
    """Present value of the plan's cash spending on compute (docs/glossary.md): Σ_t δ_t × spending_t with
    the plan's mid-period discount factors. Unlike the net present cost (the LP objective) it credits no
    salvage value for assets still in service at the horizon's end and charges no unmet-demand penalty."""
    return spending_pv_usd(compute_spending_usd(ds), ds["discount_factor"].values)


def spending_pv_usd(spending: np.ndarray, discount_factor: np.ndarray) -> float:
    """Σ_t δ_t × Σ_category spending[category, t]: :func:`compute_spending_pv_usd` of (category, period)
    spending (a sweep's fast row computes it from the solution, optimize/figures.py)."""
    return float((spending.sum(axis=0) * discount_factor).sum())
