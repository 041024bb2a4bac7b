"""The two-stage extensive form solved by the L-shaped method (multi-cut Benders) over futures.

docs/stochastic.md ("Decomposition") says why this method and what was checked. The futures are cut into
one chunk per worker. A worker builds its chunk once (:class:`ChunkWorker`: the chunk's extensive form in
linopy, in slices of at most ``SLICE`` futures, split into one LP per future by
:func:`gigawatt.optimize.split.split_extensive`) and solves every future alone (wait and see). Each
iteration the master (commitments x and one θ_f per future, the first-stage rows and the cuts so far)
gives x and the lower bound; every worker solves its futures with x fixed (:func:`chunk_at`), each from
its own wait-and-see basis, so a chunk's answer is a pure function of (chunk, x): a worker lost and
rebuilt, or a task retried on another worker, returns the same numbers. The expected cost at x is an
upper bound; each future whose cost exceeds its θ_f adds the cut θ_f ≥ V_f(x̂) + g_f·(x − x̂) (g_f the
reduced costs of the fixed commitments). It stops when (best upper − lower) / best upper ≤ tolerance.

Workers are reached through a *pool* with ``start(init, specs)``, ``call(fn, arg) -> list`` and
``close()``: :class:`InlinePool` here, the process pool and Ray in :mod:`gigawatt.sweep.pinned`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import xarray as xr

from gigawatt.errors import InfeasibleError, Problem, ScenarioError
from gigawatt.optimize.build import create_model
from gigawatt.optimize.context import MONEY_SCALE
from gigawatt.optimize.split import FutureSolver, Master, Solved, split_extensive
from gigawatt.stochastic.extensive import COMMITMENTS, Solution
from gigawatt.stochastic.futures import Futures

SLICE = 100  # futures per linopy build inside a worker (bounds its memory)
STABILISE = 0.5  # in-out stabilisation (Ben-Ameur & Neto 2007): weight of the best point in the cut point


@dataclass
class Chunk:
    """The futures one worker holds (a pure description: the worker rebuilds everything from it)."""

    index: int
    futures: Futures
    cvar: tuple[float, float] | None = None


class ChunkWorker:
    """A chunk's futures as LPs on one HiGHS instance per slice, solved alone once at construction."""

    def __init__(self, chunk: Chunk):
        self.chunk = chunk
        names = list(chunk.futures.probability.indexes["future"])
        self.solvers: list[FutureSolver] = []
        for i in range(0, len(names), SLICE):
            part = chunk.futures.select(names[i:i + SLICE])
            # weight 1 per future: each future's costs enter its LP exactly as the scenario gives them, so its
            # LP (and so the iterations) do not depend on which futures share its chunk
            ctx = create_model(part.portfolio, allow_unmet=True, probability=xr.ones_like(part.probability),
                               cvar=chunk.cvar)
            self.solvers.append(FutureSolver(split_extensive(ctx)))
            del ctx
        self.free = _join([s.free() for s in self.solvers])

    def at(self, x: np.ndarray) -> Solved:
        return _join([s.fixed(x) for s in self.solvers])


def _join(parts: list[Solved]) -> Solved:
    return Solved(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("value", "slope", "x", "unmet",
                                                                             "feasible", "loss")))


def build_chunk(chunk: Chunk) -> ChunkWorker:
    """A pool's ``init``: the worker's state for ``chunk``."""
    return ChunkWorker(chunk)


def chunk_free(worker: ChunkWorker, _=None) -> dict:
    """Each future of the chunk alone, the take-or-pay constants, and the first stage (for the master)."""
    s = worker.solvers[0].split
    return {"solved": worker.free, "fixed": np.concatenate([w.split.fixed_musd for w in worker.solvers]),
            "first": s.first, "keys": [tuple(k) for k in s.first.keys], "induced": _induced(worker.solvers)}


def _induced(solvers) -> np.ndarray:
    """Rows of the chunk's futures that hold commitments only, dense as [coefficients | lower | upper], once
    each (the same row in many futures is one row of the master)."""
    rows = [np.hstack([r.toarray(), lo[:, None], hi[:, None]]) for r, lo, hi in (s.split.induced for s in solvers)]
    rows = np.vstack(rows)
    return np.unique(rows, axis=0) if len(rows) else rows


def chunk_at(worker: ChunkWorker, x: np.ndarray) -> Solved:
    """The chunk's futures with commitments fixed at ``x``: values and cuts' slopes (pure in chunk, x)."""
    return worker.at(np.asarray(x, dtype=float))


class InlinePool:
    """Every chunk in this process (tests, debugging, one worker without a process)."""

    name = "inline"

    def start(self, init, specs) -> None:
        self.states = [init(s) for s in specs]

    def call(self, fn, arg) -> list:
        return [fn(s, arg) for s in self.states]

    def close(self) -> None:
        self.states = []


def chunks_of(futures: Futures, workers: int, cvar_=None) -> list[Chunk]:
    """Contiguous chunks of nearly equal size, one per worker (fewer if there are fewer futures)."""
    names = list(futures.probability.indexes["future"])
    k = max(1, min(int(workers), len(names)))
    return [Chunk(i, futures.select(list(part)), cvar_) for i, part in
            enumerate(np.array_split(np.array(names, dtype=object), k))]


@dataclass
class Decomposed:
    """The L-shaped method's result: the stochastic optimum, wait-and-see, and its iterations."""

    solution: Solution
    ws: Solution
    report: dict
    evaluate: object  # callable: commitments dict -> Solution (the futures with them fixed, e.g. EEV)


def check_supported(portfolio) -> None:
    """Decomposition handles two stages only: refused before any future is drawn."""
    unc = portfolio.scenario.uncertainty
    if getattr(unc, "stages", None):
        raise ScenarioError(Problem("decomposition handles two stages only", path="uncertainty.stages",
                                    value=unc.stages, expected="no stages with --decompose",
                                    fix="drop --decompose (the extensive form handles stages)"),
                            title="not supported by --decompose")


def solve_decomposed(futures: Futures, pool, *, workers: int = 1, tolerance: float = 1e-4,
                     max_iterations: int = 200, progress=None, cvar_=None, step=None,
                     stabilise: float = STABILISE) -> Decomposed:
    # long: the L-shaped loop reads best as one piece
    """The risk-neutral two-stage optimum over ``futures`` by the L-shaped method on ``pool`` (``step``: the
    chunk function called each iteration, :func:`chunk_at` unless a test wraps it; ``stabilise``: the weight
    of the best commitments in the in-out point, 0 for the plain method)."""
    step = step or chunk_at
    check_supported(futures.portfolio)
    if not tolerance > 0:
        raise ScenarioError(Problem("tolerance must be positive", path="--tolerance", value=tolerance,
                                    expected="> 0, e.g. 1e-4", fix="--tolerance 1e-4"), title="bad option")
    t0 = time.perf_counter()
    chunks = chunks_of(futures, workers, cvar_=cvar_)
    pool.start(build_chunk, chunks)
    free = pool.call(chunk_free, None)
    keys = free[0]["keys"]
    if any(f["keys"] != keys for f in free[1:]):
        raise ScenarioError(Problem("workers disagree on the commitment variables", path="--decompose",
                                    value="chunks", expected="the same commitments in every future",
                                    fix="solve the extensive form (drop --decompose)"), title="cannot decompose")
    ws = _join([f["solved"] for f in free])
    fixed = np.concatenate([f["fixed"] for f in free])
    p = futures.probability.values.astype(float)
    # take-or-pay payments: outside the LPs; with CVaR (1 − ω) of them is in the objective (the rest is in
    # the excess rows' right-hand sides, so in η + s_f)
    const = float(p @ fixed) * (1 - cvar_[0] if cvar_ else 1.0)
    master = Master(free[0]["first"], p)
    induced = np.unique(np.vstack([f["induced"] for f in free]), axis=0)
    nx = len(keys)
    master.add_rows(induced[:, :nx], induced[:, nx], induced[:, nx + 1])
    master.add_cuts(np.arange(len(p)), ws.value, ws.slope, ws.x)
    setup_s = time.perf_counter() - t0
    iterations, best_ub, best = [], np.inf, None
    for it in range(1, int(max_iterations) + 1):
        ti = time.perf_counter()
        lb, xm, theta = master.solve()
        # in-out stabilisation: cut at a point between the master's and the best commitments so far; if
        # those cuts cut nothing off, cut at the master's own point (then the bounds must meet)
        x = xm if best is None or stabilise <= 0 else (1 - stabilise) * xm + stabilise * best[0]
        at = _join(pool.call(step, x))
        viol, infeasible = _violated(at, x, xm, theta)
        if x is not xm and not len(viol) and not len(infeasible):
            x = xm
            at = _join(pool.call(step, x))
            viol, infeasible = _violated(at, x, xm, theta)
        ok = bool(at.feasible.all())
        ub = float(p @ at.value) if ok else np.inf
        if ub < best_ub:
            best_ub, best = ub, (x, at)
        lb_usd, ub_usd = (lb + const) * MONEY_SCALE, (best_ub + const) * MONEY_SCALE
        gap = (ub_usd - lb_usd) / max(abs(ub_usd), 1e-12) if np.isfinite(best_ub) else np.inf
        rec = {"iteration": it, "lower_bound_usd": lb_usd,
               "upper_bound_usd": (ub + const) * MONEY_SCALE if ok else None,
               "best_upper_bound_usd": ub_usd if np.isfinite(best_ub) else None,
               "gap": gap if np.isfinite(gap) else None, "cuts_added": int(len(viol)),
               "feasibility_cuts_added": int(len(infeasible)), "at_master_point": x is xm,
               "seconds": time.perf_counter() - ti}
        iterations.append(rec)
        if progress is not None:
            progress(rec)
        if np.isfinite(gap) and gap <= tolerance:
            break
        master.add_cuts(viol, at.value[viol], at.slope[viol], x)
        master.add_feasibility_cuts(at.value[infeasible], at.slope[infeasible], x)
    if best is None:
        raise InfeasibleError(f"the L-shaped method found no commitments every future accepts in {len(iterations)} "
                              "iterations; raise --max-iterations or solve the extensive form", status="decomposition")
    x, at = best
    report = {"method": "L-shaped (multi-cut Benders)", "tolerance": float(tolerance),
              "stabilisation": f"in-out, weight {stabilise} on the best point" if stabilise > 0 else "none",
              "max_iterations": int(max_iterations), "converged": bool(iterations[-1]["gap"] is not None and iterations[-1]["gap"] <= tolerance),
              "iterations": iterations, "final_gap": iterations[-1]["gap"], "workers": len(chunks),
              "engine": getattr(pool, "name", type(pool).__name__), "setup_seconds": setup_s,
              "wall_seconds": time.perf_counter() - t0, "cuts": master.cuts}
    shapes = free[0]["first"].shapes

    def evaluate(commitments: dict) -> Solution:
        at_ = _join(pool.call(chunk_at, to_vector(commitments, keys, shapes)))
        if not at_.feasible.all():
            raise InfeasibleError("these commitments have no recourse in some futures", status="infeasible")
        return _solution(futures, at_, fixed, commitments)

    return Decomposed(_solution(futures, at, fixed, to_arrays(x, keys, shapes)),
                      _solution(futures, ws, fixed, {}), report, evaluate)


def _violated(at: Solved, x: np.ndarray, xm: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Futures whose cut at ``x`` cuts off the master's (xm, θ), and futures that cannot accept ``x``."""
    at_master = at.value + (at.slope * (xm - x)).sum(axis=1)
    viol = np.flatnonzero(at.feasible & (at_master > theta + 1e-9 * np.maximum(1.0, np.abs(at.value))))
    return viol, np.flatnonzero(~at.feasible)


def _solution(futures: Futures, s: Solved, fixed: np.ndarray, commitments: dict) -> Solution:
    prob = futures.probability
    npc = xr.DataArray((s.loss + fixed) * MONEY_SCALE, coords=prob.coords)
    unmet = xr.DataArray(s.unmet * 1e6, coords=prob.coords)
    return Solution(npc_usd=npc, probability=prob, commitments=commitments, unmet_h100e_hours=unmet)


def to_arrays(x: np.ndarray, keys: list, shapes: dict) -> dict[str, xr.DataArray]:
    """The commitment vector as DataArrays (model units), as the extensive form's solution gives them."""
    out = {}
    for name, (dims, coords) in shapes.items():
        values = np.zeros([len(coords[d]) for d in dims])
        pos = [i for i, (n, _) in enumerate(keys) if n == name]
        values.ravel()[[keys[i][1] for i in pos]] = x[pos]
        out[name] = xr.DataArray(values, coords=coords, dims=dims)
    return {n: out[n] for n in COMMITMENTS if n in out}


def to_vector(commitments: dict, keys: list, shapes: dict) -> np.ndarray:
    """Commitments as the master's vector; a commitment not given is left free (Own-chips follows Own-buy)."""
    x = np.full(len(keys), np.nan)
    for name, (dims, coords) in shapes.items():
        if name not in commitments:
            continue
        v = commitments[name].reindex(coords).fillna(0.0).transpose(*dims).values.ravel()
        pos = [i for i, (n, _) in enumerate(keys) if n == name]
        x[pos] = v[[keys[i][1] for i in pos]]
    return x


def hedge_decomposed(portfolio, n: int, pool, *, seed: int | None = None, workers: int = 1,
                     tolerance: float = 1e-4, max_iterations: int = 200, metrics: bool = True,
                     reduce_to: int | None = None, cvar_=None, progress=None):
    """``extensive.hedge`` by decomposition: the stochastic optimum by the L-shaped method; WS from the
    futures solved alone (its first step); EEV by the same workers with the EV commitments fixed.
    Returns (HedgeResult, the decomposition's report)."""
    from gigawatt.stochastic.extensive import HedgeResult, solve_mean
    from gigawatt.stochastic.futures import draw_futures

    check_supported(portfolio)
    futures = draw_futures(portfolio, n, seed)
    if reduce_to:
        from gigawatt.stochastic.reduce import reduce_futures

        futures = reduce_futures(futures, reduce_to)
    averse = None
    if cvar_:  # first, so that the pool holds the risk-neutral futures for EEV afterwards
        averse = solve_decomposed(futures, pool, workers=workers, tolerance=tolerance,
                                  max_iterations=max_iterations, progress=progress, cvar_=cvar_)
    d = solve_decomposed(futures, pool, workers=workers, tolerance=tolerance, max_iterations=max_iterations,
                         progress=progress)
    ev = eev = ws = None
    if metrics:
        ws = d.ws
        ev = solve_mean(futures)
        eev = d.evaluate(ev)
    if averse is None:
        return HedgeResult(futures, d.solution, d.solution, eev, ws, ev, None), d.report
    return HedgeResult(futures, averse.solution, d.solution, eev, ws, ev, cvar_), \
        {**averse.report, "risk_neutral": d.report}


__all__ = ["Chunk", "ChunkWorker", "Decomposed", "InlinePool", "chunk_at", "chunk_free", "chunks_of",
           "hedge_decomposed", "solve_decomposed"]
