"""What `gigawatt solve` hands to users and scripts: summary.json's documented keys, the terminal headline,
--verbose, and the rule that a non-optimal status is never saved as if solved."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from helpers import ROOT, scenario_text

# DESIGN.md "Contracts for machines": summary.json holds at least these (units in the key names).
TOP_KEYS = {"status", "net_present_cost_usd", "compute_spending_pv_usd", "schema_version", "years",
            "commitments_usd_total", "first_free_cash_flow_positive_year",
            "inference_exceeds_training_year", "inference_first_exceeds_training_year", "idle_capacity_fraction_max",
            "idle_cost_usd_total"}
YEAR_KEYS = {"power_gw", "chips", "share_by_provider", "share_by_vendor", "cost_usd_by_category",
             "cost_usd_by_workload", "revenue_usd", "free_cash_flow_usd", "financing_usd",
             "cash_flow_after_financing_usd", "cumulative_free_cash_flow_usd", "cash_usd",
             "unmet_demand_fraction", "marginal_cost_usd_per_h100_hour", "share_by_provider_power",
             "share_by_vendor_power", "share_by_provider_spend", "share_by_vendor_spend", "idle_capacity_fraction",
             "idle_power_fraction", "idle_cost_usd", "idle_cost_fraction"}
CATEGORIES = {"capex", "lease", "energy", "other"}


def test_summary_has_the_documented_keys_with_consistent_values(minimal_run):
    s = json.loads((minimal_run / "summary.json").read_text())
    assert TOP_KEYS <= set(s) and s["status"] == "optimal"
    assert list(s["years"]) == [str(y) for y in range(2026, 2031)]  # examples/minimal.yaml's horizon
    tables = minimal_run / "tables"
    site_mw = pd.read_csv(tables / "site_power_mw.csv", index_col="period")
    for y, e in s["years"].items():
        assert YEAR_KEYS <= set(e), YEAR_KEYS - set(e)
        assert CATEGORIES <= set(e["cost_usd_by_category"])
        c = e["cost_usd_by_category"]
        assert c["capex"] == pytest.approx(c["capex_chips"] + c["capex_sites"])
        assert c["lease"] == pytest.approx(c["lease_on_demand"] + c["contracts"])
        for shares in (e[f"share_by_{by}{basis}"] for by in ("provider", "vendor")
                       for basis in ("", "_power", "_spend")):
            assert sum(shares.values()) == pytest.approx(1.0) and all(v >= -1e-9 for v in shares.values())
        assert set(e["marginal_cost_usd_per_h100_hour"]) == {"training", "inference"}
        assert 0.0 <= e["unmet_demand_fraction"] <= 1.0
        assert e["power_gw"] >= 0 and e["chips"] >= 0
    # power_gw is every chip's all-in power, owned and leased: the per-provider MW table summed
    mw = pd.read_csv(tables / "capacity_mw_by_provider.csv", index_col="period")
    for y, e in s["years"].items():
        assert e["power_gw"] == pytest.approx(mw.loc[int(y)].sum() / 1e3, rel=1e-9)
        assert e["power_gw"] * 1e3 >= site_mw.loc[int(y)].sum() - 1e-6  # owned chips fit their sites


def test_the_example_solves_as_the_readme_says(tmp_path):
    """The README's quick start is `gigawatt solve FILE --out DIR`: run it on the example as a user would."""
    from typer.testing import CliRunner

    from gigawatt.cli import app

    readme = (ROOT / "README.md").read_text()
    assert "gigawatt solve" in readme and "--out" in readme and "examples/minimal.yaml" in readme
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["solve", str(ROOT / "examples" / "minimal.yaml"), "--out", str(out),
                                      "--no-register"])
    assert result.exit_code == 0, result.output
    assert (out / "summary.json").exists() and (out / "plan.nc").exists() and (out / "tables").is_dir()
    assert "minimal-lab: optimal" in result.output


# the headline table -------------------------------------------------------------------------------------------


def _headline(summary: dict, out_dir: Path, width: int) -> str:
    from gigawatt.commands.solve import print_headline

    import io

    console = Console(width=width, file=io.StringIO(), record=True, force_terminal=False, color_system=None)
    print_headline(summary, out_dir, console)
    return console.export_text()


@pytest.mark.parametrize("width", [80, 160])
def test_headline_is_readable_at_80_and_160_columns(minimal_run, width):
    s = json.loads((minimal_run / "summary.json").read_text())
    text = _headline(s, minimal_run, width)
    table = text.split("\n  lease includes")[0]
    assert "…" not in table, table  # nothing truncated
    for y in s["years"]:
        rows = [line for line in table.splitlines() if line.startswith(y)]
        assert len(rows) == 1, table  # one line per year, no wrapped cells
        assert len(rows[0]) <= width
    assert "-0.00" not in text and "-$0" not in text


def test_headline_marginal_cost_is_one_cell_and_noise_is_clipped(minimal_run):
    s = json.loads((minimal_run / "summary.json").read_text())
    y = next(iter(s["years"]))
    s["years"][y]["marginal_cost_usd_per_h100_hour"] = {"training": -1e-9, "inference": 1e-10}
    s["years"][y]["cost_usd_by_category"]["energy"] = -1e-7
    for e in s["years"].values():
        for k in ("free_cash_flow_usd", "financing_usd", "cash_flow_after_financing_usd",
                  "cumulative_free_cash_flow_usd", "cash_usd"):
            e[k] = None
    text = _headline(s, minimal_run, 80)
    row = next(line for line in text.splitlines() if line.startswith(y))
    assert "0.00" in row.split() and "-0.00" not in row and "-$0" not in row
    assert "free cash flow not computed" in text  # finance absent: said, not shown as 'none'


def test_headline_shows_idle_capacity_within_80_columns(tmp_path):
    """Idle paid-for capacity is a headline fact (share of chips and its cost per year), not a CSV to find."""
    from typer.testing import CliRunner

    from gigawatt.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(scenario_text("""
        providers:
          aws: {kind: cloud, offers: {h100: {on_demand_price: 9 USD/h}}}
        contracts:
          reserved: {counterparty: aws, kind: capacity, accelerator: h100, start: 2025, term: 3 years,
                     chips: 100, price: 2 USD/h, source: test}
        workloads:
          chat: {kind: inference, demand: {2025: 438000 H100_hours, 2026: 876000 H100_hours, 2027: 876000 H100_hours}}
    """))
    result = CliRunner().invoke(app, ["solve", str(path), "--out", str(tmp_path / "run"), "--no-register"],
                                env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "idle paid-for capacity (chips, cost): 2025 50% $876k" in result.output
    assert "2026" not in result.output.split("idle paid-for capacity")[1].split("\n")[0]
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert s["years"]["2025"]["idle_capacity_fraction"] == pytest.approx(0.5)
    assert s["years"]["2025"]["idle_cost_usd"] == pytest.approx(100 * 2 * 8760 / 2)
    assert s["idle_cost_usd_total"] == pytest.approx(100 * 2 * 8760 / 2)
    assert all(len(line) <= 80 for line in result.output.splitlines())


def test_headline_reports_what_was_not_served(tmp_path):
    from typer.testing import CliRunner

    from gigawatt.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(scenario_text("""
        providers:
          lab: {kind: owned, sites: [slow]}
        sites:
          slow: {power_max: 10 MW, build_cost: 1 million USD/MW, lead_time: 24 months,
                 energy_price: 0 USD/MWh, accelerators: [h100]}
        workloads:
          train: {kind: training, demand: 876000 H100_hours}
    """))
    result = CliRunner().invoke(app, ["solve", str(path), "--out", str(tmp_path / "run"), "--no-register",
                                      "--allow-unmet"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "not served: 66.7% of demand: train 100% in 2025, train 100% in 2026" in result.output
    assert "train 100% in 2027" not in result.output


# solver log and status -------------------------------------------------------------------------------------------

_SOLVE = """
import sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from helpers import build_test_portfolio
from gigawatt.optimize import optimize
optimize(build_test_portfolio(Path({tmp!r}), '''
providers:
  aws: {{kind: cloud, offers: {{h100: {{on_demand_price: 2 USD/h}}}}}}
workloads:
  chat: {{kind: inference, demand: 1000000 H100_hours}}
'''), verbose={verbose})
"""


def _solve_in_a_fresh_process(tmp_path, verbose: bool) -> str:
    """HiGHS prints its banner once per process, so each check needs a process of its own."""
    (tmp_path / str(verbose)).mkdir()
    code = _SOLVE.format(tests=str(ROOT / "tests"), tmp=str(tmp_path / str(verbose)), verbose=verbose)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_verbose_shows_the_highs_log(tmp_path):
    assert "HiGHS" in _solve_in_a_fresh_process(tmp_path, True)


def test_without_verbose_the_solver_is_silent(tmp_path):
    assert "HiGHS" not in _solve_in_a_fresh_process(tmp_path, False)


def test_a_non_optimal_status_exits_2_and_writes_nothing(tmp_path, monkeypatch):
    import linopy
    from typer.testing import CliRunner

    from gigawatt.cli import app

    monkeypatch.setattr(linopy.Model, "solve", lambda self, *a, **k: ("warning", "time_limit"))
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["solve", str(ROOT / "examples" / "minimal.yaml"), "--out", str(out),
                                      "--no-register"])
    assert not out.exists()  # this part holds today: nothing is saved as if solved
    assert "time_limit" in result.output and "Traceback" not in result.output
    assert result.exit_code == 2


def test_a_non_optimal_status_is_never_saved(tmp_path, monkeypatch):
    import linopy
    from typer.testing import CliRunner

    from gigawatt.cli import app

    monkeypatch.setattr(linopy.Model, "solve", lambda self, *a, **k: ("warning", "time_limit"))
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["solve", str(ROOT / "examples" / "minimal.yaml"), "--out", str(out),
                                      "--no-register"])
    assert result.exit_code != 0 and not out.exists()
    assert "nothing was saved" in result.output and "Traceback" not in result.output
