"""Read the accelerator catalog shipped as package data (CSV files next to this module).

Every figure in ``accelerators.csv`` has a row in ``sources.csv`` (source tags, date, note); the tags
are resolved in ``references.csv`` and the columns are described in ``fields.csv``. Origin of every
number: /work/shared/data/hardware.md (docs/catalog.md explains the choices).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import pandas as pd

# Reference power usage effectiveness of all-in chip power: average PUE of specialised AI data
# centres in 2023, 1.14 (Shehabi et al. 2024, LBNL), as used by Epoch's GPU-cluster method [S30].
PUE_REFERENCE = 1.14

TEXT_COLUMNS = ("id", "name", "vendor", "available")


def _read(name: str, **kwargs) -> pd.DataFrame:
    with files(__package__).joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, keep_default_na=False, na_values=[""], **kwargs)


@lru_cache(maxsize=None)
def _catalog() -> pd.DataFrame:
    df = _read("accelerators.csv", dtype={c: str for c in TEXT_COLUMNS})
    numeric = [c for c in df.columns if c not in TEXT_COLUMNS]
    df[numeric] = df[numeric].astype(float)
    return df.set_index("id")


@lru_cache(maxsize=None)
def _text_table(name: str) -> pd.DataFrame:
    return _read(name, dtype=str)


def load_catalog() -> pd.DataFrame:
    """Accelerators indexed by ``id``: floats in the units their column names carry, NaN where not found."""
    return _catalog().copy()


def load_sources() -> pd.DataFrame:
    """One row per catalog figure: accelerator, field, value, source (tags joined by ';'), date, note."""
    return _text_table("sources.csv").copy()


def load_references() -> pd.DataFrame:
    """Source tags used by the catalog with their citation (hardware.md §6)."""
    return _text_table("references.csv").copy()


def load_fields() -> pd.DataFrame:
    """Attribute table of the catalog columns: field, unit, dtype, description."""
    return _text_table("fields.csv").copy()


def accelerator_ids() -> list[str]:
    """Catalog ids in file order."""
    return list(_catalog().index)
