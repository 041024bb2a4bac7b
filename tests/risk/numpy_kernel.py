"""The Monte Carlo kernel as it was written in numpy, one whole-array operation at a time: a test oracle.

gigawatt.risk.kernel compiles the same arithmetic into one pass per block of draws; this file keeps the
numpy version (as it ran in gigawatt up to the commit that replaced it) so tests can check that the two
agree on every output for the same draws. Not used by the package.
"""

from __future__ import annotations

import numpy as np

from gigawatt.risk.simulate import ChunkResult, RiskModel, chunk_result


class _Work:
    """Fresh arrays (the package's workspace reuse is a speed concern, not the oracle's)."""

    def new(self, shape: tuple, dtype=float) -> np.ndarray:
        return np.empty(shape, dtype=dtype)

class _Factors:
    """Per-chunk period factors of drivers, products of driver sets and their excess over 1, cached."""

    def __init__(self, model: RiskModel, sample, work: _Work, n: int):
        self.model = model
        self.sample = sample
        self.work = work
        self.shape = (model.n_periods, n)
        self.cache: dict[tuple, np.ndarray] = {}
        P = model.n_periods
        self.identity_years = len(model.years) == P and bool((model.year_index == np.arange(P)).all())

    def one(self, name: str) -> np.ndarray:
        f = self.sample.factors[name]  # (1 or Y, n)
        if f.shape[0] == 1 or self.identity_years:
            return f
        return np.take(f, self.model.year_index, axis=0, out=self.work.new(self.shape))

    def product(self, names: tuple[str, ...]) -> np.ndarray | None:
        if not names:
            return None
        if names not in self.cache:
            out = self.one(names[0])
            for n in names[1:]:
                nxt = self.one(n)
                out = np.multiply(out, nxt, out=self.work.new(np.broadcast_shapes(out.shape, nxt.shape)))
            self.cache[names] = out
        return self.cache[names]

    def minus_one(self, names: tuple[str, ...]) -> np.ndarray | None:
        """product(names) − 1 (exactly 0 where every factor is 1)."""
        key = ("-1",) + names
        if key not in self.cache:
            f = self.product(names)
            if f is None:
                return None
            self.cache[key] = np.subtract(f, 1.0, out=self.work.new(f.shape))
        return self.cache[key]


def run_chunk(model: RiskModel, seed: int, start: int, n: int, *, paths_out: dict | None = None) -> ChunkResult:
    """Evaluate draws [start, start + n) (start a multiple of BLOCK), whole arrays at a time."""
    der = model.derived
    P = model.n_periods
    W = _Work()
    PN = (P, n)
    new = W.new

    def zeros() -> np.ndarray:
        a = new(PN)
        a.fill(0.0)
        return a

    def add_into(acc: np.ndarray | None, term: np.ndarray) -> np.ndarray:
        if acc is None:
            acc = new(PN)
            np.copyto(acc, term)  # one pass (a broadcast term fills the whole array)
            return acc
        acc += term
        return acc

    sample = model.sampler.sample(seed, start, n, alloc=new)
    fac = _Factors(model, sample, W, n)
    ev = {}
    for k, v in sample.events.items():
        if v.any():
            ev[k] = new((1, n))
            ev[k][0] = v
    ddem = dunm = duc = dloss_c = None  # Σ over workloads: Δdemand, Δunmet, Δcommitted use, committed capacity lost
    group_du: dict[tuple, np.ndarray] = {}  # Σ price × Δuse per price-driver group
    dcost = zeros()  # Δ cash costs of compute
    drev = None
    buf = new(PN)
    for j, w in enumerate(model.workloads):
        cols = der.cols[j]
        fm1 = fac.minus_one(w.demand_drivers)
        hit = [e for e in der.events_of[j] if e in ev]
        fr = fac.product(w.revenue_drivers) if w.revenue_per_h100e_hour else None
        if fm1 is None and not hit:
            if fr is not None:  # served unchanged; its revenue scaled
                served0 = (der.D[j] - der.u0[j]) * w.revenue_per_h100e_hour
                drev = add_into(drev, np.multiply(served0, fac.minus_one(w.revenue_drivers), out=buf))
            continue
        if fm1 is not None:
            d = np.multiply(der.D[j], fm1, out=new(PN))
            ddem = add_into(ddem, d)
        else:
            d = zeros()
        if hit:
            # events: capacity lost per tranche eats its spare first, then its use, which is re-served from
            # the remaining spare (cheapest first) like extra demand
            los, xs, ss, Es, losts = [], [], [], [], []
            lost_tot = None
            dE = None  # spare lost so far (shifts the thresholds of the dearer tranches)
            for c in cols:
                Es.append(c.E if dE is None else np.subtract(c.E, dE, out=new(PN)))
                mine = [e for e in hit if e in c.losses]
                if not mine:
                    los.append(None)
                    losts.append(None)
                    xs.append(c.x)
                    ss.append(c.s)
                    continue
                if len(mine) == 1:
                    occ = ev[mine[0]]
                    lo = np.multiply(c.losses[mine[0]], occ, out=new(PN))
                    lost = np.multiply(c.lost_use[mine[0]], occ, out=new(PN)) if c.lost_use[mine[0]].any() else None
                    gone = (np.multiply(c.lost_spare[mine[0]], occ, out=new(PN)) if c.lost_spare[mine[0]].any()
                            else None)
                else:
                    lo = zeros()
                    for e in mine:
                        lo += np.multiply(c.losses[e], ev[e], out=buf)
                    lost = np.subtract(lo, c.s, out=new(PN))
                    np.maximum(lost, 0.0, out=lost)
                    gone = np.minimum(lo, c.s, out=new(PN))
                los.append(lo)
                losts.append(lost)
                ss.append(c.s if gone is None else np.subtract(c.s, gone, out=new(PN)))
                if gone is not None:
                    dE = add_into(dE, gone)
                xs.append(c.x if lost is None else np.subtract(c.x, lost, out=new(PN)))
                if lost is not None:
                    lost_tot = add_into(lost_tot, lost)
                if c.committed:
                    dloss_c = add_into(dloss_c, lo)
            dd = np.add(d, lost_tot, out=new(PN)) if lost_tot is not None else d
            S = der.S[j] if dE is None else np.subtract(der.S[j], dE, out=new(PN))
            Cs = [None] * len(cols)
            dC = None  # use lost by the dearer tranches (shifts where cuts start)
            for k in range(len(cols) - 1, -1, -1):
                Cs[k] = cols[k].C if dC is None else np.subtract(cols[k].C, dC, out=new(PN))
                if losts[k] is not None:
                    dC = add_into(dC, losts[k])
        else:
            los = losts = [None] * len(cols)
            xs = [c.x for c in cols]
            ss = [c.s for c in cols]
            Es = [c.E for c in cols]
            Cs = [c.C for c in cols]
            S = der.S[j]
            dd = d
        nd = np.negative(dd, out=new(PN))
        for k, c in enumerate(cols):
            du = None
            if c.s.any():
                if Es[k] is c.E and c.E_zero:  # the cheapest tranche: extra use starts at once
                    du = np.clip(dd, 0.0, ss[k], out=new(PN))
                else:
                    du = np.subtract(dd, Es[k], out=new(PN))
                    np.clip(du, 0.0, ss[k], out=du)
            if c.x.any():
                np.subtract(nd, Cs[k], out=buf)
                np.clip(buf, 0.0, xs[k], out=buf)
                if du is None:
                    du = np.negative(buf, out=new(PN))
                else:
                    du -= buf
            if losts[k] is not None:  # use lost to the event
                if du is None:
                    du = np.negative(losts[k], out=new(PN))
                else:
                    du -= losts[k]
            if du is None:
                continue
            if c.committed:
                duc = add_into(duc, du)
            if c.priced:
                if c.group:
                    g = group_du.get(c.group)
                    if g is None:
                        group_du[c.group] = np.multiply(c.p, du, out=new(PN))
                    else:
                        g += np.multiply(c.p, du, out=buf)
                else:
                    dcost += np.multiply(c.p, du, out=buf)
        # unmet: u0 + max(Δ' − spare, 0) − min(max(−Δ', 0), u0)
        dunmet = np.subtract(dd, S, out=new(PN))
        np.maximum(dunmet, 0.0, out=dunmet)
        np.clip(nd, 0.0, der.u0[j], out=buf)
        dunmet -= buf
        dunm = add_into(dunm, dunmet)
        if w.revenue_per_h100e_hour:
            dserved = np.subtract(d, dunmet, out=new(PN))
            if fr is not None:
                served0 = der.D[j] - der.u0[j]
                dserved += served0
                dserved *= fr
                dserved -= served0
            dserved *= w.revenue_per_h100e_hour
            drev = add_into(drev, dserved)
    # prices: Σ_k p_k (g · (x_k + Δu_k) − x_k) = g · Σ p Δu + (g − 1) · Σ p x, per driver group
    for grp, base in der.group_base.items():
        dcost += np.multiply(base, fac.minus_one(grp), out=buf)
        if grp in group_du:
            dcost += np.multiply(fac.product(grp), group_du[grp], out=buf)
    for grp, gdu in group_du.items():
        if grp not in der.group_base:
            dcost += np.multiply(fac.product(grp), gdu, out=buf)
    for series, names in model.energy:
        fm1 = fac.minus_one(names)
        if fm1 is not None:
            dcost += np.multiply(series[:, None], fm1, out=buf)
    dcf = np.negative(dcost, out=new(PN))
    for series, names in model.other_costs:
        fm1 = fac.minus_one(names)
        if fm1 is not None:
            dcf -= np.multiply(series[:, None], fm1, out=buf)
    fm1 = fac.minus_one(model.exogenous_revenue_drivers)
    if fm1 is not None:
        dcf += np.multiply(model.exogenous_revenue[:, None], fm1, out=buf)
    for en, occ in ev.items():
        cash = model.event_cash[en]
        if cash["cost"].any():
            np.multiply(cash["cost"][:, None], occ, out=buf)
            dcost += buf
            dcf -= buf
        if cash["equity"].any():
            dcf += np.multiply(cash["equity"][:, None], occ, out=buf)
        for site_pos, saved in model.event_energy[en]:
            g = fac.product(model.energy[site_pos][1])
            np.multiply(saved[:, None], occ, out=buf)
            if g is not None:
                buf *= g
            dcost -= buf
            dcf += buf
    if drev is not None:
        dcf += drev
    cash_flow = np.add(dcf, model.cash_flow[:, None], out=new(PN))
    for t in range(1, P):  # cumulative sum over periods, row by row (np.cumsum along axis 0 is ~20× slower)
        np.add(dcf[t - 1], dcf[t], out=dcf[t])
    cash = dcf
    cash += model.cash[:, None]
    # fractions: a denominator of 0 has a numerator of 0 (unmet ≤ demand, stranded ≤ capacity): 0 / tiny = 0
    tiny = np.finfo(float).tiny
    dem = np.add(ddem, der.Dtot, out=ddem) if ddem is not None else np.broadcast_to(der.Dtot, PN)
    if dunm is not None:
        unmet_fraction = np.add(dunm, der.U0, out=dunm)
    else:
        unmet_fraction = new(PN)
        np.copyto(unmet_fraction, der.U0)
    unmet_fraction /= np.maximum(dem, tiny, out=buf)
    cap = np.subtract(der.CC0, dloss_c, out=dloss_c) if dloss_c is not None else np.broadcast_to(der.CC0, PN)
    use = np.add(duc, der.UC0, out=duc) if duc is not None else np.broadcast_to(der.UC0, PN)
    stranded_fraction = np.subtract(cap, use, out=new(PN))
    np.maximum(stranded_fraction, 0.0, out=stranded_fraction)
    stranded_fraction /= np.maximum(cap, tiny, out=buf)
    # net present cost of compute: the plan's plus the discounted change
    npc = new((n,))
    npc.fill(model.npc)
    tmp = new((n,))
    for t in range(P):
        npc += np.multiply(dcost[t], model.discount_factor[t], out=tmp)
    gap = np.min(cash, axis=0, out=new((n,)))
    np.negative(gap, out=gap)
    np.maximum(gap, 0.0, out=gap)
    neg = np.less(cash, 0.0, out=new(PN, bool))
    if model.year_starts is None:
        by_year = neg
    else:
        by_year = np.logical_or.reduceat(neg, model.year_starts, axis=0)  # a new array: neg stays as it is
    below = np.count_nonzero(by_year, axis=1)
    for t in range(1, by_year.shape[0]):  # below zero at some point up to the year's end
        np.logical_or(by_year[t - 1], by_year[t], out=by_year[t])
    below_by = np.count_nonzero(by_year, axis=1)
    return chunk_result(start, n, cash, cash_flow, unmet_fraction, stranded_fraction, npc, gap, below, below_by,
                        paths_out)


