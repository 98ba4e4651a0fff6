"""The raw-table contract: table names, column names and their DuckDB types.

The Arrow schemas the generator and the importers write are in `contract_arrow`, derived from
these; this module does not import pyarrow, so a build's checks start without it.
"""

from __future__ import annotations

RAW_COLUMNS: dict[str, dict[str, str]] = {
    "raw_users": {
        "user_id": "BIGINT",
        "email": "VARCHAR",
        "full_name": "VARCHAR",
        "country": "VARCHAR",
        "segment": "VARCHAR",
        "acquisition_channel": "VARCHAR",
        "device": "VARCHAR",
        "signed_up_at": "TIMESTAMP",
    },
    "raw_subscriptions": {
        "subscription_id": "BIGINT",
        "user_id": "BIGINT",
        "plan": "VARCHAR",
        "billing_cycle": "VARCHAR",
        "price_usd": "DECIMAL(10,2)",
        "started_at": "TIMESTAMP",
        "ended_at": "TIMESTAMP",
        "end_reason": "VARCHAR",
    },
    "raw_invoices": {
        "invoice_id": "BIGINT",
        "subscription_id": "BIGINT",
        "user_id": "BIGINT",
        "issued_at": "TIMESTAMP",
        "period_start": "TIMESTAMP",
        "period_end": "TIMESTAMP",
        "amount_usd": "DECIMAL(10,2)",
        "status": "VARCHAR",
        "attempt_count": "INTEGER",
        "paid_at": "TIMESTAMP",
    },
    "raw_scans": {
        "scan_id": "BIGINT",
        "user_id": "BIGINT",
        "scanned_at": "TIMESTAMP",
        "match_rate": "DOUBLE",
        "processing_ms": "INTEGER",
        "keywords_extracted": "INTEGER",
        "resume_format": "VARCHAR",
        "job_category": "VARCHAR",
        "status": "VARCHAR",
    },
    "raw_sessions": {
        "session_id": "BIGINT",
        "visitor_id": "BIGINT",
        "user_id": "BIGINT",
        "started_at": "TIMESTAMP",
        "channel": "VARCHAR",
        "device": "VARCHAR",
        "landing_page": "VARCHAR",
    },
    "raw_marketing_spend": {
        "spend_date": "DATE",
        "channel": "VARCHAR",
        "spend_usd": "DECIMAL(10,2)",
    },
}
"""Table → column → the DuckDB type `describe` reports for the Parquet file, in column order."""

RAW_TABLES: tuple[str, ...] = tuple(RAW_COLUMNS)

MANIFEST_NAME = "_manifest.json"

RAW_CONTRACT_VERSION = "2.0.0"
"""The contract's version, written in every raw folder's manifest (`generator_version` by the
generator, which has the same major version; `raw_contract_version` by `jobmetrics import`)."""

RAW_KEYS: dict[str, tuple[str, ...]] = {
    "raw_users": ("user_id",),
    "raw_subscriptions": ("subscription_id",),
    "raw_invoices": ("invoice_id",),
    "raw_scans": ("scan_id",),
    "raw_sessions": ("session_id",),
    "raw_marketing_spend": ("spend_date", "channel"),
}
"""The columns naming one row of each raw table (an import's --append replaces rows by them)."""
