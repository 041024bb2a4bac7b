"""Policy share targets: which supply options each target groups, and the periods it applies to."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gigawatt.errors import did_you_mean
from gigawatt.portfolio.context import BuildContext


def build_targets(ctx: BuildContext, supply: pd.DataFrame):
    names, masks, active, rows = [], [], [], []
    vendors = set(supply["vendor"].dropna())
    for tname, t in ctx.sc.policy.share_targets.items():
        path = ("policy", "share_targets", tname)
        for p in t.providers:
            if p not in ctx.sc.providers:
                ctx.problem(f"unknown provider '{p}'", path + ("providers",), value=p,
                             expected="a provider defined under providers:",
                             fix="correct the name." + did_you_mean(p, ctx.sc.providers))
        for v in t.vendors:
            if v not in vendors:
                ctx.problem(f"vendor '{v}' supplies no option in this scenario", path + ("vendors",), value=v,
                             expected="one of: " + ", ".join(sorted(vendors)),
                             fix="correct the name." + did_you_mean(v, vendors))
        mask = np.ones(len(supply), dtype=bool)
        if t.providers:
            mask &= supply["provider"].isin(t.providers).to_numpy()
        if t.vendors:
            mask &= supply["vendor"].isin(t.vendors).to_numpy()
        if t.periods is not None:
            ctx.check_periods(t.periods, *path, "periods")
            act = np.array([p in t.periods for p in ctx.horizon.labels])
        else:
            act = np.ones(ctx.horizon.n, dtype=bool)
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
            np.array(active, dtype=bool).reshape(len(names), ctx.horizon.n))
