"""Build and solve time and peak memory of the reference's extensive form, against the deterministic solve.

    python benchmarks/bench_stochastic.py [N ...]      (default: 0 10 100; 0 = the deterministic solve)

Each size runs in a fresh process, so its peak resident memory (ru_maxrss) is its own. Prints one line per
size: variables, constraints, build s, solve s, peak MB. Figures in docs/performance.md."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(n: int) -> dict:
    from gigawatt.commands.common import load_portfolio
    from gigawatt.optimize.build import create_model
    from gigawatt.optimize.solve import solve
    from gigawatt.stochastic import draw_futures

    portfolio, _ = load_portfolio(ROOT / "scenarios" / "openai.yaml", None, [])
    t0 = time.perf_counter()
    if n == 0:
        ctx = create_model(portfolio, allow_unmet=True)
    else:
        fut = draw_futures(portfolio, n)
        ctx = create_model(fut.portfolio, allow_unmet=True, probability=fut.probability)
    build = time.perf_counter() - t0
    res = solve(ctx)
    return {"futures": n, "variables": int(ctx.model.nvars), "constraints": int(ctx.model.ncons),
            "build_s": round(build, 2), "solve_s": round(res.solve_seconds, 2),
            "highs_s": round(res.highs_run_seconds or 0.0, 2), "method": res.method,
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "status": res.termination}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(one(int(sys.argv[2]))))
        sys.exit(0)
    for n in [int(a) for a in sys.argv[1:]] or [0, 10, 100]:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        print(out.stdout.strip().splitlines()[-1], flush=True)
