"""Synthetic raw data for JobMetrics: a résumé-scanning subscription business.

`generate(out_dir, users=..., days=..., start_date=..., seed=...)` writes the six raw Parquet
tables of the contract (jobmetrics.core.contract) and `_manifest.json`, and returns the manifest.
`append_days(out_dir, days)` extends such a data set by more days, keeping its past rows.
"""

from jobmetrics.core.contract import MANIFEST_NAME, RAW_COLUMNS, RAW_TABLES
from jobmetrics.generator.append import append_days
from jobmetrics.generator.core import generate
from jobmetrics.generator.errors import GeneratorError
from jobmetrics.generator.version import GENERATOR_VERSION

__all__ = [
    "GENERATOR_VERSION",
    "MANIFEST_NAME",
    "RAW_COLUMNS",
    "RAW_TABLES",
    "GeneratorError",
    "append_days",
    "generate",
]
