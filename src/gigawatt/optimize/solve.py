"""Solve with HiGHS through linopy's direct API; anything but optimal is a failure."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from gigawatt.errors import SolverError
from gigawatt.optimize.context import Context

log = logging.getLogger(__name__)

# Below this many variables HiGHS's dual simplex beats interior point on these models; above, IPM with
# crossover wins (docs/performance.md has the measurements behind the threshold: on 2 cores, simplex
# is ~15% faster up to ~7k variables, both under 0.15 s; IPM is 1.4-2x faster at 12-36k, 2.6-3.8x at
# 47k and 7.5x at 205k).
IPM_THRESHOLD_VARIABLES = 10_000


@dataclass
class SolveResult:
    status: str
    termination: str
    solve_seconds: float
    method: str
    highs_run_seconds: float | None
    objective: float | None = None  # in model units (MUSD), where the solver reported one


_BANNER_SHOWN = False


def _absorb_highs_banner() -> None:
    """HiGHS prints its banner on stdout when the first Highs object of a process is made, whatever
    output_flag says. Make that first object here with file descriptor 1 pointed at /dev/null, once,
    before any progress display runs, so a quiet solve stays quiet (--verbose keeps the banner)."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return
    _BANNER_SHOWN = True
    import highspy

    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no usable stdout: nothing to keep clean
        highspy.Highs()
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


SCRATCH_PREFIX = "solve-"


def scratch_root() -> Path:
    """Where solver temporary files go: ``gigawatt-<user>`` in the system's temp folder (``$TMPDIR``)."""
    try:
        import getpass

        user = getpass.getuser()
    except Exception:  # no user name (a container without passwd entry): the uid, else a fixed name
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"gigawatt-{user}"


@contextlib.contextmanager
def solver_scratch() -> Iterator[Path]:
    """A private folder for linopy's LP and solution files, removed afterwards; folders left by solves
    that were killed (their process is gone) are removed here too."""
    from gigawatt.atomic import pid_alive, pid_of

    root = scratch_root()
    root.mkdir(mode=0o700, exist_ok=True)
    for old in root.glob(f"{SCRATCH_PREFIX}*"):
        if not pid_alive(pid_of(old.name, SCRATCH_PREFIX)):
            shutil.rmtree(old, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _solver_dir(model, path: Path) -> Iterator[None]:
    """Point a linopy model's temporary files at ``path`` for one solve (then back: ``path`` is removed)."""
    old = model.solver_dir
    model.solver_dir = path
    try:
        yield
    finally:
        model.solver_dir = old


def solve_in_scratch(model, **kwargs):
    """``model.solve(**kwargs)`` with its temporary files in a folder gigawatt removes (:func:`solver_scratch`)."""
    with solver_scratch() as scratch, _solver_dir(model, scratch):
        return model.solve(**kwargs)


_UNSET = object()
_scheduler_threads: object = _UNSET  # the thread count the process's HiGHS scheduler was last started with


def use_threads(threads: int | None) -> None:
    """Before a HiGHS run asking for ``threads`` (None: HiGHS's own choice): HiGHS's task scheduler is one
    per process, started by the first run, and a later run asking for another count is refused ("Not
    Set"). A process mixes solves that ask for 1 thread (sweeps), for the scenario's count, and HiGHS's
    choice (the decomposition's simplex re-solves), so the scheduler is reset whenever the count asked
    changes (no HiGHS run is in flight then: gigawatt runs one at a time per process)."""
    global _scheduler_threads
    want = None if threads is None else int(threads)
    if _scheduler_threads is not _UNSET and want != _scheduler_threads:
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads = want


def pick_method(ctx: Context, method: str) -> str:
    if method != "auto":
        return method
    return "ipm" if ctx.model.nvars >= IPM_THRESHOLD_VARIABLES else "simplex"


def solve(ctx: Context, *, method: str = "auto", threads: int | None = None, time_limit: float | None = None,
          verbose: bool = False) -> SolveResult:
    if not verbose:
        _absorb_highs_banner()
    chosen = pick_method(ctx, method)
    options: dict = {"output_flag": bool(verbose), "solver": chosen}
    if threads is not None:
        options["threads"] = int(threads)
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    use_threads(threads)
    t0 = time.perf_counter()
    try:
        status, termination = solve_in_scratch(ctx.model, solver_name="highs", io_api="direct", progress=False,
                                               **options)
    except Exception as exc:  # the solver itself failed (not the model)
        raise SolverError(f"HiGHS failed: {exc}") from exc
    seconds = time.perf_counter() - t0
    run_time = None
    highs = ctx.model.solver_model
    if highs is not None and hasattr(highs, "getRunTime"):
        try:
            run_time = float(highs.getRunTime())
        except Exception:  # pragma: no cover - depends on highspy build
            run_time = None
    log.info("HiGHS %s: %s (%s) in %.2f s", chosen, status, termination, seconds)
    return SolveResult(status=str(status), termination=str(termination), solve_seconds=seconds, method=chosen,
                       highs_run_seconds=run_time)
