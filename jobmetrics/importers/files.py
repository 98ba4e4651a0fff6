"""`jobmetrics import files`: CSV or Parquet exports in any column layout read into a raw folder
through the same mapping file as `jobmetrics import postgres`.

Each table's `from:` is a file or glob relative to the mapping file; DuckDB reads the files
(read_csv with its type detection, or read_parquet; several files are matched by column name)
and evaluates the mapping's expressions, which are DuckDB SQL here. Rows arrive as Arrow batches.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa

from jobmetrics.importers.errors import SourceError
from jobmetrics.importers.mapping import (
    ROWS_PER_BATCH,
    TableMapping,
    assign_ids,
    first_line,
    incremental_filter,
    load_mapping,
    locate_error,
    plan_select,
    relation,
    saved_after,
    table_state,
    to_contract,
)
from jobmetrics.importers.raw_folder import read_import_state, write_import

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
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Read the mapped CSV / Parquet files and write them as the raw folder `out`; return the
    manifest. --append works as for postgres: `incremental:` columns read only rows from the
    value the last import saw on, and rows are merged into `out` by key."""
    step = progress or (lambda _message: None)
    plan = load_mapping(mapping, source=SOURCE)
    state = read_import_state(out, SOURCE) if append else None
    saved = dict(((state or {}).get("tables")) or {})
    tables: dict[str, pa.Table] = {}
    connection = duckdb.connect()
    try:
        connection.execute("set TimeZone = 'UTC'")
        for table in plan.tables.values():
            tables[table.name], saved[table.name] = _read_table(connection, table, state, step)
    finally:
        connection.close()
    tables, id_maps = assign_ids(out, tables)
    step("checking and writing the raw folder")
    return write_import(
        out, SOURCE, tables, append=append, state={"tables": saved}, id_maps=id_maps
    )


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


def _read_table(
    connection: duckdb.DuckDBPyConnection,
    mapping: TableMapping,
    state: dict | None,
    step: Callable[[str], None],
) -> tuple[pa.Table, dict]:
    """The table's rows as a contract table, and its incremental state after this read."""
    step(mapping.name)
    reader, files = source_files(mapping)
    listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
    mapping = replace(mapping, source=f"{reader}([{listed}], union_by_name = true) as src")
    kinds = _kinds(connection, mapping)
    after = saved_after(state, mapping)
    query, columns = plan_select(mapping, kinds, after=after and after[0])
    query = query.replace("$after", _literal(*after)) if after else query
    pieces = []
    rows = 0
    try:
        batches = connection.execute(query).to_arrow_reader(ROWS_PER_BATCH)
        for batch in batches:
            pieces.append(batch)
            rows += batch.num_rows
            step(f"{mapping.name}: {rows:,} rows")
        maximum = _maximum(connection, mapping, after)
    except duckdb.Error as error:
        raise _located(connection, mapping, error) from None
    state_after = table_state(mapping, *maximum) if mapping.incremental else None
    if after and maximum[0] is None:  # no new rows: keep the value read from last time
        state_after = table_state(mapping, *after)
    return to_contract(mapping, pieces, columns), state_after


def _kinds(connection: duckdb.DuckDBPyConnection, mapping: TableMapping) -> dict[str, str]:
    """The kind (mapping.KINDS) of each mapped expression, from DuckDB's types."""
    expressions = ", ".join(mapping.columns.values())
    try:
        types = connection.sql(f"select {expressions} from {relation(mapping)} limit 0").types
    except duckdb.Error as error:
        raise _located(connection, mapping, error) from None
    return {column: _kind(str(kind)) for column, kind in zip(mapping.columns, types, strict=True)}


def _kind(type_name: str) -> str:
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


def _maximum(
    connection: duckdb.DuckDBPyConnection, mapping: TableMapping, after: tuple[str, str] | None
) -> tuple[str | None, str | None]:
    """The largest incremental value among the rows read (as text) and its DuckDB type."""
    if mapping.incremental is None:
        return None, None
    where = incremental_filter(mapping, after and after[0])
    where = where.replace("$after", _literal(*after)) if after else where
    value = f"max({mapping.incremental})"
    return connection.execute(
        f"select cast({value} as varchar), typeof({value}) from {relation(mapping)}{where}"
    ).fetchone()


def _literal(value: str, type_name: str) -> str:
    """A saved incremental value as a SQL constant of its type."""
    if not _TYPE_NAME.fullmatch(type_name):
        raise SourceError(f"files: the saved incremental state has a bad type {type_name!r}")
    return "cast('" + value.replace("'", "''") + f"' as {type_name})"


def _located(
    connection: duckdb.DuckDBPyConnection, mapping: TableMapping, error: duckdb.Error
) -> SourceError:
    """The SQL error as one line naming the mapping key whose SQL DuckDB rejects."""

    def fails(sql: str) -> str | None:
        try:
            connection.execute(sql)
        except duckdb.Error as probe:
            return first_line(probe)
        return None

    return locate_error(mapping, first_line(error), fails, "DuckDB")
