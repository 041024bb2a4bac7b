"""Read a solved run for simulation; write risk.json and risk_paths.parquet together, all or nothing."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gigawatt.errors import Problem, ScenarioError
from gigawatt.planfile import from_file
from gigawatt.runs import atomic_write


def _run_error(what: str, run_dir: Path, **kw) -> ScenarioError:
    return ScenarioError(Problem(what, path=str(run_dir), expected=kw.pop("expected", "a directory written by "
                                                                                       "`gigawatt solve --out DIR`"),
                                fix=kw.pop("fix", "run `gigawatt solve SCENARIO --out DIR` first, then simulate DIR"),
                                **kw), title="cannot read run")


def load_run(run_dir: str | Path, *, sets: list[str] | None = None):
    """The plan in DIR/plan.nc and the portfolio rebuilt from the resolved scenario stored with it.

    ``sets``: ``uncertainty.…=value`` overrides (as --set) applied to the stored scenario; only the
    uncertainty section may change, since the plan stays as it was solved.

    Returns
    -------
    (gigawatt.plan.Plan, gigawatt.portfolio.Portfolio)

    Raises
    ------
    ScenarioError
        DIR is not a run directory, its plan is not optimal, or its stored scenario no longer validates.
    """
    import xarray as xr

    from gigawatt.plan import Plan
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.load import Resolved, load_yaml_text
    from gigawatt.scenario.validate import validate

    from gigawatt.rundir import recover

    run_dir = Path(run_dir)
    recover(run_dir)  # finish or undo a write a crash interrupted, before reading
    if not run_dir.is_dir():
        raise _run_error("run directory not found", run_dir)
    nc = run_dir / "plan.nc"
    if not nc.is_file():
        raise _run_error("no plan.nc in the run directory", run_dir)
    try:
        ds = xr.load_dataset(nc, engine="h5netcdf")
    except Exception as exc:
        raise _run_error(f"plan.nc cannot be read ({type(exc).__name__}: {exc})", run_dir,
                         fix="solve again to rewrite the run") from None
    ds = from_file(ds)  # as it was solved: the file's user-unit duals and coordinates undone (gigawatt.planfile)
    status = str(ds.attrs.get("status", "unknown"))
    if status != "optimal":
        raise _run_error("the plan is not optimal", run_dir, value=status, expected="status optimal",
                         fix="simulate an optimal plan (solve with --allow-unmet if demand cannot be met)")
    text = ds.attrs.get("scenario_yaml")
    if not text:
        raise _run_error("plan.nc holds no resolved scenario (attribute scenario_yaml)", run_dir,
                         fix="solve again with this version of gigawatt")
    data, lines = load_yaml_text(text, name=f"{run_dir.name}/scenario.resolved.yaml")
    resolved = Resolved(data=data, lines=lines, path=run_dir / "scenario.resolved.yaml")
    if sets:
        from gigawatt.scenario.load import apply_override, parse_set

        problems = []
        for text in sets:
            p, v = parse_set(text)
            if not p or p[0] != "uncertainty":
                problems.append(Problem("simulate can only change the uncertainty section", path=".".join(p),
                                        location="--set", value=text, expected="a key path under uncertainty.",
                                        fix="solve again (gigawatt solve --set ...) to change the plan's inputs"))
                continue
            problems += apply_override(resolved.data, resolved.lines, [(p, v)], origin=f"--set {text}",
                                       location_of={p: "--set"})
        if problems:
            raise ScenarioError(problems, title="cannot apply --set")
    portfolio = Portfolio.from_scenario(validate(resolved), resolved)
    return Plan(ds, portfolio), portfolio


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if hasattr(x, "item"):
        return _clean(x.item())
    return x


def _where(out_dir: Path, run_dir: str | Path | None) -> dict:
    own = run_dir is not None and Path(out_dir).resolve() == Path(run_dir).resolve()
    return {"option": "DIR" if own else "--out", "into": ("solve",) if own else ("simulate",)}


def check_results_dir(out_dir: str | Path, run_dir: str | Path | None = None) -> None:
    """Raise ScenarioError (exit 1) unless :func:`write_results` may write into ``out_dir``."""
    from gigawatt.rundir import prepare_output

    prepare_output(Path(out_dir), kind="simulate", **_where(Path(out_dir), run_dir))


def write_results(result, out_dir: str | Path, *, extra: dict | None = None, run_dir: str | Path | None = None):
    """DIR/risk.json and DIR/risk_paths.parquet (the first 256 draws, per period), written together: a crash
    leaves both old or both new, never a pair from different seeds.

    ``out_dir`` is the solve run ``run_dir`` itself, or a folder of its own for risk results (new, empty, or
    written by an earlier ``simulate --out``); never a user's folder. Returns what was written
    (:class:`gigawatt.rundir.Written`)."""
    from gigawatt.rundir import add_files

    out_dir = Path(out_dir)
    doc = _clean({**result.to_dict(), **(extra or {})})
    text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    return add_files(out_dir, kind="simulate", **_where(out_dir, run_dir),
                     writers={"risk.json": lambda p: p.write_text(text),
                              "risk_paths.parquet": lambda p: result.paths.to_parquet(p, index=False)})


__all__ = ["load_run", "write_results", "check_results_dir", "atomic_write"]
