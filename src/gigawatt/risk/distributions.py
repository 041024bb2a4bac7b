"""What each distribution of a driver takes (its parameters, mean and spread) and the correlation matrix
of named drivers and events; shared by the sampler and the checks of the uncertainty section."""

from __future__ import annotations

import math

import numpy as np

PARAMS = {
    "normal": ("mean", "sd"),
    "lognormal": ("mean", "sd"),
    "triangular": ("low", "mode", "high"),
    "uniform": ("low", "high"),
    "empirical": ("values",),
}
PSD_TOL = 1e-10


def correlation_matrix(names: list[str], correlations) -> np.ndarray:
    """The full correlation matrix of ``names`` from pairwise correlations (1 on the diagonal, 0 elsewhere)."""
    pos = {n: i for i, n in enumerate(names)}
    r = np.eye(len(names))
    for c in correlations:
        a, b = c.between
        if a in pos and b in pos and a != b:
            r[pos[a], pos[b]] = r[pos[b], pos[a]] = float(c.rho)
    return r


def matrix_factor(r: np.ndarray) -> np.ndarray:
    """A matrix L with L Lᵀ = r: Cholesky when r is positive definite, else from its eigen-decomposition
    (a positive semi-definite matrix with a correlation of ±1 has no Cholesky factor)."""
    try:
        return np.linalg.cholesky(r)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(r)
        return v * np.sqrt(np.clip(w, 0.0, None))


def distribution_moments(distribution: str, params: dict) -> tuple[float, float]:
    """Mean and standard deviation of a driver's factor (before the clip at 0), for tests and docs."""
    p = params
    if distribution == "normal":
        return float(p["mean"]), float(p["sd"])
    if distribution == "lognormal":
        m, s = float(p["mean"]), float(p["sd"])
        mean = math.exp(m + s * s / 2)
        return mean, math.sqrt((math.exp(s * s) - 1) * math.exp(2 * m + s * s))
    if distribution == "uniform":
        lo, hi = float(p["low"]), float(p["high"])
        return (lo + hi) / 2, (hi - lo) / math.sqrt(12)
    if distribution == "triangular":
        a, c, b = float(p["low"]), float(p["mode"]), float(p["high"])
        return (a + b + c) / 3, math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18)
    values = np.asarray(p["values"], dtype=float)
    return float(values.mean()), float(values.std())
