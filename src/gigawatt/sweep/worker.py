"""What a sweep's worker process does around its tasks: start (die with the parent, quiet stdout, imports),
run a chunk of tasks, and encode the chunk's ok rows as the bytes of ONE Parquet file, so that the driver
only writes bytes, once per chunk (the encoding costs about a millisecond per file: in the driver it would
compete with the workers for cores, and a file per task costs the driver the creation of a file per task).

Imports nothing of :mod:`gigawatt.sweep.executors` (which re-exports :func:`warm` and :func:`worker_init`).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from typing import Callable

_INITIALISED = False


_SCHEMAS: dict = {}  # the Arrow schema of each row shape (its names and Python types) seen by this process


def _shape(row: dict) -> tuple:
    return tuple((k, type(v)) for k, v in row.items())


def rows_table(rows: list[dict]):
    """Rows as an Arrow table, each column typed from its values as ``pyarrow.array`` types them: a column
    of Python ints is int64, of floats double, of text string, of bools bool (None is a null of the
    column's type; a column of None only is of type null, which DuckDB's ``read_parquet(files,
    union_by_name = true)`` unites with any type, pyarrow's ``read_table`` of the folder not). Rows of
    one shape (names and Python types) take the shape's schema, inferred once per process; rows of several
    shapes (a missing column, an int beside a float) get the union of their columns, in order of appearance,
    each inferred from all its values (int with float: double)."""
    import pyarrow as pa

    key = _shape(rows[0])
    if all(_shape(r) == key for r in rows[1:]):
        table = pa.Table.from_pylist(rows, schema=_SCHEMAS.get(key))
        _SCHEMAS.setdefault(key, table.schema)
        return table
    names = list(dict.fromkeys(k for r in rows for k in r))
    return pa.table({k: _column([r.get(k) for r in rows]) for k in names})


def _column(values: list):
    """A column's values as an Arrow array; values no one type holds (a bool beside an int: rows of one
    sweep do not have them, but a failed chunk would lose every row) as their text."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values])


def encode_rows(rows: list[dict]) -> bytes:
    """Rows as the bytes of one Parquet file (:func:`rows_table`'s types)."""
    return encode_table(rows_table(rows))


def encode_table(table) -> bytes:
    """An Arrow table as the bytes of a Parquet file, with no compression, dictionary or statistics (little
    to gain on a chunk's few rows; they cost a third of the time)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="none", use_dictionary=False, write_statistics=False)
    return sink.getvalue().to_pybytes()


def run_chunk(specs: list[dict], fn: Callable[[dict], dict], failed: Callable[[dict, str], dict], *,
              init: bool = True) -> tuple[list[dict], bytes | None]:
    """Each task of a chunk, in order: (the rows, one per spec; the bytes of one Parquet file holding the
    rows whose status is ok, or None if none is). A task function that raises gives that task a failed row
    (``failed(spec, error)``); its chunk-mates still run. Failed rows are not in the file: the driver retries
    them, or writes them when they are final. ``init``: start this process as a worker first
    (:func:`worker_init`) if it is not one yet (false in the sweep's own process)."""
    if init and not _INITIALISED:
        worker_init()
    rows = []
    for s in specs:
        try:
            row = fn(s)
        except Exception as exc:  # a failed task, retried by the driver, not a lost chunk
            row = failed(s, f"{type(exc).__name__}: {exc}")
        rows.append(row)
    ok = [r for r in rows if r.get("status") == "ok"]
    return rows, encode_rows(ok) if ok else None


def warm() -> int:
    """Import the solver stack once in a worker, before its first task."""
    import gigawatt.optimize  # noqa: F401
    import gigawatt.portfolio  # noqa: F401
    import gigawatt.risk.simulate  # noqa: F401

    return os.getpid()


def die_with_parent() -> None:
    """A worker whose sweep was killed (kill -9 gives the pool no chance to stop it) would wait for work
    forever, holding memory and the sweep's output pipes. Linux: ask the kernel to kill it with its parent;
    elsewhere: a thread that exits when the parent is gone."""
    import threading

    parent = mp.parent_process().pid if mp.parent_process() is not None else os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if os.getppid() != parent:  # the parent died before the call took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="gigawatt-parent-watch", daemon=True).start()


def worker_init() -> None:
    """A pool worker: dies with its parent; HiGHS writes its banner straight to file descriptor 1, so point
    the worker's stdout at /dev/null (results come back as rows; errors are in them), then import the solver
    stack."""
    die_with_parent()
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
    global _INITIALISED
    _INITIALISED = True
    warm()


def sleep_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


__all__ = ["encode_rows", "encode_table", "rows_table", "run_chunk", "warm", "worker_init", "die_with_parent",
           "sleep_pid"]
