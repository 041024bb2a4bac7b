"""The hedged section of docs/reference-openai.md (scripts/reference_hedge.py): the text is what its values
block gives, the values are what the runs hold, and the section composes with scripts/reference_table.py."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from helpers import scenario_text

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reference-openai.md"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


rh = _script("reference_hedge")
rt = _script("reference_table")


def test_doc_section_is_what_its_values_give():
    """Editing a number (or a sentence) of the section by hand, instead of rerunning the script, fails here."""
    section = rh.section_of(DOC.read_text())
    assert section is not None, "docs/reference-openai.md has no hedged section: run scripts/reference_hedge.py"
    assert rh.render(rh.figures_of(section)) == section, "the hedged section is not what its values block " \
                                                          "gives: rerun scripts/reference_hedge.py"


def test_doc_section_agrees_with_the_deterministic_reference():
    """The section's deterministic plan is the reference table's `default` run: same net present cost and
    commitments (a rerun of one script without the other fails here)."""
    text = DOC.read_text()
    f = rh.figures_of(rh.section_of(text))
    d = f["deterministic"]
    assert re.search(rf"^\| `default` \| \(none\) \| optimal \| {re.escape(rt.usd(d['net_present_cost_usd']))} \|$",
                     rt.own_part(text), flags=re.M)
    values = rt.doc_values(rt.own_part(text))
    if "default:commitments_usd_total" in values:
        assert d["commitments_usd_total"] == pytest.approx(values["default:commitments_usd_total"], rel=1e-9)
    s = f["settings"]
    assert f["neutral"]["stochastic"]["futures"] == s["futures"] and f["neutral"]["stochastic"]["seed"] == s["seed"]
    assert f["averse"]["stochastic"]["cvar_weight"] == s["cvar_weight"]


def test_the_two_scripts_keep_each_others_part():
    own = "# doc\n\ntext of reference_table\n"
    fake = {"x": 1}
    section = rh.BEGIN + "\n## hedged\n" + json.dumps(fake) + "\n" + rh.END
    doc = rh.splice(own, section)
    assert rt.own_part(doc) == own and rt.other_sections(doc) == section
    newer = section.replace("## hedged", "## hedged again")
    assert rh.splice(doc, newer) == own + newer  # replaced, not appended twice
    assert rh.section_of(rt.own_part(doc) + rt.other_sections(doc)) == section  # what reference_table writes back


BODY = """
    providers:
      lab: {kind: owned, sites: [dc]}
    sites:
      dc: {power_max: 100 MW, build_cost: 1000000 USD/MW, energy_price: 50 USD/MWh, accelerators: [h100]}
    workloads:
      train: {kind: training, demand: 17520000 H100_hours}
    config: {solve: {unmet_penalty: 0.3 USD/H100_hour}}
    uncertainty:
      seed: 7
      drivers:
        d: {target: demand, distribution: lognormal, params: {mean: 0, sd: 0.3}, mode: yearly, source: "assumption: test"}
        r: {target: revenue, applies_to: [exogenous], distribution: normal, params: {mean: 1, sd: 0.1}}
      correlations: [{between: [d, r], rho: 0.5}]
    finance: {revenue: 1 billion USD}
"""


@pytest.mark.slow
def test_figures_are_the_runs_numbers(tmp_path):
    """Run the three plans of a small scenario as the script does; every figure read matches the runs."""
    src = tmp_path / "s.yaml"
    src.write_text(scenario_text(BODY))
    settings = {**rh.SETTINGS, "futures": 3, "out_of_sample": 40, "replications": 2, "upper_futures": 6}
    rh.run_all(tmp_path / "runs", settings, scenario=src)
    f = rh.extract(tmp_path / "runs", settings, scenario=src)
    runs = {p: json.loads((tmp_path / "runs" / p / "summary.json").read_text()) for p in rh.PLANS}
    for p in rh.PLANS:
        assert f[p]["net_present_cost_usd"] == runs[p]["net_present_cost_usd"]
    n = runs["neutral"]["stochastic"]
    assert f["neutral"]["stochastic"]["sp_usd"] == n["sp_usd"] and f["neutral"]["stochastic"]["futures"] == 3
    assert runs["averse"]["stochastic"]["cvar_alpha"] == settings["cvar_alpha"]
    # plan.nc's chips bought and site power (read by the script) are the commitments the hedge reports
    for key in ("chips_bought", "site_power_mw"):
        assert f["neutral"][key] == pytest.approx(n["commitments"]["hedged"][key], rel=1e-6, abs=1e-6)
    assert sum(f["neutral"]["chips_bought"].values()) > 0
    assert f["deterministic"]["capex_sites_usd"] > 0  # the site is built and paid for
    c = rh.comparable({**f, "contracts": f["contracts"]}, "neutral")
    assert c["total"] == pytest.approx(c["signed"] + c["orders"] - f["contracts"]["firm_supply_usd"])
    f["published"] = {"value": 1e9, "text": "t", "source": "s", "date": "d"}
    f["drivers"] = rh.drivers(tmp_path / "runs" / "deterministic" / "scenario.resolved.yaml")
    assert [d["name"] for d in f["drivers"]] == ["d", "r"] and f["drivers"][0]["source"] == "assumption: test"
    section = rh.render(f)
    assert rh.render(rh.figures_of(section)) == section
    assert "| WS (wait and see) | " + rh.usd(n["ws_usd"]) + " |" in section
