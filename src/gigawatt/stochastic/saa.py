"""How far the sample-average (SAA) answer is from optimal: a confidence interval from replications.

The hedge solves the stochastic program over N futures, a sample of the uncertainty section. Its optimum
z_N is an estimate: E[z_N] ≤ z* (the optimum over the true distribution), and any first-stage decision x̂
costs at least z* in expectation. So (Mak, Morton & Wood 1999):

- **lower bound**: M independent sets of N futures (seeds s + 100 + m, m = 0..M−1), each solved:
  L̄ = mean of z_N^m, with a t-interval L̄ ± t_{M−1} s_L/√M (95%);
- **upper bound**: the chosen commitments x̂ (the risk-neutral hedge's) fixed and evaluated on K fresh
  futures (seed s + 2; recourse re-optimised per future): Ū = mean net present cost ± t_{K−1} s_U/√K;
- **gap** Ū − L̄, and a conservative 95% bound on it (Ū + its half-width) − (L̄ − its half-width).

Risk-neutral (expected cost): with CVaR the objective is not a mean and the bounds do not apply as such.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from gigawatt.portfolio import Portfolio
from gigawatt.stochastic.extensive import solve_extensive
from gigawatt.stochastic.futures import draw_futures

REPLICATION_SEED_OFFSET = 100  # replication m uses seed + 100 + m: apart from the fit (s) and fresh draws (s + 1, s + 2)
UPPER_SEED_OFFSET = 2
# Student's t, 97.5% quantile, for 1..30 degrees of freedom (standard tables)
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)


def t975(df: int) -> float:
    """Student's t 97.5% quantile: the table to 30 degrees of freedom, beyond it the Cornish–Fisher
    expansion around z = 1.96 (error < 1e-4)."""
    if df < 1:
        return math.nan
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


def mean_interval(values: np.ndarray) -> dict:
    """Mean and the half-width of its 95% t-interval (none from a single value)."""
    n = len(values)
    half = t975(n - 1) * float(np.std(values, ddof=1)) / math.sqrt(n) if n > 1 else None
    return {"mean": float(np.mean(values)), "half_width_95": half, "n": n}


def saa_interval(portfolio: Portfolio, n: int, seed: int, commitments: dict[str, xr.DataArray], *,
                 replications: int, upper_futures: int, method: str = "auto", threads: int | None = None) -> dict:
    """Lower bound from ``replications`` sets of ``n`` futures, upper bound from ``commitments`` evaluated on
    ``upper_futures`` fresh futures, and the gap (module docstring). USD."""
    lows = np.array([solve_extensive(draw_futures(portfolio, n, seed + REPLICATION_SEED_OFFSET + m),
                                     method=method, threads=threads).expected_usd for m in range(replications)])
    fresh = draw_futures(portfolio, upper_futures, seed + UPPER_SEED_OFFSET)
    ev = solve_extensive(fresh, fixed=commitments, method=method, threads=threads)
    lower = {**mean_interval(lows), "futures_each": n,
             "seeds": [seed + REPLICATION_SEED_OFFSET + m for m in range(replications)]}
    upper = {**mean_interval(ev.npc_usd.values), "seed": seed + UPPER_SEED_OFFSET}
    out = {"lower_bound_usd": lower, "upper_bound_usd": upper, "gap_usd": upper["mean"] - lower["mean"]}
    if lower["half_width_95"] is not None and upper["half_width_95"] is not None:
        out["gap_upper_95_usd"] = (upper["mean"] + upper["half_width_95"]) - (lower["mean"] - lower["half_width_95"])
    return out


__all__ = ["mean_interval", "saa_interval", "t975"]
