"""The plan's own figures a draw is measured against: its cash flow and cash, and the net present cost of
its compute."""

from __future__ import annotations

import numpy as np


def base_finance(plan, portfolio) -> tuple[dict[str, np.ndarray], str]:
    """The plan's cash flow and cash per period: stored with the plan (finance_*), else from
    :func:`gigawatt.finance.compute` (the one definition of the plan's cash flow)."""
    ds = plan.ds
    if "finance_cash_usd" in ds and "finance_cash_flow_usd" in ds:
        return {"cash_flow_usd": ds["finance_cash_flow_usd"].values.astype(float),
                "cash_usd": ds["finance_cash_usd"].values.astype(float)}, "plan.nc (finance)"
    from gigawatt import finance as finance_mod

    fin = finance_mod.compute(plan, portfolio)
    return {"cash_flow_usd": fin["cash_flow_usd"].values.astype(float),
            "cash_usd": fin["cash_usd"].values.astype(float)}, "gigawatt.finance.compute"


def compute_costs(plan) -> np.ndarray:
    """(category, period) cash costs of compute: capex chips, capex sites, lease, contract, energy."""
    ds = plan.ds
    rows = []
    for k in ("capex_chips", "capex_sites", "lease", "contract", "energy"):
        name = f"cost_{k}_usd"
        if name in ds:
            v = ds[name]
            rows.append(v.sum([d for d in v.dims if d != "period"]).values.astype(float))
        else:
            rows.append(np.zeros(len(plan.periods)))
    return np.array(rows)


def net_present_cost(plan) -> float:
    """Present value of the plan's cash costs of compute (capex, leases, contracts, energy), discounted with
    the plan's discount factors; no salvage value and no unmet-demand penalty (unlike the objective)."""
    return float((compute_costs(plan).sum(axis=0) * plan.ds["discount_factor"].values).sum())
