"""Where sweep tasks run: in this process, in a local process pool (default), or on Ray.

Only this module imports ray. Every executor runs a task function on task specs and yields the rows as
their chunks finish; rows are plain dicts (see :func:`run_task`), sent back with the bytes of one Parquet
file holding the chunk's ok rows (encoded by the worker, :mod:`gigawatt.sweep.worker`), so tasks on a
remote Ray cluster need no shared file system: the driver writes one Parquet file per chunk. Tasks go to
workers in chunks (several per submission) that shrink towards the end of the sweep.

Workers are reused across tasks (imports and the HiGHS set-up are paid once per worker, not per task);
each solve uses one HiGHS thread so W workers use W cores.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import socket
import sys
import time
import traceback
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable, Iterator


log = logging.getLogger(__name__)

TaskFn = Callable[[dict], dict]

from gigawatt.sweep.headline import headline  # noqa: E402  (the row's figures; re-exported)
from gigawatt.sweep.chunks import Chunks  # noqa: E402
from gigawatt.sweep.worker import run_chunk, sleep_pid, warm, worker_init  # noqa: E402

_worker_init = worker_init  # the names sweep/pinned.py imports


# --- the task ----------------------------------------------------------------------------------------------


# the row's contract: docs/schemas/sweep-row.schema.json (2: the names of summary.json, docs/files.md)
SWEEP_ROW_VERSION = 2


def param_columns(params: dict) -> dict:
    """Task parameters as columns: the draw index as an integer, event flags as booleans, vary values as
    the text they were given in (so every task's column has one type)."""
    out = {}
    for k, v in params.items():
        if k == "draw":
            out["draw"] = int(v)
        elif k.startswith("event."):
            out[k] = bool(v)
        else:
            out[k] = v if isinstance(v, str) else str(v)
    return out


_RESOLVER = None


def resolver():
    """This process's :class:`~gigawatt.optimize.resolve.Resolver`: the HiGHS models of the structures its
    tasks had, kept between tasks so that a task of a known structure is an update and a warm re-solve."""
    global _RESOLVER
    if _RESOLVER is None:
        from gigawatt.optimize.resolve import Resolver

        _RESOLVER = Resolver()
    return _RESOLVER


_FAST = None


def fastpath():
    """This process's :class:`~gigawatt.optimize.fastpath.FastPath`: one HiGHS model whose numbers each task
    of the same structure changes in place (only the model families whose inputs changed are rebuilt)."""
    global _FAST
    if _FAST is None:
        from gigawatt.optimize.fastpath import FastPath

        _FAST = FastPath()
    return _FAST


REBASE_AFTER = 2  # fallbacks in a row after which a worker's fast path loads the next task's structure


def solve_task(portfolio, solve: dict, mode="fast", *, figures: bool = False):
    """The task's Plan: ``fast`` (the numbers-only fast path, falling back to update-and-resolve, the
    record saying why), ``update`` (update-and-resolve only) or ``cold``. With ``figures`` the fast path
    gives what a row reads instead (:class:`~gigawatt.optimize.figures.Solved`: no Plan dataset)."""
    from gigawatt.optimize import optimize

    opts = dict(allow_unmet=solve.get("allow_unmet"), method=solve.get("method"), threads=1,
                confirm_binding=0)  # a sweep reads no binding constraints
    if mode not in ("fast", True):
        return optimize(portfolio, **opts, resolver=resolver() if mode == "update" else None)
    from gigawatt.optimize.fastpath import Fallback
    from gigawatt.optimize.run import finish

    cfg = portfolio.scenario.config.solve
    allow = cfg.allow_unmet if opts["allow_unmet"] is None else bool(opts["allow_unmet"])
    method = opts["method"] or cfg.method
    fp = fastpath()
    try:
        if fp.highs is None:
            fp.load(portfolio, allow_unmet=allow, method=method)
        ctx, result, build_s, families = fp.solve(portfolio, allow_unmet=allow, method=method,
                                                  time_limit=cfg.time_limit, figures=figures)
    except Exception as exc:  # Fallback: another structure; anything else: a fault of the fast path
        if not isinstance(exc, Fallback):
            log.warning("fast path failed, falling back: %s: %s", type(exc).__name__, exc)
            fp.close()  # HiGHS may hold half a task's numbers: the next task loads a new base
            exc = f"{type(exc).__name__}: {exc}"
        fp.stats["fallback"] += 1
        fp.misses += 1
        if fp.misses >= REBASE_AFTER:  # the loaded base is not this run of tasks' structure: load the next task's
            fp.close()
        plan = optimize(portfolio, **opts, resolver=resolver())
        plan.ds.attrs["resolve"] = f"{plan.ds.attrs['resolve']} (fast path: {exc})"
        return plan
    how = "fast: " + (", ".join(families) if families else "no change")
    from gigawatt.optimize.figures import Figures, Solved

    if isinstance(ctx, Figures):
        return Solved(ctx, {"resolve": how, "method": result.method, "allow_unmet": int(allow),
                            "build_seconds": build_s, "solve_seconds": result.solve_seconds,
                            "highs_run_seconds": result.highs_run_seconds, "extract_seconds": fp.read_seconds})
    return finish(ctx, result, how, build_seconds=build_s, allow_unmet=allow, duals=False)


def run_task(spec: dict) -> dict:
    """Solve one task of a manifest and return its row; never raises (a failure is a row with
    status 'failed' and the error text). ``spec``: base_yaml, task (a manifest Task as a dict), solve
    options, attempt, and ``resolve`` (default true or "fast": the numbers-only fast path on this worker's
    HiGHS model, :func:`solve_task`; "update": update-and-resolve; false: build and solve cold). The row's
    ``resolve`` column says which happened."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    task = spec["task"]
    row = {"schema_version": SWEEP_ROW_VERSION, "task_id": task["task_id"], **param_columns(task["params"]),
           "status": "failed", "error": "",
           "attempt": int(spec.get("attempt", 1))}
    try:
        from gigawatt.portfolio import Portfolio
        from gigawatt.sweep.manifest import Manifest, Task, resolve_task

        m = Manifest("", None, spec["base_yaml"], {}, 0, 0, [])
        resolved, sc = resolve_task(m, Task(**task), validate=True)
        mode = spec.get("resolve", True)
        # only the sections whose inputs changed; a cold task builds in full, so that it can check the others
        portfolio = Portfolio.from_scenario(sc, resolved, reuse=mode is not False)
        solve = spec.get("solve") or {}
        t1 = time.perf_counter()
        plan = solve_task(portfolio, solve, mode, figures=True)
        row["solve_s"] = time.perf_counter() - t1
        row["resolve"] = str((plan.attrs if hasattr(plan, "attrs") else plan.ds.attrs).get("resolve", "cold"))
        row.update(headline(plan, portfolio))
        row["status"] = "ok"
    except Exception as exc:  # reported in the row, retried by the driver
        from gigawatt.errors import GigawattError, InfeasibleError

        if isinstance(exc, InfeasibleError):
            row["error"] = f"infeasible: {exc}"
        elif isinstance(exc, GigawattError):
            row["error"] = f"{type(exc).__name__}: {exc}"
        else:
            tb = traceback.extract_tb(exc.__traceback__)
            where = f" ({tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
            row["error"] = f"{type(exc).__name__}: {exc}{where}"
    row["elapsed_s"] = time.perf_counter() - t0
    row["cpu_s"] = time.process_time() - c0  # elapsed ≫ cpu means the worker waited for a core
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return row


def run_batch(specs: list[dict], fn: TaskFn = run_task) -> tuple[list[dict], bytes | None]:
    """Several tasks in one call, in a worker (amortises a submission's or a Ray task's overhead over small
    solves): (each task's row, the Parquet bytes of the chunk's ok rows or None); a task that raises is a
    failed row, its chunk-mates still run (:func:`gigawatt.sweep.worker.run_chunk`)."""
    return run_chunk(specs, fn, _failed)


def _failed(spec: dict, error: str) -> dict:
    task = spec["task"]
    return {"schema_version": SWEEP_ROW_VERSION, "task_id": task["task_id"], **param_columns(task["params"]),
            "status": "failed", "error": error,
            "attempt": int(spec.get("attempt", 1)), "elapsed_s": 0.0, "cpu_s": 0.0, "worker": ""}


# --- executors ---------------------------------------------------------------------------------------------
# ``map(specs, fn, chunked=True)`` yields (specs, rows, data) per chunk as chunks finish: the chunk's specs,
# their rows (one per spec, in order) and the bytes of one Parquet file holding the rows whose status is
# ok (None: no ok row, or the driver encodes them). ``chunked=False`` sends every task alone (the
# driver's retries).


class InlineExecutor:
    """Tasks one after another in this process (tests, debugging), in chunks as a 1-worker pool's
    (:class:`~gigawatt.sweep.chunks.Chunks`, or ``chunk`` tasks each)."""

    name = "inline"
    workers = 1

    def __init__(self, chunk: int | None = None):
        self.chunk = chunk

    def map(self, specs: Iterable[dict], fn: TaskFn = run_task, chunked: bool = True) -> Iterator[tuple]:
        plan = self.plan = Chunks(specs, 1, size=self.chunk if chunked else 1)
        while plan:
            chunk = plan.next()
            rows, data = run_chunk(chunk, fn, _failed, init=False)
            plan.observe(rows)
            yield chunk, rows, data

    def close(self) -> None:
        pass


class LocalExecutor:
    """A pool of ``workers`` processes, kept for the whole sweep. Workers are forked (Linux) from a parent
    that has already imported the solver stack, or spawned and warmed up once elsewhere. Tasks go out in
    chunks (:class:`~gigawatt.sweep.chunks.Chunks`: larger for fast tasks, or ``chunk`` tasks each), two
    chunks in flight per worker. After a worker's death the tasks in flight are sent again one per
    submission (then, if one dies again, alone), so only the task that killed it fails (its row: "worker
    process died")."""

    name = "local"

    def __init__(self, workers: int = 1, chunk: int | None = None):
        self.workers = max(1, int(workers))
        self.chunk = chunk
        self.restarts = 0
        warm()  # so forked workers inherit the imports
        self._start()
        # start every worker now (before any progress-bar thread exists in the parent)
        self.pids = sorted(set(self.pool.map(sleep_pid, [0.05] * self.workers)))

    def _start(self) -> None:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context(method),
                                        initializer=worker_init)

    def map(self, specs: Iterable[dict], fn: TaskFn = run_task, chunked: bool = True) -> Iterator[tuple]:
        # a worker's death breaks every submission in flight, so which task killed it is unknown: the tasks
        # of a broken chunk are sent again one per submission, and a broken single task alone with nothing
        # else in flight; only a task that kills its worker there is a failed row
        plan = self.plan = Chunks(specs, self.workers, size=self.chunk if chunked else 1)
        queues = {"single": deque(), "alone": deque()}
        pending: dict = {}  # future -> (chunk, the pool it went to, sent alone)

        def send(chunk: list[dict], alone: bool) -> None:
            try:
                fut = self.pool.submit(run_batch, chunk, fn)
            except BrokenProcessPool:  # a worker died since the last results: its futures will say so
                self._restart()
                fut = self.pool.submit(run_batch, chunk, fn)
            pending[fut] = (chunk, self.pool, alone)

        def submit_next() -> None:
            if queues["alone"] and not pending:
                send([queues["alone"].popleft()], True)
            while not queues["alone"] and len(pending) < self.workers * 2 and (queues["single"] or plan):
                send([queues["single"].popleft()] if queues["single"] else plan.next(), False)

        submit_next()
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in done:
                chunk, pool, alone = pending.pop(fut)
                try:
                    results = fut.result()
                except BrokenProcessPool as exc:
                    if pool is self.pool:  # the first news of this death: a new pool for what is left
                        self._restart()
                    if not alone:
                        queues["single" if len(chunk) > 1 else "alone"].extend(chunk)
                        continue
                    results = ([_failed(chunk[0], f"worker process died: {exc}")], None)
                except Exception as exc:  # the chunk could not be sent or its result read back
                    results = ([_failed(s, f"{type(exc).__name__}: {exc}") for s in chunk], None)
                plan.observe(results[0])
                yield (chunk, *results)
            submit_next()

    def _restart(self) -> None:
        self.restarts += 1
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._start()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Tasks as Ray tasks (one CPU each), in chunks (:class:`~gigawatt.sweep.chunks.Chunks`: larger for fast
    tasks, or ``batch`` tasks each), two in flight per worker. A chunk whose worker died is sent again one task
    per Ray task, so only the task that killed it fails.

    Without ``address``: a local Ray instance with ``workers`` CPUs, shut down by :meth:`close`. With an
    address: that cluster (its workers need gigawatt installed); it is left running."""

    name = "ray"
    PER_WORKER = 4  # chunks of the tasks left over 4 × workers (2 measured no better under load)
    # The largest chunk until tasks' times are known (then chunks.Chunks sizes them to ~¼ s of work). A Ray task
    # costs ~1.6-2.2 ms of CPU beyond its work (benchmarks/bench_ray_overhead.py --per-ray-task).
    CAP = 16
    # Only for the local instance this executor starts and shuts down, never for a cluster (``address``), whose
    # dashboard someone may read: nobody reads this one's metrics or task events, and recording them takes CPU
    # from the workers' cores. Measured by benchmarks/bench_ray_overhead.py --variants bare,now (512 tasks of
    # examples/minimal.yaml, 2 workers, 4 runs of 2-3 interleaved repeats, 2026-12-03 19:20-19:56 UTC, shared
    # machine): Ray's daemons 0.47-0.63 → 0.38-0.51 ms of CPU per task (0.05-0.2 ms less), results identical.
    # metrics off: the dashboard agent 0.08-0.15 → 0.03-0.05 ms per task
    LOCAL_INIT: dict = {"_system_config": {"enable_metrics_collection": False}}
    LOCAL_REMOTE: dict = {"enable_task_events": False}  # gcs_server 0.07-0.09 → 0.05-0.07 ms per task

    def __init__(self, workers: int = 1, address: str | None = None, batch: int | None = None):
        try:
            import ray
        except ImportError:
            from gigawatt.errors import Problem, ScenarioError

            raise ScenarioError(Problem("Ray is not installed", path="--engine ray",
                                        expected="the ray package (pip install 'gigawatt[ray]')",
                                        fix="install it, or use --engine local"), title="cannot start Ray") from None
        self.ray = ray
        self.workers = max(1, int(workers))
        self.batch = batch
        self.started = False
        if not ray.is_initialized():
            if address:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(num_cpus=self.workers, include_dashboard=False, log_to_driver=False, **self.LOCAL_INIT)
                self.started = True
        local = self.LOCAL_REMOTE if self.started else {}
        self.remote = ray.remote(num_cpus=1, max_retries=0, **local)(run_batch)
        # one warm-up task per worker: imports happen before the clock starts on real tasks
        warmers = ray.remote(num_cpus=1, max_retries=0)(sleep_pid)
        self.pids = sorted(set(ray.get([warmers.remote(0.2) for _ in range(self.workers)])))
        ray.get([ray.remote(num_cpus=1)(worker_init).remote() for _ in range(self.workers)])

    def map(self, specs: Iterable[dict], fn: TaskFn = run_task, chunked: bool = True) -> Iterator[tuple]:
        ray = self.ray
        plan = self.plan = Chunks(specs, self.workers, size=self.batch if chunked else 1, per_worker=self.PER_WORKER,
                                  cap=self.CAP)
        refs: dict = {}

        def top_up() -> None:  # two chunks in flight per worker, each sized when it goes out
            while plan and len(refs) < 2 * self.workers:
                chunk = plan.next()
                refs[self.remote.remote(chunk, fn)] = chunk

        top_up()
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                chunk = refs.pop(ref)
                try:
                    results = ray.get(ref)
                except Exception as exc:  # a crashed worker (a task function that raises is a failed row)
                    if len(chunk) > 1:  # each again, alone: only the task that crashed it fails
                        refs.update({self.remote.remote([s], fn): [s] for s in chunk})
                        continue
                    msg = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
                    results = ([_failed(chunk[0], msg)], None)
                plan.observe(results[0])
                yield (chunk, *results)
            top_up()

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def make_executor(engine: str, *, workers: int = 1, address: str | None = None):
    """An executor by name: local (process pool), ray, or inline."""
    if engine == "local":
        return LocalExecutor(workers)
    if engine == "ray":
        return RayExecutor(workers, address)
    if engine == "inline":
        return InlineExecutor()
    from gigawatt.errors import Problem, ScenarioError

    raise ScenarioError(Problem(f"unknown engine '{engine}'", path="--engine", value=engine,
                                expected="local, ray or inline", fix="use --engine local or --engine ray"),
                        title="bad --engine")


__all__ = ["run_task", "run_batch", "headline", "InlineExecutor", "LocalExecutor", "RayExecutor", "make_executor",
           "warm"]
