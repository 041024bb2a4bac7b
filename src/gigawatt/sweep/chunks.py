"""How many tasks go to a worker at a time: guided self-scheduling, with chunks sized by the time tasks take.

A chunk is one submission (one Ray task, one pool future), one Parquet file and one round trip: each costs
CPU on the same cores as the tasks (a Ray task ~1.6-2.5 ms around its work, benchmarks/bench_ray_overhead.py
--per-ray-task), so fast tasks want large chunks. Slow tasks want small ones: a chunk's rows come back when it
ends, and a lost worker takes its chunk with it. :class:`Chunks` therefore hands out each chunk as the tasks
left over ``per_worker × workers`` (so chunks shrink towards the end and no worker waits long for the last
one), at most ``cap`` tasks until tasks' times are known, then at most the tasks that fill
:data:`CHUNK_SECONDS` of work at the median time of the tasks seen so far.
"""

from __future__ import annotations

import math
import statistics
from collections import deque

CHUNK_SECONDS = 0.25  # the work a chunk holds once tasks' times are known: rows at most ~¼ s late
MAX_CHUNK = 256  # and never more tasks than this in one chunk
_RECENT = 256  # the task times the median is taken over


def _guided(left: int, workers: int, per_worker: int, cap: int) -> int:
    return max(1, min(cap, math.ceil(left / (per_worker * max(1, workers)))))


class Chunks:
    """``specs`` handed out a chunk at a time (:meth:`next`) as the module docstring says; :meth:`observe`
    gives it the rows that came back (their ``elapsed_s``). ``size``: every chunk that many tasks instead."""

    def __init__(self, specs, workers: int, *, size: int | None = None, per_worker: int = 4, cap: int = 16,
                 seconds: float = CHUNK_SECONDS):
        if size is not None and size < 1:
            raise ValueError(f"a chunk holds at least one task, not {size}")
        self.left = deque(specs)
        self.workers, self.size, self.per_worker, self.cap, self.seconds = workers, size, per_worker, cap, seconds
        self.times: deque = deque(maxlen=_RECENT)  # seconds of the latest ok tasks
        self.sizes: list[int] = []  # the chunks handed out so far (what tests and benchmarks read)

    def __bool__(self) -> bool:
        return bool(self.left)

    def limit(self) -> int:
        """The largest chunk now: ``cap`` until a task's time is known, then the tasks that fill ``seconds``
        at the median time seen (a worker's first task, which loads its base model, does not move it)."""
        if not self.times:
            return self.cap
        per_task = statistics.median(self.times)
        return max(1, int(min(MAX_CHUNK, self.seconds / per_task)) if per_task > 0 else MAX_CHUNK)

    def next(self) -> list:
        n = self.size or _guided(len(self.left), self.workers, self.per_worker, self.limit())
        chunk = [self.left.popleft() for _ in range(min(n, len(self.left)))]
        self.sizes.append(len(chunk))
        return chunk

    def observe(self, rows: list[dict]) -> None:
        for row in rows:
            t = row.get("elapsed_s")
            if row.get("status") == "ok" and isinstance(t, (int, float)) and not isinstance(t, bool) \
                    and math.isfinite(t):
                self.times.append(float(t))


__all__ = ["Chunks", "CHUNK_SECONDS", "MAX_CHUNK"]
