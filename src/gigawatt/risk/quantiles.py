"""Percentiles of per-draw values with bounded memory, identical whatever the chunking.

:class:`QuantileStore` keeps every value while ``rows × draws`` fits a budget (exact percentiles, by
histogram selection, :mod:`gigawatt.risk.select`, equal to ``np.percentile(..., method="linear")``); past
the budget it keeps a mergeable, deterministic compactor (KLL-style: full buffers are sorted and every other value kept, with
twice the weight), whose rank error is below ``levels / capacity`` (≈ 1e-4 at the default budget). Either
way the result depends only on the values in draw order, never on chunk sizes or on which worker
computed them.
"""

from __future__ import annotations

import numpy as np

from gigawatt.risk.select import order_statistics

DEFAULT_BUDGET_VALUES = 1 << 24  # values per store kept exactly (128 MiB of float64): 1M draws × 16 periods


def _lerp(a, b, t):
    """numpy's interpolation in np.percentile (monotone, exact at t = 0 and 1)."""
    diff = b - a
    out = a + diff * t
    return np.where(t >= 0.5, b - diff * (1 - t), out)


def exact_quantiles(values: np.ndarray, qs: list[float]) -> np.ndarray:
    """Quantiles ``qs`` (0..1) of a 1-D array (not modified); equal to np.percentile (linear)."""
    n = values.shape[0]
    if n == 0:
        return np.full(len(qs), np.nan)
    pos = np.asarray(qs, dtype=float) * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    t = pos - lo
    need = np.unique(np.concatenate([lo, hi]))
    found = order_statistics(values, need)
    return _lerp(found[np.searchsorted(need, lo)], found[np.searchsorted(need, hi)], t)


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.shape == b.shape and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


class QuantileStore:
    """Values per row (period) for ``n`` draws, fed as (rows, draws) arrays.

    Parameters
    ----------
    rows, n
        Rows (e.g. periods; 1 for a per-draw scalar) and the total number of draws.
    budget
        Most values kept exactly; beyond it the store compacts (see the module docstring).
    """

    def __init__(self, rows: int, n: int, *, budget: int = DEFAULT_BUDGET_VALUES):
        self.rows, self.n = int(rows), int(n)
        self.exact = self.rows * self.n <= budget
        self.fed = 0
        if self.exact:
            self.values = np.empty((self.rows, self.n))
        else:
            cap = max(2048, budget // max(self.rows, 1) // 8)
            self.capacity = cap + (cap % 2)
            self.levels: list[list[np.ndarray]] = [[]]
            self.counts: list[int] = [0]
            self.compactions: list[int] = [0]
        self._pending: dict[int, np.ndarray] = {}

    def put(self, start: int, values: np.ndarray) -> None:
        """Values of draws [start, start + values.shape[1]). In exact mode any order; otherwise chunks are
        buffered until every earlier draw has arrived, so compaction sees them in draw order."""
        values = np.asarray(values, dtype=float).reshape(self.rows, -1)
        if self.exact:
            target = self.values[:, start: start + values.shape[1]]
            if not _same_memory(values, target):  # else written in place already (simulate's kernel)
                target[...] = values
            self.fed += values.shape[1]
            return
        self._pending[start] = values.copy()  # the caller may reuse its buffer
        while self.fed in self._pending:
            chunk = self._pending.pop(self.fed)
            self._push(0, chunk)
            self.fed += chunk.shape[1]

    def _push(self, level: int, values: np.ndarray) -> None:
        if level == len(self.levels):
            self.levels.append([])
            self.counts.append(0)
            self.compactions.append(0)
        self.levels[level].append(values)
        self.counts[level] += values.shape[1]
        while self.counts[level] >= self.capacity:
            buf = np.concatenate(self.levels[level], axis=1)
            full, rest = buf[:, : self.capacity], buf[:, self.capacity:]
            self.levels[level] = [rest] if rest.shape[1] else []
            self.counts[level] = rest.shape[1]
            full = np.sort(full, axis=1)
            offset = self.compactions[level] % 2  # alternate so the errors of successive compactions cancel
            self.compactions[level] += 1
            self._push(level + 1, full[:, offset::2])

    def _weighted(self) -> tuple[np.ndarray, np.ndarray]:
        vals, weights = [], []
        for h, items in enumerate(self.levels):
            for it in items:
                vals.append(it)
                weights.append(np.full(it.shape[1], float(2 ** h)))
        return np.concatenate(vals, axis=1), np.concatenate(weights)

    def quantiles(self, qs: list[float], *, pool=None) -> np.ndarray:
        """(rows, len(qs)) quantiles; exact (np.percentile, linear) when the store kept every value.
        ``pool``: an executor to spread the rows over (the selection releases the GIL)."""
        if self.fed != self.n:
            raise RuntimeError(f"store expects {self.n} draws, got {self.fed}")
        out = np.empty((self.rows, len(qs)))
        if self.exact:
            if pool is None:
                for r in range(self.rows):
                    out[r] = exact_quantiles(self.values[r], qs)
            else:
                for r, q in enumerate(pool.map(lambda r: exact_quantiles(self.values[r], qs), range(self.rows))):
                    out[r] = q
            return out
        vals, w = self._weighted()
        total = w.sum()
        for r in range(self.rows):
            order = np.argsort(vals[r], kind="stable")
            v, ww = vals[r][order], w[order]
            centre = np.cumsum(ww) - (ww + 1) / 2  # rank of each retained value's middle
            out[r] = np.interp(np.asarray(qs) * (total - 1), centre, v)
        return out

    def tail_mean(self, q: float) -> np.ndarray:
        """Mean of the values at or above the q-quantile's rank (the upper 1−q share), per row: CVaR."""
        out = np.empty(self.rows)
        if self.exact:
            m = max(1, int(np.ceil((1 - q) * self.n)))
            for r in range(self.rows):
                row = self.values[r]
                threshold = float(order_statistics(row, [self.n - m])[0])  # the smallest of the top m
                above = row > threshold
                out[r] = float((row.sum(where=above) + (m - np.count_nonzero(above)) * threshold) / m)
            return out
        vals, w = self._weighted()
        for r in range(self.rows):
            order = np.argsort(vals[r], kind="stable")[::-1]
            v, ww = vals[r][order], w[order]
            want = (1 - q) * w.sum()
            take = np.minimum(ww, np.clip(want - (np.cumsum(ww) - ww), 0, None))
            out[r] = float((v * take).sum() / take.sum())
        return out

    def column(self, r: int = 0) -> np.ndarray:
        """All values of row r (exact mode only)."""
        return self.values[r]


__all__ = ["QuantileStore", "exact_quantiles", "DEFAULT_BUDGET_VALUES"]
