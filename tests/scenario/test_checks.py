"""One case per cross-reference and physics check (tests/data/checks.yaml), triggered through --set.

Each asserts the error type, the key path, and the hint; and that the CLI exits 1 without a traceback.
"""

from pathlib import Path

import pytest
import yaml

from gigawatt.errors import ScenarioError

DATA = Path(__file__).resolve().parents[1] / "data"
BASE = DATA / "scenarios" / "base.yaml"
CASES = yaml.safe_load((DATA / "checks.yaml").read_text())


def build(sets):
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate

    r = read(BASE, sets=sets)
    return Portfolio.from_scenario(validate(r), r)


def test_base_scenario_is_valid():
    assert len(build([]).supply) == 3


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_check(case):
    with pytest.raises(ScenarioError) as info:
        build(case["set"])
    msg = str(info.value)
    for fragment in case["says"]:
        assert fragment in msg, f"{fragment!r} not in:\n{msg}"
    assert "base.yaml:" in msg or "--set" in msg  # every problem says where


def test_validate_cli_exit_codes():
    from typer.testing import CliRunner

    from gigawatt.cli import app

    ok = CliRunner().invoke(app, ["validate", str(BASE)])
    assert ok.exit_code == 0 and "is valid" in ok.output
    bad = CliRunner().invoke(app, ["validate", str(BASE), "--set", "contracts.aws38.counterparty=awz"])
    assert bad.exit_code == 1
    assert "unknown provider 'awz'" in bad.output and "Traceback" not in bad.output
    missing = CliRunner().invoke(app, ["validate", "does-not-exist.yaml"])
    assert missing.exit_code == 1 and "file not found" in missing.output
