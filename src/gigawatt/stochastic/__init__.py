"""The stochastic planner: commitments that hedge many futures (docs/stochastic.md).

``draw_futures`` (futures.py) turns the uncertainty section into futures; ``hedge`` (extensive.py) builds
and solves the extensive form over them (two-stage, or multi-stage over a scenario tree from tree.py with
``uncertainty.stages``); metrics.py gives WS, SP, EEV, EVPI and VSS."""

from gigawatt.stochastic.extensive import HedgeResult, hedge, solve_extensive
from gigawatt.stochastic.futures import Futures, draw_futures

__all__ = ["Futures", "HedgeResult", "draw_futures", "hedge", "solve_extensive"]
