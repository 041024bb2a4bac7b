"""Sweep throughput (solves per second) with 1 and 2 workers, on the local process pool and on Ray.

A grid of real solves of examples/minimal.yaml (by default 4 site build costs × 4 contract sizes = 16
runs, each a full read → validate → Portfolio → linopy/HiGHS solve with one HiGHS thread → headline
row) runs through gigawatt.sweep.run with each executor. Start-up (forking and warming the pool, or
ray.init and warming its workers) is timed apart from the solves; "solves/s" is the tasks divided by the
time from the first submission to the last row written; the speed-up is 2 workers over 1. Each row also
records the worker's CPU time per solve: when the wall time per solve grows with the workers while the
CPU time does not, the workers are waiting for cores (another process), not for gigawatt.

Usage::

    python benchmarks/bench_sweep.py                       # local and ray, 1 and 2 workers, 16 runs
    python benchmarks/bench_sweep.py --engines local --runs 32

Numbers are printed, never asserted on. The load average is printed: another process on a 2-core
machine takes a core away from the 2-worker runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def grid(n: int) -> list[str]:
    """--vary strings giving about n runs of the minimal example."""
    costs = [f"{c} million USD/MW" for c in (9, 10.5, 11.7, 13, 14.5, 16, 18, 20)]
    chips = [20000, 35000, 50000, 65000, 80000, 100000, 120000, 150000]
    a = 4 if n >= 16 else 2
    b = max(1, n // a)
    return [f"sites.texas.build_cost={','.join(costs[:a])}",
            f"contracts.cloudco_reserved.chips={','.join(map(str, chips[:b]))}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "examples" / "minimal.yaml")
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--engines", default="local,ray")
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()

    from gigawatt.sweep.executors import LocalExecutor, RayExecutor
    from gigawatt.sweep.manifest import build
    from gigawatt.sweep.run import run

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    t0 = time.perf_counter()
    manifest = build(args.scenario, vary=grid(args.runs))
    shape = " × ".join(f"{len(v)} {k}" for k, v in manifest.vary.items())
    print(f"grid: {len(manifest.tasks)} solves of {args.scenario.name} ({shape}); "
          f"manifest built and checked in {time.perf_counter() - t0:.2f} s")
    rates: dict[tuple[str, int], float] = {}
    print(f"{'engine':>6} {'workers':>7} {'start-up s':>10} {'solves s':>9} {'solves/s':>9} {'wall s/solve':>12} "
          f"{'cpu s/solve':>11}")
    for engine in args.engines.split(","):
        for w in [int(x) for x in args.workers.split(",")]:
            tmp = Path(tempfile.mkdtemp(prefix="gw-bench-sweep-"))
            try:
                t0 = time.perf_counter()
                ex = LocalExecutor(w) if engine == "local" else RayExecutor(w)
                startup = time.perf_counter() - t0
                try:
                    res = run(manifest, tmp, executor=ex)
                finally:
                    ex.close()
                assert (res.summary["status"] == "ok").all(), res.failed
                solve_s = res.timings["run_s"]
                rates[(engine, w)] = len(manifest.tasks) / solve_s
                per = res.summary["elapsed_s"].mean()
                cpu = res.summary["cpu_s"].mean()
                print(f"{engine:>6} {w:>7} {startup:>10.2f} {solve_s:>9.2f} {rates[(engine, w)]:>9.2f} {per:>12.3f} "
                      f"{cpu:>11.3f}")
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    for engine in args.engines.split(","):
        if (engine, 1) in rates and (engine, 2) in rates:
            print(f"speed-up {engine}, 2 workers over 1: {rates[(engine, 2)] / rates[(engine, 1)]:.2f}×")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
