"""Benchmark the planner on synthetic scenarios of growing size (benchmarks/generate.py).

Each size runs in a fresh subprocess, so peak RSS is that size's own. The worker takes the real path:
scenario dict → Scenario.model_validate → Portfolio.from_scenario → gigawatt.optimize.optimize
(create_model, HiGHS through linopy's direct API, extraction of the Plan dataset). Its timings are the
ones optimize() records in the plan (build_seconds, solve_seconds, highs_run_seconds,
extract_seconds).

"HiGHS alone" is a second subprocess that passes the same LP (read back from the worker's HiGHS
object with getLp and saved as arrays) straight to highspy and solves it with the same options: its
peak RSS is what HiGHS itself needs for this model, the floor the planner's memory is compared with.

Usage::

    python benchmarks/bench_planner.py --sizes tiny,small,medium
    python benchmarks/bench_planner.py --sizes small,medium --method simplex,ipm   # compare methods
    python benchmarks/bench_planner.py --sweep                                     # where they cross over
    python benchmarks/bench_planner.py --sizes large --json large.json             # minutes: run with nohup

Numbers are printed, never asserted on.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# --- worker: one size, one method, in its own process ----------------------------------------------------

def worker(size: str, method: str, seed: int, lp_out: str | None) -> dict:
    sys.path.insert(0, str(HERE))
    t0 = time.perf_counter()
    import generate
    from gigawatt.optimize import run as run_mod
    from gigawatt.optimize import optimize
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.schema import Scenario

    import_s = time.perf_counter() - t0
    base_mib = _rss_mib()
    t0 = time.perf_counter()
    sc = Scenario.model_validate(generate.scenario(size, seed=seed))
    portfolio = Portfolio.from_scenario(sc)
    portfolio_s = time.perf_counter() - t0

    captured: dict = {}
    solve = run_mod.solve

    def capturing_solve(ctx, **kw):  # keep the model to read its size after the run (not timed)
        captured["ctx"] = ctx
        captured["rss_before_solve"] = _rss_mib()
        return solve(ctx, **kw)

    run_mod.solve = capturing_solve
    t0 = time.perf_counter()
    plan = optimize(portfolio, method=method)
    total_s = time.perf_counter() - t0
    peak = _peak_mib()
    a = plan.ds.attrs
    highs = captured["ctx"].model.solver_model
    out = {
        "size": size, "seed": seed, "method": a["method"],
        "variables": int(a["n_variables"]), "constraints": int(a["n_constraints"]),
        "highs_cols": int(highs.getNumCol()), "highs_rows": int(highs.getNumRow()), "nonzeros": int(highs.getNumNz()),
        "import_s": import_s, "portfolio_s": portfolio_s, "build_s": float(a["build_seconds"]),
        "solve_s": float(a["solve_seconds"]), "highs_s": float(a["highs_run_seconds"]),
        "extract_s": float(a["extract_seconds"]), "optimize_s": total_s,
        "objective_usd": float(a["objective_usd"]),
        "model_objective": float(captured["ctx"].model.objective.value),  # as HiGHS sees it (MUSD)
        "rss_after_import_mib": base_mib, "rss_before_solve_mib": captured["rss_before_solve"], "peak_rss_mib": peak,
    }
    if lp_out:  # after the peak was recorded: getLp copies the model
        import highspy
        import numpy as np

        lp = highs.getLp()
        np.savez(lp_out, col_cost=np.asarray(lp.col_cost_), col_lower=np.asarray(lp.col_lower_),
                 col_upper=np.asarray(lp.col_upper_), row_lower=np.asarray(lp.row_lower_),
                 row_upper=np.asarray(lp.row_upper_), start=np.asarray(lp.a_matrix_.start_),
                 index=np.asarray(lp.a_matrix_.index_), value=np.asarray(lp.a_matrix_.value_),
                 offset=np.array([lp.offset_]), sense=np.array([int(lp.sense_)]),
                 rowwise=np.array([lp.a_matrix_.format_ == highspy.MatrixFormat.kRowwise]))
    return out


def sweep_worker(index: int, seed: int) -> dict:
    """HiGHS's run time with simplex and with interior point on the same model (generate.SWEEP[index])."""
    sys.path.insert(0, str(HERE))
    import generate
    from linopy.io import to_highspy

    from gigawatt.optimize.build import create_model
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.schema import Scenario

    size = generate.SWEEP[index]
    ctx = create_model(Portfolio.from_scenario(Scenario.model_validate(generate.scenario(size, seed=seed))),
                       allow_unmet=False)
    out = {"sweep": index, "seed": seed, "variables": int(ctx.model.nvars), "constraints": int(ctx.model.ncons)}
    for method in ("simplex", "ipm"):
        h = to_highspy(ctx.model)  # what linopy's direct API hands to HiGHS
        h.setOptionValue("output_flag", False)
        h.setOptionValue("solver", method)
        h.run()
        out[f"{method}_s"] = float(h.getRunTime())
        out[f"{method}_status"] = h.modelStatusToString(h.getModelStatus())
    return out


def highs_alone(lp_path: str, method: str) -> dict:
    """Solve the saved LP with highspy only; peak RSS is what HiGHS needs for it."""
    import highspy
    import numpy as np

    base = _rss_mib()
    z = np.load(lp_path)
    lp = highspy.HighsLp()
    lp.num_col_ = len(z["col_cost"])
    lp.num_row_ = len(z["row_lower"])
    lp.col_cost_ = z["col_cost"]
    lp.col_lower_ = z["col_lower"]
    lp.col_upper_ = z["col_upper"]
    lp.row_lower_ = z["row_lower"]
    lp.row_upper_ = z["row_upper"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise if bool(z["rowwise"][0]) else highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = z["start"]
    lp.a_matrix_.index_ = z["index"]
    lp.a_matrix_.value_ = z["value"]
    lp.offset_ = float(z["offset"][0])
    lp.sense_ = highspy.ObjSense(int(z["sense"][0]))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", method)
    h.passModel(lp)
    del lp, z
    after_pass = _rss_mib()
    t0 = time.perf_counter()
    h.run()
    wall = time.perf_counter() - t0
    return {"highs_alone_s": float(h.getRunTime()), "highs_alone_wall_s": wall,
            "highs_alone_status": h.modelStatusToString(h.getModelStatus()),
            "highs_alone_objective": float(h.getInfo().objective_function_value),
            "highs_alone_base_mib": base, "highs_alone_after_pass_mib": after_pass,
            "highs_alone_peak_mib": _peak_mib()}


# --- driver ----------------------------------------------------------------------------------------------

def _run(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(size: str, method: str, seed: int, reference: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        lp = os.path.join(tmp, "lp.npz")
        row = _run(["--worker", size, "--method", method, "--seed", str(seed)] + (["--lp-out", lp] if reference else []))
        if reference:
            row.update(_run(["--highs-alone", lp, "--method", row["method"]]))
    return row


def _fmt_table(rows: list[dict]) -> str:
    cols = [("size", "size", "{}"), ("method", "method", "{}"), ("variables", "variables", "{:,}"),
            ("constraints", "constraints", "{:,}"), ("nonzeros", "nonzeros", "{:,}"),
            ("portfolio_s", "portfolio s", "{:.2f}"), ("build_s", "build s", "{:.2f}"),
            ("solve_s", "hand-off+solve s", "{:.2f}"), ("highs_s", "HiGHS s", "{:.2f}"),
            ("extract_s", "extract s", "{:.2f}"), ("overhead", "(build+extract)/HiGHS", "{:.1%}"),
            ("peak_rss_mib", "peak RSS MiB", "{:,.0f}"), ("highs_alone_peak_mib", "HiGHS alone MiB", "{:,.0f}"),
            ("mem_ratio", "RSS ratio", "{:.2f}"), ("highs_alone_s", "HiGHS alone s", "{:.2f}")]
    for r in rows:
        r["overhead"] = (r["build_s"] + r["extract_s"]) / r["highs_s"] if r.get("highs_s") else float("nan")
        if "highs_alone_peak_mib" in r:
            r["mem_ratio"] = r["peak_rss_mib"] / r["highs_alone_peak_mib"]
    present = [c for c in cols if any(c[0] in r for r in rows)]
    head = "| " + " | ".join(c[1] for c in present) + " |"
    sep = "|" + "|".join("---" if i < 2 else "---:" for i, _ in enumerate(present)) + "|"
    body = ["| " + " | ".join(c[2].format(r[c[0]]) if c[0] in r else "" for c in present) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="tiny,small,medium", help="comma-separated: tiny, small, medium, large")
    ap.add_argument("--method", default="auto", help="auto, simplex, ipm or pdlp; comma-separated to compare")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-reference", action="store_true", help="skip the HiGHS-alone process (halves the time)")
    ap.add_argument("--json", help="also write the rows as JSON to this file")
    ap.add_argument("--sweep", action="store_true",
                    help="simplex against IPM on the sizes between tiny and small (generate.SWEEP), seeds 0 and 1")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--sweep-worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--highs-alone", help=argparse.SUPPRESS)
    ap.add_argument("--lp-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.method, args.seed, args.lp_out)))
        return
    if args.highs_alone:
        print(json.dumps(highs_alone(args.highs_alone, args.method)))
        return
    if args.sweep_worker is not None:
        print(json.dumps(sweep_worker(args.sweep_worker, args.seed)))
        return
    if args.sweep:
        sys.path.insert(0, str(HERE))
        import generate

        print("| variables | constraints | seed | simplex s | IPM s | simplex / IPM |\n|---:|---:|---:|---:|---:|---:|")
        for i in range(len(generate.SWEEP)):
            for seed in (0, 1):
                r = _run(["--sweep-worker", str(i), "--seed", str(seed)])
                print(f"| {r['variables']:,} | {r['constraints']:,} | {seed} | {r['simplex_s']:.3f} | {r['ipm_s']:.3f} | "
                      f"{r['simplex_s'] / r['ipm_s']:.2f} |", flush=True)
        return
    import platform

    print(f"# gigawatt planner benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, Python {platform.python_version()}",
          flush=True)
    rows = []
    for size in args.sizes.split(","):
        for method in args.method.split(","):
            row = measure(size, method, args.seed, not args.no_reference)
            rows.append(row)
            print(f"# {size}/{method}: " + json.dumps(row), flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=1))
    print(_fmt_table(rows))


if __name__ == "__main__":
    main()
