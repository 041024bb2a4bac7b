"""Statistics over all draws, filled chunk by chunk in any order: percentile stores per quantity, counts of
draws with cash below zero, per-block sums for means (combined in block order, so totals do not depend on
chunking), and the summary figures drawn from them."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from gigawatt.risk.chunks import ChunkResult
from gigawatt.risk.quantiles import QuantileStore
from gigawatt.risk.result import PERCENTILES

PER_PERIOD = ("cash_usd", "cash_flow_usd", "unmet_demand_fraction", "stranded_capacity_fraction")


class Statistics:
    """What a simulation keeps of its draws (thread-safe :meth:`consume`)."""

    def __init__(self, n_periods: int, n_years: int, draws: int, *, budget: int,
                 progress: Callable[[int], None] | None = None):
        self.draws = draws
        self.stores = {k: QuantileStore(n_periods, draws, budget=budget) for k in PER_PERIOD}
        self.npc = QuantileStore(1, draws, budget=budget)
        self.gap = QuantileStore(1, draws, budget=budget)
        self.below = np.zeros(n_years, dtype=np.int64)
        self.below_by = np.zeros(n_years, dtype=np.int64)
        self.sums: dict[int, tuple[float, float]] = {}
        self.gap_max = 0.0
        self.done = 0
        self.progress = progress
        self._lock = threading.Lock()

    def targets(self) -> dict[str, np.ndarray] | None:
        """The stores' arrays for the kernel to write into, when every store keeps its values exactly."""
        if not all(st.exact for st in [*self.stores.values(), self.npc, self.gap]):
            return None
        targets = {k: self.stores[k].values for k in self.stores}
        targets.update(net_present_cost_usd=self.npc.values[0], funding_gap_usd=self.gap.values[0])
        return targets

    def consume(self, r: ChunkResult) -> None:
        with self._lock:  # the stores keep draw order; the counters are shared
            self.stores["cash_usd"].put(r.start, r.cash)
            self.stores["cash_flow_usd"].put(r.start, r.cash_flow)
            self.stores["unmet_demand_fraction"].put(r.start, r.unmet_fraction)
            self.stores["stranded_capacity_fraction"].put(r.start, r.stranded_fraction)
            self.npc.put(r.start, r.npc[None, :])
            self.gap.put(r.start, r.funding_gap[None, :])
            self.below += r.below_zero
            self.below_by += r.below_zero_by
            self.sums.update(r.block_sums)
            self.gap_max = max(self.gap_max, float(r.funding_gap.max()))
            self.done += r.n
            if self.progress:
                self.progress(self.done)

    def percentiles(self, workers: int) -> dict[str, np.ndarray]:
        """quantity -> (P, len(PERCENTILES)), the stores sorted on ``workers`` threads."""
        qs = [q / 100 for q in PERCENTILES]
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gigawatt-pct") as pool:
                return {k: st.quantiles(qs, pool=pool) for k, st in self.stores.items()}
        return {k: st.quantiles(qs) for k, st in self.stores.items()}

    def funding_gap(self) -> dict[str, float]:
        gap_mean = math.fsum(self.sums[b][1] for b in sorted(self.sums)) / self.draws
        gap_q = self.gap.quantiles([0.5, 0.95])[0]
        return {"mean": gap_mean, "p50": float(gap_q[0]), "p95": float(gap_q[1]), "max": self.gap_max,
                "probability_positive": float(self.below_by[-1] / self.draws) if len(self.below_by) else 0.0}

    def net_present_cost(self, deterministic: float) -> dict[str, float]:
        npc_mean = math.fsum(self.sums[b][0] for b in sorted(self.sums)) / self.draws
        npc_q = self.npc.quantiles([0.5, 0.95])[0]
        npc_cvar = float(self.npc.tail_mean(0.95)[0])
        return {"mean": npc_mean, "p50": float(npc_q[0]), "var_95": float(npc_q[1]), "cvar_95": npc_cvar,
                "deterministic": deterministic}
