"""Named SQL blocks of a page: find them, run them read-only in order, expose their results.

A block is a fenced code block whose info string is `sql <name>`. A later block reads an earlier
result with `${name}`; each result is kept as a temporary table of the page's own connection, so
`${name}` becomes a reference to that table and the warehouse itself is never written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
from markdown_it import MarkdownIt

from reports.errors import PageProblem

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REFERENCE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
TEMP_PREFIX = "__page_"
_DUCKDB_LINE = re.compile(r"\bLINE (\d+):")


@dataclass(frozen=True)
class SqlBlock:
    """One ```sql name``` block: its name, SQL text and the page line of its first SQL line."""

    name: str
    sql: str
    line: int
    first_line: int
    last_line: int
    """Page lines (1-based, inclusive) of the fence, so the body can blank them out."""


def find_sql_blocks(source: str) -> list[SqlBlock]:
    """The named SQL blocks of a Markdown source, in page order."""
    blocks: list[SqlBlock] = []
    for token in MarkdownIt("commonmark").parse(source):
        if token.type != "fence" or token.map is None:
            continue
        words = token.info.split()
        if not words or words[0].lower() != "sql" or len(words) < 2:
            continue
        name = words[1]
        start, end = token.map
        if not NAME.match(name):
            raise PageProblem(
                f"query name {name!r} is not a valid name (letters, digits, _)", start + 1
            )
        if any(block.name == name for block in blocks):
            raise PageProblem(f"query {name!r} is defined twice", start + 1)
        blocks.append(
            SqlBlock(
                name=name, sql=token.content, line=start + 2, first_line=start + 1, last_line=end
            )
        )
    return blocks


class Row(Mapping[str, Any]):
    """One result row; pages read `row.mrr` (the page environment looks columns up first)."""

    __slots__ = ("_result", "_values")

    def __init__(self, result: QueryResult, values: tuple) -> None:
        self._result = result
        self._values = values

    def __getitem__(self, column: str) -> Any:
        return self._values[self._result.index(column)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._result.columns)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(self)!r})"


@dataclass
class QueryResult:
    """The rows of one named query; in a page `kpis.mrr` is the first row's value (as in Evidence).

    Pages reach columns through the page environment's attribute lookup (reports.render), so a
    column called `name` or `rows` is still a column there, not this object's attribute.
    """

    name: str
    columns: list[str]
    rows: list[tuple]
    sql: str = ""
    line: int | None = None
    tables: set[str] = field(default_factory=set)
    _positions: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._positions = {column: i for i, column in enumerate(self.columns)}

    def index(self, column: str) -> int:
        """Position of a column; an unknown column is a page error naming the known ones."""
        try:
            return self._positions[column]
        except KeyError:
            raise PageProblem(
                f"query {self.name!r} has no column {column!r} (columns: {', '.join(self.columns)})"
            ) from None

    def column(self, column: str) -> list[Any]:
        position = self.index(column)
        return [row[position] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def first(self, column: str) -> Any:
        """The first row's value of a column; None when the query returned no rows."""
        position = self.index(column)
        return self.rows[0][position] if self.rows else None

    def filtered(self, conditions: Mapping[str, str]) -> QueryResult:
        """The rows whose columns equal the given values (compared as text), as a new result."""
        positions = {self.index(column): value for column, value in conditions.items()}
        rows = [
            row
            for row in self.rows
            if all(str(row[position]) == value for position, value in positions.items())
        ]
        suffix = "-".join(re.sub(r"[^A-Za-z0-9]+", "_", value) for value in conditions.values())
        return QueryResult(
            name=f"{self.name}-{suffix}",
            columns=self.columns,
            rows=rows,
            sql=self.sql,
            line=self.line,
            tables=self.tables,
        )

    def __iter__(self) -> Iterator[Row]:
        return (Row(self, values) for values in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, int):
            return Row(self, self.rows[key])
        return self.first(key)


def temp_table(name: str) -> str:
    return f"{TEMP_PREFIX}{name}"


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def _error_line(message: str, block_line: int) -> int:
    """Page line of a DuckDB error: its `LINE n:` counts from the block's first SQL line."""
    match = _DUCKDB_LINE.search(message)
    return block_line + int(match.group(1)) - 1 if match else block_line


def rewrite_references(sql: str, known: Mapping[str, QueryResult], line: int) -> str:
    """Replace `${name}` by the temporary table holding that earlier result."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in known:
            before = sql[: match.start()].count("\n")
            earlier = ", ".join(known) or "none"
            raise PageProblem(
                f"query reference ${{{name}}} is not an earlier query on this page "
                f"(earlier: {earlier})",
                line + before,
            )
        return temp_table(name)

    return REFERENCE.sub(replace, sql)


def tables_read(connection: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    """Warehouse tables a query reads (lineage); page results and CTE names left out."""
    try:
        names = connection.get_table_names(sql)
    except duckdb.Error:
        return set()
    return {
        name.split(".")[-1].lower()
        for name in names
        if not name.split(".")[-1].startswith(TEMP_PREFIX)
    }


def run_query(
    connection: duckdb.DuckDBPyConnection,
    name: str,
    sql: str,
    line: int,
    known: Mapping[str, QueryResult],
) -> QueryResult:
    """Run one block on the page's connection, keep it as a temp table, return its rows."""
    body = rewrite_references(sql.strip().rstrip(";").strip(), known, line)
    if not body:
        raise PageProblem(f"query {name!r} is empty", line)
    try:
        # Same line as the SQL's first line, so DuckDB's `LINE n` stays the block's line n.
        connection.execute(f"create or replace temp table {temp_table(name)} as {body}")
        cursor = connection.execute(f"select * from {temp_table(name)}")
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    except duckdb.Error as error:
        message = str(error)
        raise PageProblem(
            f"query {name!r}: {_first_line(message)}", _error_line(message, line)
        ) from None
    return QueryResult(
        name=name,
        columns=columns,
        rows=rows,
        sql=sql,
        line=line,
        tables=tables_read(connection, body),
    )


def to_json_value(value: Any) -> Any:
    """A JSON-safe form of a DuckDB value (Decimal → float, dates → ISO text, doubles to 12
    significant digits)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # NaN has no JSON form; 12 significant digits drop binary noise (6177.2999999999965).
        return None if value != value else float(f"{value:.12g}")
    if isinstance(value, list | tuple):
        return [to_json_value(item) for item in value]
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
