"""xarray without dask.array until a dask array can exist.

xarray asks, for every Variable it makes from array data, whether the data is a dask array
(``isinstance(data, xarray.namedarray.pycompat.array_type("dask"))``); the first such question imports
``dask.array`` (about 0.9 s cold, scipy.fftpack with it) whenever dask is installed, and linopy requires
dask. gigawatt never makes a dask array. :func:`defer_dask` puts a stand-in into xarray's cache of duck-array
modules whose answer is the same without the import: no object can be an instance of ``dask.array.Array``
before ``dask.array`` has been imported, so the stand-in answers "no dask type" until then and hands over
to xarray's own entry once anything (a user's code, another library) imports ``dask.array``.

If xarray's private cache is not there (another xarray version), nothing is changed: xarray then imports
dask.array as before, which costs time, never correctness.
"""

from __future__ import annotations

import sys


def defer_dask() -> bool:
    """Put the stand-in for ``dask`` into xarray's duck-array cache; True if it is (or already was) there."""
    try:
        from xarray.namedarray import pycompat
    except ImportError:  # pragma: no cover - xarray is a dependency
        return False
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    real = getattr(pycompat, "DuckArrayModule", None)
    if not isinstance(cache, dict) or real is None:
        return False
    if "dask" in cache:
        return isinstance(cache["dask"], _DaskUntilImported) or "dask.array" in sys.modules
    if "dask.array" in sys.modules:  # already paid: let xarray use it as usual
        return False
    cache["dask"] = _DaskUntilImported(cache, real)
    return True


class _DaskUntilImported:
    """Stands in for ``DuckArrayModule("dask")`` while ``dask.array`` is not imported: no dask type, version
    0; replaced in the cache by xarray's own entry as soon as ``dask.array`` is in ``sys.modules``."""

    def __init__(self, cache: dict, real: type):
        self._cache, self._real = cache, real

    def _resolved(self):
        mod = sys.modules.get("dask.array")
        if mod is None or not hasattr(mod, "Array"):  # not imported, or still importing: no instance exists
            return None
        entry = self._real("dask")
        self._cache["dask"] = entry
        return entry

    @property
    def type(self) -> tuple:
        entry = self._resolved()
        return () if entry is None else entry.type

    @property
    def module(self):
        entry = self._resolved()
        return None if entry is None else entry.module

    @property
    def available(self) -> bool:
        entry = self._resolved()
        return False if entry is None else entry.available

    @property
    def version(self):
        entry = self._resolved()
        if entry is None:
            from packaging.version import Version

            return Version("0.0.0")
        return entry.version


__all__ = ["defer_dask"]
