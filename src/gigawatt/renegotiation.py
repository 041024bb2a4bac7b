"""Renegotiation as a stated policy: per Monte Carlo draw, defer contracts' payments or terminate contracts
at their fee when cash would fall below the floor, on each contract's stated terms (scenario
`contracts.<name>.renegotiation`), and say how much of the lab's funding gap each counterparty absorbs, what
the lab pays for it, and what stays unpaid (docs/exposure.md, "Renegotiation: stated policies").

Post-processing of the kernel's per-draw cash, as :func:`gigawatt.exposure.unpaid`: the kernel is untouched.
The policy is sequential in time (a deferral repaid later can cause a later shortfall), so it steps through
the periods, vectorised over draws and contracts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gigawatt.exposure import tail_mean
from gigawatt.finance import commitments
from gigawatt.periods import periods_spanning
from gigawatt.plan import Plan, year_of
from gigawatt.portfolio import Portfolio

ORDERS = ("cheapest", "pro-rata")
"""cheapest: defer the contract with the lowest penalty first (ties by name); pro-rata: share the needed
relief among the contracts that may defer, in proportion to what each may defer that period. Termination
always goes lowest fee first (equal fees: the largest net relief first, so the fewest contracts end; then by
name): a contract ends whole, it cannot be shared pro rata."""

POLICIES = ("defer", "terminate", "defer-then-terminate")
"""defer: deferral only; terminate: termination only; defer-then-terminate: deferral first, termination
of what deferral cannot cover."""

PARTS = ("deferred", "penalty", "repaid", "unpaid", "terminated", "fee", "saved", "absorbed")


@dataclass(frozen=True)
class Terms:
    """Renegotiation terms of J contracts at the horizon's periods (arrays over contracts). A contract
    without deferral terms has ``max_share`` 0; one without termination terms has ``fee`` NaN."""

    names: list[str]
    counterparty: list[str]
    payments: np.ndarray  # (J, P) what each contract is due per period as planned, USD
    max_share: np.ndarray  # (J,)
    penalty: np.ndarray  # (J,)
    delay: np.ndarray  # (J,) periods, ≥ 1
    notice: np.ndarray  # (J,) periods, ≥ 0
    fee: np.ndarray | None = None  # (J,) share of the remaining value; NaN: may not terminate
    term_notice: np.ndarray | None = None  # (J,) periods from notice to effect, ≥ 0
    after: np.ndarray | None = None  # (J,) planned payments after the horizon's end (stated value − horizon's), USD

    def __post_init__(self):
        J = len(self.names)
        for name, default in (("fee", np.nan), ("term_notice", 0), ("after", 0.0)):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.full(J, default, dtype=int if name == "term_notice" else float))

    @property
    def terminable(self) -> np.ndarray:
        return ~np.isnan(self.fee)


def contract_terms(plan: Plan, portfolio: Portfolio) -> Terms:
    """The renegotiable contracts of a run: their planned payments per period (the plan's contract costs),
    what remains after the horizon (the stated whole-term value, :func:`gigawatt.finance.commitments`, minus
    the horizon's payments, ≥ 0), and their terms, notice and delay rounded up to whole periods."""
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
    value = commitments(portfolio)["value_usd"].reindex(names).fillna(0.0).to_numpy(dtype=float)
    d = [contracts[n].renegotiation.deferral for n in names]
    x = [contracts[n].renegotiation.termination for n in names]
    return Terms(names=names, counterparty=[contracts[n].counterparty for n in names], payments=pay,
                 max_share=np.array([k.max_share if k else 0.0 for k in d]),
                 penalty=np.array([k.penalty if k else 0.0 for k in d]),
                 delay=np.array([max(1, periods_spanning(k.delay, mpp)) if k else 1 for k in d], dtype=int),
                 notice=np.array([periods_spanning(k.notice, mpp) if k else 0 for k in d], dtype=int),
                 fee=np.array([k.fee if k else np.nan for k in x], dtype=float),
                 term_notice=np.array([periods_spanning(k.notice, mpp) if k else 0 for k in x], dtype=int),
                 after=np.maximum(0.0, value - pay.sum(axis=1)))


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


def _rank(keys: np.ndarray, names: list[str]) -> np.ndarray:
    return np.array(sorted(range(len(names)), key=lambda j: (keys[j], names[j])), dtype=int)


class _Termination:
    """Termination state of J contracts over n draws: the effective period of each (P: never)."""

    def __init__(self, terms: Terms, n: int):
        self.terms, P = terms, terms.payments.shape[1]
        self.eff = np.full((len(terms.names), n), P)
        tail = np.cumsum(terms.payments[:, ::-1], axis=1)[:, ::-1]  # Σ_{s≥t} p_{j,s}
        self.left = np.concatenate([tail, np.zeros((len(terms.names), 1))], axis=1)  # (J, P+1)
        fee = np.nan_to_num(terms.fee)
        self.fee_at = fee[:, None] * (self.left + terms.after[:, None])  # fee if effective at t, (J, P+1)
        self.relief = np.where(terms.terminable[:, None], self.left - self.fee_at, 0.0)  # net relief in horizon

    def choose(self, t: int, rest: np.ndarray) -> np.ndarray:
        """Serve notice in t on contracts, lowest fee first (equal fees: largest net relief first, then by
        name), whose net relief inside the horizon (payments saved from the effective date on minus the fee)
        is positive, until it covers ``rest``. (J, n) bool."""
        P = self.terms.payments.shape[1]
        te = np.minimum(t + self.terms.term_notice, P)
        relief = np.maximum(self.relief[np.arange(len(te)), te], 0.0)
        rank = np.lexsort((self.terms.names, -relief, np.nan_to_num(self.terms.fee, nan=np.inf)))
        avail = np.where(self.eff == P, relief[:, None], 0.0)
        ordered = avail[rank]
        before = np.cumsum(ordered, axis=0) - ordered
        pick = np.zeros_like(avail, dtype=bool)
        pick[rank] = (ordered > 0) & (before < rest[None, :])
        self.eff = np.where(pick, te[:, None], self.eff)
        return pick

    def effect(self, t: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(saved payments, fee, remaining value) of each contract (J, n) in period t: payments stop from the
        effective period on, the fee and the remaining value fall on the effective period."""
        active = self.eff <= t if mask is None else mask & (self.eff <= t)
        now = self.eff == t if mask is None else mask & (self.eff == t)
        saved = np.where(active, self.terms.payments[:, t][:, None], 0.0)
        fee = np.where(now, self.fee_at[:, t][:, None], 0.0)
        remaining = np.where(now, (self.left[:, t] + self.terms.after)[:, None], 0.0)
        return saved, fee, remaining


def defer(cash: np.ndarray, due: np.ndarray, cp_of: np.ndarray, terms: Terms, *, floor: float = 0.0,  # long: one period's steps in order
          can_raise: float = 0.0, order: str = "cheapest", policy: str = "defer") -> dict[str, np.ndarray]:
    """Apply the renegotiation policy to each draw. ``cash`` (P, n): the draw's cash with every payment
    made; ``due`` (C, P): what each counterparty is due; ``cp_of`` (J,): the row of ``due`` of each contract.

    Per period t, with A the cumulative change of cash the policy made so far and L = floor − can_raise:
    repayments of earlier deferrals (with their penalty) fall due and lower A; terminated contracts' payments
    stop (A += p_{j,t}) and a termination taking effect in t pays its fee (A −= fee_j × remaining value).
    The need is d = max(0, L − K_t − A). Deferral (``policy`` defer or defer-then-terminate): notice is
    served the first period d > 0 (t0); contract j may then defer in t ≥ t0 + notice_j up to max_share_j ×
    its payment, in ``order``, only what is needed; it is repaid with (1 + penalty_j) in t + delay_j.
    Termination (terminate, defer-then-terminate): what is still needed serves termination notice on
    contracts, lowest fee first (equal fees: largest net relief first), whose net relief inside the horizon
    is positive, until it covers the need;
    they take effect in t + term_notice_j (in t itself with no notice). What the policy cannot cover is
    skipped, shared pro rata among what is due in t, as :func:`gigawatt.exposure.unpaid` does; with no
    renegotiable contract the two agree exactly.

    Returns per (C, n): ``deferred``, ``penalty``, ``repaid`` (deferred + penalty repaid inside the horizon),
    ``unpaid`` (residual skip), ``terminated`` (remaining value at termination, whole term), ``fee``,
    ``saved`` (payments stopped inside the horizon) and ``absorbed`` (remaining value − fee: what the
    counterparty loses to termination)."""
    if policy not in POLICIES:
        raise ValueError(f"renegotiation policy {policy!r}: expected one of {', '.join(POLICIES)}")
    K = np.asarray(cash, dtype=float)
    P, n = K.shape
    C, J = due.shape[0], len(terms.names)
    limit = floor - can_raise
    A = np.zeros(n)
    t0 = np.full(n, P)  # period deferral notice is served; P = never
    repay = np.zeros((J, P, n))
    out = {k: np.zeros((C, n)) for k in PARTS}
    may_defer, may_end = policy != "terminate", policy != "defer"
    rank = None if order == "pro-rata" else _rank(terms.penalty, terms.names)
    onehot = np.zeros((C, J))
    onehot[cp_of, np.arange(J)] = 1.0
    ends = _Termination(terms, n)

    def terminate(saved, fee, remaining):
        out["saved"] += onehot @ saved
        out["fee"] += onehot @ fee
        out["terminated"] += onehot @ remaining
        out["absorbed"] += onehot @ (remaining - fee)
        return (saved - fee).sum(axis=0)

    for t in range(P):
        A -= repay[:, t, :].sum(axis=0)
        saved, fee, remaining = ends.effect(t)
        A += terminate(saved, fee, remaining)
        need = np.maximum(0.0, limit - K[t] - A)
        took = np.zeros((J, n))
        if may_defer:
            t0 = np.where((need > 0) & (t0 == P), t, t0)
            allowed = (t >= t0[None, :] + terms.notice[:, None]) & (ends.eff > t)  # (J, n)
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
        if may_end and terms.terminable.any():
            new = ends.choose(t, rest)
            s2, f2, r2 = ends.effect(t, new)  # no notice: payments stop (and the fee is paid) in t itself
            taken = np.where(new, took, 0.0)  # deferred in t: still owed (repaid later), not ended
            s2 = s2 - taken  # no longer paid in t either way: not saved twice
            f2 = f2 * np.divide(r2 - taken, r2, out=np.zeros_like(r2), where=r2 > 0)  # the fee on what ends
            r2 = r2 - taken
            A += terminate(s2, f2, r2)
            saved, fee = saved + s2, fee + f2
            rest = np.maximum(0.0, limit - K[t] - A)
        owed = due[:, t][:, None] + onehot @ (repay[:, t, :] - took - saved + fee)  # (C, n)
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
    gap it absorbs), the expected penalty the lab pays it, the expected and CVaR residual unpaid, and under
    a terminating policy the probability of a termination, the remaining value ended, the fee and what the
    counterparty absorbs (remaining value − fee)."""

    def __init__(self, due: pd.DataFrame, terms: Terms, *, floor: float, can_raise: float, order: str = "cheapest",
                 alpha: float = 0.95, policy: str = "defer"):
        if order not in ORDERS:
            raise ValueError(f"policy order {order!r}: expected one of {', '.join(ORDERS)}")
        self.due, self.terms, self.alpha = due, terms, alpha
        self.kw = dict(floor=floor, can_raise=can_raise, order=order, policy=policy)
        self.cp_of = counterparty_rows(due, terms)
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in PARTS}
        self.draws = 0
        self.years = year_of(due.columns)

    def consume(self, cash: np.ndarray) -> None:
        r = defer(cash, self.due.to_numpy(), self.cp_of, self.terms, **self.kw)
        for k, v in r.items():
            self.parts[k].append(v)
        self.draws += cash.shape[1]

    def result(self) -> pd.DataFrame:
        """One row per counterparty, sorted by expected amount absorbed (deferred + termination)."""
        v = {k: np.concatenate(p, axis=1) for k, p in self.parts.items()}
        a = int(round(self.alpha * 100))
        gap = v["deferred"].sum(axis=0) + v["unpaid"].sum(axis=0)  # the draw's funding gap left to counterparties
        cols = {
            "renegotiable": [c in set(self.terms.counterparty) for c in self.due.index],
            "expected_deferred_usd": v["deferred"].mean(axis=1), f"cvar{a}_deferred_usd": tail_mean(v["deferred"], self.alpha),
            "expected_penalty_usd": v["penalty"].mean(axis=1), "expected_repaid_in_horizon_usd": v["repaid"].mean(axis=1),
            "expected_unpaid_usd": v["unpaid"].mean(axis=1), f"cvar{a}_unpaid_usd": tail_mean(v["unpaid"], self.alpha),
            "share_of_expected_gap": v["deferred"].mean(axis=1) / gap.mean() if gap.mean() > 0 else 0.0}
        if self.kw["policy"] != "defer":
            cols.update({"probability_terminated": (v["terminated"] > 0).mean(axis=1),
                         "expected_terminated_value_usd": v["terminated"].mean(axis=1),
                         "expected_fee_usd": v["fee"].mean(axis=1),
                         "expected_saved_in_horizon_usd": v["saved"].mean(axis=1),
                         "expected_absorbed_termination_usd": v["absorbed"].mean(axis=1),
                         f"cvar{a}_absorbed_termination_usd": tail_mean(v["absorbed"], self.alpha)})
        cols.update({"draws": self.draws, "floor_usd": self.kw["floor"], "can_raise_usd": self.kw["can_raise"],
                     "order": self.kw["order"], "policy": self.kw["policy"]})
        t = pd.DataFrame(cols, index=pd.Index(self.due.index, name="counterparty"))
        t["_key"] = t["expected_deferred_usd"] + t.get("expected_absorbed_termination_usd", 0.0)
        return t.sort_values(["_key", "expected_unpaid_usd"], ascending=False).drop(columns="_key")


__all__ = ["ORDERS", "POLICIES", "PARTS", "Terms", "contract_terms", "defer", "counterparty_rows", "DeferralStatistics"]
