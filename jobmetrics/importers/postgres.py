"""`jobmetrics import postgres`: a product database's users, scans and sessions (any raw table the
mapping file names) read from PostgreSQL into a raw folder.

Everything is read in one read-only REPEATABLE READ transaction, so the tables are one consistent
snapshot; each table's select runs on the server (the mapping's expressions are PostgreSQL SQL)
and its rows are fetched through a server-side cursor, ROWS_PER_BATCH at a time, into Arrow.
The connection string (the CLI's --dsn or JOBMETRICS_POSTGRES_DSN, core/settings.py) is any libpq
form: `postgresql://user:password@host:5432/db` or `host=... dbname=... user=...`, with libpq's PG*
variables and ~/.pgpass filling in what it leaves out; no message shows its password.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import psycopg
import pyarrow as pa
from psycopg.conninfo import conninfo_to_dict

from jobmetrics.importers.errors import SourceError
from jobmetrics.importers.mapping import (
    ROWS_PER_BATCH,
    Column,
    first_line,
    load_mapping,
    read_tables,
    write_tables,
)
from jobmetrics.importers.raw_folder import read_import_state

SOURCE = "postgres"
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
    dsn: str,
    append: bool = False,
    until: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Read the mapped tables from PostgreSQL and write them as the raw folder `out`; return the
    manifest. With append, tables with an `incremental:` column read only rows from the value
    the last import saw on, and every table's rows are merged into `out` by key."""
    step = progress or (lambda _message: None)
    plan = load_mapping(mapping, source=SOURCE)
    state = read_import_state(out, SOURCE) if append else None
    try:
        with _connect(dsn) as connection, connection.transaction():
            connection.execute("set local time zone 'UTC'")
            tables, saved = read_tables(_Server(connection), plan, state, step, until)
    except psycopg.Error as error:  # what the mapping's SQL did to the session, in one line
        raise SourceError(f"postgres: {hide_secrets(first_line(error), dsn)}") from None
    return write_tables(out, SOURCE, tables, saved, append=append, step=step, until=until)


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
        conninfo_to_dict(dsn)
    except psycopg.Error:  # libpq's message may quote a piece of the password
        raise SourceError(
            "postgres: the connection string (--dsn or JOBMETRICS_POSTGRES_DSN) does not parse: "
            "check its quoting, and percent-encode special characters in a postgresql:// URL"
        ) from None
    try:
        # every transaction of the session is read-only, even one a mapping's SQL would open
        connection = psycopg.connect(
            dsn, connect_timeout=CONNECT_TIMEOUT_S, options="-c default_transaction_read_only=on"
        )
    except psycopg.Error as error:
        raise SourceError(
            f"postgres: cannot connect to {shown_dsn(dsn)}: {hide_secrets(first_line(error), dsn)}"
        ) from None
    connection.read_only = True
    connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    return connection


class _Server:
    """The mapping's SQL run on the PostgreSQL server (mapping.Engine), each statement in a
    savepoint so that a rejected one leaves the snapshot usable for the next."""

    name = "PostgreSQL"
    errors = (psycopg.Error,)

    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection

    def describe(self, select: str) -> list[tuple[str, str]]:
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.execute(f"{select} limit 0")
            described = []
            for column in cursor.description:
                info = self.connection.adapters.types.get(column.type_code)
                described.append((column.name, _KINDS.get(info.name if info else "", "other")))
        return described

    def batches(self, select: str, columns: list[Column]) -> Iterator[pa.RecordBatch]:
        # a server-side cursor: the server keeps the result, we hold one batch of tuples at a time
        with (
            self.connection.transaction(),
            self.connection.cursor(name="jobmetrics_import") as cursor,
        ):
            cursor.execute(select)
            while rows := cursor.fetchmany(ROWS_PER_BATCH):
                values = list(zip(*rows, strict=True))
                yield pa.record_batch(
                    [pa.array(values[index], column.arrow) for index, column in enumerate(columns)],
                    names=[column.name for column in columns],
                )

    def one(self, select: str) -> tuple:
        with self.connection.transaction():
            return self.connection.execute(select).fetchone()

    def largest(self, expression: str) -> str:
        return f"max({expression})::text, pg_typeof(max({expression}))::text"

    def constant(self, value: str, type_name: str) -> str:
        if not _TYPE_NAME.fullmatch(type_name):
            raise SourceError(f"postgres: the saved incremental state has a bad type {type_name!r}")
        return "'" + value.replace("'", "''") + "'::" + type_name

    def fails(self, select: str) -> str | None:
        if self.connection.closed:  # the server went away: no part of the mapping is to blame
            return None
        try:
            with self.connection.transaction(), self.connection.cursor() as cursor:
                cursor.execute(select)
        except psycopg.Error as error:
            return first_line(error)
        return None
