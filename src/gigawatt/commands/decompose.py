"""`gigawatt hedge --decompose`: the L-shaped method on a pool of workers, with a progress line per iteration."""

from __future__ import annotations

from rich.console import Console


def run_decomposed(portfolio, futures: int, *, seed, cvar_, metrics: bool, reduce_to, console: Console,
                   quiet: bool, tolerance: float, max_iterations: int, workers: int, engine: str,
                   address: str | None):
    """(HedgeResult, report) of the decomposition on ``engine`` with ``workers`` workers."""
    from gigawatt.fmt import usd
    from gigawatt.stochastic.decompose import InlinePool, hedge_decomposed
    from gigawatt.sweep.pinned import pinned_pool

    pool = pinned_pool(engine, workers=workers, address=address) or InlinePool()
    status = None if quiet else console.status("L-shaped …")

    def progress(rec: dict) -> None:
        if status is not None:
            if rec["iteration"] == 1:  # started only now: worker processes are forked before, not beside, its thread
                status.start()
            upper, gap = rec["best_upper_bound_usd"], rec["gap"]
            status.update(f"L-shaped iteration {rec['iteration']}: lower {usd(rec['lower_bound_usd'], style='compact')}"
                          f" · upper {usd(upper, style='compact') if upper is not None else 'none yet'}"
                          f" · gap {f'{gap:.2e}' if gap is not None else '—'}")

    if not quiet:
        console.print(f"L-shaped: building {futures} futures' subproblems on {workers} {engine} worker(s) …",
                      highlight=False)
    try:
        result, report = hedge_decomposed(portfolio, futures, pool, seed=seed, workers=workers,
                                          tolerance=tolerance, max_iterations=max_iterations, metrics=metrics,
                                          reduce_to=reduce_to, cvar_=cvar_, progress=progress)
    finally:
        if status is not None:
            status.stop()
        pool.close()
    if not quiet:
        last = report["iterations"][-1]
        word = "converged" if report["converged"] else "stopped (max iterations)"
        console.print(f"L-shaped {word} in {len(report['iterations'])} iterations, {report['wall_seconds']:.1f} s on "
                      f"{report['workers']} {report['engine']} worker(s): lower {usd(last['lower_bound_usd'], style='compact')}"
                      f" · upper {usd(last['best_upper_bound_usd'], style='compact')} · gap {last['gap']:.2e}",
                      highlight=False)
    return result, report
