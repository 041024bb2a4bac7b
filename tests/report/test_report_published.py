"""`gigawatt report DIR --published FILE`: the published figures beside the run's, the cash-burn overlay, errors."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from helpers import ROOT
from typer.testing import CliRunner

from gigawatt.cli import app

PUBLISHED = ROOT / "scenarios" / "openai" / "published.yaml"


def invoke(*args):
    return CliRunner().invoke(app, [*map(str, args)])


@pytest.fixture(scope="module")
def page(openai_run, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("published") / "report.html"
    r = invoke("report", openai_run, "--published", PUBLISHED, "-o", out)
    assert r.exit_code == 0, r.output
    return out.read_text()


def _card(page: str, key: str) -> str:
    m = re.search(rf'<div class="card has-pub" data-key="{re.escape(key)}">(.*?)</div></div>', page, re.S)
    assert m, f"no card {key} with a published figure"
    return m.group(1)


def test_published_figures_sit_beside_the_matching_cards(page, openai_run):
    summ = json.loads((openai_run / "summary.json").read_text())
    card = _card(page, "commitments_usd_total")
    assert "$1.40T" in card and "~$1.4T for ~30 GW" in card and "F16" in card and "2025-10-28" in card
    from gigawatt.fmt import usd
    assert usd(summ["commitments_usd_total"]) in card  # gigawatt's value in the same card
    card = _card(page, "peak_power_gw")
    assert "30.0 GW" in card and "~30 GW" in card
    card = _card(page, "share_target.stargate_2030")
    assert "75%" in card and "~75% of compute from Stargate by 2030" in card and "R42" in card
    card = _card(page, "first_cash_flow_positive_year")
    assert "2030" in card and "published" in card
    card = _card(page, "inference_exceeds_training_year")
    assert "by 2030" in card and "exceeds the cost of training" in card


def test_published_table_lists_each_figure_with_gigawatts_value_and_the_difference(page, openai_run):
    summ = json.loads((openai_run / "summary.json").read_text())
    assert 'id="published"' in page and "Published figures beside this run" in page
    sec = page[page.index('<section id="published">'):]
    sec = sec[:sec.index("</section>")]
    row = re.search(r'<tr data-key="commitments_usd_total">(.*?)</tr>', sec, re.S).group(1)
    gw_commit = summ["commitments_usd_total"]
    from gigawatt.fmt import usd
    assert usd(gw_commit) in row and "$1.40T" in row
    assert f"−{usd(1.4e12 - gw_commit)}" in row  # gigawatt − published, signed
    fcf_2027 = summ["years"]["2027"]["free_cash_flow_usd"]
    row = re.search(r'<tr data-key="cash_flow_usd.2027">(.*?)</tr>', sec, re.S).group(1)
    assert "−$57.0B" in row and usd(abs(fcf_2027)) in row  # the q1_2026 vintage (the default run)
    assert "q1_2026" in sec  # the vintage is said


def test_the_cash_flow_chart_carries_the_published_forecast_of_the_runs_vintage(openai_run):
    from gigawatt.report import load_run
    from gigawatt.report.figures import build_charts
    from gigawatt.report.published import beside, load_published

    run = load_run(openai_run)
    pub = beside(run, load_published(PUBLISHED), PUBLISHED)
    fig = next(c for c in build_charts(run, pub) if c.id == "cash-flow").figure
    over = [t for t in fig.data if t.meta and t.meta.get("published")]
    assert len(over) == 1 and over[0].line.dash == "dash"
    expected = yaml.safe_load(PUBLISHED.read_text())["published"]["cash_flow_usd"]["q1_2026"]
    assert list(over[0].x) == list(expected)
    assert list(over[0].y) == pytest.approx([v * 1e-9 for v in expected.values()])
    plain = next(c for c in build_charts(run) if c.id == "cash-flow").figure
    assert not [t for t in plain.data if t.meta and t.meta.get("published")]


@pytest.mark.parametrize("variant", ["q1_2025", "q3_2025"])
def test_the_vintage_follows_the_runs_variant(openai_run, tmp_path, variant):
    from gigawatt.report import load_run
    from gigawatt.report.figures import build_charts
    from gigawatt.report.published import beside, load_published

    run = load_run(openai_run)
    run.summary = {**run.summary, "variant": variant}
    pub = beside(run, load_published(PUBLISHED), PUBLISHED)
    data = yaml.safe_load(PUBLISHED.read_text())["published"]
    assert pub.vintage == variant
    assert pub.by_key("first_cash_flow_positive_year").published.value == data["first_cash_flow_positive_year"][variant]["value"]
    fig = next(c for c in build_charts(run, pub) if c.id == "cash-flow").figure
    over = next(t for t in fig.data if t.meta and t.meta.get("published"))
    assert list(over.y) == pytest.approx([v * 1e-9 for v in data["cash_flow_usd"][variant].values()])


def test_without_published_the_page_has_no_published_figures(openai_run, tmp_path):
    r = invoke("report", openai_run, "-o", tmp_path / "plain.html")
    assert r.exit_code == 0, r.output
    text = (tmp_path / "plain.html").read_text()
    assert 'id="published"' not in text and "has-pub" not in text and "~$1.4T" not in text


@pytest.mark.parametrize("content, message", [
    (None, "published-figures file not found"),
    ("published: [unclosed\n", "not valid YAML"),
    ("- just\n- a list\n", "no 'published' mapping"),
    ("published: {capacity_gw: {}}\n", "published.commitments_total_usd"),
])
def test_a_bad_published_file_is_exit_1_without_traceback(minimal_run, tmp_path, content, message):
    f = tmp_path / "pub.yaml"
    if content is not None:
        f.write_text(content)
    r = CliRunner().invoke(app, ["report", str(minimal_run), "--published", str(f), "-o", str(tmp_path / "r.html")],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 1, r.output
    assert message in r.output and "Traceback" not in r.output
    assert not (tmp_path / "r.html").exists()


def test_a_wrong_value_in_the_published_file_is_exit_1(openai_run, tmp_path):
    data = yaml.safe_load(PUBLISHED.read_text())
    data["published"]["stargate_2030"]["share"]["value"] = "three quarters"
    f = tmp_path / "pub.yaml"
    f.write_text(yaml.safe_dump(data))
    r = CliRunner().invoke(app, ["report", str(openai_run), "--published", str(f), "-o", str(tmp_path / "r.html")],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 1 and "not a number" in r.output and "stargate_2030.share.value" in r.output
    assert "Traceback" not in r.output


def test_reference_table_script_reads_the_file_with_the_same_loader():
    src = (ROOT / "scripts" / "reference_table.py").read_text()
    assert "from gigawatt.report.published import load_published" in src and "yaml.safe_load" not in src
