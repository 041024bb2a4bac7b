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

Numbers are printed, never asserted on (the machine's load is printed with them).
"""

from __future__ import annotations

import argparse
import json
import os
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
def mark(name, t0):
    T[name] = time.perf_counter() - t0
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


def one_run(scenario: Path, python: str, env: dict) -> tuple[dict, dict, float]:
    tmp = Path(tempfile.mkdtemp(prefix="gw-bench-cold-"))
    try:
        t0 = time.perf_counter()
        r = subprocess.run([python, "-X", "importtime", "-c", DRIVER, str(scenario), str(tmp / "run")],
                           capture_output=True, text=True, env=env, cwd=ROOT)
        wall = time.perf_counter() - t0
        if r.returncode:
            raise SystemExit(r.stderr[-3000:])
        return json.loads(r.stdout.strip().splitlines()[-1]), imports_by_step(r.stderr), wall
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def command_wall(args: list[str], python: str, env: dict) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([python, "-c", "import sys; from gigawatt.cli import main; sys.exit(main())", *args],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    if r.returncode:
        raise SystemExit(f"gigawatt {' '.join(args)} failed: {r.stdout[-2000:]}{r.stderr[-2000:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "openai.yaml")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--src", type=Path, default=None, help="another checkout's src/ to measure (before/after)")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.src:
        env["PYTHONPATH"] = str(args.src.resolve())
    py = sys.executable
    print(f"load average {os.getloadavg()[0]:.2f} at start; {os.cpu_count()} CPUs; {args.scenario}")
    rows = []
    for _ in range(args.repeat):
        steps, imp, wall = one_run(args.scenario, py, env)
        rows.append((steps, imp, wall))
    order = ["imports", "read+validate", "portfolio", "build", "HiGHS", "extract", "confirm", "optimize other",
             "finance+write"]
    best = min(rows, key=lambda r: r[2])
    steps, imp, wall = best
    print(f"{'step':>15} {'wall s':>8} {'of which imports s':>19}")
    imp_opt = imp.get("optimize", 0.0)
    for k in order:
        i = imp.get(k, None) if k not in ("build", "HiGHS", "extract", "confirm", "optimize other") else None
        print(f"{k:>15} {steps[k]:>8.3f} {'' if i is None else f'{i:.3f}':>19}")
    print(f"{'(optimize)':>15} {'':>8} {imp_opt:>19.3f}  imports during optimize (linopy, highspy, ...)")
    print(f"gigawatt from {steps['module']}")
    print(f"process wall {wall:.2f} s (interpreter start included); HiGHS's own run time {steps['highs_run']:.3f} s; "
          f"all imports {sum(imp.values()):.2f} s")
    with tempfile.TemporaryDirectory(prefix="gw-bench-cold-") as tmp:
        for label, cmd in (("gigawatt --help", ["--help"]),
                           ("gigawatt validate", ["validate", str(args.scenario)]),
                           ("gigawatt solve", ["solve", str(args.scenario), "--out", f"{tmp}/run", "--overwrite"])):
            print(f"{label:>18}: {min(command_wall(cmd, py, env) for _ in range(args.repeat)):.2f} s wall")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
