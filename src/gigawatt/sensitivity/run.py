"""One-at-a-time (tornado) and variance-based (Sobol) sensitivity of a scenario's headline figures, each
design solved as a sweep (gigawatt.sweep: its manifest tasks and executors), then ranked (docs/sensitivity.md).

Outputs per solve: net present cost of compute, funding need (max(0, −lowest cash)) and the first year free
cash flow (EBITDA − capex, before financing) is positive."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from gigawatt.errors import Problem, ScenarioError
from gigawatt.sensitivity.inputs import Input, changes

OUTPUTS = {"net_present_cost_usd": "USD", "funding_gap_usd": "USD", "first_free_cash_flow_positive_year": "year"}


def oat_values(inputs: list[Input]) -> np.ndarray:
    """The one-at-a-time design: row 0 every input at its base, then per input its low and its high."""
    base = np.array([i.base for i in inputs], dtype=float)
    rows = [base]
    for k, i in enumerate(inputs):
        for end in (i.low, i.high):
            r = base.copy()
            r[k] = end
            rows.append(r)
    return np.array(rows)


def problem(inputs: list[Input]) -> dict:
    """SALib's problem: every input on the unit interval (its quantile), mapped through :meth:`Input.ppf`."""
    return {"num_vars": len(inputs), "names": [i.name for i in inputs], "bounds": [[0.0, 1.0]] * len(inputs)}


def sobol_values(inputs: list[Input], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Saltelli's design for first-order and total indices: n × (k + 2) rows (unit quantiles, input values)."""
    from SALib.sample import sobol as sobol_sample

    u = sobol_sample.sample(problem(inputs), n, calc_second_order=False, seed=seed)
    values = np.column_stack([i.ppf(u[:, k]) for k, i in enumerate(inputs)])
    return u, values


def evaluate(base: dict, inputs: list[Input], values: np.ndarray, *, executor, solve: dict | None = None,
             progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Solve the scenario ``base`` (resolved data) at each row of ``values`` as one sweep; one row of
    :data:`OUTPUTS` per design row (NaN where a solve failed, its error in ``error``)."""
    from gigawatt.optimize.solve import scratch_root
    from gigawatt.sweep.manifest import Manifest, Task
    from gigawatt.sweep.run import run

    base_yaml = yaml.safe_dump(base, sort_keys=False, allow_unicode=True)
    tasks = []
    for j, row in enumerate(values):
        sets, ov, rm = changes(base, inputs, list(row))
        tasks.append(Task(task_id=f"s{j:06d}", params={i.name: i.text(v) for i, v in zip(inputs, row)}, sets=sets,
                          overrides=ov, removals=rm))
    manifest = Manifest(scenario_path="", scenario=None, base_yaml=base_yaml, vary={}, draws=0, seed=0, tasks=tasks,
                        solve={"allow_unmet": None, "method": None, **(solve or {}), "threads": 1})
    root = scratch_root()
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sensitivity-", dir=root))
    try:
        rows = run(manifest, work / "sweep", executor=executor, retries=0, progress=progress).summary
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = rows.set_index("task_id").reindex([t.task_id for t in tasks])
    out = pd.DataFrame(index=range(len(tasks)))
    for key in ("net_present_cost_usd", "funding_gap_usd"):
        out[key] = rows[key].to_numpy(dtype=float) if key in rows else np.nan
    fcf_year = "first_free_cash_flow_positive_year"  # computed in the worker from finance (sweep row)
    out[fcf_year] = pd.to_numeric(rows[fcf_year], errors="coerce").to_numpy(dtype=float) if fcf_year in rows \
        else np.nan
    out["error"] = rows["error"].fillna("").to_numpy() if "error" in rows else ""
    ok = (rows["status"] == "ok").to_numpy()
    out.loc[~ok, list(OUTPUTS)] = np.nan
    return out


def tornado(inputs: list[Input], values: np.ndarray, outputs: pd.DataFrame) -> pd.DataFrame:
    """Per input and output: the output at the input's low and high (others at base), the change from the
    base run, and the swing |high − low| that ranks the bars (largest first)."""
    rows = []
    for out, unit in OUTPUTS.items():
        base = float(outputs[out].iloc[0])
        for k, i in enumerate(inputs):
            lo, hi = float(outputs[out].iloc[1 + 2 * k]), float(outputs[out].iloc[2 + 2 * k])
            rows.append({"output": out, "unit": unit, "input": i.name, "kind": i.kind,
                         "low": i.text(values[1 + 2 * k, k]), "high": i.text(values[2 + 2 * k, k]),
                         "base_value": base, "low_value": lo, "high_value": hi, "low_delta": lo - base,
                         "high_delta": hi - base, "swing": abs(hi - lo)})
    t = pd.DataFrame(rows)
    t["order"] = t["output"].map({o: k for k, o in enumerate(OUTPUTS)})
    t = t.sort_values(["order", "swing"], ascending=[True, False], na_position="last")
    return t.drop(columns="order").reset_index(drop=True)


def sobol_indices(inputs: list[Input], outputs: pd.DataFrame, n: int, *, seed: int, horizon_end: int,
                  conf_level: float = 0.95, names: dict[str, str] | None = None) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices per input and output with their bootstrap confidence
    intervals (SALib). A year that never comes counts as the horizon's last year + 1. Raises when a solve
    failed (Saltelli's estimator needs every row). ``names``: the output columns and units (default
    :data:`OUTPUTS`)."""
    from SALib.analyze import sobol

    failed = outputs.get("error", pd.Series("", index=outputs.index)).astype(str).str.len() > 0
    if failed.any():
        raise ScenarioError(Problem(f"{int(failed.sum())} of {len(outputs)} solves of the Sobol design failed",
                                    path="--sobol", value=outputs.loc[failed, "error"].iloc[0][:300],
                                    expected="every sampled scenario solvable",
                                    fix="narrow the ranges, pass --allow-unmet, or leave out the input that breaks "
                                        "it (--only)"), title="sensitivity failed")
    rows = []
    names = OUTPUTS if names is None else names
    for out, unit in names.items():
        y = outputs[out].to_numpy(dtype=float)
        if out.endswith("_year"):
            y = np.where(np.isnan(y), horizon_end + 1, y)
        if np.allclose(y, y[0]):
            res = {k: np.zeros(len(inputs)) for k in ("S1", "S1_conf", "ST", "ST_conf")}  # nothing varies
        else:
            res = sobol.analyze(problem(inputs), y, calc_second_order=False, conf_level=conf_level, seed=seed)
        for k, i in enumerate(inputs):
            rows.append({"output": out, "unit": unit, "input": i.name, "kind": i.kind,
                         "S1": float(res["S1"][k]), "S1_conf": float(res["S1_conf"][k]),
                         "ST": float(res["ST"][k]), "ST_conf": float(res["ST_conf"][k]),
                         "N": n, "samples": len(y), "conf_level": conf_level, "variance": float(np.var(y))})
    t = pd.DataFrame(rows)
    t["order"] = t["output"].map({o: k for k, o in enumerate(names)})
    return t.sort_values(["order", "ST"], ascending=[True, False]).drop(columns="order").reset_index(drop=True)


__all__ = ["OUTPUTS", "oat_values", "sobol_values", "problem", "evaluate", "tornado", "sobol_indices"]
