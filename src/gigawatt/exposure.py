"""Exposure by counterparty: what the lab pays each provider, vendor, joint venture and utility, what it
owes them whether it uses the capacity or not, what flows back (vendor equity, funding from investors that
are also counterparties) and the net flow (docs/exposure.md has every column, its formula and its sign).

Every payment of the plan is given to exactly one counterparty, so the columns sum over counterparties to
the finance lines (:func:`gigawatt.finance.compute`): contract payments, take-or-pay, rentals, chip and site
capex, energy, vendor equity and funding. ``via_providers_usd`` is the exception: what the lab pays
providers for a vendor's chips, an indirect flow shown beside the vendor and counted nowhere else.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.finance import commitments
from gigawatt.optimize.cash import vendor_equity_by_deal_usd
from gigawatt.plan import Plan, year_of
from gigawatt.portfolio import Portfolio

UTILITY = "utilities"
UNNAMED_INVESTORS = "investors (unnamed)"

# column: (meaning, identity with the finance line it sums to over counterparties, or "")
COLUMNS: dict[str, tuple[str, str]] = {
    "contract_usd": ("capacity contracts paid (take-or-pay + use + options exercised)", "contract_usd"),
    "firm_owed_usd": ("take-or-pay of firm contracts: owed whether used or not", "contract_take_or_pay_usd"),
    "option_usd": ("paid under contracts that are options (firm: false), part of contract_usd", ""),
    "lease_usd": ("on-demand rentals", "lease_usd"),
    "capex_chips_usd": ("chips bought from the vendor", "capex_chips_usd"),
    "capex_sites_usd": ("facility power built at the provider's sites", "capex_sites_usd"),
    "energy_usd": ("electricity of owned chips (to utilities)", "energy_usd"),
    "paid_usd": ("contract + lease + chip capex + site capex + energy", ""),
    "vendor_equity_usd": ("equity invested by the vendor per GW deployed under firm deals", "vendor_equity_usd"),
    "funding_usd": ("funding rounds paid in by this investor", "funding_usd"),
    "inflow_usd": ("vendor equity + funding", "financing_usd"),
    "net_flow_usd": ("inflow − paid: positive when more comes from it than goes to it", ""),
    "via_providers_usd": ("paid to other providers for capacity of this vendor's chips (indirect; not in paid)", ""),
}


def _group(da: xr.DataArray, dim: str, keys: pd.Series) -> pd.DataFrame:
    """Sum a (dim, period) array over ``dim`` by ``keys`` (one per entry of dim): a (key × period) frame."""
    frame = da.transpose(dim, "period").to_pandas()
    frame.columns = [str(c) for c in frame.columns]
    return frame.groupby(keys.reindex(frame.index).to_numpy()).sum()


def _supply_counterparty(plan: Plan, portfolio: Portfolio) -> pd.DataFrame:
    """Per supply option: who is paid for its use (contract counterparty, lease provider), its vendor."""
    sup = plan.supply_table()
    cp = sup["provider"].copy()
    is_contract = sup["kind"] == "contract"
    cp[is_contract] = portfolio.contracts["counterparty"].reindex(sup.loc[is_contract, "contract"]).to_numpy()
    firm = pd.Series(True, index=sup.index)
    firm[is_contract] = portfolio.contracts["firm"].reindex(sup.loc[is_contract, "contract"]).astype(bool).to_numpy()
    return pd.DataFrame({"counterparty": cp, "vendor": sup["vendor"], "kind": sup["kind"], "firm": firm})


def by_period(plan: Plan, portfolio: Portfolio) -> pd.DataFrame:
    """Every column of :data:`COLUMNS` per (counterparty, period), USD: a long table, zeros where nothing
    flows. Vectorised: each plan cost is grouped by the counterparty of its supply option or site."""
    ds, d = plan.ds, portfolio.data
    periods = [str(p) for p in ds["period"].values]
    sup = _supply_counterparty(plan, portfolio)
    zero = xr.zeros_like(ds["chips"]) if "chips" in ds else None

    def cost(name: str) -> xr.DataArray:
        return ds[name].reindex(supply=ds["supply"].values, fill_value=0.0) if name in ds else zero

    other = xr.DataArray((sup["counterparty"] != sup["vendor"]).to_numpy(), dims="supply")  # AWS selling Trainium: direct
    fixed = d["contract_fixed_payment_usd"].sel(supply=ds["supply"].values).assign_coords(period=ds["period"].values)
    parts = {
        "contract_usd": _group(cost("cost_contract_usd"), "supply", sup["counterparty"]),
        "firm_owed_usd": _group(fixed, "supply", sup["counterparty"]),
        "option_usd": _group(cost("cost_contract_usd").where(xr.DataArray(~sup["firm"].to_numpy(), dims="supply"), 0.0),
                             "supply", sup["counterparty"]),
        "lease_usd": _group(cost("cost_lease_usd"), "supply", sup["counterparty"]),
        "capex_chips_usd": _group(cost("cost_capex_chips_usd"), "supply", sup["vendor"]),
        "energy_usd": _group(cost("cost_energy_usd"), "supply", pd.Series(UTILITY, index=sup.index)),
        "via_providers_usd": _group((cost("cost_contract_usd") + cost("cost_lease_usd")).where(other, 0.0), "supply",
                                    sup["vendor"]),
    }
    if "cost_capex_sites_usd" in ds and ds.sizes.get("site", 0):
        parts["capex_sites_usd"] = _group(ds["cost_capex_sites_usd"], "site", portfolio.sites["provider"])
    parts["vendor_equity_usd"] = _equity(portfolio, periods)
    parts["funding_usd"] = _funding(portfolio, periods)
    long = pd.concat({k: v.stack() for k, v in parts.items() if len(v)}, axis=1)
    long.index.names = ["counterparty", "period"]
    long = long.reindex(columns=list(COLUMNS)).fillna(0.0)
    long["paid_usd"] = long[["contract_usd", "lease_usd", "capex_chips_usd", "capex_sites_usd", "energy_usd"]].sum(axis=1)
    long["inflow_usd"] = long["vendor_equity_usd"] + long["funding_usd"]
    long["net_flow_usd"] = long["inflow_usd"] - long["paid_usd"]
    keep = long.drop(columns="firm_owed_usd").abs().sum(axis=1).groupby(level="counterparty").transform("sum") > 0
    keep |= long["firm_owed_usd"].groupby(level="counterparty").transform("sum") > 0
    return long[keep.to_numpy()].sort_index()


def _equity(portfolio: Portfolio, periods: list[str]) -> pd.DataFrame:
    eq = vendor_equity_by_deal_usd(portfolio)
    if not eq.sizes["deal"]:
        return pd.DataFrame(columns=periods, dtype=float)
    eq = eq.assign_coords(period=periods)
    return _group(eq, "deal", portfolio.deals["vendor"])


def _funding(portfolio: Portfolio, periods: list[str]) -> pd.DataFrame:
    """Funding per investor and period (rounds without an investor go to one unnamed row)."""
    rows = {}
    labels = list(portfolio.horizon.labels)
    for name, f in portfolio.scenario.finance.funding.items():
        who = f.investor or UNNAMED_INVESTORS
        row = rows.setdefault(who, np.zeros(len(labels)))
        row[portfolio.horizon.position(f.period)] += float(f.amount)
    return pd.DataFrame(rows, index=periods).T if rows else pd.DataFrame(columns=periods, dtype=float)


def by_year(plan: Plan, portfolio: Portfolio) -> pd.DataFrame:
    """:func:`by_period` summed into calendar years (every column is a flow)."""
    long = by_period(plan, portfolio).reset_index()
    long["year"] = year_of(long["period"])
    return long.drop(columns="period").groupby(["counterparty", "year"]).sum()


def roles(portfolio: Portfolio, names) -> pd.Series:
    """What each counterparty is to the lab: provider kinds, vendor, utility, investor ('+'-joined)."""
    sc = portfolio.scenario
    vendors = set(portfolio.accelerators["vendor"].dropna())
    investors = {f.investor or UNNAMED_INVESTORS for f in sc.finance.funding.values()}
    out = {}
    for n in names:
        r = []
        if n in sc.providers:
            r.append(sc.providers[n].kind)
        if n in vendors:
            r.append("vendor")
        if n == UTILITY:
            r.append("utility")
        if n in investors:
            r.append("investor")
        out[n] = "+".join(r) or "counterparty"
    return pd.Series(out, name="role", dtype=object)


def summary(plan: Plan, portfolio: Portfolio, yearly: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per counterparty: its role, the horizon's totals of :func:`by_period`, its committed value
    (firm and options, over whole terms, as :func:`gigawatt.finance.commitments` values them), its share of
    the lab's firm commitments, the warrants it granted (text, not valued) and its peak year of payments.
    ``yearly``: :func:`by_year` of the same plan when the caller has it already."""
    yearly = by_year(plan, portfolio) if yearly is None else yearly
    tot = yearly.groupby(level="counterparty").sum()
    com = commitments(portfolio)
    firm_c = com[com["firm"].astype(bool)].groupby("counterparty")["value_usd"].sum()
    opt_c = com[~com["firm"].astype(bool)].groupby("counterparty")["value_usd"].sum()
    names = tot.index.union(com["counterparty"].unique())
    out = tot.reindex(names).fillna(0.0)
    out.insert(0, "role", roles(portfolio, names))
    out["commitments_firm_usd"] = firm_c.reindex(names).fillna(0.0)
    out["commitments_option_usd"] = opt_c.reindex(names).fillna(0.0)
    total_firm = float(firm_c.sum())
    out["share_of_firm_commitments"] = out["commitments_firm_usd"] / total_firm if total_firm > 0 else 0.0
    paid = yearly["paid_usd"].unstack("year").reindex(names).fillna(0.0)
    out["peak_year"] = [int(paid.columns[np.argmax(r)]) if r.max() > 0 else None for r in paid.to_numpy()]
    warr = portfolio.contracts["warrants"].replace("", np.nan).dropna()
    text = warr.groupby(portfolio.contracts.loc[warr.index, "counterparty"]).agg("; ".join)
    out["warrants"] = text.reindex(names).fillna("")
    out.index.name = "counterparty"
    return out.sort_values(["commitments_firm_usd", "paid_usd"], ascending=False)


def tables(plan: Plan, portfolio: Portfolio) -> dict[str, pd.DataFrame]:
    """The run's exposure tables by file stem: ``exposure`` (per counterparty) and ``exposure_by_year``."""
    yearly = by_year(plan, portfolio)
    return {"exposure": summary(plan, portfolio, yearly), "exposure_by_year": yearly}


def run_additions(plan: Plan, portfolio: Portfolio) -> dict:
    """What a solved run's directory holds beside its plan and finance, as keywords of
    ``results.write_run_dir``: the firm commitments' total (summary.json) and the exposure tables. The one
    list shared by ``gigawatt solve --out`` and ``Plan.write`` (so that both write the same run)."""
    from gigawatt.finance import commitments_usd_total

    return {"commitments_usd_total": commitments_usd_total(portfolio), "extra_tables": tables(plan, portfolio)}


# --- under uncertainty ----------------------------------------------------------------------------------

OTHER_COSTS = "other costs (non-compute)"


def scheduled_payments(plan: Plan, portfolio: Portfolio) -> pd.DataFrame:
    """What the lab is due to pay per (counterparty × period) as planned: :func:`by_period`'s ``paid_usd``,
    plus the scenario's non-compute costs as one more creditor (a shortfall falls on them too)."""
    paid = by_period(plan, portfolio)["paid_usd"].unstack("period").fillna(0.0)
    paid = paid[paid.sum(axis=1) > 0]  # an investor the lab pays nothing cannot be left unpaid
    other = pd.Series(portfolio.data["other_costs_usd"].values, index=paid.columns, name=OTHER_COSTS)
    return pd.concat([paid, other.to_frame().T]) if float(other.sum()) > 0 else paid


def unpaid(cash: np.ndarray, payments: np.ndarray, *, floor: float = 0.0, can_raise: float = 0.0) -> np.ndarray:
    """Payments left unpaid, (counterparty, period, draw), when cash may not fall below ``floor`` and the
    lab can raise at most ``can_raise`` more over the horizon.

    ``cash`` (period, draw) is each draw's cash at the end of each period with every payment made (the
    Monte Carlo's cash); ``payments`` (counterparty, period) what each is due. To hold cash ≥ floor − can_raise
    the lab must have skipped by period t the running maximum of the deficits, S_t = max_{s≤t} max(0, floor −
    can_raise − K_s) (skipping X lifts every later cash by X); it skips u_t = S_t − S_{t−1} in period t, shared
    among counterparties in proportion to what each is due in t. Σ_t u_t = S_T is the draw's funding gap
    below the floor (with floor 0 and nothing to raise, the Monte Carlo's funding gap)."""
    deficit = np.maximum(0.0, floor - can_raise - np.asarray(cash, dtype=float))
    skipped = np.maximum.accumulate(deficit, axis=0)
    u = np.diff(skipped, axis=0, prepend=0.0)  # (P, n)
    due = np.asarray(payments, dtype=float)
    total = due.sum(axis=0)
    share = np.divide(due, total, out=np.zeros_like(due), where=total > 0)  # (C, P)
    return share[:, :, None] * u[None, :, :]


def tail_mean(x: np.ndarray, alpha: float) -> np.ndarray:
    """CVaR_alpha of each row of ``x`` (row, draw) over equally likely draws: the mean of its largest
    ⌈(1 − alpha)·n⌉ values (at least one)."""
    k = max(1, int(np.ceil((1 - alpha) * x.shape[1])))
    return -np.sort(-x, axis=1)[:, :k].mean(axis=1) + 0.0  # + 0.0: no "-0" in the CSVs


class UnpaidStatistics:
    """Per counterparty over all draws, fed chunk by chunk: the probability of being left unpaid in each
    year, the expected unpaid amount per year, and each draw's total unpaid (for the tail, CVaR)."""

    def __init__(self, payments: pd.DataFrame, *, floor: float, can_raise: float, alpha: float = 0.95):
        self.payments, self.floor, self.can_raise, self.alpha = payments, floor, can_raise, alpha
        self.years = np.array(year_of(payments.columns))
        self.uy = sorted(set(self.years))
        self.hit = np.zeros((len(payments), len(self.uy)))
        self.amount = np.zeros((len(payments), len(self.uy)))
        self.totals: list[np.ndarray] = []
        self.draws = 0

    def consume(self, cash: np.ndarray) -> None:
        u = unpaid(cash, self.payments.to_numpy(), floor=self.floor, can_raise=self.can_raise)  # (C, P, n)
        for k, y in enumerate(self.uy):
            uy = u[:, self.years == y, :].sum(axis=1)
            self.hit[:, k] += (uy > 1e-6).sum(axis=1)
            self.amount[:, k] += uy.sum(axis=1)
        self.totals.append(u.sum(axis=1))
        self.draws += cash.shape[1]

    def result(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(per counterparty: probability unpaid in any year, expected and CVaR_alpha total unpaid, the
        year where the expected amount concentrates; per counterparty and year: probability, expected)."""
        tot = np.concatenate(self.totals, axis=1)  # (C, draws)
        tail = tail_mean(tot, self.alpha)
        names = self.payments.index
        exp_y = self.amount / self.draws
        summary = pd.DataFrame({"probability_unpaid": (tot > 1e-6).mean(axis=1), "expected_unpaid_usd": tot.mean(axis=1),
                                f"cvar{int(round(self.alpha * 100))}_unpaid_usd": tail,
                                "peak_year": [self.uy[int(np.argmax(r))] if r.max() > 0 else None for r in exp_y],
                                "draws": self.draws, "floor_usd": self.floor, "can_raise_usd": self.can_raise},
                               index=pd.Index(names, name="counterparty"))
        yearly = pd.DataFrame({"probability_unpaid": (self.hit / self.draws).ravel(), "expected_unpaid_usd": exp_y.ravel()},
                              index=pd.MultiIndex.from_product([names, self.uy], names=["counterparty", "year"]))
        return summary.sort_values("expected_unpaid_usd", ascending=False), yearly


__all__ = ["COLUMNS", "UTILITY", "OTHER_COSTS", "by_period", "by_year", "roles", "summary", "tables",
           "scheduled_payments", "unpaid", "tail_mean", "UnpaidStatistics"]
