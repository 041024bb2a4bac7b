"""The numbers-only fast path: a sweep task that differs from the last one only in numbers rebuilds only
the model families whose inputs changed, and pushes only the LP numbers that differ into one HiGHS model.

:class:`FastPath` keeps, per worker, one HiGHS model (highspy, built once from a full linopy model of the
first task: the *base*) and, for each model family of :data:`gigawatt.optimize.build.FAMILIES`, the inputs
it read while it was built (recorded by proxies around the portfolio: a ``data`` array, a portfolio
table, a scenario field). A later task's portfolio is compared with the loaded one on those inputs only.
The families that read a changed input get their numbers from their own functions (one source of truth),
without linopy where they can: the objective's cost vector from ``objective.cost_factors``; a right-hand
side or a variable's mask from the function its family passes to ``Context.rhs`` / ``Context.mask``
(when only that function's inputs changed); the rest are built again on a scratch linopy model holding
every variable (made on first need). Their numbers, mapped by linopy
label to the HiGHS model's columns and rows, are compared with what HiGHS holds, and only the differences
are pushed (``changeColsBounds``, ``changeRowsBounds``, ``changeCoeff``, ``changeColsCost``); HiGHS
re-solves from the basis it kept. The solution is written into the base linopy model, whose variables
and rows are the task's (the structure is checked), and extracted with the task's portfolio.

The task falls back to the ordinary path (:exc:`Fallback`, its reason recorded) when the structure
differs: other sets or coordinates, a variable whose mask changed, a constraint row that appears or
vanishes, a family that now builds another set of constraints, a different method or allow_unmet; and
when HiGHS does not report an optimum (so that errors and their diagnosis are the cold path's).
"""

from __future__ import annotations

import gc
import logging
import time

import numpy as np

from gigawatt.optimize.build import FAMILIES, new_context
from gigawatt.optimize.context import Context
from gigawatt.optimize.lpnumbers import CostLabels, Fallback, Numbers, Rows, differences, layout, numbers, push
from gigawatt.optimize.reads import Recorder as _Portfolio, same as _same, value as _value
from gigawatt.optimize.solve import SolveResult, _absorb_highs_banner, pick_method, use_threads


log = logging.getLogger(__name__)


def _structure(portfolio, allow_unmet: bool, method: str) -> tuple:
    idx = portfolio.data.indexes
    return (tuple((k, tuple(map(str, v))) for k, v in sorted(idx.items())), bool(allow_unmet), method)


# --- the fast path ----------------------------------------------------------------------------------------


class FastPath:
    """One HiGHS model per worker, changed in place from task to task (see the module's docstring).

    ``load`` builds the base from a portfolio (a full linopy build and a cold solve); ``solve`` takes a
    task's portfolio, pushes the numbers that differ, re-solves and returns the solved Context (the base
    linopy model, holding the task's solution, with the task's portfolio) or raises :exc:`Fallback`."""

    def __init__(self):
        self.highs = None
        self.reader = None
        self.read_seconds = 0.0
        self.task_grids = (None, None)  # (portfolio, its objective.cost_grids) of the last cost vector made
        self.ctx: Context | None = None
        self.key: tuple | None = None
        self.stats = {"fast": 0, "load": 0, "fallback": 0}
        self.misses = 0  # tasks in a row that fell back (the caller re-bases after a few)

    # the base -----------------------------------------------------------------------------------------

    def load(self, portfolio, *, allow_unmet: bool, method: str) -> None:
        """Build the base model from ``portfolio`` (recording each family's inputs, apart those of its
        right-hand sides) and its HiGHS model."""
        import highspy
        from linopy.solvers import Highs

        _absorb_highs_banner()
        gc.unfreeze()  # the previous base (if any) may be collected again
        self._highs = highspy
        self.reads: dict[str, set] = {}  # family -> inputs read (those of its Context.rhs functions apart)
        self.rhs_reads: dict[str, set] = {}  # family -> inputs its Context.rhs functions read
        self.rhs_fns: dict[str, dict] = {}  # family -> constraint -> its Context.rhs function
        self.made: dict[str, tuple] = {}  # family -> the constraints it adds
        self.made_vars: dict[str, tuple] = {}  # family -> the variables it adds
        self.var_start: dict[str, int] = {}  # family -> the first label of its variables
        ctx = new_context(portfolio, allow_unmet=allow_unmet)
        m = ctx.model
        for name, family in FAMILIES:
            ctx.portfolio = _Portfolio(portfolio, self.reads.setdefault(name, set()))
            ctx.on_rhs = self._recording(name, portfolio)
            before, variables, self.var_start[name] = set(m.constraints), set(m.variables), int(m._xCounter)
            family(ctx)
            self.made[name] = tuple(c for c in m.constraints if c not in before)
            self.made_vars[name] = tuple(v for v in m.variables if v not in variables)
        ctx.portfolio, ctx.on_rhs = portfolio, None
        index = m.variables.label_index
        self.ncols = len(index.vlabels)
        self.x_end = int(m._xCounter)
        self.col_of = np.full(self.x_end + 1, -1, dtype=np.int64)
        self.col_of[index.vlabels] = np.arange(self.ncols)
        self.current = numbers(m, list(m.constraints), list(m.variables), self.col_of, self.ncols, objective=True)
        start = 0
        for name in m.constraints:  # rows are stacked in the order the constraints were added
            self.current.rows[name].start = start
            start += self.current.rows[name].matrix.shape[0]
        chosen = pick_method(ctx, method)
        h = Highs._build_solver_model(m, set_names=False)
        h.setOptionValue("output_flag", False)
        h.setOptionValue("solver", chosen)
        # threads: left to the process's HiGHS scheduler (set by its first solve; HiGHS refuses to run with
        # another count). The dual simplex these models take is serial.
        if self.highs is not None:
            self.highs.clear()
        self.highs, self.ctx, self.portfolio, self.method = h, ctx, portfolio, chosen
        self.reader = None  # the figures' map of this base's columns, made on first use
        self.key = _structure(portfolio, allow_unmet, method)
        self.allow_unmet = bool(allow_unmet)
        self._held = self._next = (portfolio, {})  # a portfolio and the values of the inputs read
        self.scratch = None  # a linopy model of every variable, for families rebuilt by linopy (made when needed)
        self._check_shortcuts(portfolio)
        # The base, the imports and the libraries' state live as long as the worker: frozen, the collector's
        # full passes (a 100-200 ms pause every few dozen tasks, scanning them) skip them. A first load freezes
        # without a full collection (89 ms, a fifth of the minimal example's load, finding 0 / 163 unreachable
        # objects on the minimal / reference base); a reload collects first, or the previous base's garbage,
        # unfrozen above, would be frozen again (~1,250 objects more per reload, found in review).
        if self.stats["load"]:
            gc.collect()
        gc.freeze()
        self.stats["load"] += 1
        self.misses = 0

    def _recording(self, family: str, portfolio):
        """A Context.rhs hook that records what a right-hand side reads apart from its family's reads."""
        reads, fns = self.rhs_reads.setdefault(family, set()), self.rhs_fns.setdefault(family, {})

        def on_rhs(constraint, numbers_of, ctx):
            saved = ctx.portfolio
            ctx.portfolio = _Portfolio(portfolio, reads)
            try:
                value = numbers_of(ctx)
            finally:
                ctx.portfolio = saved
            fns[constraint] = numbers_of
            return value.to_xarray() if hasattr(value, "to_xarray") else value

        return on_rhs

    def _check_shortcuts(self, portfolio) -> None:
        """The cost vector from the objective's factors, and each right-hand side from its function, must give
        exactly the base's numbers; where one does not, its family is rebuilt by linopy instead."""
        self.cost_labels = CostLabels(self.ctx.model, self.col_of)
        try:
            ok = bool(np.array_equal(self._cost(portfolio, set()), self.current.cost))
        except Exception:  # noqa: BLE001 - any trouble: linopy rebuilds the objective
            ok = False
        self.fast_cost = ok
        for family, fns in self.rhs_fns.items():
            try:
                rows = self._rhs(portfolio, family, set())
                ok = all(np.array_equal(r.rhs, self.current.rows[c].rhs) for c, r in rows.items())
            except Fallback:
                ok = False
            except Exception:  # noqa: BLE001
                ok = False
            made = {("rhs", c) for c in self.made[family]} | {("mask", v) for v in self.made_vars[family]}
            if not ok or set(fns) - made:
                self.reads[family] |= self.rhs_reads[family]
                self.rhs_fns[family] = {}

    # a task -------------------------------------------------------------------------------------------

    def _changed(self, portfolio) -> set:
        """The inputs read by some family whose value differs between HiGHS's numbers and ``portfolio``."""
        keys = set().union(*self.reads.values(), *self.rhs_reads.values())
        held = self._held
        if held[0] is not self.portfolio:
            held = self._held = (self.portfolio, {})
        values = {k: _value(portfolio, k) for k in keys}
        old = {k: held[1][k] if k in held[1] else _value(self.portfolio, k) for k in keys}
        self._next = (portfolio, values)
        return {k for k in keys if not _same(old[k], values[k])}

    def changed_families(self, portfolio) -> list[str]:
        """The families that read an input whose value differs between the loaded portfolio and this one."""
        return self._families(self._changed(portfolio))

    def _families(self, changed: set) -> list[str]:
        return [name for name, _ in FAMILIES if (self.reads[name] | self.rhs_reads[name]) & changed]

    def solve(self, portfolio, *, allow_unmet: bool, method: str, time_limit: float | None = None,
              duals: bool = False, figures: bool = False):
        """Push the task's numbers into HiGHS and re-solve warm: (Context, SolveResult, build seconds, the
        families rebuilt). The Context's model holds the solution (and the duals, if asked). With
        ``figures``: the task's :class:`~gigawatt.optimize.figures.Figures` (a sweep's row) in the
        Context's place, read from HiGHS's solution without linopy (a Context where they cannot be)."""
        if self.highs is None:
            raise Fallback("no base model")
        if _structure(portfolio, allow_unmet, method) != self.key:
            raise Fallback("structure: other sets, allow_unmet or method than the loaded model")
        t0 = time.perf_counter()
        self.task_grids = (None, None)  # this task's, if _cost makes them
        changed = self._changed(portfolio)
        families = self._families(changed)
        new = self._rebuild(portfolio, families, changed)
        pushes = self._diff(new)
        build_s = time.perf_counter() - t0
        h = self.highs
        self._push(pushes)
        h.setOptionValue("time_limit", float(time_limit) if time_limit is not None else float("inf"))
        t1 = time.perf_counter()
        before = h.getRunTime()
        use_threads(None)
        ran = h.run()
        run = h.getRunTime() - before
        seconds = time.perf_counter() - t1
        status = h.getModelStatus()
        self._commit(new, portfolio)
        if status != self._highs.HighsModelStatus.kOptimal:
            self.highs = None  # its state is the task's; the next task loads a new base
            raise Fallback(f"HiGHS: {h.modelStatusToString(status)} ({ran})")
        t2 = time.perf_counter()
        out = self.figures(portfolio) if figures else None
        if out is None:
            out = self._assign(portfolio, duals)
        self.read_seconds = time.perf_counter() - t2  # the solution read out (figures, or into linopy)
        self.stats["fast"] += 1
        self.misses = 0
        result = SolveResult(status="ok", termination="optimal", solve_seconds=seconds, method=self.method,
                             highs_run_seconds=run)
        return out, result, build_s, families

    def _rebuild(self, portfolio, families: list[str], changed: set) -> Numbers:
        """The numbers of the changed families: the cost vector from the objective's factors, right-hand sides
        from their functions (where only their inputs changed), the rest rebuilt by linopy."""
        new = Numbers()
        try:
            for name, family in FAMILIES:
                if name not in families:
                    continue
                if name == "objective" and self.fast_cost:
                    new.cost = self._cost(portfolio, self.reads[name])
                elif self.rhs_fns[name] and not self.reads[name] & changed:
                    new.rows.update(self._rhs(portfolio, name, self.rhs_reads[name]))
                else:
                    self._linopy(portfolio, name, family, new)
        finally:  # the scratch model holds no constraint between tasks, whatever happened in this one
            if self.scratch is not None:
                self.scratch.remove_constraints(list(self.scratch.constraints))
        return new

    def _context(self, portfolio, model, reads: set | None) -> Context:
        ctx = Context(portfolio=portfolio if reads is None else _Portfolio(portfolio, reads), model=model,
                      allow_unmet=self.allow_unmet, own=self.ctx.own, lease=self.ctx.lease,
                      contract=self.ctx.contract)
        return ctx

    def _cost(self, portfolio, reads: set) -> np.ndarray:
        """The cost vector of ``portfolio`` from :func:`objective.cost_factors` (no linopy expression)."""
        from gigawatt.optimize.objective import cost_factors, cost_grids

        ctx = self._context(portfolio, self.ctx.model, reads)
        if self._next[0] is portfolio:  # the columns :meth:`_changed` read from it (each read once)
            ctx.columns = self._next[1]
        grids = cost_grids(ctx)
        self.task_grids = (portfolio, grids)  # the row's figures read the same coefficients (figures())
        return self.cost_labels.cost(cost_factors(ctx, grids), self.ncols)

    def _rhs(self, portfolio, family: str, reads: set) -> dict:
        """The rows of ``family``'s constraints with right-hand sides recomputed by their functions; its
        variables' masks recomputed and checked (Fallback if one changed)."""
        ctx = self._context(portfolio, self.ctx.model, reads)
        out = {}
        for (kind, name), numbers_of in self.rhs_fns[family].items():
            base = (self.ctx.model.constraints if kind == "rhs" else self.ctx.model.variables)[name]
            labels = base.labels
            try:
                full = layout(numbers_of(ctx), labels.dims, {d: labels.indexes[d] for d in labels.dims},
                              labels.shape)
            except ValueError as exc:
                raise Fallback(f"structure: {name}: {exc}") from None
            if kind == "mask":
                if not np.array_equal(full, labels.values != -1):
                    raise Fallback(f"structure: the entries of variable {name} changed (a mask)")
                continue
            old = self.current.rows[name]
            out[name] = Rows(old.start, old.active, old.matrix, full.ravel()[old.active].astype(float), old.sense)
        return out

    def _scratch(self):
        """A linopy model holding every variable of the base (the same labels), and no constraint."""
        if self.scratch is None:
            ctx = new_context(self.portfolio, allow_unmet=self.allow_unmet)
            for _, family in FAMILIES:
                family(ctx)
            ctx.model.remove_constraints(list(ctx.model.constraints))
            self.scratch = ctx.model
        return self.scratch

    def _linopy(self, portfolio, name: str, family, new: Numbers) -> None:
        """Family ``name`` built again by linopy on the scratch model (its variables replaced), its numbers
        into ``new``; Fallback when it builds other constraints or variables with other entries."""
        from linopy import LinearExpression

        m = self._scratch()
        for var in self.made_vars[name]:
            m.variables.remove(var)
        if name == "objective":
            m.objective.expression = LinearExpression(None, m)
        m._xCounter = self.var_start[name]
        reads = set()
        before, variables = set(m.constraints), set(m.variables)
        try:
            family(self._context(portfolio, m, reads))
            made = tuple(c for c in m.constraints if c not in before)
            if made != self.made[name]:
                raise Fallback(f"structure: {name} now builds {list(made)}, not {list(self.made[name])}")
            made_vars = tuple(v for v in m.variables if v not in variables)
            base = self.ctx.model.variables
            for var in made_vars:
                if var not in base or not np.array_equal(m.variables[var].labels.values, base[var].labels.values):
                    raise Fallback(f"structure: the entries of variable {var} changed (a mask)")
            if made_vars != self.made_vars[name]:
                raise Fallback(f"structure: {name} now adds variables {list(made_vars)}")
        except BaseException:  # Fallback included: the scratch may hold this task's variables or rows
            self.scratch = None  # made anew, from the base, when next needed
            raise
        finally:
            m._xCounter = self.x_end
        self.reads[name] |= reads  # an input read on another branch is watched from now on
        got = numbers(m, made, made_vars, self.col_of, self.ncols, objective=name == "objective")
        new.cols.update(got.cols)
        new.rows.update(got.rows)
        if got.cost is not None:
            new.cost = got.cost

    def _diff(self, new: Numbers) -> dict:
        """What to push: column bounds, row bounds, coefficients, costs that differ from HiGHS's."""
        return differences(self.current, new, self.col_of)

    def _push(self, pushes: dict) -> None:
        push(self.highs, pushes)

    def _commit(self, new: Numbers, portfolio) -> None:
        """HiGHS now holds the task's numbers: remember them, and the task's portfolio."""
        for name, cols in new.cols.items():
            self.current.cols[name] = cols
        for name, rows in new.rows.items():
            rows.start = self.current.rows[name].start
            self.current.rows[name] = rows
        if new.cost is not None:
            self.current.cost = new.cost
        self.portfolio = portfolio
        if self._next[0] is portfolio:
            self._held = self._next

    def figures(self, portfolio):
        """The solved task's :class:`~gigawatt.optimize.figures.Figures`, straight from HiGHS's column
        values (the base model's variables mapped to columns once: :class:`~gigawatt.optimize.figures.Reader`),
        or None (and a warning) where they cannot be read so."""
        from gigawatt.optimize.figures import Reader

        h = self.highs
        try:
            if self.reader is None:
                self.reader = Reader(self.ctx, self.col_of, self.allow_unmet)
            known = self._held[1] if self._held[0] is portfolio else None  # read by _changed this task
            grids = self.task_grids[1] if self.task_grids[0] is portfolio else None  # made by _cost this task
            return self.reader.figures(h.getSolution().col_value, h.getObjectiveValue(), portfolio, known,
                                       grids=grids)
        except Exception as exc:  # a model the reader does not know: the caller extracts a Plan
            log.warning("fast path: figures not read from the solution (%s: %s); extracting a plan",
                        type(exc).__name__, exc)
            return None

    def _assign(self, portfolio, duals: bool = False) -> Context:
        """The solution (and the duals if asked: a sweep's row reads none) into the base linopy model; a
        Context over it with the task's portfolio."""
        from linopy.constants import Result, Solution, Status

        h = self.highs
        m = self.ctx.model
        sol = h.getSolution()
        primal = np.full(int(m._xCounter), np.nan)
        primal[m.variables.label_index.vlabels] = np.asarray(sol.col_value, dtype=float)
        dual = np.array([])
        clabels = m.constraints.label_index.clabels
        if duals and len(clabels):
            dual = np.full(int(m._cCounter), np.nan)
            dual[clabels] = np.asarray(sol.row_dual, dtype=float)
        m.assign_result(Result(Status.process("ok", "optimal"), Solution(primal, dual, float(h.getObjectiveValue()))))
        ctx = new_context(portfolio, allow_unmet=self.allow_unmet)
        ctx.model = m
        return ctx

    def close(self) -> None:
        if self.highs is not None:
            self.highs.clear()
        self.highs = None


__all__ = ["FastPath", "Fallback"]
