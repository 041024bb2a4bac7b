"""Where sweep tasks run: in this process, in a local process pool (default), or on Ray.

Only this module imports ray. Every executor runs a task function on task specs and yields the rows as
they finish; rows are plain dicts (see :func:`run_task`), so tasks on a remote Ray cluster need no shared
file system: the driver writes each task's Parquet file.

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
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable, Iterator


log = logging.getLogger(__name__)

TaskFn = Callable[[dict], dict]

from gigawatt.sweep.headline import headline  # noqa: E402  (the row's figures; re-exported)


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
        portfolio = Portfolio.from_scenario(sc, resolved)
        solve = spec.get("solve") or {}
        t1 = time.perf_counter()
        plan = solve_task(portfolio, solve, spec.get("resolve", True), figures=True)
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


_INITIALISED = False


def run_batch(specs: list[dict], fn: TaskFn = run_task) -> list[dict]:
    """Several tasks in one call, in a worker (amortises a Ray task's overhead over small solves)."""
    global _INITIALISED
    if not _INITIALISED:
        _worker_init()
    return [fn(s) for s in specs]


def warm() -> int:
    """Import the solver stack once in a worker, before its first task."""
    import gigawatt.optimize  # noqa: F401
    import gigawatt.portfolio  # noqa: F401
    import gigawatt.risk.simulate  # noqa: F401

    return os.getpid()


def _die_with_parent() -> None:
    """A worker whose sweep was killed (kill -9 gives the pool no chance to stop it) would wait for work
    forever, holding memory and the sweep's output pipes. Linux: ask the kernel to kill it with its parent;
    elsewhere: a thread that exits when the parent is gone."""
    import threading

    parent = mp.parent_process().pid if mp.parent_process() is not None else os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if os.getppid() != parent:  # the parent died before the call took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="gigawatt-parent-watch", daemon=True).start()


def _worker_init() -> None:
    """A pool worker: dies with its parent; HiGHS writes its banner straight to file descriptor 1, so point
    the worker's stdout at /dev/null (results come back as rows; errors are in them), then import the solver
    stack."""
    _die_with_parent()
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
    global _INITIALISED
    _INITIALISED = True
    warm()


def _failed(spec: dict, error: str) -> dict:
    task = spec["task"]
    return {"schema_version": SWEEP_ROW_VERSION, "task_id": task["task_id"], **param_columns(task["params"]),
            "status": "failed", "error": error,
            "attempt": int(spec.get("attempt", 1)), "elapsed_s": 0.0, "cpu_s": 0.0, "worker": ""}


# --- executors ---------------------------------------------------------------------------------------------


class InlineExecutor:
    """Tasks one after another in this process (tests, debugging)."""

    name = "inline"
    workers = 1

    def map(self, specs: Iterable[dict], fn: TaskFn = run_task) -> Iterator[tuple[dict, dict]]:
        for s in specs:
            try:
                yield s, fn(s)
            except Exception as exc:  # a task function that raises is a failed task, not a crashed sweep
                yield s, _failed(s, f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        pass


class LocalExecutor:
    """A pool of ``workers`` processes, kept for the whole sweep. Workers are forked (Linux) from a parent
    that has already imported the solver stack, or spawned and warmed up once elsewhere."""

    name = "local"

    def __init__(self, workers: int = 1):
        self.workers = max(1, int(workers))
        warm()  # so forked workers inherit the imports
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context(method),
                                        initializer=_worker_init)
        # start every worker now (before any progress-bar thread exists in the parent)
        list(self.pool.map(_sleep_pid, [0.05] * self.workers))

    def map(self, specs: Iterable[dict], fn: TaskFn = run_task) -> Iterator[tuple[dict, dict]]:
        specs = list(specs)
        pending = {}
        it = iter(specs)

        def submit_next() -> bool:
            s = next(it, None)
            if s is None:
                return False
            pending[self.pool.submit(fn, s)] = s
            return True

        for _ in range(self.workers * 2):
            if not submit_next():
                break
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in done:
                s = pending.pop(fut)
                try:
                    row = fut.result()
                except BrokenProcessPool as exc:
                    row = _failed(s, f"worker process died: {exc}")
                    self._restart()
                except Exception as exc:
                    row = _failed(s, f"{type(exc).__name__}: {exc}")
                yield s, row
                submit_next()

    def _restart(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context(method),
                                        initializer=_worker_init)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _sleep_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


class RayExecutor:
    """Tasks as Ray tasks (one CPU each), in batches when tasks are many and small.

    Without ``address``: a local Ray instance with ``workers`` CPUs, shut down by :meth:`close`. With an
    address: that cluster (its workers need gigawatt installed); it is left running."""

    name = "ray"

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
                ray.init(num_cpus=self.workers, include_dashboard=False, log_to_driver=False)
                self.started = True
        self.remote = ray.remote(num_cpus=1, max_retries=0)(run_batch)
        # one warm-up task per worker: imports happen before the clock starts on real tasks
        warmers = ray.remote(num_cpus=1, max_retries=0)(_sleep_pid)
        ray.get([warmers.remote(0.2) for _ in range(self.workers)])
        ray.get([ray.remote(num_cpus=1)(_worker_init).remote() for _ in range(self.workers)])

    def _batch_size(self, n: int) -> int:
        if self.batch:
            return self.batch
        return max(1, n // (self.workers * 8))

    def map(self, specs: Iterable[dict], fn: TaskFn = run_task) -> Iterator[tuple[dict, dict]]:
        ray = self.ray
        specs = list(specs)
        size = self._batch_size(len(specs))
        batches = [specs[i: i + size] for i in range(0, len(specs), size)]
        refs = {self.remote.remote(b, fn): b for b in batches}
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                batch = refs.pop(ref)
                try:
                    rows = ray.get(ref)
                except Exception as exc:  # a crashed worker or a task function that raised
                    msg = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
                    rows = [_failed(s, msg) for s in batch]
                for s, r in zip(batch, rows):
                    yield s, r

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
