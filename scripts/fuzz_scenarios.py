"""Fuzz the scenario reader and the solver with mutated scenario files; print the figures in docs/reliability.md.

    .venv/bin/python scripts/fuzz_scenarios.py --inputs 2000 --solves 300 --seed 0

Each input is examples/minimal.yaml or scenarios/openai.yaml (alternately) mutated by tests/fuzzing.py,
run in-process through the CLI's `validate`; the first --solves inputs that validate are also solved.
A run that exceeds --guard seconds counts as a hang. Exit 1 if any input broke a rule.
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import fuzzing  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=2000)
    ap.add_argument("--solves", type=int, default=300, help="most valid inputs also solved")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--guard", type=float, default=60.0, help="seconds after which a run counts as a hang")
    ap.add_argument("--show", type=int, default=20, help="failures to print")
    a = ap.parse_args()
    warnings.simplefilter("error")  # as the test suite does: a warning is a failure
    codes = {"validate": collections.Counter(), "solve": collections.Counter()}
    by_mutation: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    failures, slowest, solved, hangs = [], (0.0, ""), 0, 0
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gigawatt-fuzz-") as tmp:
        for i in range(a.inputs):
            rnd = random.Random(f"{a.seed}-{i}")
            base = ("minimal", "openai")[i % 2]
            folder = Path(tmp) / f"case{i}"
            case = fuzzing.make_case(rnd, base, folder / "scenario")
            outcomes = fuzzing.run_case(case, solve=solved < a.solves, out_dir=folder / "run", guard_s=a.guard)
            for o in outcomes:
                codes[o.command][o.exit_code if o.exit_code is not None else "hang"] += 1
                hangs += o.exit_code is None
                if o.seconds > slowest[0]:
                    slowest = (o.seconds, f"{o.command} input {i} ({base}: {', '.join(case.mutations)})")
                if o.failures:
                    failures.append((i, base, case.mutations, case.args, o.command, o.failures, o.output[-600:]))
            for m in case.mutations:
                by_mutation[m.split("@")[0]][outcomes[0].exit_code] += 1
            solved += len(outcomes) > 1
            shutil.rmtree(folder, ignore_errors=True)
    total = time.perf_counter() - t_all
    print(f"inputs: {a.inputs} (seed {a.seed}); validate exit codes: {dict(sorted(codes['validate'].items(), key=str))}")
    print(f"solved: {solved}; solve exit codes: {dict(sorted(codes['solve'].items(), key=str))}")
    print(f"hangs (> {a.guard:g} s): {hangs}; slowest run: {slowest[0]:.1f} s ({slowest[1]})")
    print(f"inputs breaking a rule: {len({f[0] for f in failures})}; total time: {total:.0f} s")
    print("validate exit codes by mutation:")
    for name in sorted(by_mutation):
        print(f"  {name:26s} {dict(sorted(by_mutation[name].items(), key=str))}")
    for i, base, muts, args, cmd, why, out in failures[:a.show]:
        print(f"\n--- input {i} ({base}: {', '.join(muts)} {' '.join(args)}) {cmd}: {'; '.join(why)}\n{out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
