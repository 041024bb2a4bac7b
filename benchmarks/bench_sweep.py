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

With ``--sweep`` it runs the whole sweep (``gigawatt.sweep.run.run``: specs, the worker's task, the
Parquet row written by the driver) with a 1-worker local pool and with the inline executor (tasks in this
process), each after one warm-up task of the same structure on the same executor (start-up and the worker's
first task excluded), and prints the wall time per task from the first submission to the last row written,
the worker's CPU time per task, and the ratio to HiGHS alone on the same tasks.

With ``--stub-ms X`` the engine table (and ``--sweep``) runs a stub instead of the real task: X ms of CPU,
then a copy of a real row of this grid. The sweep's own cost per task (chunks, pickling, the Parquet
encoding in the worker, the driver's write and rename) is the wall time per task minus X; the 1 → 2 worker
speed-up is that of tasks as fast as X ms.

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

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def grid(n: int, scenario: Path) -> list[str]:
    """--vary strings giving about n runs: of the minimal example, or (any other scenario) its discount
    rate × its first site's build cost (numbers that change objective coefficients and nothing else).
    Past 32 runs the second key takes evenly spaced values (a sweep of many fast tasks, where each
    worker's first task, which loads its base model, no longer dominates)."""
    a = 4 if n >= 16 else 2
    b = max(1, n // a)
    if scenario.name != "minimal.yaml":
        rates = [f"{r}%" for r in (10, 8, 12, 6, 14, 9, 11, 7)] if b <= 8 else \
            [f"{5 + 10 * i / (b - 1):.3f}%" for i in range(b)]
        costs = [f"{c} million USD/MW" for c in (10.3, 9, 12, 14)]
        return [f"sites.milam.build_cost={','.join(costs[:a])}", f"horizon.discount_rate={','.join(rates[:b])}"]
    costs = [f"{c} million USD/MW" for c in (9, 10.5, 11.7, 13, 14.5, 16, 18, 20)]
    chips = [20000, 35000, 50000, 65000, 80000, 100000, 120000, 150000] if b <= 8 else \
        [20000 + round(130000 * i / (b - 1)) for i in range(b)]
    return [f"sites.texas.build_cost={','.join(costs[:a])}",
            f"contracts.cloudco_reserved.chips={','.join(map(str, chips[:b]))}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "examples" / "minimal.yaml")
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--engines", default="local,ray")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--per-task", action="store_true", help="the per-task split and the HiGHS-alone ratio")
    ap.add_argument("--sweep", action="store_true",
                    help="the whole sweep per task (1-worker pool and inline) against HiGHS alone")
    ap.add_argument("--stub-ms", type=float, default=None,
                    help="a stub task of this many ms of CPU instead of the real task (the sweep's own cost)")
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
    task_fn = stub_task(manifest, args.stub_ms) if args.stub_ms is not None else None
    if args.sweep:
        whole_sweep(manifest, task_fn, args.stub_ms)
    rates: dict[tuple[str, int], float] = {}
    print(f"{'engine':>6} {'workers':>7} {'start-up s':>10} {'solves s':>9} {'solves/s':>9} {'wall s/solve':>12} "
          f"{'cpu s/solve':>11} {'driver cpu ms/task':>18} {'sweep cpu ms/task':>17}")
    for engine in [e for e in args.engines.split(",") if e in ("local", "ray")]:
        for w in [int(x) for x in args.workers.split(",")]:
            tmp = Path(tempfile.mkdtemp(prefix="gw-bench-sweep-"))
            try:
                t0 = time.perf_counter()
                ex = LocalExecutor(w) if engine == "local" else RayExecutor(w)
                startup = time.perf_counter() - t0
                try:
                    before = process_cpu(pids_of(ex))
                    res = run(manifest, tmp, executor=ex, **({"task_fn": task_fn} if task_fn else {}))
                    workers_cpu = process_cpu(pids_of(ex)) - before
                finally:
                    ex.close()
                assert (res.summary["status"] == "ok").all(), res.failed
                solve_s = res.timings.get("tasks_s", res.timings["run_s"])  # (run_s: code before tasks_s)
                rates[(engine, w)] = len(manifest.tasks) / solve_s
                per = res.summary["elapsed_s"].mean()
                cpu = res.summary["cpu_s"].mean()
                n = len(manifest.tasks)
                driver = res.timings.get("tasks_cpu_s", np.nan) / n  # from the first submission to the last row
                tasks_cpu = res.summary["cpu_s"].sum()  # the tasks' own CPU, inside the workers
                sweep = driver + (workers_cpu - tasks_cpu) / n
                print(f"{engine:>6} {w:>7} {startup:>10.2f} {solve_s:>9.2f} {rates[(engine, w)]:>9.2f} {per:>12.3f} "
                      f"{cpu:>11.3f} {driver * 1e3:>18.2f} {sweep * 1e3:>17.2f}")
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    for engine in args.engines.split(","):
        if (engine, 1) in rates and (engine, 2) in rates:
            print(f"speed-up {engine}, 2 workers over 1: {rates[(engine, 2)] / rates[(engine, 1)]:.2f}×")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


def pids_of(ex) -> list[int]:
    """The executor's worker processes (``pids``; a local pool of older code: its processes; else none)."""
    pool = getattr(ex, "pool", None)
    return list(getattr(ex, "pids", None) or (pool._processes if pool is not None else []))


def process_cpu(pids) -> float:
    """CPU seconds (user + system) the processes ``pids`` have used so far (Linux /proc; 0 elsewhere)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _spin_task(spec: dict, template: dict, ms: float) -> dict:
    """The stub task: ``ms`` of CPU, then the template row as this task's (module level: workers unpickle it)."""
    import socket

    from gigawatt.sweep.executors import param_columns

    t0, c0 = time.perf_counter(), time.process_time()
    while time.process_time() - c0 < ms / 1e3:
        pass
    task = spec["task"]
    row = {k: v for k, v in template.items() if "." not in k and k != "draw"}
    row.update(task_id=task["task_id"], **param_columns(task["params"]), attempt=int(spec.get("attempt", 1)),
               elapsed_s=time.perf_counter() - t0, cpu_s=time.process_time() - c0,
               worker=f"{socket.gethostname()}:{os.getpid()}")
    return row


def stub_task(manifest, ms: float):
    """A task function of ``ms`` ms of CPU returning a real row of this grid (its first task, solved here)."""
    from dataclasses import asdict
    from functools import partial

    from gigawatt.sweep.executors import run_task

    template = run_task({"base_yaml": manifest.base_yaml, "task": asdict(manifest.tasks[0]), "solve": manifest.solve,
                         "attempt": 1, "resolve": False})
    assert template["status"] == "ok", template["error"]
    return partial(_spin_task, template=template, ms=ms)


def whole_sweep(manifest, task_fn=None, stub_ms=None) -> None:
    """The whole sweep, 1 worker, per task against HiGHS alone (see the module's docstring)."""
    from dataclasses import replace

    import numpy as np

    from gigawatt.sweep import executors
    from gigawatt.sweep.executors import InlineExecutor, LocalExecutor
    from gigawatt.sweep.run import run

    alone, alone_cpu = (None, None) if task_fn else np.mean([alone_for(manifest, t) for t in manifest.tasks], axis=0)
    n = len(manifest.tasks)
    for name in ("local", "inline"):
        executors._FAST, executors._RESOLVER = None, None  # the inline executor's first task is its own
        tmp = Path(tempfile.mkdtemp(prefix="gw-bench-whole-"))
        try:
            ex = LocalExecutor(1) if name == "local" else InlineExecutor()
            try:
                kw = {"task_fn": task_fn} if task_fn else {}
                run(replace(manifest, tasks=manifest.tasks[-1:]), tmp / "warm", executor=ex, **kw)
                pids = pids_of(ex)
                before = process_cpu(pids)
                res = run(manifest, tmp / "sweep", executor=ex, **kw)
                own = (process_cpu(pids) - before + res.timings.get("tasks_cpu_s", np.nan) - res.summary["cpu_s"].sum()) / n
            finally:
                ex.close()
            assert (res.summary["status"] == "ok").all(), res.failed
            per = res.timings.get("tasks_s", res.timings["run_s"]) / n
            cpu = float(res.summary["cpu_s"].mean())
            what = (f"wall outside the task {(per - res.summary['elapsed_s'].mean()) * 1e3:.2f} ms per task" if task_fn
                    else f"HiGHS alone {alone * 1e3:.1f} ms (CPU {alone_cpu * 1e3:.1f} ms); sweep / HiGHS alone = "
                         f"{per / alone:.1f}× (CPU: {(cpu + own) / alone_cpu:.1f}×)")
            print(f"whole sweep, {name:>6}, 1 worker, {n} tasks after a warm-up task: wall {per * 1e3:.1f} ms per task "
                  f"(the task's CPU {cpu * 1e3:.1f} ms, its wall {res.summary['elapsed_s'].mean() * 1e3:.1f} ms; "
                  f"CPU outside the task {own * 1e3:.2f} ms); "
                  f"{what}; paths: {', '.join(sorted(set(res.summary.get('resolve', ['stub']))))[:100]}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"  load average {os.getloadavg()[0]:.2f}")


def alone_for(manifest, task) -> tuple[float, float]:
    """HiGHS alone on one task's LP, wall and CPU seconds (its model built cold here, outside the clock)."""
    from dataclasses import asdict

    from gigawatt.optimize.build import create_model
    from gigawatt.portfolio import Portfolio
    from gigawatt.sweep.manifest import Task, resolve_task

    _, sc = resolve_task(manifest, Task(**asdict(task)), validate=True)
    p = Portfolio.from_scenario(sc, _)
    allow = manifest.solve.get("allow_unmet")
    cfg = sc.config.solve
    ctx = create_model(p, allow_unmet=cfg.allow_unmet if allow is None else bool(allow))
    return highs_alone(ctx, manifest.solve.get("method") or cfg.method, cpu=True)


def highs_alone(ctx, method: str, cpu: bool = False):
    """Seconds HiGHS alone takes to solve the model's LP from scratch: a new Highs instance, passModel,
    run (the sweep's method, no output; HiGHS's dual simplex on these sizes is serial, and the threads
    option cannot differ from the process's first HiGHS instance's). The LP is read out of a linopy hand-off first."""
    import highspy
    from linopy.solvers import Highs

    lp = Highs._build_solver_model(ctx.model, set_names=False).getLp()
    t0, c0 = time.perf_counter(), time.process_time()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", method)
    h.passModel(lp)
    h.run()
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    status = h.getModelStatus()
    assert status == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(status)
    return (seconds, cpu_seconds) if cpu else seconds


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
    from gigawatt.portfolio.reuse import PortfolioCache
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
            reuse = PortfolioCache()
            times = {k: [] for k in (*steps, "total", "highs_alone", "highs_run")}
            hows = []
            summary = []
            for task in manifest.tasks:
                t = time.perf_counter()
                resolved, sc = resolve_task(manifest, Task(**asdict(task)), validate=True)
                t1 = time.perf_counter()
                # fast: as run_task, only the sections whose inputs changed (a cache of this mode's own)
                p = Portfolio.from_scenario(sc, resolved, reuse=reuse if mode == "fast" else False)
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
