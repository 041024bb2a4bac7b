"""Risk: Monte Carlo over a solved plan (commitments fixed), with seeded, chunk-invariant sampling.

``gigawatt.risk.simulate.simulate(plan, portfolio, draws=, seed=)`` runs it; ``gigawatt.risk.sample`` holds the
sampler (distributions, events, copula, seed scheme) and ``gigawatt.risk.checks`` the checks of the uncertainty
section. Only numpy here (no Ray): sweeps of many solves live in gigawatt.sweep. See docs/risk.md.
"""

from gigawatt.risk.checks import check_uncertainty
from gigawatt.risk.sample import BLOCK, Sampler

__all__ = ["BLOCK", "Sampler", "check_uncertainty"]
