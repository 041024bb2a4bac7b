"""Exact order statistics of large float64 arrays in two passes (histogram select, compiled with numba).

To find the values of ranks k₁ < … < kₘ among n values (docs/risk.md, "Percentiles"): one pass counts the
values in 2¹⁶ equal-width bins between the minimum and the maximum (the bin of v is ⌊(v − min)·scale⌋,
which never decreases as v grows, so the bins are ordered and the cumulative counts say which bin holds
each wanted rank); a second pass copies the values of those bins only; each copied bin is sorted if it is
small, or split again the same way. The values found are those a full sort puts at those ranks, so
percentiles built on them equal ``np.percentile`` (method "linear") bit for bit.

np.partition does the same job in ~18 ns per value on this project's machine (docs/performance.md);
this takes ~2 ns, which is what lets percentiles over a million draws cost less than drawing them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

N_BINS = 1 << 16
SMALL = 2048  # a bin with at most this many values is sorted
MAX_LEVELS = 6  # past this depth (pathological spacing), a bin is sorted whatever its size

@njit(cache=True, nogil=True, inline="always")
def _bin_of(v, lo, hi, scale):
    """Bin 0 holds the values equal to the minimum, bin N_BINS + 1 those equal to the maximum (atoms such
    as a fraction's zeros are then done at once), bins 1..N_BINS the rest in order. Branch-free: a row
    that is half zeros, in random order, would otherwise mispredict every other value."""
    core = int((v * 0.5 - lo * 0.5) * scale)  # halves: no overflow for any pair of finite values
    core = core if core < N_BINS - 1 else N_BINS - 1
    return core + int(v > lo) + int(v >= hi)


@njit(cache=True, nogil=True)
def _select(x, rk, pos, out, lo, hi, level):
    """out[pos[i]] = the value of rank rk[i] (0-based; sorted, distinct) among finite ``x``, whose minimum
    and maximum are ``lo`` and ``hi``; each bin that holds a wanted rank is split again (recursion)."""
    n = x.size
    if lo == hi:
        for i in range(rk.size):
            out[pos[i]] = lo
        return 0
    scale = (N_BINS - 1) / (hi * 0.5 - lo * 0.5)
    if n <= SMALL or level >= MAX_LEVELS or not (0.0 < scale < np.inf):
        s = np.sort(x)
        for i in range(rk.size):
            out[pos[i]] = s[rk[i]]
        return 0
    counts = np.zeros(N_BINS + 2, np.int32)
    for i in range(n):
        counts[_bin_of(x[i], lo, hi, scale)] += 1
    # the bin of each wanted rank, and the ranks below that bin
    slot = np.full(N_BINS + 2, -1, np.int16)  # fewer than 2¹⁵ ranks: see order_statistics
    bins = np.empty(rk.size, np.int64)
    below = np.empty(rk.size, np.int64)
    n_slots = 0
    b, seen = 0, counts[0]
    for i in range(rk.size):
        while seen <= rk[i]:
            b += 1
            seen += counts[b]
        if b == 0 or b == N_BINS + 1:  # an atom: no need to look further
            out[pos[i]] = lo if b == 0 else hi
            continue
        if slot[b] < 0:
            slot[b] = n_slots
            bins[n_slots] = b
            below[n_slots] = seen - counts[b]
            n_slots += 1
    offset = np.zeros(n_slots + 1, np.int64)
    for s_ in range(n_slots):
        offset[s_ + 1] = offset[s_] + counts[bins[s_]]
    flat = np.empty(offset[n_slots])
    fill = offset[:n_slots].copy()
    for i in range(n):
        s_ = slot[_bin_of(x[i], lo, hi, scale)]
        if s_ >= 0:
            flat[fill[s_]] = x[i]
            fill[s_] += 1
    for s_ in range(n_slots):
        sub = flat[offset[s_]: offset[s_ + 1]]
        sel = (rk >= below[s_]) & (rk < below[s_] + counts[bins[s_]])
        sub_lo = sub_hi = sub[0]
        for v in sub:
            sub_lo = v if v < sub_lo else sub_lo
            sub_hi = v if v > sub_hi else sub_hi
        _select(sub, rk[sel] - below[s_], pos[sel], out, sub_lo, sub_hi, level + 1)
    return 0


def order_statistics(values: np.ndarray, ranks) -> np.ndarray:
    """Values at 0-based ascending ``ranks`` of a 1-D array (not modified), as a full sort would place them."""
    a = np.ascontiguousarray(values, dtype=np.float64)
    r = np.asarray(ranks, dtype=np.int64)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D array, got shape {a.shape}")
    if r.size == 0:
        return np.empty(0)
    if r.min() < 0 or r.max() >= a.size:
        raise ValueError(f"ranks must lie in [0, {a.size}), got {r.min()}..{r.max()}")
    uniq, back = np.unique(r, return_inverse=True)
    lo, hi = a.min(), a.max()  # NaN if any value is NaN
    if np.isfinite(lo) and np.isfinite(hi):
        found = np.empty(uniq.size)
        _select(a, uniq, np.arange(uniq.size), found, float(lo), float(hi), 0)
    else:
        found = np.partition(a.copy(), uniq)[uniq]  # NaN or ±inf: numpy's own ordering
    return found[back]


__all__ = ["order_statistics", "N_BINS"]
