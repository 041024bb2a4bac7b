"""Cross-references and consistency of a scenario's ``uncertainty`` section, reported as five-part problems
all at once (:func:`check_uncertainty`), and which supply options a price driver scales."""

from __future__ import annotations

import numpy as np

from gigawatt.errors import Problem, ScenarioError, did_you_mean
from gigawatt.risk.distributions import PARAMS, PSD_TOL, correlation_matrix


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


class _Report:
    """Problems of the uncertainty section, each at its key path and file:line."""

    def __init__(self, resolved):
        self.resolved = resolved
        self.problems: list[Problem] = []

    def add(self, what: str, path: tuple, **kw) -> None:
        full = ("uncertainty",) + tuple(str(p) for p in path)
        self.problems.append(Problem(what, path=".".join(full),
                                     location=self.resolved.where(full) if self.resolved else None, **kw))


def check_uncertainty(portfolio) -> list[Problem]:
    """Cross-references and consistency of the scenario's ``uncertainty`` section, as five-part problems.

    Checks: each driver's applies_to names exist for its target; its params fit its distribution; each
    event's target exists for its kind and carries the fields its kind needs; correlations name known
    drivers or events, each pair once; the correlation matrix is positive semi-definite."""
    unc = portfolio.scenario.uncertainty
    names = _names(portfolio)
    report = _Report(portfolio.resolved)
    add = report.add
    for dname, d in unc.drivers.items():
        _check_applies_to(add, portfolio, names, dname, d)
        _check_params(add, dname, d)
    for ename, e in unc.events.items():
        _check_event(add, names, ename, e)
    clash = set(unc.drivers) & set(unc.events)
    for n in sorted(clash):
        add(f"'{n}' names both a driver and an event", ("events", n), value=n,
            expected="distinct names (correlations refer to them by name)", fix="rename one of them")
    _check_correlations(report, unc)
    return report.problems


def _check_applies_to(add, portfolio, names: dict[str, list[str]], dname: str, d) -> None:
    """The names a driver applies to exist for its target."""
    known_for = {
        "demand": ("workloads", names["workloads"]),
        "revenue": ("workloads (or 'exogenous' for finance.revenue)", names["workloads"] + ["exogenous"]),
        "energy_price": ("sites", names["sites"]),
        "other_costs": ("finance.other_costs entries", names["other_costs"]),
    }
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


def _check_params(add, dname: str, d) -> None:
    """A driver's params are the ones its distribution takes, of the right shape and in range."""
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
        return
    bad_type = [k for k in need if isinstance(d.params[k], list) != (k == "values")]
    if bad_type:
        k = bad_type[0]
        add(f"parameter '{k}' of a {d.distribution} distribution has the wrong shape",
            ("drivers", dname, "params", k), value=d.params[k],
            expected="a list of numbers" if k == "values" else "one number",
            fix="write values as a list [0.9, 1.0, 1.2], other parameters as numbers")
        return
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


def _check_event(add, names: dict[str, list[str]], ename: str, e) -> None:
    """An event's target exists for its kind, and it carries the fields its kind needs (and no others)."""
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


def _check_correlations(report: _Report, unc) -> None:
    """Correlations name known drivers or events, each pair once, and their matrix is possible."""
    add, problems = report.add, report.problems
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


def require_valid(portfolio) -> None:
    """Raise one ScenarioError listing every problem of the uncertainty section (see check_uncertainty)."""
    problems = check_uncertainty(portfolio)
    if problems:
        raise ScenarioError(problems, title="uncertainty section is invalid")
