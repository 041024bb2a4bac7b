"""The built-in accelerator catalog: specs, power, prices and utilisation, each figure sourced and dated."""

from gigawatt.catalog.load import (
    PUE_REFERENCE,
    accelerator_ids,
    load_catalog,
    load_fields,
    load_references,
    load_sources,
)

__all__ = ["PUE_REFERENCE", "accelerator_ids", "load_catalog", "load_fields", "load_references", "load_sources"]
