"""Fuzz: mutated copies of the example and the reference scenario (tests/fuzzing.py) never crash, hang or
answer without saying where; the ones that solve write only finite numbers.

A fixed, derandomised budget that fits CI; scripts/fuzz_scenarios.py runs the same cases longer (the figures
in docs/reliability.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzzing

pytestmark = pytest.mark.slow
BUDGET = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                  suppress_health_check=[HealthCheck.too_slow])
GUARD_S = 60  # a hang check: an honest validate takes well under a second, a solve a few


def describe(case: fuzzing.Case, outcomes: list[fuzzing.Outcome]) -> str:
    return "\n".join(f"{case.mutations} {case.args} {o.command} exit {o.exit_code}: {o.failures}\n{o.output[-800:]}"
                     for o in outcomes)


@settings(BUDGET, max_examples=40)
@given(rnd=st.randoms(use_true_random=False), base=st.sampled_from(sorted(fuzzing.BASES)))
def test_mutated_scenarios_validate_or_fail_located(rnd, base):
    with tempfile.TemporaryDirectory() as tmp:
        case = fuzzing.make_case(rnd, base, Path(tmp) / "scenario")
        outcomes = fuzzing.run_case(case, solve=False, out_dir=Path(tmp) / "run", guard_s=GUARD_S)
        assert not any(o.failures for o in outcomes), describe(case, outcomes)


@settings(BUDGET, max_examples=3)
@given(rnd=st.randoms(use_true_random=False))
def test_scaled_figures_that_validate_solve_to_finite_results(rnd):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "scenario"
        case = fuzzing.make_case(rnd, "minimal", folder, mutations=["value_scale"])
        outcomes = fuzzing.run_case(case, solve=True, out_dir=Path(tmp) / "run", guard_s=GUARD_S)
        assert not any(o.failures for o in outcomes), describe(case, outcomes)


def test_the_checks_can_fail():
    """The located-message and finite-number checks reject what they exist to reject."""
    assert fuzzing.check_output(3, "internal error: boom") == ["exit code 3", "traceback or internal error"]
    assert fuzzing.unlocated("error: x: 1 problem\n  - meta.name: unknown key 'x'.")  # no file:line
    assert fuzzing.unlocated("error: x: 1 problem\n  - <top level> (s.yaml:3): unknown key 'x'.")  # no key path
    assert not fuzzing.unlocated("error: x: 1 problem\n  - meta.name (s.yaml:3): unknown key 'x'.")
    assert not fuzzing.unlocated("error: x: 1 problem\n  - <top level> (s.yaml:3): not UTF-8 text; got 'byte 0xe9'.")


def test_non_finite_numbers_in_a_run_are_found(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "summary.json").write_text('{"objective_usd": NaN, "ok": 1}', encoding="utf-8")
    (tmp_path / "tables" / "t.csv").write_text("a,b\n1,inf\n", encoding="utf-8")
    assert fuzzing.non_finite_in_run(tmp_path) == ["summary.json holds NaN", "t.csv holds inf"]
