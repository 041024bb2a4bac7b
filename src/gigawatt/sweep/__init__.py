"""Sweeps: many solves (a grid of parameters, or one re-optimisation per Monte Carlo draw) as a manifest of
fully resolved runs, executed on a local process pool or on Ray; one Parquet file per task, read back with
DuckDB. Only gigawatt.sweep.executors imports Ray. See docs/risk.md.
"""

from gigawatt.sweep.manifest import Manifest, Task, build

__all__ = ["Manifest", "Task", "build"]
