"""The raw-table contract: table names, column names and their DuckDB/Arrow types."""

from __future__ import annotations

import pyarrow as pa

MONEY = pa.decimal128(10, 2)
TIMESTAMP = pa.timestamp("us")
TEXT = pa.string()

ARROW_SCHEMAS: dict[str, pa.Schema] = {
    "raw_users": pa.schema(
        [
            ("user_id", pa.int64()),
            ("email", TEXT),
            ("full_name", TEXT),
            ("country", TEXT),
            ("segment", TEXT),
            ("acquisition_channel", TEXT),
            ("device", TEXT),
            ("signed_up_at", TIMESTAMP),
        ]
    ),
    "raw_subscriptions": pa.schema(
        [
            ("subscription_id", pa.int64()),
            ("user_id", pa.int64()),
            ("plan", TEXT),
            ("billing_cycle", TEXT),
            ("price_usd", MONEY),
            ("started_at", TIMESTAMP),
            ("ended_at", TIMESTAMP),
            ("end_reason", TEXT),
        ]
    ),
    "raw_invoices": pa.schema(
        [
            ("invoice_id", pa.int64()),
            ("subscription_id", pa.int64()),
            ("user_id", pa.int64()),
            ("issued_at", TIMESTAMP),
            ("period_start", TIMESTAMP),
            ("period_end", TIMESTAMP),
            ("amount_usd", MONEY),
            ("status", TEXT),
            ("attempt_count", pa.int32()),
            ("paid_at", TIMESTAMP),
        ]
    ),
    "raw_scans": pa.schema(
        [
            ("scan_id", pa.int64()),
            ("user_id", pa.int64()),
            ("scanned_at", TIMESTAMP),
            ("match_rate", pa.float64()),
            ("processing_ms", pa.int32()),
            ("keywords_extracted", pa.int32()),
            ("resume_format", TEXT),
            ("job_category", TEXT),
            ("status", TEXT),
        ]
    ),
    "raw_sessions": pa.schema(
        [
            ("session_id", pa.int64()),
            ("visitor_id", pa.int64()),
            ("user_id", pa.int64()),
            ("started_at", TIMESTAMP),
            ("channel", TEXT),
            ("device", TEXT),
            ("landing_page", TEXT),
        ]
    ),
    "raw_marketing_spend": pa.schema(
        [
            ("spend_date", pa.date32()),
            ("channel", TEXT),
            ("spend_usd", MONEY),
        ]
    ),
}

_DUCKDB_TYPES = {
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE",
    TEXT: "VARCHAR",
    TIMESTAMP: "TIMESTAMP",
    MONEY: "DECIMAL(10,2)",
    pa.date32(): "DATE",
}

RAW_TABLES: tuple[str, ...] = tuple(ARROW_SCHEMAS)

RAW_COLUMNS: dict[str, dict[str, str]] = {
    table: {field.name: _DUCKDB_TYPES[field.type] for field in schema}
    for table, schema in ARROW_SCHEMAS.items()
}
"""Table → column → the DuckDB type `describe` reports for the Parquet file."""

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
