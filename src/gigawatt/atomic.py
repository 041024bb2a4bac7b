"""All-or-nothing file system writes: one file, several files of one directory, a whole directory.

Every replacement leaves either the old or the new state, whatever moment a crash (kill -9, power cut)
lands at:

- one file: written under a temporary name beside it, then ``os.replace``d (atomic on one filesystem);
- several files of one directory (risk.json with risk_paths.parquet): each written to a temporary file,
  then a *journal* naming the renames is renamed into place (the commit point), then the renames are done
  and the journal removed. :func:`recover_files` finishes a committed journal left by a crash and drops
  the temporary files of an uncommitted one;
- a directory: built under a temporary name, then swapped with the old one in one step where the system
  can (Linux ``renameat2(RENAME_EXCHANGE)``), else by two renames whose gap
  :mod:`gigawatt.rundir` closes on the next access.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Callable, Iterator

_UMASK = os.umask(0)
os.umask(_UMASK)

JOURNAL_PREFIX = ".gigawatt-commit-"


def tag() -> str:
    """A name fragment unique to this write that says which process made it: ``<pid>-<random>``."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def pid_of(name: str, prefix: str) -> int | None:
    """The process id in a name made as ``prefix + tag()``, or None."""
    rest = name[len(prefix):] if name.startswith(prefix) else ""
    head = rest.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def pid_alive(pid: int | None) -> bool:
    """Is the process still running? Unknown (no pid, or no way to ask) counts as alive: never clean up
    after a writer that may still be writing."""
    if pid is None or pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def _windows_pid_alive(pid: int) -> bool:
    try:
        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() != 87  # ERROR_INVALID_PARAMETER: no such process
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    except Exception:  # noqa: BLE001 - cannot tell: count it as alive
        return True


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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """:func:`atomic_write` of bytes already in memory, with fewer system calls (a sweep writes one small
    file per chunk of tasks): the temporary file is created with the usual permissions (no ``chmod``), its
    folder made only when missing."""
    path = Path(path)
    tmp = path.parent / f".{path.name}.{tag()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_many(directory: Path, writers: dict[str, Callable[[Path], None]]) -> None:
    """Write several files of ``directory`` so that a crash leaves all old or all new ones.

    ``writers`` maps a file name to ``write(tmp)``. After every temporary file is complete, a journal of the
    renames is put in place (the commit point); :func:`recover_files` completes it after a crash."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    temps: dict[str, str] = {}
    try:
        for name, write in writers.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
            os.close(fd)
            temps[name] = Path(tmp).name
            write(Path(tmp))
            os.chmod(tmp, 0o666 & ~_UMASK)
        journal = directory / f"{JOURNAL_PREFIX}{tag()}.json"
        atomic_write(journal, lambda p: p.write_text(json.dumps({"renames": temps})))
    except BaseException:
        for tmp in temps.values():
            (directory / tmp).unlink(missing_ok=True)
        raise
    _apply_journal(journal)


def _apply_journal(journal: Path) -> None:
    renames = json.loads(journal.read_text())["renames"]
    for name, tmp in renames.items():
        src = journal.parent / tmp
        if src.exists():
            os.replace(src, journal.parent / name)
    journal.unlink()


def recover_files(directory: Path) -> None:
    """Finish the multi-file writes a crash interrupted in ``directory`` (see :func:`atomic_write_many`)."""
    directory = Path(directory)
    if not directory.is_dir():
        return
    for journal in sorted(directory.glob(f"{JOURNAL_PREFIX}*.json")):
        pid = pid_of(journal.name, JOURNAL_PREFIX)
        if pid != os.getpid() and pid_alive(pid):
            continue  # another process is committing it right now
        try:
            _apply_journal(journal)
        except (OSError, ValueError, KeyError):
            journal.unlink(missing_ok=True)  # unreadable: it was never complete, so nothing was committed


# --- directories -----------------------------------------------------------------------------------------


def _renameat2_exchange() -> Callable[[str, str], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    return lambda a, b: fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)


_EXCHANGE = _renameat2_exchange()


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False when the system or filesystem cannot."""
    if _EXCHANGE is None:
        return False
    if _EXCHANGE(str(a), str(b)) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this filesystem or kernel cannot exchange
        return False
    raise OSError(errno, os.strerror(errno), str(a), None, str(b))


def remove_tree(path: Path) -> None:
    """Remove a directory so that a crash half way leaves a hidden ``.NAME.old-*`` leftover, never a
    half-deleted directory under its own name."""
    path = Path(path)
    if not path.exists():
        return
    trash = path.with_name(f".{path.name}.old-{tag()}")
    path.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success it replaces ``path`` whole (whatever ``path``
    held: callers decide whether it may be replaced, see :mod:`gigawatt.rundir`).

    On an exception the temporary directory is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.new-{tag()}-", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_UMASK)
        if path.exists() and exchange(tmp, path):
            shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old directory
        elif path.exists():
            old = path.with_name(f".{path.name}.old-{tag()}")
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


__all__ = ["atomic_write", "atomic_write_many", "recover_files", "atomic_dir", "exchange", "remove_tree",
           "pid_alive", "pid_of", "tag"]
