"""Run directories: which folders gigawatt may write into or replace, and how, so a user's files survive.

Every directory gigawatt writes (a solve's run, a sweep, a ``simulate --out`` folder) holds a marker,
``.gigawatt-run.json``: the directory's id, its kind, and every top-level entry gigawatt wrote there with
the command and write that wrote it. The rules:

- a path that does not exist, or an empty directory, may be written;
- a non-empty directory without a marker is a user's folder: never replaced, never written into;
- a marked directory holding anything its marker does not list (a user's notes) is never replaced;
- a marked solve run is replaced only when asked (``--overwrite``); the run it replaces is kept whole
  (plan, risk results, report) in ``DIR/previous/``; the one kept there before is dropped.

A replacement is all or nothing (:mod:`gigawatt.atomic`); :func:`recover` finishes or undoes one that a
crash interrupted, and is called before a run directory is read or written.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from gigawatt.atomic import (_UMASK, atomic_write, atomic_write_many, exchange, pid_alive, pid_of, recover_files,
                             remove_tree, tag)
from gigawatt.errors import Problem, ScenarioError

MARKER = ".gigawatt-run.json"
PREVIOUS = "previous"
MARKER_VERSION = 1


@dataclass
class Written:
    """What one command wrote into a run directory (stored in the runs catalog, for ``runs rm --delete-files``)."""

    dir_id: str
    write_id: str
    files: list[str] = field(default_factory=list)
    kept_previous: bool = False
    dropped_previous: bool = False

    def to_json(self) -> str:
        return json.dumps({"dir_id": self.dir_id, "write_id": self.write_id, "files": self.files})


def read_marker(path: Path) -> dict | None:
    """The marker of a directory gigawatt wrote, or None (no marker, or not one of ours)."""
    try:
        data = json.loads((Path(path) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "id" not in data or not isinstance(data.get("files"), dict):
        return None
    return data


# what gigawatt wrote before run directories carried a marker, by the command that wrote it
LEGACY = {"solve": {"summary.json": "solve", "plan.nc": "solve", "scenario.resolved.yaml": "solve", "tables": "solve",
                    "risk.json": "simulate", "risk_paths.parquet": "simulate", "report.html": "report"},
          "sweep": {"manifest.json": "sweep", "tasks": "sweep", "summary.parquet": "sweep", "summary.csv": "sweep"}}
LEGACY_REQUIRED = {"solve": {"summary.json", "plan.nc"}, "sweep": {"manifest.json"}}


def marker_of(path: Path) -> dict | None:
    """The marker of ``path``; for a directory written before markers existed, one inferred from its files
    (only when every entry is a file gigawatt writes there). Not written to disk."""
    marker = read_marker(path)
    if marker is not None or not Path(path).is_dir():
        return marker
    names = {p.name for p in Path(path).iterdir()}
    for kind, known in LEGACY.items():
        if LEGACY_REQUIRED[kind] <= names <= set(known):
            return {"gigawatt_run": MARKER_VERSION, "id": f"legacy-{uuid.uuid4().hex}", "kind": kind,
                    "created_at": "before markers", "previous_id": None,
                    "files": {n: {"by": known[n], "write": "legacy"} for n in names}}
    return None


def new_marker(kind: str, files: dict, previous_id: str | None = None) -> dict:
    """A fresh marker for a directory of ``kind`` holding ``files`` (name -> {"by": command, "write": id})."""
    return {"gigawatt_run": MARKER_VERSION, "id": uuid.uuid4().hex, "kind": kind,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "previous_id": previous_id, "files": files}


def write_marker(path: Path, marker: dict) -> None:
    """Write ``marker`` into the directory ``path``, atomically."""
    atomic_write(Path(path) / MARKER, lambda p: p.write_text(json.dumps(marker, indent=1) + "\n"))


def _ours(name: str, marker: dict) -> bool:
    """An entry gigawatt wrote or is writing: listed in the marker, the marker, or one of our temporary files."""
    if name in marker["files"] or name == MARKER or name.startswith(".gigawatt-"):
        return True
    return any(name.startswith(f".{listed}.") for listed in (*marker["files"], MARKER))


def foreign_entries(path: Path, marker: dict | None) -> list[str]:
    """Entries of ``path`` that gigawatt did not write (all of them when there is no marker)."""
    names = sorted(p.name for p in Path(path).iterdir())
    if marker is None:
        return names
    out = []
    for name in names:
        if name == PREVIOUS and read_marker(Path(path) / PREVIOUS) is not None:
            continue
        if not _ours(name, marker):
            out.append(name)
    return out


def _listing(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def _refuse(what: str, path: Path, option: str, *, value=None, expected: str, fix: str) -> ScenarioError:
    return ScenarioError(Problem(what, path=option, value=value if value is not None else str(path),
                                 expected=expected, fix=fix), title=f"will not write {path}")


def check_target(path: Path, *, kind: str, overwrite: bool = False, option: str = "--out") -> dict | None:
    """May a new run of ``kind`` replace ``path``? Return its current marker (None when it is new or
    empty); raise ScenarioError (exit 1) saying why not and what to do."""
    path = Path(path)
    recover(path)
    if not path.exists():
        return None
    if not path.is_dir():
        raise _refuse("the output path exists and is not a directory", path, option,
                      expected="a new or empty folder", fix="choose another --out")
    marker = marker_of(path)
    foreign = foreign_entries(path, marker)
    if marker is None and not foreign:
        return None
    if marker is None:
        raise _refuse("the folder is not empty and gigawatt did not write it", path, option,
                      value=_listing(foreign), expected="a new or empty folder",
                      fix=f"choose a new or empty folder, e.g. {option} {path / kind}; gigawatt never replaces a "
                          "folder it did not write" + (", even with --overwrite" if kind == "solve" else ""))
    if foreign:
        raise _refuse("the run folder holds files gigawatt did not write", path, option,
                      value=_listing(foreign), expected="only the files of a gigawatt run",
                      fix="move those files out of the folder, or choose another --out")
    if marker.get("kind") != kind:
        raise _refuse(f"the folder holds a gigawatt {marker.get('kind')} output, not a {kind} run", path, option,
                      expected=f"a new or empty folder, or a {kind} run", fix="choose another --out")
    if not overwrite:
        kept = sorted(n for n, f in marker["files"].items() if f.get("by") != kind)
        also = f" (and its {', '.join(kept)})" if kept else ""
        raise _refuse(f"the folder already holds a gigawatt {kind} run", path, option,
                      value=f"written {marker.get('created_at')}", expected="a new or empty folder",
                      fix=f"pass --overwrite to replace it: the run there{also} is kept in "
                          f"{path / PREVIOUS}/; or choose another --out")
    return marker


@contextlib.contextmanager
def replace_run_dir(path: Path, *, kind: str, overwrite: bool = False) -> Iterator[tuple[Path, Written]]:
    """Yield (a temporary directory, what will be written) to fill; on success it becomes ``path``.

    ``path`` must pass :func:`check_target` (checked again at the end, in case it changed meanwhile). The
    directory it replaces, if any, is kept in ``path/previous/``. On an exception nothing changes."""
    path = Path(path)
    check_target(path, kind=kind, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.new-{tag()}-", dir=path.parent))
    written = Written(dir_id="", write_id=uuid.uuid4().hex)
    committing = False
    try:
        yield tmp, written
        old = check_target(path, kind=kind, overwrite=overwrite)
        files = {p.name: {"by": kind, "write": written.write_id} for p in tmp.iterdir()}
        marker = new_marker(kind, files, previous_id=old["id"] if old else None)
        write_marker(tmp, marker)  # last: a temporary directory with a marker is complete
        os.chmod(tmp, 0o777 & ~_UMASK)
        written.dir_id, written.files = marker["id"], sorted(files)
        if old is not None and old["id"].startswith("legacy-"):
            write_marker(path, old)  # a run from before markers: mark it, so it is known as ours in previous/
        committing = True
        _commit(tmp, path, old)
        written.kept_previous = old is not None
        written.dropped_previous = old is not None and (path / PREVIOUS / PREVIOUS).is_dir()
        if written.dropped_previous:
            remove_tree(path / PREVIOUS / PREVIOUS)
    except BaseException:
        if not committing:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists() and not path.exists():
            tmp.rename(path)  # the new run is complete: finish what the failed step left (else recover() will)
        raise


def _commit(tmp: Path, path: Path, old: dict | None) -> None:
    """Put the complete ``tmp`` in place of ``path``; the run there before goes to ``path/previous``."""
    if old is None:  # new, or an empty directory: rename replaces an empty directory atomically (POSIX)
        try:
            tmp.rename(path)
            return
        except OSError:
            if path.exists() and any(path.iterdir()):
                raise
            path.rmdir()  # Windows cannot rename onto a directory
            tmp.rename(path)
            return
    if exchange(tmp, path):  # one step: path holds the new run, tmp the old one
        tmp.rename(path / PREVIOUS)
        return
    # no atomic exchange here: the old run moves into the new one, then the new one into place. A crash
    # between the two renames leaves path missing and the complete new run in tmp: recover() finishes it.
    path.rename(tmp / PREVIOUS)
    tmp.rename(path)


def recover(path: Path) -> None:
    """Finish or undo what a crash interrupted at ``path``: a directory replacement (hidden ``.NAME.new-*``
    and ``.NAME.old-*`` beside it) and multi-file writes inside it. Never touches the work of a process
    that is still running."""
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        return
    new_prefix, old_prefix = f".{path.name}.new-", f".{path.name}.old-"
    for entry in sorted(parent.iterdir()):
        name = entry.name
        if name.startswith(old_prefix) and not pid_alive(pid_of(name, old_prefix)):
            shutil.rmtree(entry, ignore_errors=True)
        elif name.startswith(new_prefix) and entry.is_dir() and not pid_alive(pid_of(name, new_prefix)):
            _recover_new(entry, path)
    if path.is_dir():
        recover_files(path)
        if (path / PREVIOUS / PREVIOUS).is_dir() and read_marker(path / PREVIOUS):
            remove_tree(path / PREVIOUS / PREVIOUS)


def _recover_new(tmp: Path, path: Path) -> None:
    marker = read_marker(tmp)
    current = read_marker(path) if path.is_dir() else None
    if marker is None:  # never completed: the old state stands
        shutil.rmtree(tmp, ignore_errors=True)
    elif not path.exists():  # complete, and the crash came between the two renames: finish
        tmp.rename(path)
    elif current is not None and current.get("previous_id") == marker["id"] and not (path / PREVIOUS).exists():
        tmp.rename(path / PREVIOUS)  # the old run, swapped out just before the crash
    else:  # complete but never committed (the old run stands), or already kept
        shutil.rmtree(tmp, ignore_errors=True)


def prepare_output(path: Path, *, kind: str, option: str = "--out", into: tuple[str, ...] | None = None) -> dict:
    """Check that ``kind`` may add files to the directory ``path`` (created if missing) and return its
    marker (a new one for a new or empty directory; not yet written). ``into``: the kinds of gigawatt
    directory it may add to (default: any)."""
    path = Path(path)
    recover(path)
    if path.exists() and not path.is_dir():
        raise _refuse("the output path exists and is not a directory", path, option,
                      expected="a run directory, or a new or empty folder", fix=f"choose another {option}")
    marker = marker_of(path) if path.exists() else None
    if marker is None:
        foreign = foreign_entries(path, None) if path.exists() else []
        if foreign:
            raise _refuse("the folder is not empty and gigawatt did not write it", path, option,
                          value=_listing(foreign),
                          expected="a run directory, or a new or empty folder",
                          fix=f"choose a new or empty folder, e.g. {option} {path / kind}")
        return new_marker(kind, {})
    if into is not None and marker.get("kind") not in into:
        raise _refuse(f"the folder holds a gigawatt {marker.get('kind')} output", path, option,
                      expected=f"a new or empty folder{', or a ' + ' or '.join(into) + ' output' if into else ''}",
                      fix=f"choose another {option}")
    return marker


def add_files(path: Path, *, kind: str, writers: dict[str, Callable[[Path], None]], option: str = "--out",
              into: tuple[str, ...] | None = None) -> Written:
    """Write files of one command (``kind``) into a run directory, together with its updated marker, all or
    nothing (a crash leaves every file old or every file new)."""
    path = Path(path)
    marker = prepare_output(path, kind=kind, option=option, into=into)
    clash = sorted(n for n in writers if (path / n).exists() and n not in marker["files"])
    if clash:
        raise _refuse("a file of that name is there and gigawatt did not write it", path, option,
                      value=str(path / clash[0]), expected="a name gigawatt may write",
                      fix=f"move {path / clash[0]} out of the way, or choose another {option}")
    written = Written(dir_id=marker["id"], write_id=uuid.uuid4().hex, files=sorted(writers))
    marker = {**marker, "files": {**marker["files"], **{n: {"by": kind, "write": written.write_id} for n in writers}}}
    text = json.dumps(marker, indent=1) + "\n"
    atomic_write_many(path, {**writers, MARKER: lambda p: p.write_text(text)})
    return written


def delete_written(path: Path, record: dict) -> tuple[Path, list[str], list[str]]:
    """Delete the files one catalog record wrote in ``path`` or, once replaced, ``path/previous``
    (``record``: :meth:`Written.to_json`'s dict), only where the directory's marker says they are still that
    write's. Return (the directory, names deleted, names kept because a later command rewrote them).

    Raises ScenarioError when the directory now holds another run (its files are not the record's)."""
    path = Path(path)
    recover(path)
    marker = read_marker(path)
    if marker is None or marker["id"] != record["dir_id"]:
        prev = read_marker(path / PREVIOUS) if path.is_dir() else None
        if prev is not None and prev["id"] == record["dir_id"]:
            path, marker = path / PREVIOUS, prev
        else:
            raise ScenarioError(Problem("the directory no longer holds the files of this run", path=str(path),
                                        value="another run or other files are there now",
                                        expected=f"the run directory with id {record['dir_id']}",
                                        fix="delete the files by hand, or forget the run without --delete-files"),
                                title="will not delete files")
    deleted, kept = [], []
    for name in record["files"]:
        entry = marker["files"].get(name)
        if entry is None or entry.get("write") != record["write_id"]:
            kept.append(name)  # rewritten by a later command since
            continue
        target = path / name
        if target.is_dir():
            remove_tree(target)
        else:
            target.unlink(missing_ok=True)
        deleted.append(name)
    remaining = {n: f for n, f in marker["files"].items() if n not in deleted}
    if remaining or any(p.name != MARKER for p in path.iterdir()):
        write_marker(path, {**marker, "files": remaining})
    else:  # nothing of anyone's is left: remove the marker and the empty directory
        (path / MARKER).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.rmdir()
    return path, deleted, kept


__all__ = ["MARKER", "PREVIOUS", "Written", "read_marker", "check_target", "replace_run_dir", "recover",
           "prepare_output", "add_files", "marker_of", "delete_written", "foreign_entries"]
