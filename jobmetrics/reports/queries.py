"""Named SQL blocks of a page: find them, run them read-only in order, expose their results.

A block is a fenced code block whose info string is `sql <name>`. A later block reads an earlier
result with `${name}`; each result is kept as a temporary table of the page's own connection, so
`${name}` becomes a reference to that table and the warehouse itself is never written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
from markdown_it import MarkdownIt

from jobmetrics.core.errors import PageProblem
from jobmetrics.warehouse.results import QueryResult

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


def temp_table(name: str, body: str = "") -> str:
    """The temporary table holding a result: named by the query and, for a page's views, by
    its SQL, so a view whose query is the same as another's reads the same table."""
    if not body:
        return f"{TEMP_PREFIX}{name}"
    return f"{TEMP_PREFIX}{name}_{hashlib.blake2b(body.encode(), digest_size=6).hexdigest()}"


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def _error_line(message: str, block_line: int) -> int:
    """Page line of a DuckDB error: its `LINE n:` counts from the block's first SQL line."""
    match = _DUCKDB_LINE.search(message)
    return block_line + int(match.group(1)) - 1 if match else block_line


def rewrite_references(sql: str, known: Mapping[str, str], line: int) -> str:
    """Replace `${name}` by the temporary table holding that earlier result (`known`: query
    name → table)."""

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
        return known[name]

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


@dataclass
class PageQueries:
    """The results of one page's queries on the page's own connection, across its views.

    A query whose SQL (inputs filled in, earlier results named by their tables) is the same in
    two views runs once: its table is named after its SQL (temp_table)."""

    connection: duckdb.DuckDBPyConnection
    done: dict[str, tuple[QueryResult, str]] = field(default_factory=dict)

    def run(
        self, name: str, sql: str, line: int, known: Mapping[str, str], *, lineage: bool = True
    ) -> tuple[QueryResult, str]:
        """Run one block (or reuse its earlier run); returns its result and its table.

        lineage=False leaves out the tables it reads (a page's lineage is its default view's)."""
        body = rewrite_references(sql.strip().rstrip(";").strip(), known, line)
        if not body:
            raise PageProblem(f"query {name!r} is empty", line)
        table = temp_table(name, body)
        if table in self.done:
            return self.done[table]
        try:
            # Same line as the SQL's first line, so DuckDB's `LINE n` stays the block's line n.
            self.connection.execute(f"create or replace temp table {table} as {body}")
            cursor = self.connection.execute(f"select * from {table}")
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        except duckdb.Error as error:
            message = str(error)
            raise PageProblem(
                f"query {name!r}: {_first_line(message)}", _error_line(message, line)
            ) from None
        result = QueryResult(
            name=name,
            columns=columns,
            rows=rows,
            sql=sql,
            line=line,
            tables=tables_read(self.connection, body) if lineage else set(),
        )
        self.done[table] = (result, table)
        return result, table
