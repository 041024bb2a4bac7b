"""Contracts: a contract's ramp and its schedule (chips in service, payments owed, price of use), the
contracts table, and vendor supply deals (chips delivered per period, firm minimum purchases)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gigawatt.errors import did_you_mean
from gigawatt.periods import label_start
from gigawatt.portfolio.accelerators import need
from gigawatt.portfolio.context import BuildContext, term_end


def ramp_level(ctx: BuildContext, cname: str, c, cover: np.ndarray) -> np.ndarray:
    if c.ramp == "flat":
        return (cover > 0).astype(float)
    ctx.check_periods(list(c.ramp), "contracts", cname, "ramp")
    in_term = [p for p, cv in zip(ctx.horizon.labels, cover) if cv > 0]
    missing = [p for p in in_term if p not in c.ramp]
    if missing:
        ctx.problem("ramp does not name every period of the term", ("contracts", cname, "ramp"),
                     value=", ".join(missing), expected=f"a share for each of {', '.join(in_term)}",
                     fix="add the missing periods (0 is allowed), or use ramp: flat")
    return np.array([c.ramp.get(p, 0.0) for p in ctx.horizon.labels])


def payment_weight(ctx: BuildContext, c, cover: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Share of a contract's value paid in each period: its capacity-hours (hours × coverage × ramp level)
    over those of the whole term, the hours past the horizon at the term's last ramp level. Weighting
    each level by the time it covers makes the payments of the whole term sum to the value."""
    used = ctx.hours * cover * level
    t0 = label_start(c.start)
    horizon_end = ctx.horizon_end
    beyond_h = max(0.0, (term_end(t0, c.term) - max(horizon_end, t0)) / pd.Timedelta(hours=1))
    in_term = level[cover > 0]
    total = float(used.sum()) + beyond_h * (float(in_term[-1]) if len(in_term) else 1.0)
    if total > 0:
        return used / total
    term_h = float((ctx.hours * cover).sum()) + beyond_h  # a ramp of zeros: spread over time alone
    return ctx.hours * cover / term_h if term_h > 0 else np.zeros_like(used)


def contract_schedule(ctx: BuildContext, cname: str, c, accel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
    """Chips in service, payments owed whether used or not (USD), and price per chip-hour used."""
    cover = ctx.coverage(c.start, c.term)
    horizon_end = ctx.horizon_end
    if label_start(c.start) >= horizon_end:  # a start inside the last period is inside the horizon
        ctx.problem("contract starts after the horizon ends", ("contracts", cname, "start"),
                     value=c.start, expected=f"a start before {horizon_end.date()} (the end of {ctx.horizon.labels[-1]})",
                     fix="extend the horizon or drop the contract")
    level = ramp_level(ctx, cname, c, cover)
    if c.power:
        pue = 1.0
        full = c.power * 1e3 / (accel.at[c.accelerator, "all_in_power_kw"] * pue)
        cap = full * level * cover
    elif c.chips:
        cap = c.chips * level * cover
    else:
        cap = None
    hours_used = ctx.hours * cover * level
    if c.value is not None:
        payments = c.value * payment_weight(ctx, c, cover, level)
        if cap is None:
            cap = np.divide(payments, c.price * ctx.hours, out=np.zeros_like(payments), where=ctx.hours > 0)
    else:
        price = c.price if c.price is not None else accel.at[c.accelerator, "committed_price_usd_per_chip_hour"]
        if pd.isna(price):
            ctx.problem(f"contract '{cname}' has neither value nor price", ("contracts", cname),
                         expected="value (total USD) or price (USD/h per chip)",
                         fix="add value or price, or a committed_price for the accelerator")
            price = 0.0
        payments = cap * price * ctx.hours
    fixed = payments * c.take_or_pay
    total_chip_hours = cap * ctx.hours
    use_price = 0.0
    if c.take_or_pay < 1.0:
        ch = total_chip_hours.sum()
        use_price = float((payments.sum() * (1 - c.take_or_pay)) / ch) if ch > 0 else 0.0
    if not c.firm:
        # an option: nothing owed unless exercised; exercised capacity is paid at the average price
        ch = total_chip_hours.sum()
        use_price = float(payments.sum() / ch) if ch > 0 else 0.0
        fixed = np.zeros_like(fixed)
    return cap, fixed, use_price


CONTRACT_COLUMNS = ["contract", "counterparty", "kind", "accelerator", "start", "term_years", "value_usd",
                    "power_mw", "chips", "firm", "take_or_pay", "equity_per_gw_usd", "equity_max_usd", "warrants",
                    "source"]


def contract_rows(ctx: BuildContext) -> list[dict]:
    """One row per contract of the contracts table (``CONTRACT_COLUMNS``)."""
    rows = []
    for name, c in ctx.sc.contracts.items():
        rows.append({"contract": name, "counterparty": c.counterparty, "kind": c.kind,
                     "accelerator": c.accelerator, "start": c.start, "term_years": c.term,
                     "value_usd": c.value, "power_mw": c.power, "chips": c.chips, "firm": c.firm,
                     "take_or_pay": c.take_or_pay, "equity_per_gw_usd": c.equity_per_gw,
                     "equity_max_usd": c.equity_max, "warrants": c.warrants or "", "source": c.source})
    return rows


def contracts_from_rows(ctx: BuildContext, rows: list[dict]) -> pd.DataFrame:
    """The contracts table, indexed by ``contract``."""
    index = pd.Index([r["contract"] for r in rows], name="contract", dtype=None if rows else object)
    return pd.DataFrame(rows, columns=CONTRACT_COLUMNS[1:], index=index)


def contract_table(ctx: BuildContext) -> pd.DataFrame:
    return contracts_from_rows(ctx, contract_rows(ctx))


def build_deals(ctx: BuildContext, accel: pd.DataFrame):
    vendors = set(accel["vendor"].dropna())
    n = ctx.horizon.n
    rows = []
    minimum = pd.DataFrame(0.0, index=accel.index, columns=ctx.periods)
    for cname, c in ctx.sc.contracts.items():
        if c.kind != "supply":
            continue
        path = ("contracts", cname)
        if c.counterparty not in vendors:
            ctx.problem(f"unknown vendor '{c.counterparty}'", path + ("counterparty",), value=c.counterparty,
                         expected="a vendor of the catalog: " + ", ".join(sorted(vendors)),
                         fix="correct the name (supply contracts are with chip vendors)."
                         + did_you_mean(c.counterparty, vendors))
            continue
        fields = ["bf16_flop_per_s"] + (["all_in_power_kw"] if c.power else [])
        if not need(ctx, accel, c.accelerator, fields, f"by contract '{cname}'", path + ("accelerator",)):
            continue
        if accel.at[c.accelerator, "vendor"] != c.counterparty:
            ctx.problem(f"'{c.accelerator}' is not sold by '{c.counterparty}'", path + ("accelerator",),
                         value=c.accelerator, expected=f"an accelerator of vendor {c.counterparty}",
                         fix="correct the accelerator or the counterparty")
        cover = ctx.coverage(c.start, c.term)
        level = ramp_level(ctx, cname, c, cover)
        weight = level * cover * ctx.hours
        total_chips = c.chips if c.chips else c.power * 1e3 / accel.at[c.accelerator, "all_in_power_kw"]
        share = weight / weight.sum() if weight.sum() > 0 else weight
        per_period = total_chips * share  # delivered within the horizon
        if c.firm:
            minimum.loc[c.accelerator] += np.cumsum(per_period)
        rows.append({"contract": cname, "vendor": c.counterparty, "accelerator": c.accelerator,
                     "firm": c.firm, "chips_total": total_chips,
                     "power_mw_total": total_chips * accel.at[c.accelerator, "all_in_power_kw"] / 1e3
                     if not pd.isna(accel.at[c.accelerator, "all_in_power_kw"]) else np.nan,
                     "equity_per_gw_usd": c.equity_per_gw or 0.0, "equity_max_usd": c.equity_max or np.inf,
                     **{f"chips_{p}": v for p, v in zip(ctx.horizon.labels, per_period)}})
    deals = pd.DataFrame(rows)
    if len(deals):
        deals = deals.set_index("contract")
    _ = n
    return deals, minimum
