"""Seeded sampling of a scenario's uncertainty: distributions, discrete events, a Gaussian copula.

Seed scheme (docs/risk.md). Draws are generated in fixed blocks of :data:`BLOCK` draws. Block ``b`` has its
own generator, ``PCG64(SeedSequence(seed, spawn_key=(b,)))`` (the ``b``-th child of
``SeedSequence(seed).spawn``), and always draws a full block of standard normals laid out as
``(slot, draw)``. A draw's numbers therefore depend only on the root seed and the draw's index: any chunk
size (a multiple of the block), any number of workers and any total number of draws give the same
numbers for the same draw, so results are bit-identical.

Every driver and event turns standard normals into its own values: a normal driver is ``mean + sd·z``, a
lognormal one ``exp(mean + sd·z)``, the others go through ``u = Φ(z)`` and their inverse CDF, and an event
happens when ``z < Φ⁻¹(p)``. Correlations act on the normals (a Gaussian copula): per calendar year, the
normals of the drivers and events that have a factor in that year are mixed by a factor of their
correlation matrix, so each keeps its own marginal distribution.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from gigawatt.risk.checks import check_uncertainty, price_options, require_valid  # noqa: F401  (their old home)
from gigawatt.risk.distributions import correlation_matrix, distribution_moments, matrix_factor
from gigawatt.risk.kernel import DISTRIBUTIONS, PackedSampler, transform_block

BLOCK = 4096
"""Draws per random-number block: the unit of the seed scheme. Chunks are whole numbers of blocks."""

_LOCAL = threading.local()


@dataclass(frozen=True)
class Variable:
    """One driver or event as the sampler sees it."""

    name: str
    kind: str  # "driver" or "event"
    distribution: str
    params: dict
    mode: str  # level, growth or yearly (events: level)
    n_slots: int  # 1, or one per calendar year
    first_row: int  # its first row in the block of normals
    probability: float = 0.0

    def row(self, year: int) -> int | None:
        """Row of its normal in calendar-year ``year`` (0-based), or None when it has no factor there."""
        if self.n_slots == 1:
            return self.first_row if year == 0 else None
        return self.first_row + year


@dataclass
class Sample:
    """Sampled factors for draws [start, start + n): per driver an array (n_slots, n) of multipliers
    (growth drivers already compounded), per event a boolean array (n,) of occurrences."""

    start: int
    n: int
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    events: dict[str, np.ndarray] = field(default_factory=dict)


class Sampler:
    """Draws the factors of an :class:`~gigawatt.scenario.schema.Uncertainty` over ``n_years`` calendar years.

    Parameters
    ----------
    uncertainty
        The scenario's ``uncertainty`` section (checked with :func:`check_uncertainty` first).
    n_years
        Number of calendar years the horizon spans (per-year drivers get one factor per year).
    """

    def __init__(self, uncertainty, n_years: int):
        self.n_years = int(n_years)
        self.variables: list[Variable] = []
        row = 0
        for name, d in uncertainty.drivers.items():
            n = 1 if d.mode == "level" else self.n_years
            self.variables.append(Variable(name, "driver", d.distribution, dict(d.params), d.mode, n, row))
            row += n
        for name, e in uncertainty.events.items():
            self.variables.append(Variable(name, "event", "event", {}, "level", 1, row, float(e.probability)))
            row += 1
        self.n_rows = row
        self.by_name = {v.name: v for v in self.variables}
        # the copula: per calendar year, a factor of the correlation matrix of the variables present that year
        involved = sorted({n for c in uncertainty.correlations for n in c.between if n in self.by_name},
                          key=[v.name for v in self.variables].index)
        self.groups: list[tuple[np.ndarray, np.ndarray, bool]] = []  # rows, factor, lower-triangular
        if involved:
            full = correlation_matrix(involved, uncertainty.correlations)
            for y in range(self.n_years):
                members = [i for i, n in enumerate(involved) if self.by_name[n].row(y) is not None]
                if len(members) < 2:
                    continue
                sub = full[np.ix_(members, members)]
                if np.allclose(sub, np.eye(len(members))):
                    continue
                rows = np.array([self.by_name[involved[i]].row(y) for i in members])
                factor = matrix_factor(sub)
                self.groups.append((rows, factor, bool(np.all(np.triu(factor, 1) == 0.0))))
        self.drivers = [v for v in self.variables if v.kind == "driver"]
        self.events = [v for v in self.variables if v.kind == "event"]
        self.packed = self._pack()

    def _pack(self) -> PackedSampler:
        """The variables as the compiled transforms read them (gigawatt.risk.kernel)."""
        V = len(self.drivers)
        params = np.zeros((V, 3))
        emp_start = np.zeros(V + 1, dtype=np.int64)
        emp_values: list[float] = []
        for i, v in enumerate(self.drivers):
            p = v.params
            if v.distribution in ("normal", "lognormal"):
                params[i, :2] = float(p["mean"]), float(p["sd"])
            elif v.distribution == "uniform":
                params[i, :2] = float(p["low"]), float(p["high"])
            elif v.distribution == "triangular":
                params[i] = float(p["low"]), float(p["mode"]), float(p["high"])
            else:  # empirical: equally likely values, sorted so the copula keeps its sign
                emp_values.extend(sorted(float(x) for x in p["values"]))
            emp_start[i + 1] = len(emp_values)
        return PackedSampler(
            kind=np.array([DISTRIBUTIONS[v.distribution] for v in self.drivers], dtype=np.int64),
            row=np.array([v.first_row for v in self.drivers], dtype=np.int64),
            slots=np.array([v.n_slots for v in self.drivers], dtype=np.int64),
            growth=np.array([v.mode == "growth" for v in self.drivers], dtype=np.bool_),
            params=params, emp_start=emp_start, emp_values=np.array(emp_values, dtype=float),
            event_row=np.array([v.first_row for v in self.events], dtype=np.int64),
            event_threshold=np.array([self._threshold(v.probability) for v in self.events], dtype=float),
            n_years=self.n_years)

    @property
    def normals_per_draw(self) -> int:
        return self.n_rows

    # --- random numbers --------------------------------------------------------------------------------
    @staticmethod
    def generator(seed: int, block: int) -> np.random.Generator:
        """The generator of block ``block``: PCG64 seeded by the block-th child of SeedSequence(seed)."""
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(int(block),))))

    def normals(self, seed: int, start: int, n: int) -> np.ndarray:
        """Correlated standard normals (n_rows, n) for draws [start, start + n); ``start`` % BLOCK == 0."""
        z = np.empty((self.n_rows, n))
        for lo, hi, zb in self._blocks(seed, start, n):
            z[:, lo:hi] = zb[:, : hi - lo]
        return z

    def _blocks(self, seed: int, start: int, n: int):
        """(lo, hi, block of correlated normals (n_rows, BLOCK)) for each block of draws [start, start + n)."""
        if start % BLOCK:
            raise ValueError(f"start must be a multiple of {BLOCK}, got {start}")
        zb = getattr(_LOCAL, "zb", None)
        if zb is None or zb.shape[0] != self.n_rows:
            zb = _LOCAL.zb = np.empty((self.n_rows, BLOCK))  # per thread, reused: no page faults per chunk
        first = start // BLOCK
        for b in range(-(-n // BLOCK)):
            lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
            if self.n_rows:
                # always a full block, so a draw's numbers do not depend on how many draws follow it
                self.generator(seed, first + b).standard_normal(out=zb)
                self.correlate(zb)
            yield lo, hi, zb

    def correlate(self, z: np.ndarray) -> None:
        """Apply the copula in place: rows of each year's group become L · (independent rows).

        With a lower-triangular (Cholesky) L, row i needs rows 0..i only, so going from the last row to the
        first needs no copy, and row 0 (L₀₀ = 1) stays as it is."""
        tmp = getattr(_LOCAL, "row", None)
        if tmp is None or tmp.shape[0] != z.shape[1]:
            tmp = _LOCAL.row = np.empty(z.shape[1])
        for rows, factor, lower in self.groups:
            if lower:
                for i in range(len(rows) - 1, -1, -1):
                    acc = z[rows[i]]
                    if factor[i, i] != 1.0:
                        acc *= factor[i, i]
                    for j in range(i):
                        if factor[i, j] != 0.0:
                            acc += np.multiply(z[rows[j]], factor[i, j], out=tmp)
                continue
            src = z[rows]  # fancy indexing: a copy
            for i, r in enumerate(rows):
                acc = z[r]
                np.multiply(src[0], factor[i, 0], out=acc)
                for j in range(1, len(rows)):
                    if factor[i, j] != 0.0:
                        acc += factor[i, j] * src[j]

    @staticmethod
    def _threshold(probability: float) -> float:
        """Φ⁻¹(p): an event happens when its normal is below it (−inf: never, +inf: always)."""
        if probability <= 0.0:
            return -math.inf
        if probability >= 1.0:
            return math.inf
        from statistics import NormalDist

        return NormalDist().inv_cdf(probability)

    def sample(self, seed: int, start: int, n: int, *, alloc=None) -> Sample:
        """Factors and events of draws [start, start + n); ``start`` must be a multiple of BLOCK.

        The transforms are the compiled ones the simulation uses (:func:`gigawatt.risk.kernel.transform_block`):
        a normal driver is ``max(mean + sd·z, 0)``, a lognormal one ``exp(mean + sd·z)``, uniform, triangular
        and empirical ones their inverse CDF at ``Φ(z)``; growth drivers compound year on year. Outputs are
        arrays from ``alloc(shape, dtype)`` when given."""
        alloc = alloc or (lambda shape, dtype=float: np.empty(shape, dtype=dtype))
        out = Sample(start=start, n=n)
        for v in self.events:
            out.events[v.name] = alloc((n,), bool)
        for v in self.drivers:
            out.factors[v.name] = alloc((v.n_slots, n), float)
        factors = np.empty((len(self.drivers), self.n_years, BLOCK))
        occ = np.empty((len(self.events), BLOCK))
        for lo, hi, zb in self._blocks(seed, start, n):
            m = hi - lo
            transform_block(self.packed, zb, 0, m, factors, occ)
            for i, v in enumerate(self.drivers):
                out.factors[v.name][:, lo:hi] = factors[i, : v.n_slots, :m]
            for i, v in enumerate(self.events):
                np.not_equal(occ[i, :m], 0.0, out=out.events[v.name][lo:hi])
        return out


__all__ = ["BLOCK", "Sampler", "Sample", "Variable", "check_uncertainty", "require_valid", "price_options",
           "distribution_moments", "correlation_matrix", "matrix_factor"]
