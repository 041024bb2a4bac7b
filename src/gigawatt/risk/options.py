"""A solved plan's supply options as the arrays the risk model is built from: what each option is, its
capacity and use per workload, its prices, and the share of its capacity allotted to each workload."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PlanOptions:
    """Per option (S), workload (W) and period (P), from the plan's Dataset and the portfolio's data."""

    supply: list[str]
    workloads: list[str]
    kind: dict[str, str]  # option -> own, lease or contract
    site_of: dict[str, str]
    contract_of: dict[str, str]
    accel_of: dict[str, str]
    hours: np.ndarray  # (P,)
    eff: np.ndarray  # (S, W, P) H100e-hours per chip
    eligible: np.ndarray  # (S, W) the workload accepts the option and it delivers something
    delivered: np.ndarray  # (S, W, P) H100e-hours
    demand: np.ndarray  # (W, P)
    unmet: np.ndarray  # (W, P)
    chips: np.ndarray  # (S, P) in service or contracted
    cap_chips: np.ndarray  # (S, P) capacity: in service (own), contracted (contract), rentable (lease)
    share: np.ndarray  # (S, W, P) share of an option's capacity allotted to each workload
    lease_price: np.ndarray  # (S, P) USD per chip-hour
    use_price: np.ndarray  # (S, P) a contract's USD per chip-hour used
    energy_cost: np.ndarray  # (S, P) USD
    energy_per_chip: np.ndarray  # (S, P) USD per chip in service
    fixed_pay: np.ndarray  # (S, P) a contract's payments owed whatever the use
    bought: np.ndarray  # (S, P) chips bought


def clean(a) -> np.ndarray:
    """Non-negative floats, NaN read as 0 (a solver's tiny negatives and absent values)."""
    a = np.nan_to_num(np.asarray(a, dtype=float), nan=0.0, posinf=np.inf)
    return np.maximum(a, 0.0)


def allotment(x: np.ndarray, eligible: np.ndarray, eff: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Share of each option's capacity allotted to each workload: the plan's use, else by demand."""
    el = eligible.astype(float)[:, :, None] * (eff > 0)  # (S, W, P)
    weight = el * np.where(demand.sum(axis=0) > 0, demand, 1.0)[None]
    wsum = weight.sum(axis=1, keepdims=True)
    by_demand = np.divide(weight, wsum, out=np.zeros_like(weight), where=wsum > 0)
    used = x.sum(axis=1)[:, None, :]  # (S, 1, P) chips of the option used by any workload
    by_use = np.divide(x, used, out=np.zeros_like(x), where=used > 0)
    return np.where(used > 0, by_use, by_demand)


def plan_options(plan, portfolio) -> PlanOptions:
    """The plan's options as arrays (see :class:`PlanOptions`)."""
    ds = plan.ds
    P = len(ds["period"].values)
    supply = [str(s) for s in ds["supply"].values]
    wl = [str(w) for w in ds["workload"].values]
    kind = dict(zip(supply, ds["supply_kind"].values.astype(str)))
    d = portfolio.data.sel(supply=supply, workload=wl)
    eff = d["efficiency_h100e_hours_per_chip"].transpose("supply", "workload", "period").values.astype(float)
    eligible = d["eligible"].transpose("supply", "workload").values & (eff > 0).any(axis=2)
    x = clean(ds["dispatch_chips"].transpose("supply", "workload", "period").values)
    demand = clean(ds["demand_h100e_hours"].transpose("workload", "period").values)
    chips = clean(ds["chips"].transpose("supply", "period").values)
    avail = d["lease_available_chips"].transpose("supply", "period").values.astype(float)
    cap_chips = np.where(np.array([kind[s] == "lease" for s in supply])[:, None], np.maximum(avail, 0.0), chips)
    energy_cost = ds["cost_energy_usd"].transpose("supply", "period").values.astype(float) \
        if "cost_energy_usd" in ds else np.zeros((len(supply), P))
    return PlanOptions(
        supply=supply, workloads=wl, kind=kind,
        site_of=dict(zip(supply, ds["supply_site"].values.astype(str))),
        contract_of=dict(zip(supply, ds["supply_contract"].values.astype(str))),
        accel_of=dict(zip(supply, ds["supply_accelerator"].values.astype(str))),
        hours=ds["hours"].values.astype(float), eff=eff, eligible=eligible,
        delivered=clean(ds["delivered_h100e_hours"].transpose("supply", "workload", "period").values),
        demand=demand, unmet=clean(ds["unmet_h100e_hours"].transpose("workload", "period").values),
        chips=chips, cap_chips=cap_chips, share=allotment(x, eligible, eff, demand),
        lease_price=d["lease_price_usd_per_chip_hour"].transpose("supply", "period").values.astype(float),
        use_price=d["contract_use_price_usd_per_chip_hour"].transpose("supply", "period").values.astype(float),
        energy_cost=energy_cost,
        energy_per_chip=np.divide(energy_cost, chips, out=np.zeros_like(energy_cost), where=chips > 0),
        fixed_pay=d["contract_fixed_payment_usd"].transpose("supply", "period").values.astype(float),
        bought=clean(ds["chips_bought"].transpose("supply", "period").values))
