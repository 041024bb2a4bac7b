"""What `gigawatt solve` pays from a cold start, step by step (issue 16, item 4).

Each measurement runs in a fresh Python process (nothing imported yet). The driver does what
`gigawatt solve SCENARIO` does, one step at a time, with ``-X importtime`` on, and reports per step its
wall time and how much of it was importing modules (the self time ``-X importtime`` records between
the step's start and end):

    imports        the command line's own modules (gigawatt.cli, gigawatt.commands.solve)
    read+validate  YAML with imports and overrides, the pydantic schema
    portfolio      Portfolio.from_scenario
    build          the linopy model (optimize()'s build_seconds)
    HiGHS          hand-off and solve (solve_seconds)
    extract        the Plan dataset with attribution and duals (extract_seconds)
    confirm        re-solves confirming the binding constraints (confirm_seconds)
    finance+write  finance.compute and the run directory

Then the whole commands, as a user runs them: `gigawatt --help`, `gigawatt validate`, `gigawatt solve`.

Usage::

    python benchmarks/bench_cold_start.py                               # scenarios/openai.yaml
    python benchmarks/bench_cold_start.py --scenario examples/minimal.yaml --repeat 3
    python benchmarks/bench_cold_start.py --before /tmp/cold-before/src   # + the table for docs/performance.md

(an older tree's src/: ``git archive 80587ad src | tar -x -C /tmp/cold-before``)

Numbers are printed, never asserted on (the machine's load is printed with them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

DRIVER = r"""
import sys, time, json
T = {}
C = {}
_c = [time.process_time()]
def mark(name, t0):
    T[name] = time.perf_counter() - t0
    now = time.process_time()
    C[name], _c[0] = now - _c[0], now
    sys.stderr.write(f"@@MARK {name}\n"); sys.stderr.flush()
sys.stderr.write("@@MARK start\n"); sys.stderr.flush()
t = time.perf_counter()
import gigawatt.cli, gigawatt.commands.solve
mark("imports", t)
scenario, out = sys.argv[1], sys.argv[2]
t = time.perf_counter()
from gigawatt.scenario.load import read
from gigawatt.scenario.validate import validate
resolved = read(scenario)
sc = validate(resolved)
mark("read+validate", t)
t = time.perf_counter()
from gigawatt.portfolio import Portfolio
p = Portfolio.from_scenario(sc, resolved)
mark("portfolio", t)
t = time.perf_counter()
from gigawatt.optimize import optimize
plan = optimize(p)
total = time.perf_counter() - t
a = plan.ds.attrs
T["build"], T["HiGHS"], T["extract"] = a["build_seconds"], a["solve_seconds"], a["extract_seconds"]
T["confirm"] = a.get("confirm_seconds", 0.0)
T["optimize other"] = total - T["build"] - T["HiGHS"] - T["extract"] - T["confirm"]
now = time.process_time()
C["optimize"], _c[0] = now - _c[0], now
sys.stderr.write("@@MARK optimize\n"); sys.stderr.flush()
t = time.perf_counter()
import yaml
from gigawatt import finance
from gigawatt.results import write_run_dir
fin = finance.compute(plan, p)
write_run_dir(plan, out, resolved_yaml=yaml.safe_dump(resolved.data, sort_keys=False), finance=fin,
              scenario_name=sc.meta.name, overwrite=True)
mark("finance+write", t)
T["highs_run"] = a["highs_run_seconds"]
T["module"] = gigawatt.__file__
T["cpu_steps"] = C
print(json.dumps(T))
"""


def imports_by_step(stderr: str) -> dict[str, float]:
    """Self time of the modules imported between consecutive markers, by the step that ends at a marker."""
    out: dict[str, float] = {}
    current = 0.0
    for line in stderr.splitlines():
        if line.startswith("@@MARK "):
            out[line[7:].strip()] = current / 1e6
            current = 0.0
        elif line.startswith("import time:") and "|" in line:
            try:
                current += int(line.split(":", 1)[1].split("|")[0])
            except ValueError:  # the header line
                pass
    return out


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far: less sensitive to load than wall."""
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def one_run(scenario: Path, python: str, env: dict) -> tuple[dict, dict, float]:
    tmp = Path(tempfile.mkdtemp(prefix="gw-bench-cold-"))
    try:
        t0, c0 = time.perf_counter(), children_cpu()
        r = subprocess.run([python, "-X", "importtime", "-c", DRIVER, str(scenario), str(tmp / "run")],
                           capture_output=True, text=True, env=env, cwd=ROOT)
        wall = time.perf_counter() - t0
        if r.returncode:
            raise SystemExit(r.stderr[-3000:])
        steps = json.loads(r.stdout.strip().splitlines()[-1])
        steps["cpu"] = children_cpu() - c0
        return steps, imports_by_step(r.stderr), wall
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def command_wall(args: list[str], python: str, env: dict) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([python, "-c", "import sys; from gigawatt.cli import main; sys.exit(main())", *args],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    if r.returncode:
        raise SystemExit(f"gigawatt {' '.join(args)} failed: {r.stdout[-2000:]}{r.stderr[-2000:]}")
    return time.perf_counter() - t0


ORDER = ["imports", "read+validate", "portfolio", "build", "HiGHS", "extract", "confirm", "optimize other",
         "finance+write"]
IN_OPTIMIZE = ("build", "HiGHS", "extract", "confirm", "optimize other")
LABELS = {"imports": "imports (cli, commands.solve)", "HiGHS": "HiGHS (hand-off + solve)",
          "confirm": "confirm binding", "optimize other": "optimize, other", "finance+write": "finance + write"}
COMMANDS = ("gigawatt --help", "gigawatt validate", "gigawatt solve")


def measure(scenario: Path, python: str, env: dict, repeat: int) -> dict:
    """One source tree, measured: the best of ``repeat`` step-by-step runs and each whole command's best wall."""
    load0 = os.getloadavg()[0]
    rows = [one_run(scenario, python, env) for _ in range(repeat)]
    steps, imp, wall = min(rows, key=lambda r: r[2])
    commands = {}
    with tempfile.TemporaryDirectory(prefix="gw-bench-cold-") as tmp:
        for label, cmd in zip(COMMANDS, (["--help"], ["validate", str(scenario)],
                                         ["solve", str(scenario), "--out", f"{tmp}/run", "--overwrite"])):
            commands[label] = min(command_wall(cmd, python, env) for _ in range(repeat))
    return {"steps": steps, "imports": imp, "wall": wall, "commands": commands,
            "load": (load0, os.getloadavg()[0])}


def print_one(m: dict) -> None:
    steps, imp = m["steps"], m["imports"]
    print(f"gigawatt from {steps['module']} (load average {m['load'][0]:.2f} at start, {m['load'][1]:.2f} at end)")
    print(f"{'step':>15} {'wall s':>8} {'of which imports s':>19}")
    for k in ORDER:
        i = None if k in IN_OPTIMIZE else imp.get(k)
        print(f"{k:>15} {steps[k]:>8.3f} {'' if i is None else f'{i:.3f}':>19}")
    print(f"{'(optimize)':>15} {'':>8} {imp.get('optimize', 0.0):>19.3f}  imports during optimize (linopy, highspy, ...)")
    print(f"process wall {m['wall']:.2f} s, CPU {steps['cpu']:.2f} s (interpreter start included); HiGHS's own run time "
          f"{steps['highs_run']:.3f} s; all imports {sum(imp.values()):.2f} s")
    for label, s in m["commands"].items():
        print(f"{label:>18}: {s:.2f} s wall")


def cell(m: dict, k: str) -> str:
    wall = m["steps"][k]
    if k in IN_OPTIMIZE:
        return f"{wall:.2f}"
    return f"{wall:.2f} ({m['imports'].get(k, 0.0):.2f})"


def cpu_cell(m: dict, k: str) -> str:
    """CPU seconds of a top-level step (the optimize steps share one figure, on the `build` row)."""
    cpu = m["steps"].get("cpu_steps", {})
    if k == "build":
        return f"{cpu['optimize']:.2f} (all of optimize)" if "optimize" in cpu else ""
    return f"{cpu[k]:.2f}" if k in cpu else ""


def markdown(before: dict, after: dict) -> str:
    """The before/after table of docs/performance.md ("`gigawatt solve scenarios/openai.yaml`, cold")."""
    lines = ["| step | before: wall s (imports s) | after: wall s (imports s) | before: CPU s | after: CPU s |",
             "|---|---:|---:|---:|---:|"]
    for k in ORDER:
        lines.append(f"| {LABELS.get(k, k)} | {cell(before, k)} | {cell(after, k)} | {cpu_cell(before, k)} "
                     f"| {cpu_cell(after, k)} |")
    lines.append(f"| imports during optimize (linopy, highspy, ...) | ({before['imports'].get('optimize', 0.0):.2f}) "
                 f"| ({after['imports'].get('optimize', 0.0):.2f}) | | |")
    lines.append(f"| **process** (interpreter start included) | **{before['wall']:.2f}** | **{after['wall']:.2f}** "
                 f"| **{before['steps']['cpu']:.2f}** | **{after['steps']['cpu']:.2f}** |")
    lines.append(f"| all imports | {sum(before['imports'].values()):.2f} | {sum(after['imports'].values()):.2f} | | |")
    for label in COMMANDS:
        lines.append(f"| `{label}`, whole command | {before['commands'][label]:.2f} | {after['commands'][label]:.2f} "
                     "| | |")
    lines.append(f"| load average at start, end | {before['load'][0]:.1f}, {before['load'][1]:.1f} "
                 f"| {after['load'][0]:.1f}, {after['load'][1]:.1f} | | |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "openai.yaml")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--src", type=Path, default=None, help="another checkout's src/ to measure instead of this one")
    ap.add_argument("--before", type=Path, default=None,
                    help="an older checkout's src/: measure it first, then this tree (or --src), and print the "
                         "before/after table docs/performance.md shows")
    args = ap.parse_args()
    py = sys.executable

    def env_for(src: Path | None) -> dict:
        env = dict(os.environ)
        if src:
            env["PYTHONPATH"] = str(src.resolve())
        return env

    print(f"{os.cpu_count()} CPUs; {args.scenario}; best of {args.repeat}")
    before = None
    if args.before:
        before = measure(args.scenario, py, env_for(args.before), args.repeat)
        print("before:")
        print_one(before)
    after = measure(args.scenario, py, env_for(args.src), args.repeat)
    print("after:" if before else "")
    print_one(after)
    if before:
        print()
        print(markdown(before, after))


if __name__ == "__main__":
    main()
