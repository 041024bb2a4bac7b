"""The Python API (docs/api.md): its page runs as a doctest; its names are public, lazy and stable."""

from __future__ import annotations

import doctest
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT

import gigawatt


@pytest.mark.slow
def test_docs_api_md_runs_as_a_doctest(tmp_path, monkeypatch):
    """Every example in docs/api.md, from a folder holding a copy of examples/ (the page's runs/ goes there)."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "docs" / "api.md").read_text()
    test = doctest.DocTestParser().get_doctest(text, {}, "docs/api.md", str(ROOT / "docs" / "api.md"), 0)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=report.append)
    assert result.attempted > 20
    assert result.failed == 0, "".join(report)  # doctest's own account of each failed example
    assert (tmp_path / "runs" / "minimal" / "report.html").is_file()


def test_every_public_name_resolves_and_private_ones_do_not_leak():
    for name in gigawatt.__all__:
        assert getattr(gigawatt, name) is not None, name
        assert not name.startswith("_") or name == "__version__"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gigawatt.nope  # noqa: B018
    assert {"load", "solve", "read_run", "simulate", "write_report", "Plan"} <= set(dir(gigawatt))


def test_import_gigawatt_loads_nothing_heavy():
    code = ("import sys, gigawatt; heavy = [m for m in ('linopy', 'highspy', 'xarray', 'pandas', 'plotly', "
            "'numba', 'pydantic', 'gigawatt.api') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import gigawatt imported {out}"


def test_plan_write_refuses_a_plan_without_its_scenario(tmp_path, minimal_run):
    from gigawatt.plan import Plan as BasePlan
    from gigawatt.results import read_plan

    plan = gigawatt.Plan(read_plan(minimal_run).ds)
    assert isinstance(plan, BasePlan)
    with pytest.raises(gigawatt.ScenarioError, match="no scenario"):
        plan.write(tmp_path / "x")


def test_stats_tables_name_their_unit(minimal_run):
    plan = gigawatt.read_run(minimal_run)
    st = plan.stats
    units = {"capacity": st.capacity().attrs["unit"], "mw": st.capacity(unit="mw").attrs["unit"],
             "delivered": st.delivered().attrs["unit"], "spend": st.spend().attrs["unit"],
             "cost_workload": st.cost("workload").attrs["unit"], "unmet": st.unmet().attrs["unit"]}
    assert units == {"capacity": "chips", "mw": "MW", "delivered": "H100e-hours", "spend": "USD",
                     "cost_workload": "USD", "unmet": "fraction"}
    assert plan.finance is not None and "cash_usd" in plan.finance


def test_write_report_survives_the_report_package_being_imported():
    """``import gigawatt.report`` sets the attribute ``gigawatt.report`` to the package; the API's function
    must have another name, or a notebook that imported the package first gets a module, not a function."""
    import gigawatt
    import gigawatt.report  # noqa: F401

    assert callable(gigawatt.write_report)
