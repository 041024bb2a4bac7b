"""Write a solved plan to a run directory: summary.json, plan.nc, CSV tables. Atomic: all or nothing.

summary.json is a contract for scripts: units are in the key names, periods are years; its JSON Schema is
docs/schemas/summary.schema.json (``schema_version``), the names of money over time those of docs/glossary.md.
"""

from __future__ import annotations

import json
import math
import platform
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.fmt import without_negative_zero
from gigawatt.plan import Plan, compute_spending_pv_usd, first_positive_year
from gigawatt.planfile import from_file, to_file

SUMMARY_VERSION = 2  # 2: the glossary's names (docs/files.md lists the keys renamed from 1)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("gigawatt", "linopy", "highspy", "xarray", "pandas", "numpy", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _clean(x: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to null."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return None if not math.isfinite(float(x)) else float(x) + 0.0  # + 0.0: no -0.0 in the JSON
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _by_year(frame: pd.DataFrame | pd.Series, how: str) -> pd.DataFrame | pd.Series:
    """Periods → years: flows summed, stocks at the year's last period."""
    years = [int(str(p)[:4]) for p in frame.index]
    grouped = frame.groupby(years)
    return grouped.sum() if how == "sum" else grouped.last()


def _is_stock(finance: xr.Dataset, name: str) -> bool:
    """Stocks (cash, cumulative figures, book value) are read at a year's last period; flows are summed."""
    kind = finance[name].attrs.get("kind")
    return kind == "stock" if kind else (name.startswith("cumulative") or name == "cash_usd")


# the per-year finance lines summary.json carries (docs/glossary.md names them)
YEAR_FINANCE_KEYS = ("revenue_usd", "free_cash_flow_usd", "financing_usd", "cash_flow_after_financing_usd",
                     "cumulative_free_cash_flow_usd", "cash_usd", "ebitda_usd", "operating_income_usd",
                     "funding_usd", "vendor_equity_usd", "capex_usd", "depreciation_usd", "compute_cost_usd",
                     "compute_cost_training_usd", "compute_cost_inference_usd", "compute_cost_research_usd")


def finance_frame(finance: xr.Dataset) -> pd.DataFrame:
    """The finance lines over period only, one column each (periods as the index)."""
    names = [n for n, v in finance.data_vars.items() if v.dims == ("period",)]
    return finance[names].to_dataframe()[names]


def inference_overtakes(kinds: pd.DataFrame) -> tuple[int | None, int | None]:
    """(the year from which inference costs more than training in every later year, the first year it
    does): yearly cost by workload kind; (None, None) where the plan has no such kinds or it never does."""
    if "inference" not in kinds or "training" not in kinds or kinds.empty:
        return None, None
    above = (kinds["inference"] > kinds["training"]).to_numpy()
    if not above.any():
        return None, None
    first = int(kinds.index[above.argmax()])
    # the last year it is not above; it stays above from the year after (None if the last year is not above)
    below = np.flatnonzero(~above)
    stays = int(kinds.index[0]) if not len(below) else (int(kinds.index[below[-1] + 1]) if below[-1] + 1 < len(above)
                                                        else None)
    return stays, first


def _idle_by_year(plan: Plan) -> pd.DataFrame | None:
    """Idle capacity per year: fractions weighted by chip-hours (power-hours), cost summed (USD)."""
    ds = plan.ds
    if "idle_fraction" not in ds:
        return None
    hours = ds["hours"].to_pandas()
    chips_h = ds["chips"].sum("supply").to_pandas() * hours
    power_h = ds["power_mw"].sum("supply").to_pandas() * hours
    frame = pd.DataFrame({"idle_ch": ds["idle_fraction"].to_pandas() * chips_h, "ch": chips_h,
                          "idle_ph": ds["idle_power_fraction"].to_pandas() * power_h, "ph": power_h,
                          "cost": ds["cost_idle_usd"].to_pandas(),
                          "fleet": ds["cost_economic_usd"].sum("supply").to_pandas()})
    y = _by_year(frame, "sum")

    def frac(a, b):
        return (y[a] / y[b].where(y[b] > 0)).fillna(0.0)

    return pd.DataFrame({"capacity_fraction": frac("idle_ch", "ch"), "power_fraction": frac("idle_ph", "ph"),
                         "cost_usd": y["cost"], "cost_fraction": frac("cost", "fleet")})


def summary(plan: Plan, finance: xr.Dataset | None = None, *, scenario_name: str = "", variant: str | None = None,
            commitments_usd_total: float | None = None) -> dict:
    """The summary.json dict: headline figures per year and for the whole horizon."""
    st = plan.stats
    fin_y = _finance_by_year(finance)
    years, cost_kind, demand, unmet = _years(plan, fin_y)
    inf_year, inf_first, first_pos = _first_years(cost_kind, fin_y)
    idle_y = _idle_by_year(plan)
    binding = st.binding(top=15)
    out = {
        "schema_version": SUMMARY_VERSION,
        "status": plan.status,
        "scenario": scenario_name,
        "variant": variant,
        # the LP's objective: compute costs net of salvage value (+ unmet-demand penalties), present value
        "net_present_cost_usd": plan.objective_usd,
        # cash compute spending, present value, no salvage credit: what `simulate` measures draws against
        "compute_spending_pv_usd": compute_spending_pv_usd(plan.ds),
        "periods": plan.periods,
        "years": years,
        "commitments_usd_total": commitments_usd_total,
        "first_free_cash_flow_positive_year": first_pos,
        "inference_exceeds_training_year": inf_year,
        "inference_first_exceeds_training_year": inf_first,
        "idle_capacity_fraction_max": float(idle_y["capacity_fraction"].max()) if idle_y is not None and len(idle_y) else None,
        "idle_cost_usd_total": float(idle_y["cost_usd"].sum()) if idle_y is not None and len(idle_y) else None,
        "unmet_demand_fraction_total": float(unmet.sum() / demand.sum()) if demand.sum() > 0 else 0.0,
        # value_usd: in the period's money; pv_usd: present value; confirmed: saving checked by a re-solve
        "binding_constraints": binding.reindex(columns=["constraint", "period", "relaxation", "unit", "value_usd",
                                                        "pv_usd", "confirmed", "entries"]).to_dict("records"),
        "timings_s": {k: plan.ds.attrs.get(k) for k in ("build_seconds", "solve_seconds", "highs_run_seconds",
                                                        "extract_seconds")},
        "model": {"variables": plan.ds.attrs.get("n_variables"), "constraints": plan.ds.attrs.get("n_constraints"),
                  "method": plan.ds.attrs.get("method")},
    }
    if finance is not None:
        for key in ("min_cash_usd", "funding_gap_usd", "min_cash_year", "cash_floor_usd"):
            if key in finance.attrs:
                out[key] = finance.attrs[key]
    return _clean(out)


def _finance_by_year(finance: xr.Dataset | None) -> pd.DataFrame | None:
    """The finance lines per calendar year: flows summed, stocks at the year's end."""
    if finance is None:
        return None
    fin = finance_frame(finance)
    stocks = [c for c in fin.columns if _is_stock(finance, c)]
    fin_y = _by_year(fin[[c for c in fin.columns if c not in stocks]], "sum")
    for c in stocks:
        fin_y[c] = _by_year(fin[c], "last")
    return fin_y


def _years(plan: Plan, fin_y: pd.DataFrame | None) -> tuple[dict, pd.DataFrame, pd.Series, pd.Series]:
    """summary.json's ``years``: one entry per calendar year; also the yearly cost by workload kind, demand
    and unmet demand the horizon's figures are drawn from."""
    st = plan.stats
    power = _by_year(st.power_gw(), "last")
    chips = _by_year(st.capacity("provider", "chips").sum(axis=1), "last")

    def yearly_share(frame: pd.DataFrame, how: str) -> pd.DataFrame:
        y = _by_year(frame, how)
        return y.div(y.sum(axis=1).where(lambda s: s > 0), axis=0).fillna(0.0)

    # shares on three bases: attributed compute and spend summed over the year, power at its end
    shares = {(by, basis): yearly_share(frame, how) for by in ("provider", "vendor")
              for basis, frame, how in (("compute", st.delivered(by), "sum"), ("power", st.capacity(by, "mw"), "last"),
                                        ("spend", st.spend(by), "sum"))}
    idle_y = _idle_by_year(plan)
    cost_cat = _by_year(st.cost("category"), "sum")
    cost_wl = _by_year(st.cost("workload"), "sum")
    cost_kind = _by_year(st.cost("kind"), "sum")
    demand = _by_year(plan.ds["demand_h100e_hours"].sum("workload").to_pandas(), "sum")
    unmet = _by_year(plan.ds["unmet_h100e_hours"].sum("workload").to_pandas(), "sum")
    mc = st.marginal_cost()
    dem_w = plan.ds["demand_h100e_hours"].transpose("period", "workload").to_pandas()
    mc_year = (_by_year(mc * dem_w, "sum") / _by_year(dem_w, "sum").where(lambda d: d > 0)) if not mc.empty else None
    years = {}
    for y in power.index:
        cats = cost_cat.loc[y]
        entry = {
            "power_gw": power.loc[y],
            "chips": chips.loc[y],
            "share_by_provider": shares["provider", "compute"].loc[y].to_dict(),
            "share_by_vendor": shares["vendor", "compute"].loc[y].to_dict(),
            "share_by_provider_power": shares["provider", "power"].loc[y].to_dict(),
            "share_by_vendor_power": shares["vendor", "power"].loc[y].to_dict(),
            "share_by_provider_spend": shares["provider", "spend"].loc[y].to_dict(),
            "share_by_vendor_spend": shares["vendor", "spend"].loc[y].to_dict(),
            **({f"idle_{k}": idle_y.loc[y, k] for k in idle_y.columns} if idle_y is not None else {}),
            "cost_usd_by_category": {
                "capex": cats.get("capex_chips", 0.0) + cats.get("capex_sites", 0.0),
                "lease": cats.get("lease", 0.0) + cats.get("contract", 0.0),
                "energy": cats.get("energy", 0.0),
                "other": float(fin_y.loc[y, "other_costs_usd"]) if fin_y is not None and "other_costs_usd" in fin_y else None,
                "capex_chips": cats.get("capex_chips", 0.0),
                "capex_sites": cats.get("capex_sites", 0.0),
                "lease_on_demand": cats.get("lease", 0.0),
                "contracts": cats.get("contract", 0.0),
            },
            "cost_usd_by_workload": cost_wl.loc[y].to_dict(),
            "cost_usd_by_workload_kind": cost_kind.loc[y].to_dict(),
            "demand_h100e_hours": demand.loc[y],
            "unmet_demand_fraction": (unmet.loc[y] / demand.loc[y]) if demand.loc[y] > 0 else 0.0,
            "marginal_cost_usd_per_h100_hour": mc_year.loc[y].to_dict() if mc_year is not None else {},
            **dict.fromkeys(YEAR_FINANCE_KEYS),
        }
        if fin_y is not None:
            for key in YEAR_FINANCE_KEYS:
                if key in fin_y:
                    entry[key] = fin_y.loc[y, key]
        years[str(y)] = entry
    return years, cost_kind, demand, unmet


def _first_years(cost_kind: pd.DataFrame, fin_y: pd.DataFrame | None) -> tuple[int | None, int | None, int | None]:
    """The year from which inference costs more than training, the first year it does, and the first
    year free cash flow (before financing: a funding round is not a positive year) is positive."""
    inf_year, inf_first = inference_overtakes(cost_kind)
    first_pos = None
    if fin_y is not None and "free_cash_flow_usd" in fin_y:
        first_pos = first_positive_year(fin_y["free_cash_flow_usd"])
    return inf_year, inf_first, first_pos


def tables(plan: Plan, finance: xr.Dataset | None = None) -> dict[str, pd.DataFrame]:
    """The CSV tables of a run, by file stem."""
    st = plan.stats
    t = {
        "capacity_chips_by_provider": st.capacity("provider", "chips"),
        "capacity_chips_by_vendor": st.capacity("vendor", "chips"),
        "capacity_chips_by_accelerator": st.capacity("accelerator", "chips"),
        "capacity_mw_by_provider": st.capacity("provider", "mw"),
        "capacity_chips_by_supply": st.capacity("supply", "chips"),
        "delivered_h100e_hours_by_provider": st.delivered("provider"),
        "share_by_provider": st.shares("provider"),
        "share_by_vendor": st.shares("vendor"),
        "share_by_provider_power": st.shares("provider", "power"),
        "share_by_vendor_power": st.shares("vendor", "power"),
        "share_by_provider_spend": st.shares("provider", "spend"),
        "share_by_vendor_spend": st.shares("vendor", "spend"),
        "idle_capacity": st.idle(),
        "cost_usd_by_category": st.cost("category"),
        "cost_usd_by_workload": st.cost("workload"),
        "unmet_fraction": st.unmet(),
        "marginal_cost_usd_per_h100_hour": st.marginal_cost(),
        "binding_constraints": st.binding(),
        "share_targets": st.targets(),
    }
    if "site_power_mw" in plan.ds:
        t["site_power_mw"] = plan.ds["site_power_mw"].transpose("period", "site").to_pandas()
    if finance is not None:
        t["finance"] = finance_frame(finance)
        for name in ("revenue_by_workload_usd", "compute_cost_by_workload_usd"):
            if name in finance:
                t[f"finance_{name}"] = finance[name].transpose("period", "workload").to_pandas()
    return t


def write_run(plan: Plan, out_dir: Path, *, resolved_yaml: str, finance: xr.Dataset | None = None,
              scenario_name: str = "", variant: str | None = None, commitments_usd_total: float | None = None,
              extra_attrs: dict | None = None, overwrite: bool = False) -> dict:
    """Write the run atomically (a temporary directory renamed into place); return summary.json's dict.

    See :func:`write_run_dir` for which ``out_dir`` may be written and what ``overwrite`` does."""
    summ, _ = write_run_dir(plan, out_dir, resolved_yaml=resolved_yaml, finance=finance, scenario_name=scenario_name,
                            variant=variant, commitments_usd_total=commitments_usd_total, extra_attrs=extra_attrs,
                            overwrite=overwrite)
    return summ


def write_run_dir(plan: Plan, out_dir: Path, *, resolved_yaml: str, finance: xr.Dataset | None = None,
                  scenario_name: str = "", variant: str | None = None, commitments_usd_total: float | None = None,
                  extra_attrs: dict | None = None, overwrite: bool = False,
                  extra_tables: dict[str, pd.DataFrame] | None = None, extra_summary: dict | None = None):
    """Write the run directory all at once; return (summary.json's dict, what was written).

    ``extra_tables``: more CSV tables by file stem, computed by a room this one may not import (exposure,
    the hedge's futures); ``extra_summary``: more top-level keys of summary.json (the hedge's `stochastic`).

    ``out_dir`` must be new, empty, or a run directory gigawatt wrote; replacing a run needs ``overwrite``,
    and the replaced run is kept in ``out_dir/previous/`` (gigawatt.rundir). Raises ScenarioError otherwise."""
    from gigawatt.rundir import check_target, replace_run_dir

    check_target(Path(out_dir), kind="solve", overwrite=overwrite)
    summ = summary(plan, finance, scenario_name=scenario_name, variant=variant,
                   commitments_usd_total=commitments_usd_total)
    clash = set(extra_summary or {}) & set(summ)
    if clash:
        raise ValueError(f"extra_summary would replace summary.json's own keys: {sorted(clash)}")
    summ.update(_clean(extra_summary or {}))  # numpy scalars to Python, NaN/inf to null (JSON has neither)
    ds = plan.ds.copy()
    ds.attrs.update({"scenario_yaml": resolved_yaml, "versions": json.dumps(versions()),
                     "scenario_name": scenario_name, "variant": variant or "", **(extra_attrs or {})})
    if finance is not None:
        for name, da in finance.data_vars.items():
            ds[f"finance_{name}"] = da
        ds.attrs["finance_attrs"] = json.dumps(_clean(dict(finance.attrs)))
    ds.attrs = {k: (json.dumps(_clean(v)) if isinstance(v, (dict, list)) else v) for k, v in ds.attrs.items()
                if v is not None}
    ds = to_file(ds)  # units on every variable, duals in user units, period_start (gigawatt.planfile)
    with replace_run_dir(Path(out_dir), kind="solve", overwrite=overwrite) as (tmp, written):
        (tmp / "summary.json").write_text(json.dumps(summ, indent=2, allow_nan=False) + "\n")
        (tmp / "scenario.resolved.yaml").write_text(resolved_yaml)
        with warnings.catch_warnings():  # bools and variable-length strings: h5netcdf says so, xarray reads them
            warnings.filterwarnings("ignore", message=".*invalid netcdf features.*")
            ds.to_netcdf(tmp / "plan.nc", engine="h5netcdf", invalid_netcdf=True)
        tdir = tmp / "tables"
        tdir.mkdir()
        for stem, frame in {**tables(plan, finance), **(extra_tables or {})}.items():
            without_negative_zero(frame).to_csv(tdir / f"{stem}.csv")
    return summ, written


def read_plan(run_dir: Path) -> Plan:
    """A Plan read back from DIR/plan.nc (no portfolio attached), in memory as it was solved."""
    ds = xr.load_dataset(Path(run_dir) / "plan.nc", engine="h5netcdf")
    return Plan(from_file(ds), None)
