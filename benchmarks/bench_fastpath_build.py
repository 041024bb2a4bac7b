"""The fast path's build step per task (the changed families rebuilt and their numbers diffed against
HiGHS's), on the bench grid of benchmarks/bench_sweep.py: mean ms after the worker's first task.

    .venv/bin/python benchmarks/bench_fastpath_build.py [--scenario scenarios/openai.yaml] [--runs 16]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_sweep import grid  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "examples" / "minimal.yaml")
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3, help="passes over the grid (the first task of the first "
                                                           "pass loads the base)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    import numpy as np

    from gigawatt.optimize.fastpath import FastPath
    from gigawatt.portfolio import Portfolio
    from gigawatt.sweep.manifest import build, resolve_task

    manifest = build(args.scenario, vary=grid(args.runs, args.scenario))
    portfolios = []
    for task in manifest.tasks:
        resolved, sc = resolve_task(manifest, task, validate=True)
        portfolios.append(Portfolio.from_scenario(sc, resolved))
    cfg = portfolios[0].scenario.config.solve
    allow, method = bool(cfg.allow_unmet), cfg.method
    fp = FastPath()
    cpu = [0.0]
    for step in ("_changed", "changed_families", "_rebuild", "_diff"):  # the build step's parts: CPU time too
        if not hasattr(fp, step) or (step == "changed_families" and hasattr(fp, "_changed")):
            continue  # (the fast path before 2026-12-03 had changed_families, not _changed)
        real = getattr(fp, step)

        def timed(*a, _real=real):
            c0 = time.thread_time()
            try:
                return _real(*a)
            finally:
                cpu[0] += time.thread_time() - c0

        setattr(fp, step, timed)
    fp.load(portfolios[0], allow_unmet=allow, method=method)
    build_s, cpu_s, families = [], [], set()
    for rep in range(args.repeat):
        for i, p in enumerate(portfolios):
            cpu[0] = 0.0
            _, _, b, fams = fp.solve(p, allow_unmet=allow, method=method, time_limit=cfg.time_limit)
            if rep or i:
                build_s.append(b)
                cpu_s.append(cpu[0])
            families.update(fams)
    b = np.array(build_s) * 1e3
    c = np.array(cpu_s) * 1e3
    if args.verbose:
        print("per task, thread CPU ms:", " ".join(f"{x:.1f}" for x in c))
    print(f"{args.scenario.name}: {len(portfolios)} tasks × {args.repeat}, families rebuilt: {sorted(families)}")
    print(f"  build step per task: mean {b.mean():.2f} ms, median {np.median(b):.2f} ms, min {b.min():.2f} ms, "
          f"max {b.max():.2f} ms; thread CPU mean {c.mean():.2f} ms, median {np.median(c):.2f} ms; "
          f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
