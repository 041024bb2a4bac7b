"""The LP numbers of a linopy model, indexed like the HiGHS model built from it (the fast path's
bookkeeping, optimize/fastpath.py): columns' bounds, constraints' rows, the cost vector; and the two
ways the fast path recomputes numbers without linopy: the cost vector from
:func:`gigawatt.optimize.objective.cost_factors`, and a right-hand side from its ``Context.rhs`` function.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse

from gigawatt.optimize.grid import Grid, same_index


class Fallback(Exception):
    """This task cannot take the fast path; the message says why."""


@dataclass
class Rows:
    """One constraint's rows in the HiGHS model: where they start, their coefficients (columns of the
    HiGHS model), right-hand sides and senses."""

    start: int
    active: np.ndarray
    matrix: scipy.sparse.csr_array
    rhs: np.ndarray
    sense: np.ndarray


@dataclass
class Numbers:
    """The LP numbers of some families of one model, indexed like the base HiGHS model."""

    cols: dict = field(default_factory=dict)  # variable name -> (labels, lower, upper) of its active entries
    rows: dict = field(default_factory=dict)  # constraint name -> Rows (start unset: -1)
    cost: np.ndarray | None = None  # objective coefficients over the HiGHS columns


def numbers(model, names, variables, col_of: np.ndarray, ncols: int, objective: bool) -> Numbers:
    """The numbers of the constraints ``names``, the variables ``variables`` (and the objective if asked)
    of a linopy ``model``, with columns mapped to the base model's (``col_of``: linopy label -> HiGHS
    column)."""
    out = Numbers()
    for name in variables:
        var = model.variables[name]
        labels = var.labels.values.ravel()
        on = labels != -1
        out.cols[name] = (labels[on], var.lower.values.ravel()[on].astype(float),
                          var.upper.values.ravel()[on].astype(float))
    if names:
        index = model.variables.label_index
        to_base = col_of[index.vlabels]  # scratch position -> base column
    for name in names:
        con = model.constraints[name]
        csr, _, rhs, sense = con.to_matrix_with_rhs(index)
        csr = scipy.sparse.csr_array((csr.data, to_base[csr.indices], csr.indptr), shape=(csr.shape[0], ncols))
        csr.sum_duplicates()
        out.rows[name] = Rows(-1, np.asarray(con.active_row_mask()).ravel(), csr, np.asarray(rhs, dtype=float),
                              np.broadcast_to(np.asarray(sense), (csr.shape[0],)).copy())
    if objective:
        labels, coeffs = model.objective.linear_terms()
        cost = np.zeros(ncols)
        np.add.at(cost, col_of[labels], coeffs)
        out.cost = cost
    return out


def layout(value, dims: tuple, coords: dict, shape: tuple) -> np.ndarray:
    """``value`` (a Grid or DataArray over some of ``dims``, with their ``coords``) laid out over ``dims``
    and broadcast to ``shape``; ValueError when a dimension or its labels differ (another structure)."""
    g = value if isinstance(value, Grid) else Grid.of(value)
    for d in g.dims:
        if d not in coords or not same_index(g.coords[d], coords[d]):
            raise ValueError(f"dimension {d} differs from the model's")
    return np.broadcast_to(g.expand(dims), shape)


class CostLabels:
    """The HiGHS columns of each (variable, selection) the objective's factors use, cached."""

    def __init__(self, model, col_of: np.ndarray):
        self.model, self.col_of, self.cache = model, col_of, {}

    def of(self, name: str, selection: dict | None):
        key = (name, tuple((d, tuple(v)) for d, v in sorted((selection or {}).items())))
        hit = self.cache.get(key)
        if hit is None:
            var = self.model.variables[name]
            labels = (var.sel(selection) if selection else var).labels
            coords = {d: labels.indexes[d] for d in labels.dims}
            flat = labels.values
            hit = (key, labels.dims, coords, flat.shape, flat != -1, self.col_of[flat[flat != -1]])
            self.cache[key] = hit
        return hit

    def cost(self, factors, ncols: int) -> np.ndarray:
        """The cost vector over the HiGHS columns from :func:`objective.cost_factors`'s (variable, selection,
        coefficient) triples: one np.add.at over all their columns, in their order (the same sums as one
        np.add.at per factor), the columns concatenated once per sequence of factors."""
        keys, values = [], []
        for name, selection, coeff in factors:
            key, dims, coords, shape, on, _ = self.of(name, selection)
            keys.append(key)
            values.append(layout(coeff, dims, coords, shape)[on])
        cost = np.zeros(ncols)
        if values:
            cols = self.cache.get(tuple(keys))
            if cols is None:
                cols = self.cache[tuple(keys)] = np.concatenate([self.cache[k][5] for k in keys])
            np.add.at(cost, cols, np.concatenate(values))
        return cost


def differences(cur: Numbers, new: Numbers, col_of: np.ndarray) -> dict:
    """What to push into a HiGHS model holding ``cur`` to make it hold ``new``: column bounds, row bounds,
    coefficients and costs that differ (``col_of``: linopy label -> HiGHS column). Fallback where a
    constraint's rows or senses differ (another structure)."""
    out = {"cols": [], "rows": [], "coeffs": [], "cost": None}
    for name, (labels, lower, upper) in new.cols.items():
        _, lo0, up0 = cur.cols[name]
        diff = ~((lower == lo0) & (upper == up0))
        if diff.any():
            out["cols"].append((col_of[labels[diff]], lower[diff], upper[diff]))
    for name, rows in new.rows.items():
        old = cur.rows[name]
        if not np.array_equal(rows.active, old.active) or not np.array_equal(rows.sense, old.sense):
            raise Fallback(f"structure: the rows of {name} changed")
        diff = rows.rhs != old.rhs
        if diff.any():
            i = np.flatnonzero(diff)
            b, s = rows.rhs[i], rows.sense[i]
            out["rows"].append((old.start + i, np.where(s != "<", b, -np.inf), np.where(s != ">", b, np.inf)))
        if rows.matrix is old.matrix:  # a right-hand side recomputed alone
            continue
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


def push(h, pushes: dict) -> None:
    """Send :func:`differences`' changes to the HiGHS model ``h``."""
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


__all__ = ["CostLabels", "Fallback", "Numbers", "Rows", "differences", "layout", "numbers", "push"]
