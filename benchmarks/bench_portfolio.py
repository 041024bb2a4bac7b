"""A sweep task's Portfolio: a full build against a rebuild from the previous task's (portfolio/reuse.py).

The tasks are bench_sweep.py's grid (``grid``), read and validated first (not timed). Each is built in
full (``Portfolio.from_scenario(sc, resolved)``) and through one ``PortfolioCache`` in task order, as a
sweep worker does; the rebuild's time is taken after the worker's first task (a full build). Wall and
CPU (process) time are printed: on a busy machine the wall time includes waiting for a core.

Usage::

    python benchmarks/bench_portfolio.py                                   # examples/minimal.yaml
    python benchmarks/bench_portfolio.py --scenario scenarios/openai.yaml --runs 16 --reps 4

Numbers are printed, never asserted on.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bench_sweep import ROOT, grid


def clock(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "examples" / "minimal.yaml")
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--reps", type=int, default=4, help="passes over the grid (a new cache each)")
    args = ap.parse_args()

    from gigawatt.portfolio import Portfolio, PortfolioCache
    from gigawatt.sweep.manifest import Task, build, resolve_task

    manifest = build(args.scenario, vary=grid(args.runs, args.scenario))
    tasks = [resolve_task(manifest, Task(**asdict(t)), validate=True) for t in manifest.tasks]
    print(f"{args.scenario.name}: {len(tasks)} tasks ({', '.join(manifest.vary)}), load average "
          f"{os.getloadavg()[0]:.2f}")
    wall, cpu = [], []
    for _ in range(args.reps):
        for resolved, sc in tasks:
            w, c = clock(lambda: Portfolio.from_scenario(sc, resolved))
            wall.append(w)
            cpu.append(c)
    print(f"  full build:  wall mean {np.mean(wall) * 1e3:.1f} ms, median {np.median(wall) * 1e3:.1f} ms; "
          f"cpu mean {np.mean(cpu) * 1e3:.1f} ms per task")
    wall, cpu, first, hows = [], [], [], {}
    for _ in range(args.reps):
        cache = PortfolioCache()
        for i, (resolved, sc) in enumerate(tasks):
            w, c = clock(lambda: Portfolio.from_scenario(sc, resolved, reuse=cache))
            (wall if i else first).append(w)
            if i:
                cpu.append(c)
            hows.setdefault(cache.last, []).append(w)
    print(f"  reuse, the worker's first task: wall mean {np.mean(first) * 1e3:.1f} ms")
    print(f"  reuse, after it: wall mean {np.mean(wall) * 1e3:.2f} ms, median {np.median(wall) * 1e3:.2f} ms; "
          f"cpu mean {np.mean(cpu) * 1e3:.2f} ms per task")
    for how, ws in sorted(hows.items(), key=lambda kv: -len(kv[1])):
        print(f"    {len(ws):4d} × {how}: wall mean {np.mean(ws) * 1e3:.2f} ms")
    print(f"  load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
