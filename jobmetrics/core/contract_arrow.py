"""The raw tables' Arrow schemas, for the code that writes the Parquet files (the generator, the
importers): the contract's DuckDB types (`contract.RAW_COLUMNS`) as Arrow types."""

from __future__ import annotations

import pyarrow as pa

from jobmetrics.core.contract import RAW_COLUMNS

MONEY = pa.decimal128(10, 2)
TIMESTAMP = pa.timestamp("us")
TEXT = pa.string()

ARROW_TYPES: dict[str, pa.DataType] = {
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "VARCHAR": TEXT,
    "TIMESTAMP": TIMESTAMP,
    "DECIMAL(10,2)": MONEY,
    "DATE": pa.date32(),
}
"""The DuckDB type `describe` reports for a Parquet column → the Arrow type written."""

ARROW_SCHEMAS: dict[str, pa.Schema] = {
    table: pa.schema([(column, ARROW_TYPES[kind]) for column, kind in columns.items()])
    for table, columns in RAW_COLUMNS.items()
}
