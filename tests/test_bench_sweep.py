"""benchmarks/bench_sweep.py's arithmetic: each worker's first task and the throughput after it, the
machine's busy ticks, the table's rows (no timing is asserted on)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_sweep.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_sweep", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_first_task_is_the_first_in_submission_order_not_the_first_row(bench):
    # submission order b, a, d, c: the summary (sorted by task id) lists a first, but b went out first
    summary = pd.DataFrame({"task_id": ["a", "b", "c", "d"], "worker": ["w1", "w1", "w2", "w2"],
                            "elapsed_s": [0.01, 0.5, 0.02, 0.4]})
    firsts, rate = bench.split_first(summary, ["b", "a", "d", "c"], solve_s=2.0)
    assert sorted(firsts) == [0.4, 0.5]
    assert rate == pytest.approx(1 / (2.0 - 0.5) + 1 / (2.0 - 0.4))


def test_one_worker_rate_leaves_out_only_its_first_task(bench):
    summary = pd.DataFrame({"task_id": [f"t{i}" for i in range(5)], "worker": ["w"] * 5,
                            "elapsed_s": [0.6, 0.1, 0.1, 0.1, 0.1]})
    firsts, rate = bench.split_first(summary, list(summary["task_id"]), solve_s=1.0)
    assert firsts == [0.6]
    assert rate == pytest.approx(4 / 0.4)


def test_a_worker_with_one_task_adds_no_rate(bench):
    summary = pd.DataFrame({"task_id": ["a", "b", "c"], "worker": ["w1", "w2", "w2"],
                            "elapsed_s": [0.3, 0.2, 0.1]})
    firsts, rate = bench.split_first(summary, ["a", "b", "c"], solve_s=1.0)
    assert sorted(firsts) == [0.2, 0.3]
    assert rate == pytest.approx(1 / 0.8)


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="Linux /proc")
def test_machine_ticks_and_own_process_tree(bench):
    busy0, total0 = bench.machine_ticks()
    assert 0 <= busy0 <= total0
    x = 0
    for i in range(2_000_000):  # some CPU, so that the counters move
        x += i
    busy1, total1 = bench.machine_ticks()
    assert busy1 >= busy0 and total1 > total0
    tree = bench.tree_cpu()
    assert os.getpid() in tree and tree[os.getpid()] > 0


def test_row_has_every_column(bench):
    r = {name: 1.5 for name, _ in bench.COLUMNS}
    r.update(engine="local", workers=2, procs=2)
    line = bench.format_row(r, rep=3)
    assert len(line.split()) == len(bench.COLUMNS)
    assert line.split()[:3] == ["local", "3", "2"]
