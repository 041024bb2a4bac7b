"""Published figures beside a run: scenarios/openai/published.yaml read once, matched to the headline.

``load_published(FILE)`` is the one reader of the file (scripts/reference_table.py uses it too); it checks
the shape the report needs and raises ScenarioError (exit 1) on a missing file, bad YAML or a wrong shape.
``beside(run, pub)`` picks the forecast vintage from the run's ``variant`` (summary.json; no variant = the
default scenario = the Q1-2026 information set) and pairs each published figure with gigawatt's value for
the same quantity, read from summary.json: nothing is solved or estimated here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gigawatt.errors import Problem, ScenarioError
from gigawatt.fmt import usd

VINTAGES = ("q1_2025", "q3_2025", "q1_2026")
DEFAULT_VINTAGE = "q1_2026"  # scenarios/openai.yaml: the default is the Feb-2026 (Q1-2026) information set
VINTAGE_LABEL = {"q1_2025": "Q1-2025", "q3_2025": "Q3-2025", "q1_2026": "Q1-2026"}
_EXPECTED = "a published-figures file shaped like scenarios/openai/published.yaml (a top-level 'published' mapping)"


def _error(what: str, path: Path, *, value: Any = None, key: str | None = None) -> ScenarioError:
    where = f"{path}: published.{key}" if key else str(path)
    return ScenarioError(Problem(what, path=where, value=value, expected=_EXPECTED,
                                 fix="pass --published scenarios/openai/published.yaml (or a file of that shape)"),
                         title="bad published-figures file")


def load_published(path: str | Path) -> dict:
    """Read a published-figures file: the parsed YAML (a mapping with a 'published' mapping).

    Raises
    ------
    ScenarioError
        The file is missing, not YAML, or not shaped like scenarios/openai/published.yaml.
    """
    path = Path(path)
    if not path.is_file():
        raise _error("published-figures file not found" if not path.exists() else "not a file", path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise _error("published-figures file cannot be read", path, value=str(exc)) from None
    except yaml.YAMLError as exc:
        raise _error("published-figures file is not valid YAML", path, value=str(exc).splitlines()[0]) from None
    if not isinstance(data, dict) or not isinstance(data.get("published"), dict):
        raise _error("no 'published' mapping at the top of the file", path,
                     value=type(data).__name__ if not isinstance(data, dict) else sorted(map(str, data)))
    return data


# --- the figures the report shows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One published figure: its value (in the unit of the key), wording, source tags, date."""

    value: float
    text: str
    source: str
    date: str
    vintage: str | None = None


@dataclass(frozen=True)
class Beside:
    """A published figure and gigawatt's value for the same quantity (None when the run has none)."""

    key: str             # the headline Fact it sits beside (or a row key such as cash_flow_usd.2027)
    quantity: str
    published: Figure
    published_text: str  # the published value, formatted as gigawatt's is
    gigawatt: float | None
    gigawatt_text: str
    difference_text: str
    note: str = ""
    show_gigawatt: bool = False  # the card's own figure is not the one compared: say gigawatt's on the card


@dataclass
class Published:
    """What the report adds with --published: the vintage, the figures beside the run, the cash-burn forecast."""

    file: Path
    vintage: str
    vintage_reason: str
    rows: list[Beside] = field(default_factory=list)
    cash_flow_usd: dict[int, float] = field(default_factory=dict)  # year -> published cash flow (negative = burn)
    cash_flow_source: str = ""
    cash_flow_date: str = ""

    def by_key(self, key: str) -> Beside | None:
        return next((r for r in self.rows if r.key == key), None)


class _Reader:
    """Typed access into the 'published' mapping; a wrong shape is a ScenarioError naming the key."""

    def __init__(self, data: dict, path: Path):
        self.root, self.path = data["published"], path

    def get(self, *keys, kind=dict):
        node = self.root
        for i, k in enumerate(keys):
            if isinstance(node, list) and isinstance(k, int) and k < len(node):
                node = node[k]
            elif isinstance(node, dict) and k in node:
                node = node[k]
            else:
                raise _error("a figure the report needs is missing", self.path,
                             key=".".join(map(str, keys[:i + 1])))
        if not isinstance(node, kind):
            raise _error(f"expected a {kind.__name__}", self.path, key=".".join(map(str, keys)), value=node)
        return node

    def figure(self, *keys) -> Figure:
        item = self.get(*keys)
        v = item.get("value")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise _error("a figure's value is not a number", self.path, key=".".join(map(str, keys)) + ".value",
                         value=v)
        return Figure(value=float(v), text=str(item.get("text", "")), source=str(item.get("source", "")),
                      date=str(item.get("date", "")), vintage=item.get("vintage"))

    def compared(self, key: str) -> tuple[Figure, int]:
        """The entry of a list marked `compare: true` (else the first)."""
        items = self.get(key, kind=list)
        idx = next((i for i, it in enumerate(items) if isinstance(it, dict) and it.get("compare")), 0)
        return self.figure(key, idx), idx


def vintage_of(summary: dict) -> tuple[str, str]:
    """The forecast vintage a run stands for, and why: its `variant` when it is one, else the default's."""
    variant = summary.get("variant")
    if variant in VINTAGES:
        return variant, f"variant {variant}"
    if not variant:
        return DEFAULT_VINTAGE, "no variant: the default scenario is the Q1-2026 information set"
    return DEFAULT_VINTAGE, f"variant {variant} is built on the default (Q1-2026) information set"


def _num(x) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _signed(fmt, d: float) -> str:
    return ("+" if d > 0 else "−" if d < 0 else "±") + fmt(abs(d))


def _gw(v: float) -> str:
    return f"{v:,.1f} GW"


def _stays_above_year(run) -> int | None:
    """First year from which inference cost exceeds training cost in every later year (summary.json)."""
    kinds = run.yearly_nested("cost_usd_by_workload_kind")
    if kinds.empty or "inference" not in kinds or "training" not in kinds:
        return None
    first = None
    for y, row in kinds.iterrows():
        above = row["inference"] > row["training"]
        first = (first if first is not None else int(y)) if above else None
    return first


def _year_diff(g: int | None, p: float) -> str:
    if g is None:
        return "–"
    d = int(g) - int(p)
    return "same year" if d == 0 else f"{d:+d} years".replace("-", "−")


def beside(run, data: dict, path: str | Path = "published.yaml") -> Published:
    """Pair the published figures with the run's (see the module doc). ScenarioError on a wrong shape."""
    from gigawatt.report.headline import headline

    path = Path(path)
    r = _Reader(data, path)
    vintage, why = vintage_of(run.summary)
    facts = {f.key: f for f in headline(run)}
    s = run.summary
    out = Published(file=path, vintage=vintage, vintage_reason=why)

    c, _ = r.compared("commitments_total_usd")
    g = _num(s.get("commitments_usd_total"))
    out.rows.append(Beside("commitments_usd_total", "total commitments", c, usd(c.value), g, usd(g),
                           "–" if g is None else _signed(usd, g - c.value),
                           "gigawatt counts binding money only (contract values and firm chip purchases)"))

    t, ti = r.compared("power_target_gw")
    year = r.get("power_target_gw", ti).get("year")
    power = run.yearly("power_gw").dropna()
    gy = int(year) if year is not None and int(year) in power.index else (int(power.idxmax()) if len(power) else None)
    g = float(power[gy]) if gy is not None else None
    out.rows.append(Beside("peak_power_gw", f"power in {gy}" if gy else "power", t, _gw(t.value), g,
                           f"{_gw(g)} in {gy}" if g is not None else "–",
                           "–" if g is None else _signed(_gw, g - t.value),
                           "year average; the published ~30 GW is a year-end fleet"))

    sh = r.figure("stargate_2030", "share")
    fact = facts.get("share_target.stargate_2030")
    g = _num((fact.value or {}).get("share")) if fact is not None and isinstance(fact.value, dict) else None
    out.rows.append(Beside("share_target.stargate_2030", "Stargate share of compute, 2030", sh, f"{sh.value:.0%}", g,
                           f"{g:.1%}" if g is not None else "–",
                           "–" if g is None else f"{100 * (g - sh.value):+.1f} pp".replace("-", "−"),
                           "an input: the scenario's 75% share target binds or is exceeded"))

    fp = r.figure("first_cash_flow_positive_year", vintage)
    gfirst = s.get("first_free_cash_flow_positive_year")
    out.rows.append(Beside("first_cash_flow_positive_year",
                           f"first year of positive free cash flow ({VINTAGE_LABEL[vintage]} forecast)", fp,
                           str(int(fp.value)), gfirst, str(gfirst) if gfirst is not None else "none in the horizon",
                           _year_diff(gfirst, fp.value)))

    it, _ = r.compared("inference_exceeds_training")
    first_inf = s.get("inference_first_exceeds_training_year", s.get("inference_exceeds_training_year"))
    stays = _stays_above_year(run)
    out.rows.append(Beside("inference_exceeds_training_year", "inference cost exceeds training", it,
                           f"by {int(it.value)}", stays,
                           (f"above from {stays}" if stays is not None else "not for good in the horizon")
                           + (f" (first in {first_inf})" if first_inf is not None else ""),
                           _year_diff(stays, it.value),
                           "compared on the year from which inference stays above training", show_gigawatt=True))

    cf = r.get("cash_flow_usd")
    series = r.get("cash_flow_usd", vintage)
    src, date = str(cf.get("source", "")), str(cf.get("date", ""))
    fin = run.finance
    fcf = run.yearly("free_cash_flow_usd")
    for y, v in series.items():
        v = _num(v)
        if v is None or isinstance(y, bool) or not str(y).isdigit():
            raise _error("a cash-flow value is not a number (or its key not a year)", path,
                         key=f"cash_flow_usd.{vintage}.{y}", value=series[y])
        out.cash_flow_usd[int(y)] = v
    out.cash_flow_source, out.cash_flow_date = src, date
    for y, v in out.cash_flow_usd.items():
        if y not in run.years:
            continue
        g = _num(fcf.get(y))
        basis = "before financing (free cash flow)"
        if g is None and fin is not None and "cash_flow_after_financing_usd" in fin:
            g = _num(fin["cash_flow_after_financing_usd"].get(y))
            basis = "after financing (no free_cash_flow_usd in summary.json)"
        fig = Figure(v, f"{_signed(usd, v)} in {y} (negative = cash burned)", src, date, vintage)
        out.rows.append(Beside(f"cash_flow_usd.{y}", f"free cash flow {y} ({VINTAGE_LABEL[vintage]} forecast)", fig,
                               _signed(usd, v), g, "–" if g is None else _signed(usd, g),
                               "–" if g is None else _signed(usd, g - v), basis))
    return out


__all__ = ["load_published", "beside", "vintage_of", "Published", "Beside", "Figure", "VINTAGES",
           "DEFAULT_VINTAGE"]
