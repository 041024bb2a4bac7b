"""The numbers-only fast path: a sweep task that differs from the last one only in numbers rebuilds only
the model families whose inputs changed, and pushes only the LP numbers that differ into one HiGHS model.

:class:`FastPath` keeps, per worker, one HiGHS model (highspy, built once from a full linopy model of the
first task: the *base*) and, for each model family of :data:`gigawatt.optimize.build.FAMILIES`, the inputs
it read while it was built (recorded by proxies around the portfolio: a ``data`` array, a portfolio
table, a scenario field). A later task's portfolio is compared with the loaded one on those inputs only;
the families that read a changed input are built again, by the same functions (one source of truth), on
a scratch linopy model holding every variable but only those families. Their numbers, mapped by linopy
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

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse

from gigawatt.optimize.build import FAMILIES, new_context
from gigawatt.optimize.context import Context
from gigawatt.optimize.reads import Recorder as _Portfolio, same as _same, value as _value
from gigawatt.optimize.solve import SolveResult, _absorb_highs_banner, pick_method, use_threads


log = logging.getLogger(__name__)


class Fallback(Exception):
    """This task cannot take the fast path; the message says why."""


# --- the LP numbers of a model, by family ----------------------------------------------------------------


@dataclass
class _Rows:
    """One constraint's rows in the HiGHS model: where they start, their coefficients (columns of the
    HiGHS model), right-hand sides and senses."""

    start: int
    active: np.ndarray
    matrix: scipy.sparse.csr_array
    rhs: np.ndarray
    sense: np.ndarray


@dataclass
class _Numbers:
    """The LP numbers of some families of one model, indexed like the base HiGHS model."""

    cols: dict = field(default_factory=dict)  # variable name -> (labels, lower, upper) of its active entries
    rows: dict = field(default_factory=dict)  # constraint name -> _Rows (start unset: -1)
    cost: np.ndarray | None = None  # objective coefficients over the HiGHS columns


def _numbers(ctx: Context, names: set, col_of: np.ndarray, ncols: int, objective: bool) -> _Numbers:
    """The numbers of the constraints ``names`` and of every variable (and the objective if asked) of
    ``ctx.model``, with columns mapped to the base model's (``col_of``: linopy label -> HiGHS column)."""
    m = ctx.model
    out = _Numbers()
    for name, var in m.variables.items():
        labels = var.labels.values.ravel()
        on = labels != -1
        out.cols[name] = (labels[on], var.lower.values.ravel()[on].astype(float),
                          var.upper.values.ravel()[on].astype(float))
    index = m.variables.label_index
    to_base = col_of[index.vlabels]  # scratch position -> base column
    for name in names:
        con = m.constraints[name]
        csr, _, rhs, sense = con.to_matrix_with_rhs(index)
        csr = scipy.sparse.csr_array((csr.data, to_base[csr.indices], csr.indptr), shape=(csr.shape[0], ncols))
        csr.sum_duplicates()
        out.rows[name] = _Rows(-1, np.asarray(con.active_row_mask()).ravel(), csr, np.asarray(rhs, dtype=float),
                               np.broadcast_to(np.asarray(sense), (csr.shape[0],)).copy())
    if objective:
        labels, coeffs = m.objective.linear_terms()
        cost = np.zeros(ncols)
        np.add.at(cost, col_of[labels], coeffs)
        out.cost = cost
    return out


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
        self.ctx: Context | None = None
        self.key: tuple | None = None
        self.stats = {"fast": 0, "load": 0, "fallback": 0}

    # the base -----------------------------------------------------------------------------------------

    def load(self, portfolio, *, allow_unmet: bool, method: str) -> None:
        """Build the base model from ``portfolio`` (recording each family's inputs) and its HiGHS model."""
        import highspy
        from linopy.solvers import Highs

        _absorb_highs_banner()
        self.reads: dict[str, set] = {}
        self.made: dict[str, tuple] = {}
        ctx = new_context(portfolio, allow_unmet=allow_unmet)
        for name, family in FAMILIES:
            ctx.portfolio = _Portfolio(portfolio, self.reads.setdefault(name, set()))
            before = set(ctx.model.constraints)
            family(ctx)
            self.made[name] = tuple(c for c in ctx.model.constraints if c not in before)
        ctx.portfolio = portfolio
        m = ctx.model
        index = m.variables.label_index
        self.ncols = len(index.vlabels)
        self.col_of = np.full(int(m._xCounter) + 1, -1, dtype=np.int64)
        self.col_of[index.vlabels] = np.arange(self.ncols)
        self.current = _numbers(ctx, set(m.constraints), self.col_of, self.ncols, objective=True)
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
        self._highs = highspy
        self.stats["load"] += 1

    # a task -------------------------------------------------------------------------------------------

    def changed_families(self, portfolio) -> list[str]:
        """The families that read an input whose value differs between the loaded portfolio and this one."""
        keys = set().union(*self.reads.values())
        changed = {k for k in keys if not _same(_value(self.portfolio, k), _value(portfolio, k))}
        return [name for name, _ in FAMILIES if self.reads[name] & changed]

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
        families = self.changed_families(portfolio)
        new = self._rebuild(portfolio, families)
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
        result = SolveResult(status="ok", termination="optimal", solve_seconds=seconds, method=self.method,
                             highs_run_seconds=run)
        return out, result, build_s, families

    def _rebuild(self, portfolio, families: list[str]) -> _Numbers:
        """The changed families, built again on a scratch model holding every variable."""
        if not families:  # nothing the model reads changed (e.g. a number only finance reads)
            return _Numbers()
        ctx = new_context(portfolio, allow_unmet=self.allow_unmet)
        names = set()
        variable_families = {n for n, _ in FAMILIES[:4]}
        for name, family in FAMILIES:
            if name in variable_families or name in families:
                reads = set()
                ctx.portfolio = _Portfolio(portfolio, reads)
                before = set(ctx.model.constraints)
                family(ctx)
                made = tuple(c for c in ctx.model.constraints if c not in before)
                if made != self.made[name]:
                    raise Fallback(f"structure: {name} now builds {list(made)}, not {list(self.made[name])}")
                self.reads[name] |= reads  # an input read on another branch is watched from now on
                names.update(made)
        ctx.portfolio = portfolio
        return _numbers(ctx, names, self._col_map(ctx), self.ncols, objective="objective" in families)

    def _col_map(self, ctx: Context) -> np.ndarray:
        """linopy label of the scratch model -> HiGHS column, checking that every variable has the base's
        labels (the same masks)."""
        base = self.ctx.model.variables
        for name, var in ctx.model.variables.items():
            if name not in base or not np.array_equal(var.labels.values, base[name].labels.values):
                raise Fallback(f"structure: the entries of variable {name} changed (a mask)")
        return self.col_of

    def _diff(self, new: _Numbers) -> dict:
        """What to push: column bounds, row bounds, coefficients, costs that differ from HiGHS's."""
        cur = self.current
        out = {"cols": [], "rows": [], "coeffs": [], "cost": None}
        for name, (labels, lower, upper) in new.cols.items():
            _, lo0, up0 = cur.cols[name]
            diff = ~((lower == lo0) & (upper == up0))
            if diff.any():
                out["cols"].append((self.col_of[labels[diff]], lower[diff], upper[diff]))
        for name, rows in new.rows.items():
            old = cur.rows[name]
            if not np.array_equal(rows.active, old.active) or not np.array_equal(rows.sense, old.sense):
                raise Fallback(f"structure: the rows of {name} changed")
            diff = rows.rhs != old.rhs
            if diff.any():
                i = np.flatnonzero(diff)
                b, s = rows.rhs[i], rows.sense[i]
                out["rows"].append((old.start + i, np.where(s != "<", b, -np.inf), np.where(s != ">", b, np.inf)))
            delta = (rows.matrix - old.matrix).tocoo()
            hit = delta.data != 0
            if hit.any():
                r, c = delta.row[hit], delta.col[hit]
                out["coeffs"].append((old.start + r, c, np.asarray(rows.matrix[r, c]).ravel()))
        if new.cost is not None:
            diff = np.flatnonzero(new.cost != cur.cost)
            if len(diff):
                out["cost"] = (diff, new.cost[diff])
        return out

    def _push(self, pushes: dict) -> None:
        h = self.highs
        for cols, lower, upper in pushes["cols"]:
            h.changeColsBounds(len(cols), cols.astype(np.int32), lower, upper)
        for rows, lower, upper in pushes["rows"]:
            h.changeRowsBounds(len(rows), rows.astype(np.int32), lower, upper)
        for rows, cols, values in pushes["coeffs"]:
            for r, c, v in zip(rows.tolist(), cols.tolist(), values.tolist()):
                h.changeCoeff(r, c, v)
        if pushes["cost"] is not None:
            cols, values = pushes["cost"]
            h.changeColsCost(len(cols), cols.astype(np.int32), values)

    def _commit(self, new: _Numbers, portfolio) -> None:
        """HiGHS now holds the task's numbers: remember them, and the task's portfolio."""
        for name, cols in new.cols.items():
            self.current.cols[name] = cols
        for name, rows in new.rows.items():
            rows.start = self.current.rows[name].start
            self.current.rows[name] = rows
        if new.cost is not None:
            self.current.cost = new.cost
        self.portfolio = portfolio

    def figures(self, portfolio):
        """The solved task's :class:`~gigawatt.optimize.figures.Figures`, straight from HiGHS's column
        values (the base model's variables mapped to columns once: :class:`~gigawatt.optimize.figures.Reader`),
        or None (and a warning) where they cannot be read so."""
        from gigawatt.optimize.figures import Reader

        h = self.highs
        try:
            if self.reader is None:
                self.reader = Reader(self.ctx, self.col_of, self.allow_unmet)
            return self.reader.figures(h.getSolution().col_value, h.getObjectiveValue(), portfolio)
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
