"""The scenario format: pydantic v2 models, frozen, unknown keys rejected.

Quantities are strings with units ("4.5 GW", "38 billion USD", "2.35 USD/h") converted here to floats in
the canonical unit named in each field's description. Defaults live only here. Field descriptions become
the JSON Schema (``gigawatt schema``) and docs/scenario-format.md.

# long: one model per scenario section, in the order docs/scenario-format.md presents them; the file is
# the format's reference, read top to bottom. Splitting it by section is the next step once the input
# limits being added on another branch have landed (issue 10).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from gigawatt import units
from gigawatt.periods import label_step, normalise_label
from gigawatt.scenario import limits

# --- field types ----------------------------------------------------------------------------------------


def _quantity(value: Any, *, unit: str, plain_ok: bool, positive: bool = False) -> float:
    try:
        out = units.parse(value, unit, plain_ok=plain_ok)
    except units.UnitError as exc:
        raise PydanticCustomError("quantity", "{msg}", {"msg": str(exc), "unit": unit}) from None
    if out < 0:
        raise PydanticCustomError("quantity", "{msg}", {
            "msg": "a quantity ≥ 0 (capacities, prices and times cannot be negative)",
            "fix": "drop the minus sign or use 0"})
    _in_range(out, unit)
    if positive and out == 0:
        raise PydanticCustomError("quantity", "{msg}", {
            "msg": "a quantity > 0 (other figures are divided by it)", "fix": "write a positive value"})
    return out


def _in_range(value: float, unit: str) -> None:
    """Refuse a quantity outside the plausible range of its kind (limits.RANGES)."""
    expected = limits.out_of_range(value, unit)
    if expected:
        raise PydanticCustomError("quantity", "{msg}", {
            "msg": expected, "fix": "check the figure and its unit (a typo in the exponent or the multiplier?)"})


def Quantity(unit: str, *, plain_ok: bool = False, positive: bool = False, description: str = "") -> Any:
    """A float in ``unit``, read from a string with a unit (or a bare number when ``plain_ok``); > 0 when
    ``positive``."""
    hint = f"Quantity of {units.describe(unit)}, e.g. \"{units.example(unit)}\"; stored in {unit}."
    if plain_ok:
        hint += f" A bare number is read as {unit}."
    if positive:
        hint += " Must be > 0."
    return Annotated[
        float,
        BeforeValidator(partial(_quantity, unit=unit, plain_ok=plain_ok, positive=positive)),
        WithJsonSchema({"type": ["string", "number"] if plain_ok else "string", "description": hint,
                        **_pattern(unit, plain_ok), "x-unit": unit}),
    ]


def _pattern(unit: str, plain_ok: bool) -> dict:
    """The JSON Schema ``pattern`` of a quantity string of ``unit`` (scenario/patterns.py), if it has one."""
    from gigawatt.scenario.patterns import quantity_pattern

    pattern = quantity_pattern(unit, plain_ok)
    return {"pattern": pattern} if pattern else {}


def _percent() -> dict:
    from gigawatt.scenario.patterns import PERCENT

    return {"pattern": PERCENT}


def _fraction(value: Any) -> float:
    try:
        out = units.parse(value, "", plain_ok=True)
    except units.UnitError as exc:
        raise PydanticCustomError("fraction", "{msg}", {"msg": f"a fraction such as 0.75 or '75%' ({exc})"}) from None
    if not 0.0 <= out <= 1.0:
        raise PydanticCustomError("fraction", "{msg}", {"msg": f"a fraction between 0 and 1 (or 0%–100%), got {out!r}"})
    return out


Fraction = Annotated[
    float,
    BeforeValidator(_fraction),
    WithJsonSchema({"type": ["number", "string"], "description": "A fraction: 0.75 or \"75%\".", **_percent()}),
]


def _positive_fraction(value: Any) -> float:
    out = _fraction(value)
    if out == 0:
        raise PydanticCustomError("fraction", "{msg}", {
            "msg": "a fraction above 0 and at most 1 (revenue and demand in H100-hours are divided by it)",
            "fix": "write a positive share, or exclude the accelerator with the workload's accelerators list"})
    return out


PositiveFraction = Annotated[
    float,
    BeforeValidator(_positive_fraction),
    WithJsonSchema({"type": ["number", "string"], "description": "A fraction above 0: 0.75 or \"75%\".", **_percent()}),
]


def _period(value: Any) -> str:
    label = normalise_label(value)
    if label_step(label) is None:
        raise PydanticCustomError(
            "period", "{msg}", {"msg": "a period: a year (2027), a quarter (2027Q3) or a month (2027-07)"})
    return label


Period = Annotated[str, BeforeValidator(_period),
                   WithJsonSchema({"type": ["integer", "string"], "description": "A period: 2027, 2027Q3 or 2027-07."})]


@dataclass(frozen=True)
class SeriesSpec:
    """A value per period, as written; resolved against the horizon by the portfolio.

    kind 'constant': ``value`` in every period. kind 'exact': ``points`` must name every period.
    kind 'points': ``points`` interpolated with ``method`` (linear, geometric or step). kind 'growth':
    ``value`` at ``base_period`` growing by ``growth_per_year``. ``unit`` is the canonical unit matched.
    """

    kind: str
    unit: str
    value: float = 0.0
    points: tuple[tuple[str, float], ...] = ()
    method: str = "exact"
    base_period: str = ""
    growth_per_year: float = 0.0


def _series(value: Any, *, units_allowed: tuple[str, ...], plain_ok: bool) -> SeriesSpec:
    def one(v: Any) -> tuple[float, str]:
        try:
            x, u = units.try_parse(v, list(units_allowed), plain_ok=plain_ok)
        except units.UnitError as exc:
            raise PydanticCustomError("quantity", "{msg}", {"msg": str(exc)}) from None
        if x < 0:
            raise PydanticCustomError("quantity", "{msg}", {
                "msg": "a quantity ≥ 0 (capacities, prices and demands cannot be negative)",
                "fix": "drop the minus sign or use 0"})
        _in_range(x, u)
        return x, u

    def keyed(mapping: dict) -> tuple[tuple[tuple[str, float], ...], str]:
        if not mapping:
            raise PydanticCustomError("series", "{msg}", {"msg": "at least one period: value pair"})
        out, unit = [], None
        for k, v in mapping.items():
            label = normalise_label(k)
            if label_step(label) is None:
                raise PydanticCustomError("series", "{msg}", {
                    "msg": f"period keys such as 2027, 2027Q3 or 2027-07; {k!r} is not a period"})
            try:
                x, u = one(v)
            except PydanticCustomError as exc:
                ctx = exc.context or {}
                raise PydanticCustomError("quantity", "{msg}", {"msg": f"at period {label}: {ctx.get('msg', exc)}",
                                                                **({"fix": ctx["fix"]} if "fix" in ctx else {})}) from None
            if unit is not None and u != unit:
                raise PydanticCustomError("series", "{msg}", {
                    "msg": f"every value of a series in the same kind of unit ({units.describe(unit)}); "
                           f"{k!r} is in {units.describe(u)}"})
            unit = u
            out.append((label, x))
        return tuple(out), unit  # type: ignore[return-value]

    if isinstance(value, SeriesSpec):
        return value
    if isinstance(value, dict):
        keys = set(map(str, value))
        if "points" in keys:
            extra = keys - {"points", "interpolate"}
            if extra:
                raise PydanticCustomError("series", "{msg}", {"msg": f"only 'points' and 'interpolate', not {sorted(extra)}"})
            method = value.get("interpolate", "linear")
            if method not in ("linear", "geometric", "step"):
                raise PydanticCustomError("series", "{msg}", {
                    "msg": f"interpolate: one of linear, geometric, step (got {method!r})"})
            if not isinstance(value["points"], dict):
                raise PydanticCustomError("series", "{msg}", {"msg": "points: a mapping of period to value"})
            pts, unit = keyed(value["points"])
            return SeriesSpec(kind="points", unit=unit, points=pts, method=method)
        if "base" in keys:
            extra = keys - {"base", "base_period", "growth_per_year"}
            if extra or "base_period" not in keys or "growth_per_year" not in keys:
                raise PydanticCustomError("series", "{msg}", {
                    "msg": "a growth series needs exactly base, base_period and growth_per_year"})
            x, unit = one(value["base"])
            growth = _fraction_signed(value["growth_per_year"])
            return SeriesSpec(kind="growth", unit=unit, value=x, base_period=_period(value["base_period"]),
                              growth_per_year=growth)
        pts, unit = keyed(value)
        return SeriesSpec(kind="exact", unit=unit, points=pts)
    if isinstance(value, list):
        raise PydanticCustomError("series", "{msg}", {
            "msg": "a mapping of period to value (2027: '1 GW'), not a list"})
    x, unit = one(value)
    return SeriesSpec(kind="constant", unit=unit, value=x)


def _fraction_signed(value: Any) -> float:
    try:
        out = units.parse(value, "", plain_ok=True)
    except units.UnitError as exc:
        raise PydanticCustomError("fraction", "{msg}", {"msg": f"a growth rate such as 0.4 or '40%' ({exc})"}) from None
    expected = limits.growth_out_of_range(out)
    if expected:
        raise PydanticCustomError("fraction", "{msg}", {"msg": expected, "fix": "write a plausible rate ('40%')"})
    return out


def Series(*units_allowed: str, plain_ok: bool = False) -> Any:
    """A value per period in one of ``units_allowed`` (see :class:`SeriesSpec` for the forms)."""
    hint = (f"A series in {' or '.join(units.describe(u) for u in units_allowed)}: one quantity for every period "
            f"(\"{units.example(units_allowed[0])}\"), a mapping naming every period ({{2026: ..., 2027: ...}}), "
            "{points: {...}, interpolate: linear|geometric|step}, or {base, base_period, growth_per_year}.")
    if plain_ok:
        hint += f" A bare number is read as {units_allowed[0]}."
    return Annotated[
        SeriesSpec,
        BeforeValidator(partial(_series, units_allowed=units_allowed, plain_ok=plain_ok)),
        WithJsonSchema({"description": hint, "anyOf": _series_forms(units_allowed, plain_ok)}),
    ]


def _series_forms(units_allowed: tuple[str, ...], plain_ok: bool) -> list[dict]:
    """A series in JSON Schema: one quantity string (its dimension's pattern), a number where bare numbers
    are read, or a mapping (per period, points, or growth; checked by gigawatt validate)."""
    from gigawatt.scenario.patterns import quantity_pattern

    pats = [quantity_pattern(u, plain_ok and i == 0) for i, u in enumerate(units_allowed)]
    forms = [{"type": "string", "pattern": "|".join(f"({p})" for p in pats if p)}, {"type": "object"}]
    return forms + ([{"type": "number"}] if plain_ok else [])


def _name_ok(names: dict) -> dict:
    if not isinstance(names, dict):
        return names  # pydantic says what type was expected
    for name in names:
        if "." in str(name) or not str(name).strip():
            raise PydanticCustomError("name", "{msg}", {
                "msg": f"names without dots or blanks (they form key paths); {name!r} is not one"})
    return names


class Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, use_attribute_docstrings=True,
                              defer_build=True)


# --- sections -----------------------------------------------------------------------------------------


class Meta(Base):
    name: str
    """Short name of the scenario (used in run names and reports)."""
    description: str = ""
    """What the scenario represents."""
    gigawatt_version: str | None = None
    """The gigawatt version the file was written for."""
    currency: Literal["USD"] = "USD"
    """Currency of every money figure. Only USD is supported."""
    base_year: int | None = None
    """Year whose dollars the figures are in (nominal figures as reported when unset)."""
    sources: dict[str, str] = {}
    """Source tags used by `source:` fields, mapped to a citation (URL and date)."""


class HorizonSpec(Base):
    start: Period
    """First period (2025, 2025Q1 or 2025-01)."""
    end: Period
    """Last period, included."""
    step: Literal["year", "quarter", "month"] = "year"
    """Length of a period. Keys of every series use this step."""
    discount_rate: Fraction = 0.0
    """Annual discount rate for net present cost, as a fraction (0.08 or '8%')."""

    @model_validator(mode="after")
    def _aligned(self) -> "HorizonSpec":
        for which in ("start", "end"):
            got = label_step(getattr(self, which))
            if got != self.step:
                raise PydanticCustomError("period", "{msg}", {
                    "msg": f"{which} written as a {got} ({getattr(self, which)!r}) but step is '{self.step}'; "
                           f"write it as a {self.step} label"})
        from gigawatt.periods import label_start
        if label_start(self.end) < label_start(self.start):
            raise PydanticCustomError("period", "{msg}", {"msg": f"end {self.end} before start {self.start}"})
        if label_start(self.end).year - label_start(self.start).year >= limits.MAX_HORIZON_YEARS:
            raise PydanticCustomError("period", "{msg}", {
                "msg": f"a horizon of at most {limits.MAX_HORIZON_YEARS} years; {self.start}–{self.end} is longer",
                "fix": "end the horizon earlier"})
        return self


class Accelerator(Base):
    """Overrides of a catalog accelerator, or a new accelerator (then `base` or every figure it needs)."""

    base: str | None = None
    """Catalog id to copy figures from before applying these (for a new accelerator)."""
    name: str | None = None
    vendor: str | None = None
    """Who sells it: nvidia, amd, google, aws, broadcom, ..."""
    available: Period | None = None
    """First month of volume availability (YYYY-MM)."""
    bf16_flops: Quantity("FLOP/s") | None = None
    """Dense BF16 peak per chip."""
    fp8_flops: Quantity("FLOP/s") | None = None
    """Dense FP8 peak per chip."""
    fp4_flops: Quantity("FLOP/s") | None = None
    """Dense FP4 peak per chip (NVFP4/MXFP4)."""
    all_in_power: Quantity("kW", positive=True) | None = None
    """Facility power per chip, host, network and cooling included, at the reference PUE 1.14."""
    purchase_price: Quantity("USD") | None = None
    """Price per chip installed (server share included)."""
    rental_price: Quantity("USD/hour") | None = None
    """On-demand cloud price per chip-hour."""
    committed_price: Quantity("USD/hour") | None = None
    """Committed (reserved) cloud price per chip-hour."""
    utilisation_training: PositiveFraction | None = None
    """Useful model FLOP/s delivered for training, as a fraction of the dense peak at the workload's precision."""
    utilisation_inference: PositiveFraction | None = None
    """Useful model FLOP/s delivered for inference, as a fraction of the dense peak at the workload's precision."""
    useful_life: Quantity("year") | None = None
    """Years a chip serves before it retires (also its depreciation life)."""
    purchase_max: Series("chip", plain_ok=True) | None = None
    """Most chips that can be bought per period on the open market (absent: no market limit)."""
    source: str | None = None
    notes: str | None = None


class Offer(Base):
    """What a cloud provider rents: one accelerator."""

    on_demand_price: Quantity("USD/hour") | None = None
    """Price per chip-hour rented without commitment (default: the accelerator's rental price)."""
    committed_price: Quantity("USD/hour") | None = None
    """Price per chip-hour under a capacity contract (default: the accelerator's committed price)."""
    available: Series("chip", plain_ok=True) | None = None
    """Most chips rentable on demand per period (absent: no limit)."""
    source: str | None = None


class Ownership(Base):
    """Who pays for a joint venture's sites: the lab its equity share, the partners the rest; the lab pays
    the JV an offtake price for the partners' share of the capacity it uses (docs/finance.md, "Joint ventures")."""

    lab_share: Fraction
    """The lab's equity share of the sites' capex (chips and facility) and energy; the partners pay the rest."""
    offtake_price: dict[str, Quantity("USD/hour")] = {}
    """Price per chip-hour the JV charges for capacity in service, by accelerator id (default: the JV's
    levelised cost at partner_return: capex annuities of chip and facility, plus energy)."""
    partner_return: Fraction | None = None
    """Annual return the partners earn in the default offtake price (default: horizon.discount_rate)."""
    source: str | None = None
    notes: str | None = None


class Provider(Base):
    kind: Literal["cloud", "neocloud", "owned", "joint_venture"]
    """cloud and neocloud rent capacity (offers); owned and joint_venture build sites."""
    offers: Annotated[dict[str, Offer], BeforeValidator(_name_ok)] = {}
    """Accelerators rentable on demand, by accelerator id."""
    sites: list[str] = []
    """Names of the sites (owned and joint_venture providers) this provider builds."""
    ownership: Ownership | None = None
    """joint_venture: the lab's share of its sites and the offtake price (default: the lab owns 100%)."""
    description: str = ""
    source: str | None = None
    notes: str | None = None


class Site(Base):
    power_max: Series("MW")
    """Facility power that can be energised by each period (a cumulative envelope)."""
    power_existing: Series("MW") | None = None
    """Facility power already energised in each period, paid for before the horizon (default none)."""
    build_cost: Quantity("USD/MW")
    """Overnight cost of facility (building, power, cooling; IT excluded) per MW."""
    lead_time: Quantity("month") = 0.0
    """Months from the horizon start before new power can be energised here."""
    pue: Annotated[float, Field(ge=1.0, le=3.0)] = 1.14
    """Power usage effectiveness; all-in chip power is scaled by pue / 1.14 (catalog reference)."""
    energy_price: Quantity("USD/MWh")
    """Price of electricity at the site."""
    accelerators: list[str]
    """Accelerator ids that can be installed here."""
    facility_life: Quantity("year") = 14.0
    """Depreciation life of the facility (default 14 years: Epoch TCO model [S31], hardware.md §3.7)."""
    ownership: Ownership | None = None
    """The lab's share of this site, when it differs from its provider's ownership."""
    location: str | None = None
    source: str | None = None
    notes: str | None = None


class Deferral(Base):
    """The right to pay part of a contract's payments later, at a penalty (`gigawatt exposure RUN --risk
    --policy defer`; docs/exposure.md)."""

    max_share: PositiveFraction
    """Largest share of each period's payment of the contract that may be deferred."""
    penalty: Fraction = 0.0
    """Paid on top of a deferred amount when it is repaid, as a share of that amount."""
    delay: Quantity("year", positive=True)
    """How long a deferred payment waits before it is repaid with its penalty (beyond the horizon: unpaid in it)."""
    notice: Quantity("year") = 0.0
    """Time from the lab's notice (served the first period its cash falls below the floor) to the first deferral."""


class Termination(Base):
    """The right to end a contract early for a fee (`gigawatt exposure RUN --risk --policy terminate`;
    docs/exposure.md)."""

    fee: Fraction
    """Paid to end the contract, as a share of its remaining value (payments from the effective date to the term's end)."""
    notice: Quantity("year") = 0.0
    """Time from the lab's notice to the termination taking effect (payments stop, the fee is paid)."""


class Renegotiation(Base):
    """What changing a capacity contract costs the lab. Terms are rarely published: label assumed ones."""

    deferral: Deferral | None = None
    """Deferral of payments."""
    termination: Termination | None = None
    """Termination at a fee."""
    source: str
    """Where the terms come from (a URL and date, a meta.sources tag, or 'assumption: ...')."""

    @model_validator(mode="after")
    def _some_terms(self) -> "Renegotiation":
        if self.deferral is None and self.termination is None:
            raise PydanticCustomError("renegotiation", "{msg}", {
                "msg": "renegotiation needs deferral or termination terms (or both)",
                "fix": "add deferral: {max_share, penalty, delay, notice} or termination: {fee, notice}"})
        return self


class Contract(Base):
    """A firm commitment or an option: capacity from a provider, or chip supply from a vendor."""

    counterparty: str
    """A provider name (kind capacity) or a vendor (kind supply)."""
    kind: Literal["capacity", "supply"]
    """capacity: compute rented from a provider; supply: chips bought from a vendor."""
    accelerator: str
    """Accelerator id delivered."""
    start: Period
    """First period of the contract."""
    term: Quantity("year", positive=True)
    """Length of the contract."""
    value: Quantity("USD") | None = None
    """Total payments over the term (capacity), paid on the ramp's schedule."""
    power: Quantity("MW") | None = None
    """Capacity at full ramp (capacity), or power of chips delivered over the term (supply)."""
    chips: Quantity("chip", plain_ok=True) | None = None
    """Chips at full ramp (capacity), or chips delivered over the term (supply)."""
    price: Quantity("USD/hour") | None = None
    """Price per chip-hour (capacity): converts `value` into chips, or chips into payments."""
    ramp: Literal["flat"] | Annotated[dict[str, Fraction], BeforeValidator(lambda d: {normalise_label(k): v for k, v in d.items()} if isinstance(d, dict) else d)] = "flat"
    """'flat', or per period the share of full capacity in service (capacity) or of the total delivered (supply)."""
    take_or_pay: Fraction = 1.0
    """Share of the payments owed whether the capacity is used or not (capacity)."""
    firm: bool = True
    """Firm: capacity and payments are fixed. Not firm: an option the planner may leave unused."""
    equity_per_gw: Quantity("USD/GW") | None = None
    """Equity the counterparty invests per GW deployed (supply)."""
    equity_max: Quantity("USD") | None = None
    """Cap on that equity."""
    warrants: str | None = None
    """Warrant terms, recorded for the report (not valued)."""
    source: str
    """Where the figures were published (URL and date, or a tag defined under meta.sources)."""
    notes: str | None = None
    renegotiation: Renegotiation | None = None
    """Terms on which the lab may defer the contract's payments or end it (capacity contracts only)."""

    @model_validator(mode="after")
    def _amount(self) -> "Contract":
        if self.kind == "capacity" and not (self.power or self.chips or (self.value and self.price)):
            raise PydanticCustomError("contract", "{msg}", {
                "msg": "a capacity contract needs power, chips, or value together with price"})
        if self.kind == "supply" and not (self.power or self.chips):
            raise PydanticCustomError("contract", "{msg}", {"msg": "a supply contract needs power or chips"})
        if self.kind == "supply" and self.renegotiation is not None:
            raise PydanticCustomError("contract", "{msg}", {
                "msg": "renegotiation terms only on capacity contracts (a supply contract's chips are paid as capex)",
                "fix": "remove renegotiation from this contract"})
        if isinstance(self.ramp, dict) and self.ramp and max(self.ramp.values()) == 0:
            raise PydanticCustomError("contract", "{msg}", {
                "msg": "a ramp with at least one period above 0 (payments are spread over the ramp)",
                "fix": "give the ramp a positive share, or remove the contract"})
        return self


class Workload(Base):
    kind: Literal["training", "inference", "research"]
    """Sets which utilisation applies (research uses the training figure)."""
    demand: Series("FLOP", "FLOP/s", "H100_hour")
    """Useful compute per period: FLOP in the period, a sustained FLOP/s, or H100-hours (an H100 at the workload's utilisation and precision)."""
    precision: Literal["bf16", "fp8", "fp4"] = "bf16"
    """Number format of the workload's tensor maths: sets which dense peak of each chip counts, and the H100e it is counted in (an H100 at this precision). A chip without a figure at this precision counts at the next wider one it has (fp4 → fp8 → bf16)."""
    utilisation: PositiveFraction | None = None
    """Model FLOPs utilisation on every chip serving it, as a fraction of the dense peak at its precision (default: each chip's catalog utilisation for the kind). Give a source or say it is an assumption."""
    accelerators: list[str] | None = None
    """Accelerator ids that may serve it (default: all)."""
    providers: list[str] | None = None
    """Providers that may serve it (default: all)."""
    unmet_penalty: Quantity("USD/H100_hour") | None = None
    """Penalty per H100-hour of demand left unserved (default: config.solve.unmet_penalty)."""
    revenue_per_h100_hour: Quantity("USD/H100_hour") | None = None
    """Revenue earned per H100-hour of this workload served (finance)."""
    source: str | None = None
    notes: str | None = None


class Funding(Base):
    period: Period
    """Period the money is received (a loan: drawn at the period's start)."""
    amount: Quantity("USD")
    kind: Literal["equity", "debt", "grant"] = "equity"
    investor: str | None = None
    """Who pays it in; the name of a provider or vendor when the investor is also one (its money is then
    netted against what the lab pays it in `gigawatt exposure`)."""
    interest_rate: Fraction | None = None
    """debt: annual interest on the balance outstanding, paid each period (required for debt)."""
    term: Quantity("year", positive=True) | None = None
    """debt: years until the last repayment (required for debt)."""
    repayment: Literal["bullet", "amortising"] = "bullet"
    """debt: bullet = all principal in the term's last period; amortising = equal principal each period."""
    source: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _debt_terms(self) -> "Funding":
        if self.kind == "debt" and (self.interest_rate is None or self.term is None):
            raise PydanticCustomError("funding", "{msg}", {
                "msg": "a debt needs interest_rate and term (its interest and repayments are cash flows)",
                "fix": "add interest_rate (e.g. 6%) and term (e.g. 3 years), or make it kind: equity"})
        if self.kind != "debt" and (self.interest_rate is not None or self.term is not None):
            raise PydanticCustomError("funding", "{msg}", {
                "msg": f"interest_rate and term apply to debt only, not to {self.kind}",
                "fix": "remove them, or set kind: debt"})
        return self


class Finance(Base):
    starting_cash: Quantity("USD") = 0.0
    """Cash at the start of the horizon."""
    revenue: Series("USD") | None = None
    """Revenue per period (exogenous), on top of any per-unit workload revenue."""
    other_costs: Annotated[dict[str, Series("USD")], BeforeValidator(_name_ok)] = {}
    """Non-compute costs per period by name (staff, R&D, sales, revenue share)."""
    funding: Annotated[dict[str, Funding], BeforeValidator(_name_ok)] = {}
    """Financing inflows (equity rounds, debt) by name."""
    source: str | None = None
    notes: str | None = None


class ShareTarget(Base):
    """Share of delivered compute from a group of providers and/or vendors, bounded below and/or above."""

    providers: list[str] = []
    vendors: list[str] = []
    min_share: Fraction | None = None
    max_share: Fraction | None = None
    periods: list[Period] | None = None
    """Periods it applies to (default: every period)."""
    basis: Literal["compute", "power", "spend"] = "compute"
    """What the share is of: delivered compute (H100e-hours, the default), power of the chips in service (MW),
    or spend on capacity (chips bought and their energy, rentals, contract payments)."""
    source: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> "ShareTarget":
        if not self.providers and not self.vendors:
            raise PydanticCustomError("share", "{msg}", {"msg": "providers or vendors naming the group"})
        if self.min_share is None and self.max_share is None:
            raise PydanticCustomError("share", "{msg}", {"msg": "min_share or max_share"})
        if self.min_share is not None and self.max_share is not None and self.min_share > self.max_share:
            raise PydanticCustomError("share", "{msg}", {"msg": "min_share ≤ max_share"})
        return self


class Policy(Base):
    share_targets: Annotated[dict[str, ShareTarget], BeforeValidator(_name_ok)] = {}
    """Share targets and caps by name (a JV ≥ 75% in 2030; a vendor ≤ 80%)."""
    cash_floor: Quantity("USD") | None = None
    """The cash position may not fall below this in any period (requires finance)."""


class Driver(Base):
    """An uncertain multiplier: each Monte Carlo draw samples a factor (1 = the figure as written) that
    scales the targeted figures. See docs/risk.md."""

    target: Literal["demand", "revenue", "price", "lease_price", "contract_price", "energy_price", "other_costs"]
    """What it scales: workload demand; revenue (finance.revenue and per-unit workload revenue); prices paid
    per use (`price` = `lease_price` + `contract_price`: on-demand lease prices and contracts' per-use
    price; take-or-pay payments are fixed by contract); site energy prices; finance.other_costs entries."""
    applies_to: list[str] | None = None
    """Names it scales (default: all of the target). demand: workloads. revenue: workloads (their
    per-unit revenue) and/or `exogenous` (finance.revenue). price, lease_price, contract_price: providers,
    contracts, accelerators or supply options (`provider/accelerator`, `contract:name`). energy_price:
    sites. other_costs: entries of finance.other_costs."""
    distribution: Literal["normal", "lognormal", "triangular", "uniform", "empirical"]
    """Distribution of the factor; its parameters go in `params`."""
    params: dict[str, Annotated[float, Field(allow_inf_nan=False)] | list[Annotated[float, Field(allow_inf_nan=False)]]]
    """normal: mean, sd. lognormal: mean, sd of the log (factor = exp(N(mean, sd))). triangular: low, mode,
    high. uniform: low, high. empirical: values (equally likely). A factor below 0 counts as 0. Zero spread
    (sd 0, low = high, one value of 1) reproduces the deterministic plan exactly."""
    mode: Literal["level", "growth", "yearly"] = "level"
    """level: one factor per draw scales every period. growth: an independent factor per calendar year,
    compounding (year y is scaled by the product of the factors of years 0..y). yearly: an independent
    factor per year, not compounding."""
    source: str | None = None
    notes: str | None = None


class Event(Base):
    """A discrete event that happens in a draw with a probability (decided once per draw)."""

    kind: Literal["site_delay", "contract_failure", "vendor_replaced"]
    """site_delay: a site's power (and the chips installed there) arrives `delay` months late.
    contract_failure: a contract delivers nothing and is not paid (capacity: its chips; supply: its chips
    and the vendor's equity). vendor_replaced: a vendor's deals are replaced: its equity is lost and its
    chips cost `price_change` more."""
    probability: Fraction
    """Probability that it happens in a draw (0.2 or '20%')."""
    target: str
    """The site (site_delay), contract (contract_failure) or vendor (vendor_replaced) it hits."""
    delay: Quantity("month") | None = None
    """site_delay: how late the site's power arrives."""
    price_change: Annotated[float, BeforeValidator(_fraction_signed)] | None = None
    """vendor_replaced: relative change of the price of the vendor's chips bought in the plan (0.1 or
    '10%' = 10% dearer; default 0)."""
    source: str | None = None
    notes: str | None = None


class Correlation(Base):
    """A correlation between two drivers (or events), imposed through a Gaussian copula."""

    between: tuple[str, str]
    """Names of two drivers or events."""
    rho: Annotated[float, Field(ge=-1.0, le=1.0)]
    """Correlation of their underlying standard normals (per year for per-year drivers; a level driver or
    an event is correlated with the first year's factor of a per-year driver)."""


class Uncertainty(Base):
    """What is uncertain, for `gigawatt simulate` and `gigawatt sweep --draws`. See docs/risk.md."""

    drivers: Annotated[dict[str, Driver], BeforeValidator(_name_ok)] = {}
    """Uncertain multipliers by name."""
    events: Annotated[dict[str, Event], BeforeValidator(_name_ok)] = {}
    """Discrete events by name."""
    correlations: list[Correlation] = []
    """Pairwise correlations between drivers and events (the matrix must be positive semi-definite)."""
    draws: Annotated[int, Field(ge=1, le=100_000_000)] = 10_000
    """Default number of draws (`--draws` overrides)."""
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    """Default root seed (`--seed` overrides)."""
    stages: list[Annotated[int, Field(ge=1900, le=2200)]] | None = None
    """`gigawatt hedge` only: revelation years, increasing, after the horizon's first year and within it
    (e.g. [2027, 2029]). Absent: two stages (commit now, everything revealed at once). See docs/stochastic.md."""
    branching: list[Annotated[int, Field(ge=1, le=10_000)]] | None = None
    """`gigawatt hedge` only, with `stages`: branches of the scenario tree at each revelation year (e.g.
    [5, 4]: 5 × 4 = 20 futures; `--futures` must equal the product)."""

    @model_validator(mode="after")
    def _tree(self) -> "Uncertainty":
        s, b = self.stages, self.branching
        if s is None and b is None:
            return self
        if s is None or b is None:
            raise PydanticCustomError("tree", "{msg}", {
                "msg": "stages and branching go together: one branching per revelation year "
                       "(e.g. stages: [2027, 2029], branching: [5, 4])"})
        if not s or any(b_ <= a for a, b_ in zip(s, s[1:])):
            raise PydanticCustomError("tree", "{msg}", {
                "msg": f"stages must be a non-empty list of strictly increasing years, got {s}"})
        if len(b) != len(s):
            raise PydanticCustomError("tree", "{msg}", {
                "msg": f"branching needs one entry per stage: {len(s)} stages {s}, {len(b)} branchings {b}"})
        if math.prod(b) > 100_000:
            raise PydanticCustomError("tree", "{msg}", {
                "msg": f"branching {b} makes {math.prod(b):,} futures; at most 100,000"})
        return self


class SolveConfig(Base):
    allow_unmet: bool = False
    """Serve what can be served and report the rest, instead of failing as infeasible."""
    unmet_penalty: Quantity("USD/H100_hour") = 100.0
    """Penalty per H100-hour unserved when allow_unmet (a model setting, not data: high enough that
    every real supply option is cheaper)."""
    method: Literal["auto", "simplex", "ipm", "pdlp"] = "auto"
    """HiGHS method; auto picks by size (see docs/performance.md)."""
    threads: Annotated[int, Field(ge=1, le=4096)] | None = None
    time_limit: Quantity("second", plain_ok=True) | None = None
    """Seconds; a bare number is seconds."""


class Config(Base):
    solve: SolveConfig = SolveConfig()


class ScenarioEntry(Base):
    description: str = ""
    overrides: list[str]


class Scenario(Base):
    """A gigawatt scenario file."""

    meta: Meta
    horizon: HorizonSpec
    accelerators: Annotated[dict[str, Accelerator], BeforeValidator(_name_ok)] = {}
    providers: Annotated[dict[str, Provider], BeforeValidator(_name_ok)]
    sites: Annotated[dict[str, Site], BeforeValidator(_name_ok)] = {}
    contracts: Annotated[dict[str, Contract], BeforeValidator(_name_ok)] = {}
    workloads: Annotated[dict[str, Workload], BeforeValidator(_name_ok)]
    finance: Finance = Finance()
    policy: Policy = Policy()
    uncertainty: Uncertainty = Uncertainty()
    config: Config = Config()
    overrides: dict[str, dict[str, Any]] = {}
    """Named sets of key-path: value changes."""
    scenarios: dict[str, list[str] | ScenarioEntry] = {}
    """Named lists of overrides, applied in order with --scenario NAME."""

    @field_validator("workloads", "providers")
    @classmethod
    def _not_empty(cls, v: dict) -> dict:
        if not v:
            raise PydanticCustomError("empty", "{msg}", {"msg": "at least one entry"})
        return v


def json_schema() -> dict:
    """The JSON Schema of one scenario file as an editor sees it (gigawatt.scenario.editor)."""
    from gigawatt.scenario.editor import for_editors

    return for_editors(Scenario.model_json_schema(mode="validation"))
