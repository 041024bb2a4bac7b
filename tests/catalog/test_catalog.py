"""Integrity of the accelerator catalog: ids, sources, references, units, physical consistency."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from gigawatt.catalog import (
    PUE_REFERENCE,
    accelerator_ids,
    load_catalog,
    load_fields,
    load_references,
    load_sources,
)

REQUIRED_IDS = ["h100", "h200", "b200", "gb200", "b300", "gb300", "rubin", "mi300x", "mi325x", "mi355x", "mi450",
                "tpu_v5e", "tpu_v5p", "tpu_v6e", "tpu7x", "trainium2", "trainium3", "custom_xpu"]
COLUMNS = ["id", "name", "vendor", "available", "bf16_tflops", "fp8_tflops", "fp4_tflops", "fp8_sparse_tflops", "hbm_gb", "tdp_w",
           "all_in_power_w", "purchase_price_usd", "rental_price_usd_per_chip_hour",
           "committed_price_usd_per_chip_hour", "utilisation_training", "utilisation_inference", "useful_life_years"]
TEXT = ["name", "vendor", "available"]
NUMERIC = [c for c in COLUMNS[1:] if c not in TEXT]
# Figures that describe the chip itself (useful_life_years is a catalog-wide convention, available a date).
CHIP_FIGURES = [c for c in NUMERIC if c != "useful_life_years"]
VENDORS = {"nvidia", "amd", "google", "aws", "broadcom"}
TAG = re.compile(r"S\d+[a-z]?")
DATE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")
GW_W = 1e9


@pytest.fixture(scope="module")
def cat() -> pd.DataFrame:
    return load_catalog()


@pytest.fixture(scope="module")
def src() -> pd.DataFrame:
    return load_sources()


def figures(cat: pd.DataFrame):
    """(id, field, value) of every non-empty figure: numeric cells and `available`."""
    for aid, row in cat.iterrows():
        for col in ["available"] + NUMERIC:
            if pd.notna(row[col]):
                yield aid, col, row[col]


# ids and shape -------------------------------------------------------------------------------------------

def test_required_ids_present_and_unique(cat):
    assert cat.index.is_unique
    assert set(REQUIRED_IDS) <= set(cat.index)
    assert accelerator_ids() == list(cat.index)
    assert all(i == i.lower() and re.fullmatch(r"[a-z0-9_]+", i) for i in cat.index)


def test_columns_and_dtypes(cat):
    assert cat.index.name == "id"
    assert ["id"] + list(cat.columns) == COLUMNS
    for c in NUMERIC:
        assert cat[c].dtype == float, c
    for c in TEXT:
        assert all(isinstance(v, str) for v in cat[c].dropna()), c
    assert cat["name"].notna().all() and cat["vendor"].notna().all() and cat["available"].notna().all()


def test_load_returns_a_copy():
    a = load_catalog()
    a.loc["h100", "bf16_tflops"] = -1.0
    a["name"] = "changed"
    b = load_catalog()
    assert b.loc["h100", "bf16_tflops"] == 989.0 and "h200" in b.index
    assert b.loc["h100", "name"] == "H100 SXM"
    s = load_sources()
    s.loc[:, "value"] = "x"
    assert (load_sources()["value"] != "x").all()


def test_vendor_and_available(cat):
    assert set(cat["vendor"]) <= VENDORS
    for aid, v in cat["available"].items():
        assert re.fullmatch(r"\d{4}-\d{2}", v), (aid, v)
        ts = pd.Period(v, freq="M")
        assert 2020 <= ts.year <= 2030 and 1 <= ts.month <= 12, (aid, v)


# sources and references ----------------------------------------------------------------------------------

def test_every_figure_has_a_matching_source_row(cat, src):
    keyed = src.set_index(["accelerator", "field"])
    assert keyed.index.is_unique, keyed.index[keyed.index.duplicated()].tolist()
    for aid, col, value in figures(cat):
        assert (aid, col) in keyed.index, f"{aid}.{col} has no row in sources.csv"
        recorded = keyed.loc[(aid, col), "value"]
        if col == "available":
            assert recorded == value, (aid, col, recorded, value)
        else:
            assert math.isclose(float(recorded), value, rel_tol=1e-12), (aid, col, recorded, value)


def test_no_source_row_without_a_figure(cat, src):
    present = {(a, c) for a, c, _ in figures(cat)}
    for r in src.itertuples():
        assert (r.accelerator, r.field) in present, f"sources.csv row {r.accelerator}.{r.field} has no figure"


def test_source_rows_complete(src):
    for r in src.itertuples():
        assert isinstance(r.source, str) and r.source, (r.accelerator, r.field)
        assert isinstance(r.date, str) and DATE.fullmatch(r.date), (r.accelerator, r.field, r.date)
        assert 2020 <= int(r.date[:4]) <= 2026, (r.accelerator, r.field, r.date)
        assert isinstance(r.note, str) and r.note, (r.accelerator, r.field)


def test_every_source_tag_is_in_references(src):
    refs = load_references()
    assert refs["tag"].is_unique
    known = set(refs["tag"])
    assert all(isinstance(c, str) and c for c in refs["citation"])
    for r in src.itertuples():
        tags = r.source.split(";")
        assert all(TAG.fullmatch(t) for t in tags), (r.accelerator, r.field, r.source)
        cited = set(re.findall(r"\[(S\d+[a-z]?)\]", r.note))
        missing = (set(tags) | cited) - known
        assert not missing, (r.accelerator, r.field, missing)


def test_derived_notes_show_their_formula(src):
    for r in src.itertuples():
        if "derived" in r.note:
            assert re.search(r"[=×÷/]", r.note), (r.accelerator, r.field)


def test_unknown_dates_are_explained(src):
    for r in src.itertuples():
        if r.date == "2026":
            assert "undated" in r.note or "hardware.md" in r.note, (r.accelerator, r.field)


def test_every_column_is_described():
    fields = load_fields()
    assert list(fields["field"]) == COLUMNS
    assert fields["description"].notna().all()
    assert set(fields["dtype"]) <= {"str", "float"}
    for r in fields.itertuples():
        if r.field in NUMERIC:
            assert r.dtype == "float" and isinstance(r.unit, str) and r.unit, r.field


# physical consistency ------------------------------------------------------------------------------------

def test_figures_positive(cat):
    for aid, col, value in figures(cat):
        if col != "available":
            assert value > 0, (aid, col, value)


def test_utilisation_is_a_fraction(cat):
    for col in ("utilisation_training", "utilisation_inference"):
        u = cat[col].dropna()
        assert ((u > 0) & (u <= 1)).all(), u[(u <= 0) | (u > 1)]


def test_dense_at_most_sparse_and_bf16_at_most_fp8(cat):
    both = cat[["fp8_tflops", "fp8_sparse_tflops"]].dropna()
    assert len(both) >= 2
    assert (both["fp8_tflops"] <= both["fp8_sparse_tflops"]).all()
    both = cat[["bf16_tflops", "fp8_tflops"]].dropna()
    assert (both["bf16_tflops"] <= both["fp8_tflops"]).all()
    both = cat[["fp8_tflops", "fp4_tflops"]].dropna()
    assert len(both) >= 8
    assert (both["fp8_tflops"] <= both["fp4_tflops"]).all()
    # an FP4 figure without an FP8 one would make the fallback rule (FP4 → FP8 → BF16) skip a precision
    assert not (cat["fp4_tflops"].notna() & cat["fp8_tflops"].isna()).any()


def test_fp4_only_where_hardware_md_gives_one(cat):
    """hardware.md §1 prints '–' for FP4 of Hopper, MI300X/MI325X, every TPU and Trainium2: those cells stay
    empty (the planner falls back to FP8), and the dense figure, not a sparse or 'inference' one, is kept."""
    no_fp4 = ["h100", "h200", "mi300x", "mi325x", "tpu_v5e", "tpu_v5p", "tpu_v6e", "tpu7x", "trainium2",
              "custom_xpu"]
    assert cat.loc[no_fp4, "fp4_tflops"].isna().all()
    assert cat.at["rubin", "fp4_tflops"] == 35000  # not the 50,000 NVFP4 "inference" figure
    assert cat.at["gb200", "fp4_tflops"] == 1440e3 / 2 / 72  # NVL72 1.44 EF is sparse
    assert cat.at["trainium3", "fp4_tflops"] == cat.at["trainium3", "fp8_tflops"]  # MXFP4 = MXFP8 rate


def test_all_in_power_covers_the_chip(cat):
    both = cat[["tdp_w", "all_in_power_w"]].dropna()
    assert len(both) >= 10
    assert (both["all_in_power_w"] >= both["tdp_w"]).all(), both[both["all_in_power_w"] < both["tdp_w"]]


def test_committed_price_below_on_demand(cat):
    both = cat[["rental_price_usd_per_chip_hour", "committed_price_usd_per_chip_hour"]].dropna()
    assert (both.iloc[:, 1] <= both.iloc[:, 0]).all()


def test_epoch_formula_rows_follow_it(cat, src):
    """Rows whose all-in power is the Epoch formula equal TDP × 1.82 × PUE 1.14 (rounded to the watt)."""
    rows = src[(src["field"] == "all_in_power_w") & src["note"].str.startswith("derived (Epoch formula)")]
    assert {"h100", "mi300x"} <= set(rows["accelerator"])
    for aid in rows["accelerator"]:
        expected = cat.at[aid, "tdp_w"] * 1.82 * PUE_REFERENCE
        assert abs(cat.at[aid, "all_in_power_w"] - expected) <= 0.5, (aid, expected)


def test_every_all_in_power_names_its_method(src):
    methods = ("derived (Epoch formula)", "derived (rack-based)", "derived (system-based)", "derived (pod-level)")
    for r in src[src["field"] == "all_in_power_w"].itertuples():
        assert r.note.startswith(methods), (r.accelerator, r.note[:40])


def test_pue_reference():
    assert PUE_REFERENCE == 1.14


def test_custom_xpu_has_no_chip_figures(cat):
    row = cat.loc["custom_xpu"]
    assert row["vendor"] == "broadcom"
    assert row[CHIP_FIGURES].isna().all(), row[CHIP_FIGURES].dropna()


def test_gb300_matches_bottom_up_chips_per_gw(cat):
    """hardware.md §3 rule 3: GB200-class NVL72 at 120–132 kW / 72 GPUs and PUE 1.14–1.2 ⇒ ≈455k–525k GPUs per GW."""
    per_gw = GW_W / cat.at["gb300", "all_in_power_w"]
    low = GW_W / (132e3 / 72 * 1.2)     # 454,545
    high = GW_W / (120e3 / 72 * 1.14)   # 526,316
    assert low <= per_gw <= high
    assert 455_000 <= per_gw <= 525_000  # the rounded range as published


def test_gb200_matches_bottom_up_chips_per_gw(cat):
    per_gw = GW_W / cat.at["gb200", "all_in_power_w"]
    assert GW_W / (132e3 / 72 * 1.2) <= per_gw <= GW_W / (120e3 / 72 * 1.14) * (1 + 1e-9)


def test_rubin_within_jensen_rule_of_thumb(cat):
    """hardware.md §3 rule 1: '10 GW ≈ 4–5 M GPUs' (Vera Rubin era) ⇒ 2.0–2.5 kW all-in per GPU."""
    assert 2_000 <= cat.at["rubin", "all_in_power_w"] <= 2_500
    assert 4e6 <= 10 * GW_W / cat.at["rubin", "all_in_power_w"] <= 5e6


def test_h100_chips_per_gw(cat):
    """hardware.md §3 rule 3: H100 via the Epoch formula (1.45 kW) ⇒ ≈690k H100 per GW."""
    assert GW_W / cat.at["h100", "all_in_power_w"] == pytest.approx(690_000, rel=0.01)


def test_h100_is_the_planner_reference(cat):
    """The planner counts compute in H100e-hours: it needs the H100's BF16 peak and both utilisations."""
    from gigawatt import units

    assert cat.at["h100", "bf16_tflops"] * 1e12 == units.H100_PEAK_BF16_FLOP_PER_S
    assert cat.loc["h100", ["utilisation_training", "utilisation_inference"]].notna().all()


# purchase price basis (issue 13, item 2) -------------------------------------------------------------------

CLUSTER_FACTOR_LOW = 1.07  # Epoch's interconnect overhead, cluster = servers × 1.07-1.32 [S34b]


def test_purchase_price_is_an_all_in_system_cost(cat, src):
    """Owned capacity must be priced on the basis contract prices are: the whole system per accelerator
    (server/rack share + cluster network, storage, integration), not a card or bare rack price. Each note names
    that basis and its formula, and the price is at least the base figure times the low cluster factor."""
    rows = src[src["field"] == "purchase_price_usd"]
    assert len(rows) == cat["purchase_price_usd"].notna().sum()
    for _, r in rows.iterrows():
        assert "ALL-IN SYSTEM" in r["note"], f"{r['accelerator']}: purchase price not stated as an all-in system cost"
        assert "S34b" in r["source"].split(";"), f"{r['accelerator']}: factors' source missing"
        base = float(re.search(r": ([\d,]+) ×", r["note"]).group(1).replace(",", ""))
        assert cat.loc[r["accelerator"], "purchase_price_usd"] >= base * CLUSTER_FACTOR_LOW - 1
        basis = r["note"].split("Base figure")[0]  # the base figure's own note may say "card only"
        assert "CARD ONLY" not in basis and "excludes the server share" not in basis


def test_catalog_doc_tags_resolve():
    """docs/catalog.md cites sources by tag; every tag it cites is in references.csv (the doc stands alone)."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "catalog.md").read_text()
    known = set(load_references()["tag"])
    missing = set(re.findall(r"\[(S\d+[a-z]?)\]", doc)) - known
    assert not missing, sorted(missing)
