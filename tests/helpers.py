"""Helpers shared by the test modules: tiny scenarios from YAML text, solved through the real pipeline.

Imported as `from helpers import ...` (tests/ is on pytest's pythonpath); conftest.py holds fixtures only,
so that the risk tests' own conftest.py cannot shadow these names.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A test chip with round figures so optima can be computed by hand: it *is* the H100 reference, so
# demand in H100_hours equals chip-hours on it.
TEST_ACCELERATORS = """\
accelerators:
  h100: {bf16_flops: 989 TFLOP/s, utilisation_training: 50%, utilisation_inference: 50%, all_in_power: 1 kW,
         purchase_price: 10000 USD, useful_life: 5 years, available: 2020-01, vendor: nvidia}
  mi300x: {bf16_flops: 989 TFLOP/s, utilisation_training: 50%, utilisation_inference: 50%, all_in_power: 1 kW,
           purchase_price: 8000 USD, useful_life: 5 years, available: 2020-01, vendor: amd}
"""


def scenario_text(body: str, *, start: int = 2025, end: int = 2027, rate: str = "0%") -> str:
    head = f"meta: {{name: test}}\nhorizon: {{start: {start}, end: {end}, step: year, discount_rate: {rate}}}\n"
    return head + TEST_ACCELERATORS + textwrap.dedent(body)


def build_test_portfolio(tmp_path: Path, body: str, *, sets: list[str] | None = None, **kw):
    """Portfolio of a tiny scenario written to tmp_path (STYLE B6's build_test_portfolio)."""
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate

    path = tmp_path / "scenario.yaml"
    path.write_text(scenario_text(body, **kw))
    resolved = read(path, sets=sets or [])
    return Portfolio.from_scenario(validate(resolved), resolved)


def solve_text(tmp_path: Path, body: str, *, allow_unmet: bool | None = None, sets=None, **kw):
    from gigawatt.optimize import optimize

    return optimize(build_test_portfolio(tmp_path, body, sets=sets, **kw), allow_unmet=allow_unmet)
