"""Evaluating one chunk of draws with the compiled kernel: per-thread reusable buffers, compiling ahead
(:func:`warm_up`), and a chunk's outputs with its per-block sums (:class:`ChunkResult`)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from gigawatt.risk.kernel import kernel_block, make_scratch
from gigawatt.risk.model import RiskModel
from gigawatt.risk.pack import pack_model
from gigawatt.risk.sample import BLOCK
from gigawatt.risk.select import SMALL

SAMPLE_PATHS = 256
OUTPUTS = ("cash_usd", "cash_flow_usd", "unmet_demand_fraction", "stranded_capacity_fraction",
           "net_present_cost_usd", "funding_gap_usd")


@dataclass
class ChunkResult:
    start: int
    n: int
    cash: np.ndarray  # (P, n)
    cash_flow: np.ndarray
    unmet_fraction: np.ndarray
    stranded_fraction: np.ndarray
    npc: np.ndarray  # (n,)
    funding_gap: np.ndarray  # (n,)
    below_zero: np.ndarray  # (Y,) draws with cash < 0 in some period of the year
    below_zero_by: np.ndarray  # (Y,) draws with cash < 0 in some period up to the year's end
    block_sums: dict[int, tuple[float, float]]  # block -> (Σ npc, Σ gap)


class _Work:
    """Reusable buffers for one thread: a chunk's arrays come from here and go back after the chunk, so
    their memory stays mapped (fresh arrays cost page faults, which doubled the time of a chunk)."""

    def __init__(self):
        self.free: dict[tuple, list[np.ndarray]] = {}
        self.used: list[np.ndarray] = []
        self.scratch: tuple | None = None  # (packed model, the kernel's scratch buffers for it)

    def new(self, shape: tuple, dtype=float) -> np.ndarray:
        key = (tuple(shape), np.dtype(dtype).str)
        stack = self.free.get(key)
        a = stack.pop() if stack else np.empty(shape, dtype=dtype)
        self.used.append(a)
        return a

    def release(self) -> None:
        for a in self.used:
            self.free.setdefault((a.shape, a.dtype.str), []).append(a)
        self.used.clear()


_LOCAL = threading.local()


def _work() -> _Work:
    w = getattr(_LOCAL, "work", None)
    if w is None:
        w = _LOCAL.work = _Work()
    return w


def warm_up(model: RiskModel) -> float:
    """Compile the kernel and the percentile selection for this thread's use (numba caches the machine
    code on disk, so only the first run after an install compiles: ~15 s; later runs load it in ~0.3 s).
    Returns the seconds it took."""
    from gigawatt.risk.select import order_statistics

    t0 = time.perf_counter()
    if model.packed is None:
        model.packed = pack_model(model)
    km, ps = model.packed, model.sampler.packed
    P, Y = model.n_periods, len(model.years)
    z = np.zeros((max(model.sampler.n_rows, 1), 1))
    kernel_block(km, ps, z, 0, 0, *[np.zeros((P, 1)) for _ in range(4)], np.zeros(1), np.zeros(1),
                 np.zeros(Y, dtype=np.int64), np.zeros(Y, dtype=np.int64), make_scratch(km, ps))
    order_statistics(np.arange(3 * SMALL, dtype=float), [1, 2])
    return time.perf_counter() - t0


def chunk_result(start, n, cash, cash_flow, unmet_fraction, stranded_fraction, npc, gap, below, below_by,
                 paths_out: dict | None) -> ChunkResult:
    """A chunk's outputs with its per-block sums (combined in block order, so totals do not depend on
    chunking), keeping copies of the first SAMPLE_PATHS draws in ``paths_out`` when given."""
    sums = {}
    for b0 in range(0, n, BLOCK):
        b1 = min(n, b0 + BLOCK)
        sums[(start + b0) // BLOCK] = (float(npc[b0:b1].sum()), float(gap[b0:b1].sum()))
    if paths_out is not None and start < SAMPLE_PATHS:
        k = min(n, SAMPLE_PATHS - start)
        paths_out[start] = (cash[:, :k].copy(), cash_flow[:, :k].copy(), unmet_fraction[:, :k].copy(),
                            stranded_fraction[:, :k].copy(), npc[:k].copy(), gap[:k].copy())
    return ChunkResult(start, n, cash, cash_flow, unmet_fraction, stranded_fraction, npc, gap, below, below_by, sums)


def run_chunk(model: RiskModel, seed: int, start: int, n: int, *, paths_out: dict | None = None,
              targets: dict[str, np.ndarray] | None = None) -> ChunkResult:
    """Evaluate draws [start, start + n) (start a multiple of BLOCK) with the compiled kernel.

    ``targets``: arrays over all draws ((P, N) per period, (N,) per draw; keys :data:`OUTPUTS`) to write
    columns start.. of straight away; else the results go to this thread's workspace, whose arrays stay
    valid until the thread's next chunk (as :func:`simulate` uses them)."""
    P = model.n_periods
    Y = len(model.years)
    W = _work()
    W.release()
    if model.packed is None:
        model.packed = pack_model(model)
    km, ps = model.packed, model.sampler.packed
    if W.scratch is None or W.scratch[0] is not km:  # sized for one model: kept for the model's next chunk
        W.scratch = (km, make_scratch(km, ps))
    scratch = W.scratch[1]
    if targets is None:
        out0 = 0
        arrays = [W.new((P, n)) for _ in range(4)] + [W.new((n,)), W.new((n,))]
    else:
        out0 = start
        arrays = [targets[k] for k in OUTPUTS]
    below = np.zeros(Y, dtype=np.int64)
    below_by = np.zeros(Y, dtype=np.int64)
    for lo, hi, zb in model.sampler._blocks(seed, start, n):
        kernel_block(km, ps, zb, hi - lo, out0 + lo, *arrays, below, below_by, scratch)
    cash, cash_flow, unmet_fraction, stranded_fraction = (a[:, out0: out0 + n] for a in arrays[:4])
    npc, gap = (a[out0: out0 + n] for a in arrays[4:])
    return chunk_result(start, n, cash, cash_flow, unmet_fraction, stranded_fraction, npc, gap, below, below_by,
                        paths_out)
