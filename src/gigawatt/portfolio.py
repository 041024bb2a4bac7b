"""The validated scenario as tables and per-period arrays in canonical units, ready for the planner.

Supply options are the one dimension every decision shares (``supply``): chips owned at a site
(``own``: one per site × installable accelerator), chips rented on demand (``lease``: one per provider
offer) and capacity under a contract (``contract``: one per capacity contract). Units are the ones the
names carry; compute is counted in H100e-hours: one hour of 989 TFLOP/s (an H100 SXM's dense BF16 peak)
of useful model FLOP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt import units
from gigawatt.catalog import PUE_REFERENCE, load_catalog
from gigawatt.errors import GigawattWarning, Problem, ScenarioError, did_you_mean
from gigawatt.periods import Horizon, label_start
from gigawatt.scenario.load import Resolved
from gigawatt.scenario.schema import Scenario, SeriesSpec
from gigawatt.series import resolve

H100E_HOUR_FLOP = units.H100_PEAK_BF16_FLOP_PER_S * 3600.0
REFERENCE_ACCELERATOR = "h100"

# scenario field -> (catalog column, factor from the scenario's canonical unit to the catalog's stored unit)
_ACCEL_FIELDS = {
    "name": ("name", None),
    "vendor": ("vendor", None),
    "available": ("available", None),
    "bf16_flops": ("bf16_tflops", 1e-12),
    "fp8_flops": ("fp8_tflops", 1e-12),
    "all_in_power": ("all_in_power_w", 1e3),
    "purchase_price": ("purchase_price_usd", 1.0),
    "rental_price": ("rental_price_usd_per_chip_hour", 1.0),
    "committed_price": ("committed_price_usd_per_chip_hour", 1.0),
    "utilisation_training": ("utilisation_training", 1.0),
    "utilisation_inference": ("utilisation_inference", 1.0),
    "useful_life": ("useful_life_years", 1.0),
}


def term_end(start: pd.Timestamp, term_years: float) -> pd.Timestamp:
    """End of a term: whole months are calendar months (a 3-year term from 2025-01 ends 2028-01)."""
    months = term_years * 12.0
    if abs(months - round(months)) < 1e-6:
        return start + pd.DateOffset(months=int(round(months)))
    return start + pd.Timedelta(days=365.25 * term_years)


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
        return _Builder(scenario, resolved).build()

    @property
    def periods(self) -> pd.Index:
        return pd.Index(self.horizon.labels, name="period")


class _Builder:
    def __init__(self, sc: Scenario, resolved: Resolved | None):
        self.sc = sc
        self.resolved = resolved
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        h = sc.horizon
        self.horizon = Horizon.build(h.start, h.end, h.step, h.discount_rate)
        self.periods = pd.Index(self.horizon.labels, name="period")
        self.hours = self.horizon.table["hours"].to_numpy()

    # --- helpers -------------------------------------------------------------------------------------
    def where(self, *path: str) -> str | None:
        return self.resolved.where(path) if self.resolved else None

    def problem(self, what: str, path: tuple[str, ...], **kw) -> None:
        self.problems.append(Problem(what, path=".".join(path), location=self.where(*path), **kw))

    def series(self, spec: SeriesSpec | None, *path: str, default: float = 0.0) -> np.ndarray:
        if spec is None:
            return np.full(self.horizon.n, default)
        return resolve(spec, self.horizon, path=".".join(path), location=self.where(*path), problems=self.problems)

    def coverage(self, start: str, term_years: float) -> np.ndarray:
        """Fraction of each period inside [start, start + term)."""
        t0 = label_start(start)
        t1 = term_end(t0, term_years)
        starts = self.horizon.table["start"]
        ends = starts + pd.DateOffset(months=self.horizon.months_per_period())
        lo = np.maximum(starts.to_numpy(), np.datetime64(t0))
        hi = np.minimum(ends.to_numpy(), np.datetime64(t1))
        overlap = np.clip((hi - lo) / np.timedelta64(1, "h"), 0, None)
        return overlap / self.hours

    def check_periods(self, labels: list[str], *path: str) -> None:
        outside = [p for p in labels if p not in self.horizon.labels]
        if outside:
            self.problem("period outside the horizon", path, value=", ".join(outside),
                         expected=f"{self.horizon.labels[0]} … {self.horizon.labels[-1]} at step '{self.horizon.step}'",
                         fix="use a period inside the horizon, or extend the horizon")

    # --- build ---------------------------------------------------------------------------------------
    def build(self) -> Portfolio:
        accel = self.build_accelerators()
        sites, power_max, power_existing = self.build_sites(accel)
        supply, sup = self.build_supply(accel, sites)
        workloads, demand = self.build_workloads(accel, supply)
        deals, purchase_min = self.build_deals(accel)
        purchase_max = self.build_purchase_max(accel)
        targets, target_mask, target_periods = self.build_targets(supply)
        finance = self.build_finance()
        if self.problems:
            raise ScenarioError(self.problems, title="scenario has inconsistent references or values")
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
                "hours": (("period",), self.hours),
                "discount_factor": (("period",), self.horizon.table["discount_factor"].to_numpy()),
            },
            coords={"site": sites.index.to_numpy(dtype=object), "period": self.periods.to_numpy(dtype=object),
                    "workload": workloads.index.to_numpy(dtype=object), "accelerator": np.array(used_accel, dtype=object),
                    "supply": supply.index.to_numpy(dtype=object), "target": targets.index.to_numpy(dtype=object)},
        )
        eff = self.efficiency(accel, supply, workloads)
        data["efficiency_h100e_hours_per_chip"] = (("supply", "workload", "period"), eff)
        data["eligible"] = (("supply", "workload"), self.eligibility(supply, workloads))
        self.check_servable(data, workloads)
        if self.problems:
            raise ScenarioError(self.problems, title="scenario has inconsistent references or values")
        return Portfolio(scenario=self.sc, resolved=self.resolved, horizon=self.horizon,
                         accelerators=accel.loc[sorted(set(used_accel) | {REFERENCE_ACCELERATOR})],
                         sites=sites, supply=supply, workloads=workloads, deals=deals,
                         contracts=self.contract_table(), targets=targets, data=data, warnings=self.warnings)

    # accelerators: catalog rows with scenario overrides, canonical units --------------------------------
    def build_accelerators(self) -> pd.DataFrame:
        cat = load_catalog()
        known = list(cat.index)
        for aid, spec in self.sc.accelerators.items():
            if aid in cat.index:
                row = cat.loc[aid].copy()
            elif spec.base is not None:
                if spec.base not in cat.index:
                    self.problem(f"unknown base accelerator '{spec.base}'", ("accelerators", aid, "base"),
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
        out["bf16_flop_per_s"] = pd.to_numeric(cat["bf16_tflops"]) * 1e12
        out["all_in_power_kw"] = pd.to_numeric(cat["all_in_power_w"]) / 1e3
        out["purchase_price_usd"] = pd.to_numeric(cat["purchase_price_usd"])
        out["rental_price_usd_per_chip_hour"] = pd.to_numeric(cat["rental_price_usd_per_chip_hour"])
        out["committed_price_usd_per_chip_hour"] = pd.to_numeric(cat["committed_price_usd_per_chip_hour"])
        out["utilisation_training"] = pd.to_numeric(cat["utilisation_training"])
        out["utilisation_inference"] = pd.to_numeric(cat["utilisation_inference"])
        out["useful_life_years"] = pd.to_numeric(cat["useful_life_years"])
        return out

    def need(self, accel: pd.DataFrame, aid: str, fields: list[str], why: str, path: tuple[str, ...]) -> bool:
        """Problem if accelerator ``aid`` is unknown or lacks a figure the scenario relies on."""
        if aid not in accel.index:
            self.problem(f"unknown accelerator '{aid}'", path, value=aid,
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
            self.problem(f"accelerator '{aid}' has no {', '.join(keys)} in the catalog, needed {why}", path,
                         value=aid, expected="a figure for each (the catalog leaves unpublished figures empty)",
                         fix=f"set accelerators.{aid}.{keys[0]} (and the others) in the scenario, with a source")
            return False
        return True

    # sites --------------------------------------------------------------------------------------------
    def build_sites(self, accel: pd.DataFrame):
        owner: dict[str, str] = {}
        for pname, prov in self.sc.providers.items():
            if prov.sites and prov.kind not in ("owned", "joint_venture"):
                self.problem(f"provider '{pname}' of kind {prov.kind} lists sites", ("providers", pname, "sites"),
                             value=prov.sites, expected="sites only under owned or joint_venture providers",
                             fix="change the kind, or move the sites to an owned/joint_venture provider")
            if prov.offers and prov.kind in ("owned", "joint_venture"):
                self.problem(f"provider '{pname}' of kind {prov.kind} has offers", ("providers", pname, "offers"),
                             expected="offers only under cloud or neocloud providers",
                             fix="model its capacity as sites, or change its kind")
            for s in prov.sites:
                if s not in self.sc.sites:
                    self.problem(f"unknown site '{s}'", ("providers", pname, "sites"), value=s,
                                 expected="a name defined under sites:",
                                 fix="define the site or correct the name." + did_you_mean(s, self.sc.sites))
                elif s in owner:
                    self.problem(f"site '{s}' is listed by two providers ('{owner[s]}' and '{pname}')",
                                 ("providers", pname, "sites"), value=s, expected="each site under one provider",
                                 fix="remove it from one of them")
                else:
                    owner[s] = pname
        rows, pmax, pex = [], [], []
        for sname, site in self.sc.sites.items():
            if sname not in owner:
                self.problem(f"site '{sname}' is used by no provider", ("sites", sname), value=sname,
                             expected="every site listed under an owned or joint_venture provider's sites:",
                             fix=f"add '{sname}' to a provider's sites list, or remove the site")
                continue
            for a in site.accelerators:
                self.need(accel, a, ["bf16_flop_per_s", "all_in_power_kw", "purchase_price_usd", "useful_life_years"],
                          f"to install it at site '{sname}'", ("sites", sname, "accelerators"))
            mx = self.series(site.power_max, "sites", sname, "power_max")
            ex = self.series(site.power_existing, "sites", sname, "power_existing")
            if (ex > mx + 1e-9).any():
                self.problem("existing power exceeds the site's power_max", ("sites", sname, "power_existing"),
                             value=float(ex.max()), expected=f"at most power_max ({float(mx.max())} MW)",
                             fix="raise power_max or lower power_existing")
            if (np.diff(mx) < -1e-9).any():
                self.problem("power_max decreases over time", ("sites", sname, "power_max"),
                             expected="a cumulative envelope that never decreases",
                             fix="give the total power that can be energised by each period")
            rows.append({"site": sname, "provider": owner[sname], "build_cost_usd_per_mw": site.build_cost,
                         "lead_time_months": site.lead_time, "pue": site.pue,
                         "energy_price_usd_per_mwh": site.energy_price, "facility_life_years": site.facility_life,
                         "location": site.location or ""})
            pmax.append(mx)
            pex.append(ex)
        sites = pd.DataFrame(rows, columns=["site", "provider", "build_cost_usd_per_mw", "lead_time_months", "pue",
                                            "energy_price_usd_per_mwh", "facility_life_years", "location"]).set_index("site")
        shape = (len(sites), self.horizon.n)
        return (sites, np.array(pmax).reshape(shape), np.array(pex).reshape(shape))

    # supply options -----------------------------------------------------------------------------------
    def build_supply(self, accel: pd.DataFrame, sites: pd.DataFrame):
        n = self.horizon.n
        rows: list[dict] = []
        arrays: dict[str, list[np.ndarray]] = {k: [] for k in (
            "buy_allowed", "lease_available_chips", "lease_price_usd_per_chip_hour", "contract_capacity_chips",
            "contract_fixed_payment_usd", "contract_use_price_usd_per_chip_hour", "contract_firm")}

        def add(row: dict, **arr: np.ndarray) -> None:
            rows.append(row)
            for k in arrays:
                default = 0.0 if k != "lease_available_chips" else np.inf
                arrays[k].append(arr.get(k, np.full(n, default)))

        period_end = (self.horizon.table["start"] + pd.DateOffset(months=self.horizon.months_per_period())).to_numpy()

        def available_mask(aid: str) -> np.ndarray:
            when = accel.at[aid, "available"]
            if pd.isna(when):
                return np.ones(n, dtype=bool)
            return period_end > np.datetime64(label_start(str(when)))

        for sname, s in sites.iterrows():
            for a in self.sc.sites[sname].accelerators:
                if a not in accel.index:
                    continue
                # chips can be bought once the accelerator is available; a site's lead time limits its
                # power (Site-power), and chips need power, so it also delays what can be installed.
                add({"name": f"{sname}/{a}", "kind": "own", "provider": s["provider"], "site": sname,
                     "accelerator": a, "vendor": accel.at[a, "vendor"], "contract": ""},
                    buy_allowed=available_mask(a).astype(float))
        for pname, prov in self.sc.providers.items():
            for a, offer in prov.offers.items():
                path = ("providers", pname, "offers", a)
                if not self.need(accel, a, ["bf16_flop_per_s"], f"for {pname}'s offer", path):
                    continue
                price = offer.on_demand_price
                if price is None:
                    price = accel.at[a, "rental_price_usd_per_chip_hour"]
                    if pd.isna(price):
                        self.problem(f"no on-demand price for '{a}' at '{pname}'", path + ("on_demand_price",),
                                     expected="on_demand_price here or a rental_price in the catalog",
                                     fix=f"set providers.{pname}.offers.{a}.on_demand_price")
                        continue
                avail = self.series(offer.available, *path, "available", default=np.inf)
                avail = np.where(available_mask(a), avail, 0.0)
                add({"name": f"{pname}/{a}", "kind": "lease", "provider": pname, "site": "", "accelerator": a,
                     "vendor": accel.at[a, "vendor"], "contract": ""},
                    lease_available_chips=avail, lease_price_usd_per_chip_hour=np.full(n, float(price)))
        for cname, c in self.sc.contracts.items():
            if c.kind != "capacity":
                continue
            path = ("contracts", cname)
            if c.counterparty not in self.sc.providers:
                self.problem(f"unknown provider '{c.counterparty}'", path + ("counterparty",), value=c.counterparty,
                             expected="a provider defined under providers: (capacity contracts are with providers)",
                             fix="correct the name." + did_you_mean(c.counterparty, self.sc.providers))
            fields = ["bf16_flop_per_s"] + (["all_in_power_kw"] if c.power else [])
            # checked even when the counterparty is unknown: every problem of the file is reported at once
            if not self.need(accel, c.accelerator, fields, f"by contract '{cname}'", path + ("accelerator",)):
                continue
            if c.counterparty not in self.sc.providers:
                continue
            cap, fixed, use_price = self.contract_schedule(cname, c, accel)
            add({"name": f"contract:{cname}", "kind": "contract", "provider": c.counterparty, "site": "",
                 "accelerator": c.accelerator, "vendor": accel.at[c.accelerator, "vendor"], "contract": cname},
                contract_capacity_chips=cap, contract_fixed_payment_usd=fixed,
                contract_use_price_usd_per_chip_hour=np.full(n, use_price),
                contract_firm=np.full(n, 1.0 if c.firm else 0.0))
        supply = pd.DataFrame(rows, columns=["name", "kind", "provider", "site", "accelerator", "vendor", "contract"])
        supply = supply.set_index("name").rename_axis("supply")
        sup = {k: np.array(v).reshape(len(supply), n) for k, v in arrays.items()}
        return supply, sup

    def ramp_level(self, cname: str, c, cover: np.ndarray) -> np.ndarray:
        if c.ramp == "flat":
            return (cover > 0).astype(float)
        self.check_periods(list(c.ramp), "contracts", cname, "ramp")
        in_term = [p for p, cv in zip(self.horizon.labels, cover) if cv > 0]
        missing = [p for p in in_term if p not in c.ramp]
        if missing:
            self.problem("ramp does not name every period of the term", ("contracts", cname, "ramp"),
                         value=", ".join(missing), expected=f"a share for each of {', '.join(in_term)}",
                         fix="add the missing periods (0 is allowed), or use ramp: flat")
        return np.array([c.ramp.get(p, 0.0) for p in self.horizon.labels])

    def payment_weight(self, c, cover: np.ndarray, level: np.ndarray) -> np.ndarray:
        """Share of a contract's value paid in each period: its capacity-hours (hours × coverage × ramp level)
        over those of the whole term, the hours past the horizon at the term's last ramp level. Weighting
        each level by the time it covers makes the payments of the whole term sum to the value."""
        used = self.hours * cover * level
        t0 = label_start(c.start)
        horizon_end = self.horizon.table["start"].iloc[-1] + pd.DateOffset(months=self.horizon.months_per_period())
        beyond_h = max(0.0, (term_end(t0, c.term) - max(horizon_end, t0)) / pd.Timedelta(hours=1))
        in_term = level[cover > 0]
        total = float(used.sum()) + beyond_h * (float(in_term[-1]) if len(in_term) else 1.0)
        if total > 0:
            return used / total
        term_h = float((self.hours * cover).sum()) + beyond_h  # a ramp of zeros: spread over time alone
        return self.hours * cover / term_h if term_h > 0 else np.zeros_like(used)

    def contract_schedule(self, cname: str, c, accel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
        """Chips in service, payments owed whether used or not (USD), and price per chip-hour used."""
        cover = self.coverage(c.start, c.term)
        if label_start(c.start) > self.horizon.table["start"].iloc[-1]:
            self.problem("contract starts after the horizon ends", ("contracts", cname, "start"),
                         value=c.start, expected=f"a start at or before {self.horizon.labels[-1]}",
                         fix="extend the horizon or drop the contract")
        level = self.ramp_level(cname, c, cover)
        if c.power:
            pue = 1.0
            full = c.power * 1e3 / (accel.at[c.accelerator, "all_in_power_kw"] * pue)
            cap = full * level * cover
        elif c.chips:
            cap = c.chips * level * cover
        else:
            cap = None
        hours_used = self.hours * cover * level
        if c.value is not None:
            payments = c.value * self.payment_weight(c, cover, level)
            if cap is None:
                cap = np.divide(payments, c.price * self.hours, out=np.zeros_like(payments), where=self.hours > 0)
        else:
            price = c.price if c.price is not None else accel.at[c.accelerator, "committed_price_usd_per_chip_hour"]
            if pd.isna(price):
                self.problem(f"contract '{cname}' has neither value nor price", ("contracts", cname),
                             expected="value (total USD) or price (USD/h per chip)",
                             fix="add value or price, or a committed_price for the accelerator")
                price = 0.0
            payments = cap * price * self.hours
        fixed = payments * c.take_or_pay
        total_chip_hours = cap * self.hours
        use_price = 0.0
        if c.take_or_pay < 1.0:
            ch = total_chip_hours.sum()
            use_price = float((payments.sum() * (1 - c.take_or_pay)) / ch) if ch > 0 else 0.0
        if not c.firm:
            # an option: nothing owed unless exercised; exercised capacity is paid at the average price
            ch = total_chip_hours.sum()
            use_price = float(payments.sum() / ch) if ch > 0 else 0.0
            fixed = np.zeros_like(fixed)
        return cap, fixed, use_price

    def contract_table(self) -> pd.DataFrame:
        rows = []
        for name, c in self.sc.contracts.items():
            rows.append({"contract": name, "counterparty": c.counterparty, "kind": c.kind,
                         "accelerator": c.accelerator, "start": c.start, "term_years": c.term,
                         "value_usd": c.value, "power_mw": c.power, "chips": c.chips, "firm": c.firm,
                         "take_or_pay": c.take_or_pay, "equity_per_gw_usd": c.equity_per_gw,
                         "equity_max_usd": c.equity_max, "warrants": c.warrants or "", "source": c.source})
        cols = ["contract", "counterparty", "kind", "accelerator", "start", "term_years", "value_usd", "power_mw",
                "chips", "firm", "take_or_pay", "equity_per_gw_usd", "equity_max_usd", "warrants", "source"]
        return pd.DataFrame(rows, columns=cols).set_index("contract")

    # vendor supply deals ------------------------------------------------------------------------------
    def build_deals(self, accel: pd.DataFrame):
        vendors = set(accel["vendor"].dropna())
        n = self.horizon.n
        rows = []
        minimum = pd.DataFrame(0.0, index=accel.index, columns=self.periods)
        for cname, c in self.sc.contracts.items():
            if c.kind != "supply":
                continue
            path = ("contracts", cname)
            if c.counterparty not in vendors:
                self.problem(f"unknown vendor '{c.counterparty}'", path + ("counterparty",), value=c.counterparty,
                             expected="a vendor of the catalog: " + ", ".join(sorted(vendors)),
                             fix="correct the name (supply contracts are with chip vendors)."
                             + did_you_mean(c.counterparty, vendors))
                continue
            fields = ["bf16_flop_per_s"] + (["all_in_power_kw"] if c.power else [])
            if not self.need(accel, c.accelerator, fields, f"by contract '{cname}'", path + ("accelerator",)):
                continue
            if accel.at[c.accelerator, "vendor"] != c.counterparty:
                self.problem(f"'{c.accelerator}' is not sold by '{c.counterparty}'", path + ("accelerator",),
                             value=c.accelerator, expected=f"an accelerator of vendor {c.counterparty}",
                             fix="correct the accelerator or the counterparty")
            cover = self.coverage(c.start, c.term)
            level = self.ramp_level(cname, c, cover)
            weight = level * cover * self.hours
            total_chips = c.chips if c.chips else c.power * 1e3 / accel.at[c.accelerator, "all_in_power_kw"]
            share = weight / weight.sum() if weight.sum() > 0 else weight
            per_period = total_chips * share  # delivered within the horizon
            if c.firm:
                minimum.loc[c.accelerator] += np.cumsum(per_period)
            rows.append({"contract": cname, "vendor": c.counterparty, "accelerator": c.accelerator,
                         "firm": c.firm, "chips_total": total_chips,
                         "power_mw_total": total_chips * accel.at[c.accelerator, "all_in_power_kw"] / 1e3
                         if not pd.isna(accel.at[c.accelerator, "all_in_power_kw"]) else np.nan,
                         "equity_per_gw_usd": c.equity_per_gw or 0.0, "equity_max_usd": c.equity_max or np.inf,
                         **{f"chips_{p}": v for p, v in zip(self.horizon.labels, per_period)}})
        deals = pd.DataFrame(rows)
        if len(deals):
            deals = deals.set_index("contract")
        _ = n
        return deals, minimum

    def build_purchase_max(self, accel: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(np.inf, index=accel.index, columns=self.periods)
        for aid, spec in self.sc.accelerators.items():
            if spec.purchase_max is not None:
                out.loc[aid] = self.series(spec.purchase_max, "accelerators", aid, "purchase_max")
        return out

    # workloads ----------------------------------------------------------------------------------------
    def build_workloads(self, accel: pd.DataFrame, supply: pd.DataFrame):
        cfg = self.sc.config.solve
        rows, demand = [], []
        ref_ok = self.need(accel, REFERENCE_ACCELERATOR, ["utilisation_training", "utilisation_inference"],
                           "as the H100-hour reference", ("accelerators",))
        for wname, w in self.sc.workloads.items():
            path = ("workloads", wname)
            util_col = "utilisation_inference" if w.kind == "inference" else "utilisation_training"
            for a in sorted(set(supply["accelerator"])):
                if a in accel.index and (w.accelerators is None or a in w.accelerators):
                    self.need(accel, a, [util_col], f"to serve {w.kind} workload '{wname}'", path)
            for listname, known in (("accelerators", accel.index), ("providers", list(self.sc.providers))):
                for name in getattr(w, listname) or []:
                    if name not in known:
                        self.problem(f"unknown {listname[:-1]} '{name}'", path + (listname,), value=name,
                                     expected=f"a known {listname[:-1]} id",
                                     fix="correct the name." + did_you_mean(name, known))
            raw = self.series(w.demand, *path, "demand")
            if (raw < 0).any():
                self.problem("negative demand", path + ("demand",), value=float(raw.min()), expected="demand ≥ 0",
                             fix="demand is compute needed per period; use 0 for none")
            unit = w.demand.unit
            u_ref = accel.at[REFERENCE_ACCELERATOR, util_col] if ref_ok else np.nan
            if unit == "FLOP":
                d = raw / H100E_HOUR_FLOP
            elif unit == "FLOP/s":
                d = raw * self.hours / units.H100_PEAK_BF16_FLOP_PER_S
            else:  # H100_hour: hours of an H100 at its catalog utilisation for this kind
                d = raw * u_ref
            demand.append(d)
            rows.append({"workload": wname, "kind": w.kind, "utilisation_h100": u_ref,
                         "unmet_penalty_usd_per_h100_hour": w.unmet_penalty if w.unmet_penalty is not None
                         else cfg.unmet_penalty,
                         "revenue_per_h100_hour_usd": w.revenue_per_h100_hour or 0.0})
        workloads = pd.DataFrame(rows).set_index("workload")
        return workloads, np.array(demand).reshape(len(workloads), self.horizon.n)

    def efficiency(self, accel, supply, workloads) -> np.ndarray:
        """H100e-hours of useful compute per chip per period: bf16 / 989 TFLOP/s × utilisation × hours."""
        a = supply["accelerator"].to_numpy()
        peak = accel.loc[a, "bf16_flop_per_s"].to_numpy() / units.H100_PEAK_BF16_FLOP_PER_S
        util = np.stack([accel.loc[a, "utilisation_inference" if k == "inference" else "utilisation_training"]
                         .to_numpy(dtype=float) for k in workloads["kind"]], axis=1) if len(workloads) else None
        eff = (peak[:, None] * np.nan_to_num(util, nan=0.0))[:, :, None] * self.hours[None, None, :]
        return eff

    def eligibility(self, supply, workloads) -> np.ndarray:
        out = np.ones((len(supply), len(workloads)), dtype=bool)
        for j, (wname, _) in enumerate(workloads.iterrows()):
            w = self.sc.workloads[wname]
            if w.accelerators is not None:
                out[:, j] &= supply["accelerator"].isin(w.accelerators).to_numpy()
            if w.providers is not None:
                out[:, j] &= supply["provider"].isin(w.providers).to_numpy()
        return out

    def check_servable(self, data: xr.Dataset, workloads: pd.DataFrame) -> None:
        useful = (data["eligible"] & (data["efficiency_h100e_hours_per_chip"] > 0).any("period")).any("supply")
        for wname in workloads.index:
            if not bool(useful.sel(workload=wname)) and float(data["demand_h100e_hours"].sel(workload=wname).sum()) > 0:
                self.problem(f"workload '{wname}' has demand but no supply option can serve it",
                             ("workloads", wname), expected="at least one site, offer or contract whose accelerator "
                             "and provider the workload accepts", fix="add an offer or site, or widen the "
                             "workload's accelerators/providers lists")

    # policy -------------------------------------------------------------------------------------------
    def build_targets(self, supply: pd.DataFrame):
        names, masks, active, rows = [], [], [], []
        vendors = set(supply["vendor"].dropna())
        for tname, t in self.sc.policy.share_targets.items():
            path = ("policy", "share_targets", tname)
            for p in t.providers:
                if p not in self.sc.providers:
                    self.problem(f"unknown provider '{p}'", path + ("providers",), value=p,
                                 expected="a provider defined under providers:",
                                 fix="correct the name." + did_you_mean(p, self.sc.providers))
            for v in t.vendors:
                if v not in vendors:
                    self.problem(f"vendor '{v}' supplies no option in this scenario", path + ("vendors",), value=v,
                                 expected="one of: " + ", ".join(sorted(vendors)),
                                 fix="correct the name." + did_you_mean(v, vendors))
            mask = np.ones(len(supply), dtype=bool)
            if t.providers:
                mask &= supply["provider"].isin(t.providers).to_numpy()
            if t.vendors:
                mask &= supply["vendor"].isin(t.vendors).to_numpy()
            if t.periods is not None:
                self.check_periods(t.periods, *path, "periods")
                act = np.array([p in t.periods for p in self.horizon.labels])
            else:
                act = np.ones(self.horizon.n, dtype=bool)
            names.append(tname)
            masks.append(mask)
            active.append(act)
            rows.append({"target": tname, "providers": ",".join(t.providers), "vendors": ",".join(t.vendors),
                         "min_share": t.min_share if t.min_share is not None else np.nan,
                         "max_share": t.max_share if t.max_share is not None else np.nan,
                         "periods": ",".join(t.periods) if t.periods else "all", "basis": t.basis})
        targets = pd.DataFrame(rows, columns=["target", "providers", "vendors", "min_share", "max_share",
                                              "periods", "basis"]).set_index("target")
        return (targets, np.array(masks, dtype=bool).reshape(len(names), len(supply)),
                np.array(active, dtype=bool).reshape(len(names), self.horizon.n))

    # finance inputs -----------------------------------------------------------------------------------
    def build_finance(self) -> dict[str, np.ndarray]:
        f = self.sc.finance
        other = np.zeros(self.horizon.n)
        for name, spec in f.other_costs.items():
            other += self.series(spec, "finance", "other_costs", name)
        funding = np.zeros(self.horizon.n)
        for name, fund in f.funding.items():
            if fund.period not in self.horizon.labels:
                self.check_periods([fund.period], "finance", "funding", name, "period")
                continue
            funding[self.horizon.position(fund.period)] += fund.amount
        return {"revenue_usd": self.series(f.revenue, "finance", "revenue"),
                "other_costs_usd": other, "funding_usd": funding}


def build(scenario: Scenario, resolved: Resolved | None = None) -> Portfolio:
    """Portfolio from a validated scenario (see :meth:`Portfolio.from_scenario`)."""
    return Portfolio.from_scenario(scenario, resolved)


__all__ = ["Portfolio", "build", "H100E_HOUR_FLOP", "PUE_REFERENCE", "GigawattWarning"]
