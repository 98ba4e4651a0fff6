"""The SQL guard of `ask`: one read-only SELECT over this project's marts, or nothing runs.

DuckDB itself does both checks. Before anything runs, the query is parsed by DuckDB's own parser
(`json_serialize_sql`), which serialises SELECT statements only: DROP, COPY, ATTACH, INSTALL, LOAD,
PRAGMA, SET and every other statement are refused. The parse tree is then walked with DuckDB's CTE
scoping (below): every table the query really reads must be a mart of this project; SHOW,
DESCRIBE and SUMMARIZE, table functions other than range / generate_series / unnest, and scalar
functions that read the catalog, settings or environment are refused. Then, on a read-only
connection with external access off, DuckDB's bound plan (`EXPLAIN (FORMAT JSON)`) must scan only
those marts and allowed table functions; this also catches what a parse tree cannot show, such as
built-in macros that expand to catalog queries. The query then runs with a row and a time limit.

CTE scoping of DuckDB 1.5.6, checked by running each case (tests/ai/test_sql_guard.py):
- a CTE body sees the CTEs defined before it in its WITH and those of enclosing queries, never
  itself or a later one: there the name means the catalog table;
- under WITH RECURSIVE, a body that is a UNION [ALL] also sees its own name, in the recursive
  (right) branch only, including subqueries there; any other body is not recursive;
- a WITH inside a subquery, a set-operation branch or a CTE body is visible only inside it; a
  WITH before a UNION covers every branch; MATERIALIZED does not change scoping;
- a qualified name (main.x, catalog.main.x) never means a CTE;
- names match case-insensitively in ASCII only, quoted or not ("É" and "é" differ).
The walk treats a name as a CTE only where DuckDB does; anywhere else the name is checked against
the marts, so a scoping case it does not know can refuse a good query but never pass another table.
"""

from __future__ import annotations

import json
import string
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from jobmetrics.warehouse.read import open_read_only
from jobmetrics.warehouse.results import QueryResult

# range, generate_series and unnest compute rows from their arguments and read nothing else.
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
# Scalar functions that reach past the rows of the query: files, the catalog, settings, the
# session, the environment, sequences, logs. pg_* and has_* are the pg_catalog compatibility
# macros, several of which expand to duckdb_*() scans (pg_get_viewdef prints view definitions);
# pg_typeof and pg_size_pretty are harmless but go with them rather than be listed one by one.
_DENIED_FUNCTION_PREFIXES = (
    "duckdb_",
    "pragma_",
    "pg_",
    "has_",
    "inet_",
    "read_",
    "parquet_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "iceberg_",
    "delta_",
    "json_execute",
    "json_serialize",
    "json_deserialize",
)
_DENIED_FUNCTIONS = frozenset(
    {
        "col_description",
        "obj_description",
        "shobj_description",
        "format_type",
        "format_pg_type",
        "map_to_pg_oid",
        "get_block_size",
        "current_setting",
        "current_database",
        "current_catalog",
        "current_schema",
        "current_schemas",
        "current_user",
        "current_role",
        "current_query",
        "current_query_id",
        "current_connection_id",
        "current_transaction_id",
        "session_user",
        "user",
        "in_search_path",
        "txid_current",
        "version",
        "getenv",
        "getvariable",
        "nextval",
        "currval",
        "sleep_ms",
        "write_log",
        "glob",
        "query",
        "query_table",
        "which_secret",
        "sniff_csv",
        "checkpoint",
        "force_checkpoint",
        "load_extension",
        "install_extension",
    }
)
_SHOW_WORDS = {"DESCRIBE": "DESCRIBE", "SUMMARY": "SUMMARIZE"}
# DuckDB folds identifiers in ASCII only; str.lower() would also fold "É" and the Kelvin sign.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class GuardRejected(Exception):
    """The query is not a single SELECT over the marts; the message says what is wrong."""


class QueryFailed(Exception):
    """The query passed the guard but DuckDB could not run it (or it ran out of time)."""


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the guard, with the marts it reads."""

    sql: str
    tables: tuple[str, ...]


def _fold(name: Any) -> str:
    """An identifier as DuckDB compares it: ASCII letters lower-cased, nothing else."""
    return str(name or "").translate(_ASCII_LOWER)


def _serialise(sql: str) -> dict[str, Any]:
    with duckdb.connect(":memory:") as connection:
        text = connection.execute("select json_serialize_sql(?)", [sql]).fetchone()[0]
    return json.loads(text)


def _walk(node: Any, ctes: frozenset[str]) -> Iterator[tuple[dict[str, Any], frozenset[str]]]:
    """Every dict in the parse tree, with the CTE names DuckDB resolves as CTEs where it sits."""
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, ctes)
        return
    if not isinstance(node, dict):
        return
    cte_map = node.get("cte_map")
    if isinstance(cte_map, dict):
        # a CTE body sees the CTEs before it, not itself or the ones after it
        for entry in cte_map.get("map") or []:
            yield from _walk(entry.get("value"), ctes)
            ctes = ctes | {_fold(entry.get("key"))}
    yield node, ctes
    for key, value in node.items():
        if key == "cte_map":
            continue
        if key == "right" and node.get("type") == "RECURSIVE_CTE_NODE":
            # the recursive branch of WITH RECURSIVE name AS (anchor UNION [ALL] recursive)
            yield from _walk(value, ctes | {_fold(node.get("cte_name"))})
        else:
            yield from _walk(value, ctes)


def _cte_names(statement: Any) -> set[str]:
    """Every CTE name defined anywhere in the statement (for the refusal message)."""
    names = set()
    for node, _ in _walk(statement, frozenset()):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            names |= {_fold(entry.get("key")) for entry in cte_map.get("map") or []}
    return names


def _denied_function(name: str) -> bool:
    return name in _DENIED_FUNCTIONS or name.startswith(_DENIED_FUNCTION_PREFIXES)


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
    mart_names = {_fold(mart): mart for mart in marts}
    allowed_catalogs = {"", *(_fold(catalog) for catalog in catalogs or set())}
    tables: set[str] = set()
    for node, ctes in _walk(statements[0], frozenset()):
        kind = node.get("type")
        if kind == "BASE_TABLE":
            name = _fold(node.get("table_name"))
            schema = _fold(node.get("schema_name"))
            catalog = _fold(node.get("catalog_name"))
            if not schema and not catalog and name in ctes:
                continue
            if (
                name not in mart_names
                or schema not in ("", "main")
                or catalog not in allowed_catalogs
            ):
                raise GuardRejected(_not_a_mart(node, statements[0], marts))
            tables.add(mart_names[name])
        elif kind == "SHOW_REF":
            # DuckDB answers these while binding, so the plan cannot show what they read; the
            # marts and their columns are in the schema context already.
            word = _SHOW_WORDS.get(str(node.get("show_type")), "SHOW")
            raise GuardRejected(f"{word} is not allowed: query the marts with SELECT")
        elif kind == "TABLE_FUNCTION":
            name = _fold((node.get("function") or {}).get("function_name"))
            if name not in ALLOWED_TABLE_FUNCTIONS:
                allowed_list = ", ".join(sorted(ALLOWED_TABLE_FUNCTIONS))
                raise GuardRejected(f"table function {name}() is not allowed (only {allowed_list})")
        if "function_name" in node and _denied_function(_fold(node["function_name"])):
            raise GuardRejected(
                f"function {_fold(node['function_name'])}() is not allowed: it reaches past "
                "the marts' rows"
            )
    return CheckedQuery(sql=text, tables=tuple(sorted(tables)))


def _not_a_mart(node: dict[str, Any], statement: Any, marts: set[str]) -> str:
    """The refusal for a table that is not a mart, saying why a same-named CTE did not count."""
    parts = [node.get(key) or "" for key in ("catalog_name", "schema_name", "table_name")]
    shown = ".".join(str(part) for part in parts if part)
    message = f"table {shown!r} is not one of this project's marts ({', '.join(sorted(marts))})"
    if _fold(node.get("table_name")) in _cte_names(statement):
        if parts[0] or parts[1]:
            message += "; a qualified name never refers to a CTE"
        else:
            message += (
                "; a CTE of that name is not visible there (a CTE sees only the CTEs defined "
                "before it, and itself only in the recursive part of WITH RECURSIVE ... UNION)"
            )
    return message


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection that cannot read files, install or load extensions."""
    return open_read_only(
        warehouse,
        config={
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            # no Python variable can stand in for a table name (a replacement scan)
            "python_enable_replacements": False,
            "lock_configuration": True,
        },
    )


def _plan_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every operator of an EXPLAIN (FORMAT JSON) plan."""
    if isinstance(node, list):
        for item in node:
            yield from _plan_nodes(item)
    elif isinstance(node, dict):
        yield node
        yield from _plan_nodes(node.get("children"))


def _split_qualified(name: str) -> list[str]:
    """catalog.main."table" as DuckDB prints it in a plan, split into unquoted parts."""
    parts, current, quoted, index = [], "", False, 0
    while index < len(name):
        char = name[index]
        if char == '"' and quoted and name[index + 1 : index + 2] == '"':
            current += '"'
            index += 1
        elif char == '"':
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
        index += 1
    return [*parts, current]


def _check_plan(connection: duckdb.DuckDBPyConnection, query: CheckedQuery) -> None:
    """Refuse unless DuckDB's bound plan scans only the query's marts and allowed functions.

    Defence in depth behind check_sql: the plan shows what the query reads after DuckDB resolved
    every name, view and macro. Planning costs about a millisecond.
    """
    plans = connection.execute("explain (format json) " + query.sql).fetchall()
    if not plans:
        raise GuardRejected("DuckDB gave no plan for the query, so what it reads cannot be checked")
    catalog = _fold(connection.execute("select current_database()").fetchone()[0])
    allowed = {(catalog, "main", _fold(table)) for table in query.tables}
    for _, text in plans:
        for node in _plan_nodes(json.loads(text)):
            info = node.get("extra_info")
            if not isinstance(info, dict):
                continue
            if "Table" in info:
                parts = tuple(_fold(part) for part in _split_qualified(str(info["Table"])))
                if parts not in allowed:
                    raise GuardRejected(
                        f"the query's plan reads table {info['Table']}, which is not one of the "
                        f"marts it was checked for ({', '.join(query.tables) or 'none'})"
                    )
            elif "Function" in info and _fold(info["Function"]) not in ALLOWED_TABLE_FUNCTIONS:
                raise GuardRejected(
                    f"the query's plan calls table function {_fold(info['Function'])}(), which "
                    "is not allowed"
                )


def run_query(
    warehouse: Path, query: CheckedQuery, *, row_limit: int, timeout_s: float
) -> QueryResult:
    """Run a checked query read-only; at most `row_limit` rows, interrupted after `timeout_s`."""
    connection = connect_read_only(warehouse)
    timer = threading.Timer(timeout_s, connection.interrupt)
    started = time.perf_counter()
    try:
        timer.start()
        _check_plan(connection, query)
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
        name="ask",
        columns=columns,
        rows=[tuple(row) for row in rows[:row_limit]],
        truncated=len(rows) > row_limit,
        seconds=time.perf_counter() - started,
    )
