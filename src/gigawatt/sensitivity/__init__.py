"""Sensitivity rankings: one-at-a-time swings (tornado) and Sobol indices of a scenario's headline figures,
solved through the sweep machinery. ``inputs.py``: what varies and its range; ``run.py``: the designs, the
solves and the rankings. Only this room imports SALib."""

from gigawatt.sensitivity.inputs import Input, from_uncertainty, from_vary
from gigawatt.sensitivity.run import OUTPUTS, evaluate, oat_values, sobol_indices, sobol_values, tornado

__all__ = ["Input", "from_uncertainty", "from_vary", "OUTPUTS", "evaluate", "oat_values", "sobol_values",
           "tornado", "sobol_indices"]
