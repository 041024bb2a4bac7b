"""Sites: which provider owns each, and its power envelope (maximum and already energised) per period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gigawatt.errors import did_you_mean
from gigawatt.portfolio.accelerators import need
from gigawatt.portfolio.context import BuildContext


SITE_COLUMNS = ["site", "provider", "lab_share", "build_cost_usd_per_mw", "lead_time_months", "pue",
                "energy_price_usd_per_mwh", "facility_life_years", "location"]


def build_sites(ctx: BuildContext, accel: pd.DataFrame):
    """The sites' table and power envelopes (``site_rows``, then ``sites_table``)."""
    rows, pmax, pex = site_rows(ctx, accel)
    return sites_table(ctx, rows), pmax, pex


def sites_table(ctx: BuildContext, rows: list[dict]) -> pd.DataFrame:
    """The sites' table (indexed by ``site``) from ``site_rows``' rows. A section of its own so that a
    rebuild whose sites differ in a figure only patches the previous table (``reuse.patch_table``)."""
    return pd.DataFrame(rows, columns=SITE_COLUMNS).set_index("site")


def site_owners(rows: list[dict]) -> list[tuple]:
    """(site, provider, lab share) of each site, from ``site_rows``' rows: what the options read of a
    site (its costs reach them through the offtake alone)."""
    return [(r["site"], r["provider"], r["lab_share"]) for r in rows]


def site_rows(ctx: BuildContext, accel: pd.DataFrame) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """Each site's row (its owner and figures; problems of the providers' sites lists and of the
    envelopes are recorded) and its power envelopes, maximum and existing (site × period)."""
    owner: dict[str, str] = {}
    for pname, prov in ctx.sc.providers.items():
        if prov.sites and prov.kind not in ("owned", "joint_venture"):
            ctx.problem(f"provider '{pname}' of kind {prov.kind} lists sites", ("providers", pname, "sites"),
                         value=prov.sites, expected="sites only under owned or joint_venture providers",
                         fix="change the kind, or move the sites to an owned/joint_venture provider")
        if prov.offers and prov.kind in ("owned", "joint_venture"):
            ctx.problem(f"provider '{pname}' of kind {prov.kind} has offers", ("providers", pname, "offers"),
                         expected="offers only under cloud or neocloud providers",
                         fix="model its capacity as sites, or change its kind")
        for s in prov.sites:
            if s not in ctx.sc.sites:
                ctx.problem(f"unknown site '{s}'", ("providers", pname, "sites"), value=s,
                             expected="a name defined under sites:",
                             fix="define the site or correct the name." + did_you_mean(s, ctx.sc.sites))
            elif s in owner:
                ctx.problem(f"site '{s}' is listed by two providers ('{owner[s]}' and '{pname}')",
                             ("providers", pname, "sites"), value=s, expected="each site under one provider",
                             fix="remove it from one of them")
            else:
                owner[s] = pname
    rows, pmax, pex = [], [], []
    installable: set[str] = set()  # accelerators found to have every figure (a lack is reported per site)
    for sname, site in ctx.sc.sites.items():
        if sname not in owner:
            ctx.problem(f"site '{sname}' is used by no provider", ("sites", sname), value=sname,
                         expected="every site listed under an owned or joint_venture provider's sites:",
                         fix=f"add '{sname}' to a provider's sites list, or remove the site")
            continue
        for a in site.accelerators:
            if a not in installable and need(
                    ctx, accel, a, ["bf16_flop_per_s", "all_in_power_kw", "purchase_price_usd", "useful_life_years"],
                    f"to install it at site '{sname}'", ("sites", sname, "accelerators")):
                installable.add(a)
        mx = ctx.series(site.power_max, "sites", sname, "power_max")
        ex = ctx.series(site.power_existing, "sites", sname, "power_existing")
        if (ex > mx + 1e-9).any():
            ctx.problem("existing power exceeds the site's power_max", ("sites", sname, "power_existing"),
                         value=float(ex.max()), expected=f"at most power_max ({float(mx.max())} MW)",
                         fix="raise power_max or lower power_existing")
        if (np.diff(mx) < -1e-9).any():
            ctx.problem("power_max decreases over time", ("sites", sname, "power_max"),
                         expected="a cumulative envelope that never decreases",
                         fix="give the total power that can be energised by each period")
        own = ownership_of(ctx, sname, owner[sname])
        rows.append({"site": sname, "provider": owner[sname], "lab_share": own.lab_share if own else 1.0,
                     "build_cost_usd_per_mw": site.build_cost,
                     "lead_time_months": site.lead_time, "pue": site.pue,
                     "energy_price_usd_per_mwh": site.energy_price, "facility_life_years": site.facility_life,
                     "location": site.location or ""})
        pmax.append(mx)
        pex.append(ex)
    shape = (len(rows), ctx.horizon.n)
    return rows, np.array(pmax).reshape(shape), np.array(pex).reshape(shape)


def ownership_of(ctx: BuildContext, sname: str, provider: str, *, check: bool = True):
    """The site's ownership (its own, else its provider's; None: the lab owns it all). Only a
    joint_venture's sites may be shared, and an offtake price must name an accelerator the site installs."""
    site, prov = ctx.sc.sites[sname], ctx.sc.providers[provider]
    own = site.ownership or prov.ownership
    if own is None or not check:
        return own if ctx.sc.providers[provider].kind == "joint_venture" else None
    path = ("sites", sname, "ownership") if site.ownership else ("providers", provider, "ownership")
    if prov.kind != "joint_venture":
        ctx.problem(f"ownership of site '{sname}' whose provider '{provider}' is {prov.kind}", path,
                    expected="ownership only for the sites of a joint_venture provider",
                    fix=f"make '{provider}' a joint_venture, or remove the ownership")
        return None
    extra = [a for a in own.offtake_price if a not in site.accelerators]
    if extra and site.ownership:
        ctx.problem("offtake price for an accelerator the site does not install", path + ("offtake_price",),
                    value=", ".join(extra), expected="one of: " + ", ".join(site.accelerators),
                    fix="correct the accelerator id, or add it to the site's accelerators")
    return own


def offtake_usd_per_chip_hour(ctx: BuildContext, accel, site, own, a: str) -> float:
    """Price per chip-hour of accelerator ``a`` the JV charges at ``site``: the scenario's offtake_price,
    else the JV's levelised cost at the partners' return r: p_a·A(r, L_a) + c_s·kW·A(r, L_s) per year,
    over 8,760 h, plus energy; A(r, L) = r / (1 − (1 + r)^−L) (1/L at r = 0), kW at the site's PUE.
    ``accel``: the accelerators' table, or anything whose ``.at[a, column]`` gives its cells
    (``supply.offtake``'s dicts: the same values without pandas' cost per cell); ``site``: the site's
    row (a Series or a dict of its cells)."""
    if own is None or own.lab_share >= 1.0:
        return 0.0
    if a in own.offtake_price:
        return float(own.offtake_price[a])
    r = own.partner_return if own.partner_return is not None else float(ctx.sc.horizon.discount_rate)

    def annuity(life: float) -> float:
        return 1.0 / life if r == 0 else r / (1.0 - (1.0 + r) ** -life)

    kw = float(accel.at[a, "all_in_power_kw"]) * float(site["pue"]) / 1.14
    per_year = (float(accel.at[a, "purchase_price_usd"]) * annuity(float(accel.at[a, "useful_life_years"]))
                + float(site["build_cost_usd_per_mw"]) * kw / 1e3 * annuity(float(site["facility_life_years"])))
    return per_year / 8760.0 + kw / 1e3 * float(site["energy_price_usd_per_mwh"])
