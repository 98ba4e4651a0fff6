"""One page from Markdown to HTML: run its queries, template it, render Markdown and components.

Order of work (each error names the page line it comes from):
1. the ```sql name``` blocks are blanked out of the body (keeping line numbers) and the page's
   input tags are read; their option queries run first (reports.inputs);
2. per view (one per combination of the view inputs' options; a page without inputs has one)
   the blocks run in page order, each Jinja-templated first (`params`, `inputs` and earlier
   results can be used in SQL);
3. component tags get their line as an attribute, then the body is rendered by Jinja2 with every
   result by name (`{{ kpis.mrr | usd }}`, `{% for row in by_channel %}`);
4. component tags are cut out, the Markdown is rendered by markdown-it, and each component's
   HTML is put back where its tag was. The body is kept as chunks (top-level blocks), so the
   browser swaps only the chunks one view changes.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from jobmetrics.ai.coverage import Coverage
from jobmetrics.core.errors import PageError, PageProblem
from jobmetrics.reports import anchors, components, inputs, queries, tags
from jobmetrics.reports.annotations import Alert
from jobmetrics.reports.narratives import Narrator
from jobmetrics.reports.pages_loader import PageInstance
from jobmetrics.reports.templating import PageEnvironment, environment, render, render_string
from jobmetrics.warehouse.results import QueryResult

MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
CHUNK_MARK = "<!--jm-chunk:{}-->"
_PLACEHOLDER = re.compile(r"^<!--jm-component-(\d+)-->\s*$")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
_VOID |= {"track", "wbr"}
_OPEN_TAG = re.compile(r"<([A-Za-z][\w-]*)\b[^>]*?(/?)>")
_CLOSE_TAG = re.compile(r"</([A-Za-z][\w-]*)\s*>")


@dataclass
class RenderedPage:
    """A page's HTML body (its default view) and what the layout needs around it."""

    body: str
    results: dict[str, QueryResult]
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    has_heading: bool = False
    params_tables: set[str] = field(default_factory=set)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    """The page's inputs as the browser reads them (reports.inputs.Input.spec)."""
    views: dict[str, list[str]] = field(default_factory=dict)
    """Each view's key → the ids of its chunks, in order (empty for a page without inputs)."""
    chunks: dict[str, str] = field(default_factory=dict)
    """HTML of the chunks the default view does not have (the browser has those in the page)."""
    files: dict[str, str] = field(default_factory=dict)
    """Scripts the page loads on demand, by file name (written next to the page)."""

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
    runner: queries.PageQueries,
    blocks: list[queries.SqlBlock],
    page_inputs: Mapping[str, Any],
    coverage: Coverage,
    *,
    lineage: bool = True,
) -> dict[str, QueryResult]:
    results: dict[str, QueryResult] = {}
    tables: dict[str, str] = {}
    for block in blocks:
        context = {
            "params": page.params,
            "inputs": page_inputs,
            "has_data": functools.partial(has_data, coverage),
            **results,
        }
        try:
            sql = render_string(
                block.sql, context, name=f"sql:{block.name}", include_dir=page.source.pages_dir
            )
        except PageProblem as problem:
            line = block.line + (problem.line or 1) - 1
            raise PageProblem(f"query {block.name!r}: {problem}", line) from None
        results[block.name], tables[block.name] = runner.run(
            block.name, sql, block.line, tables, lineage=lineage
        )
    return results


def _with_dependencies(blocks: list[queries.SqlBlock], names: set[str]) -> list[queries.SqlBlock]:
    """The named blocks and the earlier blocks they read with `${name}`, in page order."""
    wanted = set(names)
    for block in reversed(blocks):
        if block.name in wanted:
            wanted.update(match.group(1) for match in queries.REFERENCE.finditer(block.sql))
    return [block for block in blocks if block.name in wanted]


@dataclass(frozen=True)
class LeftOut:
    """A page or figure left out because the raw data lacks what it needs."""

    title: str
    note: str

    @property
    def text(self) -> str:
        """The sentence a reader sees: "Product: left out — the raw data holds no scans or
        sessions"."""
        return f"{self.title}: left out — {self.note}"


def _known_areas(coverage: Coverage, function: str, areas: tuple[str, ...]) -> None:
    unknown = coverage.unknown(areas)
    if unknown:
        known = ", ".join(sorted(coverage.areas))
        raise PageProblem(f"{function}(): unknown data area {unknown[0]!r} (known: {known})")


def has_data(coverage: Coverage, *areas: str) -> bool:
    """`{% if has_data("marketing_spend") %}` on a page: the raw data holds every area named."""
    _known_areas(coverage, "has_data", areas)
    return coverage.is_present(*areas)


def left_out_note(coverage: Coverage, title: str, *areas: str) -> Markup:
    """`{{ left_out("Product usage", "product_events") }}` on a page: the note that says a part
    of it is left out and why, or nothing when every area is present."""
    _known_areas(coverage, "left_out", areas)
    note = coverage.note(areas)
    if note is None:
        return Markup("")
    return Markup('<p class="jm-left-out" role="note">{}</p>').format(LeftOut(title, note).text)


@dataclass(frozen=True)
class SiteContext:
    """What every page of one site build shares."""

    down_is_good: Mapping[str, bool | None] = field(default_factory=dict)
    """The metric registry's good direction per metric (tiles colour their change by it)."""
    definitions: Mapping[str, str] = field(default_factory=dict)
    """The registry's metric descriptions, shown by the KPI tiles on hover and focus."""
    narrator: Narrator | None = None
    """Writes the narrative blocks (one per site build)."""
    alerts: Sequence[Alert] = ()
    """Marked on the charts of their metrics (never on a templated page or a view of one slice:
    those charts show one channel or plan, not the company-wide metric an alert is about)."""
    coverage: Coverage = field(default_factory=Coverage)
    """The data areas the raw data holds (dim_data_coverage): pages read it as `coverage`."""
    left_out: Sequence[LeftOut] = ()
    """Pages left out for an absent data area: `left_out_pages` on every page."""


def render_page(
    page: PageInstance, connection: duckdb.DuckDBPyConnection, site: SiteContext | None = None
) -> RenderedPage:
    """Build one page's body; any problem is raised as a PageError naming file and line."""
    site = site or SiteContext()
    if page.params:
        site = replace(site, alerts=())
    # Each page gets its own connection, so its temp tables never meet another page's.
    cursor = connection.cursor()
    try:
        return _render(page, cursor, site)
    except PageProblem as problem:
        raise PageError(page.source.path, problem.line, str(problem)) from None
    finally:
        cursor.close()


def _read_inputs(
    page: PageInstance,
    runner: queries.PageQueries,
    blocks: list[queries.SqlBlock],
    body: str,
    coverage: Coverage,
) -> dict[str, inputs.Input]:
    found = inputs.find_input_tags(body)
    if not found:
        return {}
    names = {tag.attributes.get("data") for tag in found} - {None}
    needed = _with_dependencies(blocks, names)
    return inputs.resolve(found, _run_queries(page, runner, needed, inputs.NoInputs(), coverage))


def _render(
    page: PageInstance, connection: duckdb.DuckDBPyConnection, site: SiteContext
) -> RenderedPage:
    source = page.source
    blocks = queries.find_sql_blocks(source.body)
    body = tags.mark_lines(_blank_blocks(source.body, blocks))
    runner = queries.PageQueries(connection)
    page_inputs = _read_inputs(page, runner, blocks, body, site.coverage)
    params_tables = (
        queries.tables_read(connection, str(source.meta["params_query"])) if source.param else set()
    )
    name = str(source.path)
    env = environment(name, body, include_dir=source.pages_dir)
    rendered = RenderedPage(body="", results={}, params_tables=params_tables)
    rendered.inputs = inputs.page_spec(page_inputs)
    default_ids: list[str] = []
    shared: dict[str, str] = {}  # components' HTML made once for every view
    for view in inputs.views(page_inputs):
        results = _run_queries(
            page, runner, blocks, view.context(), site.coverage, lineage=view.is_default
        )
        # Alerts are about the whole business: not marked on a view of one slice.
        view_site = site if _whole_business(view, page_inputs) else replace(site, alerts=())
        canvas = components.Canvas(
            title=page.title,
            results=results,
            down_is_good=dict(view_site.down_is_good),
            definitions=dict(view_site.definitions),
            narrator=view_site.narrator,
            alerts=view_site.alerts,
            inputs=page_inputs,
            ai=view.is_default,
            datasets=rendered.datasets,
            charts=rendered.charts,
            files=rendered.files,
            shared=shared,
        )
        chunks, has_heading = _render_view(page, env, name, view, canvas, site)
        ids = [_chunk_id(chunk) for chunk in chunks]
        if view.is_default:
            rendered.results, rendered.has_heading, default_ids = results, has_heading, ids
            rendered.body = "".join(
                f"{CHUNK_MARK.format(chunk_id)}\n{chunk}" if page_inputs else chunk
                for chunk_id, chunk in zip(ids, chunks, strict=True)
            )
        else:
            rendered.chunks.update(
                (chunk_id, chunk)
                for chunk_id, chunk in zip(ids, chunks, strict=True)
                if chunk_id not in default_ids
            )
        if page_inputs:
            rendered.views[view.key] = ids
    return rendered


def _whole_business(view: inputs.View, page_inputs: Mapping[str, inputs.Input]) -> bool:
    """A view whose dropdowns all read "all" (button groups change periods or comparisons)."""
    return all(
        option.value == inputs.ALL
        for name, option in view.choices.items()
        if page_inputs[name].kind == "Dropdown"
    )


def _chunk_id(chunk: str) -> str:
    return hashlib.blake2b(chunk.encode(), digest_size=6).hexdigest()


def _render_view(
    page: PageInstance,
    env: PageEnvironment,
    name: str,
    view: inputs.View,
    canvas: components.Canvas,
    site: SiteContext,
) -> tuple[list[str], bool]:
    """One view's body as chunks of HTML (top-level blocks), and whether it has an h1."""
    context: dict[str, Any] = {
        "params": page.params,
        "root": page.root,
        "inputs": view.context(),
        "per_period": inputs.per_period,
        "has_data": functools.partial(has_data, site.coverage),
        "left_out": functools.partial(left_out_note, site.coverage),
        "left_out_pages": [item.text for item in site.left_out],
        **canvas.results,
    }
    text = render(env, name, context)
    placed = tags.extract(text, components.ACCEPTED)
    pieces = components.render_all(placed, canvas)
    tokens = MARKDOWN.parse(placed.text)
    has_heading = any(token.type == "heading_open" and token.tag == "h1" for token in tokens)
    chunks: list[str] = []
    markdown: list[str] = []  # the chunks before components go in: headings come from Markdown
    for group in _top_level_groups(tokens, placed):
        html = MARKDOWN.renderer.render(group, MARKDOWN.options, {})
        html = anchors.add_anchors(tags.wrap_placeholder_run(html, placed), markdown)
        markdown.append(html)
        for index in map(int, re.findall(r"<!--jm-component-(\d+)-->", html)):
            html = html.replace(tags.placeholder(index), pieces[index], 1)
        chunks.append(html)
    return chunks, has_heading


def _balance(html: str) -> int:
    """Open minus closed elements of an HTML fragment (void and self-closed tags excluded)."""
    opened = sum(
        1
        for match in _OPEN_TAG.finditer(html)
        if match.group(2) != "/" and match.group(1).lower() not in _VOID
    )
    return opened - len(_CLOSE_TAG.findall(html))


def _top_level_groups(tokens: list[Token], placed: tags.Placed) -> list[list[Token]]:
    """The token runs of the page's top-level blocks; an HTML block that opens an element (a
    per-period `<div>`) runs to its close, and adjacent tiles or inputs form one block."""
    groups: list[list[Token]] = []
    index, depth = 0, 0
    while index < len(tokens):
        token = tokens[index]
        end = index + 1
        if token.nesting == 1:
            while not (tokens[end].level == token.level and tokens[end].nesting == -1):
                end += 1
            end += 1
        group = tokens[index:end]
        kind = _placeholder_kind(token, placed)
        previous = groups[-1] if groups else None
        joins = previous is not None and (
            depth > 0 or (kind is not None and _placeholder_kind(previous[-1], placed) == kind)
        )
        if joins and previous is not None:
            previous.extend(group)
        else:
            groups.append(group)
        if token.type == "html_block":
            depth = max(0, depth + _balance(token.content))
        index = end
    return groups


def _placeholder_kind(token: Token, placed: tags.Placed) -> str | None:
    """ "tiles" or "inputs" for a component placeholder that groups with its neighbours."""
    if token.type != "html_block":
        return None
    match = _PLACEHOLDER.match(token.content.strip())
    if not match:
        return None
    name = placed.tags[int(match.group(1))][0]
    if name == "BigValue":
        return "tiles"
    return "inputs" if name in inputs.INPUT_TAGS else None
