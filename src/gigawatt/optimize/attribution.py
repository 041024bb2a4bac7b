"""Attribution: which capacity served which workload, and what was idle, by a stated rule.

Where capacity is in surplus, the LP's dispatch (which chip serves which workload, which contract sits
idle) is degenerate: many dispatches reach the same optimum and the solver picks one by its path. Every
figure reported per provider, per workload or as idle is therefore computed here from quantities that do
not depend on that choice: the chips in service of each option, its economic cost, and the compute each
workload is served (demand − unmet). docs/finance.md ("Attribution") states the rule:

1. Use. Capacity paid whether used or not (owned chips, firm contracts: the pool) is taken as used at one
   common fraction u[t] per period, the smallest with which the period's served compute can still be
   delivered (rentals and options, paid only when used, count as fully used):
       u[t] = min u  s.t.  Σ_j e[j,w,t] y[j,w,t] ≥ D[w,t] ∀w,  Σ_w y[j,w,t] ≤ chips[j,t] · (u if j∈pool else 1),
       y ≥ 0 over the (option, workload) pairs the scenario allows.
   The minimum is unique (each period's u is minimised on its own), so the idle fraction of the pool,
   1 − u[t], does not depend on the solver. A second, small LP (the dispatch and u only) finds it.
2. Idle cost = Σ_{j∈pool} cost[j,t] × (1 − u[t]); the rest of the fleet's cost is shared among workloads in
   proportion to the H100-hours each is served (chip time on the reference chip, H[w,t] = D[w,t] / u_ref[w],
   the unit the marginal cost is quoted in): cost[w,t] = (Σ_j cost[j,t] − idle cost[t]) × H[w,t] / Σ_w H[w,t].
   Idle capacity = Σ_{j∈pool} chips[j,t] (1 − u[t]), as a fraction of all chips in service (by count, by
   power and by cost).
3. Compute attributed to option j (shares by provider or vendor "by compute"): its used chips
   chips[j,t] u[j,t] × ē[j,t], ē being its H100e-hours per chip averaged over the workloads it may serve,
   weighted by what each is served, scaled so that Σ_j A[j,t] = D[t].
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.optimize.solve import use_threads


def pool_use(*, chips: xr.DataArray, efficiency: xr.DataArray, served: xr.DataArray,
             pool: xr.DataArray) -> xr.DataArray:
    """u[t] of rule 1: the smallest common used fraction of the pool that still delivers what was served.

    ``efficiency`` is 0 where an option may not serve a workload. Returns a (period,) array in [0, 1]; 1
    where nothing of the pool is in service.

    The LP is small and solved once per plan (every sweep task): it is handed to HiGHS as arrays, without a
    linopy model (which cost more than the rest of the extraction on small models). Rows: served[w,t] (where
    something is served), pool[j,t] (pool options in service) and paid-per-use[j,t] (the others)."""
    k = 1e3  # kchips and MH100e-h keep the coefficients near 1
    c_da = (chips / k).clip(min=0.0).transpose("supply", "period")
    sup, per = c_da.indexes["supply"], c_da.indexes["period"]
    c = c_da.values
    e = (efficiency * k / 1e6).transpose("supply", "workload", "period").reindex(supply=sup, period=per)
    wl = e.indexes["workload"]
    e = e.values
    dem = (served / 1e6).clip(min=0.0).transpose("workload", "period").reindex(workload=wl, period=per).values
    pool_b = pool.astype(bool).reindex(supply=sup).values
    u = _min_pool_use(c, np.nan_to_num(e), np.nan_to_num(dem), pool_b)
    out = xr.DataArray(u / (1 - 1e-7), coords={"period": per})  # undo the tolerance: a fully used pool reads 1
    has_pool = c_da.where(xr.DataArray(pool_b, coords={"supply": sup}), 0.0).sum("supply") > 0
    return xr.where(has_pool, out.clip(0.0, 1.0), 1.0)


def _min_pool_use(c: np.ndarray, e: np.ndarray, dem: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Solve rule 1's LP over arrays: c (option, period), e (option, workload, period), dem (workload,
    period), pool (option,). Returns u (period,)."""
    import highspy

    n_j, n_w, n_t = e.shape
    mask = (e > 0) & (c[:, None, :] > 0)
    j, w, t = np.nonzero(mask)
    n_y = len(j)
    ucol = n_y + np.arange(n_t)  # u[t] after the y columns
    need = dem > (1e-9 * dem.max() if dem.size and dem.max() > 0 else 0.0)
    rows, cols, vals, lo, up = [], [], [], [], []
    # served: Σ_j e y ≥ dem (1 − 1e-7), for (w, t) with something served; rows without a term are dropped
    code = w * n_t + t
    keep = need[w, t]
    served_ids, r = np.unique(code[keep], return_inverse=True)
    rows.append(r), cols.append(np.flatnonzero(keep)), vals.append(e[mask][keep])
    lo.append(dem.reshape(-1)[served_ids] * (1 - 1e-7)), up.append(np.full(len(served_ids), np.inf))
    base = len(served_ids)
    # pool: Σ_w y[j,w,t] − c[j,t] u[t] ≤ 0 ; paid-per-use: Σ_w y[j,w,t] ≤ c[j,t]; for options in service
    live_j, live_t = np.nonzero(c > 0)
    jt = np.full((n_j, n_t), -1)
    jt[live_j, live_t] = base + np.arange(len(live_j))
    rows.append(jt[j, t]), cols.append(np.arange(n_y)), vals.append(np.ones(n_y))
    in_pool = pool[live_j]
    rows.append(jt[live_j, live_t][in_pool]), cols.append(ucol[live_t[in_pool]])
    vals.append(-c[live_j, live_t][in_pool])
    lo.append(np.full(len(live_j), -np.inf)), up.append(np.where(in_pool, 0.0, c[live_j, live_t]))
    r, cc, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    n_rows = base + len(live_j)
    order = np.lexsort((cc, r))
    r, cc, v = r[order], cc[order], v[order]
    starts = np.searchsorted(r, np.arange(n_rows)).astype(np.int32)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVars(n_y + n_t, np.zeros(n_y + n_t), np.concatenate([np.full(n_y, np.inf), np.ones(n_t)]))
    h.changeColsCost(n_t, ucol.astype(np.int32), np.ones(n_t))
    if n_rows:
        h.addRows(n_rows, np.concatenate(lo), np.concatenate(up), len(v), starts, cc.astype(np.int32), v)
    use_threads(None)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"attribution LP did not solve: {h.modelStatusToString(h.getModelStatus())}")
    return np.asarray(h.getSolution().col_value)[n_y:]


def attribute(*, chips: xr.DataArray, efficiency: xr.DataArray, served: xr.DataArray, cost: xr.DataArray,
              pool: xr.DataArray, power: xr.DataArray | None = None,
              u_ref: xr.DataArray | None = None) -> xr.Dataset:
    """Attribution of one plan (see the module's docstring for the rule).

    Parameters
    ----------
    chips
        (supply, period) chips in service.
    efficiency
        (supply, workload, period) H100e-hours one chip delivers per period serving the workload (0 where
        it may not).
    served
        (workload, period) H100e-hours served (demand − unmet).
    cost
        (supply, period) economic cost in USD (depreciation + energy + rentals + contract payments).
    pool
        (supply,) True where the cost is owed whether the capacity is used or not (owned, firm contract).
    power
        (supply, period) MW of the chips in service (for the idle fraction by power).
    u_ref
        (workload,) the H100's utilisation on each workload: the used cost is shared in proportion to the
        H100-hours served, D[w,t] / u_ref[w] (all workloads alike when not given).

    Returns
    -------
    xr.Dataset
        ``pool_use_fraction`` (period: u), ``idle_share`` (supply, period: 1 − u on the pool, 0 elsewhere),
        ``idle_chips`` (period), ``idle_fraction`` (period: idle chips / chips in service),
        ``idle_power_fraction`` (period), ``idle_cost_fraction`` (period: idle cost / the fleet's cost),
        ``attributed_h100e_hours`` (supply, period), ``cost_idle_usd`` (period),
        ``cost_by_workload_usd`` (workload, period).
    """
    d = served.clip(min=0.0)
    total = d.sum("workload")
    pool_b = pool.astype(bool)
    u = pool_use(chips=chips, efficiency=efficiency, served=d, pool=pool_b)
    u = xr.where(total > 0, u, 0.0)  # nothing served: all of the pool idle
    share = xr.where(pool_b, 1.0 - u, 0.0)
    chips_c = chips.clip(min=0.0)
    n_total = chips_c.sum("supply")
    idle_chips = (chips_c * share).sum("supply")
    # ē: H100e-hours per chip over the workloads the option may serve, weighted by what each is served
    can = efficiency > 0
    weight = d.where(can, 0.0)
    wsum = weight.sum("workload")
    e_bar = ((efficiency * weight).sum("workload") / wsum.where(wsum > 0)).fillna(0.0)
    att = chips_c * (1.0 - share) * e_bar
    att_sum = att.sum("supply")
    att = att * (total / att_sum.where(att_sum > 0)).fillna(0.0)
    cost_idle = (cost * share).sum("supply")
    fleet_cost = cost.sum("supply")
    hours = d / u_ref if u_ref is not None else d  # H100-hours: chip time on the reference chip
    h_total = hours.sum("workload")
    by_w = (fleet_cost - cost_idle) * (hours / h_total.where(h_total > 0)).fillna(0.0)

    def frac(num, den):
        return xr.where(den > 0, num / den.where(den > 0), 0.0)

    out = xr.Dataset({
        "pool_use_fraction": u,
        "idle_share": share.transpose("supply", "period"),
        "idle_chips": idle_chips,
        "idle_fraction": frac(idle_chips, n_total),
        "idle_cost_fraction": frac(cost_idle, fleet_cost),
        "attributed_h100e_hours": att.transpose("supply", "period"),
        "cost_idle_usd": cost_idle,
        "cost_by_workload_usd": by_w.transpose("workload", "period"),
    })
    if power is not None:
        out["idle_power_fraction"] = frac((power * share).sum("supply"), power.sum("supply"))
    return out


__all__ = ["attribute", "np"]
