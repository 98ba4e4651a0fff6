"""`jobmetrics import files`: CSV or Parquet exports in any column layout read into a raw folder
through the same mapping file as `jobmetrics import postgres`.

Each table's `from:` is a file or glob relative to the mapping file; DuckDB reads the files
(read_csv with its type detection, or read_parquet; several files are matched by column name)
and evaluates the mapping's expressions, which are DuckDB SQL here. Rows arrive as Arrow batches.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from jobmetrics.importers.errors import SourceError
from jobmetrics.importers.mapping import (
    ROWS_PER_BATCH,
    Column,
    TableMapping,
    first_line,
    load_mapping,
    read_tables,
    write_tables,
)
from jobmetrics.importers.raw_folder import read_import_state

SOURCE = "files"

READERS = {
    ".csv": "read_csv",
    ".tsv": "read_csv",
    ".txt": "read_csv",
    ".parquet": "read_parquet",
    ".pq": "read_parquet",
}
"""File suffix (before a .gz / .zst compression suffix) → the DuckDB function reading it."""

_INTEGERS = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
}
_TYPE_NAME = re.compile(r"[A-Z][A-Z0-9_ ]*(\(\d+(,\s*\d+)?\))?")


def import_files(
    out: Path,
    *,
    mapping: Path,
    append: bool = False,
    until: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Read the mapped CSV / Parquet files and write them as the raw folder `out`; return the
    manifest. --append works as for postgres: `incremental:` columns read only rows from the
    value the last import saw on, and rows are merged into `out` by key."""
    step = progress or (lambda _message: None)
    plan = load_mapping(mapping, source=SOURCE)
    # every glob resolved before any file is read: a typo fails at once
    plan = replace(plan, tables={name: _reading(table) for name, table in plan.tables.items()})
    state = read_import_state(out, SOURCE) if append else None
    connection = duckdb.connect()
    try:
        connection.execute("set TimeZone = 'UTC'")
        tables, saved = read_tables(_Files(connection), plan, state, step, until)
    finally:
        connection.close()
    return write_tables(out, SOURCE, tables, saved, append=append, step=step, until=until)


def source_files(mapping: TableMapping) -> tuple[str, list[Path]]:
    """The DuckDB reader and the files `from:` matches (relative to the mapping file)."""
    pattern = Path(mapping.source).expanduser()
    if not pattern.is_absolute():
        pattern = mapping.path.parent / pattern
    files = sorted(Path(path) for path in glob.glob(str(pattern), recursive=True))
    files = [path for path in files if path.is_file()]
    if not files:
        raise SourceError(
            f"{mapping.where('from')}: {mapping.source!r} matches no file ({pattern})"
        )
    readers = {READERS.get(_suffix(path)) for path in files}
    if None in readers or len(readers) > 1:
        raise SourceError(
            f"{mapping.where('from')}: {mapping.source!r} must match CSV files (.csv, .tsv, .txt) "
            "or Parquet files (.parquet, .pq), not both nor others"
        )
    return readers.pop(), files


def _suffix(path: Path) -> str:
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".zst"):
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def _reading(mapping: TableMapping) -> TableMapping:
    """The table's `from:` replaced by the DuckDB function reading the files it matches."""
    reader, files = source_files(mapping)
    listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
    return replace(mapping, source=f"{reader}([{listed}], union_by_name = true) as src")


class _Files:
    """The mapping's SQL run by DuckDB over the files (mapping.Engine)."""

    name = "DuckDB"
    errors = (duckdb.Error,)

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    def describe(self, select: str) -> list[tuple[str, str]]:
        relation = self.connection.sql(select)  # bound, not run: names and types only
        types = [_kind(str(kind)) for kind in relation.types]
        return list(zip(relation.columns, types, strict=True))

    def batches(self, select: str, columns: list[Column]) -> Iterator[pa.RecordBatch]:
        yield from self.connection.execute(select).to_arrow_reader(ROWS_PER_BATCH)

    def one(self, select: str) -> tuple:
        return self.connection.execute(select).fetchone()

    def largest(self, expression: str) -> str:
        return f"cast(max({expression}) as varchar), typeof(max({expression}))"

    def constant(self, value: str, type_name: str) -> str:
        if not _TYPE_NAME.fullmatch(type_name):
            raise SourceError(f"files: the saved incremental state has a bad type {type_name!r}")
        return "cast('" + value.replace("'", "''") + f"' as {type_name})"

    def fails(self, select: str) -> str | None:
        try:
            self.connection.execute(select)
        except duckdb.Error as error:
            return first_line(error)
        return None


def _kind(type_name: str) -> str:
    """DuckDB type → mapping.KINDS."""
    if type_name in _INTEGERS:
        return "int"
    if type_name in ("FLOAT", "DOUBLE"):
        return "float"
    if type_name.startswith("DECIMAL"):
        return "numeric"
    if type_name == "TIMESTAMP WITH TIME ZONE":
        return "timestamptz"
    if type_name.startswith("TIMESTAMP"):  # TIMESTAMP, TIMESTAMP_NS, _MS, _S
        return "timestamp"
    return {"VARCHAR": "text", "BOOLEAN": "bool", "DATE": "date"}.get(type_name, "other")
