"""The CLI's edges (issue 14 item 6): reference errors beside schema errors, --set in the solve title and the
runs catalog, the catalog's source tags resolved to citations, `runs list` at 80 columns."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT
from rich.console import Console
from typer.testing import CliRunner

from gigawatt.cli import app
from gigawatt.scenario.load import read
from gigawatt.scenario.references import reference_problems

runner = CliRunner()


def _broken(tmp_path):
    text = (ROOT / "examples" / "minimal.yaml").read_text()
    for old, new in (("build_cost: 11.7 million USD/MW", "build_cost: 4 GW"),          # schema: wrong dimension
                     ("accelerators: [gb200]", "accelerators: [gb2000]"),               # reference: accelerator
                     ("counterparty: cloudco", "counterparty: cloudcoo"),               # reference: provider
                     ("sites: [texas]", "sites: [texsa]")):                             # reference: site
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    return path


def test_validate_reports_unknown_names_with_schema_errors_in_one_run(tmp_path):
    r = runner.invoke(app, ["validate", str(_broken(tmp_path))])
    assert r.exit_code == 1, r.output
    text = " ".join(r.output.split())
    assert "sites.texas.build_cost" in text and "'4 GW'" in text
    assert "unknown accelerator 'gb2000'" in text and "Did you mean 'gb200'" in text
    assert "unknown provider 'cloudcoo'" in text and "contracts.cloudco_reserved.counterparty" in text
    assert "unknown site 'texsa'" in text and "providers.lab.sites" in text
    assert "broken.yaml:" in text  # with file:line
    assert "4 problems" in text


@pytest.mark.parametrize("path", ["examples/minimal.yaml", "scenarios/openai.yaml"])
def test_reference_check_finds_nothing_in_valid_scenarios(path):
    assert reference_problems(read(ROOT / path)) == []


def test_a_reference_at_a_key_with_a_schema_error_is_reported_once(tmp_path):
    res = read(_broken(tmp_path))
    paths = [p.path for p in reference_problems(res, {("sites", "texas", "accelerators")})]
    assert "sites.texas.accelerators" not in paths and "contracts.cloudco_reserved.counterparty" in paths


@pytest.mark.slow
def test_solve_title_names_the_set_values_and_the_catalog_keeps_them(tmp_path):
    out = tmp_path / "run"
    sets = ["horizon.discount_rate=10%", "finance.starting_cash=5 billion USD"]
    args = ["solve", str(ROOT / "examples" / "minimal.yaml"), "--out", str(out)]
    for s in sets:
        args += ["--set", s]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    title = " ".join(r.output.split("optimal")[0].split())
    assert "--set horizon.discount_rate=10%, finance.starting_cash=5 billion USD" in title
    r = runner.invoke(app, ["runs", "list", "--json"])
    rows = [x for x in json.loads(r.output) if x["path"] == str(out.resolve())]
    assert len(rows) == 1 and rows[0]["sets"] == sets
    shown = runner.invoke(app, ["runs", "show", rows[0]["id"]])
    assert "horizon.discount_rate=10%" in shown.output


def test_a_catalog_from_before_the_set_column_gains_it(tmp_path):
    import duckdb

    from gigawatt.runs import RunsCatalog

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE runs (id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, path VARCHAR NOT NULL, "
                "scenario VARCHAR, variant VARCHAR, inputs_hash VARCHAR, status VARCHAR, objective_usd DOUBLE, "
                "timings_json VARCHAR, versions_json VARCHAR, created_at TIMESTAMP NOT NULL)")
    con.execute("INSERT INTO runs VALUES ('old', 'solve', ?, 's', NULL, 'h', 'optimal', 1.0, '{}', '{}', now())",
                [str(tmp_path)])
    con.close()
    cat = RunsCatalog(db)
    cat.register(kind="solve", path=tmp_path, scenario="s", variant=None, inputs_hash="h", status="optimal",
                 sets=["a.b=1"])
    got = {r["id"]: r["sets"] for r in cat.list()}
    assert got.pop("old") == [] and list(got.values()) == [["a.b=1"]]


def _runs(n=3):
    return [{"id": f"20261203-1127{i:02d}-2c969{i}", "kind": "simulate" if i % 2 else "solve",
             "scenario": "openai-reference", "variant": "nvidia_loi" if i == 1 else None,
             "sets": ["horizon.discount_rate=10%"] if i == 2 else [], "status": "optimal", "objective_usd": 7.13e11,
             "created_at": "2026-12-03 11:27:00", "path": f"/srv/projects/gigawatt/runs/openai-{i}-with-a-long-name",
             "exists": i != 0} for i in range(n)]


def test_runs_list_reads_at_80_columns():
    from gigawatt.commands.runs import runs_table

    console = Console(width=80, record=True, color_system=None)
    console.print(runs_table(_runs(), "/tmp/catalog/runs.duckdb", width=80))
    lines = console.export_text().splitlines()
    assert max(map(len, lines)) <= 80
    text = "\n".join(lines)
    for r in _runs():
        assert r["id"] in text  # ids whole, on one line: they are what `runs show`/`rm` take
    for header in ("id", "kind", "scenario", "status", "objective", "path"):
        assert header in lines[1].split()
    assert "+1 --set" in text and "missing:" in text and "$713B" in text
    assert sum("openai-reference" in line for line in lines) == 3  # names whole, not cut mid-word


def test_runs_list_wide_shows_the_set_values_and_creation_time():
    from gigawatt.commands.runs import runs_table

    console = Console(width=160, record=True, color_system=None)
    console.print(runs_table(_runs(), "/tmp/catalog/runs.duckdb", width=160))
    text = console.export_text()
    assert "horizon.discount_rate=10%" in text and "2026-12-03 11:27:00" in text


def test_catalog_sources_resolves_every_tag_to_its_citation():
    from gigawatt.catalog import load_references, load_sources

    refs = load_references().set_index("tag")["citation"]
    from gigawatt.commands.catalog import show_catalog

    console = Console(width=400, record=True, color_system=None)
    show_catalog(accelerator=None, fmt="table", sources=True, console=console)
    output = console.export_text()
    used = {t.strip() for cell in load_sources()["source"].dropna() for t in str(cell).split(";") if t.strip()}
    assert used and used <= set(refs.index), used - set(refs.index)
    cited = output.split("citations (source tags)")[1]
    for tag in used:
        assert f" {tag} " in cited and refs[tag][:40] in cited, tag
    js = runner.invoke(app, ["catalog", "--sources", "--format", "json", "--accelerator", "h100"])
    rec = json.loads(js.output)[0]
    first = next(iter(rec["sources"].values()))
    assert first["citations"] and all(refs[t] == c for t, c in first["citations"].items())
