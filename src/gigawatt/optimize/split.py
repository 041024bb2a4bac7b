"""The extensive form split by future, for the L-shaped method (docs/stochastic.md, "Decomposition").

:func:`split_extensive` takes a built extensive-form model (``create_model(..., probability=...)``) and
cuts its matrix into one small LP per future: the commitment columns (every variable without a
``future`` dimension: chips bought and in service, site power, CVaR's η), the first-stage rows (rows
without ``future``: they hold commitments only) and that future's recourse columns and rows, with the
future's own costs (the objective's terms before probability weights, :func:`_costs`), so the LP's optimum
is the future's own net present cost (take-or-pay payments aside).
:class:`FutureSolver` keeps those LPs and one HiGHS instance: it solves each LP once with commitments free
(the future alone, "wait and see"), keeps that optimal basis, and thereafter solves it with the commitments
fixed at given values, always starting from that basis, so that the answer (value and the reduced costs of
the fixed commitments, the cut's slope) depends only on the future and the commitments, never on what the
worker solved before. :class:`Master` is the L-shaped master: commitments, one θ per future, the
first-stage rows, and the cuts added as rows between warm re-solves.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
import xarray as xr

from gigawatt.errors import GigawattError, InfeasibleError
from gigawatt.optimize.context import Context
from gigawatt.optimize.objective import cost_terms, fixed_payments_npv_musd
from gigawatt.optimize.solve import use_threads

INF = highspy.kHighsInf


@dataclass
class FirstStage:
    """The commitment columns (in a fixed order) and the rows that hold only them."""

    keys: list[tuple[str, int]]  # (variable name, flat position in its label array)
    lower: np.ndarray
    upper: np.ndarray
    rows: sp.csr_array  # first-stage rows over the commitment columns
    row_lower: np.ndarray
    row_upper: np.ndarray
    shapes: dict  # variable name -> (dims, coords) to rebuild DataArrays


@dataclass
class Split:
    """One LP per future (commitment columns first), the first stage, and what reports need."""

    first: FirstStage
    futures: list[str]
    lps: list  # highspy.HighsLp per future
    unmet_cols: list[np.ndarray]  # per future: columns of Workload-unmet in its LP
    loss_costs: list[np.ndarray]  # per future: its net present cost's coefficients (= the LP's unless CVaR)
    fixed_musd: np.ndarray  # per future: take-or-pay payments (a constant outside the LP), MUSD
    induced: tuple  # (rows over commitments, lower, upper): rows of a future that hold commitments only


def _labels_by_future(items, nlabels: int) -> tuple[np.ndarray, dict]:
    """Per label: the position of its future (−1: no future dimension); and the first-stage label arrays."""
    where = np.full(nlabels, -1, dtype=np.int64)
    first = {}
    for name in items:
        lab = items[name].labels
        if "future" in lab.dims:
            pos = lab.copy(data=np.broadcast_to(
                np.arange(lab.sizes["future"]).reshape([-1 if d == "future" else 1 for d in lab.dims]),
                lab.shape))
            ok = lab.values >= 0
            where[lab.values[ok]] = pos.values[ok]
        else:
            first[name] = lab
    return where, first


def label_pos_of(vlabels: np.ndarray) -> np.ndarray:
    """Matrix column of each variable label (−1: not in the matrix)."""
    pos = np.full(int(vlabels.max()) + 1, -1, dtype=np.int64)
    pos[vlabels] = np.arange(len(vlabels))
    return pos


def _costs(ctx: Context, label_pos: np.ndarray, ncols: int, nfut: int) -> tuple[np.ndarray, sp.csr_array]:
    """Each future's own cost coefficients (MUSD), from the objective's terms before they are weighted by
    probability: a term without ``future`` costs the same in every future (``common``, per column); a term
    over ``future`` (recourse, and commitments whose price is uncertain, e.g. chips' energy) costs each
    future its own (``by_future``, future × column). Reading the weighted objective instead would give a
    commitment the average of its futures' prices in every future."""
    common = np.zeros(ncols)
    rows, cols, vals = [], [], []
    for term in cost_terms(ctx):
        lab_da, co_da = xr.broadcast(term.vars, term.coeffs)
        lab, co = lab_da.values.ravel(), co_da.values.ravel()
        ok = (lab >= 0) & np.isfinite(co) & (co != 0)
        col = label_pos[lab[ok]]
        if "future" in lab_da.dims:
            at = np.arange(lab_da.sizes["future"]).reshape([-1 if d == "future" else 1 for d in lab_da.dims])
            rows.append(np.broadcast_to(at, lab_da.shape).ravel()[ok])
            cols.append(col)
            vals.append(co[ok])
        else:
            np.add.at(common, col, co[ok])
    if rows:
        by = sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nfut, ncols))
    else:
        by = sp.csr_array((nfut, ncols))
    return common, by


def _risk_costs(ctx: Context, common, by_future, label_pos):
    """The LP's costs: the future's own cost, or with CVaR (ω, α) (1 − ω)·its cost + ω·η + ω/(1 − α)·s_f,
    whose expectation over futures is the extensive form's objective (docs/formulation.md)."""
    if ctx.cvar is None or ctx.cvar[0] <= 0:
        return common, by_future
    w, alpha = ctx.cvar
    m = ctx.model
    obj_common = (1 - w) * common
    obj_common[label_pos[int(m.variables["Risk-var"].labels.values.ravel()[0])]] += w
    s = m.variables["Risk-excess"].labels  # (future,)
    n = s.sizes["future"]
    extra = sp.csr_array((np.full(n, w / (1 - alpha)), (np.arange(n), label_pos[s.values])), shape=by_future.shape)
    return obj_common, sp.csr_array((1 - w) * by_future + extra)


def _row_bounds(sense: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(sense).astype(str)
    lo = np.where(np.isin(s, ["=", ">", ">="]), b, -INF)
    hi = np.where(np.isin(s, ["=", "<", "<="]), b, INF)
    return lo.astype(float), hi.astype(float)


def split_extensive(ctx: Context) -> Split:  # long: one pass over the matrix, checks and per-future slices
    """Cut ``ctx`` (an extensive form with a ``future`` dimension) into one LP per future."""
    m = ctx.model
    futures = [str(f) for f in ctx.probability.indexes["future"]]
    M = m.matrices
    A = sp.csr_array(M.A)
    vlabels, clabels = np.asarray(M.vlabels), np.asarray(M.clabels)
    vf, first_vars = _labels_by_future(m.variables, int(vlabels.max()) + 1)
    cf, _ = _labels_by_future(m.constraints, int(clabels.max()) + 1)
    col_f, row_f = vf[vlabels], cf[clabels]
    coo = A.tocoo()
    entry_col_f = col_f[coo.col]
    bad = (entry_col_f >= 0) & (row_f[coo.row] != entry_col_f)
    if bad.any():
        raise GigawattError("the extensive form does not split by future: a row ties recourse of different "
                            "futures (or a row without `future` holds recourse); decomposition needs two stages")
    has_recourse = np.zeros(len(clabels), dtype=bool)
    has_recourse[coo.row[entry_col_f >= 0]] = True
    lb, ub = np.asarray(M.lb, dtype=float), np.asarray(M.ub, dtype=float)
    lb[~np.isfinite(lb)], ub[~np.isfinite(ub)] = -INF, INF
    common, by_future = _costs(ctx, label_pos_of(vlabels), len(vlabels), len(futures))
    r_lo, r_hi = _row_bounds(M.sense, np.asarray(M.b, dtype=float))
    xcols = np.flatnonzero(col_f < 0)
    xrows = np.flatnonzero(row_f < 0)
    label_pos = label_pos_of(vlabels)
    keys, shapes = [], {}
    order = []
    for name, lab in first_vars.items():
        flat = lab.values.ravel()
        valid = np.flatnonzero(flat >= 0)
        keys += [(name, int(i)) for i in valid]
        order.append(label_pos[flat[valid]])
        shapes[name] = (lab.dims, {d: lab.indexes[d] for d in lab.dims})
    xcols = np.concatenate(order) if order else xcols[:0]
    first = FirstStage(keys, lb[xcols], ub[xcols], sp.csr_array(A[xrows][:, xcols]), r_lo[xrows], r_hi[xrows],
                       shapes)
    # rows of a future that hold commitments only (e.g. capacity rows where no dispatch is allowed): the
    # master must hold them too, or it could choose commitments some future cannot accept
    irows = np.flatnonzero((row_f >= 0) & ~has_recourse)
    induced = (sp.csr_array(A[irows][:, xcols]), r_lo[irows], r_hi[irows])
    unmet = m.variables["Workload-unmet"].labels.values.ravel() if "Workload-unmet" in m.variables else []
    unmet_set = np.zeros(len(vlabels), dtype=bool)
    unmet_set[label_pos[np.asarray(unmet)[np.asarray(unmet) >= 0]]] = True
    col_order = np.argsort(col_f, kind="stable")
    row_order = np.argsort(row_f, kind="stable")
    col_starts = np.searchsorted(col_f[col_order], np.arange(len(futures) + 1))
    row_starts = np.searchsorted(row_f[row_order], np.arange(len(futures) + 1))
    obj_common, obj_by = _risk_costs(ctx, common, by_future, label_pos)
    lps, unmet_cols, loss_costs = [], [], []
    for k in range(len(futures)):  # one LP per future is the point of the split
        cols = np.concatenate([xcols, col_order[col_starts[k]:col_starts[k + 1]]])
        rows = np.concatenate([xrows, row_order[row_starts[k]:row_starts[k + 1]]])
        loss_costs.append(common[cols] + by_future[[k]][:, cols].toarray().ravel())
        cost = obj_common[cols] + obj_by[[k]][:, cols].toarray().ravel()
        lps.append(_lp(sp.csc_array(A[rows][:, cols]), cost, lb[cols], ub[cols], r_lo[rows], r_hi[rows]))
        unmet_cols.append(np.flatnonzero(unmet_set[cols]))
    fixed = np.asarray(fixed_payments_npv_musd(ctx, per_future=True).values, dtype=float)
    return Split(first, futures, lps, unmet_cols, loss_costs, fixed, induced)


def _lp(a: sp.csc_array, cost, lb, ub, r_lo, r_hi):
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(a.shape[1]), int(a.shape[0])
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lb, ub
    lp.row_lower_, lp.row_upper_ = r_lo, r_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    return lp


def _highs(threads: int | None = None) -> highspy.Highs:
    """A quiet HiGHS for simplex re-solves. ``threads`` is set only when asked: HiGHS's thread pool is
    process-wide, and a run whose count differs from the process's first solve is refused (status "Not
    Set"), e.g. in a test worker that solved a model with the default count before."""
    h = highspy.Highs()
    opts = [("output_flag", False), ("solver", "simplex"), ("presolve", "off"), ("random_seed", 0)]
    for k, v in opts + ([("threads", int(threads))] if threads is not None else []):
        h.setOptionValue(k, v)
    return h


@dataclass
class Solved:
    """Per future: its LP's optimum (MUSD, take-or-pay excluded), the cut's slope (the reduced costs of the
    commitment columns), the commitments at the optimum and unmet demand (million H100e-hours)."""

    value: np.ndarray  # (futures,): the optimum, or for an infeasible future its least violation ρ (_elastic)
    slope: np.ndarray  # (futures, commitments)
    x: np.ndarray  # (futures, commitments)
    unmet: np.ndarray  # (futures,)
    feasible: np.ndarray  # (futures,) bool
    loss: np.ndarray  # (futures,): the future's net present cost (MUSD, take-or-pay aside); = value unless CVaR


def _gather(out: list[tuple], nx: int) -> Solved:
    n = len(out)
    return Solved(np.array([o[0] for o in out], dtype=float), np.array([o[1] for o in out]).reshape(n, nx),
                  np.array([o[2] for o in out]).reshape(n, nx), np.array([o[3] for o in out], dtype=float),
                  np.array([o[4] for o in out], dtype=bool), np.array([o[5] for o in out], dtype=float))


class FutureSolver:
    """The LPs of some futures on one HiGHS instance: :meth:`free` (each alone, its basis kept) once, then
    :meth:`fixed` as often as the master asks."""

    def __init__(self, split: Split, threads: int | None = None):
        self.split = split
        self.nx = len(split.first.keys)
        self.h, self.threads = _highs(threads), threads
        self.bases: list | None = None

    def _run(self, k: int, x: np.ndarray | None) -> tuple:
        h = self.h
        h.passModel(self.split.lps[k])
        if x is not None:
            fix = np.flatnonzero(np.isfinite(x))  # NaN: left free (e.g. chips in service, which follow purchases)
            h.changeColsBounds(len(fix), fix.astype(np.int32), x[fix], x[fix])
            h.setBasis(self.bases[k])
        use_threads(self.threads)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible and x is not None:
            return self._elastic(k, x)
        if status != highspy.HighsModelStatus.kOptimal:
            raise InfeasibleError(f"future {self.split.futures[k]} has no optimal recourse for these commitments "
                                  f"({h.modelStatusToString(status)})", status=h.modelStatusToString(status))
        sol = h.getSolution()
        col = np.asarray(sol.col_value)
        dual = np.asarray(sol.col_dual)
        unmet = float(col[self.split.unmet_cols[k]].sum())
        loss = float(self.split.loss_costs[k] @ col)
        return h.getInfo().objective_function_value, dual[:self.nx], col[:self.nx], unmet, True, loss

    def _elastic(self, k: int, x: np.ndarray) -> tuple:
        """Commitments ``x`` that future k cannot accept (a share target its recourse cannot meet, say): the
        least total violation ρ(x) of its rows, each row given slacks s⁺, s⁻ ≥ 0 at cost 1 and the
        original costs zeroed. Returns (ρ, g, x, nan, False, nan), for the feasibility cut
        ρ(x̂) + g·(x − x̂) ≤ 0 (g the reduced costs of the fixed commitments). Solved cold: pure in (k, x)."""
        h, lp = self.h, self.split.lps[k]
        h.passModel(lp)
        n, m = lp.num_col_, lp.num_row_
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
        rows = np.arange(m, dtype=np.int32)
        h.addCols(2 * m, np.ones(2 * m), np.zeros(2 * m), np.full(2 * m, INF), 2 * m,
                  np.arange(2 * m, dtype=np.int32), np.concatenate([rows, rows]),
                  np.concatenate([np.ones(m), -np.ones(m)]))
        fix = np.flatnonzero(np.isfinite(x))
        h.changeColsBounds(len(fix), fix.astype(np.int32), x[fix], x[fix])
        use_threads(self.threads)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # pragma: no cover - elastic is always feasible
            raise InfeasibleError(f"future {self.split.futures[k]}: the elastic subproblem failed", status="elastic")
        rho = h.getInfo().objective_function_value
        dual = np.asarray(h.getSolution().col_dual)
        return max(rho, 1e-12), dual[:self.nx], x.copy(), float("nan"), False, float("nan")

    def _all(self, x: np.ndarray | None) -> Solved:
        return _gather([self._run(k, x) for k in range(len(self.split.lps))], self.nx)

    def free(self) -> Solved:
        """Each future alone (its own commitments): the wait-and-see optima; their bases are kept."""
        out, bases = [], []
        for k in range(len(self.split.lps)):
            out.append(self._run(k, None))
            bases.append(self.h.getBasis())
        self.bases = bases
        return _gather(out, self.nx)

    def fixed(self, x: np.ndarray) -> Solved:
        """Every future with the commitments fixed at ``x``, each from its own wait-and-see basis."""
        if self.bases is None:
            self.free()
        return self._all(np.asarray(x, dtype=float))


class Master:
    """min Σ_f p_f θ_f over commitments x and θ, s.t. first-stage rows, θ_f ≥ v + g·(x − x̂) (cuts)."""

    def __init__(self, first: FirstStage, probability: np.ndarray, threads: int | None = None):
        self.nx, self.nf = len(first.keys), len(probability)
        h = self.h = _highs(threads)
        self.threads = threads
        h.setOptionValue("presolve", "off")
        n = self.nx + self.nf
        lower = np.concatenate([first.lower, np.full(self.nf, -INF)])
        upper = np.concatenate([first.upper, np.full(self.nf, INF)])
        h.addVars(n, lower, upper)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.concatenate([np.zeros(self.nx), probability]))
        self.add_rows(first.rows, first.row_lower, first.row_upper)
        self.cuts = 0

    def add_rows(self, rows: sp.csr_array, lower: np.ndarray, upper: np.ndarray) -> None:
        """Rows over the commitments only (first-stage and induced rows)."""
        r = sp.csr_array(rows)
        if r.shape[0]:
            h = self.h
            h.addRows(r.shape[0], lower, upper, r.nnz, r.indptr.astype(np.int32), r.indices.astype(np.int32),
                      r.data.astype(float))

    def add_cuts(self, futures: np.ndarray, value: np.ndarray, slope: np.ndarray, at: np.ndarray) -> None:
        """θ_f − g_f·x ≥ v_f − g_f·x̂ for each future f given (the cut of V_f at x̂)."""
        if not len(futures):
            return
        g = np.where(np.abs(slope) > 1e-12, slope, 0.0)
        theta = np.zeros((len(futures), self.nf))
        theta[np.arange(len(futures)), np.asarray(futures, dtype=np.int64)] = 1.0
        coef = sp.csr_array(np.hstack([-g, theta]))
        rhs = value - (g * at).sum(axis=1) if np.ndim(at) == 2 else value - g @ at
        self.h.addRows(len(futures), rhs, np.full(len(futures), INF), coef.nnz, coef.indptr.astype(np.int32),
                       coef.indices.astype(np.int32), coef.data)
        self.cuts += len(futures)

    def add_feasibility_cuts(self, violation: np.ndarray, slope: np.ndarray, at: np.ndarray) -> None:
        """g·x ≤ g·x̂ − ρ for each infeasible future (ρ its least violation at x̂, g its slope)."""
        if not len(violation):
            return
        g = np.where(np.abs(slope) > 1e-12, slope, 0.0)
        coef = sp.csr_array(np.hstack([g, np.zeros((len(violation), self.nf))]))
        upper = (g * at).sum(axis=1) - violation
        self.h.addRows(len(violation), np.full(len(violation), -INF), upper, coef.nnz, coef.indptr.astype(np.int32),
                       coef.indices.astype(np.int32), coef.data)
        self.cuts += len(violation)

    def solve(self) -> tuple[float, np.ndarray, np.ndarray]:
        h = self.h
        use_threads(self.threads)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise InfeasibleError(f"the L-shaped master has no optimum ({h.modelStatusToString(h.getModelStatus())})",
                                  status="master")
        col = np.asarray(h.getSolution().col_value)
        return h.getInfo().objective_function_value, col[:self.nx], col[self.nx:]


__all__ = ["FirstStage", "FutureSolver", "Master", "Solved", "Split", "split_extensive"]
