"""The README's two commands are the ones users and CI run."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in _commands(), "README's test command and .ci/run differ"


def test_ci_runs_the_slow_tests_too():
    """README: CI's `pytest -n 2` runs the tests marked slow; a default `-m "not slow"` would silently drop them."""
    import tomllib

    opts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "slow" in " ".join(opts["markers"])
    assert "not slow" not in opts.get("addopts", "") and "-m" not in opts.get("addopts", "").split()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert "-m" not in ci.split("-m pytest", 1)[1].split(), ci  # no marker selection after pytest


def test_readme_main_job_solves_the_reference_scenario_and_writes_a_report():
    main = _commands()[0]
    assert "gigawatt solve scenarios/openai.yaml --out runs/openai" in main
    assert main.index("gigawatt solve") < main.index("gigawatt simulate runs/openai") < main.index("gigawatt report runs/openai")
    assert (ROOT / "scenarios" / "openai.yaml").exists()


def test_readme_main_job_sets_the_published_figures_beside_the_report():
    main = _commands()[0]
    report = main[main.index("gigawatt report runs/openai"):].split("&&")[0]
    assert "--published scenarios/openai/published.yaml" in report
    assert (ROOT / "scenarios" / "openai" / "published.yaml").exists()
