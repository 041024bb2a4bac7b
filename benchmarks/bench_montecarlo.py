"""Monte Carlo throughput (draw-periods per second) beside the random-number floor, measured in the same run.

The plan is solved once (examples/minimal.yaml by default, or --scenario) with an uncertainty section:
the scenario's own, or a default one (below) when it has none. Then, for each draw count and number of
worker threads, the whole simulation runs, percentiles and every statistic included (gigawatt.risk.simulate
.simulate), and its rate is set beside the rate at which this machine draws standard normals with numpy's
Generator (PCG64) into a reused buffer, measured in the same run just before.

The simulation needs K normals per draw (one per level driver and event, one per year for per-year
drivers), i.e. K / P per draw-period over P periods; its random-number-bound rate is therefore
(normals per second) ÷ (K / P) draw-periods per second, and "ratio" is the simulation's rate over it.
With W > 1 threads the floor is W generators running at once (measured too), shown as "ratio (W)".

Usage::

    python benchmarks/bench_montecarlo.py                             # minimal example, 100k and 1M draws
    python benchmarks/bench_montecarlo.py --draws 100000 --workers 1,2
    python benchmarks/bench_montecarlo.py --scenario scenarios/openai.yaml --draws 100000

Numbers are printed, never asserted on. The machine is shared with whatever else runs: the load average
is printed at the start and the end, and each figure is the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Used when the scenario has no uncertainty section: every kind of driver, two events, two correlations.
DEFAULT_UNCERTAINTY = (
    "uncertainty={drivers: {"
    "demand_growth: {target: demand, distribution: lognormal, params: {mean: 0, sd: 0.15}, mode: growth}, "
    "revenue: {target: revenue, distribution: normal, params: {mean: 1.0, sd: 0.25}, mode: yearly}, "
    "prices: {target: price, distribution: triangular, params: {low: 0.8, mode: 1.0, high: 1.5}}, "
    "energy: {target: energy_price, distribution: uniform, params: {low: 0.8, high: 1.4}}, "
    "other: {target: other_costs, distribution: normal, params: {mean: 1.0, sd: 0.1}}}, "
    "events: {%s}, "
    "correlations: [{between: [revenue, demand_growth], rho: 0.6}, {between: [prices, energy], rho: 0.3}]}"
)


def default_events(portfolio) -> str:
    out = []
    sites = list(portfolio.sites.index)
    if sites:
        out.append(f"late_site: {{kind: site_delay, target: {sites[0]}, probability: 0.25, delay: 9 months}}")
    capacity = [c for c, v in portfolio.scenario.contracts.items() if v.kind == "capacity"]
    if capacity:
        out.append(f"contract_fails: {{kind: contract_failure, target: {capacity[0]}, probability: 0.05}}")
    return ", ".join(out)


def normals_per_second(seconds: float = 1.0, threads: int = 1, size: int = 1 << 20) -> float:
    """Standard normals per second from numpy's Generator into reused buffers, ``threads`` at once."""

    def one(seed: int) -> int:
        rng = np.random.Generator(np.random.PCG64(seed))
        buf = np.empty(size)
        rng.standard_normal(out=buf)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            rng.standard_normal(out=buf)
            n += size
        return n

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(one, range(threads)))
    return total / (time.perf_counter() - t0)


def load(path: Path, sets: list[str]):
    from gigawatt.optimize import optimize
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate

    r = read(path, sets=sets)
    p = Portfolio.from_scenario(validate(r), r)
    if not p.scenario.uncertainty.drivers and not p.scenario.uncertainty.events:
        r = read(path, sets=sets + [DEFAULT_UNCERTAINTY % default_events(p)])
        p = Portfolio.from_scenario(validate(r), r)
    t0 = time.perf_counter()
    plan = optimize(p, allow_unmet=True)
    return plan, p, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "examples" / "minimal.yaml")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="key.path=value, as gigawatt solve")
    ap.add_argument("--draws", default="100000,1000000", help="comma-separated draw counts")
    ap.add_argument("--workers", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--chunk-size", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from gigawatt.risk.simulate import build_model, simulate, warm_up

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at start; numpy {np.__version__}")
    plan, p, solve_s = load(args.scenario, args.sets)
    model = build_model(plan, p)
    compile_s = warm_up(model)
    P, K = model.n_periods, model.sampler.normals_per_draw
    print(f"plan: {args.scenario.name} ({p.scenario.meta.name}), {P} periods, solved in {solve_s:.2f} s; "
          f"{len(p.scenario.uncertainty.drivers)} drivers, {len(p.scenario.uncertainty.events)} events, "
          f"{K} normals per draw = {K / P:.2f} per draw-period; kernel loaded/compiled in {compile_s:.2f} s")
    workers = [int(w) for w in args.workers.split(",")]
    floor = {w: normals_per_second(threads=w) for w in sorted(set([1] + workers))}
    for w, rate in floor.items():
        print(f"numpy Generator.standard_normal, {w} thread{'s' if w > 1 else ''}: {rate:.3g} normals/s "
              f"-> random-number-bound rate {rate / (K / P):.3g} draw-periods/s")
    print(f"{'draws':>9} {'workers':>7} {'wall s':>8} {'of which stats s':>16} {'draw-periods/s':>15} "
          f"{'ratio (1 core)':>14} {'ratio (W)':>9}")
    for n in [int(x) for x in args.draws.split(",")]:
        for w in workers:
            best = None
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                res = simulate(plan, p, draws=n, seed=1, chunk_size=args.chunk_size, workers=w, model=model)
                wall = time.perf_counter() - t0
                if best is None or wall < best[0]:
                    best = (wall, res.timings["statistics_s"])
            wall, stats = best
            rate = n * P / wall
            bound1 = floor[1] / (K / P)
            boundw = floor[w] / (K / P)
            print(f"{n:>9,} {w:>7} {wall:>8.3f} {stats:>16.3f} {rate:>15.3g} {rate / bound1:>14.0%} "
                  f"{rate / boundw:>9.0%}")
    split(plan, p, model, max(int(x) for x in args.draws.split(",")), args.repeat)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


def split(plan, portfolio, model, n: int, repeat: int) -> None:
    """Where one thread's time goes: the sampler's normals (with the copula) alone, normals + the compiled
    kernel (every chunk, outputs to the workspace), and the whole simulate() (+ statistics, stores)."""
    from gigawatt.risk.simulate import default_chunk, run_chunk, simulate

    chunk = default_chunk(model.n_periods)
    starts = range(0, n, chunk)

    def normals():
        for s in starts:
            for _ in model.sampler._blocks(1, s, min(chunk, n - s)):
                pass

    def chunks():
        for s in starts:
            run_chunk(model, 1, s, min(chunk, n - s))

    def whole():
        return simulate(plan, portfolio, draws=n, seed=1, model=model)

    def best(f):
        out = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            f()
            out.append(time.perf_counter() - t0)
        return min(out)

    t_norm, t_chunks = best(normals), best(chunks)
    stats = min(whole().timings["statistics_s"] for _ in range(repeat))
    t_all = best(whole)
    print(f"split, {n:,} draws, 1 thread (best of {repeat}): normals + copula {t_norm:.3f} s, kernel "
          f"{t_chunks - t_norm:.3f} s, percentiles and statistics {stats:.3f} s, stores and the rest "
          f"{max(t_all - t_chunks - stats, 0.0):.3f} s; whole {t_all:.3f} s")


if __name__ == "__main__":
    main()
