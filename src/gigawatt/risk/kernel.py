"""The compiled Monte Carlo kernel: standard normals in, a draw's factors, dispatch and cash out.

One pass per block of draws does everything a draw needs (docs/risk.md has the model): turn its normals
into driver factors and event occurrences, re-dispatch each workload's demand over the plan's tranches,
and add up cash flow, cash, fractions, net present cost and funding gap. The work runs over sub-blocks of
:data:`SUB` draws, period by period, with every loop innermost over draws, so the state of a sub-block stays
in the L1/L2 cache and the compiler vectorises each loop; the numpy version of the same arithmetic streamed
about sixty (period × draw) arrays through memory per chunk (docs/performance.md).

Arithmetic is plain IEEE float64, no fast-math: a factor of exactly 1 gives a change of exactly 0, so a
zero-variance draw reproduces the plan's figures bit for bit, and a draw's result depends only on its own
normals, never on which block, chunk or thread evaluated it.

# long: the kernel's stages (factors, dispatch, cash) are compiled together and share their arrays and
# helpers; split across modules they would be harder to read against each other, not easier.

Every array the kernel reads comes from :func:`pack_sampler` and :func:`pack_model`; shapes use
P periods, Y calendar years, V drivers, E events, N driver sets (products of drivers), W workloads,
T tranches (all workloads, grouped by workload), G price groups, S sites, O other-cost entries.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

SUB = 512
"""Draws evaluated together: ~40 vectors of SUB float64 (160 KiB) per thread stay in cache."""

NORMAL, LOGNORMAL, UNIFORM, TRIANGULAR, EMPIRICAL = range(5)
DISTRIBUTIONS = {"normal": NORMAL, "lognormal": LOGNORMAL, "uniform": UNIFORM, "triangular": TRIANGULAR,
                 "empirical": EMPIRICAL}
TINY = float(np.finfo(float).tiny)


class PackedSampler(NamedTuple):
    """Drivers and events as arrays (built by :func:`pack_sampler`)."""

    kind: np.ndarray  # (V,) int64: NORMAL .. EMPIRICAL
    row: np.ndarray  # (V,) int64: first row of its normals in a block
    slots: np.ndarray  # (V,) int64: 1 (level) or Y (one factor per calendar year)
    growth: np.ndarray  # (V,) bool: yearly factors compound
    params: np.ndarray  # (V, 3) float64: (mean, sd, -), (low, high, -) or (low, mode, high)
    emp_start: np.ndarray  # (V + 1,) int64: offsets of each empirical driver's sorted values
    emp_values: np.ndarray  # (·,) float64
    event_row: np.ndarray  # (E,) int64
    event_threshold: np.ndarray  # (E,) float64: the event happens when z < threshold (±inf: never/always)
    n_years: int


@njit(cache=True, nogil=True, error_model="numpy")
def ndtr(a):
    """Φ(a), the standard normal CDF (the cephes formula scipy.special.ndtr uses)."""
    x = a * 0.7071067811865476
    z = abs(x)
    if z < 0.7071067811865476:
        return 0.5 + 0.5 * math.erf(x)
    y = 0.5 * math.erfc(z)
    return 1.0 - y if x > 0 else y


@njit(cache=True, nogil=True, error_model="numpy")
def transform_block(ps, z, col0, m, factors, occ):
    """Factors and occurrences of draws z[:, col0:col0 + m] (a block of correlated normals).

    factors: (V, Y, ≥m) float64, filled for the driver's slots (a level driver's one factor is in slot 0);
    occ: (E, ≥m) float64, 1.0 where the event happens, else 0.0."""
    V = ps.kind.size
    for v in range(V):
        k = ps.kind[v]
        a, b, c = ps.params[v, 0], ps.params[v, 1], ps.params[v, 2]
        for y in range(ps.slots[v]):
            r = ps.row[v] + y
            out = factors[v, y]
            if k == NORMAL:
                for i in range(m):
                    f = z[r, col0 + i] * b + a
                    out[i] = f if f > 0.0 else 0.0
            elif k == LOGNORMAL:
                for i in range(m):
                    out[i] = math.exp(z[r, col0 + i] * b + a)
            elif k == UNIFORM:
                for i in range(m):
                    out[i] = ndtr(z[r, col0 + i]) * (b - a) + a
            elif k == TRIANGULAR:  # low a, mode b, high c
                width = c - a
                if width <= 0.0:
                    for i in range(m):
                        out[i] = a
                else:
                    cut = (b - a) / width
                    for i in range(m):
                        u = ndtr(z[r, col0 + i])
                        if u < cut:
                            out[i] = math.sqrt(u * (width * (b - a))) + a
                        else:
                            out[i] = c - math.sqrt((1.0 - u) * (width * (c - b)))
            else:  # empirical: equally likely sorted values
                lo, hi = ps.emp_start[v], ps.emp_start[v + 1]
                n_values = hi - lo
                for i in range(m):
                    j = int(ndtr(z[r, col0 + i]) * n_values)
                    out[i] = ps.emp_values[lo + (j if j < n_values else n_values - 1)]
        if ps.growth[v]:
            for y in range(1, ps.slots[v]):
                for i in range(m):
                    factors[v, y, i] *= factors[v, y - 1, i]
    for e in range(ps.event_row.size):
        r = ps.event_row[e]
        t = ps.event_threshold[e]
        for i in range(m):
            occ[e, i] = 1.0 if z[r, col0 + i] < t else 0.0


class PackedModel(NamedTuple):
    """A plan's deterministic arrays, as :func:`kernel_block` reads them (built by :func:`pack_model`)."""

    year_of: np.ndarray  # (P,) int64: calendar-year position of each period
    set_start: np.ndarray  # (N + 1,) int64: offsets into set_members
    set_members: np.ndarray  # (·,) int64: driver positions; a set's factor is their product
    # workloads
    dem_set: np.ndarray  # (W,) int64: demand driver set, −1 for none
    rev_set: np.ndarray  # (W,) int64: revenue driver set, −1 for none
    rate: np.ndarray  # (W,) USD per H100e-hour served
    active: np.ndarray  # (W,) bool: its demand or capacity can change in a draw
    hit: np.ndarray  # (W, P) bool: an event can remove capacity of one of its tranches in that period
    demand: np.ndarray  # (W, P) the plan's demand
    unmet: np.ndarray  # (W, P) the plan's unmet demand u0
    spare: np.ndarray  # (W, P) total spare capacity S
    served: np.ndarray  # (W, P) demand − unmet
    tr_start: np.ndarray  # (W + 1,) int64: each workload's tranches, cheapest first
    # tranches
    use: np.ndarray  # (T, P) the plan's use x
    free: np.ndarray  # (T, P) spare s
    cheaper_spare: np.ndarray  # (T, P) E: spare of the cheaper tranches
    dearer_use: np.ndarray  # (T, P) C: unmet + use of the dearer tranches
    price: np.ndarray  # (T, P) USD per H100e-hour used
    committed: np.ndarray  # (T,) bool
    priced: np.ndarray  # (T,) bool
    group: np.ndarray  # (T,) int64: price group, −1 when its price has no driver
    loss: np.ndarray  # (T, E, P) capacity an event removes
    # prices, energy, other costs, revenue
    group_set: np.ndarray  # (G,) int64
    group_base: np.ndarray  # (G, P) Σ price × plan use
    energy: np.ndarray  # (S, P) energy cost per site
    energy_set: np.ndarray  # (S,) int64
    other: np.ndarray  # (O, P)
    other_set: np.ndarray  # (O,) int64
    exogenous: np.ndarray  # (P,) exogenous revenue
    exogenous_set: int
    # events' cash
    event_cost: np.ndarray  # (E, P)
    event_equity: np.ndarray  # (E, P)
    event_saved: np.ndarray  # (E, S, P) energy no longer bought
    # the plan's totals and finance
    demand_total: np.ndarray  # (P,)
    unmet_total: np.ndarray  # (P,)
    committed_cap: np.ndarray  # (P,)
    committed_use: np.ndarray  # (P,)
    cash_flow: np.ndarray  # (P,)
    cash: np.ndarray  # (P,)
    discount: np.ndarray  # (P,)
    npc: float


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _driver(ps, factors, v, y):
    """Driver v's factors in calendar year y (a level driver has one factor for all years)."""
    return factors[v, y if ps.slots[v] > 1 else 0]


@njit(cache=True, nogil=True, error_model="numpy")
def _set_factors(km, ps, factors, m, F):
    """F[s, y, :m] = product of set s's drivers in year y, left to right, for the sets of several drivers
    (a set of one driver is read from ``factors`` directly: :func:`_set`)."""
    Y = F.shape[1]
    for s in range(km.set_start.size - 1):
        a, b = km.set_start[s], km.set_start[s + 1]
        if b - a == 1:
            continue
        for y in range(Y):
            out = F[s, y]
            first = _driver(ps, factors, km.set_members[a], y)
            for i in range(m):
                out[i] = first[i]
            for j in range(a + 1, b):
                nxt = _driver(ps, factors, km.set_members[j], y)
                for i in range(m):
                    out[i] *= nxt[i]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _set(km, ps, factors, F, s, y):
    """The factors of driver set s in year y."""
    a = km.set_start[s]
    if km.set_start[s + 1] - a == 1:
        return _driver(ps, factors, km.set_members[a], y)
    return F[s, y]


@njit(cache=True, nogil=True, error_model="numpy")
def _scaled_change(d, acc, base, f, n):
    """d = base · (f − 1); acc += d."""
    for i in range(n):
        d[i] = base * (f[i] - 1.0)
        acc[i] += d[i]


@njit(cache=True, nogil=True, error_model="numpy")
def _axpy(y, a, x, n):
    for i in range(n):
        y[i] += a * x[i]


@njit(cache=True, nogil=True, error_model="numpy")
def _add(y, x, n):
    for i in range(n):
        y[i] += x[i]


@njit(cache=True, nogil=True, error_model="numpy")
def _sum(out, a, b, n):
    for i in range(n):
        out[i] = a[i] + b[i]


@njit(cache=True, nogil=True, error_model="numpy")
def _lose(lo, Ek, sk, xk, lostk, dE, lost_tot, E0, s_, x_, n):
    """A tranche losing ``lo``: spare first (gone), then use (lost); thresholds shifted by what the cheaper
    tranches lost (dE)."""
    for i in range(n):
        lost = lo[i] - s_
        lost = lost if lost > 0.0 else 0.0
        gone = lo[i] if lo[i] < s_ else s_
        Ek[i] = E0 - dE[i]
        sk[i] = s_ - gone
        dE[i] += gone
        xk[i] = x_ - lost
        lostk[i] = lost
        lost_tot[i] += lost


@njit(cache=True, nogil=True, error_model="numpy")
def _shift(Ck, dC, C0, lostk, n):
    for i in range(n):
        Ck[i] = C0 - dC[i]
        dC[i] += lostk[i]


@njit(cache=True, nogil=True, error_model="numpy")
def _dispatch(dd, Ek, sk, xk, lostk, Ck, du, n):
    """Δuse of a tranche: extra demand beyond the cheaper spare, up to its spare; less demand beyond the
    dearer use and unmet, up to its use; minus the use an event took."""
    for i in range(n):
        up = dd[i] - Ek[i]
        up = up if up > 0.0 else 0.0
        up = up if up < sk[i] else sk[i]
        cut = -dd[i] - Ck[i]
        cut = cut if cut > 0.0 else 0.0
        cut = cut if cut < xk[i] else xk[i]
        du[i] = up - cut - lostk[i]


@njit(cache=True, nogil=True, error_model="numpy")
def _dispatch_plain(d, E0, s_, x_, C0, du, n):
    """:func:`_dispatch` with the plan's thresholds (no capacity lost)."""
    for i in range(n):
        up = d[i] - E0
        up = up if up > 0.0 else 0.0
        up = up if up < s_ else s_
        cut = -d[i] - C0
        cut = cut if cut > 0.0 else 0.0
        cut = cut if cut < x_ else x_
        du[i] = up - cut


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _book(committed, priced, price, group, du, duc, gdu, dcost, n):
    """Add a tranche's Δuse to committed use and to what it costs (per price group, or directly).
    Inlined, and given scalars rather than the packed model: passing the model to a compiled call copies
    it and counts references to each of its arrays, which cost more than the loop itself."""
    if committed:
        _add(duc, du, n)
    if priced:
        _axpy(gdu[group] if group >= 0 else dcost, price, du, n)


@njit(cache=True, nogil=True, error_model="numpy")
def _unmet_hit(dd, dE, S, u0, dunmet, acc, n):
    """Δunmet = max(Δ' − (S − dE), 0) − min(max(−Δ', 0), u0); acc += Δunmet."""
    for i in range(n):
        over = dd[i] - (S - dE[i])
        over = over if over > 0.0 else 0.0
        less = -dd[i]
        less = less if less > 0.0 else 0.0
        less = less if less < u0 else u0
        dunmet[i] = over - less
        acc[i] += dunmet[i]


@njit(cache=True, nogil=True, error_model="numpy")
def _unmet_plain(d, S, u0, dunmet, acc, n):
    for i in range(n):
        over = d[i] - S
        over = over if over > 0.0 else 0.0
        less = -d[i]
        less = less if less > 0.0 else 0.0
        less = less if less < u0 else u0
        dunmet[i] = over - less
        acc[i] += dunmet[i]


@njit(cache=True, nogil=True, error_model="numpy")
def _revenue_scaled(drev, d, dunmet, served, f, rate, n):
    for i in range(n):
        drev[i] += ((d[i] - dunmet[i] + served) * f[i] - served) * rate


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _workload_hit(km, t, k0, k1, Sj, u0, occ, trv, d, dd, dE, lost_tot, dC, du, duc, gdu, dcost, dloss, dunm, dunmet,
                  n):
    """Dispatch of one workload in a period where events can remove capacity of its tranches k0..k1−1:
    a tranche's lost capacity eats its spare first, then its use, which is re-served by the remaining
    spare like extra demand. Writes Δ' (dd) and Δunmet (dunmet); adds to the accumulators."""
    E = km.event_cost.shape[0]
    dE[:n] = 0.0
    lost_tot[:n] = 0.0
    for k in range(k0, k1):
        lo = trv[0, k - k0]
        lo[:n] = 0.0
        for e in range(E):
            if km.loss[k, e, t] != 0.0:
                _axpy(lo, km.loss[k, e, t], occ[e], n)
        _lose(lo, trv[1, k - k0], trv[2, k - k0], trv[3, k - k0], trv[4, k - k0], dE, lost_tot,
              km.cheaper_spare[k, t], km.free[k, t], km.use[k, t], n)
        if km.committed[k]:
            _add(dloss, lo, n)
    _sum(dd, d, lost_tot, n)
    dC[:n] = 0.0
    for k in range(k1 - 1, k0 - 1, -1):  # C' = C − use lost by the dearer tranches
        _shift(trv[5, k - k0], dC, km.dearer_use[k, t], trv[4, k - k0], n)
    for k in range(k0, k1):
        _dispatch(dd, trv[1, k - k0], trv[2, k - k0], trv[3, k - k0], trv[4, k - k0], trv[5, k - k0], du, n)
        _book(km.committed[k], km.priced[k], km.price[k, t], km.group[k], du, duc, gdu, dcost, n)
    _unmet_hit(dd, dE, Sj, u0, dunmet, dunm, n)


@njit(cache=True, nogil=True, error_model="numpy")
def kernel_block(km, ps, z, m, out0, cash_out, flow_out, unmet_out, stranded_out, npc_out, gap_out,
                 below, below_by, scratch):
    """Evaluate the draws of normals z[:, :m] into columns out0.. of the outputs ((P, ·) arrays and (·,) npc, gap);
    adds to ``below`` / ``below_by`` (Y,) the draws with cash < 0 in a year / by the year's end.
    ``scratch``: from :func:`make_scratch` (reused between calls)."""
    # long: one compiled hot loop over sub-blocks and periods; numba inlines nothing across calls it cannot
    # see, and its state (factors, per-workload changes) lives in locals the loop keeps in registers/cache.
    P = km.cash.size
    W = km.rate.size
    E = km.event_cost.shape[0]
    factors, F, occ, vec, trv, gdu = scratch
    for s0 in range(0, m, SUB):
        n = min(SUB, m - s0)
        c0 = out0 + s0
        transform_block(ps, z, s0, n, factors, occ)
        _set_factors(km, ps, factors, n, F)
        cum = vec[0]
        npc = vec[1]
        low = vec[2]
        ddem = vec[3]
        dunm = vec[4]
        duc = vec[5]
        dloss = vec[6]
        dcost = vec[7]
        drev = vec[8]
        d = vec[9]
        dd = vec[10]
        dE = vec[11]
        lost_tot = vec[12]
        dC = vec[13]
        du = vec[14]
        tmp = vec[15]
        seen = vec[16]  # cash < 0 so far (0/1)
        year_neg = vec[17]
        for i in range(n):
            cum[i] = 0.0
            npc[i] = km.npc
            low[i] = np.inf
            seen[i] = 0.0
            year_neg[i] = 0.0
        for t in range(P):
            y = km.year_of[t]
            for i in range(n):
                ddem[i] = 0.0
                dunm[i] = 0.0
                duc[i] = 0.0
                dloss[i] = 0.0
                dcost[i] = 0.0
                drev[i] = 0.0
            for g in range(gdu.shape[0]):
                for i in range(n):
                    gdu[g, i] = 0.0
            for j in range(W):
                k0, k1 = km.tr_start[j], km.tr_start[j + 1]
                rs = km.rev_set[j]
                rate = km.rate[j]
                if not km.active[j]:  # demand and capacity as planned: only revenue can change
                    if rate != 0.0 and rs >= 0:
                        worth = km.served[j, t] * rate
                        fr = _set(km, ps, factors, F, rs, y)
                        for i in range(n):
                            drev[i] += worth * (fr[i] - 1.0)
                    continue
                ds = km.dem_set[j]
                Dj = km.demand[j, t]
                if ds >= 0:
                    _scaled_change(d, ddem, Dj, _set(km, ps, factors, F, ds, y), n)
                else:
                    d[:n] = 0.0
                Sj = km.spare[j, t]
                if km.hit[j, t]:
                    _workload_hit(km, t, k0, k1, Sj, km.unmet[j, t], occ, trv, d, dd, dE, lost_tot, dC, du, duc, gdu, dcost, dloss,
                                  dunm, tmp, n)
                else:  # no capacity lost: the thresholds are the plan's (scalars)
                    for k in range(k0, k1):
                        _dispatch_plain(d, km.cheaper_spare[k, t], km.free[k, t], km.use[k, t],
                                        km.dearer_use[k, t], du, n)
                        _book(km.committed[k], km.priced[k], km.price[k, t], km.group[k], du, duc, gdu, dcost, n)
                    _unmet_plain(d, Sj, km.unmet[j, t], tmp, dunm, n)
                if rate != 0.0:
                    if rs >= 0:
                        _revenue_scaled(drev, d, tmp, km.served[j, t], _set(km, ps, factors, F, rs, y), rate, n)
                    else:
                        for i in range(n):
                            drev[i] += (d[i] - tmp[i]) * rate
            # prices: Σ_k p_k (g · (x_k + Δu_k) − x_k) = (g − 1) · Σ p x + g · Σ p Δu, per driver group
            for g in range(km.group_set.size):
                fg = _set(km, ps, factors, F, km.group_set[g], y)
                base = km.group_base[g, t]
                for i in range(n):
                    dcost[i] += base * (fg[i] - 1.0)
                    dcost[i] += fg[i] * gdu[g, i]
            for s in range(km.energy_set.size):
                es = km.energy_set[s]
                if es >= 0:
                    fe = _set(km, ps, factors, F, es, y)
                    cost = km.energy[s, t]
                    for i in range(n):
                        dcost[i] += cost * (fe[i] - 1.0)
            dcf = tmp
            for i in range(n):
                dcf[i] = -dcost[i]
            for o in range(km.other_set.size):
                os_ = km.other_set[o]
                if os_ >= 0:
                    fo = _set(km, ps, factors, F, os_, y)
                    cost = km.other[o, t]
                    for i in range(n):
                        dcf[i] -= cost * (fo[i] - 1.0)
            if km.exogenous_set >= 0:
                fx = _set(km, ps, factors, F, km.exogenous_set, y)
                rev = km.exogenous[t]
                for i in range(n):
                    dcf[i] += rev * (fx[i] - 1.0)
            for e in range(E):
                oe = occ[e]
                cost = km.event_cost[e, t]
                eq = km.event_equity[e, t]
                if cost != 0.0:
                    for i in range(n):
                        dcost[i] += cost * oe[i]
                        dcf[i] -= cost * oe[i]
                if eq != 0.0:
                    for i in range(n):
                        dcf[i] += eq * oe[i]
                for s in range(km.energy_set.size):
                    saved = km.event_saved[e, s, t]
                    if saved == 0.0:
                        continue
                    es = km.energy_set[s]
                    if es >= 0:
                        fe = _set(km, ps, factors, F, es, y)
                        for i in range(n):
                            b = saved * oe[i] * fe[i]
                            dcost[i] -= b
                            dcf[i] += b
                    else:
                        for i in range(n):
                            b = saved * oe[i]
                            dcost[i] -= b
                            dcf[i] += b
            # cash, fractions, net present cost, funding gap, cash below zero
            cf0 = km.cash_flow[t]
            cash0 = km.cash[t]
            D0 = km.demand_total[t]
            U0 = km.unmet_total[t]
            CC = km.committed_cap[t]
            UC = km.committed_use[t]
            df = km.discount[t]
            last_of_year = t == P - 1 or km.year_of[t + 1] != y
            cash_row = cash_out[t]
            flow_row = flow_out[t]
            unmet_row = unmet_out[t]
            stranded_row = stranded_out[t]
            for i in range(n):
                dcf[i] += drev[i]
                c = c0 + i
                flow_row[c] = dcf[i] + cf0
                cum[i] = cum[i] + dcf[i] if t > 0 else dcf[i]
                cash = cum[i] + cash0
                cash_row[c] = cash
                dem = ddem[i] + D0
                unmet_row[c] = (dunm[i] + U0) / (dem if dem > TINY else TINY)
                cap = CC - dloss[i]
                st = cap - (duc[i] + UC)
                stranded_row[c] = (st if st > 0.0 else 0.0) / (cap if cap > TINY else TINY)
                npc[i] += dcost[i] * df
                if cash < low[i]:
                    low[i] = cash
                if cash < 0.0:
                    year_neg[i] = 1.0
            if last_of_year:
                hits = 0
                hits_by = 0
                for i in range(n):
                    if year_neg[i] != 0.0:
                        hits += 1
                        seen[i] = 1.0
                    if seen[i] != 0.0:
                        hits_by += 1
                    year_neg[i] = 0.0
                below[y] += hits
                below_by[y] += hits_by
        for i in range(n):
            npc_out[c0 + i] = npc[i]
            g = -low[i]
            gap_out[c0 + i] = g if g > 0.0 else 0.0


def make_scratch(km: PackedModel, ps: PackedSampler):
    """Reusable per-thread buffers for :func:`kernel_block`."""
    V = max(ps.kind.size, 1)
    Y = ps.n_years
    n_sets = max(km.set_start.size - 1, 1)
    widest = int(np.diff(km.tr_start).max()) if km.tr_start.size > 1 else 1
    return (np.empty((V, Y, SUB)), np.empty((n_sets, Y, SUB)), np.empty((max(ps.event_row.size, 1), SUB)),
            np.empty((18, SUB)), np.empty((6, max(widest, 1), SUB)), np.empty((max(km.group_set.size, 1), SUB)))


__all__ = ["SUB", "PackedSampler", "PackedModel", "transform_block", "kernel_block", "make_scratch", "ndtr",
           "DISTRIBUTIONS"]
