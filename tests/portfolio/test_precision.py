"""Compute counted at a workload's precision (issue 13, item 4).

H100e-hours at precision p: one hour of an H100's dense peak at p (catalog) of useful model FLOP. A chip-hour
delivers peak[a, p] / peak[H100, p] × u H100e-hours, a missing figure falling back to the next wider
precision (fp4 → fp8 → bf16). The expected values below are written from the catalog's figures, not copied
from output.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from helpers import build_test_portfolio, solve_text

from gigawatt.catalog import load_catalog
from gigawatt.errors import ScenarioError

CAT = load_catalog()


def peak(aid: str, col: str) -> float:
    return float(CAT.at[aid, col])


# Offers of every chip the tests compare; TPU v5e and MI300X have no FP4 (hardware.md §1 '–'), v5e no FP8.
# The first lines continue helpers.TEST_ACCELERATORS (h100 and mi300x at 989 TFLOP/s BF16, 50% utilisation).
OFFERS = """\
  trainium3: {utilisation_inference: 10%, utilisation_training: 30%}
  tpu_v5e: {utilisation_inference: 10%}
providers:
  cloud:
    kind: cloud
    offers:
      h100: {on_demand_price: 2 USD/h}
      rubin: {on_demand_price: 8 USD/h}
      trainium3: {on_demand_price: 3 USD/h}
      mi300x: {on_demand_price: 2 USD/h}
      tpu_v5e: {on_demand_price: 1 USD/h}
      b200: {on_demand_price: 5 USD/h}
workloads:
"""


def workloads(**specs: str) -> str:
    return OFFERS + "".join(f"  {name}: {{{spec}}}\n" for name, spec in specs.items())


def per_chip_hour(p) -> dict[tuple[str, str], float]:
    """(accelerator, workload) -> H100e-hours per chip-hour, from the portfolio's efficiency array."""
    e = p.data["efficiency_h100e_hours_per_chip"] / p.data["hours"]
    acc = p.supply.loc[e["supply"].values, "accelerator"]
    return {(acc[j], str(w)): float(e.sel(supply=j, workload=w).isel(period=0))
            for j in e["supply"].values for w in e["workload"].values}


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """The same inference workload at each precision (test-file h100: 989 TFLOP/s BF16, 50% utilisation)."""
    return build_test_portfolio(tmp_path_factory.mktemp("p"), workloads(
        bf16="kind: inference, demand: 1e6 H100_hours",
        fp8="kind: inference, demand: 1e6 H100_hours, precision: fp8",
        fp4="kind: inference, demand: 1e6 H100_hours, precision: fp4"))


def test_rubin_and_trainium3_get_more_h100e_at_fp8_than_at_bf16(three):
    e = per_chip_hour(three)
    for aid in ("rubin", "trainium3"):
        bf16 = peak(aid, "bf16_tflops") / 989 * 0.10
        fp8 = peak(aid, "fp8_tflops") / peak("h100", "fp8_tflops") * 0.10
        assert e[(aid, "bf16")] == pytest.approx(bf16, rel=1e-12)
        assert e[(aid, "fp8")] == pytest.approx(fp8, rel=1e-12)
        assert e[(aid, "fp8")] > 1.8 * e[(aid, "bf16")]  # Rubin ×2.19, Trainium3 ×1.88 (catalog figures)


def test_h100_delivers_the_same_h100e_at_every_precision(three):
    """By definition an H100 at precision p is one H100e at p: the fp8/bf16 ratio is exactly 1 at equal
    utilisation, and FP4 (which H100 lacks) falls back to FP8, so it is 1 too."""
    e = per_chip_hour(three)
    assert e[("h100", "bf16")] == pytest.approx(0.5, rel=1e-15)
    assert e[("h100", "fp8")] / e[("h100", "bf16")] == pytest.approx(1.0, rel=1e-15)
    assert e[("h100", "fp4")] == e[("h100", "fp8")]


def test_a_chip_without_a_figure_counts_at_the_next_wider_precision(three):
    e = per_chip_hour(three)
    fp8_unit = peak("h100", "fp8_tflops")
    # MI300X has no FP4: an FP4 workload runs at its FP8 rate
    assert np.isnan(peak("mi300x", "fp4_tflops"))
    assert e[("mi300x", "fp4")] == pytest.approx(peak("mi300x", "fp8_tflops") / fp8_unit * 0.5, rel=1e-12)
    assert e[("mi300x", "fp4")] == e[("mi300x", "fp8")]
    # TPU v5e has neither FP8 nor FP4: both run at BF16, measured against the H100's faster FP8 unit
    assert np.isnan(peak("tpu_v5e", "fp8_tflops")) and np.isnan(peak("tpu_v5e", "fp4_tflops"))
    assert e[("tpu_v5e", "fp8")] == pytest.approx(peak("tpu_v5e", "bf16_tflops") / fp8_unit * 0.1, rel=1e-12)
    assert e[("tpu_v5e", "fp4")] == e[("tpu_v5e", "fp8")] < e[("tpu_v5e", "bf16")]
    # a chip with FP4 gets its FP4 peak against the H100's FP8 (its FP4 fallback)
    assert e[("b200", "fp4")] == pytest.approx(peak("b200", "fp4_tflops") / fp8_unit * 0.1, rel=1e-12)


def test_default_is_bf16_and_equals_the_formula_before_precisions(tmp_path):
    """Back-compat: a workload that states no precision is counted exactly as before (bf16 / 989 TFLOP/s ×
    the chip's catalog utilisation for the kind), and stating bf16 changes nothing."""
    p = build_test_portfolio(tmp_path, workloads(
        inf="kind: inference, demand: 1e6 H100_hours", train="kind: training, demand: 1e6 H100_hours, accelerators: [h100, trainium3, b200]",
        inf_bf16="kind: inference, demand: 1e6 H100_hours, precision: bf16"))
    assert list(p.workloads["precision"]) == ["bf16"] * 3
    e = per_chip_hour(p)
    util = {"h100": (0.5, 0.5), "trainium3": (0.1, 0.3), "rubin": (0.1, np.nan), "b200": (0.1, 0.37)}
    for aid, (u_inf, u_train) in util.items():
        assert e[(aid, "inf")] == pytest.approx(peak(aid, "bf16_tflops") * 1e12 / 989e12 * u_inf, rel=1e-15)
        assert e[(aid, "inf_bf16")] == e[(aid, "inf")]
        if not np.isnan(u_train):
            assert e[(aid, "train")] == pytest.approx(peak(aid, "bf16_tflops") / 989 * u_train, rel=1e-12)


def test_a_workload_utilisation_applies_to_every_chip_and_to_the_h100_reference(tmp_path):
    p = build_test_portfolio(tmp_path, workloads(
        fp8="kind: inference, demand: 1e6 H100_hours, precision: fp8, utilisation: 20%"))
    e = per_chip_hour(p)
    assert e[("h100", "fp8")] == pytest.approx(0.2, rel=1e-15)
    assert e[("rubin", "fp8")] == pytest.approx(peak("rubin", "fp8_tflops") / peak("h100", "fp8_tflops") * 0.2)
    # demand in H100_hours is hours of an H100 at the workload's utilisation: 1e6 × 0.2 H100e-hours
    assert float(p.data["demand_h100e_hours"].sel(workload="fp8").isel(period=0)) == pytest.approx(2e5)
    assert p.workloads.at["fp8", "utilisation_h100"] == 0.2


def test_a_workload_utilisation_stands_in_for_a_missing_catalog_figure(tmp_path):
    """Trainium2 has no inference utilisation in the catalog: without the workload's own figure the
    scenario is rejected, with it the chip serves."""
    body = """\
    providers:
      cloud: {kind: cloud, offers: {trainium2: {on_demand_price: 3 USD/h}}}
    workloads:
      chat: {kind: inference, demand: 1e6 H100_hours, precision: fp8%s}
    """
    with pytest.raises(ScenarioError, match="trainium2.*utilisation_inference"):
        build_test_portfolio(tmp_path, textwrap.dedent(body % ""))
    p = build_test_portfolio(tmp_path, textwrap.dedent(body % ", utilisation: 10%"))
    assert per_chip_hour(p)[("trainium2", "chat")] == pytest.approx(
        peak("trainium2", "fp8_tflops") / peak("h100", "fp8_tflops") * 0.1)


def test_flop_demand_is_counted_in_h100e_at_the_workload_precision(tmp_path):
    """The same model FLOP need half the H100e-hours at FP8 (an H100 does them twice as fast there)."""
    p = build_test_portfolio(tmp_path, workloads(a="kind: inference, demand: 1e24 FLOP",
                                                 b="kind: inference, demand: 1e24 FLOP, precision: fp8"))
    d = p.data["demand_h100e_hours"].isel(period=0)
    assert float(d.sel(workload="a")) == pytest.approx(1e24 / (989e12 * 3600), rel=1e-12)
    assert float(d.sel(workload="b")) == pytest.approx(1e24 / (peak("h100", "fp8_tflops") * 1e12 * 3600), rel=1e-12)
    assert p.workloads.at["b", "flop_per_h100e_hour"] == peak("h100", "fp8_tflops") * 1e12 * 3600


def test_a_scenario_fp4_figure_overrides_the_fallback(tmp_path):
    p = build_test_portfolio(tmp_path, workloads(q="kind: inference, demand: 1e6 H100_hours, precision: fp4")
                             .replace("  tpu_v5e: {utilisation_inference: 10%}",
                                      "  tpu_v5e: {utilisation_inference: 10%, fp4_flops: 394 TFLOP/s}"))
    assert per_chip_hour(p)[("tpu_v5e", "q")] == pytest.approx(394 / peak("h100", "fp8_tflops") * 0.1)


def test_the_planner_needs_fewer_rubin_hours_for_fp8_inference(tmp_path):
    """Through the LP: one Rubin offer serves the same H100-hour demand at bf16 and at fp8; the chip-hours
    rented scale by the H100e per chip-hour, and the delivered compute per workload equals its demand."""
    body = """\
    providers:
      cloud: {kind: cloud, offers: {rubin: {on_demand_price: 8 USD/h}}}
    workloads:
      a: {kind: inference, demand: 1e6 H100_hours}
      b: {kind: inference, demand: 1e6 H100_hours, precision: fp8}
    """
    plan = solve_text(tmp_path, textwrap.dedent(body), start=2027, end=2028)  # Rubin from 2026-07
    ds = plan.ds
    delivered = ds["delivered_h100e_hours"].sum("supply").isel(period=0)
    assert float(delivered.sel(workload="a")) == pytest.approx(1e6 * 0.5, rel=1e-6)
    assert float(delivered.sel(workload="b")) == pytest.approx(1e6 * 0.5, rel=1e-6)
    e_bf16 = peak("rubin", "bf16_tflops") / 989 * 0.1
    e_fp8 = peak("rubin", "fp8_tflops") / peak("h100", "fp8_tflops") * 0.1
    used = ds["dispatch_chips"].sum("supply").isel(period=0)
    assert float(used.sel(workload="a")) / float(used.sel(workload="b")) == pytest.approx(e_fp8 / e_bf16, rel=1e-6)
    cost = float(ds["cost_lease_usd"].sum("supply").isel(period=0))
    assert cost == pytest.approx(8 * (1e6 * 0.5 / e_bf16 + 1e6 * 0.5 / e_fp8), rel=1e-6)
    assert list(ds["workload_precision"].values) == ["bf16", "fp8"]


@pytest.mark.parametrize(("spec", "says"), [
    ("precision: fp16", ["workloads.chat.precision", "value not allowed", "got 'fp16'", "bf16", "fp8", "fp4"]),
    ("utilisation: 150%", ["workloads.chat.utilisation", "got '150%'"]),
    ("utilisation: 0%", ["workloads.chat.utilisation", "got '0%'"]),
])
def test_bad_precision_or_utilisation_is_a_clear_error(tmp_path, spec, says):
    body = OFFERS + f"  chat: {{kind: inference, demand: 1e6 H100_hours, {spec}}}\n"
    with pytest.raises(ScenarioError) as info:
        build_test_portfolio(tmp_path, body)
    assert info.value.exit_code == 1
    for fragment in says:
        assert fragment in str(info.value), f"{fragment!r} not in:\n{info.value}"
