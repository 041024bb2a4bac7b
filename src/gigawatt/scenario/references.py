"""Names that point at other entries (a site's accelerators, a contract's counterparty, ...), checked on the
raw scenario dict so that a file with schema errors also hears about its unknown names in the same run.

Only used when the schema check fails: a valid scenario has its references checked, with more context, as
the portfolio is built (gigawatt.portfolio). Anything of the wrong shape here is skipped: the schema errors
already name it.
"""

from __future__ import annotations

from gigawatt.errors import Problem, did_you_mean
from gigawatt.scenario.resolved import Resolved, dotted


def _names(data: dict, key: str) -> list[str]:
    section = data.get(key)
    return [str(k) for k in section] if isinstance(section, dict) else []


def _entries(data: dict, key: str):
    section = data.get(key)
    if isinstance(section, dict):
        for name, entry in section.items():
            if isinstance(entry, dict):
                yield str(name), entry


def _listed(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _references(data: dict):
    """(key path, name, what it must be, the known names) for every reference in the file."""
    from gigawatt.catalog.load import accelerator_ids, load_catalog

    accels = sorted({*accelerator_ids(), *_names(data, "accelerators")})
    sites, providers = _names(data, "sites"), _names(data, "providers")
    vendors = sorted(set(load_catalog()["vendor"].dropna().astype(str)))
    for pname, prov in _entries(data, "providers"):
        for s in _listed(prov.get("sites")):
            yield ("providers", pname, "sites"), s, "site", sites
        if isinstance(prov.get("offers"), dict):
            for a in prov["offers"]:
                yield ("providers", pname, "offers", str(a)), str(a), "accelerator", accels
    for sname, site in _entries(data, "sites"):
        for a in _listed(site.get("accelerators")):
            yield ("sites", sname, "accelerators"), a, "accelerator", accels
    for cname, c in _entries(data, "contracts"):
        if isinstance(c.get("accelerator"), str):
            yield ("contracts", cname, "accelerator"), c["accelerator"], "accelerator", accels
        if isinstance(c.get("counterparty"), str) and c.get("kind") in ("capacity", "supply"):
            known, what = (providers, "provider") if c["kind"] == "capacity" else (vendors, "vendor")
            yield ("contracts", cname, "counterparty"), c["counterparty"], what, known
    for wname, w in _entries(data, "workloads"):
        for a in _listed(w.get("accelerators")):
            yield ("workloads", wname, "accelerators"), a, "accelerator", accels
        for p in _listed(w.get("providers")):
            yield ("workloads", wname, "providers"), p, "provider", providers
    policy = data.get("policy")
    for tname, t in _entries(policy if isinstance(policy, dict) else {}, "share_targets"):
        for p in _listed(t.get("providers")):
            yield ("policy", "share_targets", tname, "providers"), p, "provider", providers


def reference_problems(resolved: Resolved, skip: set[tuple[str, ...]] = frozenset()) -> list[Problem]:
    """A problem for each name that matches no entry, except at key paths in ``skip`` (already reported)."""
    out = []
    for path, name, what, known in _references(resolved.data):
        if any(path[:len(s)] == s or s[:len(path)] == path for s in skip):
            continue
        if name not in known:
            out.append(Problem(f"unknown {what} '{name}'", path=dotted(path), value=name,
                               location=resolved.where(path),
                               expected=f"one of: {', '.join(known)}" if known else f"a {what} defined in the file",
                               fix="correct the name or define it." + did_you_mean(name, known)))
    return out


__all__ = ["reference_problems"]
