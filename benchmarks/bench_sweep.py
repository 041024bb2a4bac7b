"""Sweep throughput (solves per second) with 1 and 2 workers, on the local process pool and on Ray.

A grid of real solves of examples/minimal.yaml (by default 4 site build costs × 4 contract sizes = 16
runs, each a full read → validate → Portfolio → HiGHS solve with one thread → headline row) runs through
gigawatt.sweep.run with each executor. Each engine runs the worker counts alternately ``--repeat`` times
(1, 2, then 2, 1, …: every other repeat in reverse order), every run on a fresh executor (a new pool, or a new local Ray instance) in a fresh folder,
so that the machine's drift (±25% between identical runs on a shared 2-core VM) falls on both counts
alike; a row is printed per run, then the median speed-up of each repeat's (1, 2) pair with its min–max.

Per run: start-up (forking and warming the pool, or ray.init and warming its workers) is timed apart;
"solves/s" is the tasks over the time from the first submission to the last row written (the whole sweep:
the issue's figure). Each worker's first task loads its fast-path base (~0.5 s), a fixed cost per worker:
it is the first of the worker's rows in submission order (rows carry ``worker`` and ``elapsed_s``), shown as
"1st task s", and "after-1st solves/s" is Σ over workers of (its tasks − 1) / (the whole sweep's time − its
first task's), the throughput once the workers are loaded. Both speed-ups are printed, labelled. Each row
also records the worker's CPU time per solve (wall per solve growing with the workers while CPU does not
means the workers wait for cores), the driver's and the sweep's own CPU per task, the machine's busy share
of all cores during the run (/proc/stat), the cores busy with processes other than this one and its
children (pool workers, Ray's daemons and workers: "others cores", i.e. other users), and the load average.

The sweep folders are made in a temporary folder under ``--out-dir`` (default: the current directory, not
/tmp). The driver creates a file per chunk of tasks (a file per task before chunk files), and what creating
a file costs is a property of the disk and the
folder, not of gigawatt: on the 2-core VM of 2026-12-03 (one ext4 disk for / and /tmp) it was 0.6–0.8 ms of
CPU in /tmp against 0.03–0.15 ms in other folders at 19:00 UTC, and 0.08 ms in /tmp against 0.35–0.40 ms
under /work at 19:20. So the CPU cost of creating a file in a fresh folder there and, for comparison, in
/tmp (200 atomic writes of 4 KiB each, the driver's way) is printed at the start.

With ``--per-task`` it also runs the same tasks one after another in this process, twice (update-and-
resolve, as the sweep's workers do, and cold: build and solve from scratch), with the time of each step
(read+validate, portfolio, linopy build, HiGHS hand-off and solve, extract, headline, Parquet write: here a
file per task, where a sweep writes one per chunk, so this step overstates a sweep's), and
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

    python benchmarks/bench_sweep.py                       # local and ray, 1 and 2 workers × 3, 16 runs
    python benchmarks/bench_sweep.py --engines local --runs 2048 --repeat 5 --out-dir /work/scratch
    python benchmarks/bench_sweep.py --engines local,ray --runs 512 --stub-ms 5     # the sweep's own cost
    python benchmarks/bench_sweep.py --per-task --engines none                       # minimal example
    python benchmarks/bench_sweep.py --per-task --engines none --scenario scenarios/openai.yaml

Numbers are printed, never asserted on. Timings taken while other processes run are noise: read the
"busy %" and "others cores" columns before a speed-up.
"""
# long: one script whose modes share the grid, the executors' set-up and the /proc measurements

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
    ap.add_argument("--engines", default="local,ray", help="local, ray, both (comma-separated) or none")
    ap.add_argument("--workers", default="1,2", help="worker counts, run alternately; speed-ups are over the first")
    ap.add_argument("--repeat", type=int, default=3,
                    help="how many times each engine runs the worker counts alternately (1,2, then 2,1, …), each run on a "
                         "fresh executor and a fresh folder; the speed-up is the median of the adjacent pairs "
                         "(one pair says little on a noisy machine: the same run moves ±25%%)")
    ap.add_argument("--out-dir", type=Path, default=None,
                    help="folder in which the sweep folders are made (a temporary folder inside it, removed at "
                         "the end). Default: a temporary folder under the current directory, not /tmp: the driver "
                         "creates a file per chunk of tasks, and creating one cost 5-20 times the CPU in this VM's /tmp that "
                         "it cost in other folders when measured (2026-12-03 19:00 UTC; it varies by folder and "
                         "hour). The probe printed at the start shows what DIR and /tmp cost now")
    ap.add_argument("--per-task", action="store_true", help="the per-task split and the HiGHS-alone ratio")
    ap.add_argument("--sweep", action="store_true",
                    help="the whole sweep per task (1-worker pool and inline) against HiGHS alone")
    ap.add_argument("--stub-ms", type=float, default=None,
                    help="a stub task of this many ms of CPU instead of the real task (the sweep's own cost)")
    ap.add_argument("--modes", default="cold,update,fast",
                    help="per-task paths, in order: cold, update (update-and-resolve), fast (the numbers-only "
                         "fast path the sweep's workers take)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")

    from gigawatt.sweep.manifest import build

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    if args.out_dir is not None:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix=".gw-bench-sweep-", dir=args.out_dir or Path.cwd()))
    try:
        cpu_ms, wall_ms = file_cost(base)
        tmp_cpu, tmp_wall = file_cost(Path(tempfile.gettempdir()))
        print(f"sweep folders under {base.parent}: creating a file in a fresh folder there (4 KiB under a "
              f"temporary name, renamed; 200 files) costs {cpu_ms:.3f} ms of CPU ({wall_ms:.3f} ms wall) per file; "
              f"in {tempfile.gettempdir()}: {tmp_cpu:.3f} ms of CPU ({tmp_wall:.3f} ms wall)")
        t0 = time.perf_counter()
        manifest = build(args.scenario, vary=grid(args.runs, args.scenario))
        shape = " × ".join(f"{len(v)} {k}" for k, v in manifest.vary.items())
        print(f"grid: {len(manifest.tasks)} solves of {args.scenario.name} ({shape}); "
              f"manifest built and checked in {time.perf_counter() - t0:.2f} s")
        if args.per_task:
            per_task(manifest, args.modes.split(","), base)
        task_fn = stub_task(manifest, args.stub_ms) if args.stub_ms is not None else None
        if args.sweep:
            whole_sweep(manifest, base, task_fn, args.stub_ms)
        engines = [e for e in args.engines.split(",") if e in ("local", "ray")]
        if engines:
            engine_table(manifest, engines, [int(x) for x in args.workers.split(",")], args.repeat, task_fn, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


def file_cost(base: Path, n: int = 200) -> tuple[float, float]:
    """ms of CPU and of wall time per file the driver's way (:func:`gigawatt.atomic.atomic_write_bytes`:
    4 KiB, about a one-row Parquet file, under a temporary name, then renamed), in a new folder under
    ``base`` (a fresh folder, as each sweep's is)."""
    from gigawatt.atomic import atomic_write_bytes

    folder = Path(tempfile.mkdtemp(prefix="probe-", dir=base))
    data = os.urandom(4096)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n):
            atomic_write_bytes(folder / f"{i:05d}.parquet", data)
        return (time.process_time() - c0) / n * 1e3, (time.perf_counter() - t0) / n * 1e3
    finally:
        shutil.rmtree(folder, ignore_errors=True)


OTHERS = 0.2  # cores used by other processes during a run above which its pair is flagged as noisy
COLUMNS = (("engine", 6), ("rep", 3), ("workers", 7), ("start-up s", 10), ("solves s", 9), ("solves/s", 9),
           ("wall s/solve", 12), ("cpu s/solve", 11), ("driver cpu ms/task", 18), ("sweep cpu ms/task", 17),
           ("procs", 5), ("1st task s", 10), ("after-1st solves/s", 18), ("busy %", 6), ("others cores", 12),
           ("load", 5))


def engine_table(manifest, engines: list[str], workers: list[int], repeat: int, task_fn, base: Path) -> None:
    """Each engine runs the worker counts alternately, ``repeat`` times, every other repeat in reverse order
    (1,2 then 2,1 …: a machine that drifts slower or faster through the runs then favours neither count),
    each run on a fresh executor and in a fresh folder; a row per run, then the median speed-up of the
    repeats' pairs."""
    print("each run: start-up = executor made and warmed; solves s = first submission to last row;\n"
          "  procs = worker processes in the rows; 1st task s = the mean of each worker's first task (its base load);\n"
          "  after-1st solves/s = Σ over workers of (its tasks − 1) / (solves s − its first task);\n"
          "  busy % = the machine's busy share of all cores during the run (/proc/stat); others cores = busy cores\n"
          "  not used by this process and its children (other users); load = 1-minute load average after the run")
    print(" ".join(f"{name:>{width}}" for name, width in COLUMNS))
    rates: dict[tuple[str, int], list[tuple[float, float, float]]] = {}  # (engine, workers) -> per repeat
    # (whole, after the first tasks, others' cores)
    for engine in engines:
        for k in range(repeat):
            for w in (workers if k % 2 == 0 else workers[::-1]):
                r = one_run(manifest, engine, w, task_fn, base)
                rates.setdefault((engine, w), []).append(
                    (r["solves/s"], r["after-1st solves/s"], r["others cores"]))
                print(format_row(r, k + 1), flush=True)
    for engine in engines:
        for w in workers[1:]:
            pairs = list(zip(rates.get((engine, workers[0]), []), rates.get((engine, w), [])))
            if not pairs:
                continue
            busy = sum(max(a[2], b[2]) > OTHERS for a, b in pairs)
            print(f"speed-up {engine}, {w} workers over {workers[0]}, {len(pairs)} interleaved pair(s)"
                  f"{f'; in {busy} of them other processes used over {OTHERS} cores (noise)' if busy else ''}:")
            for i, label in ((0, "whole sweep (first submission to last row: the issue's figure)"),
                             (1, "after each worker's first task (its base load left out)")):
                ratios = [b[i] / a[i] for a, b in pairs]
                print(f"  {label}: median {float(np.median(ratios)):.2f}× "
                      f"(min–max {min(ratios):.2f}–{max(ratios):.2f}×; pairs: "
                      f"{', '.join(f'{x:.2f}' for x in ratios)})")


PLACES = {"wall s/solve": 3, "cpu s/solve": 3, "1st task s": 2, "busy %": 0, "others cores": 2}


def format_row(r: dict, rep: int) -> str:
    r = {**r, "rep": rep}
    cells = (r[name] if isinstance(r[name], (str, int)) else f"{r[name]:.{PLACES.get(name, 2)}f}"
             for name, _ in COLUMNS)
    return " ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, COLUMNS))


def one_run(manifest, engine: str, w: int, task_fn, base: Path) -> dict:
    """One sweep of ``manifest`` on a new executor of ``w`` workers, in a new folder under ``base``: the
    table's figures (see :func:`engine_table`)."""
    from gigawatt.sweep import executors
    from gigawatt.sweep.executors import LocalExecutor, RayExecutor
    from gigawatt.sweep.run import run

    executors._FAST, executors._RESOLVER = None, None  # forked workers load their own base, as in a new sweep
    out = Path(tempfile.mkdtemp(prefix=f"{engine}-{w}-", dir=base))
    try:
        t0 = time.perf_counter()
        ex = LocalExecutor(w) if engine == "local" else RayExecutor(w)
        startup = time.perf_counter() - t0
        try:
            before, ours0, machine0 = process_cpu(pids_of(ex)), tree_cpu(), machine_ticks()
            res = run(manifest, out, executor=ex, **({"task_fn": task_fn} if task_fn else {}))
            machine1, ours1 = machine_ticks(), tree_cpu()
            workers_cpu = process_cpu(pids_of(ex)) - before
            rows_pids = {int(x.rsplit(":", 1)[1]) for x in set(res.summary["worker"]) if ":" in x}
            if rows_pids - set(pids_of(ex)):  # Ray ran tasks in processes other than its warmed ones
                workers_cpu = sum(ours1.get(pid, 0.0) - ours0.get(pid, 0.0) for pid in rows_pids)
        finally:
            ex.close()
    finally:
        shutil.rmtree(out, ignore_errors=True)
    assert (res.summary["status"] == "ok").all(), res.failed
    n = len(manifest.tasks)
    solve_s = res.timings.get("tasks_s", res.timings["run_s"])  # (run_s: code before tasks_s)
    driver = res.timings.get("tasks_cpu_s", np.nan) / n  # from the first submission to the last row
    tasks_cpu = res.summary["cpu_s"].sum()  # the tasks' own CPU, inside the workers
    firsts, after = split_first(res.summary, [t.task_id for t in manifest.tasks], solve_s)
    if task_fn is None:  # a real task: the first loads the base, so it should be the worker's slowest
        slowest = res.summary.groupby("worker")["elapsed_s"].max()
        if sorted(firsts) != sorted(slowest):
            print(f"  (note: in this run a worker's first task in submission order was not its slowest: "
                  f"first {sorted(firsts)}, slowest {sorted(slowest)})")
    busy, total = machine1[0] - machine0[0], machine1[1] - machine0[1]
    busy_s = busy / os.sysconf("SC_CLK_TCK")
    ours = sum(max(c - ours0.get(pid, 0.0), 0.0) for pid, c in ours1.items())
    span = total / os.sysconf("SC_CLK_TCK") / (os.cpu_count() or 1)  # wall seconds /proc/stat covered
    return {"engine": engine, "workers": w, "start-up s": startup, "solves s": solve_s, "solves/s": n / solve_s,
            "wall s/solve": res.summary["elapsed_s"].mean(), "cpu s/solve": res.summary["cpu_s"].mean(),
            "driver cpu ms/task": driver * 1e3, "sweep cpu ms/task": (driver + (workers_cpu - tasks_cpu) / n) * 1e3,
            "procs": len(firsts), "1st task s": float(np.mean(firsts)), "after-1st solves/s": after,
            "busy %": 100 * busy / max(total, 1), "others cores": max(busy_s - ours, 0.0) / max(span, 1e-9),
            "load": os.getloadavg()[0]}


def split_first(summary, order: list[str], solve_s: float) -> tuple[list[float], float]:
    """Each worker's first task (the first of its rows in submission order: it loads the worker's base) and
    the rate of the other tasks: Σ over workers of (its tasks − 1) / (solve_s − its first task's time)."""
    rank = {tid: i for i, tid in enumerate(order)}
    firsts, rate = [], 0.0
    for _, rows in summary.assign(_rank=summary["task_id"].map(rank)).sort_values("_rank").groupby("worker"):
        first = float(rows["elapsed_s"].iloc[0])
        firsts.append(first)
        if len(rows) > 1:
            rate += (len(rows) - 1) / max(solve_s - first, 1e-9)
    return firsts, rate


def machine_ticks() -> tuple[int, int]:
    """The machine's busy and total clock ticks over all cores since boot (/proc/stat's first line: busy is
    all but idle and iowait; guest time is already inside user)."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(v) - v[3] - v[4], sum(v)


def tree_cpu() -> dict[int, float]:
    """CPU seconds so far of this process and all its descendants (the pool's workers; Ray's GCS, raylet and
    workers), by process id (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    pids, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return {pid: process_cpu([pid]) for pid in pids}


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


def whole_sweep(manifest, base: Path, task_fn=None, stub_ms=None) -> None:
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
        tmp = Path(tempfile.mkdtemp(prefix="whole-", dir=base))
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


def per_task(manifest, modes=("cold", "update", "fast"), base: Path | None = None) -> None:
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
    tmp = Path(tempfile.mkdtemp(prefix="task-", dir=base))
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
