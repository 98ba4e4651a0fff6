"""One page from Markdown to HTML: run its queries, template it, render Markdown and components.

Order of work (each error names the page line it comes from):
1. the ```sql name``` blocks run in page order (each one Jinja-templated first, so `params` and
   earlier results can be used in SQL), and are blanked out of the body, keeping line numbers;
2. component tags get their line as an attribute, then the body is rendered by Jinja2 with every
   result by name (`{{ kpis.mrr | usd }}`, `{% for row in by_channel %}`);
3. component tags are cut out, the Markdown is rendered by markdown-it, and each component's
   HTML is put back where its tag was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
from markdown_it import MarkdownIt

from jobmetrics.core.errors import PageError, PageProblem
from jobmetrics.reports import components, queries, tags
from jobmetrics.reports.narratives import Narrator
from jobmetrics.reports.pages_loader import PageInstance
from jobmetrics.reports.templating import environment, render, render_string
from jobmetrics.warehouse.results import QueryResult

MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


@dataclass
class RenderedPage:
    """A page's HTML body and what the layout needs around it."""

    body: str
    results: dict[str, QueryResult]
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    has_heading: bool = False
    params_tables: set[str] = field(default_factory=set)

    @property
    def tables(self) -> list[str]:
        """Warehouse tables the page's queries read, sorted (the page's lineage)."""
        tables = {table for result in self.results.values() for table in result.tables}
        return sorted(tables | self.params_tables)


def _blank_blocks(body: str, blocks: list[queries.SqlBlock]) -> str:
    lines = body.split("\n")
    for block in blocks:
        for index in range(block.first_line - 1, min(block.last_line, len(lines))):
            lines[index] = ""
    return "\n".join(lines)


def _run_queries(
    page: PageInstance,
    connection: duckdb.DuckDBPyConnection,
    blocks: list[queries.SqlBlock],
) -> dict[str, QueryResult]:
    results: dict[str, QueryResult] = {}
    for block in blocks:
        context = {"params": page.params, **results}
        try:
            sql = render_string(
                block.sql, context, name=f"sql:{block.name}", include_dir=page.source.pages_dir
            )
        except PageProblem as problem:
            line = block.line + (problem.line or 1) - 1
            raise PageProblem(f"query {block.name!r}: {problem}", line) from None
        results[block.name] = queries.run_query(connection, block.name, sql, block.line, results)
    return results


def render_page(
    page: PageInstance,
    connection: duckdb.DuckDBPyConnection,
    *,
    down_is_good: dict[str, bool | None] | None = None,
    narrator: Narrator | None = None,
) -> RenderedPage:
    """Build one page's body; any problem is raised as a PageError naming file and line."""
    try:
        return _render(page, connection, down_is_good or {}, narrator)
    except PageProblem as problem:
        message = str(problem)
        raise PageError(page.source.path, problem.line, message) from None


def _render(
    page: PageInstance,
    connection: duckdb.DuckDBPyConnection,
    down_is_good: dict[str, bool | None],
    narrator: Narrator | None,
) -> RenderedPage:
    source = page.source
    blocks = queries.find_sql_blocks(source.body)
    # Each page gets its own connection, so its temp tables never meet another page's.
    cursor = connection.cursor()
    try:
        results = _run_queries(page, cursor, blocks)
        params_tables = (
            queries.tables_read(cursor, str(source.meta["params_query"])) if source.param else set()
        )
    finally:
        cursor.close()
    body = tags.mark_lines(_blank_blocks(source.body, blocks))
    name = str(source.path)
    env = environment(name, body, include_dir=source.pages_dir)
    context: dict[str, Any] = {"params": page.params, "root": page.root, **results}
    text = render(env, name, context)
    placed = tags.extract(text, components.ACCEPTED)
    canvas = components.Canvas(
        title=page.title,
        results=results,
        down_is_good=down_is_good,
        narrator=narrator,
    )
    pieces = components.render_all(placed, canvas)
    tokens = MARKDOWN.parse(placed.text)
    has_heading = any(token.type == "heading_open" and token.tag == "h1" for token in tokens)
    html = tags.group_tiles(MARKDOWN.renderer.render(tokens, MARKDOWN.options, {}), placed)
    for index, piece in enumerate(pieces):
        html = html.replace(tags.placeholder(index), piece, 1)
    return RenderedPage(
        body=html,
        results=results,
        datasets=canvas.datasets,
        charts=canvas.charts,
        has_heading=has_heading,
        params_tables=params_tables,
    )
