"""Atomic writes of run outputs, and the runs catalog: every solve, simulate and sweep, in DuckDB.

Writes are all or nothing: a file or a whole run directory is written under a temporary name in the same
directory and renamed into place (``os.replace`` / ``rename`` are atomic on one filesystem). A run is
registered only after its directory is in place, in one DuckDB transaction, so a crash between the two
leaves an unregistered run on disk, never a registered half-run.

DuckDB lets one process at a time open a database file for writing; registrations from several processes
(a sweep's workers, two terminals) take an exclusive ``flock`` on a lock file beside the database first.
The database path is ``$GIGAWATT_RUNS_DB``, else ``runs.duckdb`` in the user's data directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

from gigawatt.errors import Problem, ScenarioError

_UMASK = os.umask(0)
os.umask(_UMASK)

ENV_DB = "GIGAWATT_RUNS_DB"
KINDS = ("solve", "simulate", "sweep")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    scenario VARCHAR,
    variant VARCHAR,
    inputs_hash VARCHAR,
    status VARCHAR,
    objective_usd DOUBLE,
    timings_json VARCHAR,
    versions_json VARCHAR,
    created_at TIMESTAMP NOT NULL
)
"""
COLUMNS = ("id", "kind", "path", "scenario", "variant", "inputs_hash", "status", "objective_usd",
           "timings_json", "versions_json", "created_at")


# --- atomic writes -----------------------------------------------------------------------------------------


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success it replaces ``path`` whole.

    On an exception the temporary directory is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_UMASK)
        if path.exists():
            old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --- the catalog -----------------------------------------------------------------------------------------


def inputs_hash(data: Any) -> str:
    """SHA-256 of the resolved inputs as canonical JSON (key order does not matter)."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def default_db_path() -> Path:
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("gigawatt", appauthor=False)) / "runs.duckdb"


class RunsCatalog:
    """The runs catalog at ``db_path`` (default: :func:`default_db_path`)."""

    def __init__(self, db_path: Path | str | None = None):
        self.db_path = Path(db_path) if db_path is not None else default_db_path()

    @contextlib.contextmanager
    def _connect(self, *, write: bool):
        import duckdb

        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.db_path.with_name(self.db_path.name + ".lock")
        with open(lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            try:
                if not write and not self.db_path.exists():
                    con = duckdb.connect(":memory:")
                else:
                    con = duckdb.connect(str(self.db_path))
                try:
                    con.execute(_SCHEMA)
                    yield con
                finally:
                    con.close()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def register(self, *, kind: str, path: Path, scenario: str | None, variant: str | None, inputs_hash: str,
                 status: str, objective_usd: float | None = None, timings: dict | None = None,
                 versions: dict | None = None) -> str:
        """Record a run whose directory is already in place; return its id."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        path = Path(path).resolve()
        if not path.exists():
            raise FileNotFoundError(f"run directory {path} does not exist: write the run before registering it")
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        row = (run_id, kind, str(path), scenario, variant, inputs_hash, status,
               None if objective_usd is None else float(objective_usd),
               json.dumps(timings or {}, default=str), json.dumps(versions or {}, default=str))
        with self._connect(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())", row)
            con.execute("COMMIT")
        return run_id

    def list(self, *, kind: str | None = None, scenario: str | None = None) -> list[dict]:
        """Every registered run, newest first, each with ``exists`` (is its directory still there?)."""
        sql, args = "SELECT * FROM runs", []
        where = []
        if kind:
            where.append("kind = ?")
            args.append(kind)
        if scenario:
            where.append("scenario = ?")
            args.append(scenario)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC"
        with self._connect(write=False) as con:
            rows = con.execute(sql, args).fetchall()
        out = []
        for r in rows:
            rec = dict(zip(COLUMNS, r))
            rec["timings"] = json.loads(rec.pop("timings_json") or "{}")
            rec["versions"] = json.loads(rec.pop("versions_json") or "{}")
            rec["created_at"] = str(rec["created_at"])
            rec["exists"] = Path(rec["path"]).exists()
            out.append(rec)
        return out

    def get(self, run_id: str) -> dict:
        """One run by id (a unique prefix is enough)."""
        runs = self.list()
        hits = [r for r in runs if r["id"] == run_id] or [r for r in runs if r["id"].startswith(run_id)]
        if len(hits) != 1:
            from gigawatt.errors import did_you_mean

            what = "no run with id" if not hits else "more than one run starts with"
            raise ScenarioError(Problem(f"{what} '{run_id}'", path="runs", value=run_id,
                                        expected="an id from `gigawatt runs list`",
                                        fix="copy the id from `gigawatt runs list`." +
                                            did_you_mean(run_id, [r["id"] for r in runs])), title="bad run id")
        return hits[0]

    def remove(self, run_id: str, *, delete_files: bool = False) -> dict:
        """Unregister a run (and delete its directory when asked); return what was removed."""
        rec = self.get(run_id)
        with self._connect(write=True) as con:
            con.execute("DELETE FROM runs WHERE id = ?", [rec["id"]])
        if delete_files and rec["exists"]:
            shutil.rmtree(rec["path"])
        return rec


def register_quietly(**kwargs) -> str | None:
    """Register a run; a catalog problem is logged, never fatal (the run is written either way)."""
    import logging

    try:
        return RunsCatalog().register(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the outputs exist; losing the index entry must not lose them
        logging.getLogger(__name__).warning("could not register the run in the runs catalog: %s", exc)
        return None


__all__ = ["atomic_write", "atomic_dir", "inputs_hash", "RunsCatalog", "default_db_path", "register_quietly"]
