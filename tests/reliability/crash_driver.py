"""Run gigawatt in a child process that kills itself with SIGKILL (kill -9) at a chosen point.

    python crash_driver.py POINT cli ARGS...          the `gigawatt` command with ARGS
    python crash_driver.py POINT write DIR LABEL      a small solve-like run written to DIR (replace_run_dir,
                                                      --overwrite) whose summary.json says LABEL
    python crash_driver.py POINT risk DIR SEED        a risk.json/risk_paths-like pair added to DIR (add_files)

POINT names where the kill lands (see POINTS); "none" runs to the end. SIGKILL gives the code no chance to
clean up: whatever is on disk at that moment is what a power cut or `kill -9` would leave.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def before(module, name: str) -> None:
    """Kill on the first call of module.name."""
    setattr(module, name, lambda *a, **k: die())


def after(module, name: str) -> None:
    """Kill right after the first call of module.name returns."""
    real = getattr(module, name)

    def wrapped(*a, **k):
        real(*a, **k)
        die()

    setattr(module, name, wrapped)


def _no_exchange_then_kill_between_renames() -> None:
    """The portable path (no renameat2): kill between its two renames."""
    import pathlib

    from gigawatt import rundir

    rundir.exchange = lambda a, b: False
    real = pathlib.Path.rename

    def rename(self, target):
        out = real(self, target)
        if Path(target).name == rundir.PREVIOUS:
            die()
        return out

    pathlib.Path.rename = rename


def _kill_before_journal() -> None:
    from gigawatt import atomic

    real = atomic.atomic_write

    def write(path, fn):
        if Path(path).name.startswith(atomic.JOURNAL_PREFIX):
            die()
        return real(path, fn)

    atomic.atomic_write = write


def _kill_mid_journal() -> None:
    """Commit the journal, do its first rename, die before the others."""
    import json

    from gigawatt import atomic

    def apply(journal):
        renames = json.loads(Path(journal).read_text())["renames"]
        name, tmp = next(iter(renames.items()))
        os.replace(Path(journal).parent / tmp, Path(journal).parent / name)
        die()

    atomic._apply_journal = apply


def _points():
    from gigawatt import rundir

    def solve_register():
        from gigawatt.commands import solve

        before(solve, "_register")

    def sweep_after_first_task():
        from gigawatt.sweep import run

        after(run, "write_rows")

    return {
        "none": lambda: None,
        "before-marker": lambda: before(rundir, "write_marker"),  # the new run is half built
        "before-commit": lambda: before(rundir, "_commit"),  # complete, not yet in place
        "after-exchange": lambda: after(rundir, "exchange"),  # swapped; the old run not yet in previous/
        "between-renames": _no_exchange_then_kill_between_renames,
        "before-register": solve_register,  # in place, not yet in the catalog
        "before-journal": _kill_before_journal,  # risk files written under temporary names only
        "mid-journal": _kill_mid_journal,  # committed, one of the renames done
        "sweep-after-first-task": sweep_after_first_task,
    }


POINTS = ("none", "before-marker", "before-commit", "after-exchange", "between-renames", "before-register",
          "before-journal", "mid-journal", "sweep-after-first-task")


def write_small_run(path: Path, label: str) -> None:
    import json

    from gigawatt.rundir import replace_run_dir

    with replace_run_dir(path, kind="solve", overwrite=True) as (tmp, _):
        (tmp / "summary.json").write_text(json.dumps({"label": label}))
        (tmp / "tables").mkdir()
        for i in range(20):
            (tmp / "tables" / f"t{i}.csv").write_text(f"{label},{i}\n")
        (tmp / "plan.nc").write_bytes(label.encode() * 1000)


def write_small_risk(path: Path, seed: str) -> None:
    from gigawatt.rundir import add_files

    add_files(path, kind="simulate", into=("solve",),
              writers={"risk.json": lambda p: p.write_text(f'{{"seed": {seed}}}'),
                       "risk_paths.parquet": lambda p: p.write_text(f"paths of seed {seed}")})


def main(argv: list[str]) -> None:
    point, mode, *rest = argv
    _points()[point]()
    if mode == "cli":
        from gigawatt.cli import main as cli_main

        sys.argv = ["gigawatt", *rest]
        cli_main()
    elif mode == "write":
        write_small_run(Path(rest[0]), rest[1])
    elif mode == "risk":
        write_small_risk(Path(rest[0]), rest[1])
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
