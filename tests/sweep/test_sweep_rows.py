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


def test_a_file_that_cannot_be_read_now_is_left_and_named(manifest, tmp_path, calls, monkeypatch):  # noqa: F811
    """A task file the system cannot read (EIO, a permission) may be whole: resume stops with a ScenarioError
    naming it and the OS error (exit 1), and renames nothing."""
    import pyarrow.parquet as pq

    from gigawatt.errors import ScenarioError

    out = tmp_path / "sweep"
    run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)
    names = sorted(rows_in(out))
    torn = out / "tasks" / names[1]  # DuckDB trips over it, so each file is checked
    torn.write_bytes(torn.read_bytes()[:100])
    real = pq.read_table

    def eio(path, *a, **k):
        if str(path).endswith(names[0]):
            raise OSError(errno.EIO, "Input/output error")
        return real(path, *a, **k)

    monkeypatch.setattr(pq, "read_table", eio)
    with pytest.raises(ScenarioError, match="Input/output error") as err:
        run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)
    assert err.value.exit_code == 1 and names[0] in str(err.value)
    assert (out / "tasks" / names[0]).exists() and not list((out / "tasks").glob(f"{names[0]}*.unreadable"))
    assert called(calls) == sorted((t.task_id, 1) for t in manifest.tasks)  # the first run's calls only


def test_a_second_unreadable_file_of_one_name_keeps_the_first(manifest, tmp_path, calls):  # noqa: F811
    """A file set aside as <name>.unreadable, then torn again under the same name: the second is set aside
    under a name of its own; the first is kept."""
    out = tmp_path / "sweep"
    run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)
    name = sorted(rows_in(out))[0]
    first = out / "tasks" / f"{name}.unreadable"
    first.write_bytes(b"earlier")
    (out / "tasks" / name).write_bytes(b"not parquet")
    again = run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)
    assert first.read_bytes() == b"earlier"
    others = [p for p in (out / "tasks").glob(f"{name}.*.unreadable")]
    assert len(others) == 1 and others[0].read_bytes() == b"not parquet"
    one_row_per_task(out, manifest)
    assert (again.summary["status"] == "ok").all()


def test_a_folder_named_like_a_glob_resumes_and_reads(manifest, tmp_path, calls):  # noqa: F811
    """--out runs/run[1]: DuckDB would read "[1]" in a glob as a pattern and find no file; the files are
    listed instead, so the summary reads and resume runs only the tasks without an ok row."""
    import os

    out = tmp_path / "run[1]"
    first = run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)
    assert sorted(first.summary["task_id"]) == sorted(t.task_id for t in manifest.tasks)
    assert table(read_summary(out)).equals(table(first.summary))
    files = rows_in(out)
    lost = sorted(files)[0]
    os.remove(out / "tasks" / lost)
    for p in calls.iterdir():
        p.unlink()
    again = run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)
    assert called(calls) == sorted((t, 1) for t, _ in files[lost])
    one_row_per_task(out, manifest)
    assert table(again.summary).equals(table(first.summary))


def test_a_file_with_a_garbled_footer_is_set_aside_and_its_tasks_rerun(manifest, tmp_path, calls):  # noqa: F811
    """A task file whose footer is zeroed: pyarrow raises an OSError without an errno (a parse error, not the
    system's), so resume sets it aside and re-runs its tasks instead of stopping (found in review)."""
    out = tmp_path / "sweep"
    run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)
    name = sorted(rows_in(out))[0]
    path = out / "tasks" / name
    data = path.read_bytes()
    footer = int.from_bytes(data[-8:-4], "little")  # the footer's length, before the magic bytes
    path.write_bytes(data[:-8 - footer] + bytes(footer) + data[-8:])
    again = run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=stub)
    assert (out / "tasks" / f"{name}.unreadable").exists()
    one_row_per_task(out, manifest)
    assert (again.summary["status"] == "ok").all() and len(again.summary) == len(manifest.tasks)


def test_rows_without_an_attempt_column_read_back(manifest, tmp_path, calls):  # noqa: F811
    """A task function of one's own whose rows carry no ``attempt``: the summary still keeps one row per task."""
    def bare(spec):
        row = stub(spec)
        row.pop("attempt")
        return row

    out = tmp_path / "sweep"
    res = run(manifest, out, executor=InlineExecutor(chunk=4), task_fn=bare)
    assert "attempt" not in res.summary and len(res.summary) == len(manifest.tasks)
