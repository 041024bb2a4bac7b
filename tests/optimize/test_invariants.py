"""Independent checks: recompute balances, power limits and contracts from saved results with plain pandas.

Nothing here uses the model: it reads plan.nc back, recomputes each quantity from the scenario's figures
(accelerator peaks, utilisations, hours, prices) and compares with what the plan says.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import ROOT, build_test_portfolio

TOL = 1e-6


def check_invariants(run_dir: Path, portfolio) -> None:
    import xarray as xr

    ds = xr.load_dataset(run_dir / "plan.nc", engine="h5netcdf")
    acc = portfolio.accelerators
    sup = pd.DataFrame({c: ds[f"supply_{c}"].values for c in ("kind", "provider", "site", "accelerator")},
                       index=ds["supply"].values)
    periods = [str(p) for p in ds["period"].values]
    hours = pd.Series(portfolio.horizon.table["hours"].to_numpy(), index=periods)
    dispatch = ds["dispatch_chips"].to_dataframe().reset_index()
    dispatch["period"] = dispatch["period"].astype(str)

    # 1. delivered compute = dispatched chips × peak at the workload's precision / the H100's there ×
    #    utilisation × hours (docs/formulation.md; a missing FP4/FP8 peak falls back to the next wider one)
    wl = portfolio.workloads
    kinds = wl["kind"]
    util_cat = np.where(kinds.loc[dispatch["workload"]].to_numpy() == "inference",
                        acc.loc[sup.loc[dispatch["supply"], "accelerator"], "utilisation_inference"].to_numpy(),
                        acc.loc[sup.loc[dispatch["supply"], "accelerator"], "utilisation_training"].to_numpy())
    util_w = wl["utilisation"].astype(float).loc[dispatch["workload"]].to_numpy()
    util = np.where(np.isnan(util_w), util_cat, util_w)
    precision = wl["precision"].loc[dispatch["workload"]].to_numpy()
    h100 = {"bf16": 989e12, "fp8": 1979e12, "fp4": 1979e12}  # dense H100 SXM peaks; no FP4, so FP8's
    chip = acc.loc[sup.loc[dispatch["supply"], "accelerator"]]
    peak_cols = {"bf16": ["bf16_flop_per_s"], "fp8": ["fp8_flop_per_s", "bf16_flop_per_s"],
                 "fp4": ["fp4_flop_per_s", "fp8_flop_per_s", "bf16_flop_per_s"]}
    peak = np.array([next(float(row[c]) for c in peak_cols[p] if c in row.index and np.isfinite(float(row[c])))
                     for (_, row), p in zip(chip.iterrows(), precision)])
    peak = peak / np.array([h100[p] for p in precision])
    dispatch["delivered"] = dispatch["dispatch_chips"] * peak * util * hours.loc[dispatch["period"]].to_numpy()
    delivered = dispatch.groupby(["workload", "period"])["delivered"].sum()
    demand = ds["demand_h100e_hours"].to_series()
    unmet = ds["unmet_h100e_hours"].to_series()
    demand.index = demand.index.set_levels(demand.index.levels[1].astype(str), level=1)
    unmet.index = unmet.index.set_levels(unmet.index.levels[1].astype(str), level=1)
    balance = delivered.reindex(demand.index, fill_value=0.0) + unmet - demand
    assert balance.abs().max() <= TOL * max(1.0, demand.abs().max()), balance.abs().max()

    # 2. dispatch within capacity; owned chips in service = purchases within their useful life
    used = dispatch.groupby(["supply", "period"])["dispatch_chips"].sum().unstack("period")[periods]
    chips = ds["chips"].to_pandas()
    chips.columns = chips.columns.astype(str)
    assert ((used - chips.loc[used.index]) <= TOL * max(1.0, chips.to_numpy().max())).all().all()
    bought = ds["chips_bought"].to_pandas()
    bought.columns = bought.columns.astype(str)
    per_year = 12 / portfolio.horizon.months_per_period()
    for opt in sup.index[sup["kind"] == "own"]:
        life = max(1, int(round(acc.at[sup.at[opt, "accelerator"], "useful_life_years"] * per_year)))
        in_service = bought.loc[opt].rolling(life, min_periods=1).sum()
        assert np.allclose(in_service.to_numpy(), chips.loc[opt].to_numpy(), rtol=1e-6, atol=1e-6)

    # 3. firm contracts: capacity as contracted; dispatch of every contract within it
    data = portfolio.data
    for opt in sup.index[sup["kind"] == "contract"]:
        cap = pd.Series(data["contract_capacity_chips"].sel(supply=opt).to_numpy(), index=periods)
        assert (used.loc[opt] <= cap + TOL * max(1.0, cap.max())).all()
        if float(data["contract_firm"].sel(supply=opt).max()) > 0:
            assert np.allclose(chips.loc[opt].to_numpy(), cap.to_numpy())

    # 4. power: owned chips × all-in kW × PUE/1.14 ≤ energised power ≤ power_max
    if "site_power_mw" in ds:
        site_power = ds["site_power_mw"].to_pandas()
        site_power.columns = site_power.columns.astype(str)
        pmax = ds["site_power_max_mw"].to_pandas()
        pmax.columns = pmax.columns.astype(str)
        own = sup[sup["kind"] == "own"]
        for site in site_power.index:
            opts = own.index[own["site"] == site]
            pue = portfolio.sites.at[site, "pue"]
            draw = sum(chips.loc[o] * acc.at[own.at[o, "accelerator"], "all_in_power_kw"] * pue / 1.14 / 1e3
                       for o in opts) if len(opts) else 0.0 * site_power.loc[site]
            assert (draw <= site_power.loc[site] + 1e-6).all(), (site, draw, site_power.loc[site])
            assert (site_power.loc[site] <= pmax.loc[site] + 1e-6).all()
            assert (np.diff(site_power.loc[site].to_numpy()) >= -1e-6).all()

    # 5. cash costs recomputed from prices
    lease = sum((used.loc[o] * data["lease_price_usd_per_chip_hour"].sel(supply=o).to_numpy() * hours)
                for o in sup.index[sup["kind"] == "lease"]) if (sup["kind"] == "lease").any() else 0.0
    plan_lease = ds["cost_lease_usd"].sum("supply").to_pandas()
    assert np.allclose(np.asarray(plan_lease, dtype=float), np.asarray(lease, dtype=float) * np.ones(len(periods)),
                       rtol=1e-6, atol=1.0)
    # the lab pays its share of chips bought at a joint venture's site (1 elsewhere; docs/finance.md)
    capex = sum(bought.loc[o] * acc.at[sup.at[o, "accelerator"], "purchase_price_usd"] * portfolio.supply.at[o, "lab_share"]
                for o in sup.index[sup["kind"] == "own"]) if (sup["kind"] == "own").any() else 0.0
    plan_capex = ds["cost_capex_chips_usd"].sum("supply").to_pandas()
    assert np.allclose(np.asarray(plan_capex, dtype=float), np.asarray(capex, dtype=float) * np.ones(len(periods)),
                       rtol=1e-6, atol=1.0)

    # 6. share targets hold in the periods they apply to
    compute = dispatch.groupby(["supply", "period"])["delivered"].sum().unstack("period").reindex(columns=periods)
    for target, row in portfolio.targets.iterrows():
        group = ds["target_group"].sel(target=target).to_pandas().astype(bool)
        active = ds["target_active"].sel(target=target).to_pandas().astype(bool)
        for p in [str(x) for x in active.index[active.to_numpy()]]:
            total = compute[p].sum()
            if total <= 0:
                continue
            share = compute[p].reindex(group.index[group.to_numpy()]).fillna(0).sum() / total
            if not np.isnan(row["min_share"]):
                assert share >= row["min_share"] - 1e-6
            if not np.isnan(row["max_share"]):
                assert share <= row["max_share"] + 1e-6


def _solve_to(run_dir: Path, path: Path, *args: str) -> None:
    from typer.testing import CliRunner

    from gigawatt.cli import app

    result = CliRunner().invoke(app, ["-q", "solve", str(path), "--out", str(run_dir), "--no-register", *args])
    assert result.exit_code == 0, result.output


def _portfolio(path: Path, scenario: str | None = None):
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate

    r = read(path, scenario=scenario)
    return Portfolio.from_scenario(validate(r), r)


@pytest.mark.parametrize("variant", [None, "unconstrained", "delayed"])
def test_invariants_hold_on_the_example(tmp_path, variant):
    path = ROOT / "examples" / "minimal.yaml"
    _solve_to(tmp_path / "run", path, *(["--scenario", variant] if variant else []))
    check_invariants(tmp_path / "run", _portfolio(path, variant))


MIXED = """
    providers:
      aws: {kind: cloud, offers: {h100: {on_demand_price: 3 USD/h, available: 300}, mi300x: {on_demand_price: 2.5 USD/h}}}
      lab: {kind: owned, sites: [a, b]}
    sites:
      a: {power_max: {points: {2025: 0.1 MW, 2027: 0.5 MW}, interpolate: linear}, build_cost: 10 million USD/MW,
          energy_price: 80 USD/MWh, pue: 1.3, accelerators: [h100, mi300x]}
      b: {power_max: 2 MW, build_cost: 12 million USD/MW, lead_time: 12 months, energy_price: 50 USD/MWh,
          accelerators: [mi300x]}
    contracts:
      block: {counterparty: aws, kind: capacity, accelerator: h100, start: 2025, term: 2 years, value: $4M,
              price: 2.2 USD/h, take_or_pay: 80%, source: test}
      amd: {counterparty: amd, kind: supply, accelerator: mi300x, start: 2026, term: 1 year, chips: 300, source: test}
    workloads:
      train: {kind: training, demand: {2025: 2e6 H100_hours, 2026: 5e6 H100_hours, 2027: 9e6 H100_hours}}
      chat: {kind: inference, demand: {base: 1e6 H100_hours, base_period: 2025, growth_per_year: 100%},
             accelerators: [h100]}
    policy:
      share_targets:
        own_half: {providers: [lab], min_share: 40%, periods: [2027]}
        nvidia_cap: {vendors: [nvidia], max_share: 90%}
"""


def test_invariants_hold_on_a_mixed_scenario(tmp_path):
    from helpers import scenario_text

    path = tmp_path / "mixed.yaml"
    path.write_text(scenario_text(MIXED, rate="7%"))
    _solve_to(tmp_path / "run", path)
    check_invariants(tmp_path / "run", build_test_portfolio(tmp_path, MIXED, rate="7%"))


def test_invariants_hold_on_the_reference_scenario(reference_run):
    path = ROOT / "scenarios" / "openai.yaml"
    check_invariants(reference_run.path, _portfolio(path))
