"""Helpers for the risk tests: a tiny scenario with uncertainty, solved and written as a run directory."""

from __future__ import annotations

import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# One cloud offer, one owned site, one take-or-pay contract, two workloads; yearly, 2026-2030.
SCENARIO = """\
meta: {name: risk-test}
horizon: {start: 2026, end: 2030, step: year, discount_rate: 8%}
accelerators:
  h100: {bf16_flops: 989 TFLOP/s, utilisation_training: 50%, utilisation_inference: 50%, all_in_power: 1 kW,
         purchase_price: 10000 USD, useful_life: 5 years, available: 2020-01, vendor: nvidia,
         rental_price: 2.5 USD/h}
providers:
  cloud:
    kind: cloud
    offers:
      h100: {on_demand_price: 3 USD/h, available: "300000 chips"}
  lab: {kind: owned, sites: [tx]}
sites:
  tx:
    power_max: {points: {2026: 50 MW, 2030: 400 MW}, interpolate: linear}
    build_cost: 10 million USD/MW
    lead_time: 0 months
    energy_price: 60 USD/MWh
    accelerators: [h100]
contracts:
  reserved:
    counterparty: cloud
    kind: capacity
    accelerator: h100
    start: 2026
    term: 3 years
    chips: 40000
    price: 2 USD/h
    take_or_pay: 100%
    source: test
workloads:
  training:
    kind: training
    demand: {base: 200 million H100_hours, base_period: 2026, growth_per_year: 40%}
    revenue_per_h100_hour: 0 USD/H100_hour
  inference:
    kind: inference
    demand: {base: 150 million H100_hours, base_period: 2026, growth_per_year: 60%}
    revenue_per_h100_hour: 3 USD/H100_hour
finance:
  starting_cash: 3 billion USD
  revenue: {base: 1 billion USD, base_period: 2026, growth_per_year: 50%}
  other_costs:
    staff: {base: 1.5 billion USD, base_period: 2026, growth_per_year: 20%}
config:
  solve: {allow_unmet: true, unmet_penalty: 50 USD/H100_hour}
"""

UNCERTAINTY = """\
uncertainty:
  draws: 2000
  seed: 11
  drivers:
    training_growth: {target: demand, applies_to: [training], distribution: lognormal,
                      params: {mean: 0, sd: 0.15}, mode: growth}
    inference_growth: {target: demand, applies_to: [inference], distribution: lognormal,
                       params: {mean: 0, sd: 0.2}, mode: growth}
    revenue: {target: revenue, distribution: normal, params: {mean: 1.0, sd: 0.2}, mode: yearly}
    lease_price: {target: lease_price, distribution: triangular, params: {low: 0.8, mode: 1.0, high: 1.5}}
    energy: {target: energy_price, distribution: uniform, params: {low: 0.8, high: 1.4}}
    staff: {target: other_costs, distribution: empirical, params: {values: [0.9, 1.0, 1.1, 1.3]}}
  events:
    tx_late: {kind: site_delay, target: tx, probability: 25%, delay: 9 months}
    reserved_fails: {kind: contract_failure, target: reserved, probability: 5%}
  correlations:
    - {between: [revenue, inference_growth], rho: 0.6}
    - {between: [training_growth, inference_growth], rho: 0.4}
"""

ZERO = """\
uncertainty:
  drivers:
    training_growth: {target: demand, applies_to: [training], distribution: lognormal,
                      params: {mean: 0, sd: 0}, mode: growth}
    inference_growth: {target: demand, applies_to: [inference], distribution: normal,
                       params: {mean: 1, sd: 0}, mode: growth}
    revenue: {target: revenue, distribution: normal, params: {mean: 1.0, sd: 0}, mode: yearly}
    lease_price: {target: lease_price, distribution: triangular, params: {low: 1, mode: 1, high: 1}}
    energy: {target: energy_price, distribution: uniform, params: {low: 1, high: 1}}
    staff: {target: other_costs, distribution: empirical, params: {values: [1.0]}}
  events:
    tx_late: {kind: site_delay, target: tx, probability: 0, delay: 9 months}
    reserved_fails: {kind: contract_failure, target: reserved, probability: 0}
  correlations:
    - {between: [revenue, inference_growth], rho: 0.6}
"""


def write_scenario(tmp: Path, uncertainty: str = UNCERTAINTY, name: str = "scenario.yaml") -> Path:
    path = Path(tmp) / name
    path.write_text(SCENARIO + textwrap.dedent(uncertainty))
    return path


def portfolio_of(path: Path, sets: list[str] | None = None):
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate

    r = read(path, sets=sets or [])
    return Portfolio.from_scenario(validate(r), r)


def solve_to_run(path: Path, out: Path, sets: list[str] | None = None) -> Path:
    """Solve a scenario and write its run directory the way `gigawatt solve` does (results.write_run)."""
    import yaml

    from gigawatt.optimize import optimize
    from gigawatt.results import write_run
    from gigawatt.scenario.load import read

    p = portfolio_of(path, sets)
    plan = optimize(p)
    fin = None
    try:
        from gigawatt import finance as finance_mod
    except ImportError:
        finance_mod = None
    if finance_mod is not None and hasattr(finance_mod, "compute"):
        fin = finance_mod.compute(plan, p)
    resolved = read(path, sets=sets or [])
    write_run(plan, out, resolved_yaml=yaml.safe_dump(resolved.data, sort_keys=False), finance=fin,
              scenario_name=p.scenario.meta.name)
    return out
