"""Load a run directory into plain pandas frames for the report. Reads results; computes nothing new.

What a run directory holds (results.py writes it; ``gigawatt simulate`` adds the risk files):
summary.json (per-year headline figures), plan.nc (the solved Dataset, finance_* variables when the
finance module ran), tables/*.csv (per-period statistics), scenario.resolved.yaml (the inputs, with
their ``source`` fields) and optionally risk.json + risk_paths.parquet.

Finance figures may be absent (null in summary.json) while the finance module is not part of a run:
``Run.finance`` is then None and the page says so.

Runs written before summary.json and risk.json carried ``schema_version`` 2 used other names for the same
figures; :func:`upgrade_summary` and :func:`upgrade_risk` map them on read (docs/files.md lists them).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from gigawatt.errors import Problem, ScenarioError
from gigawatt.fmt import usd

FINANCE_KEYS = ("revenue_usd", "free_cash_flow_usd", "financing_usd", "cash_flow_after_financing_usd",
                "cumulative_free_cash_flow_usd", "cash_usd", "other_costs_usd", "ebitda_usd", "operating_income_usd",
                "funding_usd", "vendor_equity_usd")
_YEAR = re.compile(r"^\d{4}$")

# schema 1 name -> schema 2 name (docs/files.md); cumulative_cash_flow_usd (Σ flow after financing) has no
# schema 2 key: it is the cash position less the starting cash
SUMMARY_RENAMED = {"summary_version": "schema_version", "objective_usd": "net_present_cost_usd",
                   "first_cash_flow_positive_year": "first_free_cash_flow_positive_year"}
SUMMARY_YEAR_RENAMED = {"cash_flow_usd": "cash_flow_after_financing_usd"}
RISK_RENAMED = {"risk_version": "schema_version", "net_present_cost_usd": "compute_spending_pv_usd",
                "cash_flow_usd_percentiles": "cash_flow_after_financing_usd_percentiles"}
RISK_PATHS_RENAMED = {"cash_flow_usd": "cash_flow_after_financing_usd", "net_present_cost_usd": "compute_spending_pv_usd"}


def upgrade_summary(summary: dict) -> dict:
    """summary.json in the current schema's names: a schema 1 document's keys renamed, and the per-year
    financing and cumulative free cash flow derived where its parts are there. Current documents pass."""
    if summary.get("schema_version", 1) >= 2 or "years" not in summary:
        return summary
    out = {SUMMARY_RENAMED.get(k, k): v for k, v in summary.items()}
    out["schema_version"] = 1
    cumulative = 0.0
    years = {}
    for y, entry in sorted((summary.get("years") or {}).items()):
        e = {SUMMARY_YEAR_RENAMED.get(k, k): v for k, v in entry.items() if k != "cumulative_cash_flow_usd"}
        if e.get("financing_usd") is None and e.get("funding_usd") is not None and e.get("vendor_equity_usd") is not None:
            e["financing_usd"] = e["funding_usd"] + e["vendor_equity_usd"]
        fcf = e.get("free_cash_flow_usd")
        cumulative = None if fcf is None or cumulative is None else cumulative + fcf
        e.setdefault("cumulative_free_cash_flow_usd", cumulative)
        years[y] = e
    out["years"] = years
    return out


def upgrade_risk(risk: dict, paths: pd.DataFrame | None) -> tuple[dict, pd.DataFrame | None]:
    """risk.json and risk_paths.parquet in the current schema's names (schema 1 keys renamed)."""
    if risk.get("schema_version", 1) >= 2:
        return risk, paths
    out = {RISK_RENAMED.get(k, k): v for k, v in risk.items()}
    out["schema_version"] = 1
    if isinstance(out.get("deterministic"), dict):
        out["deterministic"] = {RISK_PATHS_RENAMED.get(k, k): v for k, v in out["deterministic"].items()}
    return out, (paths.rename(columns=RISK_PATHS_RENAMED) if paths is not None else None)


def _run_error(what: str, path: Path, *, value: Any = None, fix: str | None = None) -> ScenarioError:
    return ScenarioError(Problem(what, path=str(path), value=value,
                                 expected="a run directory written by `gigawatt solve SCENARIO --out DIR` "
                                          "(summary.json, plan.nc, tables/)",
                                 fix=fix or "solve a scenario first: gigawatt solve scenario.yaml --out DIR"),
                         title="not a run directory")


def period_x(labels) -> list:
    """Period labels as x values: ints when every label is a year, else the labels as text."""
    labels = [str(v) for v in labels]
    return [int(v) for v in labels] if all(_YEAR.match(v) for v in labels) else labels


def _finite(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


@dataclass
class Run:
    """One run directory, loaded: every frame the report draws from."""

    path: Path
    summary: dict
    scenario: dict
    attrs: dict
    tables: dict[str, pd.DataFrame]
    plan: Any = None  # xarray.Dataset (loaded into memory, file closed)
    risk: dict | None = None
    risk_paths: pd.DataFrame | None = None
    label: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    # --- per year (summary.json) -----------------------------------------------------------------------

    @property
    def years(self) -> list[int]:
        return [int(y) for y in self.summary.get("years", {})]

    def yearly(self, key: str) -> pd.Series:
        """A scalar per-year value of summary.json (NaN where null or missing), indexed by year."""
        ys = self.summary.get("years", {})
        return pd.Series({int(y): (_finite(v.get(key)) if v.get(key) is not None else np.nan)
                          for y, v in ys.items()}, dtype=float, name=key)

    def yearly_nested(self, key: str) -> pd.DataFrame:
        """A per-year dict of summary.json (cost_usd_by_category, ...) as a frame: years × names."""
        ys = self.summary.get("years", {})
        rows = {int(y): {k: (np.nan if x is None else float(x)) for k, x in (v.get(key) or {}).items()}
                for y, v in ys.items()}
        return pd.DataFrame.from_dict(rows, orient="index").sort_index()

    @property
    def finance(self) -> pd.DataFrame | None:
        """Per-year finance figures (revenue_usd, cash_flow_usd, ...) or None when the run has none."""
        if "finance" in self._cache:
            return self._cache["finance"]
        frame = pd.DataFrame({k: self.yearly(k) for k in FINANCE_KEYS}).sort_index()
        frame = frame.dropna(axis=1, how="all")
        if frame.empty or frame.shape[1] == 0:
            frame = self._finance_from_plan()
        self._cache["finance"] = frame
        return frame

    def _finance_from_plan(self) -> pd.DataFrame | None:
        """plan.nc's finance_* variables when summary.json has none (only for yearly periods)."""
        if self.plan is None:
            return None
        cols = {}
        for key in FINANCE_KEYS:
            name = f"finance_{key}"
            if name not in self.plan and key == "cash_flow_after_financing_usd":
                name = "finance_cash_flow_usd"  # schema 1's name
            if name in self.plan and self.plan[name].dims == ("period",):
                cols[key] = pd.Series(self.plan[name].values.astype(float),
                                      index=[str(p) for p in self.plan["period"].values])
        if not cols:
            return None
        frame = pd.DataFrame(cols)
        if not all(_YEAR.match(p) for p in frame.index):
            return None
        frame.index = [int(p) for p in frame.index]
        frame = frame.dropna(axis=1, how="all")
        return frame if frame.shape[1] else None

    # --- per period (tables/*.csv, plan.nc) ------------------------------------------------------------

    def table(self, stem: str) -> pd.DataFrame | None:
        """tables/<stem>.csv as a frame (index = period for the wide tables), or None when absent."""
        return self.tables.get(stem)

    def by_period(self, stem: str) -> pd.DataFrame | None:
        """A wide per-period table with its index as x values (int years or period labels)."""
        t = self.table(stem)
        if t is None or t.empty:
            return None
        t = t.copy()
        t.index = period_x(t.index)
        return t

    def plan_by(self, var: str, group: str) -> pd.DataFrame | None:
        """A plan.nc (supply, period) variable summed per supply attribute (``supply_vendor``, ...)."""
        ds = self.plan
        if ds is None or var not in ds or group not in ds:
            return None
        da = ds[var]
        if set(da.dims) != {"supply", "period"}:
            return None
        frame = da.transpose("period", "supply").to_pandas()
        frame = frame.T.groupby(ds[group].to_pandas().astype(str)).sum().T
        frame.index = period_x(frame.index)
        frame.columns.name = None
        return frame

    def plan_frame(self, var: str, dim: str) -> pd.DataFrame | None:
        """A plan.nc (dim, period) variable as a period × dim frame."""
        ds = self.plan
        if ds is None or var not in ds or set(ds[var].dims) != {dim, "period"}:
            return None
        frame = ds[var].transpose("period", dim).to_pandas()
        frame.index = period_x(frame.index)
        frame.columns.name = None
        return frame

    # --- inputs ----------------------------------------------------------------------------------------

    @property
    def sources(self) -> dict[str, str]:
        """meta.sources: reference id → citation text (URL and date)."""
        src = (self.scenario.get("meta") or {}).get("sources") or {}
        return {str(k): str(v) for k, v in src.items()} if isinstance(src, dict) else {}

    def share_targets(self) -> pd.DataFrame | None:
        """tables/share_targets.csv (period, target, share, min_share, max_share, active)."""
        t = self.table("share_targets")
        if t is None or t.empty or "target" not in t:
            return None
        t = t.copy()
        t["x"] = period_x(t["period"])
        return t


def _read_table(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, index_col=0)
    if frame.index.name == "period":
        frame.index = frame.index.astype(str)
    if "period" in frame.columns:
        frame["period"] = frame["period"].astype(str)
    return frame


def run_label(summary: dict, path: Path) -> str:
    name = summary.get("scenario") or Path(path).name
    variant = summary.get("variant")
    return f"{name} ({variant})" if variant else str(name)


def load_run(path: str | Path) -> Run:
    """Read a run directory. Raises ScenarioError (exit 1) when it is missing, incomplete or unreadable."""
    import xarray as xr

    from gigawatt.duckarrays import defer_dask

    defer_dask()

    path = Path(path)
    if not path.exists():
        raise _run_error("run directory not found", path)
    if not path.is_dir():
        raise _run_error("not a directory", path)
    sfile = path / "summary.json"
    if not sfile.is_file():
        raise _run_error("no summary.json in the run directory", path)
    try:
        summary = json.loads(sfile.read_text())
    except (OSError, ValueError) as exc:
        raise _run_error("summary.json is not valid JSON", sfile, value=str(exc),
                         fix="solve the scenario again to rewrite the run") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("years"), dict):
        raise _run_error("summary.json has no per-year section ('years')", sfile,
                         fix="solve the scenario again with this version of gigawatt")
    summary = upgrade_summary(summary)
    nc = path / "plan.nc"
    if not nc.is_file():
        raise _run_error("no plan.nc in the run directory", path)
    try:
        plan = xr.load_dataset(nc, engine="h5netcdf")
    except Exception as exc:  # h5py raises OSError, ValueError and more for a damaged file
        raise _run_error("plan.nc cannot be read", nc, value=f"{type(exc).__name__}: {exc}",
                         fix="solve the scenario again to rewrite the run") from None
    tdir = path / "tables"
    tables = {}
    if tdir.is_dir():
        for f in sorted(tdir.glob("*.csv")):
            try:
                tables[f.stem] = _read_table(f)
            except (OSError, ValueError, pd.errors.ParserError) as exc:
                raise _run_error("a table cannot be read", f, value=str(exc)) from None
    scenario_text = None
    yfile = path / "scenario.resolved.yaml"
    if yfile.is_file():
        scenario_text = yfile.read_text()
    elif isinstance(plan.attrs.get("scenario_yaml"), str):
        scenario_text = plan.attrs["scenario_yaml"]
    try:
        scenario = (yaml.safe_load(scenario_text) if scenario_text else {}) or {}
    except yaml.YAMLError as exc:
        raise _run_error("scenario.resolved.yaml is not valid YAML", yfile, value=str(exc).splitlines()[0]) from None
    risk, paths = None, None
    rfile = path / "risk.json"
    if rfile.is_file():
        try:
            risk = json.loads(rfile.read_text())
        except (OSError, ValueError) as exc:
            raise _run_error("risk.json is not valid JSON", rfile, value=str(exc),
                             fix="simulate again: gigawatt simulate DIR") from None
        pfile = path / "risk_paths.parquet"
        if pfile.is_file():
            try:
                paths = pd.read_parquet(pfile)
            except Exception as exc:  # pyarrow's errors are many
                raise _run_error("risk_paths.parquet cannot be read", pfile, value=str(exc),
                                 fix="simulate again: gigawatt simulate DIR") from None
    if isinstance(risk, dict):
        risk, paths = upgrade_risk(risk, paths)
    attrs = {k: v for k, v in plan.attrs.items() if k != "scenario_yaml"}
    return Run(path=path, summary=summary, scenario=scenario if isinstance(scenario, dict) else {}, attrs=attrs,
               tables=tables, plan=plan, risk=risk, risk_paths=paths, label=run_label(summary, path))


__all__ = ["Run", "load_run", "period_x", "usd", "run_label", "FINANCE_KEYS", "upgrade_summary", "upgrade_risk"]
