"""The summary of a simulation (:class:`RiskResult`) and its risk.json document; the first draws' paths."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gigawatt.risk.sample import BLOCK

PERCENTILES = (5, 25, 50, 75, 95)


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

        return {
            "risk_version": 1,
            "draws": self.draws,
            "seed": self.seed,
            "periods": self.periods,
            "cash_usd_percentiles": fan("cash_usd"),
            "cash_flow_usd_percentiles": fan("cash_flow_usd"),
            "probability_cash_below_zero": {str(y): float(v) for y, v in
                                            zip(self.years, self.probability_cash_below_zero)},
            "probability_cash_below_zero_by_year": {str(y): float(v) for y, v in
                                                    zip(self.years, self.probability_cash_below_zero_by)},
            "funding_gap_usd": self.funding_gap,
            "net_present_cost_usd": self.net_present_cost,
            "unmet_demand_fraction_percentiles": fan("unmet_demand_fraction"),
            "stranded_capacity_fraction_percentiles": fan("stranded_capacity_fraction"),
            "deterministic": self.deterministic,
            "method": {"chunk_size": self.chunk_size, "block_size": BLOCK, "workers": self.workers,
                       "normals_per_draw": self.normals_per_draw, "percentiles": list(PERCENTILES),
                       "finance_source": self.finance_source, "dispatch": "plan-relative merit order per "
                       "workload; see docs/risk.md"},
            "timings_s": self.timings,
        }


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
            "cash_usd": cash.T.ravel(), "cash_flow_usd": cf.T.ravel(),
            "unmet_demand_fraction": un.T.ravel(), "stranded_capacity_fraction": st.T.ravel(),
            "net_present_cost_usd": np.repeat(npc, len(periods)), "funding_gap_usd": np.repeat(gap, len(periods)),
        }))
    if not frames:
        return pd.DataFrame(columns=["draw", "period", "cash_usd", "cash_flow_usd", "unmet_demand_fraction",
                                     "stranded_capacity_fraction", "net_present_cost_usd", "funding_gap_usd"])
    return pd.concat(frames, ignore_index=True)
