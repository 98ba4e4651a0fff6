"""Synthetic raw data for JobMetrics: a résumé-scanning subscription business.

`generate(out_dir, users=..., days=..., start_date=..., seed=...)` writes the six raw Parquet
tables of the contract (jobmetrics.core.contract) and `_manifest.json`, and returns the manifest.
`append_days(out_dir, days)` extends such a data set by more days, keeping its past rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobmetrics.core.contract import MANIFEST_NAME, RAW_COLUMNS, RAW_TABLES
from jobmetrics.generator.errors import GeneratorError
from jobmetrics.generator.version import GENERATOR_VERSION

if TYPE_CHECKING:
    from jobmetrics.generator.append import append_days
    from jobmetrics.generator.core import generate

__all__ = [
    "GENERATOR_VERSION",
    "MANIFEST_NAME",
    "RAW_COLUMNS",
    "RAW_TABLES",
    "GeneratorError",
    "append_days",
    "generate",
]


def __getattr__(name: str) -> Any:
    """`generate` and `append_days` are imported on first use: with the generator's modules
    and Faker they take about 0.15 s, which a build or a report that reads only the generator's
    version, plans and channels never needs."""
    if name == "generate":
        from jobmetrics.generator.core import generate

        return generate
    if name == "append_days":
        from jobmetrics.generator.append import append_days

        return append_days
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
