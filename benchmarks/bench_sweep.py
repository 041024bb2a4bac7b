"""Sweep throughput (solves per second) with 1 and 2 workers, on the local process pool and on Ray.

A grid of real solves of examples/minimal.yaml (by default 4 site build costs × 4 contract sizes = 16
runs, each a full read → validate → Portfolio → linopy/HiGHS solve with one HiGHS thread → headline
row) runs through gigawatt.sweep.run with each executor. Start-up (forking and warming the pool, or
ray.init and warming its workers) is timed apart from the solves; "solves/s" is the tasks divided by the
time from the first submission to the last row written; the speed-up is 2 workers over 1. Each row also
records the worker's CPU time per solve: when the wall time per solve grows with the workers while the
CPU time does not, the workers are waiting for cores (another process), not for gigawatt.

With ``--per-task`` it also runs the same tasks one after another in this process, twice (update-and-
resolve, as the sweep's workers do, and cold: build and solve from scratch), with the time of each step
(read+validate, portfolio, linopy build, HiGHS hand-off and solve, extract, headline, Parquet write), and
beside them the yardstick of issue 16: HiGHS alone solving the same task's LP from scratch (a new
``highspy.Highs``, ``passModel`` of the LP, ``run``; the LP taken from the task's model beforehand, so
the yardstick's clock holds HiGHS only). The ratio is the sweep's wall time per task (1 worker) over it.

Usage::

    python benchmarks/bench_sweep.py                       # local and ray, 1 and 2 workers, 16 runs
    python benchmarks/bench_sweep.py --engines local --runs 32
    python benchmarks/bench_sweep.py --per-task --engines none                       # minimal example
    python benchmarks/bench_sweep.py --per-task --engines none --scenario scenarios/openai.yaml

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


def grid(n: int, scenario: Path) -> list[str]:
    """--vary strings giving about n runs: of the minimal example, or (any other scenario) its discount
    rate × its first site's build cost (numbers that change objective coefficients and nothing else)."""
    if scenario.name != "minimal.yaml":
        rates = [f"{r}%" for r in (10, 8, 12, 6, 14, 9, 11, 7)]
        costs = [f"{c} million USD/MW" for c in (10.3, 9, 12, 14)]
        a = 4 if n >= 16 else 2
        b = max(1, n // a)
        return [f"sites.milam.build_cost={','.join(costs[:a])}", f"horizon.discount_rate={','.join(rates[:b])}"]
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
    ap.add_argument("--per-task", action="store_true", help="the per-task split and the HiGHS-alone ratio")
    ap.add_argument("--modes", default="cold,update,fast",
                    help="per-task paths, in order: cold, update (update-and-resolve), fast (the numbers-only "
                         "fast path the sweep's workers take)")
    args = ap.parse_args()

    from gigawatt.sweep.executors import LocalExecutor, RayExecutor
    from gigawatt.sweep.manifest import build
    from gigawatt.sweep.run import run

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    t0 = time.perf_counter()
    manifest = build(args.scenario, vary=grid(args.runs, args.scenario))
    shape = " × ".join(f"{len(v)} {k}" for k, v in manifest.vary.items())
    print(f"grid: {len(manifest.tasks)} solves of {args.scenario.name} ({shape}); "
          f"manifest built and checked in {time.perf_counter() - t0:.2f} s")
    if args.per_task:
        per_task(manifest, args.modes.split(","))
    rates: dict[tuple[str, int], float] = {}
    print(f"{'engine':>6} {'workers':>7} {'start-up s':>10} {'solves s':>9} {'solves/s':>9} {'wall s/solve':>12} "
          f"{'cpu s/solve':>11}")
    for engine in [e for e in args.engines.split(",") if e in ("local", "ray")]:
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


def highs_alone(ctx, method: str) -> float:
    """Seconds HiGHS alone takes to solve the model's LP from scratch: a new Highs instance, passModel,
    run (the sweep's method, no output; HiGHS's dual simplex on these sizes is serial, and the threads
    option cannot differ from the process's first HiGHS instance's). The LP is read out of a linopy hand-off first."""
    import highspy
    from linopy.solvers import Highs

    lp = Highs._build_solver_model(ctx.model, set_names=False).getLp()
    t0 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", method)
    h.passModel(lp)
    h.run()
    seconds = time.perf_counter() - t0
    status = h.getModelStatus()
    assert status == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(status)
    return seconds


def per_task(manifest, modes=("cold", "update", "fast")) -> None:
    """Each task in this process, through each path of ``modes`` (cold: build and solve from scratch;
    update: update-and-resolve; fast: the numbers-only fast path of sweep workers), step by step, against
    HiGHS alone. "build" is the linopy build (fast: the families rebuilt and the numbers compared),
    "extract" the extraction plus the rest of the step (fast: pushing the numbers, reading the solution)."""
    from dataclasses import asdict

    import numpy as np

    from gigawatt.optimize import optimize
    from gigawatt.optimize.build import create_model
    from gigawatt.optimize.resolve import Resolver
    from gigawatt.portfolio import Portfolio
    from gigawatt.optimize.fastpath import FastPath
    from gigawatt.sweep import executors
    from gigawatt.sweep.executors import headline
    from gigawatt.sweep.manifest import Task, resolve_task
    from gigawatt.sweep.run import write_row

    steps = ("read+validate", "portfolio", "build", "solve", "extract", "headline", "write")
    tmp = Path(tempfile.mkdtemp(prefix="gw-bench-task-"))
    try:
        for mode in modes:  # cold first, so that imports are warm in all
            resolver = Resolver() if mode == "update" else None
            executors._FAST = FastPath() if mode == "fast" else None
            times = {k: [] for k in (*steps, "total", "highs_alone", "highs_run")}
            hows = []
            summary = []
            for task in manifest.tasks:
                t = time.perf_counter()
                resolved, sc = resolve_task(manifest, Task(**asdict(task)), validate=True)
                t1 = time.perf_counter()
                p = Portfolio.from_scenario(sc, resolved)
                t2 = time.perf_counter()
                if mode == "fast":
                    plan = executors.solve_task(p, manifest.solve, figures=True)  # as run_task: a row's figures
                else:
                    plan = optimize(p, threads=1, confirm_binding=0, method=manifest.solve.get("method"),
                                    allow_unmet=manifest.solve.get("allow_unmet"), resolver=resolver)
                t3 = time.perf_counter()
                row = headline(plan, p)
                t4 = time.perf_counter()
                write_row(tmp / f"{task.task_id}.parquet", {"task_id": task.task_id, **row})
                t5 = time.perf_counter()
                a = plan.attrs if hasattr(plan, "attrs") else plan.ds.attrs  # fast: optimize.figures.Solved
                other = (t3 - t2) - a["build_seconds"] - a["solve_seconds"] - a["extract_seconds"]
                for k, v in zip(steps, (t1 - t, t2 - t1, a["build_seconds"], a["solve_seconds"],
                                        a["extract_seconds"] + other, t4 - t3, t5 - t4)):
                    times[k].append(v)
                times["total"].append(t5 - t)
                times["highs_run"].append(a["highs_run_seconds"])
                ctx = create_model(p, allow_unmet=bool(a["allow_unmet"]))
                times["highs_alone"].append(highs_alone(ctx, a["method"]))
                hows.append(a["resolve"])
                summary.append(row["net_present_cost_usd"])
            mean = {k: float(np.nanmean(v)) for k, v in times.items()}
            print(f"per task, {mode} ({len(manifest.tasks)} tasks, {', '.join(sorted(set(h.split(':')[0] for h in hows)))}): "
                  + ", ".join(f"{k} {mean[k] * 1e3:.1f} ms" for k in (*steps, "total")))
            print(f"  HiGHS inside the path {mean['highs_run'] * 1e3:.1f} ms; HiGHS alone from scratch "
                  f"{mean['highs_alone'] * 1e3:.1f} ms; total / HiGHS alone = {mean['total'] / mean['highs_alone']:.1f}×")
            later = float(np.mean(times["total"][1:])) if len(times["total"]) > 1 else mean["total"]
            print(f"  after the worker's first task: total {later * 1e3:.1f} ms, / HiGHS alone = "
                  f"{later / mean['highs_alone']:.1f}×; paths: {', '.join(sorted(set(hows)))[:160]}")
            if len(times["total"]) > 1:
                print("  steps after the worker's first task: " + ", ".join(
                    f"{k} {float(np.mean(times[k][1:])) * 1e3:.1f} ms" for k in steps))
            if mode == modes[0]:
                cold_objectives = np.array(summary)
            else:
                worst = float(np.max(np.abs(np.array(summary) - cold_objectives) / np.abs(cold_objectives)))
                print(f"  objectives against {modes[0]}: largest relative difference {worst:.1e}")
            print(f"  load average {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
