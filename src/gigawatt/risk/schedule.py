"""How draws are split into chunks and which thread evaluates each: chunk size in whole blocks, and
running the chunks in order or on a thread pool (results do not depend on either)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from gigawatt.risk.sample import BLOCK

TARGET_CHUNK_VALUES = 1 << 17  # values per (period × draw) output array of a chunk (1 MiB)


def default_chunk(n_periods: int) -> int:
    """Draws per chunk: whole blocks, about TARGET_CHUNK_VALUES values per (period × draw) array."""
    blocks = max(1, TARGET_CHUNK_VALUES // max(n_periods, 1) // BLOCK)
    return blocks * BLOCK


def chunk_draws(n_periods: int, chunk_size: int | None) -> int:
    """Draws per chunk: the default, or ``chunk_size`` rounded up to whole blocks."""
    return default_chunk(n_periods) if chunk_size is None else max(BLOCK, -(-int(chunk_size) // BLOCK) * BLOCK)


def chunk_starts(draws: int, chunk: int) -> list[int]:
    """First draw of each chunk."""
    return list(range(0, draws, chunk))


def run_chunks(starts: list[int], job: Callable[[int], None], workers: int) -> None:
    """Call ``job(start)`` for every chunk: in order in this thread, or on ``workers`` threads."""
    if workers <= 1 or len(starts) == 1:
        for s in starts:
            job(s)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gigawatt-mc") as pool:
            for fut in [pool.submit(job, s) for s in starts]:
                fut.result()
