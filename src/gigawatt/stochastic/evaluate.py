"""Out-of-sample evaluation: a plan's commitments fixed, its outcomes over fresh Monte Carlo draws.

The draws are ``simulate``'s (risk/: the same sampler, kernel and dispatch rule), taken with a seed other
than the futures' so neither plan is judged on the futures it was fitted to. Every draw's compute spending
(present value, docs/glossary.md) and funding gap are kept, so the summary has any quantile and the mean's
standard error."""

from __future__ import annotations

import numpy as np

from gigawatt.risk.build import build_model
from gigawatt.risk.chunks import run_chunk, warm_up
from gigawatt.risk.schedule import chunk_draws, chunk_starts

QUANTILES = (5, 50, 95)


def draws_of(plan, portfolio, *, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Per draw: compute spending PV (USD), funding gap (USD), out of cash at some point (bool), and the
    unmet share of demand (mean over periods): compute spending has no penalty for demand not served, so a
    plan that serves less spends less, and the two are read together."""
    model = build_model(plan, portfolio)
    warm_up(model)
    chunk = chunk_draws(model.n_periods, None)
    npc, gap, unmet = np.empty(draws), np.empty(draws), np.empty(draws)
    for s in chunk_starts(draws, chunk):
        n = min(chunk, draws - s)
        r = run_chunk(model, seed, s, n)  # its arrays live until the next chunk: copy them now
        npc[s:s + n], gap[s:s + n], unmet[s:s + n] = r.npc, r.funding_gap, r.unmet_fraction.mean(axis=0)
    return {"compute_spending_pv_usd": npc, "funding_gap_usd": gap, "out_of_cash": gap > 0,
            "unmet_demand_fraction": unmet}


def describe(values: np.ndarray) -> dict[str, float]:
    """Mean, its standard error, and the 5th, 50th and 95th percentiles."""
    out = {"mean": float(values.mean()),
           "mean_standard_error": float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0}
    out.update({f"p{q}": float(v) for q, v in zip(QUANTILES, np.percentile(values, QUANTILES))})
    return out


def out_of_sample(plan, portfolio, *, draws: int, seed: int) -> dict:
    """The distribution of compute spending PV and funding gap, and P(out of cash), over fresh draws."""
    d = draws_of(plan, portfolio, draws=draws, seed=seed)
    return {"draws": int(draws), "seed": int(seed),
            "compute_spending_pv_usd": describe(d["compute_spending_pv_usd"]),
            "funding_gap_usd": describe(d["funding_gap_usd"]),
            "unmet_demand_fraction": describe(d["unmet_demand_fraction"]),
            "probability_out_of_cash": float(d["out_of_cash"].mean())}


__all__ = ["describe", "draws_of", "out_of_sample"]
