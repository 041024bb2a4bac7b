"""What each model family reads: proxies around a portfolio that record the inputs used while a family
is built (``data`` arrays, table columns, horizon attributes, scenario fields), and their comparison
between two portfolios (optimize/fastpath.py rebuilds only the families whose inputs changed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gigawatt.optimize.grid import same_index


class _Data:
    """``portfolio.data`` that records the names of the arrays read."""

    def __init__(self, ds, reads: set):
        self._ds, self._reads = ds, reads

    def __getitem__(self, name):
        self._reads.add(("data", name))
        return self._ds[name]

    def __contains__(self, name):
        self._reads.add(("data", name))
        return name in self._ds

    def __getattr__(self, name):  # indexes, sizes: the structure, checked apart
        return getattr(self._ds, name)


class _Fields:
    """A pydantic model (the scenario) that records the dotted path of every leaf field read."""

    def __init__(self, obj, path: tuple, reads: set):
        self._obj, self._path, self._reads = obj, path, reads

    def __getattr__(self, name):
        value = getattr(self._obj, name)
        if hasattr(type(value), "model_fields"):  # a pydantic model: record its fields, not itself
            return _Fields(value, (*self._path, name), self._reads)
        self._reads.add(("scenario", ".".join((*self._path, name))))
        return value


class _Table:
    """A portfolio table (sites, supply…) that records the columns read (the whole table when read
    otherwise than by column); its index and length are the structure, checked apart."""

    def __init__(self, df, name: str, reads: set):
        self._df, self._name, self._reads = df, name, reads

    def _col(self, col):
        cols = col if isinstance(col, (list, tuple)) else [col]
        for c in cols:
            self._reads.add(("table", self._name, c if isinstance(c, str) else None))

    def __getitem__(self, col):
        self._col(col if isinstance(col, (str, list)) else None)
        return self._df[col]

    def __contains__(self, col):
        self._col(col)
        return col in self._df

    def __len__(self):
        return len(self._df)

    @property
    def loc(self):
        return _Loc(self)

    def __getattr__(self, name):
        if name not in ("index", "columns", "empty", "shape"):
            self._reads.add(("table", self._name, None))
        return getattr(self._df, name)


class _Loc:
    def __init__(self, table: _Table):
        self._t = table

    def __getitem__(self, key):
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], (str, list)):
            self._t._col(key[1])
        elif not isinstance(key, tuple):  # rows only (their labels are the structure): record the columns read
            rows = self._t._df.loc[key]
            if isinstance(rows, pd.DataFrame):
                return _Table(rows, self._t._name, self._t._reads)
            self._t._reads.add(("table", self._t._name, None))
            return rows
        else:
            self._t._reads.add(("table", self._t._name, None))
        return self._t._df.loc[key]


class _Horizon:
    """The horizon, recording the attributes and period-table columns read (its labels are the structure)."""

    def __init__(self, horizon, reads: set):
        self._h, self._reads = horizon, reads

    @property
    def table(self):
        return _Table(self._h.table, "horizon.table", self._reads)

    def __getattr__(self, name):
        if name not in ("labels", "n"):
            self._reads.add(("horizon", name))
        return getattr(self._h, name)


_TABLES = ("supply", "sites", "accelerators", "workloads", "targets", "deals")


class Recorder:
    """A portfolio that records the arrays, table columns, horizon attributes and scenario fields read."""

    def __init__(self, portfolio, reads: set):
        self._p, self._reads = portfolio, reads

    def record(self, key: tuple) -> None:
        """Record a read made without going through this proxy (a column held from an earlier read)."""
        self._reads.add(key)

    def __getattr__(self, name):
        value = getattr(self._p, name)
        if name == "data":
            return _Data(value, self._reads)
        if name == "scenario":
            return _Fields(value, (), self._reads)
        if name == "horizon":
            return _Horizon(value, self._reads)
        if name in _TABLES and isinstance(value, pd.DataFrame):
            return _Table(value, name, self._reads)
        self._reads.add(("portfolio", name))
        return value


class Column:
    """A table column as compared between tasks, read without building a Series (the comparison is every
    task's: a Series and its numpy copy cost more than the comparison itself). Its dtype, its table's
    index (immutable) and its values as they are now: a pyarrow array as is (immutable: the same array
    object is the same values, which a table's shallow copy shares), any other array copied (a later
    in-place write to the table would change a view)."""

    __slots__ = ("dtype", "index", "values")

    def __init__(self, dtype, index: pd.Index, values):
        self.dtype, self.index, self.values = dtype, index, values

    @classmethod
    def of(cls, df: pd.DataFrame, col) -> "Column | None":
        if col not in df.columns:
            return None
        loc = df.columns.get_loc(col)
        if not isinstance(loc, int):  # a repeated column name: the frame df[col] is
            return cls(None, df.index, df[col].copy())
        arr = df._get_column_array(loc)  # the stored array (a view: read here only, copied unless immutable)
        values = arr.__arrow_array__() if hasattr(arr, "__arrow_array__") else arr.copy()
        return cls(arr.dtype, df.index, values)

    def to_numpy(self, dtype=None) -> np.ndarray:
        """The values as ``Series.to_numpy(dtype)`` gives them (a copy: what is compared stays as read)."""
        v = self.values
        if self.dtype is None:  # a repeated column name: a frame
            return v.to_numpy(dtype=dtype)
        if isinstance(v, np.ndarray):
            return np.array(v, dtype=dtype)
        if hasattr(v, "to_pylist"):  # a pyarrow array (or chunked array)
            out = v.to_numpy(zero_copy_only=False)
            return out if dtype is None else out.astype(dtype)
        return np.asarray(v.to_numpy(dtype=dtype))  # another pandas extension array

    def same(self, other: "Column") -> bool:
        """Same dtype, same labels, same values (NaN equal to NaN in numpy floats, as the Series were)."""
        x, y = self.values, other.values
        if self.dtype != other.dtype or len(x) != len(y) or not same_index(self.index, other.index):
            return False
        if x is y:  # one immutable pyarrow array
            return True
        if self.dtype is None:
            return type(x) is type(y) and x.equals(y)
        if isinstance(x, np.ndarray):
            if x.dtype.kind in "fiub":
                return x.tobytes() == y.tobytes() or bool(np.array_equal(x, y, equal_nan=x.dtype.kind == "f"))
            return bool(pd.arrays.NumpyExtensionArray(x).equals(pd.arrays.NumpyExtensionArray(y)))
        return bool(x.equals(y))  # pyarrow arrays (nulls equal where both null), other extension arrays


def value(portfolio, key: tuple):
    """The value of a recorded input: a table column as a :class:`Column`."""
    kind, name = key[0], key[1]
    if kind == "data":
        var = portfolio.data.variables.get(name)
        return None if var is None else var.values
    if kind == "scenario":
        value = portfolio.scenario
        for part in name.split("."):
            value = getattr(value, part)
        return value
    if kind == "table":
        df = portfolio.horizon.table if name == "horizon.table" else getattr(portfolio, name)
        col = key[2]
        if col is None:
            return df
        return Column.of(df, col)
    if kind == "horizon":
        value = getattr(portfolio.horizon, name)
        return value() if callable(value) else value
    return getattr(portfolio, name)


def same(a, b) -> bool:
    if a is b:
        return True
    if isinstance(a, Column) and isinstance(b, Column):
        return a.same(b)
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):  # a column: its values and its rows' labels
        if a.dtype != b.dtype or len(a) != len(b) or not same_index(a.index, b.index):
            return False
        if isinstance(a.dtype, np.dtype) and a.dtype.kind in "fiub":
            x, y = a.to_numpy(), b.to_numpy()
            return x.tobytes() == y.tobytes() or bool(np.array_equal(x, y, equal_nan=x.dtype.kind == "f"))
        return bool(a.array.equals(b.array))
    if isinstance(a, (pd.DataFrame, pd.Series)) or isinstance(b, (pd.DataFrame, pd.Series)):
        return type(a) is type(b) and a.equals(b) and list(a.index) == list(b.index)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind in "fiub" and a.tobytes() == b.tobytes():  # the same bits (the usual case: fast)
            return True
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if hasattr(a, "table") and hasattr(b, "table"):  # the horizon: its period table says it all
        return same(a.table, b.table) and list(a.labels) == list(b.labels)
    try:
        return bool(a == b)
    except Exception:  # not comparable: treat as changed
        return False


__all__ = ["Column", "Recorder", "same", "value"]
