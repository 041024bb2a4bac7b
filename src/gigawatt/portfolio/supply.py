"""Supply options, the one dimension every decision shares (``supply``): chips owned at a site (``own``: one
per site × installable accelerator), chips rented on demand (``lease``: one per provider offer) and capacity
under a contract (``contract``: one per capacity contract), with their per-period arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gigawatt.errors import did_you_mean
from gigawatt.periods import label_start
from gigawatt.portfolio.accelerators import need
from gigawatt.portfolio.context import BuildContext
from gigawatt.portfolio.contracts import contract_schedule
from gigawatt.portfolio.sites import offtake_usd_per_chip_hour, ownership_of


def build_supply(ctx: BuildContext, accel: pd.DataFrame, sites: pd.DataFrame):
    """The supply table (with each option's offtake price) and its per-period arrays."""
    rows, sup = supply_rows(ctx, accel, list(zip(sites.index, sites["provider"], sites["lab_share"])))
    return with_offtake(rows, supply_offtake(ctx, accel, sites.reset_index().to_dict("records"), rows)), sup


def with_offtake(rows: pd.DataFrame, offtake: np.ndarray) -> pd.DataFrame:
    """The supply table: ``supply_rows``' table with the offtake price per chip-hour as its last column."""
    return rows.assign(offtake_usd_per_chip_hour=offtake)


def supply_offtake(ctx: BuildContext, accel: pd.DataFrame, sites: list[dict], rows: pd.DataFrame) -> np.ndarray:
    """Offtake price per chip-hour of each option (``offtake_usd_per_chip_hour``: owned at a joint venture's
    site, the partners' share is paid through it; 0 for every other option). Apart from ``supply_rows``
    because it alone reads a site's costs (a sweep of a build cost rebuilds this, not the options).
    ``sites``: the sites' rows (``sites.site_rows``: the sites table's cells, without building it)."""
    out = np.zeros(len(rows))
    kinds, site_of, accel_of = (rows[c].to_numpy() for c in ("kind", "site", "accelerator"))
    own_rows = np.flatnonzero(kinds == "own")
    if not len(own_rows):
        return out
    # the cells as dicts, read once: a pandas lookup per cell cost more than the whole price
    cells = _Cells({c: accel[c].to_dict() for c in _OFFTAKE_FIGURES})
    site_rows = {r["site"]: r for r in sites}
    at_site: dict = {}  # each site's row and ownership, looked up once
    for i in own_rows:
        sname = site_of[i]
        if sname not in at_site:
            s = site_rows[sname]
            at_site[sname] = (s, ownership_of(ctx, sname, s["provider"], check=False))
        s, own = at_site[sname]
        out[i] = offtake_usd_per_chip_hour(ctx, cells, s, own, accel_of[i])
    return out


_OFFTAKE_FIGURES = ("all_in_power_kw", "purchase_price_usd", "useful_life_years")  # the accelerator's, it reads


class _Cells:
    """``.at[a, column]`` of the accelerators' table, from its columns as dicts (``offtake_usd_per_chip_hour``)."""

    def __init__(self, columns: dict[str, dict]):
        self.at = self
        self._columns = columns

    def __getitem__(self, key: tuple):
        a, column = key
        return self._columns[column][a]


ARRAYS = ("buy_allowed", "lease_available_chips", "lease_price_usd_per_chip_hour", "contract_capacity_chips",
          "contract_fixed_payment_usd", "contract_use_price_usd_per_chip_hour", "contract_firm")
COLUMNS = ["name", "kind", "provider", "site", "accelerator", "vendor", "contract", "lab_share"]


class _Options:
    """Rows of options and their arrays (the ones an option does not set: 0, or no limit for leases)."""

    def __init__(self, n: int):
        self.n, self.rows = n, []
        self.arrays: dict[str, list[np.ndarray]] = {k: [] for k in ARRAYS}

    def add(self, row: dict, **arr: np.ndarray) -> None:
        self.rows.append(row)
        for k in ARRAYS:
            default = 0.0 if k != "lease_available_chips" else np.inf
            self.arrays[k].append(arr.get(k, np.full(self.n, default)))


def _available(ctx: BuildContext, accel: pd.DataFrame, aid: str) -> np.ndarray:
    """Periods in which accelerator ``aid`` can be had: those ending after it is available."""
    when = accel.at[aid, "available"]
    if pd.isna(when):
        return np.ones(ctx.horizon.n, dtype=bool)
    return ctx.period_end > np.datetime64(label_start(str(when)))


def own_options(ctx: BuildContext, accel: pd.DataFrame, owners: list[tuple]) -> tuple[list, dict]:
    """One option per site × accelerator it installs; ``owners``: (site, provider, lab share) of each site
    (``sites.site_owners``)."""
    out = _Options(ctx.horizon.n)
    for sname, provider, lab_share in owners:
        for a in ctx.sc.sites[sname].accelerators:
            if a not in accel.index:
                continue
            # chips can be bought once the accelerator is available; a site's lead time limits its
            # power (Site-power), and chips need power, so it also delays what can be installed.
            out.add({"name": f"{sname}/{a}", "kind": "own", "provider": provider, "site": sname,
                     "accelerator": a, "vendor": accel.at[a, "vendor"], "contract": "", "lab_share": lab_share},
                    buy_allowed=_available(ctx, accel, a).astype(float))
    return out.rows, out.arrays


def lease_options(ctx: BuildContext, accel: pd.DataFrame) -> tuple[list, dict]:
    """One option per provider offer: chips rented on demand."""
    out = _Options(ctx.horizon.n)
    for pname, prov in ctx.sc.providers.items():
        for a, offer in prov.offers.items():
            path = ("providers", pname, "offers", a)
            if not need(ctx, accel, a, ["bf16_flop_per_s"], f"for {pname}'s offer", path):
                continue
            price = offer.on_demand_price
            if price is None:
                price = accel.at[a, "rental_price_usd_per_chip_hour"]
                if pd.isna(price):
                    ctx.problem(f"no on-demand price for '{a}' at '{pname}'", path + ("on_demand_price",),
                                 expected="on_demand_price here or a rental_price in the catalog",
                                 fix=f"set providers.{pname}.offers.{a}.on_demand_price")
                    continue
            avail = ctx.series(offer.available, *path, "available", default=np.inf)
            avail = np.where(_available(ctx, accel, a), avail, 0.0)
            out.add({"name": f"{pname}/{a}", "kind": "lease", "provider": pname, "site": "", "accelerator": a,
                     "vendor": accel.at[a, "vendor"], "contract": ""},
                    lease_available_chips=avail, lease_price_usd_per_chip_hour=np.full(out.n, float(price)))
    return out.rows, out.arrays


def contract_options(ctx: BuildContext, accel: pd.DataFrame) -> tuple[list, dict]:
    """One option per capacity contract, with its schedule (``contract_schedule``)."""
    out = _Options(ctx.horizon.n)
    for cname, c in ctx.sc.contracts.items():
        if c.kind != "capacity":
            continue
        path = ("contracts", cname)
        if c.counterparty not in ctx.sc.providers:
            ctx.problem(f"unknown provider '{c.counterparty}'", path + ("counterparty",), value=c.counterparty,
                         expected="a provider defined under providers: (capacity contracts are with providers)",
                         fix="correct the name." + did_you_mean(c.counterparty, ctx.sc.providers))
        fields = ["bf16_flop_per_s"] + (["all_in_power_kw"] if c.power else [])
        # checked even when the counterparty is unknown: every problem of the file is reported at once
        if not need(ctx, accel, c.accelerator, fields, f"by contract '{cname}'", path + ("accelerator",)):
            continue
        if c.counterparty not in ctx.sc.providers:
            continue
        cap, fixed, use_price = contract_schedule(ctx, cname, c, accel)
        out.add({"name": f"contract:{cname}", "kind": "contract", "provider": c.counterparty, "site": "",
                 "accelerator": c.accelerator, "vendor": accel.at[c.accelerator, "vendor"], "contract": cname},
                contract_capacity_chips=cap, contract_fixed_payment_usd=fixed,
                contract_use_price_usd_per_chip_hour=np.full(out.n, use_price),
                contract_firm=np.full(out.n, 1.0 if c.firm else 0.0))
    return out.rows, out.arrays


def options_table(ctx: BuildContext, *rows: list) -> pd.DataFrame:
    """The options' table (indexed by ``supply``), from the rows of each kind in order."""
    supply = pd.DataFrame([r for part in rows for r in part], columns=COLUMNS)
    # the lab's share of an option (owned at a joint venture's site: its equity share; the rest: all of it)
    supply["lab_share"] = supply["lab_share"].fillna(1.0).astype(float)
    return supply.set_index("name").rename_axis("supply")


def options_arrays(ctx: BuildContext, *arrays: dict) -> dict[str, np.ndarray]:
    """The options' per-period arrays (supply × period), from those of each kind in order."""
    n = ctx.horizon.n
    return {k: np.array([a for part in arrays for a in part[k]]).reshape(-1, n) for k in ARRAYS}


def supply_rows(ctx: BuildContext, accel: pd.DataFrame, owners: list[tuple]):
    """The options (without their offtake price: ``supply_offtake``) and their per-period arrays; ``owners``:
    (site, provider, lab share) of each site."""
    parts = (own_options(ctx, accel, owners), lease_options(ctx, accel), contract_options(ctx, accel))
    return options_table(ctx, *(r for r, _ in parts)), options_arrays(ctx, *(a for _, a in parts))
