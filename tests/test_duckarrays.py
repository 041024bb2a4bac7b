"""duckarrays.defer_dask: xarray stops importing dask.array on its first array, and still knows a dask
array when one is made later (each check in a fresh interpreter: the imports are process-wide)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip()


@pytest.mark.parametrize("gigawatt_first, imported", [(True, "False"), (False, "True")])
def test_dask_array_is_imported_only_without_gigawatt(gigawatt_first, imported):
    """With gigawatt's rooms imported, xarray's arrays leave dask.array alone; xarray alone still imports it
    (the cost the stand-in avoids is real: if xarray stops importing dask, the stand-in can go)."""
    pytest.importorskip("dask")
    out = run("import sys, numpy as np, xarray as xr\n"
              + ("import gigawatt.portfolio\n" if gigawatt_first else "")
              + "xr.Dataset({'a': ('x', np.arange(3.0))}).sum()\n"
                "print('dask.array' in sys.modules)")
    assert out == imported


def test_dask_array_made_later_is_still_a_dask_array():
    pytest.importorskip("dask.array")
    out = run("import numpy as np, xarray as xr\n"
              "import gigawatt.portfolio\n"
              "from xarray.namedarray.pycompat import array_type\n"
              "xr.DataArray(np.arange(3.0))\n"
              "before = array_type('dask')\n"
              "import dask.array as da\n"
              "x = xr.DataArray(da.zeros(4, chunks=2), dims='x')\n"
              "print(before == (), array_type('dask') == (da.Array,), x.chunks is not None,"
              " float((x + 1).sum().compute()))")
    assert out == "True True True 4.0"


def test_defer_dask_steps_aside_when_dask_array_is_already_imported():
    pytest.importorskip("dask.array")
    out = run("import dask.array, xarray as xr\n"
              "from gigawatt.duckarrays import defer_dask\n"
              "from xarray.namedarray.pycompat import array_type\n"
              "print(defer_dask(), array_type('dask') == (dask.array.Array,))")
    assert out == "False True"
