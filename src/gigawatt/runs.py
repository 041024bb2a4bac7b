"""The runs catalog: every solve, simulate and sweep, in DuckDB (atomic writes live in gigawatt.atomic).

A run is registered only after its files are in place, in one DuckDB transaction, so a crash between the
two leaves an unregistered run on disk, never a registered half-run. Each row keeps the files its command
wrote (``files_json``), so ``runs rm --delete-files`` deletes those and nothing else.

DuckDB lets one process at a time open a database file for writing, and none may read it meanwhile.
Every access (read or write) therefore holds a cross-platform lock on ``runs.duckdb.lock`` (the
``filelock`` package: ``fcntl`` on POSIX, ``msvcrt`` on Windows) for the length of one short
transaction; others wait for it, up to :data:`LOCK_TIMEOUT_S` (``$GIGAWATT_RUNS_LOCK_TIMEOUT``), then fail
with a message saying so. Reads open the database read-only.
The database path is ``$GIGAWATT_RUNS_DB``, else ``runs.duckdb`` in the user's data directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from gigawatt.atomic import atomic_dir, atomic_write
from gigawatt.errors import GigawattError, Problem, ScenarioError

ENV_DB = "GIGAWATT_RUNS_DB"
ENV_LOCK_TIMEOUT = "GIGAWATT_RUNS_LOCK_TIMEOUT"
LOCK_TIMEOUT_S = 60.0
KINDS = ("solve", "simulate", "sweep", "hedge")

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
    created_at TIMESTAMP NOT NULL,
    files_json VARCHAR,
    sets_json VARCHAR
)
"""
# catalogs written before a column existed gain it on the next write; their rows keep NULL there
_MIGRATIONS = ("ALTER TABLE runs ADD COLUMN IF NOT EXISTS files_json VARCHAR",
               # the --set overrides a run was made with (a JSON list of "key.path=value")
               "ALTER TABLE runs ADD COLUMN IF NOT EXISTS sets_json VARCHAR")
# the table's contract: docs/schemas/runs-table.json (its version, each column's type and meaning)
TABLE_VERSION = 1
COLUMNS = ("id", "kind", "path", "scenario", "variant", "inputs_hash", "status", "objective_usd",
           "timings_json", "versions_json", "created_at", "files_json", "sets_json")


class CatalogBusy(GigawattError):
    """The catalog's lock was held by another process for longer than the timeout."""

    exit_code = 3


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

    def _timeout(self) -> float:
        try:
            return float(os.environ.get(ENV_LOCK_TIMEOUT, LOCK_TIMEOUT_S))
        except ValueError:
            return LOCK_TIMEOUT_S

    @contextlib.contextmanager
    def _lock(self):
        from filelock import FileLock, Timeout

        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.db_path.with_name(self.db_path.name + ".lock")
        timeout = self._timeout()
        try:
            lock = FileLock(lock_path, timeout=timeout)
            lock.acquire()
        except Timeout:
            raise CatalogBusy(f"the runs catalog {self.db_path} is busy: another gigawatt process held its lock "
                              f"({lock_path}) for more than {timeout:g} s. Wait and run the command again, or "
                              f"raise ${ENV_LOCK_TIMEOUT} (seconds)") from None
        try:
            yield
        finally:
            lock.release()

    @contextlib.contextmanager
    def _connect(self, *, write: bool):
        import duckdb

        with self._lock():
            if not write and not self.db_path.exists():
                con = duckdb.connect(":memory:")
                con.execute(_SCHEMA)
            elif not write:
                con = duckdb.connect(str(self.db_path), read_only=True)
            else:
                con = duckdb.connect(str(self.db_path))
                con.execute(_SCHEMA)
                for sql in _MIGRATIONS:
                    con.execute(sql)
            try:
                yield con
            finally:
                con.close()

    def register(self, *, kind: str, path: Path, scenario: str | None, variant: str | None, inputs_hash: str,
                 status: str, objective_usd: float | None = None, timings: dict | None = None,
                 versions: dict | None = None, files: str | None = None, sets: list[str] | None = None) -> str:
        """Record a run whose directory is already in place; return its id. ``files``: what it wrote
        (:meth:`gigawatt.rundir.Written.to_json`), so that ``remove(delete_files=True)`` deletes only that;
        ``sets``: the ``--set key.path=value`` overrides it was made with."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        path = Path(path).resolve()
        if not path.exists():
            raise FileNotFoundError(f"run directory {path} does not exist: write the run before registering it")
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        row = (run_id, kind, str(path), scenario, variant, inputs_hash, status,
               None if objective_usd is None else float(objective_usd),
               json.dumps(timings or {}, default=str), json.dumps(versions or {}, default=str), files,
               json.dumps(list(sets)) if sets else None)
        with self._connect(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO runs (id, kind, path, scenario, variant, inputs_hash, status, objective_usd, "
                        "timings_json, versions_json, files_json, sets_json, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())", row)
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
            cur = con.execute(sql, args)
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        out = []
        for r in rows:
            rec = {"files_json": None, "sets_json": None, **dict(zip(names, r))}
            rec["sets"] = json.loads(rec.pop("sets_json")) if rec.get("sets_json") else []
            rec["files"] = json.loads(rec.pop("files_json")) if rec.get("files_json") else None
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
        """Unregister a run; with ``delete_files``, first delete the files it wrote (only those: a simulate's
        risk files, not the solve run they sit in). Return the record, with ``deleted`` and ``kept`` names."""
        from gigawatt.rundir import delete_written

        rec = self.get(run_id)
        rec["deleted"], rec["kept"] = [], []
        if delete_files and rec["exists"]:
            if not rec["files"]:
                raise ScenarioError(Problem("this run was registered without the list of files it wrote "
                                            "(by a gigawatt from before that list was kept)", path=rec["id"],
                                            value=rec["path"], expected="a run registered with its file list",
                                            fix=f"delete the files by hand if you are sure they are the run's, "
                                                f"then `gigawatt runs rm {rec['id']}` (without --delete-files)"),
                                    title="will not delete files")
            where, rec["deleted"], rec["kept"] = delete_written(Path(rec["path"]), rec["files"])
            rec["deleted_in"] = str(where)
        with self._connect(write=True) as con:
            con.execute("DELETE FROM runs WHERE id = ?", [rec["id"]])
        return rec


def register_quietly(**kwargs) -> str | None:
    """Register a run; a catalog problem is logged, never fatal (the run is written either way)."""
    import logging

    try:
        return RunsCatalog().register(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the outputs exist; losing the index entry must not lose them
        logging.getLogger(__name__).warning("could not register the run in the runs catalog: %s", exc)
        return None


__all__ = ["atomic_write", "atomic_dir", "inputs_hash", "RunsCatalog", "CatalogBusy", "default_db_path",
           "register_quietly"]
