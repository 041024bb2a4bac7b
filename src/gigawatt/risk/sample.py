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

from gigawatt.errors import Problem, ScenarioError, did_you_mean
from gigawatt.risk.kernel import DISTRIBUTIONS, PackedSampler, transform_block

BLOCK = 4096
"""Draws per random-number block: the unit of the seed scheme. Chunks are whole numbers of blocks."""

PARAMS = {
    "normal": ("mean", "sd"),
    "lognormal": ("mean", "sd"),
    "triangular": ("low", "mode", "high"),
    "uniform": ("low", "high"),
    "empirical": ("values",),
}
PSD_TOL = 1e-10
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


# --- checks ---------------------------------------------------------------------------------------------


def _names(portfolio) -> dict[str, list[str]]:
    sc = portfolio.scenario
    sup = portfolio.supply
    return {
        "workloads": [str(w) for w in portfolio.workloads.index],
        "sites": [str(s) for s in portfolio.sites.index],
        "providers": list(sc.providers),
        "contracts": list(sc.contracts),
        "accelerators": sorted(set(sup["accelerator"])),
        "options": [str(o) for o in sup.index],
        "other_costs": list(sc.finance.other_costs),
        "vendors": sorted(set(sup["vendor"].dropna()) | {c.counterparty for c in sc.contracts.values()
                                                         if c.kind == "supply"}),
    }


def price_options(portfolio, target: str, applies_to: list[str] | None) -> list[str]:
    """Supply options whose per-use price a price driver scales."""
    sup = portfolio.supply
    kinds = {"price": ("lease", "contract"), "lease_price": ("lease",), "contract_price": ("contract",)}[target]
    mask = np.array(sup["kind"].isin(kinds), dtype=bool)
    if applies_to is not None:
        names = set(applies_to)
        hit = (sup.index.isin(names) | sup["provider"].isin(names) | sup["contract"].isin(names)
               | sup["accelerator"].isin(names))
        mask &= np.array(hit, dtype=bool)
    return [str(o) for o in sup.index[mask]]


def check_uncertainty(portfolio) -> list[Problem]:
    """Cross-references and consistency of the scenario's ``uncertainty`` section, as five-part problems.

    Checks: each driver's applies_to names exist for its target; its params fit its distribution; each
    event's target exists for its kind and carries the fields its kind needs; correlations name known
    drivers or events, each pair once; the correlation matrix is positive semi-definite."""
    unc = portfolio.scenario.uncertainty
    resolved = portfolio.resolved
    names = _names(portfolio)
    problems: list[Problem] = []

    def where(*path) -> str | None:
        return resolved.where(("uncertainty",) + tuple(str(p) for p in path)) if resolved else None

    def add(what: str, path: tuple, **kw) -> None:
        problems.append(Problem(what, path=".".join(("uncertainty",) + tuple(str(p) for p in path)),
                                location=where(*path), **kw))

    known_for = {
        "demand": ("workloads", names["workloads"]),
        "revenue": ("workloads (or 'exogenous' for finance.revenue)", names["workloads"] + ["exogenous"]),
        "energy_price": ("sites", names["sites"]),
        "other_costs": ("finance.other_costs entries", names["other_costs"]),
    }
    for dname, d in unc.drivers.items():
        if d.applies_to is not None:
            if d.target in known_for:
                label, known = known_for[d.target]
                for n in d.applies_to:
                    if n not in known:
                        add(f"driver '{dname}' applies to unknown name '{n}' for target {d.target}",
                            ("drivers", dname, "applies_to"), value=n,
                            expected=f"one of the {label}: {', '.join(known) or '(none)'}",
                            fix="correct the name, or drop applies_to to scale them all." + did_you_mean(n, known))
            else:
                known = names["providers"] + names["contracts"] + names["accelerators"] + names["options"]
                for n in d.applies_to:
                    if not price_options(portfolio, d.target, [n]):
                        kinds = {"price": "lease or contract", "lease_price": "lease",
                                 "contract_price": "contract"}[d.target]
                        add(f"driver '{dname}' applies to '{n}', which matches no {kinds} option",
                            ("drivers", dname, "applies_to"), value=n,
                            expected=f"a provider, contract, accelerator or supply option with a {kinds} price",
                            fix="correct the name (see the plan's supply table)." + did_you_mean(n, known))
        need = PARAMS[d.distribution]
        for k in d.params:
            if k not in need:
                add(f"unknown parameter '{k}' for a {d.distribution} distribution", ("drivers", dname, "params", k),
                    expected="exactly: " + ", ".join(need),
                    fix="remove it or correct the spelling." + did_you_mean(k, need))
        missing = [k for k in need if k not in d.params]
        if missing:
            add(f"{d.distribution} distribution lacks {', '.join(missing)}", ("drivers", dname, "params"),
                expected="params: " + ", ".join(need), fix=f"add {', '.join(missing)} under params")
            continue
        bad_type = [k for k in need if isinstance(d.params[k], list) != (k == "values")]
        if bad_type:
            k = bad_type[0]
            add(f"parameter '{k}' of a {d.distribution} distribution has the wrong shape",
                ("drivers", dname, "params", k), value=d.params[k],
                expected="a list of numbers" if k == "values" else "one number",
                fix="write values as a list [0.9, 1.0, 1.2], other parameters as numbers")
            continue
        p = d.params
        if d.distribution in ("normal", "lognormal") and p["sd"] < 0:
            add("negative standard deviation", ("drivers", dname, "params", "sd"), value=p["sd"],
                expected="sd ≥ 0 (0 = no uncertainty)", fix="use the absolute value")
        if d.distribution == "uniform" and not 0 <= p["low"] <= p["high"]:
            add("uniform bounds out of order or negative", ("drivers", dname, "params"),
                value=f"low={p['low']}, high={p['high']}", expected="0 ≤ low ≤ high (factors ≥ 0)",
                fix="swap or correct the bounds")
        if d.distribution == "triangular" and not 0 <= p["low"] <= p["mode"] <= p["high"]:
            add("triangular parameters out of order or negative", ("drivers", dname, "params"),
                value=f"low={p['low']}, mode={p['mode']}, high={p['high']}",
                expected="0 ≤ low ≤ mode ≤ high (factors ≥ 0)", fix="correct the three values")
        if d.distribution == "empirical":
            vals = p["values"]
            if not vals or min(vals) < 0:
                add("empirical values empty or negative", ("drivers", dname, "params", "values"), value=vals,
                    expected="at least one factor, each ≥ 0", fix="list the observed factors, e.g. [0.8, 1.0, 1.3]")
    for ename, e in unc.events.items():
        target_kind = {"site_delay": ("sites", names["sites"]), "contract_failure": ("contracts", names["contracts"]),
                       "vendor_replaced": ("vendors", names["vendors"])}[e.kind]
        if e.target not in target_kind[1]:
            add(f"event '{ename}' ({e.kind}) targets unknown {target_kind[0][:-1]} '{e.target}'",
                ("events", ename, "target"), value=e.target,
                expected=f"one of the {target_kind[0]}: {', '.join(target_kind[1]) or '(none)'}",
                fix="correct the name." + did_you_mean(e.target, target_kind[1]))
        if e.kind == "site_delay" and e.delay is None:
            add(f"site_delay event '{ename}' has no delay", ("events", ename),
                expected="delay: a duration such as '6 months'", fix="add delay")
        if e.kind != "site_delay" and e.delay is not None:
            add(f"delay given for a {e.kind} event", ("events", ename, "delay"), value=e.delay,
                expected="delay only for site_delay events", fix="remove delay or change the kind")
        if e.kind != "vendor_replaced" and e.price_change is not None:
            add(f"price_change given for a {e.kind} event", ("events", ename, "price_change"),
                value=e.price_change, expected="price_change only for vendor_replaced events",
                fix="remove price_change or change the kind")
    clash = set(unc.drivers) & set(unc.events)
    for n in sorted(clash):
        add(f"'{n}' names both a driver and an event", ("events", n), value=n,
            expected="distinct names (correlations refer to them by name)", fix="rename one of them")
    known = list(unc.drivers) + list(unc.events)
    seen: dict[frozenset, int] = {}
    before = len(problems)
    for i, c in enumerate(unc.correlations):
        ok = True
        for n in c.between:
            if n not in known:
                ok = False
                add(f"correlation names unknown driver or event '{n}'", ("correlations", i, "between"), value=n,
                    expected="one of: " + (", ".join(known) or "(no drivers or events defined)"),
                    fix="correct the name, or define the driver under uncertainty.drivers." + did_you_mean(n, known))
        if c.between[0] == c.between[1]:
            ok = False
            add("correlation of a driver with itself", ("correlations", i, "between"), value=list(c.between),
                expected="two different drivers or events", fix="name two different ones")
        key = frozenset(c.between)
        if ok and key in seen:
            add(f"correlation between {c.between[0]} and {c.between[1]} given twice",
                ("correlations", i), value=c.rho, expected="each pair once",
                fix=f"remove one of uncertainty.correlations.{seen[key]} and uncertainty.correlations.{i}")
            ok = False
        seen.setdefault(key, i)
    if len(problems) == before and unc.correlations:  # the names are right: is the matrix possible?
        involved = [n for n in known if any(n in c.between for c in unc.correlations)]
        r = correlation_matrix(involved, unc.correlations)
        low = float(np.linalg.eigvalsh(r).min())
        if low < -PSD_TOL:
            pairs = ", ".join(f"{c.between[0]}~{c.between[1]} {c.rho:+g}" for c in unc.correlations[:6])
            more = f" and {len(unc.correlations) - 6} more" if len(unc.correlations) > 6 else ""
            add(f"the correlations ({pairs}{more}) are inconsistent: their matrix is not positive semi-definite",
                ("correlations",), value=f"smallest eigenvalue {low:.3g}",
                expected="a matrix a set of variables can have (e.g. a~b 0.9 and b~c 0.9 force a~c > 0.6)",
                fix="weaken the correlations that contradict each other (move them towards 0)")
    return problems


def require_valid(portfolio) -> None:
    """Raise one ScenarioError listing every problem of the uncertainty section (see check_uncertainty)."""
    problems = check_uncertainty(portfolio)
    if problems:
        raise ScenarioError(problems, title="uncertainty section is invalid")


__all__ = ["BLOCK", "Sampler", "Sample", "Variable", "check_uncertainty", "require_valid", "price_options",
           "distribution_moments", "correlation_matrix", "matrix_factor"]
