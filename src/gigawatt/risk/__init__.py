"""Risk: Monte Carlo over a solved plan (commitments fixed), with seeded, chunk-invariant sampling.

``gigawatt.risk.simulate.simulate(plan, portfolio, draws=, seed=)`` runs it; ``gigawatt.risk.sample`` holds the
distributions, events, copula and seed scheme. Only numpy here (no Ray): sweeps of many solves live in
gigawatt.sweep. See docs/risk.md.
"""

from gigawatt.risk.sample import BLOCK, Sampler, check_uncertainty

__all__ = ["BLOCK", "Sampler", "check_uncertainty"]
