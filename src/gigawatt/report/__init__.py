"""Reports of solved runs: a self-contained HTML page per run and a comparison of runs.

The report layer reads a run directory (summary.json, plan.nc, tables/, scenario.resolved.yaml, risk.json)
and draws it; it computes nothing new. ``write_report(DIR)`` and ``write_compare([DIR, ...])`` are the
entry points; ``gigawatt report`` and ``gigawatt compare`` call them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gigawatt.report.data import Run, load_run
from gigawatt.report.headline import headline


@dataclass(frozen=True)
class Written:
    """What a report write produced: the file, its size and the charts on it."""

    path: Path
    size_bytes: int
    charts: list[str]


GENERATOR_TAG = b'<meta name="generator" content="gigawatt">'


def _is_gigawatt_page(path: Path) -> bool:
    """Did gigawatt write this file (a report or comparison page)? Read its head only."""
    try:
        with open(path, "rb") as fh:
            return GENERATOR_TAG in fh.read(4096)
    except OSError:
        return False


def _write(path: Path, text: str, *, option: str = "-o") -> int:
    """Write a page atomically. Inside a folder gigawatt wrote, the folder's marker records it; elsewhere an
    existing file is replaced only when it is a page gigawatt wrote (never a user's file)."""
    from gigawatt.atomic import atomic_write
    from gigawatt.rundir import add_files, marker_of

    data = text.encode("utf-8")
    path = Path(path)
    if path.parent.is_dir() and marker_of(path.parent) is not None:
        add_files(path.parent, kind="report", option=option, writers={path.name: lambda tmp: tmp.write_bytes(data)})
    else:
        _check_not_users(path, option)
        atomic_write(path, lambda tmp: tmp.write_bytes(data))
    return len(data)


def _check_not_users(path: Path, option: str) -> None:
    from gigawatt.errors import Problem, ScenarioError

    if path.exists() and not _is_gigawatt_page(path):
        raise ScenarioError(Problem("the file exists and gigawatt did not write it", path=option, value=str(path),
                                    expected="a new file, or a page gigawatt wrote",
                                    fix=f"choose another file name, e.g. {option} {path.with_name(path.stem + '-report.html')}"
                                        "; gigawatt never replaces a file it did not write"),
                            title=f"will not write {path}")


def _check_out(out: Path) -> None:
    from gigawatt.errors import Problem, ScenarioError

    if out.is_dir():
        raise ScenarioError(Problem("the output path is a directory", path="-o", value=str(out),
                                    expected="a file name ending in .html", fix="pass -o DIR/report.html"),
                            title="bad option")
    from gigawatt.rundir import marker_of

    if not (out.parent.is_dir() and marker_of(out.parent)):
        _check_not_users(out, "-o")


def write_report(run_dir: str | Path, out: str | Path | None = None, published: str | Path | None = None) -> Written:
    """Write the HTML report of a run (default DIR/report.html), atomically; ``published`` (a file shaped
    like scenarios/openai/published.yaml) adds the published figures beside the run's.

    Raises
    ------
    ScenarioError
        DIR is not a readable run directory, ``out`` is a directory, or ``published`` is missing, not YAML
        or of the wrong shape.
    """
    from gigawatt.report.page import render_report
    from gigawatt.report.published import beside, load_published

    from gigawatt.rundir import recover

    pub_data = load_published(published) if published is not None else None
    recover(Path(run_dir))  # finish or undo a write a crash interrupted, before reading
    run = load_run(run_dir)
    out = Path(out) if out else Path(run_dir) / "report.html"
    _check_out(out)
    pub = beside(run, pub_data, published) if pub_data is not None else None
    text, charts = render_report(run, pub)
    return Written(out, _write(out, text), [c.id for c in charts])


def write_compare(run_dirs: list[str | Path], out: str | Path | None = None) -> tuple[Written, list[Run]]:
    """Write the comparison page of several runs (default ./compare.html), atomically."""
    from gigawatt.report.page import render_compare

    from gigawatt.rundir import recover

    for d in run_dirs:
        recover(Path(d))
    runs = load_runs(run_dirs)
    out = Path(out) if out else Path("compare.html")
    _check_out(out)
    text, charts = render_compare(runs)
    return Written(out, _write(out, text), [c.id for c in charts]), runs


def load_runs(run_dirs: list[str | Path]) -> list[Run]:
    """Load several runs; labels made unique (the directory name is added when two runs share one)."""
    runs = [load_run(d) for d in run_dirs]
    seen: dict[str, int] = {}
    for r in runs:
        seen[r.label] = seen.get(r.label, 0) + 1
    for r in runs:
        if seen[r.label] > 1:
            r.label = f"{r.label} [{r.path.name}]"
    labels = [r.label for r in runs]
    for i, r in enumerate(runs):  # still equal (same name in two parents): number them
        if labels.count(r.label) > 1:
            r.label = f"{r.label} #{i + 1}"
    return runs


__all__ = ["write_report", "write_compare", "load_run", "load_runs", "headline", "Run", "Written"]
