"""Workers that keep state between calls: one per spec, on local processes or Ray actors.

The decomposition of a stochastic plan (:mod:`gigawatt.stochastic.decompose`) builds each worker's
subproblems once and then calls every worker once per iteration with new numbers. A pool here has
``start(init, specs)`` (worker i holds ``init(specs[i])``), ``call(fn, arg)`` (``[fn(state_i, arg)]`` in
worker order) and ``close()``. Both pools survive a worker's loss: the worker is started again from its
spec (``init`` re-run) and the call retried, up to ``retries`` times; this is only correct because ``fn``
is a pure function of (spec, arg), as the decomposition's is.

- ``local``: one single-process ``ProcessPoolExecutor`` per worker (so a worker keeps its state and its
  calls), forked on Linux from a parent that has imported the solver stack.
- ``ray``: one actor per worker (``max_restarts``/``max_task_retries`` = ``retries``): Ray restarts a lost
  actor (its constructor rebuilds the state) and retries the call. Without ``address``, a local Ray
  instance with ``workers`` CPUs, shut down by ``close``; with one, the cluster's.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from gigawatt.errors import Problem, ScenarioError

RETRIES = 2
_STATE: dict = {}


def _init(init, spec) -> None:
    from gigawatt.sweep.executors import _worker_init

    _worker_init()
    try:
        _STATE["state"] = init(spec)
    except Exception as exc:  # raised again by the first call, so the caller sees it (not a broken pool)
        _STATE["error"] = exc


def _call(fn, arg):
    if "error" in _STATE:
        raise _STATE["error"]
    return fn(_STATE["state"], arg)


def _ready() -> bool:
    if "error" in _STATE:
        raise _STATE["error"]
    return True


class LocalPinned:
    """One process per spec, each holding its state; a lost process is started again and the call retried."""

    name = "local"

    def __init__(self, retries: int = RETRIES):
        self.retries = int(retries)
        self.pools: list[ProcessPoolExecutor] = []
        self.restarts = 0

    def _pool(self, init, spec) -> ProcessPoolExecutor:
        from gigawatt.sweep.executors import warm

        warm()
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        return ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context(method), initializer=_init,
                                   initargs=(init, spec))

    def start(self, init, specs) -> None:
        self.close()  # workers of an earlier start
        self.init, self.specs = init, list(specs)
        self.pools = [self._pool(init, s) for s in self.specs]
        for i, f in enumerate([p.submit(_ready) for p in self.pools]):
            self._result(i, f, _ready, None)

    def _result(self, i: int, fut, fn, arg):
        for attempt in range(self.retries + 1):
            try:
                return fut.result()
            except BrokenProcessPool:
                if attempt == self.retries:
                    raise
                self.restarts += 1
                self.pools[i].shutdown(wait=False, cancel_futures=True)
                self.pools[i] = self._pool(self.init, self.specs[i])
                fut = self.pools[i].submit(_call, fn, arg) if fn is not _ready else self.pools[i].submit(_ready)

    def call(self, fn, arg) -> list:
        futs = [p.submit(_call, fn, arg) for p in self.pools]
        return [self._result(i, f, fn, arg) for i, f in enumerate(futs)]

    def close(self) -> None:
        for p in self.pools:
            p.shutdown(wait=True, cancel_futures=True)
        self.pools = []


class _Actor:
    def __init__(self, init, spec):
        from gigawatt.sweep.executors import _worker_init

        _worker_init()
        self.state, self.error = None, None
        try:
            self.state = init(spec)
        except Exception as exc:  # raised again by each call, so the caller sees it (not a dead actor)
            self.error = exc

    def call(self, fn, arg):
        if self.error is not None:
            raise self.error
        return fn(self.state, arg)


class RayPinned:
    """One Ray actor per spec (one CPU each); Ray restarts a lost actor and retries the call."""

    name = "ray"

    def __init__(self, workers: int = 1, address: str | None = None, retries: int = RETRIES):
        try:
            import ray
        except ImportError:  # pragma: no cover - ray is a test dependency
            raise ScenarioError(Problem("Ray is not installed", path="--engine ray",
                                        expected="the ray package (pip install 'gigawatt[ray]')",
                                        fix="install it, or use --engine local"), title="cannot start Ray") from None
        self.ray, self.retries, self.owned = ray, int(retries), False
        if not ray.is_initialized():
            if address:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(num_cpus=max(1, int(workers)), include_dashboard=False, log_to_driver=False)
                self.owned = True
        self.actors: list = []

    def start(self, init, specs) -> None:
        for a in self.actors:  # workers of an earlier start
            self.ray.kill(a)
        cls = self.ray.remote(num_cpus=1, max_restarts=self.retries, max_task_retries=self.retries)(_Actor)
        self.actors = [cls.remote(init, s) for s in specs]

    def call(self, fn, arg) -> list:
        ref = self.ray.put(arg)
        return self.ray.get([a.call.remote(fn, ref) for a in self.actors])

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []
        if self.owned:
            self.ray.shutdown()


def pinned_pool(engine: str, *, workers: int = 1, address: str | None = None, retries: int = RETRIES):
    """A pool of stateful workers by engine name: ``local`` (processes), ``ray`` or ``inline`` (None: the
    caller runs every spec in its own process)."""
    if engine == "local":
        return LocalPinned(retries)
    if engine == "ray":
        return RayPinned(workers, address, retries)
    if engine == "inline":
        return None
    raise ScenarioError(Problem("unknown engine", path="--engine", value=engine, expected="local, ray or inline",
                                fix="use --engine local or --engine ray"), title="bad option")


__all__ = ["LocalPinned", "RayPinned", "pinned_pool"]
