"""Each sweep task's steps on the fast path, task by task (ms): read+validate, portfolio (reused sections),
build (the changed families' numbers), HiGHS's warm run, solve (hand-off and run), figures (the row's
numbers read from HiGHS), and the whole solve_task; twice over the grid (the second pass is warm).

Usage::

    python benchmarks/bench_task_steps.py scenarios/openai.yaml 16
    python benchmarks/bench_task_steps.py examples/minimal.yaml 32

The grid is benchmarks/bench_sweep.py's. Numbers are printed, never asserted on.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_sweep import grid  # noqa: E402


def main() -> None:
    from gigawatt.portfolio import Portfolio
    from gigawatt.sweep import executors
    from gigawatt.sweep.manifest import Task, build, resolve_task

    scenario, n = Path(sys.argv[1]), int(sys.argv[2])
    m = build(scenario, vary=grid(n, scenario))
    print(f"{len(m.tasks)} tasks: {', '.join(m.vary)}")
    for rep in range(2):
        rows = []
        for t in m.tasks:
            a = time.perf_counter()
            resolved, sc = resolve_task(m, Task(**asdict(t)), validate=True)
            b = time.perf_counter()
            p = Portfolio.from_scenario(sc, resolved, reuse=True)
            c = time.perf_counter()
            solved = executors.solve_task(p, m.solve, figures=True)
            d = time.perf_counter()
            at = solved.attrs if hasattr(solved, "attrs") else solved.ds.attrs
            rows.append((b - a, c - b, at["build_seconds"], at["highs_run_seconds"], at["solve_seconds"],
                         at.get("extract_seconds", float("nan")), d - c))
        print(f"pass {rep + 1}")
        for i, name in enumerate(["validate", "portfolio", "build", "highs_run", "solve", "figures", "solve_task"]):
            print(f"{name:>10}", " ".join(f"{r[i] * 1e3:5.1f}" for r in rows))


if __name__ == "__main__":
    main()
