"""The Python API for notebooks: load a scenario, solve it to a Plan, write and read a run, simulate, report.

Every name here is re-exported by ``gigawatt`` (lazily, so ``import gigawatt`` stays cheap); docs/api.md
shows them in use and is run as a doctest by the test suite.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from gigawatt.plan import Plan as _BasePlan
from gigawatt.portfolio import Portfolio


class Plan(_BasePlan):
    """A solved plan with its finance: ``ds`` (xarray, canonical units), ``stats`` (pandas tables whose
    ``attrs["unit"]`` names their unit), ``finance`` (P&L and cash per period, or None), ``portfolio``."""

    def __init__(self, ds: xr.Dataset, portfolio: Portfolio | None = None, finance: xr.Dataset | None = None):
        super().__init__(ds, portfolio)
        self.finance = finance

    def __repr__(self) -> str:
        name = self.ds.attrs.get("scenario_name") or (self.portfolio.scenario.meta.name if self.portfolio else "")
        return (f"<gigawatt.Plan {name!s}: {self.status}, {len(self.periods)} periods "
                f"{self.periods[0]}–{self.periods[-1]}, objective {self.objective_usd / 1e9:,.1f} billion USD>")

    def summary(self) -> dict:
        """The summary.json document of this plan (units in key names; periods as years)."""
        from gigawatt.results import summary

        return summary(self, self.finance, **_names(self))

    def write(self, run_dir: str | Path, *, overwrite: bool = False) -> Path:
        """Write the run directory (summary.json, plan.nc, tables/, scenario.resolved.yaml) atomically, as
        ``gigawatt solve --out`` does; replacing a run needs ``overwrite`` (the old one goes to previous/)."""
        import yaml

        from gigawatt.errors import Problem, ScenarioError
        from gigawatt.results import write_run_dir

        if self.portfolio is None or self.portfolio.resolved is None:
            raise ScenarioError(Problem("this plan has no scenario to store with it", path="plan",
                                        expected="a plan from gigawatt.solve or gigawatt.read_run",
                                        fix="solve the scenario with gigawatt.solve, then write"), title="cannot write")
        text = yaml.safe_dump(self.portfolio.resolved.data, sort_keys=False, allow_unicode=True)
        additions = {}
        if self.finance is not None:  # what `gigawatt solve --out` adds to a run with finance
            from gigawatt.exposure import run_additions

            additions = run_additions(self, self.portfolio)
        write_run_dir(self, Path(run_dir), resolved_yaml=text, finance=self.finance, overwrite=overwrite,
                      **additions, **_names(self))
        return Path(run_dir)


def _names(plan: Plan) -> dict:
    if plan.portfolio is not None:
        name = plan.portfolio.scenario.meta.name
    else:
        name = str(plan.ds.attrs.get("scenario_name", ""))
    return {"scenario_name": name, "variant": plan.ds.attrs.get("variant") or None}


def load(path: str | Path, *, scenario: str | None = None, set: dict | list | None = None) -> Portfolio:
    """Read and validate a scenario YAML file into a :class:`Portfolio` (``.scenario``: the validated
    scenario; ``.resolved``: the merged YAML; tables per section). ``scenario`` picks a named variant;
    ``set`` overrides keys as ``--set`` does: ``{"horizon.discount_rate": "10%"}`` or ``["key=value"]``.
    Raises :class:`gigawatt.errors.ScenarioError` (every problem, with file:line) on bad input."""
    sets = [f"{k}={v}" for k, v in set.items()] if isinstance(set, dict) else list(set or [])
    portfolio = Portfolio.from_file(path, scenario=scenario, sets=sets)
    portfolio.variant = scenario  # what solve titles and stores the run with
    return portfolio


def solve(scenario: Portfolio | str | Path, *, allow_unmet: bool | None = None, method: str | None = None,
          time_limit: float | None = None) -> Plan:
    """Least-cost plan of a scenario (a :class:`Portfolio` from :func:`load`, or a YAML path) with its
    finance. Raises InfeasibleError (naming the constraints) when no plan meets the scenario."""
    from gigawatt.finance import compute
    from gigawatt.optimize import optimize

    portfolio = scenario if isinstance(scenario, Portfolio) else load(scenario)
    base = optimize(portfolio, allow_unmet=allow_unmet, method=method, time_limit=time_limit)
    plan = Plan(base.ds, portfolio)
    plan.ds.attrs["scenario_name"] = portfolio.scenario.meta.name
    plan.ds.attrs["variant"] = getattr(portfolio, "variant", None) or ""
    plan.finance = compute(plan, portfolio)
    return plan


def read_run(run_dir: str | Path) -> Plan:
    """The plan of a run directory (written by :meth:`Plan.write` or ``gigawatt solve --out``), with its
    portfolio rebuilt from the stored scenario and its finance as written."""
    import json

    from gigawatt.risk.io import load_run

    base, portfolio = load_run(run_dir)
    ds = base.ds
    fin_names = [n for n in ds.data_vars if str(n).startswith("finance_")]
    finance = None
    if fin_names:
        finance = ds[fin_names].rename({n: str(n)[len("finance_"):] for n in fin_names})
        finance.attrs = json.loads(ds.attrs.get("finance_attrs", "{}"))
        ds = ds.drop_vars(fin_names)
    return Plan(ds, portfolio, finance)


def simulate(plan: Plan | str | Path, *, draws: int | None = None, seed: int | None = None,
             out: str | Path | None = None):
    """Monte Carlo over a plan (or a run directory) with its commitments fixed: a RiskResult
    (``.to_dict()`` is risk.json). ``draws``/``seed`` default to the scenario's uncertainty section.
    ``out``: a run directory to write risk.json and risk_paths.parquet into (the plan's own run)."""
    from gigawatt.risk.simulate import simulate as _simulate

    if not isinstance(plan, _BasePlan):
        plan = read_run(plan)
    if plan.portfolio is None:
        raise ValueError("the plan has no portfolio: pass one from gigawatt.solve or gigawatt.read_run")
    if out is not None:
        from gigawatt.risk.io import check_results_dir

        check_results_dir(Path(out), Path(out))
    result = _simulate(plan, plan.portfolio, draws=draws, seed=seed)
    if out is not None:
        from gigawatt.risk.io import write_results

        write_results(result, Path(out), run_dir=Path(out))
    return result


def write_report(run_dir: str | Path, path: str | Path | None = None, *, published: str | Path | None = None) -> Path:
    """Write the HTML report of a run directory (default DIR/report.html); return its path. (Not named
    ``report``: ``gigawatt.report`` is the report package, and importing it would hide such a function.)"""
    from gigawatt.report import write_report as _write

    return _write(run_dir, path, published=published).path


__all__ = ["Plan", "load", "solve", "read_run", "simulate", "write_report"]
