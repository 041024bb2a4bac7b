"""The summary of a simulation (:class:`RiskResult`) and its risk.json document; the first draws' paths.

risk.json's JSON Schema is docs/schemas/risk.schema.json (``schema_version``); the names of money over time
are those of docs/glossary.md. Inside the simulation the flow is ``cash_flow_usd`` (after financing) and the
present value of compute spending ``net_present_cost``; the documents name them as the glossary does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gigawatt.risk.sample import BLOCK

PERCENTILES = (5, 25, 50, 75, 95)
RISK_SCHEMA_VERSION = 2  # 2: the glossary's names (docs/files.md lists the keys renamed from 1)
# internal name -> the name in risk.json and risk_paths.parquet
OUTPUT_NAMES = {"cash_flow_usd": "cash_flow_after_financing_usd", "net_present_cost_usd": "compute_spending_pv_usd"}


@dataclass
class RiskResult:
    """Summary statistics of a simulation (percentiles per period, probabilities, VaR/CVaR)."""

    draws: int
    seed: int
    periods: list[str]
    years: list[int]
    percentiles: dict[str, np.ndarray]  # quantity -> (P, 5)
    probability_cash_below_zero: np.ndarray  # (Y,)
    probability_cash_below_zero_by: np.ndarray  # (Y,) cumulative
    funding_gap: dict[str, float]
    net_present_cost: dict[str, float]
    deterministic: dict[str, object]
    paths: pd.DataFrame
    timings: dict[str, float]
    chunk_size: int
    workers: int
    normals_per_draw: int
    finance_source: str

    def to_dict(self) -> dict:
        """The risk.json document (units in key names; periods as labels; years as strings)."""

        def fan(name: str) -> dict:
            arr = self.percentiles[name]
            return {f"p{q}": {p: float(arr[i, j]) for i, p in enumerate(self.periods)}
                    for j, q in enumerate(PERCENTILES)}

        det = {OUTPUT_NAMES.get(k, k): v for k, v in self.deterministic.items()}
        return {
            "schema_version": RISK_SCHEMA_VERSION,
            "draws": self.draws,
            "seed": self.seed,
            "periods": self.periods,
            "cash_usd_percentiles": fan("cash_usd"),
            "cash_flow_after_financing_usd_percentiles": fan("cash_flow_usd"),
            "probability_cash_below_zero": {str(y): float(v) for y, v in
                                            zip(self.years, self.probability_cash_below_zero)},
            "probability_cash_below_zero_by_year": {str(y): float(v) for y, v in
                                                    zip(self.years, self.probability_cash_below_zero_by)},
            "funding_gap_usd": self.funding_gap,
            "compute_spending_pv_usd": self.net_present_cost,
            "unmet_demand_fraction_percentiles": fan("unmet_demand_fraction"),
            "stranded_capacity_fraction_percentiles": fan("stranded_capacity_fraction"),
            "deterministic": det,
            "method": {"chunk_size": self.chunk_size, "block_size": BLOCK, "workers": self.workers,
                       "normals_per_draw": self.normals_per_draw, "percentiles": list(PERCENTILES),
                       "finance_source": self.finance_source, "dispatch": "plan-relative merit order per "
                       "workload; see docs/risk.md"},
            "timings_s": self.timings,
        }


PATHS_COLUMNS = ["draw", "period", "cash_usd", "cash_flow_after_financing_usd", "unmet_demand_fraction",
                 "stranded_capacity_fraction", "compute_spending_pv_usd", "funding_gap_usd"]


def paths_frame(paths: dict[int, tuple], periods: list[str]) -> pd.DataFrame:
    """The first SAMPLE_PATHS draws in long form (draw, period, ...): small, and the same whatever N."""
    frames = []
    for start in sorted(paths):
        cash, cf, un, st, npc, gap = paths[start]
        k = cash.shape[1]
        draw = np.repeat(np.arange(start, start + k), len(periods))
        frames.append(pd.DataFrame({
            "draw": draw.astype(np.int64),
            "period": np.tile(np.array(periods, dtype=object), k),
            "cash_usd": cash.T.ravel(), "cash_flow_after_financing_usd": cf.T.ravel(),
            "unmet_demand_fraction": un.T.ravel(), "stranded_capacity_fraction": st.T.ravel(),
            "compute_spending_pv_usd": np.repeat(npc, len(periods)), "funding_gap_usd": np.repeat(gap, len(periods)),
        }))
    if not frames:
        return pd.DataFrame(columns=PATHS_COLUMNS)
    return pd.concat(frames, ignore_index=True)
