"""Many `gigawatt` processes on one runs catalog at once: how many fail, how many rows are lost.

    python benchmarks/bench_catalog_concurrency.py [--procs 20] [--rounds 5] [--src DIR]

Each round starts --procs processes at the same moment on a fresh catalog: half run `gigawatt runs list
--json`, half register one run each (RunsCatalog.register, as solve does). It prints, over all rounds,
the processes that exited non-zero (with their exit codes) and the registrations missing from the catalog.
``--src`` runs another checkout's code (e.g. an export of main's src/) with this interpreter.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

LIST = "import sys; from gigawatt.cli import main; sys.argv = ['gigawatt', 'runs', 'list', '--json']; main()"
REGISTER = """
import sys, pathlib
from gigawatt.runs import RunsCatalog
d = pathlib.Path(sys.argv[1]); d.mkdir()
RunsCatalog().register(kind="solve", path=d, scenario="bench", variant=None, inputs_hash=d.name, status="optimal")
"""


def one_round(n: int, env: dict, root: Path) -> tuple[collections.Counter, int, int]:
    db = root / "runs.duckdb"
    env = {**env, "GIGAWATT_RUNS_DB": str(db)}
    procs, kinds, registering = [], [], 0
    for i in range(n):
        if i % 2:
            registering += 1
            cmd = [sys.executable, "-c", REGISTER, str(root / f"run{i}")]
        else:
            cmd = [sys.executable, "-c", LIST]
        kinds.append("register" if i % 2 else "list")
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    codes = collections.Counter((kind, p.wait()) for kind, p in zip(kinds, procs))
    check = subprocess.run([sys.executable, "-c", LIST], env=env, capture_output=True, text=True)
    rows = len(json.loads(check.stdout)) if check.returncode == 0 else -1
    return codes, registering, rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--procs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--src", type=Path, default=None, help="a checkout's src/ to run instead of the installed one")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.src:
        env["PYTHONPATH"] = str(args.src.resolve())
    total, failed, lost, started = collections.Counter(), 0, 0, 0
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            codes, registering, rows = one_round(args.procs, env, Path(tmp))
        total += codes
        failed += sum(c for (_, code), c in codes.items() if code != 0)
        lost += registering - max(rows, 0)
        started += args.procs
    print(f"{started} processes ({args.rounds} rounds of {args.procs}, half `runs list`, half registering): "
          f"{failed} failed, {lost} registrations missing; (command, exit code): count "
          + ", ".join(f"{k}: {v}" for k, v in sorted(total.items())))


if __name__ == "__main__":
    main()
