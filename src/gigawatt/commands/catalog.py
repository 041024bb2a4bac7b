"""`gigawatt catalog`: the accelerator catalog as a table, CSV or JSON, with sources on request."""

from __future__ import annotations

import json

import pandas as pd
from rich.console import Console
from rich.table import Table

from gigawatt.errors import Problem, ScenarioError, did_you_mean

SUMMARY_COLUMNS = [
    ("vendor", "vendor", "{}"),
    ("available", "avail.", "{}"),
    ("bf16_tflops", "BF16\nTFLOP/s", "{:,.0f}"),
    ("all_in_power_w", "all-in\nW", "{:,.0f}"),
    ("purchase_price_usd", "price\n$", "{:,.0f}"),
    ("rental_price_usd_per_chip_hour", "rent\n$/h", "{:.2f}"),
    ("committed_price_usd_per_chip_hour", "comm.\n$/h", "{:.2f}"),
    ("utilisation_training", "util\ntrain", "{:.0%}"),
    ("utilisation_inference", "util\ninfer", "{:.0%}"),
    ("useful_life_years", "life\nyears", "{:g}"),
]


def _cell(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "[dim]n/f[/]"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def _references() -> dict[str, str]:
    """Source tag -> citation (catalog/references.csv)."""
    from gigawatt.catalog import load_references

    return {str(r.tag): str(r.citation) for r in load_references().itertuples()}


def _tags(source) -> list[str]:
    """The tags of a source cell ("S27;S72" -> ["S27", "S72"]); empty for a missing cell."""
    return [t.strip() for t in str(source).split(";") if t.strip()] if pd.notna(source) else []


def _citations(sources, refs: dict[str, str]) -> Table:
    """The citation of every tag used in ``sources``, in the order of references.csv; an unknown tag says so."""
    used = {t for cell in sources for t in _tags(cell)}
    t = Table(title="citations (source tags)", show_header=True)
    t.add_column("tag", no_wrap=True)
    t.add_column("citation", overflow="fold")
    for tag in [*[k for k in refs if k in used], *sorted(used - set(refs))]:
        t.add_row(tag, refs.get(tag, "[red]no citation in catalog/references.csv[/]"))
    return t


def show_catalog(*, accelerator: str | None, fmt: str, sources: bool, console: Console) -> None:
    from gigawatt.catalog import load_catalog, load_fields, load_sources

    cat = load_catalog()
    if fmt not in ("table", "csv", "json"):
        raise ScenarioError(Problem("unknown format", path="--format", value=fmt, expected="table, csv or json",
                                    fix="pass one of them." + did_you_mean(fmt, ["table", "csv", "json"])),
                            title="bad option")
    if accelerator is not None:
        key = accelerator.lower()
        if key not in cat.index:
            raise ScenarioError(Problem(f"unknown accelerator '{accelerator}'", path="--accelerator", value=accelerator,
                                        expected="one of: " + ", ".join(cat.index),
                                        fix="use a catalog id." + did_you_mean(key, cat.index)), title="bad option")
        cat = cat.loc[[key]]
    src = load_sources()
    refs = _references()
    if fmt == "csv":
        console.print(cat.to_csv(), end="", highlight=False, markup=False, soft_wrap=True)
        return
    if fmt == "json":
        records = json.loads(cat.reset_index().to_json(orient="records"))
        if sources:
            for r in records:
                s = src[src["accelerator"] == r["id"]]
                r["sources"] = {row.field: {"source": row.source, "date": row.date, "note": row.note,
                                            "citations": {t: refs.get(t) for t in _tags(row.source)}}
                                for row in s.itertuples()}
        console.print_json(json.dumps(records))
        return
    if accelerator is not None:
        fields = load_fields().set_index("field")
        t = Table(title=f"{cat.index[0]}: {cat.iloc[0]['name']}", show_lines=False)
        for col in ("field", "value", "unit", "source", "date", "note"):
            t.add_column(col, overflow="fold")
        s = src[src["accelerator"] == cat.index[0]].set_index("field")
        for col in cat.columns:
            v = cat.iloc[0][col]
            unit = fields.at[col, "unit"] if col in fields.index else ""
            row = s.loc[col] if col in s.index else None
            t.add_row(col, _cell(v, "{:,}" if isinstance(v, float) else "{}"), str(unit) if pd.notna(unit) else "",
                      "" if row is None else str(row["source"]), "" if row is None else str(row["date"]),
                      "" if row is None or pd.isna(row["note"]) else str(row["note"]))
        console.print(t)
        console.print(_citations(s["source"], refs))
        return
    from rich import box

    # compact enough for 80 columns: no cell is ever cut ("gb2…" would hide which chip a row is)
    t = Table(title="gigawatt accelerator catalog (dense peak; all-in power at PUE 1.14)", box=box.SIMPLE_HEAD,
              show_edge=False, pad_edge=False, padding=(0, 0))
    t.add_column("id", no_wrap=True)
    for _, header, _ in SUMMARY_COLUMNS:
        t.add_column(header, justify="right", no_wrap=True)
    for aid, row in cat.iterrows():
        t.add_row(aid, *[_cell(row[c], f) for c, _, f in SUMMARY_COLUMNS])
    console.print(t)
    if sources:
        st = Table(title="sources (gigawatt catalog --accelerator ID shows one chip's)")
        for col in ("accelerator", "field", "source", "date"):
            st.add_column(col)
        for r in src.itertuples():
            st.add_row(r.accelerator, r.field, str(r.source), str(r.date))
        console.print(st)
        console.print(_citations(src["source"], refs))
    else:
        console.print("[dim]n/f = not found in public sources. --sources lists where each figure comes from; "
                      "--accelerator ID shows one chip with sources and notes.[/]")
