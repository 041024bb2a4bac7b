"""The L-shaped decomposition (`hedge --decompose`) of the reference against the extensive form.

    python benchmarks/bench_decompose.py                       # 100 futures, 1 and 2 workers, extensive form too
    python benchmarks/bench_decompose.py --futures 100 1000 --extensive-up-to 100 --max-iterations 400
    python benchmarks/bench_decompose.py --futures 1000 --workers 2 --max-iterations 5   # short: time per iteration

Prints, per number of futures: the extensive form's objective and time (up to --extensive-up-to), then per
worker count the decomposition's iterations, setup (building the workers and solving every future alone),
wall time, final gap, its objective's agreement with the extensive form, and the speed-up of the
iterations from 1 worker. The load average is printed before and after (the machine may be shared:
read the times with it). Each solve runs in this process; workers are local processes (--engine local).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "openai.yaml"))
    ap.add_argument("--futures", type=int, nargs="+", default=[100])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--extensive-up-to", type=int, default=100)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--max-iterations", type=int, default=400)
    ap.add_argument("--engine", default="local", choices=["local", "ray", "inline"])
    args = ap.parse_args()

    from gigawatt.commands.common import load_portfolio
    from gigawatt.stochastic.decompose import InlinePool, solve_decomposed
    from gigawatt.stochastic.extensive import solve_extensive
    from gigawatt.stochastic.futures import draw_futures
    from gigawatt.sweep.pinned import pinned_pool

    print(f"load average before: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} cores")
    portfolio, _ = load_portfolio(Path(args.scenario), None, [])
    for n in args.futures:
        futures = draw_futures(portfolio, n)
        ext = None
        if n <= args.extensive_up_to:
            t = time.perf_counter()
            ext = solve_extensive(futures)
            print(f"N={n} extensive form: {ext.expected_usd:.6e} USD in {time.perf_counter() - t:.1f} s "
                  f"({ext.size['variables']:,} variables)")
        base = None
        for w in args.workers:
            pool = pinned_pool(args.engine, workers=w) or InlinePool()
            try:
                d = solve_decomposed(futures, pool, workers=w, tolerance=args.tolerance,
                                     max_iterations=args.max_iterations)
            finally:
                pool.close()
            r = d.report
            loop = r["wall_seconds"] - r["setup_seconds"]
            per_it = loop / len(r["iterations"])
            base = base or (r["setup_seconds"], per_it)
            agree = (f"{(d.solution.expected_usd - ext.expected_usd) / ext.expected_usd:+.2e} vs extensive"
                     if ext is not None else "no extensive form")
            gap = r["final_gap"]
            print(f"N={n} workers={w} ({args.engine}): {len(r['iterations'])} iterations, converged "
                  f"{r['converged']}, gap {gap if gap is None else f'{gap:.2e}'}, setup {r['setup_seconds']:.1f} s, "
                  f"wall {r['wall_seconds']:.1f} s ({per_it:.2f} s per iteration), objective "
                  f"{d.solution.expected_usd:.6e} ({agree}); speed-up from {args.workers[0]} worker(s): setup "
                  f"{base[0] / r['setup_seconds']:.2f}x, per iteration {base[1] / per_it:.2f}x", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f} (1 min)")


if __name__ == "__main__":
    main()
