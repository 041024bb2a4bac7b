"""Labelled numpy arrays for the model's coefficient arithmetic: what xarray does for the objective's
numbers (broadcasting by dimension name), without its per-operation cost (alignment, merging, a Dataset
per result), so that the fast path (optimize/fastpath.py) can recompute them per task in microseconds.

A :class:`Grid` holds values, dimension names and one pandas index per dimension. Arithmetic between two
grids broadcasts by name and orders the result's dimensions as xarray does (the left operand's, then the
right's new ones); the shared dimensions must carry equal indexes (else the operation is done by xarray,
whose inner join decides). Elementwise numpy arithmetic in the same order gives the same bits as xarray's.
"""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd
import xarray as xr


_SAME: dict = {}  # (id, id) -> (index, index, equal): indexes are immutable; both are held, so ids stay theirs


def same_index(a: pd.Index, b: pd.Index) -> bool:
    """Whether two indexes hold the same labels in the same order (each pair compared once). Two plain
    indexes over one stored array (a table's shallow copy and the table: every task's portfolio tables)
    hold the same labels: an index is immutable."""
    if a is b or (type(a) is pd.Index and type(b) is pd.Index and a._data is b._data):
        return True
    if len(a) != len(b):
        return False
    hit = _SAME.get((id(a), id(b)))
    if hit is not None and hit[0] is a and hit[1] is b:
        return hit[2]
    equal = a.tolist() == b.tolist() if len(a) <= 1024 else bool(a.equals(b))
    if len(_SAME) > 512:
        _SAME.clear()
    _SAME[(id(a), id(b))] = (a, b, equal)
    return equal


_LOOKUPS: dict = {}  # id(index) -> (index, {label: position}): indexes are immutable; each is held, so ids stay its


def _lookup(index: pd.Index) -> dict:
    """{label: position} of ``index``, built once per index object (a sweep's tasks share their tables'
    indexes, and the objective looks own options up in three of them per task)."""
    hit = _LOOKUPS.get(id(index))
    if hit is not None and hit[0] is index:
        return hit[1]
    lookup = {k: i for i, k in enumerate(index.tolist())}
    if len(_LOOKUPS) > 256:
        _LOOKUPS.clear()
    _LOOKUPS[id(index)] = (index, lookup)
    return lookup


def _positions(index: pd.Index, labels) -> np.ndarray:
    """The position in ``index`` of each of ``labels``, −1 where absent."""
    lookup = _lookup(index)
    return np.fromiter((lookup.get(k, -1) for k in np.asarray(labels).tolist()), dtype=np.int64, count=len(labels))


def positions(index: pd.Index, labels) -> np.ndarray:
    """The position in ``index`` of each of ``labels`` (KeyError naming those not in it)."""
    pos = _positions(index, labels)
    if (pos < 0).any():
        raise KeyError(f"not in the {index.name} index: {list(np.asarray(labels)[pos < 0])}")
    return pos


class Grid:
    __slots__ = ("values", "dims", "coords")
    __array_ufunc__ = None  # numpy scalars and arrays defer to Grid's reflected operators

    def __init__(self, values, dims: tuple, coords: dict):
        self.values, self.dims, self.coords = np.asarray(values), tuple(dims), coords

    @classmethod
    def of(cls, da: xr.DataArray) -> "Grid":
        ix = da.indexes
        return cls(da.values, da.dims, {d: ix[d] for d in da.dims})

    @classmethod
    def along(cls, values, index: pd.Index) -> "Grid":
        return cls(values, (index.name,), {index.name: index})

    def to_xarray(self) -> xr.DataArray:
        return xr.DataArray(self.values, coords={d: self.coords[d] for d in self.dims}, dims=self.dims)

    def expand(self, dims: tuple) -> np.ndarray:
        """The values laid out over ``dims`` (a superset of this grid's), size 1 along the others."""
        order = [self.dims.index(d) for d in dims if d in self.dims]
        v = self.values.transpose(order) if order != sorted(order) else self.values
        return v.reshape([self.values.shape[self.dims.index(d)] if d in self.dims else 1 for d in dims])

    def _op(self, other, op, reflected: bool = False):
        if not isinstance(other, Grid):
            if isinstance(other, xr.DataArray):
                return NotImplemented
            v = op(other, self.values) if reflected else op(self.values, other)
            return Grid(v, self.dims, self.coords)
        if other.dims == self.dims and all(other.coords[d] is self.coords[d] for d in self.dims):
            # the same dimensions over the same index objects (the usual case: the objective's factors):
            # what the general case below computes (no layout to change), without its bookkeeping
            return Grid(op(self.values, other.values), self.dims, self.coords)
        coords = dict(self.coords)
        for d in other.dims:
            mine = coords.setdefault(d, other.coords[d])
            if not same_index(mine, other.coords[d]):
                return Grid.of(op(self.to_xarray(), other.to_xarray()))  # xarray aligns them
        dims = self.dims + tuple(d for d in other.dims if d not in self.dims)
        return Grid(op(self.expand(dims), other.expand(dims)), dims, coords)

    def __add__(self, o): return self._op(o, operator.add)  # noqa: E704
    def __radd__(self, o): return self._op(o, operator.add, True)  # noqa: E704
    def __sub__(self, o): return self._op(o, operator.sub)  # noqa: E704
    def __rsub__(self, o): return self._op(o, operator.sub, True)  # noqa: E704
    def __mul__(self, o): return self._op(o, operator.mul)  # noqa: E704
    def __rmul__(self, o): return self._op(o, operator.mul, True)  # noqa: E704
    def __truediv__(self, o): return self._op(o, operator.truediv)  # noqa: E704
    def __rtruediv__(self, o): return self._op(o, operator.truediv, True)  # noqa: E704
    def __gt__(self, o): return self._op(o, operator.gt)  # noqa: E704
    def __eq__(self, o): return self._op(o, operator.eq)  # noqa: E704
    def __and__(self, o): return self._op(o, operator.and_)  # noqa: E704
    def __or__(self, o): return self._op(o, operator.or_)  # noqa: E704
    __hash__ = None

    def cumsum(self, dim: str) -> "Grid":
        return Grid(np.cumsum(self.values, axis=self.dims.index(dim)), self.dims, self.coords)

    def any(self) -> bool:
        return bool(self.values.any())

    def sel(self, **indexers) -> "Grid":
        """Select labels along dimensions (each a list or index of labels; the result keeps their order)."""
        v, coords = self.values, dict(self.coords)
        for d, labels in indexers.items():
            idx = self.coords[d]
            pos = idx.get_indexer(labels) if len(idx) > 64 else _positions(idx, labels)
            if (pos < 0).any():
                raise KeyError(f"{d}: {list(np.asarray(labels)[pos < 0])} not in the index")
            v = np.take(v, pos, axis=self.dims.index(d))
            coords[d] = labels if isinstance(labels, pd.Index) else idx[pos]
        return Grid(v, self.dims, coords)

    def relabel(self, dim: str, index: pd.Index) -> "Grid":
        """Dimension ``dim`` renamed and relabelled to ``index`` (its name and labels; same length)."""
        coords = {(index.name if d == dim else d): (index if d == dim else c) for d, c in self.coords.items()}
        return Grid(self.values, tuple(index.name if d == dim else d for d in self.dims), coords)

    def shift_back(self, dim: str) -> "Grid":
        """Each entry replaced by the next one along ``dim``, the last by 0 (xarray: shift(dim=-1).fillna(0))."""
        ax = self.dims.index(dim)
        v = np.zeros(self.values.shape, dtype=float)
        src = [slice(None)] * v.ndim
        dst = [slice(None)] * v.ndim
        src[ax], dst[ax] = slice(1, None), slice(None, -1)
        v[tuple(dst)] = self.values[tuple(src)]
        return Grid(np.where(np.isnan(v), 0.0, v), self.dims, self.coords)

    def clip(self, lower, upper) -> "Grid":
        return Grid(np.clip(self.values, lower, upper), self.dims, self.coords)


__all__ = ["Grid", "positions", "same_index"]
