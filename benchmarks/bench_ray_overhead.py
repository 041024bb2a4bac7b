"""What Ray costs around a sweep on this machine, in CPU seconds per process (Linux /proc, not wall time:
the machine is shared, so wall time is noise while CPU time is what the 2 cores are short of).

For each executor size (1 and 2 workers, interleaved and repeated) it starts a local Ray instance through
:class:`gigawatt.sweep.executors.RayExecutor`, then measures every process of that instance:

- idle: CPU per second of each process while no task runs (after start-up, ``--idle`` seconds);
- sweep: CPU of each process during ``gigawatt.sweep.run.run`` of N tasks of examples/minimal.yaml
  (the grid of benchmarks/bench_sweep.py), per task: the driver (its main thread, and its other threads:
  Ray's gRPC/IO threads), the workers inside the tasks (the rows' ``cpu_s``) and outside them (the rest of
  the worker processes' CPU: Ray's core worker, pickling, the row's Parquet encoding), the raylet, the
  gcs_server, and the other daemons (dashboard, dashboard agent, runtime-env agent, log monitor,
  autoscaler monitor).

"outside" is everything but the tasks' own CPU: with 2 workers on 2 cores, it is what the speed-up loses.

``--variants`` names RayExecutor's settings to compare (``VARIANTS``): ``now`` as in src/, ``bare``
without its local-instance settings (``LOCAL_INIT``, ``LOCAL_REMOTE`` emptied, chunks capped at 16), and
single settings on top of ``bare``. ``--per-ray-task N`` measures instead the CPU one Ray task costs beyond
its work (N no-op tasks, one per Ray task, 1 worker, the idle rate subtracted).

Usage::

    PYTHONPATH=src python benchmarks/bench_ray_overhead.py --tasks 512 --repeat 2
    PYTHONPATH=src python benchmarks/bench_ray_overhead.py --tasks 512 --variants bare,now --workers 2
    PYTHONPATH=src python benchmarks/bench_ray_overhead.py --per-ray-task 400 --variants bare,now,bare,now

Numbers are printed, never asserted on.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
TICK = os.sysconf("SC_CLK_TCK")

# name -> (extra ray.init keyword arguments for a local instance, environment variables, class attributes)
VARIANTS: dict[str, tuple[dict, dict, dict]] = {
    "now": ({}, {}, {}),  # RayExecutor as it is in src/
    "bare": ({}, {}, {"LOCAL_INIT": {}, "LOCAL_REMOTE": {}, "PER_WORKER": 4, "CAP": 16}),
    # single settings on top of bare, to screen them one at a time
    "cap64": ({}, {}, {"LOCAL_INIT": {}, "LOCAL_REMOTE": {}, "PER_WORKER": 4, "CAP": 64}),
    "noevents": ({}, {}, {"LOCAL_INIT": {}, "LOCAL_REMOTE": {"enable_task_events": False}, "PER_WORKER": 4,
                          "CAP": 16}),
    "noevents_sys": ({"_system_config": {"task_events_report_interval_ms": 0}}, {},
                     {"LOCAL_INIT": {}, "LOCAL_REMOTE": {}, "PER_WORKER": 4, "CAP": 16}),
    "nometrics": ({"_system_config": {"enable_metrics_collection": False}}, {},
                  {"LOCAL_INIT": {}, "LOCAL_REMOTE": {}, "PER_WORKER": 4, "CAP": 16}),
    "notimeline": ({"_system_config": {"enable_timeline": False}}, {},
                   {"LOCAL_INIT": {}, "LOCAL_REMOTE": {}, "PER_WORKER": 4, "CAP": 16}),
    "nice0": ({"_system_config": {"worker_niceness": 0}}, {},
              {"LOCAL_INIT": {}, "LOCAL_REMOTE": {}, "PER_WORKER": 4, "CAP": 16}),
    "quiet": ({"_system_config": {"enable_metrics_collection": False}}, {},
              {"LOCAL_INIT": {}, "LOCAL_REMOTE": {"enable_task_events": False}, "PER_WORKER": 4, "CAP": 16}),
    "tuned": ({"_system_config": {"enable_metrics_collection": False}}, {},
              {"LOCAL_INIT": {}, "LOCAL_REMOTE": {"enable_task_events": False}, "PER_WORKER": 4, "CAP": 64}),
}


def stat(pid: int, tid: int | None = None) -> tuple[str, float] | None:
    """(comm, CPU seconds) of a process (all its threads) or of one thread: the scheduler's time on a CPU
    (/proc/.../schedstat, nanoseconds) where the kernel has it, else utime + stime (/proc/.../stat, ticks of
    10 ms: too coarse for a daemon's idle second)."""
    path = f"/proc/{pid}" if tid is None else f"/proc/{pid}/task/{tid}"
    try:
        text = Path(f"{path}/stat").read_text()
        if tid is None:
            ns = sum(int(Path(f"{path}/task/{t}/schedstat").read_text().split()[0])
                     for t in os.listdir(f"{path}/task"))
        else:
            ns = int(Path(f"{path}/schedstat").read_text().split()[0])
        cpu = ns / 1e9
    except (OSError, ValueError):
        if "text" not in locals():
            return None
        f = text.rsplit(")", 1)[1].split()
        cpu = (int(f[11]) + int(f[12])) / TICK
    return text.rsplit(")", 1)[0].split("(", 1)[1], cpu


def children() -> dict[int, int]:
    """pid -> parent pid of every process on the machine."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                out[int(d)] = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                pass
    return out


def descendants(root: int) -> list[int]:
    parent = children()
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def kind(pid: int, workers: set[int]) -> str:
    if pid in workers:
        return "workers"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    for key, name in (("gcs_server", "gcs_server"), ("raylet/raylet", "raylet"), ("dashboard.py", "dashboard"),
                      ("DashboardAgent", "dashboard_agent"), ("agent.py", "dashboard_agent"),
                      ("RuntimeEnvAgent", "runtime_env_agent"), ("runtime_env", "runtime_env_agent"),
                      ("log_monitor", "log_monitor"), ("monitor.py", "autoscaler"), ("ray::", "other_workers")):
        if key in cmd:
            return name
    return "other:" + cmd[:40]


def snapshot(workers: set[int], threads: bool = False) -> dict[str, float]:
    """CPU seconds so far by component: the driver's main thread and its other threads, the workers' main
    threads and their other threads (Ray's core worker), and each kind of Ray daemon (processes that ended
    since the last snapshot are lost: a sweep here has none). ``threads``: also "component/thread name"."""
    me = os.getpid()
    out: dict[str, float] = defaultdict(float)
    for pid, name in [(me, "driver"), *((p, kind(p, workers)) for p in descendants(me))]:
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            continue
        for tid in tids:
            s = stat(pid, tid)
            if not s:
                continue
            if name in ("driver", "workers"):
                out[f"{name}_{'main' if tid == pid else 'ray_threads'}"] += s[1]
            else:
                out[name] += s[1]
            if threads:
                out[f"{name}/{s[0]}"] += s[1]
    return out


def delta(a: dict, b: dict) -> dict:
    return {k: b.get(k, 0.0) - a.get(k, 0.0) for k in set(a) | set(b)}


ORDER = ("driver_main", "driver_ray_threads", "workers_in_tasks", "workers_main_outside", "workers_ray_threads",
         "raylet", "gcs_server",
         "dashboard", "dashboard_agent", "runtime_env_agent", "log_monitor", "autoscaler", "other_workers")


@contextmanager
def applied(variant: str):
    """RayExecutor with a variant's class attributes (its ``ray.init`` options merged into ``LOCAL_INIT``) and
    environment, restored afterwards."""
    from gigawatt.sweep.executors import RayExecutor

    init, env, attrs = VARIANTS[variant]
    attrs = dict(attrs)
    attrs["LOCAL_INIT"] = {**attrs.get("LOCAL_INIT", RayExecutor.LOCAL_INIT), **init}
    saved = {k: getattr(RayExecutor, k) for k in attrs}
    saved_env = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    for k, v in attrs.items():
        setattr(RayExecutor, k, v)
    try:
        yield RayExecutor
    finally:
        for k, v in saved.items():
            setattr(RayExecutor, k, v)
        for k, v in saved_env.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def one(variant: str, workers: int, manifest, out: Path, idle: float, threads: bool = False) -> dict:
    """One executor's start-up, idle and sweep CPU by component."""
    from gigawatt.sweep.run import run

    with applied(variant) as RayExecutor:
        c0 = stat(os.getpid())[1]  # the driver's CPU before; its Ray processes start from nothing
        ex = RayExecutor(workers)
        pids = set(ex.pids)
        start = sum(snapshot(pids).values()) - c0
        try:
            time.sleep(1.0)  # let start-up settle
            s0, t0 = snapshot(pids, threads), time.perf_counter()
            time.sleep(idle)
            s1, t1 = snapshot(pids, threads), time.perf_counter()
            idle_rate = {k: v / (t1 - t0) for k, v in delta(s0, s1).items()}
            res = run(manifest, out, executor=ex)
            s2, t2 = snapshot(pids, threads), time.perf_counter()
        finally:
            ex.close()
    summary = res.summary
    assert (summary["status"] == "ok").all(), res.failed
    sweep = delta(s1, s2)
    inside = float(summary["cpu_s"].sum())
    sweep["workers_in_tasks"] = inside  # process CPU during the tasks: includes Ray's threads meanwhile
    sweep["workers_main_outside"] = sweep.pop("workers_main", 0.0) - inside  # so this is a lower bound
    idle_rate["workers_main_outside"] = idle_rate.pop("workers_main", 0.0)
    wall = res.timings.get("tasks_s", t2 - t1)
    return {"sweep": sweep, "idle": idle_rate, "start": start, "wall": wall, "n": len(summary),
            "npc": summary.sort_values("task_id")["net_present_cost_usd"].to_numpy()}


def _noop(spec: dict) -> dict:
    """A task of no work: the row of a sweep task's shape, so that Ray's cost per Ray task stands alone."""
    return {"task_id": spec["task"]["task_id"], "status": "ok", "error": "", "cpu_s": 0.0, "elapsed_s": 0.0,
            "net_present_cost_usd": 1.0, "worker": str(os.getpid())}


def per_ray_task(variant: str, n: int, idle: float) -> None:
    """CPU of each component per Ray task: ``n`` no-op tasks sent one per Ray task (``map(chunked=False)``),
    1 worker, on top of the idle rate measured just before (subtracted, so this is the cost per Ray task)."""
    with applied(variant) as RayExecutor:
        ex = RayExecutor(1)
        pids = set(ex.pids)
        try:
            time.sleep(1.0)
            s0, t0 = snapshot(pids), time.perf_counter()
            time.sleep(idle)
            s1, t1 = snapshot(pids), time.perf_counter()
            specs = [{"task": {"task_id": f"t{i}"}} for i in range(n)]
            assert sum(1 for _ in ex.map(specs, _noop, chunked=False)) == n
            s2, t2 = snapshot(pids), time.perf_counter()
        finally:
            ex.close()
    rate, used = delta(s0, s1), delta(s1, s2)
    print(f"{variant}: {n} no-op Ray tasks in {t2 - t1:.2f} s; CPU µs per Ray task beyond idle:")
    total = 0.0
    for k in sorted(used, key=lambda k: -used[k]):
        per = (used[k] - rate.get(k, 0.0) / (t1 - t0) * (t2 - t1)) / n * 1e6
        total += per
        if abs(per) >= 5:
            print(f"  {k:>22} {per:8.0f}")
    print(f"  {'total':>22} {total:8.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=512)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--idle", type=float, default=3.0, help="seconds of idle measured per executor")
    ap.add_argument("--variants", default="bare,now")
    ap.add_argument("--threads", action="store_true", help="also each process kind's threads by name")
    ap.add_argument("--out", type=Path, default=None, help="folder for the sweeps' output (default: a temporary "
                    "folder under the worktree's runs/)")
    ap.add_argument("--per-ray-task", type=int, default=0, metavar="N",
                    help="instead: Ray's CPU per Ray task, N no-op tasks one per Ray task, 1 worker")
    args = ap.parse_args()
    if args.per_ray_task:
        for variant in args.variants.split(","):
            per_ray_task(variant, args.per_ray_task, args.idle)
        return

    from bench_sweep import grid

    from gigawatt.sweep.manifest import build

    manifest = build(ROOT / "examples" / "minimal.yaml", vary=grid(args.tasks, ROOT / "examples" / "minimal.yaml"))
    n = len(manifest.tasks)
    base = args.out or ROOT / "runs"
    base.mkdir(parents=True, exist_ok=True)
    print(f"{n} tasks of examples/minimal.yaml; load average {os.getloadavg()[0]:.2f} at start")
    results = defaultdict(list)
    ref = None
    for rep in range(args.repeat):
        for variant in args.variants.split(","):
            for w in [int(x) for x in args.workers.split(",")]:
                tmp = Path(tempfile.mkdtemp(prefix="gw-ray-overhead-", dir=base))
                try:
                    r = one(variant, w, manifest, tmp / "sweep", args.idle, args.threads)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
                if ref is None:
                    ref = r["npc"]
                r["same"] = bool((abs(r["npc"] - ref) <= 1e-7 * abs(ref)).all())
                results[(variant, w)].append(r)
                s = r["sweep"]
                outside = sum(v for k, v in s.items() if k != "workers_in_tasks" and "/" not in k)
                print(f"  rep {rep} {variant:>8} w={w}: wall {r['wall']:.2f} s, in tasks {s['workers_in_tasks']:.2f} s, "
                      f"outside {outside:.2f} s CPU, same results: {r['same']}", flush=True)
    print("\nCPU ms per task during the sweep (mean over repeats), and idle CPU ms per second:")
    cols = list(results)
    print(f"{'component':>20} " + " ".join(f"{f'{v} w={w}':>13}" for v, w in cols)
          + " | idle: " + " ".join(f"{f'{v} w={w}':>13}" for v, w in cols))
    for comp in ORDER:
        vals = [sum(r["sweep"].get(comp, 0.0) for r in results[c]) / len(results[c]) / n * 1e3 for c in cols]
        idle = [sum(r["idle"].get(comp, 0.0) for r in results[c]) / len(results[c]) * 1e3 for c in cols]
        print(f"{comp:>20} " + " ".join(f"{v:>13.3f}" for v in vals) + " |       " + " ".join(f"{v:>13.2f}" for v in idle))
    for label, pick in (("outside the tasks", lambda k: k != "workers_in_tasks"),
                        ("Ray daemons", lambda k: k not in ("driver_main", "driver_ray_threads", "workers_in_tasks",
                                                          "workers_main_outside", "workers_ray_threads"))):
        vals = [sum(sum(v for k, v in r["sweep"].items() if pick(k) and "/" not in k) for r in results[c]) / len(results[c]) / n * 1e3
                for c in cols]
        idle = [sum(sum(v for k, v in r["idle"].items() if pick(k) and "/" not in k) for r in results[c]) / len(results[c]) * 1e3
                for c in cols]
        print(f"{label:>20} " + " ".join(f"{v:>13.3f}" for v in vals) + " |       " + " ".join(f"{v:>13.2f}" for v in idle))
    extra = sorted({k for c in cols for r in results[c] for k in r["sweep"] if k not in ORDER and "/" not in k})
    if extra:
        print("unclassified processes:", extra)
    if args.threads:
        print("threads (ms per task in the sweep | idle ms per second), by name:")
        names = sorted({k for c in cols for r in results[c] for k in (*r["sweep"], *r["idle"]) if "/" in k})
        for k in names:
            vals = [sum(r["sweep"].get(k, 0.0) for r in results[c]) / len(results[c]) / n * 1e3 for c in cols]
            idle = [sum(r["idle"].get(k, 0.0) for r in results[c]) / len(results[c]) * 1e3 for c in cols]
            if max(vals + idle) >= 0.02:
                print(f"{k[:40]:>40} " + " ".join(f"{v:>8.3f}" for v in vals) + " | " + " ".join(f"{v:>7.2f}" for v in idle))
    print(f"{'wall s (noisy)':>20} " + " ".join(f"{sum(r['wall'] for r in results[c]) / len(results[c]):>13.2f}" for c in cols))
    print(f"{'start-up CPU s':>20} " + " ".join(f"{sum(r['start'] for r in results[c]) / len(results[c]):>13.2f}" for c in cols))
    print(f"{'same results':>20} " + " ".join(f"{str(all(r['same'] for r in results[c])):>13}" for c in cols))
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
