"""Renegotiation as a stated policy: per Monte Carlo draw, defer contracts' payments when cash would fall
below the floor, on each contract's stated terms (scenario `contracts.<name>.renegotiation.deferral`), and
say how much of the lab's funding gap each counterparty absorbs, what the lab pays for it, and what stays
unpaid (docs/exposure.md, "Renegotiation: deferral as a stated policy").

Post-processing of the kernel's per-draw cash, as :func:`gigawatt.exposure.unpaid`: the kernel is untouched.
The policy is sequential in time (a deferral repaid later can cause a later shortfall), so it steps through
the periods, vectorised over draws and contracts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gigawatt.plan import Plan, year_of
from gigawatt.portfolio import Portfolio

ORDERS = ("cheapest", "pro-rata")
"""cheapest: defer the contract with the lowest penalty first (ties by name); pro-rata: share the needed
relief among the contracts that may defer, in proportion to what each may defer that period."""


@dataclass(frozen=True)
class Terms:
    """Deferral terms of J contracts at the horizon's periods (arrays over contracts)."""

    names: list[str]
    counterparty: list[str]
    payments: np.ndarray  # (J, P) what each contract is due per period as planned, USD
    max_share: np.ndarray  # (J,)
    penalty: np.ndarray  # (J,)
    delay: np.ndarray  # (J,) periods, ≥ 1
    notice: np.ndarray  # (J,) periods, ≥ 0


def _periods(years: float, months_per_period: int) -> int:
    return int(np.ceil(years * 12.0 / months_per_period - 1e-9))


def contract_terms(plan: Plan, portfolio: Portfolio) -> Terms:
    """The renegotiable contracts of a run: their planned payments per period (the plan's contract costs)
    and their deferral terms, notice and delay rounded up to whole periods."""
    ds = plan.ds
    sup = plan.supply_table()
    contracts = portfolio.scenario.contracts
    names = sorted(n for n, c in contracts.items() if c.renegotiation is not None)
    P, mpp = ds.sizes["period"], portfolio.horizon.months_per_period()
    pay = np.zeros((len(names), P))
    if names and "cost_contract_usd" in ds:
        cost = ds["cost_contract_usd"].transpose("supply", "period").to_pandas()
        by_contract = cost.groupby(sup["contract"].reindex(cost.index).to_numpy()).sum()
        pay = by_contract.reindex(names).fillna(0.0).to_numpy()
    d = [contracts[n].renegotiation.deferral for n in names]
    return Terms(names=names, counterparty=[contracts[n].counterparty for n in names], payments=pay,
                 max_share=np.array([x.max_share for x in d]), penalty=np.array([x.penalty for x in d]),
                 delay=np.array([max(1, _periods(x.delay, mpp)) for x in d], dtype=int),
                 notice=np.array([_periods(x.notice, mpp) for x in d], dtype=int))


def _take(need: np.ndarray, avail: np.ndarray, rank: np.ndarray | None) -> np.ndarray:
    """Relief taken from each contract (J, n) to cover ``need`` (n,) from ``avail`` (J, n): in ``rank``
    order (cheapest first), or pro rata to ``avail`` when ``rank`` is None."""
    if rank is None:
        total = avail.sum(axis=0)
        frac = np.divide(np.minimum(need, total), total, out=np.zeros_like(total), where=total > 0)
        return avail * frac[None, :]
    ordered = avail[rank]
    before = np.cumsum(ordered, axis=0) - ordered
    taken = np.clip(need[None, :] - before, 0.0, ordered)
    out = np.empty_like(avail)
    out[rank] = taken
    return out


def defer(cash: np.ndarray, due: np.ndarray, cp_of: np.ndarray, terms: Terms, *, floor: float = 0.0,
          can_raise: float = 0.0, order: str = "cheapest") -> dict[str, np.ndarray]:
    """Apply the deferral policy to each draw. ``cash`` (P, n): the draw's cash with every payment made;
    ``due`` (C, P): what each counterparty is due; ``cp_of`` (J,): the row of ``due`` of each contract.

    Per period t, with A the cumulative change of cash the policy made so far and L = floor − can_raise:
    repayments of earlier deferrals (with their penalty) fall due and lower A; the need is
    d = max(0, L − K_t − A). Notice is served the first period d > 0 (t0); contract j may then defer in
    t ≥ t0 + notice_j up to max_share_j × its payment, in ``order``, only what is needed; it is repaid with
    (1 + penalty_j) in t + delay_j (inside the horizon, else outside it). What deferral cannot cover is
    skipped, shared pro rata among what is due in t (deferred payments out, repayments in), as
    :func:`gigawatt.exposure.unpaid` does; with no renegotiable contract the two agree exactly.

    Returns per (C, n): ``deferred`` (the gap each counterparty absorbs), ``penalty`` (what the lab owes
    for it), ``repaid`` (deferred amount + penalty repaid inside the horizon), ``unpaid`` (residual skip)."""
    K = np.asarray(cash, dtype=float)
    P, n = K.shape
    C, J = due.shape[0], len(terms.names)
    limit = floor - can_raise
    A = np.zeros(n)
    t0 = np.full(n, P)  # period notice is served; P = never
    repay = np.zeros((J, P, n))
    out = {k: np.zeros((C, n)) for k in ("deferred", "penalty", "repaid", "unpaid")}
    rank = None if order == "pro-rata" else np.array(sorted(range(J), key=lambda j: (terms.penalty[j], terms.names[j])), dtype=int)
    onehot = np.zeros((C, J))
    onehot[cp_of, np.arange(J)] = 1.0
    for t in range(P):
        A -= repay[:, t, :].sum(axis=0)
        need = np.maximum(0.0, limit - K[t] - A)
        t0 = np.where((need > 0) & (t0 == P), t, t0)
        allowed = t >= t0[None, :] + terms.notice[:, None]  # (J, n)
        avail = np.where(allowed, (terms.max_share * terms.payments[:, t])[:, None], 0.0)
        took = _take(need, avail, rank)  # (J, n)
        A += took.sum(axis=0)
        back = t + terms.delay
        inside = back < P
        repay[np.flatnonzero(inside), back[inside], :] += took[inside] * (1.0 + terms.penalty[inside])[:, None]
        out["deferred"] += onehot @ took
        out["penalty"] += onehot @ (took * terms.penalty[:, None])
        out["repaid"] += onehot @ repay[:, t, :]
        rest = np.maximum(0.0, limit - K[t] - A)
        owed = due[:, t][:, None] - onehot @ took + onehot @ repay[:, t, :]  # (C, n)
        total = owed.sum(axis=0)
        out["unpaid"] += owed * np.divide(rest, total, out=np.zeros_like(total), where=total > 0)[None, :]
        A += rest
    return out


def counterparty_rows(due: pd.DataFrame, terms: Terms) -> np.ndarray:
    """The row of ``due`` (counterparty × period) of each contract's counterparty; a counterparty missing
    from ``due`` (nothing planned to pay it) has nothing to defer and is refused."""
    idx = pd.Index(due.index)
    missing = [c for c in terms.counterparty if c not in idx]
    if missing:
        raise ValueError(f"renegotiable contracts' counterparties not paid in the plan: {missing}")
    return idx.get_indexer(terms.counterparty)


class DeferralStatistics:
    """Per counterparty over all draws, chunk by chunk: expected and CVaR of the amount deferred (the funding
    gap it absorbs), the expected penalty the lab pays it, and the expected and CVaR residual unpaid."""

    def __init__(self, due: pd.DataFrame, terms: Terms, *, floor: float, can_raise: float, order: str = "cheapest",
                 alpha: float = 0.95):
        if order not in ORDERS:
            raise ValueError(f"policy order {order!r}: expected one of {', '.join(ORDERS)}")
        self.due, self.terms, self.alpha = due, terms, alpha
        self.kw = dict(floor=floor, can_raise=can_raise, order=order)
        self.cp_of = counterparty_rows(due, terms)
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in ("deferred", "penalty", "repaid", "unpaid")}
        self.draws = 0
        self.years = year_of(due.columns)

    def consume(self, cash: np.ndarray) -> None:
        r = defer(cash, self.due.to_numpy(), self.cp_of, self.terms, **self.kw)
        for k, v in r.items():
            self.parts[k].append(v)
        self.draws += cash.shape[1]

    def _cvar(self, x: np.ndarray) -> np.ndarray:
        k = max(1, int(np.ceil((1 - self.alpha) * x.shape[1])))
        return -np.sort(-x, axis=1)[:, :k].mean(axis=1) + 0.0  # + 0.0: no "-0" in the CSV

    def result(self) -> pd.DataFrame:
        """One row per counterparty, sorted by expected deferred amount."""
        v = {k: np.concatenate(p, axis=1) for k, p in self.parts.items()}
        a = int(round(self.alpha * 100))
        gap = v["deferred"].sum(axis=0) + v["unpaid"].sum(axis=0)  # the draw's funding gap, before relief
        t = pd.DataFrame({
            "renegotiable": [c in set(self.terms.counterparty) for c in self.due.index],
            "expected_deferred_usd": v["deferred"].mean(axis=1), f"cvar{a}_deferred_usd": self._cvar(v["deferred"]),
            "expected_penalty_usd": v["penalty"].mean(axis=1), "expected_repaid_in_horizon_usd": v["repaid"].mean(axis=1),
            "expected_unpaid_usd": v["unpaid"].mean(axis=1), f"cvar{a}_unpaid_usd": self._cvar(v["unpaid"]),
            "share_of_expected_gap": v["deferred"].mean(axis=1) / gap.mean() if gap.mean() > 0 else 0.0,
            "draws": self.draws, "floor_usd": self.kw["floor"], "can_raise_usd": self.kw["can_raise"],
            "order": self.kw["order"]}, index=pd.Index(self.due.index, name="counterparty"))
        return t.sort_values(["expected_deferred_usd", "expected_unpaid_usd"], ascending=False)


__all__ = ["ORDERS", "Terms", "contract_terms", "defer", "counterparty_rows", "DeferralStatistics"]
