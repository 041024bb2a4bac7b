"""Build and solve time and peak memory of the reference's extensive form, against the deterministic solve.

    python benchmarks/bench_stochastic.py [N ...]      (default: 0 10 100; 0 = the deterministic solve)
    python benchmarks/bench_stochastic.py 1000 --method ipm --no-crossover --threads 1 --time-limit 1200 \\
        --log runs/bench-1000.log

Each size runs in a fresh process, so its peak resident memory (ru_maxrss) is its own. Prints one line per
size: variables, constraints, draw s (sampling the futures), build s (the linopy model), solve s (linopy →
HiGHS hand-over + HiGHS, wall; solve_cpu_s its CPU seconds; HiGHS's own run time as highs_s), peak MB, and after the build a line `built` (so a
run stopped by a timeout still reports its build). `--method`, `--no-crossover`, `--threads`, `--time-limit`
go to HiGHS (default: the package's choice: `stochastic.extensive.EXTENSIVE_METHOD` for the extensive
form, `optimize.solve.pick_method` for N = 0); `--log FILE` keeps HiGHS's log
(iterations, where IPM time goes). Figures in docs/performance.md."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _cpu_s() -> float:
    """CPU seconds of this process so far (user + system): on a shared machine, wall time is not the cost."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def one(n: int, opts: argparse.Namespace) -> dict:
    from gigawatt.commands.common import load_portfolio
    from gigawatt.optimize.build import create_model
    from gigawatt.optimize.solve import pick_method, solve_in_scratch
    from gigawatt.stochastic import draw_futures
    from gigawatt.stochastic.extensive import EXTENSIVE_METHOD

    portfolio, _ = load_portfolio(ROOT / "scenarios" / "openai.yaml", None, [])
    t0 = time.perf_counter()
    fut = draw_futures(portfolio, n) if n else None
    t1 = time.perf_counter()
    ctx = (create_model(portfolio, allow_unmet=True) if n == 0 else
           create_model(fut.portfolio, allow_unmet=True, probability=fut.probability))
    t2 = time.perf_counter()
    row = {"futures": n, "variables": int(ctx.model.nvars), "constraints": int(ctx.model.ncons),
           "draw_s": round(t1 - t0, 2), "build_s": round(t2 - t1, 2)}
    print("built " + json.dumps({**row, "peak_mb": _peak_mb()}), flush=True)
    # default: what `gigawatt hedge` uses (dual simplex for the extensive form), the package's pick for N = 0
    method = opts.method if opts.method != "auto" else EXTENSIVE_METHOD if n else pick_method(ctx, "auto")
    options: dict = {"solver": method, "output_flag": bool(opts.log)}
    if opts.log:
        options["log_file"] = str(Path(opts.log).resolve())
        options["log_to_console"] = False
    if opts.no_crossover:
        options["run_crossover"] = "off"
    if opts.threads:
        options["threads"] = opts.threads
    if opts.time_limit:
        options["time_limit"] = opts.time_limit
    t3, c3 = time.perf_counter(), _cpu_s()
    _status, termination = solve_in_scratch(ctx.model, solver_name="highs", io_api="direct", progress=False, **options)
    solve_s = time.perf_counter() - t3
    highs_s = float(ctx.model.solver_model.getRunTime())
    return {**row, "solve_s": round(solve_s, 2), "solve_cpu_s": round(_cpu_s() - c3, 2), "highs_s": round(highs_s, 2),
            "method": method,
            "crossover": not opts.no_crossover, "threads": opts.threads, "peak_mb": _peak_mb(),
            "status": str(termination), "objective": float(ctx.model.objective.value or 0.0)}


def _args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("sizes", nargs="*", type=int)
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--method", default="auto", choices=["auto", "simplex", "ipm", "hipo", "ipx", "pdlp"])
    p.add_argument("--no-crossover", action="store_true")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--time-limit", type=float, default=0.0)
    p.add_argument("--log", default="")
    return p.parse_args(argv)


if __name__ == "__main__":
    a = _args(sys.argv[1:])
    if a.one:
        print(json.dumps(one(a.sizes[0], a)), flush=True)
        sys.exit(0)
    passed = ["--method", a.method, "--threads", str(a.threads), "--time-limit", str(a.time_limit), "--log", a.log,
              *(["--no-crossover"] if a.no_crossover else [])]
    for n in a.sizes or [0, 10, 100]:
        proc = subprocess.Popen([sys.executable, __file__, "--one", str(n), *passed], stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:  # HiGHS prints its banner on stdout: keep only the benchmark's lines
            if line.startswith(("{", "built")):
                print(line.strip(), flush=True)
        if proc.wait() != 0:
            sys.exit(proc.returncode)
