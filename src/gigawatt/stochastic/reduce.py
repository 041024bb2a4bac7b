"""Reduce N futures to K weighted representatives: fast forward selection (Heitsch & Römisch, 2003).

Each future is a point: its row of ``Futures.factors`` (every driver's mean factor over the horizon, every
event 0/1), each column scaled to unit standard deviation. Forward selection picks, K times, the future that
most lowers Σ_i p_i · min_{s selected} ‖x_i − x_s‖ (the Kantorovich distance between the N futures and the
selected ones); each future left out then gives its probability to its nearest selected future. Why this
method: it keeps real futures (no averaged, impossible ones), weights them by what they stand for, and is the
standard for scenario reduction in stochastic programming (GAMS SCENRED implements it); k-medoids
would do too but needs a library the package does not have. Caveat: futures are compared on their mean
factors, not their year-by-year paths.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import xarray as xr

from gigawatt.stochastic.futures import Futures


def forward_selection(x: np.ndarray, p: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the K selected points (in selection order) and their new probabilities."""
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))  # (N, N); N ≤ a few thousand
    nearest = np.full(len(p), np.inf)
    chosen: list[int] = []
    for _ in range(k):  # K steps, each vectorised over every candidate
        cand = np.minimum(nearest[None, :], d)
        score = cand @ p
        score[chosen] = np.inf
        u = int(np.argmin(score))
        chosen.append(u)
        nearest = cand[u]
    idx = np.array(chosen)
    owner = np.argmin(d[idx], axis=0)  # each future's nearest selected one (itself when selected)
    return idx, np.bincount(owner, weights=p, minlength=k)


def reduce_futures(futures: Futures, k: int) -> Futures:
    """K weighted representatives of ``futures`` (all of them, unchanged, when K ≥ N)."""
    if k >= futures.n:
        return futures
    x = futures.factors.to_numpy(dtype=float)
    sd = x.std(axis=0)
    x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    idx, prob = forward_selection(x, futures.probability.to_numpy(), k)
    names = [futures.probability.indexes["future"][i] for i in idx]
    data = futures.portfolio.data.sel(future=names)
    p = xr.DataArray(prob, coords={"future": names})
    return Futures(replace(futures.portfolio, data=data), p, futures.seed, futures.factors.loc[names],
                   futures.ignored)


__all__ = ["forward_selection", "reduce_futures"]
