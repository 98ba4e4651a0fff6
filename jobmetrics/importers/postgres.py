"""`jobmetrics import postgres`: a product database's users, scans and sessions (any raw table the
mapping file names) read from PostgreSQL into a raw folder.

Everything is read in one read-only REPEATABLE READ transaction, so the tables are one consistent
snapshot; each table's select runs on the server (the mapping's expressions are PostgreSQL SQL)
and its rows are fetched through a server-side cursor, ROWS_PER_BATCH at a time, into Arrow.
The connection string comes from --dsn or JOBMETRICS_POSTGRES_DSN; no message shows its password.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import psycopg
import pyarrow as pa
from psycopg.conninfo import conninfo_to_dict

from jobmetrics.importers.errors import SourceError
from jobmetrics.importers.mapping import (
    ROWS_PER_BATCH,
    Column,
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
    with_sql_columns,
)
from jobmetrics.importers.raw_folder import read_import_state, write_import

SOURCE = "postgres"
DSN_ENV = "JOBMETRICS_POSTGRES_DSN"
"""The connection string when --dsn is not given: `postgresql://user:password@host:5432/db` or
`host=... dbname=... user=...`; libpq's PG* variables and ~/.pgpass fill in what it leaves out."""

CONNECT_TIMEOUT_S = 10

_KINDS = {
    "int2": "int",
    "int4": "int",
    "int8": "int",
    "float4": "float",
    "float8": "float",
    "numeric": "numeric",
    "text": "text",
    "varchar": "text",
    "bpchar": "text",
    "name": "text",
    "bool": "bool",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
    "date": "date",
}
"""PostgreSQL type → mapping.KINDS; any other type (uuid, enums, json) is read as its text."""

_TYPE_NAME = re.compile(r"[a-z][a-z0-9_ ]*(\(\d+(,\s*\d+)?\))?( with(out)? time zone)?")


def import_postgres(
    out: Path,
    *,
    mapping: Path,
    dsn: str | None = None,
    append: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Read the mapped tables from PostgreSQL and write them as the raw folder `out`; return the
    manifest. With append, tables with an `incremental:` column read only rows from the value
    the last import saw on, and every table's rows are merged into `out` by key."""
    step = progress or (lambda _message: None)
    plan = load_mapping(mapping, source=SOURCE)
    dsn = resolve_dsn(dsn)
    state = read_import_state(out, SOURCE) if append else None
    tables: dict[str, pa.Table] = {}
    saved = dict(((state or {}).get("tables")) or {})
    with _connect(dsn) as connection, connection.transaction():
        connection.execute("set local time zone 'UTC'")
        for table in plan.tables.values():
            tables[table.name], saved[table.name] = _read_table(connection, table, state, step)
    tables, id_maps = assign_ids(out, tables)
    step("checking and writing the raw folder")
    return write_import(
        out, SOURCE, tables, append=append, state={"tables": saved}, id_maps=id_maps
    )


def resolve_dsn(dsn: str | None) -> str:
    """--dsn, else JOBMETRICS_POSTGRES_DSN; SourceError when neither is set."""
    value = (dsn or os.environ.get(DSN_ENV, "")).strip()
    if not value:
        raise SourceError(
            f"postgres: no connection string: pass --dsn or set {DSN_ENV} "
            "(e.g. postgresql://reader@db.example.com:5432/product)"
        )
    return value


def shown_dsn(dsn: str) -> str:
    """The connection string without its password, for messages."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "the given connection string (not shown: it does not parse)"
    parts.pop("password", None)
    order = ["host", "port", "user", "dbname"]
    keys = sorted(parts, key=lambda key: order.index(key) if key in order else len(order))
    return " ".join(f"{key}={parts[key]}" for key in keys) or "the default server"


def hide_secrets(text: str, dsn: str) -> str:
    """`text` with the connection string and any password in it replaced by ***."""
    secrets = [dsn]
    try:
        password = conninfo_to_dict(dsn).get("password")
    except psycopg.Error:
        password = None
    if password:
        secrets.append(str(password))
    secrets += re.findall(r"://[^:/@\s]*:([^@\s]+)@", dsn)
    secrets += [
        match.strip("'") for match in re.findall(r"password\s*=\s*('(?:[^']|\\')*'|\S+)", dsn)
    ]
    for secret in sorted({secret for secret in secrets if secret}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _connect(dsn: str) -> psycopg.Connection:
    try:
        connection = psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as error:
        raise SourceError(
            f"postgres: cannot connect to {shown_dsn(dsn)}: {hide_secrets(first_line(error), dsn)}"
        ) from None
    connection.read_only = True
    connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    return connection


def _read_table(
    connection: psycopg.Connection,
    mapping: TableMapping,
    state: dict | None,
    step: Callable[[str], None],
) -> tuple[pa.Table, dict]:
    """The table's rows as a contract table, and its incremental state after this read."""
    step(mapping.name)
    mapping, kinds = _describe(connection, mapping)
    after = saved_after(state, mapping)
    query, columns = plan_select(mapping, kinds, after=after and after[0])
    query = query.replace("$after", _literal(*after)) if after else query
    pieces: list[pa.RecordBatch] = []
    rows = 0
    try:
        with connection.transaction(), connection.cursor(name=f"jm_{mapping.name}") as cursor:
            cursor.execute(query)
            while batch := cursor.fetchmany(ROWS_PER_BATCH):
                pieces.append(_record_batch(batch, columns))
                rows += len(batch)
                step(f"{mapping.name}: {rows:,} rows")
            maximum = _maximum(connection, mapping, after)
    except psycopg.Error as error:
        raise _located(connection, mapping, error) from None
    state_after = table_state(mapping, *maximum) if mapping.incremental else None
    if after and maximum[0] is None:  # no new rows: keep the value read from last time
        state_after = table_state(mapping, *after)
    return to_contract(mapping, pieces, columns), state_after


def _describe(
    connection: psycopg.Connection, mapping: TableMapping
) -> tuple[TableMapping, dict[str, str]]:
    """The mapping (a `sql:` table gets its columns) and the kind of each mapped expression."""
    try:
        with connection.transaction(), connection.cursor() as cursor:
            if mapping.sql is not None:
                cursor.execute(f"select * from {relation(mapping)} limit 0")
                mapping = with_sql_columns(mapping, [column.name for column in cursor.description])
            expressions = ", ".join(mapping.columns.values())
            cursor.execute(f"select {expressions} from {relation(mapping)} limit 0")
            types = [column.type_code for column in cursor.description]
    except psycopg.Error as error:
        raise _located(connection, mapping, error) from None
    kinds = {}
    for column, oid in zip(mapping.columns, types, strict=True):
        info = connection.adapters.types.get(oid)
        kinds[column] = _KINDS.get(info.name if info else "", "other")
    return mapping, kinds


def _maximum(
    connection: psycopg.Connection, mapping: TableMapping, after: tuple[str, str] | None
) -> tuple[str | None, str | None]:
    """The largest incremental value among the rows read (as text) and its PostgreSQL type."""
    if mapping.incremental is None:
        return None, None
    where = incremental_filter(mapping, after and after[0])
    where = where.replace("$after", _literal(*after)) if after else where
    value = f"max({mapping.incremental})"
    return connection.execute(
        f"select {value}::text, pg_typeof({value})::text from {relation(mapping)}{where}"
    ).fetchone()


def _literal(value: str, type_name: str) -> str:
    """A saved incremental value as a SQL constant of its type."""
    if not _TYPE_NAME.fullmatch(type_name):
        raise SourceError(f"postgres: the saved incremental state has a bad type {type_name!r}")
    return "'" + value.replace("'", "''") + "'::" + type_name


def _record_batch(rows: list[tuple], columns: list[Column]) -> pa.RecordBatch:
    values = list(zip(*rows, strict=True))
    return pa.record_batch(
        [pa.array(values[index], column.arrow) for index, column in enumerate(columns)],
        names=[column.name for column in columns],
    )


def _located(
    connection: psycopg.Connection, mapping: TableMapping, error: psycopg.Error
) -> SourceError:
    """The SQL error as one line naming the mapping key whose SQL PostgreSQL rejects."""

    def fails(sql: str) -> str | None:
        try:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.execute(sql)
        except psycopg.Error as probe:
            return first_line(probe)
        return None

    if connection.closed or isinstance(error, psycopg.OperationalError):
        return SourceError(f"{mapping.path}: {mapping.name}: PostgreSQL: {first_line(error)}")
    return locate_error(mapping, first_line(error), fails, "PostgreSQL")
