"""Synthetic scenarios of growing size with the planner's structure, for benchmarks/bench_planner.py.

Each scenario is a plain dict in the scenario format (docs/scenario-format.md), validated by the real
schema and turned into a Portfolio by the real builder, so a benchmark measures the path a user's file
takes. Everything is drawn from ``numpy.random.default_rng(seed)``: same size and seed, same scenario.

The structure follows issue 3: cloud and neocloud providers renting a subset of the accelerators on
demand (some offers with an availability limit), owned and joint-venture sites with a power envelope
that grows over time, a lead time and a subset of installable accelerators, firm capacity contracts,
a capacity option, a firm vendor supply deal, two or more workloads (training and inference; the large
size adds research restricted to some accelerators, batch inference restricted to some providers, and
post-training, to pass one million variables), a 75% share target for a group of providers and an 80%
cap on one vendor. Accelerators are synthetic and defined in full in the scenario (every figure the planner
needs), so the benchmark does not depend on which catalog figures are published; ``h100`` is among
them because it is the H100e reference.

Usage::

    python benchmarks/generate.py --size medium            # counts of the scenario's components
    python benchmarks/generate.py --size small --yaml s.yaml  # write it as YAML
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Size:
    """Dimensions of a synthetic scenario."""

    clouds: int  # cloud and neocloud providers
    accelerators: int  # distinct accelerators (≤ 17)
    offers_per_cloud: int  # accelerators each cloud rents
    sites: int  # owned and joint-venture sites
    accelerators_per_site: int  # accelerators installable at each site
    step: str  # year, quarter or month
    periods: int
    workloads: int = 2  # 2: training + inference; then research (restricted accelerators), batch (restricted
    # providers), post_training


SIZES: dict[str, Size] = {
    "tiny": Size(clouds=5, accelerators=4, offers_per_cloud=4, sites=10, accelerators_per_site=3, step="year",
                 periods=10),
    "small": Size(clouds=10, accelerators=17, offers_per_cloud=8, sites=20, accelerators_per_site=8,
                  step="quarter", periods=40),
    "medium": Size(clouds=20, accelerators=17, offers_per_cloud=10, sites=50, accelerators_per_site=16,
                   step="month", periods=60),
    "large": Size(clouds=40, accelerators=17, offers_per_cloud=17, sites=50, accelerators_per_site=17,
                  step="month", periods=120, workloads=5),
}

# Sizes between tiny and small, where HiGHS's simplex and interior point cross over
# (bench_planner.py --sweep; sets IPM_THRESHOLD_VARIABLES in src/gigawatt/optimize/solve.py).
SWEEP: list[Size] = [
    Size(clouds=5, accelerators=6, offers_per_cloud=4, sites=5, accelerators_per_site=4, step="year", periods=10),
    Size(clouds=5, accelerators=8, offers_per_cloud=5, sites=8, accelerators_per_site=5, step="quarter", periods=20),
    Size(clouds=8, accelerators=10, offers_per_cloud=6, sites=10, accelerators_per_site=6, step="quarter", periods=20),
    Size(clouds=8, accelerators=12, offers_per_cloud=6, sites=12, accelerators_per_site=6, step="quarter", periods=32),
    Size(clouds=10, accelerators=17, offers_per_cloud=8, sites=15, accelerators_per_site=8, step="quarter", periods=32),
    Size(clouds=10, accelerators=17, offers_per_cloud=8, sites=20, accelerators_per_site=8, step="quarter", periods=40),
    Size(clouds=10, accelerators=17, offers_per_cloud=8, sites=20, accelerators_per_site=8, step="month", periods=48),
    Size(clouds=12, accelerators=17, offers_per_cloud=8, sites=25, accelerators_per_site=10, step="quarter", periods=40),
]

START_YEAR = 2026
_PER_YEAR = {"year": 1, "quarter": 4, "month": 12}

# (id, vendor, generation) for the 17 synthetic accelerators; generation 0 is the H100 reference.
_ACCELERATORS = [
    ("h100", "nvidia", 0), ("h200", "nvidia", 0.4), ("b200", "nvidia", 1), ("b300", "nvidia", 1.5),
    ("gb200", "nvidia", 1.2), ("gb300", "nvidia", 1.7), ("vr200", "nvidia", 2.5), ("vr300", "nvidia", 3.2),
    ("rubin_cpx", "nvidia", 2.8), ("mi300x", "amd", 0.2), ("mi355x", "amd", 1.1), ("mi450x", "amd", 2.3),
    ("mi500", "amd", 3.0), ("tpu_v6", "google", 0.6), ("tpu_v7", "google", 1.8), ("trn2", "aws", 0.5),
    ("trn3", "aws", 1.9),
]


def _label(step: str, k: int) -> str:
    """Label of the k-th period from the horizon start."""
    if step == "year":
        return str(START_YEAR + k)
    if step == "quarter":
        return f"{START_YEAR + k // 4}Q{k % 4 + 1}"
    return f"{START_YEAR + k // 12}-{k % 12 + 1:02d}"


def _month_label(months: int) -> str:
    return f"{START_YEAR + months // 12}-{months % 12 + 1:02d}"


def scenario(size: str | Size, *, seed: int = 0) -> dict:
    """A scenario dict of the given size (a name of :data:`SIZES` or a :class:`Size`), deterministic in ``seed``."""
    s = SIZES[size] if isinstance(size, str) else size
    if not 2 <= s.accelerators <= len(_ACCELERATORS):
        raise ValueError(f"accelerators: between 2 and {len(_ACCELERATORS)}, got {s.accelerators}")
    rng = np.random.default_rng(seed)
    per_year = _PER_YEAR[s.step]
    years = s.periods / per_year
    first, last = _label(s.step, 0), _label(s.step, s.periods - 1)

    # accelerators: h100 and mi300x always (reference and a non-nvidia chip available from the start)
    pick = [0, 9] + [i for i in range(len(_ACCELERATORS)) if i not in (0, 9)]
    chosen = sorted(pick[: s.accelerators])
    accelerators: dict[str, dict] = {}
    for i in chosen:
        aid, vendor, gen = _ACCELERATORS[i]
        speed = 2.0 ** gen * rng.uniform(0.9, 1.1) if gen else 1.0
        available_months = max(-24, int(round(gen * 12 - 18)))  # later generations arrive later
        accelerators[aid] = {
            "vendor": vendor,
            "available": _month_label(available_months),
            "bf16_flops": f"{989 * speed:.1f} TFLOP/s",
            "all_in_power": f"{1.3 * speed ** 0.6 * rng.uniform(0.9, 1.1):.3f} kW",
            "purchase_price": f"{25_000 * speed ** 0.8 * rng.uniform(0.85, 1.15):.0f} USD",
            "rental_price": f"{2.4 * speed ** 0.85 * rng.uniform(0.9, 1.2):.3f} USD/h",
            "committed_price": f"{1.9 * speed ** 0.85 * rng.uniform(0.9, 1.1):.3f} USD/h",
            "utilisation_training": round(0.40 if aid == "h100" else float(rng.uniform(0.33, 0.45)), 3),
            "utilisation_inference": round(0.30 if aid == "h100" else float(rng.uniform(0.22, 0.35)), 3),
            "useful_life": f"{int(rng.integers(4, 7))} years",
            "source": "synthetic (benchmarks/generate.py)",
        }
    ids = list(accelerators)
    installable = ids  # own sites may install any of them (custom silicon under a vendor deal included)

    providers: dict[str, dict] = {}
    for c in range(s.clouds):
        name = f"cloud_{c:02d}"
        offered = sorted(rng.choice(len(ids), size=min(s.offers_per_cloud, len(ids)), replace=False))
        if c < 2:  # the first two clouds rent h100 and mi300x without limit: the scenario is always feasible
            offered = sorted(set(offered) | {ids.index("h100"), ids.index("mi300x")})
        offers = {}
        for k in offered:
            aid = ids[k]
            base = float(accelerators[aid]["rental_price"].split()[0])
            offer: dict = {"on_demand_price": f"{base * rng.uniform(0.85, 1.25):.3f} USD/h"}
            if c >= 2 and rng.random() < 0.5:
                offer["available"] = f"{int(rng.integers(5, 60)) * 1000} chips"
            offers[aid] = offer
        providers[name] = {"kind": "cloud" if c % 3 else "neocloud", "offers": offers}
    site_names = [f"site_{i:02d}" for i in range(s.sites)]
    n_jv = max(1, s.sites // 3)
    providers["lab"] = {"kind": "owned", "sites": site_names[n_jv:]}
    providers["jv"] = {"kind": "joint_venture", "sites": site_names[:n_jv]}

    sites: dict[str, dict] = {}
    for i, name in enumerate(site_names):
        final_mw = float(rng.uniform(200, 2500))
        k = min(s.accelerators_per_site, len(installable))
        allowed = [installable[j] for j in sorted(rng.choice(len(installable), size=k, replace=False))]
        if "h100" not in allowed:  # h100 everywhere: the vendor deal's chips can go to any site with power
            allowed[-1] = "h100"
        site = {
            "power_max": {"points": {first: "0 MW", _label(s.step, s.periods // 2): f"{final_mw / 2:.1f} MW",
                                     last: f"{final_mw:.1f} MW"}, "interpolate": "linear"},
            "build_cost": f"{rng.uniform(9.0, 13.5):.2f} million USD/MW",
            "lead_time": f"{int(rng.choice([0, 6, 12, 18, 24, 36]))} months",
            "pue": round(float(rng.uniform(1.08, 1.35)), 3),
            "energy_price": f"{rng.uniform(35, 95):.1f} USD/MWh",
            "accelerators": sorted(allowed),
        }
        if i % 5 == 0:  # some sites already have power
            existing = float(rng.uniform(20, 150))
            site["power_existing"] = f"{existing:.1f} MW"
            pts = site["power_max"]["points"]  # the envelope starts at the existing power and never falls
            pts[first] = site["power_existing"]
            mid = _label(s.step, s.periods // 2)
            pts[mid] = f"{max(final_mw / 2, existing):.1f} MW"
        sites[name] = site

    contracts: dict[str, dict] = {}
    clouds = [p for p in providers if p.startswith("cloud_")]
    for j, name in enumerate(clouds[: max(2, s.clouds // 4)]):
        aid = sorted(providers[name]["offers"])[0]
        start = _label(s.step, int(rng.integers(0, max(1, s.periods // 3))))
        contracts[f"{name}_reserved"] = {
            "counterparty": name, "kind": "capacity", "accelerator": aid, "start": start,
            "term": f"{int(rng.integers(2, 5))} years", "chips": f"{int(rng.integers(10, 80)) * 1000} chips",
            "price": accelerators[aid]["committed_price"], "take_or_pay": "100%" if j % 2 == 0 else "80%",
            "source": "synthetic",
        }
    contracts["option_capacity"] = {
        "counterparty": clouds[-1], "kind": "capacity", "accelerator": sorted(providers[clouds[-1]]["offers"])[-1],
        "start": first, "term": f"{max(1, int(years // 2))} years", "chips": "40000 chips", "price": "1.5 USD/h",
        "firm": False, "source": "synthetic",
    }
    # deliveries start in the second year (sites power up from zero) at ~6 MW per site and year
    contracts["vendor_deal"] = {
        "counterparty": "nvidia", "kind": "supply", "accelerator": "h100",
        "start": _label(s.step, min(per_year, s.periods - 1)), "term": f"{max(1, int(years // 3))} years",
        "chips": f"{5 * s.sites * max(1, int(years // 3))} thousand chips",
        "equity_per_gw": "1 billion USD/GW", "source": "synthetic",
    }

    grow = {1: 1.0, 4: 0.6, 12: 0.35}[per_year] if years > 5 else 1.0
    workloads: dict[str, dict] = {
        "training": {"kind": "training", "demand": {
            "base": f"{3000 * s.sites / per_year:.0f} million H100_hours", "base_period": first,
            "growth_per_year": f"{45 * grow:.0f}%"}},
        "inference": {"kind": "inference", "demand": {
            "base": f"{2000 * s.sites / per_year:.0f} million H100_hours", "base_period": first,
            "growth_per_year": f"{80 * grow:.0f}%"}},
    }
    if s.workloads >= 3:
        workloads["research"] = {"kind": "research", "accelerators": [a for a in ids if a not in ("rubin_cpx",)],
                                 "demand": f"{500 * s.sites / per_year:.0f} million H100_hours"}
    if s.workloads >= 4:
        workloads["batch"] = {"kind": "inference", "providers": ["lab", "jv"] + clouds[: len(clouds) // 2],
                              "demand": {"base": f"{800 * s.sites / per_year:.0f} million H100_hours",
                                         "base_period": first, "growth_per_year": f"{60 * grow:.0f}%"}}
    if s.workloads >= 5:
        workloads["post_training"] = {"kind": "training", "demand": {
            "base": f"{1000 * s.sites / per_year:.0f} million H100_hours", "base_period": first,
            "growth_per_year": f"{70 * grow:.0f}%"}}

    group = ["lab", "jv"] + clouds[: max(2, len(clouds) // 3)]
    from_year = [_label(s.step, k) for k in range(min(per_year, s.periods - 1), s.periods)]
    policy = {"share_targets": {
        "partners": {"providers": group, "min_share": "75%", "periods": from_year},
        "nvidia_cap": {"vendors": ["nvidia"], "max_share": "80%"},
    }}
    return {
        "meta": {"name": f"bench-{size if isinstance(size, str) else 'custom'}",
                 "description": f"synthetic benchmark scenario (seed {seed})"},
        "horizon": {"start": first, "end": last, "step": s.step, "discount_rate": "8%"},
        "accelerators": accelerators, "providers": providers, "sites": sites, "contracts": contracts,
        "workloads": workloads, "policy": policy,
    }


def portfolio(size: str | Size, *, seed: int = 0):
    """The scenario validated by the real schema and built into a Portfolio."""
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.schema import Scenario

    return Portfolio.from_scenario(Scenario.model_validate(scenario(size, seed=seed)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="tiny", choices=list(SIZES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--yaml", help="write the scenario to this YAML file")
    args = ap.parse_args()
    sc = scenario(args.size, seed=args.seed)
    if args.yaml:
        import yaml

        with open(args.yaml, "w") as fh:
            yaml.safe_dump(sc, fh, sort_keys=False)
    p = portfolio(args.size, seed=args.seed)
    kinds = p.supply["kind"].value_counts().to_dict()
    print(f"{args.size}: {len(p.periods)} periods, {len(p.sites)} sites, {len(p.workloads)} workloads, "
          f"supply options {kinds}, {len(p.targets)} targets")


if __name__ == "__main__":
    main()
