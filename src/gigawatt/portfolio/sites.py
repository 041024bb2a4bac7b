"""Sites: which provider owns each, and its power envelope (maximum and already energised) per period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gigawatt.errors import did_you_mean
from gigawatt.portfolio.accelerators import need
from gigawatt.portfolio.context import BuildContext


def build_sites(ctx: BuildContext, accel: pd.DataFrame):
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
    for sname, site in ctx.sc.sites.items():
        if sname not in owner:
            ctx.problem(f"site '{sname}' is used by no provider", ("sites", sname), value=sname,
                         expected="every site listed under an owned or joint_venture provider's sites:",
                         fix=f"add '{sname}' to a provider's sites list, or remove the site")
            continue
        for a in site.accelerators:
            need(ctx, accel, a, ["bf16_flop_per_s", "all_in_power_kw", "purchase_price_usd", "useful_life_years"],
                      f"to install it at site '{sname}'", ("sites", sname, "accelerators"))
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
        rows.append({"site": sname, "provider": owner[sname], "build_cost_usd_per_mw": site.build_cost,
                     "lead_time_months": site.lead_time, "pue": site.pue,
                     "energy_price_usd_per_mwh": site.energy_price, "facility_life_years": site.facility_life,
                     "location": site.location or ""})
        pmax.append(mx)
        pex.append(ex)
    sites = pd.DataFrame(rows, columns=["site", "provider", "build_cost_usd_per_mw", "lead_time_months", "pue",
                                        "energy_price_usd_per_mwh", "facility_life_years", "location"]).set_index("site")
    shape = (len(sites), ctx.horizon.n)
    return (sites, np.array(pmax).reshape(shape), np.array(pex).reshape(shape))
