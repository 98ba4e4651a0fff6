"""Synthetic raw data for JobMetrics: a résumé-scanning subscription business.

`generate(out_dir, users=..., days=..., start_date=..., seed=...)` writes the six raw Parquet
tables of the contract (generator.contract) and `_manifest.json`, and returns the manifest.
`append_days(out_dir, days)` extends such a data set by more days, keeping its past rows.
"""

from generator.append import append_days
from generator.contract import MANIFEST_NAME, RAW_COLUMNS, RAW_TABLES
from generator.core import generate
from generator.errors import GeneratorError
from generator.version import GENERATOR_VERSION

__all__ = [
    "GENERATOR_VERSION",
    "MANIFEST_NAME",
    "RAW_COLUMNS",
    "RAW_TABLES",
    "GeneratorError",
    "append_days",
    "generate",
]
