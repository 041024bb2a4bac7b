"""The sweep's task files read back as one row per task, whatever the directory holds: duplicate rows of a
task (two sweeps no lock guarded), files unreadable or not readable now, a folder name DuckDB's glob would
misread. The task function is the chunk tests' stub (no solve)."""

from __future__ import annotations

import errno
import logging

import pytest
from test_sweep_chunks import called, calls, manifest, one_row_per_task, rows_in, stub, table  # noqa: F401

from gigawatt.sweep.executors import InlineExecutor
from gigawatt.sweep.run import read_summary, run


def test_a_task_with_two_rows_reads_back_as_its_ok_row(manifest, tmp_path, calls):  # noqa: F811
    """Two files hold one task (a failed row of attempt 2, an ok row of attempt 1): the summary keeps one
    row for it, the ok one, and one row for every other task."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "sweep"
    run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)
    task = manifest.tasks[0].task_id
    dup = pa.Table.from_pylist([{"task_id": task, "status": "failed", "error": "x", "attempt": 2}])
    pq.write_table(dup, out / "tasks" / "dup.parquet")
    summary = read_summary(out)
    assert sorted(summary["task_id"]) == sorted(t.task_id for t in manifest.tasks)
    assert summary.set_index("task_id").loc[task, "status"] == "ok"


def test_a_file_system_without_locks_is_warned_of(manifest, tmp_path, calls, monkeypatch, caplog):  # noqa: F811
    """lockf failing with ENOLCK (NFS without a lock daemon): the sweep runs, with a warning that the
    directory is not locked."""
    import fcntl

    def nolock(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "lockf", nolock)
    with caplog.at_level(logging.WARNING, logger="gigawatt.sweep.run"):
        res = run(manifest, tmp_path / "sweep", executor=InlineExecutor(), task_fn=stub)
    assert (res.summary["status"] == "ok").all()
    assert any("not locked" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
