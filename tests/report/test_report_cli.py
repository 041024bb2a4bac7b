"""`gigawatt report` and `gigawatt compare` through the CLI runner: files written, exit codes, messages."""

from __future__ import annotations

from typer.testing import CliRunner

from gigawatt.cli import app


def invoke(*args):
    return CliRunner().invoke(app, [*map(str, args)])


def test_report_writes_one_html_file_into_the_run(minimal_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(minimal_run, run)
    r = invoke("report", run)
    assert r.exit_code == 0, r.output
    page = run / "report.html"
    assert page.is_file() and 1_000_000 < page.stat().st_size <= 1_500_000
    assert "wrote" in r.output and "charts" in r.output
    hidden = [p.name for p in run.iterdir() if p.name.startswith(".")]
    assert hidden == [".gigawatt-run.json"]  # the run's marker; atomic: no temporary file left


def test_report_to_a_chosen_file(openai_run, tmp_path):
    out = tmp_path / "sub" / "openai.html"
    r = invoke("report", openai_run, "-o", out)
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "openai-reference" in text


def test_report_quiet_prints_nothing(openai_run, tmp_path):
    r = invoke("--quiet", "report", openai_run, "-o", tmp_path / "q.html")
    assert r.exit_code == 0 and r.output == ""


def test_report_of_a_missing_directory_is_exit_1(tmp_path):
    r = invoke("report", tmp_path / "nope")
    assert r.exit_code == 1
    assert "not a run directory" in r.output and "run directory not found" in r.output
    assert "gigawatt solve" in r.output and "Traceback" not in r.output


def test_report_of_a_directory_that_is_not_a_run_is_exit_1(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    r = invoke("report", tmp_path)
    assert r.exit_code == 1 and "no summary.json" in r.output and "Traceback" not in r.output


def test_report_output_that_is_a_directory_is_exit_1(minimal_run, tmp_path):
    r = invoke("report", minimal_run, "-o", tmp_path)
    assert r.exit_code == 1 and "the output path is a directory" in r.output


def test_compare_prints_the_table_and_writes_html(openai_run, minimal_run, tmp_path):
    out = tmp_path / "compare.html"
    r = CliRunner().invoke(app, ["compare", str(openai_run), str(minimal_run), "-o", str(out)],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "openai-reference" in r.output and "peak power" in r.output and "total commitments" in r.output
    text = out.read_text()
    assert 'id="fig-cmp-power"' in text and 'id="fig-cmp-cash"' in text


def test_compare_needs_two_runs(minimal_run, tmp_path):
    r = invoke("compare", minimal_run, "-o", tmp_path / "c.html")
    assert r.exit_code == 1 and "at least two run directories" in r.output
    assert not (tmp_path / "c.html").exists()


def test_compare_with_a_bad_directory_is_exit_1_and_writes_nothing(minimal_run, tmp_path):
    r = invoke("compare", minimal_run, tmp_path / "missing", "-o", tmp_path / "c.html")
    assert r.exit_code == 1 and "missing" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "c.html").exists()


def test_compare_labels_are_unique_for_the_same_scenario(minimal_run, tmp_path):
    import shutil

    from gigawatt.report import load_runs

    other = tmp_path / "again"
    shutil.copytree(minimal_run, other)
    labels = [r.label for r in load_runs([minimal_run, other])]
    assert len(set(labels)) == 2 and labels[1].endswith("[again]")
