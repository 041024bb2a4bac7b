#!/usr/bin/env python3
"""Rules of thumb the catalog and the reference scenario are checked against (docs/reference-openai-checks.md).

    .venv/bin/python scripts/reference_checks.py            # print every check: public figure, gigawatt's, verdict
    .venv/bin/python scripts/reference_checks.py --margins  # print the lessor margin each contract price implies
    .venv/bin/python scripts/reference_checks.py --write    # rewrite docs/reference-openai-checks.md

Each gigawatt figure is recomputed here from src/gigawatt/catalog/accelerators.csv and scenarios/openai.yaml (as
merged with its imports), never typed in; tests/test_reference.py asserts that every verdict still holds and that
the page shows the figures this script gives, so the page cannot go stale silently.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "openai.yaml"
DOC = ROOT / "docs" / "reference-openai-checks.md"
HOURS_PER_YEAR = 8766.0  # 365.25 days: a term's average year

# --- quantities as the scenario files write them ---------------------------------------------------------------

_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "M": 1e6, "billion": 1e9, "B": 1e9, "trillion": 1e12}
_UNITS = {  # unit -> (dimension, factor to the dimension's base)
    "W": ("power", 1.0), "kW": ("power", 1e3), "MW": ("power", 1e6), "GW": ("power", 1e9),
    "USD": ("usd", 1.0), "USD/h": ("usd/h", 1.0), "USD/hour": ("usd/h", 1.0),
    "USD/MW": ("usd/mw", 1.0), "USD/MWh": ("usd/mwh", 1.0),
    "year": ("time", 1.0), "years": ("time", 1.0), "months": ("time", 1 / 12), "month": ("time", 1 / 12),
}


def quantity(text, unit: str) -> float:
    """'1.085 kW' -> 1.085 (unit kW); '38 billion USD' -> 3.8e10 (unit USD); bare numbers are taken as `unit`."""
    if isinstance(text, (int, float)):
        return float(text)
    m = re.fullmatch(r"\s*([-+\d.,eE]+)\s*(thousand|million|billion|trillion|k|M|B)?\s*(\S+)?\s*", str(text))
    if not m:
        raise ValueError(f"cannot read {text!r} as a quantity")
    value = float(m.group(1).replace(",", "")) * _SCALE.get(m.group(2) or "", 1.0)
    have = m.group(3) or unit
    dim, f = _UNITS[have]
    dim2, f2 = _UNITS[unit]
    if dim != dim2:
        raise ValueError(f"{text!r} is not in {unit}")
    return value * f / f2


def scenario(variant: str | None = None) -> dict:
    from gigawatt.scenario.load import read

    return read(SCENARIO, scenario=variant, sets=[]).data


def catalog():
    from gigawatt.catalog import load_catalog

    return load_catalog()


# --- per-accelerator figures on the catalog basis (scenario overrides first) ------------------------------------

def accel(acc: str, data: dict) -> dict:
    """all-in kW, all-in system cost (USD) and useful life (years) of an accelerator, the scenario's
    figures first, then the catalog's (following `base:`)."""
    cat = catalog()
    spec = data.get("accelerators", {}).get(acc, {}) or {}
    base = spec.get("base", acc)
    row = cat.loc[base] if base in cat.index else None
    if acc in cat.index:
        row = cat.loc[acc]

    def pick(field, cat_col, unit, scale=1.0):
        if field in spec:
            return quantity(spec[field], unit)
        if row is not None and row[cat_col] == row[cat_col]:  # not NaN
            return float(row[cat_col]) * scale
        return None

    return {"kw": pick("all_in_power", "all_in_power_w", "kW", 1e-3),
            "price": pick("purchase_price", "purchase_price_usd", "USD"),
            "life": pick("useful_life", "useful_life_years", "years") or 5.0}


def site_defaults(data: dict) -> dict:
    """Building cost per MW, energy price and facility life the reference's sites use (all sites share them)."""
    sites = data["sites"]
    s = next(iter(sites.values()))
    return {"build_usd_per_mw": quantity(s["build_cost"], "USD/MW"),
            "energy_usd_per_mwh": quantity(s["energy_price"], "USD/MWh"),
            "facility_life": quantity(s.get("facility_life", 14), "years")}


# --- contracts: implied price per chip-hour and the lessor margin it implies -----------------------------------

def _ramp_years(c: dict) -> float:
    """Years of full capacity the contract pays for over its whole term: Σ ramp level × the year's share of the
    term; years of the term past the ramp's last key at its last level ('flat' = 1)."""
    start = str(c["start"])
    y0 = int(start[:4])
    m0 = int(start[5:7]) if len(start) >= 7 and start[4] == "-" else 1
    term = quantity(c["term"], "years")
    ramp = c.get("ramp", "flat")
    levels = {} if ramp == "flat" else {int(k): float(v) for k, v in ramp.items()}
    total, t, year = 0.0, 0.0, y0
    first = (13 - m0) / 12
    while t < term - 1e-9:
        span = min(first if year == y0 else 1.0, term - t)
        last = levels[max(k for k in levels if k <= year)] if levels and any(k <= year for k in levels) else 1.0
        total += span * (levels.get(year, last) if levels else 1.0)
        t += span
        year += 1
    return total


@dataclass
class ContractPrice:
    name: str
    counterparty: str
    accelerator: str
    firm: bool
    price: float          # USD per chip-hour, as given or implied by value ÷ (chips × ramp-weighted hours)
    how: str
    lessor_cost: float | None   # USD per chip-hour: system depreciation + building + energy (catalog basis)
    margin: float | None  # 1 − lessor_cost / price


def contract_prices(data: dict | None = None) -> list[ContractPrice]:
    data = data or scenario()
    site = site_defaults(data)
    out = []
    for name, c in data["contracts"].items():
        if c["kind"] != "capacity":
            continue
        a = accel(c["accelerator"], data)
        if "price" in c:
            price, how = quantity(c["price"], "USD/h"), "stated price"
        else:
            chips = quantity(c["chips"], "USD") if "chips" in c else quantity(c["power"], "kW") / a["kw"]
            price = quantity(c["value"], "USD") / (chips * _ramp_years(c) * HOURS_PER_YEAR)
            how = "value ÷ (chips × ramp-weighted hours of the term)"
        cost = None
        if a["price"] and a["kw"]:
            hw = a["price"] / (a["life"] * HOURS_PER_YEAR)
            building = site["build_usd_per_mw"] * a["kw"] / 1e3 / (site["facility_life"] * HOURS_PER_YEAR)
            energy = a["kw"] / 1e3 * site["energy_usd_per_mwh"]
            cost = hw + building + energy
        out.append(ContractPrice(name, c["counterparty"], c["accelerator"], c.get("firm", True), price, how, cost,
                                 None if cost is None else 1 - cost / price))
    return out


# --- the checks ----------------------------------------------------------------------------------------------------

@dataclass
class Check:
    key: str
    quantity: str
    public: str          # the public figure as published, with its source
    low: float
    high: float
    value: float         # gigawatt's figure, recomputed
    fmt: str             # how to print value/low/high
    how: str             # how gigawatt's figure is computed
    expect: str          # "inside" or "outside" (an explained disagreement, see the page)

    @property
    def verdict(self) -> str:
        return "inside" if self.low <= self.value <= self.high else "outside"

    def show(self, v: float) -> str:
        return self.fmt.format(v / 1e9 if self.fmt.endswith("B") else v)


def checks() -> list[Check]:
    data = scenario()
    site = site_defaults(data)
    gb300, gb200, rubin = accel("gb300", data), accel("gb200", data), accel("rubin", data)
    per_gw = lambda a: 1e6 / a["kw"]  # chips per GW of facility power  # noqa: E731
    build_gw = site["build_usd_per_mw"] * 1e3  # USD per GW of facility power
    out = [
        Check("gpus_per_gw_gb300", "GB300 GPUs per GW of facility power",
              "455k–525k GB200-class GPUs per GW: NVL72 rack 120–132 kW (STH/Tom's Hardware; Supermicro power-shelf cap "
              "via Introl) / 72 GPUs × PUE 1.14–1.2 (LBNL via Epoch; SemiAnalysis), bottom-up", 455e3, 525e3,
              per_gw(gb300), "{:,.0f}", "1 GW ÷ catalog all-in power per GPU (1,910 W)", "inside"),
        Check("gpus_per_gw_rubin", "Rubin GPUs per GW of facility power",
              "\"10 gigawatts, or roughly 4 million or 5 million GPUs\" (Jensen Huang, CNBC, 2025-09-22)", 400e3, 500e3,
              per_gw(rubin), "{:,.0f}", "1 GW ÷ catalog all-in power per Rubin GPU (2,058 W)", "inside"),
        Check("gpus_per_gw_norway", "GB300 GPUs per GW vs Stargate Norway",
              "100,000 Nvidia GPUs by end-2026 in the 230 MW first phase of Stargate Norway (Nscale/Aker release, "
              "2025-07-31) = 435k per GW; band ±25% (site power may include headroom)", 435e3 * 0.75, 435e3 * 1.25,
              per_gw(gb300), "{:,.0f}", "1 GW ÷ catalog all-in power per GB300 GPU", "inside"),
        Check("nvidia_hw_per_gw", "GB300 systems per GW of facility power (USD)",
              "≈$24B per GW captured by Nvidia on Blackwell (UBS, low-quality page) to ≈$35B of Nvidia hardware "
              "per GW (Jensen Huang, Nvidia Q2 FY26 call, Aug 2025)", 24e9, 35e9,
              per_gw(gb300) * gb300["price"], "${:,.1f}B", "GPUs per GW × catalog all-in system cost per GPU",
              "inside"),
        Check("capex_per_gw", "All-in capex per GW: GB300 systems + building (USD)",
              "$29B per GW of facility power (Epoch data-centre hub, 2025-11) to $60B (\"$50–60B per GW\" all-in, "
              "Jensen Huang to CNBC, 2025-10); between: Bernstein ≈$35B, Epoch TCO model $38B per GW of IT "
              "(May 2026), Altman \">$40B\" (2025-10-28), FT and Huang ≈$50B", 29e9, 60e9,
              per_gw(gb300) * gb300["price"] + build_gw, "${:,.1f}B",
              "systems per GW + the reference sites' building cost (10.3 million USD/MW × 1,000)", "inside"),
        Check("capex_per_gw_it_gb200", "All-in capex per GW of IT load, GB200 NVL72 (USD)",
              "$38B capex per GW of IT for GB200 NVL72 (Epoch, AI data-centre cost breakdown, May 2026); "
              "band ±20%", 38e9 * 0.8, 38e9 * 1.2,
              1e6 / (gb200["kw"] / 1.14) * gb200["price"] + site["build_usd_per_mw"] * 1.14 * 1e3, "${:,.1f}B",
              "GPUs per GW of IT (1 GW ÷ (1.90 kW ÷ PUE 1.14)) × system cost + building per GW of IT "
              "(10.3 million USD/MW × 1.14 × 1,000)", "inside"),
        Check("uae_per_gw", "All-in capex per GW vs Stargate UAE (USD)",
              "\">$30B for the full 1 GW\" of Stargate UAE (The Next Web, est.; GB300 first phase); "
              "upper end $60B as above", 30e9, 60e9,
              per_gw(gb300) * gb300["price"] + build_gw, "${:,.1f}B", "as capex_per_gw", "inside"),
    ]
    # deal value per GW: the reference's capacity contracts that state both value and power
    vals = [(quantity(c["value"], "USD"), quantity(c["power"], "GW")) for c in data["contracts"].values()
            if c["kind"] == "capacity" and "value" in c and "power" in c and c.get("firm", True)]
    out.append(Check("deal_value_per_gw", "Firm contract value per GW, contracts with value and power (USD)",
                     "~$1T of compute deals for >20 GW, \"~$50B per GW\" (FT, 2025-10); $1.4T for ~30 GW = $47B "
                     "(Altman, 2025-10-28); band $40–60B", 40e9, 60e9,
                     sum(v for v, _ in vals) / sum(g for _, g in vals), "${:,.1f}B",
                     "Σ value ÷ Σ power of the firm capacity contracts that state both (Oracle 4.5 GW, AWS "
                     "Trainium, Cerebras)", "inside"))
    # lessor margins: the two contracts whose price follows from the record's value and power
    prices = {p.name: p for p in contract_prices(data)}
    p = prices["oracle_4_5gw"]
    out.append(Check("margin_oracle_4_5gw", "Oracle 4.5 GW: lessor gross margin the price implies",
                     "Oracle: 14% gross margin on Nvidia GPU rentals, Jun–Aug 2025, range <10% to ~20% over the "
                     "prior year (The Information, 2025-10); 35% over a 6-year, $60B AI-infrastructure contract "
                     "(Oracle analyst day, 2025-10-16)", 0.10, 0.35, p.margin, "{:.0%}",
                     "1 − lessor cost per GPU-hour (system cost ÷ 5 years + building ÷ 14 years + energy, catalog "
                     "basis) ÷ implied price per GPU-hour", "outside"))
    return out


def margin_table(data: dict | None = None) -> str:
    rows = ["| contract | accelerator | firm | price per chip-hour | how | lessor cost per chip-hour | implied "
            "gross margin |", "|---|---|---|---|---|---|---|"]
    for p in contract_prices(data):
        cost = "n/a (no purchase price)" if p.lessor_cost is None else f"${p.lessor_cost:.2f}"
        m = "n/a" if p.margin is None else f"{p.margin:.0%}"
        rows.append(f"| `{p.name}` | {p.accelerator} | {'yes' if p.firm else 'option'} | ${p.price:.2f} | {p.how} "
                    f"| {cost} | {m} |")
    return "\n".join(rows)


def check_table(cs: list[Check] | None = None) -> str:
    cs = cs or checks()
    rows = ["| check | public figure (source, date) | public range | gigawatt | how gigawatt's figure is computed "
            "| verdict |", "|---|---|---|---|---|---|"]
    for c in cs:
        rows.append(f"| `{c.key}`: {c.quantity} | {c.public} | {c.show(c.low)} – {c.show(c.high)} | "
                    f"**{c.show(c.value)}** | {c.how} | {c.verdict} |")
    return "\n".join(rows)


INTRO = """# Rules of thumb the catalog and the reference are checked against

<!-- Generated by scripts/reference_checks.py (`.venv/bin/python scripts/reference_checks.py --write`); the text
around the tables is in that script. tests/test_reference.py recomputes every figure and fails if this page or a
verdict is stale. -->

Each row puts a public rule of thumb (with its source and date) beside the same figure computed by gigawatt from
its own data: the accelerator catalog (`src/gigawatt/catalog/accelerators.csv`, see docs/catalog.md) and the
reference scenario (`scenarios/openai.yaml` with its imports). Produce the tables with
`.venv/bin/python scripts/reference_checks.py` (checks) and `... --margins` (lessor margins). A verdict "inside"
means gigawatt's figure lies in the public range; "outside" is a disagreement explained below the table.
Conventions: GW = facility power (PUE 1.14 included) unless "of IT" is said; USD nominal.

## Catalog and scenario against published per-GW and per-site figures

"""

MARGIN_TEXT = """
## The lessor margin each contract price implies

A capacity contract's price per chip-hour is stated (`price:`) or implied by its value ÷ (chips × the ramp-weighted
hours of its term). The lessor's cost per chip-hour, on the catalog's basis, is the all-in system cost over the
catalog's useful life (5 years), the building over the facility life (the reference sites' 10.3 million USD/MW over
14 years) and energy (60 USD/MWh), all at the accelerator's all-in power; no financing cost (a gross margin, like
the lessors' reported figures). Margin = 1 − cost ÷ price.

"""

OUTSIDE_TEXT = """
**Why `margin_oracle_4_5gw` is outside.** Reported lessor gross margins are 14% (Oracle's Nvidia-server rentals,
Jun–Aug 2025; <10% to ~20% over the prior year, ~16% on average; The Information, 2025-10, via moneycheck.com) and
35% (Oracle's example of a $60B, six-year AI-infrastructure contract, analyst day 2025-10-16; Bloomberg via
versaaihub.com). The reference's long-term Blackwell price, $3.46 per GPU-hour, is derived from the Oracle 4.5 GW
deal itself ("~$300B over ~5 years", WSJ 2025-09; 4.5 GW, Reuters 2025-07-22) at the catalog's 1.91 kW per GB300, and
on the all-in basis it implies a gross margin of {m_now:.0%}. Before issue 13 (card and rack prices) it implied {m_before:.0%}: the
all-in basis closes part of the gap, not all of it. What the record leaves open, and would close the rest:
(1) the lessor's cost of the building is a lease from a developer (Vantage, Crusoe, Related), priced with the
developer's return, not a build cost over 14 years; (2) hardware may cost more per GPU than the bottom-up
derivation: Oracle's ~$40B order for ~400,000 "GB200" at Abilene (FT, 2025-05) is $100k per unit, which as the lessor's
system cost per GPU would give a margin of {m_abilene:.0%}, inside the range; read as 2-GPU superchips it is $50k per GPU, the
catalog's $49,792; (3) the 14% is an early-ramp quarter, which Oracle said does not reflect the life of a
contract. The price itself stays: it is the only long-term price in the record.

The margins of the other contracts follow from the same two inputs (P_bw = $3.46/h, or the 1-year H100 contract
price $2.35/h of March 2026) and are therefore just as high; Cerebras' contract ($10B for up to 750 MW over three
years) implies a price close to the cost of an equivalent GB200 fleet; the AWS Trainium contract has no lessor cost
because Trainium has no purchase price (not sold).
"""

RUN_TEXT = """
## Checks on the solved reference (tests/test_reference.py)

These need a solve (`gigawatt solve scenarios/openai.yaml --out X --no-register`); the tests solve the default
once and check:

| check | public figure (source) | test |
|---|---|---|
| 2025 free cash flow (before financing) against the reported burn | ~$8B burned in 2025 (Reuters, 2026-02-23); H1 2025: operating loss $7.8B, stock compensation ~$2.5B, burn $2.5B (The Information, 2025-09-30) | `test_2025_cash_flow_within_what_the_record_explains`: within −$8B − $5.6B … −$7B |
| Microsoft revenue share 2025 | $865.9M paid Jan–Sep 2025 (leaked Microsoft documents, The Register/TechCrunch, 2025-11) | `test_microsoft_share_2025_is_the_leaked_net_payment` |
| Idle take-or-pay capacity 2026–27 | the lab is short of compute: capacity ×3 a year 2023–2025 (0.2, 0.6, 1.9 GW; OpenAI CFO blog, 2026-01-18) | `test_fleet_is_used_in_2026_and_2027`: ≤15% of the fleet's power idle |
| Chip programmes' size | Broadcom 10 GW by end-2029 (2025-10-13); AMD 6 GW (2025-10-06) | `test_default_supply_is_only_the_sourced_programmes` |

The published figures compared with the whole run (commitments, capacity, free cash flow by vintage, revenue) are in
docs/reference-openai.md.
"""


def _margin_at(system_cost: float, data: dict) -> float:
    """Oracle 4.5 GW margin if a GB300 system cost `system_cost` (other inputs as in contract_prices)."""
    data = {**data, "accelerators": {**data.get("accelerators", {}),
                                     "gb300": {**data.get("accelerators", {}).get("gb300", {}),
                                               "purchase_price": f"{system_cost} USD"}}}
    return next(p.margin for p in contract_prices(data) if p.name == "oracle_4_5gw")


def render() -> str:
    cs = checks()
    data = scenario()
    now = next(p.margin for p in contract_prices(data) if p.name == "oracle_4_5gw")
    outside = OUTSIDE_TEXT.format(m_now=now, m_before=_margin_at(3_500_000 / 72, data),  # rack / 72, no cluster
                                  m_abilene=_margin_at(40e9 / 400e3, data))             # Oracle's Abilene order
    return INTRO + check_table(cs) + "\n" + outside + MARGIN_TEXT + margin_table() + "\n" + RUN_TEXT


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--margins", action="store_true", help="print the lessor margin each contract price implies")
    ap.add_argument("--write", action="store_true", help=f"rewrite {DOC.relative_to(ROOT)}")
    a = ap.parse_args()
    if a.write:
        DOC.write_text(render())
        print(f"wrote {DOC}")
        return
    print(margin_table() if a.margins else check_table())


if __name__ == "__main__":
    main()
