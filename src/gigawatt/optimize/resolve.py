"""Update-and-resolve: one HiGHS instance per model structure, changed in place and re-solved warm.

Sweeps (and, later, the decomposition of a stochastic plan into futures) solve the same linear program
many times with different numbers. :class:`Resolver` keeps, per structure, a linopy persistent solver
(``linopy.solvers.Highs`` with ``track_updates``): the first task of a structure builds the HiGHS model
(a cold solve); every later task's linopy model is diffed against it (``linopy.persistent.ModelDiff``:
variable bounds, right-hand sides, coefficients of the same sparsity, objective coefficients), only the
numbers that differ are changed through highspy (``changeColsBounds``, ``changeRowBounds``,
``changeCoeff``, ``changeColsCost``), and HiGHS re-solves from the basis it kept. The solution and duals
are written back into the task's own linopy model, where :func:`gigawatt.optimize.run.extract` reads
them, so the extracted plan is the one a cold solve gives (tests/test_resolve.py compares them).

A task whose structure differs from every cached one (another set of options, sites, periods, masks,
allow_unmet or method) gets a new HiGHS model: ``how`` says ``build`` (first of its structure) or
``rebuild: <reason>`` (linopy found a change it cannot apply in place, e.g. a coefficient that appears or
vanishes), and the task's record carries it.

The build of the task's linopy model itself is still paid per task; what is saved is the hand-off of the
whole model to HiGHS and the cold solve (docs/performance.md, "Sweeps").
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

from gigawatt.errors import SolverError
from gigawatt.optimize.context import Context
from gigawatt.optimize.solve import SolveResult, _absorb_highs_banner, pick_method, use_threads

log = logging.getLogger(__name__)

# structures kept per worker (a sweep usually has one; a Monte Carlo sweep whose events remove options a few)
MAX_STRUCTURES = 4


@dataclass
class _Entry:
    solver: object  # linopy.solvers.Highs, built on the first model of this structure
    solves: int = 0


def structure_key(ctx: Context, method: str, options: dict) -> tuple:
    """What must be equal for two models to share a HiGHS instance: the containers (variable and
    constraint names, their dimensions and sizes), the coordinates of every dimension, and the options.
    linopy's diff checks the rest (masks, sparsity) and rebuilds, with a reason, where they differ."""
    m = ctx.model
    shapes = tuple((n, tuple(m.variables[n].sizes.items())) for n in m.variables) + \
        tuple(("c:" + n, tuple(m.constraints[n].sizes.items())) for n in m.constraints)
    coords = tuple((k, tuple(map(str, idx))) for k, idx in sorted(ctx.data.indexes.items()))
    return (shapes, coords, method, tuple(sorted(options.items())), bool(ctx.allow_unmet))


class Resolver:
    """Solves models of a few structures, each on a HiGHS instance that is updated and re-solved warm.

    Not thread-safe (one per process, as the sweep's workers hold it). ``stats`` counts the solves by
    how they were done."""

    def __init__(self, max_structures: int = MAX_STRUCTURES):
        self.max_structures = int(max_structures)
        self._cache: OrderedDict[tuple, _Entry] = OrderedDict()
        self.stats = {"update": 0, "build": 0, "rebuild": 0}

    def solve(self, ctx: Context, *, method: str = "auto", threads: int | None = None,
              time_limit: float | None = None, assign: bool = True) -> tuple[SolveResult, str]:
        """Solve ``ctx.model`` (writing its solution and duals into it) and say how: ``update`` (numbers
        changed in place, warm start), ``build`` (first model of its structure) or ``rebuild: <reason>``.
        ``assign=False`` leaves the model's solution as it was and reports only status and objective
        (``SolveResult.objective``), for re-solves that need nothing else (the binding confirmation)."""
        from linopy.solvers import Solver

        _absorb_highs_banner()
        chosen = pick_method(ctx, method)
        options: dict = {"output_flag": False, "solver": chosen}
        if threads is not None:
            options["threads"] = int(threads)
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        key = structure_key(ctx, chosen, options)
        entry = self._cache.get(key)
        t0 = time.perf_counter()
        try:
            if entry is None:
                entry = _Entry(Solver.from_name("highs", io_api="direct", options=options, track_updates=True))
                self._cache[key] = entry
                while len(self._cache) > self.max_structures:
                    _, old = self._cache.popitem(last=False)
                    old.solver.close()
                how = "build"
            else:
                self._cache.move_to_end(key)
                how = "update"
            highs_before = _run_time(entry.solver.solver_model)
            use_threads(threads)
            result = entry.solver.solve(ctx.model, assign=False)
            reason = getattr(entry.solver, "_last_rebuild_reason", None)
            if how == "update" and reason is not None:
                how = f"rebuild: {reason.value}"
                highs_before = 0.0  # a new HiGHS instance: its clock starts at zero
            if assign:  # not attached as model.solver: another model's solve would close it
                ctx.model.assign_result(result)
        except Exception as exc:  # the solver itself failed (not the model): forget this instance
            self._cache.pop(key, None)
            raise SolverError(f"HiGHS failed: {exc}") from exc
        entry.solves += 1
        self.stats[how.split(":")[0]] += 1
        seconds = time.perf_counter() - t0
        after = _run_time(entry.solver.solver_model)
        run = after - highs_before if after is not None and highs_before is not None else None
        status, termination = result.status.status.value, result.status.termination_condition.value
        objective = (result.solution.objective / ctx.model.objective.scaling
                     if result.status.is_ok and result.solution is not None else None)
        log.debug("HiGHS %s (%s): %s (%s) in %.3f s", chosen, how, status, termination, seconds)
        return SolveResult(status=str(status), termination=str(termination), solve_seconds=seconds, method=chosen,
                           highs_run_seconds=run, objective=objective), how

    def close(self) -> None:
        for entry in self._cache.values():
            entry.solver.close()
        self._cache.clear()


def _run_time(highs) -> float | None:
    """HiGHS's own clock (cumulative over the instance's runs), or None."""
    if highs is None or not hasattr(highs, "getRunTime"):
        return 0.0 if highs is None else None
    try:
        return float(highs.getRunTime())
    except Exception:  # pragma: no cover - depends on the highspy build
        return None


__all__ = ["Resolver", "structure_key", "MAX_STRUCTURES"]
