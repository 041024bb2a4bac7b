"""The risk model of a plan: the deterministic arrays a draw perturbs (tranches per workload, energy, other
costs, event effects), built by :func:`gigawatt.risk.build.build_model`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gigawatt.risk.kernel import PackedModel
from gigawatt.risk.sample import Sampler


@dataclass
class Tranche:
    """Capacity of one or more supply options allotted to one workload, at one price (H100e-hours, USD)."""

    options: list[str]
    cap: np.ndarray  # (P,) capacity allotted
    use: np.ndarray  # (P,) the plan's use
    price: np.ndarray  # (P,) USD per H100e-hour used (0 for committed capacity paid whatever the use)
    committed: bool
    price_drivers: tuple[str, ...] = ()
    losses: dict[str, np.ndarray] = field(default_factory=dict)  # event -> (P,) capacity lost

    @property
    def spare(self) -> np.ndarray:
        return np.maximum(self.cap - self.use, 0.0)


@dataclass
class WorkloadModel:
    name: str
    demand: np.ndarray  # (P,) H100e-hours
    unmet: np.ndarray  # (P,) the plan's unmet demand
    revenue_per_h100e_hour: float
    tranches: list[Tranche]
    demand_drivers: tuple[str, ...]
    revenue_drivers: tuple[str, ...]


@dataclass
class RiskModel:
    """What a draw changes, precomputed from a plan, its portfolio and its finance (arrays over periods)."""

    periods: list[str]
    years: list[int]
    year_index: np.ndarray  # (P,) calendar-year position of each period
    discount_factor: np.ndarray
    cash_flow: np.ndarray  # the plan's cash flow and cash (finance), USD per period
    cash: np.ndarray
    npc: float  # the plan's net present cost of compute (see net_present_cost)
    workloads: list[WorkloadModel]
    exogenous_revenue: np.ndarray
    exogenous_revenue_drivers: tuple[str, ...]
    energy: list[tuple[np.ndarray, tuple[str, ...]]]  # per site: (P,) energy cost, drivers
    other_costs: list[tuple[np.ndarray, tuple[str, ...]]]  # per entry
    event_cash: dict[str, dict[str, np.ndarray]]  # event -> {"cost": (P,), "equity": (P,), energy savings per site}
    event_energy: dict[str, list[tuple[int, np.ndarray]]]  # event -> [(site position, (P,) energy saved)]
    sampler: Sampler
    finance_source: str = ""
    year_starts: np.ndarray | None = None  # first period of each year (None: one period per year)
    derived: object | None = None  # gigawatt.risk.pack.Derived, set by build_model
    packed: PackedModel | None = None  # the arrays of the compiled kernel (pack_model)

    @property
    def n_periods(self) -> int:
        return len(self.periods)
