"""The SQL guard of `ask`: one read-only SELECT over this project's marts, or nothing runs.

The query is parsed by DuckDB's own parser (`json_serialize_sql`), which serialises SELECT
statements only: DROP, COPY, ATTACH, INSTALL, LOAD, PRAGMA, SET and every other statement are
refused before anything runs. The parse tree is then walked: every table must be a mart of this
project (or a CTE of the query), table functions such as read_csv, read_parquet or glob are
refused, and so are scalar functions that reach outside the warehouse. The query then runs on a
read-only connection with external access disabled, a row limit and a time limit.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
_DENIED_FUNCTIONS = re.compile(
    r"^(read_|parquet_|sqlite_|postgres_|mysql_|iceberg_|delta_|duckdb_|pragma_|json_execute|"
    r"glob$|getenv$|query$|query_table$|current_setting$|load_extension|install_extension)",
    re.IGNORECASE,
)


class GuardRejected(Exception):
    """The query is not a single SELECT over the marts; the message says what is wrong."""


class QueryFailed(Exception):
    """The query passed the guard but DuckDB could not run it (or it ran out of time)."""


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the guard, with the marts it reads."""

    sql: str
    tables: tuple[str, ...]


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    seconds: float

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _serialise(sql: str) -> dict[str, Any]:
    with duckdb.connect(":memory:") as connection:
        text = connection.execute("select json_serialize_sql(?)", [sql]).fetchone()[0]
    return json.loads(text)


def _walk(node: Any, ctes: frozenset[str]) -> Iterator[tuple[dict[str, Any], frozenset[str]]]:
    """Every dict in the parse tree, with the CTE names visible where it sits."""
    if isinstance(node, dict):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            names = {str(item.get("key", "")).lower() for item in cte_map.get("map") or []}
            ctes = ctes | names
        yield node, ctes
        for value in node.values():
            yield from _walk(value, ctes)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, ctes)


def check_sql(sql: str, marts: set[str], catalogs: set[str] | None = None) -> CheckedQuery:
    """Parse `sql` and return it if it is one SELECT over `marts`; GuardRejected otherwise."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise GuardRejected("the query is empty")
    try:
        parsed = _serialise(text)
    except duckdb.Error as error:
        raise GuardRejected(f"the query could not be parsed: {error}") from None
    if parsed.get("error"):
        message = str(parsed.get("error_message", "not a SELECT statement"))
        if "Only SELECT" in message:
            message = "only a single SELECT (or WITH ... SELECT) statement is allowed"
        raise GuardRejected(message)
    statements = parsed.get("statements") or []
    if len(statements) != 1:
        raise GuardRejected(f"exactly one statement is allowed, got {len(statements)}")
    allowed_catalogs = {"", *(c.lower() for c in (catalogs or set()))}
    tables: set[str] = set()
    for node, ctes in _walk(statements[0], frozenset()):
        kind = node.get("type")
        if kind == "BASE_TABLE":
            name = str(node.get("table_name", "")).lower()
            schema = str(node.get("schema_name", "")).lower()
            catalog = str(node.get("catalog_name", "")).lower()
            if not schema and not catalog and name in ctes:
                continue
            if name not in marts or schema not in ("", "main") or catalog not in allowed_catalogs:
                shown = ".".join(part for part in (catalog, schema, name) if part)
                raise GuardRejected(
                    f"table {shown!r} is not one of this project's marts "
                    f"({', '.join(sorted(marts))})"
                )
            tables.add(name)
        elif kind == "TABLE_FUNCTION":
            function = node.get("function") or {}
            name = str(function.get("function_name", "")).lower()
            if name not in ALLOWED_TABLE_FUNCTIONS:
                raise GuardRejected(f"table function {name}() is not allowed")
        if node.get("class") == "FUNCTION":
            name = str(node.get("function_name", ""))
            if _DENIED_FUNCTIONS.match(name):
                raise GuardRejected(f"function {name}() is not allowed")
    return CheckedQuery(sql=text, tables=tuple(sorted(tables)))


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection that cannot read files, install or load extensions."""
    if not warehouse.exists():
        raise QueryFailed(f"no warehouse at {warehouse}; run `jobmetrics build` first")
    try:
        return duckdb.connect(
            str(warehouse),
            read_only=True,
            config={
                "enable_external_access": False,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "lock_configuration": True,
            },
        )
    except duckdb.Error as error:
        raise QueryFailed(f"cannot open {warehouse} read-only: {error}") from None


def run_query(
    warehouse: Path, query: CheckedQuery, *, row_limit: int, timeout_s: float
) -> QueryResult:
    """Run a checked query read-only; at most `row_limit` rows, interrupted after `timeout_s`."""
    connection = connect_read_only(warehouse)
    timer = threading.Timer(timeout_s, connection.interrupt)
    started = time.perf_counter()
    try:
        timer.start()
        cursor = connection.execute(query.sql)
        columns = [column[0] for column in cursor.description or []]
        rows = cursor.fetchmany(row_limit + 1)
    except duckdb.InterruptException:
        raise QueryFailed(f"the query took longer than {timeout_s:g} s and was stopped") from None
    except duckdb.Error as error:
        raise QueryFailed(" ".join(str(error).split())) from None
    finally:
        timer.cancel()
        connection.close()
    return QueryResult(
        columns=columns,
        rows=[tuple(row) for row in rows[:row_limit]],
        truncated=len(rows) > row_limit,
        seconds=time.perf_counter() - started,
    )
