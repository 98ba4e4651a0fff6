"""Components written in pages as self-closing tags on their own line, e.g.

    <BigValue data="kpis" value="mrr" comparison="mrr_prev" fmt="usd" />
    <LineChart data="mrr_by_month" x="month" y="ending_mrr" fmt="usd0" />

Each tag names a query result (`data`) and columns of it; it becomes HTML, and charts become a
Plotly figure embedded in the page. Every chart, table and alert list has a "Download CSV"
button for its data. `COMPONENTS` lists every tag with the attributes it accepts.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt

from jobmetrics.core.errors import PageProblem
from jobmetrics.core.formats import auto_format, check_format, format_value, is_percent
from jobmetrics.core.labels import humanize, readable
from jobmetrics.core.targets import TARGET_COLUMNS, TARGETS_FILE, target_text
from jobmetrics.reports import annotations, charts, inputs, narratives
from jobmetrics.reports.tags import Attributes, Placed
from jobmetrics.warehouse.results import QueryResult, to_json_value

MAX_TABLE_ROWS = 1000
MAX_CHART_ROWS = 5000


@dataclass
class Canvas:
    """What components of one page share: results, embedded data and charts, settings."""

    title: str
    results: dict[str, QueryResult]
    down_is_good: dict[str, bool | None] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    """Metric descriptions from the registry, by metric and column (a tile's hover/focus text)."""
    narrator: narratives.Narrator | None = None
    """Writes the page's narrative blocks (one per site build)."""
    alerts: Sequence[annotations.Alert] = ()
    """fct_alerts, marked on the charts of their metrics (reports.annotations)."""
    inputs: dict[str, inputs.Input] = field(default_factory=dict)
    """The page's inputs (their controls are components too)."""
    ai: bool = True
    """False in a page's filtered views: their narratives are automatic summaries."""
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Rows embedded in the page, by a key made from their content (shared by all views)."""
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Figures by chart id, made from their content (shared by all views)."""
    shared: dict[str, str] = field(default_factory=dict)
    """HTML a component renders once for all views of the page, by a key made from its data."""
    files: dict[str, str] = field(default_factory=dict)
    """Scripts written next to the page, loaded by the browser only when needed (a lazy
    table's rows), by file name made from their content (shared by all views)."""
    _drawn: dict[str, int] = field(default_factory=dict)

    def result(self, attributes: Attributes, key: str = "data") -> QueryResult:
        name = attributes.require(key)
        if name not in self.results:
            known = ", ".join(self.results) or "none"
            raise PageProblem(
                f"<{attributes.tag}> {key}={name!r} is not a query on this page (queries: {known})",
                attributes.line,
            )
        result = self.results[name]
        conditions = {}
        for condition in attributes.names("filter"):
            column, equals, value = condition.partition("=")
            if not equals:
                raise PageProblem(
                    f"<{attributes.tag}> filter= takes column=value pairs, got {condition!r}",
                    attributes.line,
                )
            conditions[column.strip()] = value.strip()
        return result.filtered(conditions) if conditions else result

    def embed(self, result: QueryResult, limit: int | None = None) -> str:
        """Put a result's rows in the page (for CSV download); returns its dataset key.

        The key is made from the rows, so views of a page that show the same rows share them."""
        rows = result.rows if limit is None else result.rows[:limit]
        key = f"{result.name}-{_digest((result.name, result.columns, rows))}"
        if key not in self.datasets:
            self.datasets[key] = {
                "name": result.name,
                "columns": result.columns,
                "rows": [[to_json_value(value) for value in row] for row in rows],
            }
        return key

    def chart_id(self, figure: dict[str, Any]) -> str:
        """A chart's id, made from its figure: views that draw the same chart share it."""
        chart_id = f"chart-{_digest(figure)}"
        self.charts.setdefault(chart_id, figure)
        return chart_id


def _digest(value: Any) -> str:
    """A short digest of rows or a figure: their repr, which is fixed for the same values in
    the same order (the same query and component give the same figure)."""
    return hashlib.blake2b(repr(value).encode(), digest_size=5).hexdigest()


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _check_columns(result: QueryResult, attributes: Attributes, *columns: str | None) -> None:
    for column in columns:
        if column is not None and column not in result.columns:
            raise PageProblem(
                f"<{attributes.tag}> column {column!r} is not in query {result.name!r} "
                f"(columns: {', '.join(result.columns)})",
                attributes.line,
            )


def _download_button(dataset: str, label: str = "Download CSV") -> str:
    return (
        f'<button type="button" class="jm-download" data-dataset="{_e(dataset)}">{label}</button>'
    )


def _card(kind: str, title: str | None, dataset: str, inner: str, extra: str = "") -> str:
    heading = f'<span class="jm-card-title">{_e(title)}</span>' if title else "<span></span>"
    return (
        f'<figure class="jm-card jm-{kind}-card">'
        f'<figcaption class="jm-card-head">{heading}{_download_button(dataset)}</figcaption>'
        f"{inner}{extra}</figure>"
    )


def _chart(canvas: Canvas, attributes: Attributes, result: QueryResult, figure: dict) -> str:
    if not result.rows:
        return _card(
            "chart",
            attributes.get("title"),
            canvas.embed(result),
            f'<p class="jm-empty">No data in {_e(result.name)}.</p>',
        )
    if len(result.rows) > MAX_CHART_ROWS:
        raise PageProblem(
            f"<{attributes.tag}> query {result.name!r} has {len(result.rows):,} rows; "
            f"a chart takes at most {MAX_CHART_ROWS:,} (aggregate in SQL)",
            attributes.line,
        )
    figure = annotations.annotate_chart(figure, canvas.alerts, result, attributes, _labels(result))
    chart_id = canvas.chart_id(figure)
    dataset = canvas.embed(result)
    title = attributes.get("title")
    inner = (
        # Its height before Plotly draws it: the page does not jump, and a page with inputs can
        # tell which charts are on screen before drawing them.
        f'<div class="jm-chart" id="{chart_id}" data-chart="{chart_id}" role="img" '
        f'style="min-height:{int(figure.get("layout", {}).get("height", 320))}px" '
        f'aria-label="{_e(title or result.name)}"></div>'
    )
    # The title is the card's caption, not Plotly's, so it wraps on a phone.
    return _card("chart", title, dataset, inner)


def _labels(result: QueryResult) -> dict[str, str]:
    return {column: humanize(column) for column in result.columns}


def _xy(kind: str, stacked_default: bool) -> Callable[[Attributes, Canvas], str]:
    def render(attributes: Attributes, canvas: Canvas) -> str:
        result = canvas.result(attributes)
        x = attributes.require("x")
        ys = attributes.names("y")
        if not ys:
            raise PageProblem(f"<{attributes.tag}> needs a y= attribute", attributes.line)
        series = attributes.get("series")
        if series and len(ys) > 1:
            raise PageProblem(
                f"<{attributes.tag}> takes one y= column when series= is given", attributes.line
            )
        partial = attributes.get("partial")  # a column set on partial periods' rows
        _check_columns(result, attributes, x, series, partial, *ys)
        stacked = attributes.flag("stacked")
        fmt = attributes.fmt() or auto_format(ys[0])
        figure = charts.xy_figure(
            result,
            kind=kind,
            x=x,
            ys=ys,
            series=series,
            fmt=fmt,
            x_fmt=attributes.fmt("x_fmt") or auto_format(x),
            stacked=stacked_default if stacked is None else stacked,
            labels=_labels(result),
            height=attributes.integer("height", 320),
            partial=partial,
            y_title=attributes.get("y_title"),
        )
        figure["jm"] = {"x": x, "series": series}  # what the page's row filters act on
        band = attributes.names("band")  # lower,upper: an interval shaded under the lines
        if band:
            if len(band) != 2:
                raise PageProblem(
                    f"<{attributes.tag}> band= takes two columns: lower,upper", attributes.line
                )
            _check_columns(result, attributes, *band)
            charts.interval_band(
                figure,
                result,
                x=x,
                lower=band[0],
                upper=band[1],
                label=attributes.get("band_title", "Interval"),
                fmt=fmt,
                partial=partial,
            )
        _check_columns(result, attributes, *attributes.names("dashed"))
        dashed = {humanize(column) for column in attributes.names("dashed")}
        for trace in figure["data"]:  # dashed= columns (a forecast) are drawn dashed
            if trace.get("name") in dashed:
                trace["line"] = {**trace.get("line", {}), "dash": "dash"}
        goal_metric = attributes.get("goal_metric", ys[0])
        goals = _target_rows(attributes, canvas, "goal", goal_metric, None)
        if goals:
            row = goals[None]
            columns = canvas.results[attributes.require("goal")].columns
            # a chart of several lines says which one the target is for
            whose = "Target" if ys == [goal_metric] else f"{humanize(goal_metric)} target"
            charts.goal_line(
                figure,
                float(row[columns.index("target_value")]),
                f"{whose} {_target_text(row, columns, fmt)}",
            )
        if attributes.flag("horizontal"):
            figure = charts.horizontal_bars(figure)
            # the categories are on the y axis now: row filters leave them alone
            figure["jm"] = {"series": series}
        return _chart(canvas, attributes, result, figure)

    return render


def _waterfall(attributes: Attributes, canvas: Canvas) -> str:
    result = canvas.result(attributes)
    label, value, measure, period = (
        attributes.require("x"),
        attributes.require("y"),
        attributes.get("measure"),
        attributes.get("period"),
    )
    _check_columns(result, attributes, label, value, measure, period)

    def figure_of(rows: QueryResult) -> dict[str, Any]:
        return charts.waterfall_figure(
            rows,
            label=label,
            value=value,
            measure=measure,
            fmt=attributes.fmt() or auto_format(value),
            height=attributes.integer("height", 360),
        )

    if not period:
        return _chart(canvas, attributes, result, figure_of(result))
    # One waterfall per period (e.g. month): the last one is drawn, the page's date range
    # shows the one at its end; each period's steps are built here, the browser only picks.
    periods = sorted({row for row in result.column(period) if row is not None})
    # Only what differs between periods is kept per period (the steps' values and texts).
    traces = {}
    for each in periods:
        trace = figure_of(result.filtered({period: str(each)}))["data"][0]
        kept = ("x", "y", "text", "measure")
        traces[str(to_json_value(each))] = {key: trace[key] for key in kept}
    figure = figure_of(result.filtered({period: str(periods[-1])}) if periods else result)
    figure["jm"] = {"period": period, "periods": traces}
    return _chart(canvas, attributes, result, figure)  # the CSV: every period's steps


def _heatmap(attributes: Attributes, canvas: Canvas) -> str:
    result = canvas.result(attributes)
    x, y, value = attributes.require("x"), attributes.require("y"), attributes.require("value")
    _check_columns(result, attributes, x, y, value)
    figure = charts.heatmap_figure(
        result,
        x=x,
        y=y,
        value=value,
        fmt=attributes.fmt() or auto_format(value),
        y_fmt=attributes.fmt("y_fmt") or auto_format(y),
        labels=_labels(result),
    )
    figure["jm"] = {"x": x, "y": y}  # the trace's meta holds the raw y of each row
    return _chart(canvas, attributes, result, figure)


def _funnel(attributes: Attributes, canvas: Canvas) -> str:
    result = canvas.result(attributes)
    stage, value, series = (
        attributes.require("stage"),
        attributes.require("value"),
        attributes.get("series"),
    )
    _check_columns(result, attributes, stage, value, series)
    figure = charts.funnel_figure(
        result,
        stage=stage,
        value=value,
        series=series,
        fmt=attributes.fmt() or auto_format(value) or "num0",
        labels=_labels(result),
    )
    figure["jm"] = {"series": series}
    return _chart(canvas, attributes, result, figure)


def _column_formats(attributes: Attributes, result: QueryResult) -> dict[str, str | None]:
    """fmt="col:usd0,other:pct1" overrides the automatic format of named columns."""
    formats = {column: auto_format(column) for column in result.columns}
    for item in attributes.names("fmt"):
        column, _, name = item.partition(":")
        if not name:
            raise PageProblem(
                f"<{attributes.tag}> fmt= takes column:format pairs, got {item!r}", attributes.line
            )
        _check_columns(result, attributes, column.strip())
        try:
            formats[column.strip()] = check_format(name.strip())
        except PageProblem as problem:
            raise PageProblem(f"<{attributes.tag}> fmt=: {problem}", attributes.line) from None
    return formats


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        or (type(value).__name__ == "Decimal")
    )


def _cell_text(value: object, fmt: str | None) -> str:
    """A table cell as shown: category values by their label (paid_search → Paid search)."""
    return humanize(value) if isinstance(value, str) else format_value(value, fmt)


@dataclass(frozen=True)
class _TableLayout:
    """How a table shows a result's columns: which, in what format, numeric or not, and which
    column opens a detail dialog."""

    columns: list[str]
    positions: list[int]
    formats: dict[str, str | None]
    numeric: list[bool]
    detail: str | None = None

    @classmethod
    def of(cls, attributes: Attributes, result: QueryResult) -> _TableLayout:
        columns = attributes.names("columns") or result.columns
        detail = attributes.get("detail")
        _check_columns(result, attributes, *columns, detail)
        positions = [result.index(column) for column in columns]
        sample = result.rows[:50]
        numeric = [any(_is_number(row[position]) for row in sample) for position in positions]
        return cls(columns, positions, _column_formats(attributes, result), numeric, detail)

    def head(self) -> str:
        number_class = ' class="num"'
        return "".join(
            f'<th scope="col" data-column="{_e(column)}"{number_class if self.numeric[i] else ""}>'
            f'<button type="button" class="jm-sort" data-col="{i}">{_e(humanize(column))}</button>'
            "</th>"
            for i, column in enumerate(self.columns)
        )

    def texts(self, row: tuple) -> list[str]:
        return [
            _cell_text(row[position], self.formats[column])
            for column, position in zip(self.columns, self.positions, strict=True)
        ]

    def row_html(self, row: tuple, hidden: bool = False) -> str:
        cells = []
        for i, (column, text) in enumerate(zip(self.columns, self.texts(row), strict=True)):
            value = row[self.positions[i]]
            classes = ["num"] if self.numeric[i] else []
            if _is_number(value) and value < 0:
                classes.append("neg")
            sort_value = to_json_value(value)
            class_attribute = f' class="{" ".join(classes)}"' if classes else ""
            sort_attribute = f' data-v="{_e(sort_value)}"' if sort_value is not None else ""
            if column == self.detail and value is not None:
                text_html = (
                    f'<button type="button" class="jm-detail-open" data-key="{_e(sort_value)}" '
                    f'aria-haspopup="dialog">{_e(text)}</button>'
                )
            else:
                text_html = _e(text)
            cells.append(f"<td{class_attribute}{sort_attribute}>{text_html}</td>")
        more = ' class="jm-more"' if hidden else ""
        return f"<tr{more}>{''.join(cells)}</tr>"


def _search_box(title: str | None, rows: int) -> str:
    what = f"Search {title}" if title else "Search this table"
    return (
        f'<label class="jm-search"><span class="jm-visually-hidden">{_e(what)}</span>'
        f'<input type="search" placeholder="Search {rows:,} rows" autocomplete="off"></label>'
        '<p class="jm-search-count" aria-live="polite"></p>'
    )


def _data_table(attributes: Attributes, canvas: Canvas) -> str:
    result = canvas.result(attributes)
    layout = _TableLayout.of(attributes, result)
    visible = attributes.integer("rows", 12)
    lazy = bool(attributes.flag("lazy"))
    search = lazy or bool(attributes.flag("search"))
    title = attributes.get("title")
    shown_rows = result.rows[:visible] if lazy else result.rows[:MAX_TABLE_ROWS]
    body_rows = [
        layout.row_html(row, hidden=count >= visible) for count, row in enumerate(shown_rows)
    ]
    notes = []
    if lazy:
        if len(result.rows) > visible:
            notes.append(
                f'<p class="jm-note">The first {visible:,} of {len(result.rows):,} rows. '
                "Search to find any of them, or sort by a column.</p>"
            )
    elif len(result.rows) > visible:
        shown = min(len(result.rows), MAX_TABLE_ROWS)
        notes.append(f'<button type="button" class="jm-show-all">Show all {shown:,} rows</button>')
    if len(result.rows) > MAX_TABLE_ROWS and not lazy:
        notes.append(
            f'<p class="jm-note">First {MAX_TABLE_ROWS:,} of {len(result.rows):,} rows; '
            "aggregate in SQL to see everything.</p>"
        )
    if not result.rows:
        notes.append(f'<p class="jm-empty">No rows in {_e(result.name)}.</p>')
    extra = ""
    if lazy:
        lazy_file = _lazy_file(canvas, result, layout)
        extra = f' data-lazy="{_e(lazy_file)}" data-lazy-total="{len(result.rows)}"'
    if layout.detail:
        extra += f' data-detail="{_e(layout.detail)}"'
    extra += f' data-visible="{visible}"'
    table = (
        f'<div class="jm-table-wrap"><table class="jm-table"{extra}><thead><tr>{layout.head()}'
        f"</tr></thead><tbody>{''.join(body_rows)}</tbody></table></div>"
    )
    if search:
        table = _search_box(title, len(result.rows)) + table
    if lazy:
        heading = f'<span class="jm-card-title">{_e(title)}</span>' if title else "<span></span>"
        return (
            f'<figure class="jm-card jm-table-card"><figcaption class="jm-card-head">{heading}'
            f"</figcaption>{table}{''.join(notes)}</figure>"
        )
    dataset = canvas.embed(result, limit=MAX_TABLE_ROWS)
    return _card("table", title, dataset, table, "".join(notes))


MAX_LAZY_ROWS = 500_000
"""Rows a lazy table may hold (its file is fetched once, on the first search or sort)."""


def _lazy_file(canvas: Canvas, result: QueryResult, layout: _TableLayout) -> str:
    """Write a lazy table's rows as a script next to the page; returns its file name.

    Column-wise: a column of distinct texts (an id) keeps them as they are ("t"); any other
    keeps each distinct text once ("d") and one index per row ("c"). Numeric and detail columns
    add the raw values to sort by or open ("v"). At a million users the paying customers' index
    is about 5.1 MB, 770 KB as a web server sends it (gzip)."""
    if len(result.rows) > MAX_LAZY_ROWS:
        raise PageProblem(
            f"<DataTable lazy> query {result.name!r} returned {len(result.rows):,} rows; "
            f"at most {MAX_LAZY_ROWS:,} (aggregate or filter in SQL)"
        )
    name = f"{result.name}-{_digest((result.name, layout.columns, result.rows))}.js"
    if name in canvas.files:  # the same rows in another view of the page
        return name
    columns = []
    for i, column in enumerate(layout.columns):
        fmt, position = layout.formats[column], layout.positions[i]
        shown: dict[Any, str] = {}  # value → its cell text, each formatted once
        texts = [
            shown[value] if value in shown else shown.setdefault(value, _cell_text(value, fmt))
            for value in (row[position] for row in result.rows)
        ]
        distinct: dict[str, int] = {}
        codes = [distinct.setdefault(text, len(distinct)) for text in texts]
        encoded: dict[str, Any] = (
            {"t": texts} if len(distinct) == len(texts) else {"d": list(distinct), "c": codes}
        )
        values = [to_json_value(row[position]) for row in result.rows]
        if layout.numeric[i] or (column == layout.detail and values != texts):
            encoded["v"] = values
        columns.append(encoded)
    payload = json.dumps(
        {"rows": len(result.rows), "columns": columns},
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=str,
    )
    canvas.files[name] = (
        f"(window.jmLazy = window.jmLazy || {{}})[{json.dumps(name)}] = {payload};\n"
    )
    return name


def _detail_dialog(attributes: Attributes, canvas: Canvas) -> str:
    """Details of each key of a table's `detail=` column: a header of fields and small tables,
    rendered here, packed (gzip + base64) in the page and shown in a dialog on click."""
    key = attributes.require("key")
    header = canvas.result(attributes, "header")
    _check_columns(header, attributes, key)
    sections = attributes.names("data")
    titles = attributes.names("titles") or sections
    if len(titles) != len(sections):
        raise PageProblem(
            f"<DetailDialog> titles= names {len(titles)} sections for {len(sections)} queries",
            attributes.line,
        )
    sections_rows = [canvas.results[name].rows for name in sections if name in canvas.results]
    memo = _digest((attributes.values, header.rows, sections_rows))
    if memo in canvas.shared:  # the same details in another view of the page
        return canvas.shared[memo]
    key_at = header.index(key)
    tables = []
    for name in sections:
        result = canvas.results.get(name)
        if result is None:
            raise PageProblem(
                f"<DetailDialog> data= names {name!r}, not a query on this page "
                f"(queries: {', '.join(canvas.results)})",
                attributes.line,
            )
        _check_columns(result, attributes, key)
        others = ",".join(column for column in result.columns if column != key)
        layout = _TableLayout.of(
            Attributes(attributes.tag, {"columns": others}, attributes.line), result
        )
        by_key: dict[Any, list[tuple]] = {}
        for row in result.rows:
            by_key.setdefault(row[result.index(key)], []).append(row)
        tables.append((layout, by_key))
    header_formats = {column: auto_format(column) for column in header.columns}
    details: dict[str, str] = {}
    for row in header.rows:
        value = row[key_at]
        fields = "".join(
            f"<div><dt>{_e(humanize(column))}</dt>"
            f"<dd>{_e(_cell_text(cell, header_formats[column]))}</dd></div>"
            for column, cell in zip(header.columns, row, strict=True)
            if column != key and cell is not None
        )
        parts = [f'<dl class="jm-detail-fields">{fields}</dl>']
        for title, (layout, by_key) in zip(titles, tables, strict=True):
            rows = by_key.get(value, [])
            body = "".join(layout.row_html(r) for r in rows) or (
                f'<tr><td colspan="{len(layout.columns)}" class="jm-empty">None</td></tr>'
            )
            parts.append(
                f'<h3>{_e(title)}</h3><div class="jm-table-wrap"><table class="jm-table">'
                f"<thead><tr>{layout.head()}</tr></thead><tbody>{body}</tbody></table></div>"
            )
        details[str(to_json_value(value))] = "".join(parts)
    packed = pack({"title": attributes.get("title") or humanize(key), "details": details})
    canvas.shared[memo] = (
        f'<dialog class="jm-detail" aria-label="{_e(attributes.get("title") or "Details")}" '
        f'data-missing="{_e(attributes.get("missing") or "No details for this row.")}">'
        '<div class="jm-detail-head"><strong class="jm-detail-title"></strong>'
        '<button type="button" class="jm-detail-close" aria-label="Close">×</button></div>'
        '<div class="jm-detail-body"></div></dialog>'
        f'<script type="application/octet-stream" class="jm-detail-data">{packed}</script>'
    )
    return canvas.shared[memo]


def pack(payload: Any) -> str:
    """JSON, gzip, base64: how a page carries what it shows only on demand (its other views,
    detail dialogs); the browser unpacks it with its own DecompressionStream."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)).decode(
        "ascii"
    )


def _comparison(
    value: Any, previous: Any, fmt: str | None, down_is_good: bool | None, title: str
) -> str:
    if value is None or previous is None:
        return f'<div class="jm-bv-comparison neutral">no {_e(title)} value</div>'
    delta = float(value) - float(previous)
    # "no change" only when the two figures look the same; 43.7% → 43.8% is a change even when
    # it rounds to 0.0 pts, so it gets the second decimal that shows it.
    same = format_value(value, fmt) == format_value(previous, fmt)
    if is_percent(fmt):
        shown = delta * 100
        change = f"{shown:+.1f} pts" if same or round(shown, 1) else f"{shown:+.2f} pts"
    elif float(previous) != 0:
        shown = delta / abs(float(previous)) * 100
        change = f"{shown:+.1f}%" if same or round(shown, 1) else f"{shown:+.2f}%"
    else:
        shown = delta
        change = format_value(delta, fmt)
    if round(shown, 1) == 0 and same:
        change, delta = "no change", 0.0  # too small to show: no arrow, no colour
    if delta == 0:
        tone, arrow = "neutral", "■"
    else:
        # None: the registry names no good direction (spend), so no colour either way
        tone = (
            "neutral" if down_is_good is None else "good" if (delta > 0) != down_is_good else "bad"
        )
        arrow = "▲" if delta > 0 else "▼"
    return (
        f'<div class="jm-bv-comparison {tone}" data-delta="{delta!r}">'
        f'<span aria-hidden="true">{arrow}</span> {_e(change)} {_e(title)}</div>'
    )


def _target_rows(
    attributes: Attributes, canvas: Canvas, key: str, metric: str, period: str | None
) -> dict[Any, tuple[Any, ...]] | None:
    """The rows of the targets query named by the tag's `key` attribute for `metric`, by their
    `period` value (None: one entry, the metric's last row); None without the attribute."""
    name = attributes.get(key)
    if not name:
        return None
    if name not in canvas.results:  # the tag's filter= is for its own data, not the targets
        raise PageProblem(
            f"<{attributes.tag}> {key}={name!r} is not a query on this page "
            f"(queries: {', '.join(canvas.results) or 'none'})",
            attributes.line,
        )
    result = canvas.results[name]
    _check_columns(result, attributes, *TARGET_COLUMNS, period)
    rows = [row for row in result.rows if row[result.index("metric")] == metric]
    if period is None:
        return {None: rows[-1]} if rows else {}
    return {to_json_value(row[result.index(period)]): row for row in rows}


def _target_text(row: tuple[Any, ...], columns: list[str], fmt: str | None) -> str:
    """ "≥ 3.0×": a target row's comparator and value in the figure's format."""
    comparator = str(row[columns.index("comparator")])
    return target_text(comparator, row[columns.index("target_value")], fmt)


def _target_html(row: tuple[Any, ...] | None, columns: list[str], fmt: str | None) -> str:
    """A tile's target state in words (colour only repeats them): "On track vs target ≥ 3.0×",
    "Off track …", or "Not judged (no value) …" when the month has no value."""
    if row is None:
        return '<div class="jm-bv-target none">No target for this period</div>'
    on_track = row[columns.index("is_on_track")]
    state, words, mark = {
        True: ("on-track", "On track", "✓"),
        False: ("off-track", "Off track", "✗"),
    }.get(on_track, ("not-judged", "Not judged (no value)", "–"))
    return (
        f'<div class="jm-bv-target {state}"><span aria-hidden="true">{mark}</span> '
        f"{_e(words)} vs target {_e(_target_text(row, columns, fmt))}</div>"
    )


def _big_value(attributes: Attributes, canvas: Canvas) -> str:
    result = canvas.result(attributes)
    column = attributes.require("value")
    comparison = attributes.get("comparison")
    sparkline = attributes.get("sparkline")
    period = attributes.get("x")
    _check_columns(result, attributes, column, comparison, sparkline, period)
    fmt = attributes.fmt() or auto_format(column)
    # The metric registry's flag when it has one for this metric, else the tile's attribute.
    metric = attributes.get("metric", column)
    explicit = attributes.flag("down_is_good")
    down_is_good = canvas.down_is_good.get(metric, bool(explicit))
    title = attributes.get("comparison_title", "vs previous")

    targets = _target_rows(attributes, canvas, "target", metric, period)
    target_columns = canvas.results[attributes.get("target")].columns if targets is not None else []

    def shown(row: tuple | None) -> tuple[str, str]:
        """A row's value text and comparison HTML (the first row's, or the period's)."""
        value = None if row is None else row[result.index(column)]
        if not comparison:
            return format_value(value, fmt), ""
        previous = None if row is None else row[result.index(comparison)]
        return format_value(value, fmt), _comparison(value, previous, fmt, down_is_good, title)

    def target_of(row: tuple | None) -> str:
        """The target state of the row's period (the tile's own row when there is no x=)."""
        if targets is None:
            return ""
        if not targets:
            return f'<div class="jm-bv-target none">No target in {TARGETS_FILE}</div>'
        at = to_json_value(row[result.index(period)]) if period and row is not None else None
        return _target_html(targets.get(at), target_columns, fmt)

    rows = result.rows
    if period:
        # One value per period; the page's date range picks the one at its end (default: last).
        rows = sorted(
            (row for row in rows if row[result.index(period)] is not None),
            key=lambda row: row[result.index(period)],
        )
        current = rows[-1] if rows else None
    else:
        current = rows[0] if rows else None
    value = None if current is None else current[result.index(column)]
    value_text, comparison_html = shown(current)
    series = ""
    if period:
        entries = [[to_json_value(row[result.index(period)]), *shown(row)] for row in rows]
        if targets is not None:  # the target state follows the date range too (inputs.js)
            entries = [[*entry, target_of(row)] for entry, row in zip(entries, rows, strict=True)]
        series = (
            f' data-x="{_e(period)}" '
            f'data-series="{_e(json.dumps(entries, separators=(",", ":"), ensure_ascii=False))}"'
        )
    definition = canvas.definitions.get(metric)
    described = ' tabindex="0"' if definition else ""  # focusable, so the keyboard shows it too
    parts = [
        f'<div class="jm-bigvalue" data-query="{_e(result.name)}" data-column="{_e(column)}" '
        f'data-value="{_e("" if value is None else value)}" '
        f'data-down-is-good="{str(down_is_good).lower()}"{series}{described}>',
        f'<div class="jm-bv-title">{_e(attributes.get("title") or humanize(column))}</div>',
        f'<div class="jm-bv-value">{_e(value_text)}</div>',
        comparison_html,
        target_of(current),
    ]
    if sparkline:
        ordered = sorted(
            result.rows,
            key=lambda row: (row[result.index(sparkline)] is None, row[result.index(sparkline)]),
        )
        parts.append(charts.sparkline_svg([row[result.index(column)] for row in ordered]))
    if definition:
        # Shown on hover and keyboard focus (site.css); a screen reader reads it with the tile.
        parts.append(f'<div class="jm-bv-definition">{_e(definition)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _input(attributes: Attributes, canvas: Canvas) -> str:
    """An input's control (reports.inputs reads the tag before the page is rendered)."""
    name = attributes.require("name")
    return inputs.control_html(canvas.inputs[name])


def _alert_list(attributes: Attributes, canvas: Canvas) -> str:
    result = canvas.result(attributes)
    severity = attributes.get("severity", "severity")
    message = attributes.get("message", "message")
    metric = attributes.get("metric")
    when = attributes.get("date")
    if when is None:
        when = next(
            (c for c in result.columns if c in ("date", "alert_date") or c.endswith("_date")),
            None,
        )
    _check_columns(result, attributes, severity, message, metric, when)
    limit = attributes.integer("limit", 20)
    items = []
    for row in list(result)[:limit]:
        level = str(row[severity]).lower()
        date_text = (
            f'<time class="jm-alert-date">{_e(format_value(row[when], "date"))}</time>'
            if when
            else ""
        )
        # Labels, not raw names, whatever the query selected (e.g. fct_alerts' own columns).
        metric_text = (
            f'<span class="jm-alert-metric">{_e(humanize(row[metric]))}</span>' if metric else ""
        )
        # The row's values, for the page's row filters (inputs.js), as tables carry theirs.
        cells = json.dumps(
            {column: to_json_value(row[column]) for column in result.columns},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        items.append(
            f'<li class="jm-alert severity-{_e(level)}" data-cells="{_e(cells)}">'
            f'<span class="jm-badge">{_e(level)}</span>'
            f"{date_text}{metric_text}"
            f'<span class="jm-alert-message">{_e(readable(str(row[message])))}</span></li>'
        )
    if items:
        body = f'<ul class="jm-alerts">{"".join(items)}</ul>'
        if len(result.rows) > limit:
            body += f'<p class="jm-note">{limit} of {len(result.rows):,} shown.</p>'
    else:
        body = f'<p class="jm-all-clear">{_e(attributes.get("empty", "No open alerts."))}</p>'
    return _card("alerts", attributes.get("title"), canvas.embed(result), body)


# Narratives are prose: no HTML, links, images or code even if a text got past the checks.
_NARRATIVE_MARKDOWN = MarkdownIt("commonmark", {"html": False}).disable(
    ["link", "image", "autolink", "html_inline", "html_block", "backticks", "fence", "code"]
)


def _narrative(attributes: Attributes, canvas: Canvas) -> str:
    names = attributes.names("data")
    if not names:
        raise PageProblem("<Narrative> needs a data= attribute (query names)", attributes.line)
    selected = {}
    for name in names:
        if name not in canvas.results:
            raise PageProblem(
                f"<Narrative> data={name!r} is not a query on this page "
                f"(queries: {', '.join(canvas.results) or 'none'})",
                attributes.line,
            )
        selected[name] = canvas.results[name]
    topic = attributes.get("topic", canvas.title)
    try:
        if canvas.narrator is None:
            raise PageProblem("<Narrative> needs a narrator (build the site)", attributes.line)
        text = narratives.write(canvas.narrator, topic, selected, ai=canvas.ai)
    except PageProblem:
        raise
    except Exception as error:  # the engine's failure must name this page and line
        raise PageProblem(
            f"<Narrative> the narrative engine failed: {type(error).__name__}: {error}",
            attributes.line,
        ) from error
    detail = getattr(text, "detail", "")
    title = f' title="{_e(detail)}"' if detail else ""
    return (
        f'<aside class="jm-narrative" data-source="{_e(text.source)}">'
        f'<div class="jm-narrative-label"{title}>{_e(text.label)}</div>'
        f"{_NARRATIVE_MARKDOWN.render(text.text)}</aside>"
    )


@dataclass(frozen=True)
class Component:
    render: Callable[[Attributes, Canvas], str]
    attributes: frozenset[str]


_CHART_ATTRIBUTES = {
    "data",
    "filter",
    "x",
    "y",
    "series",
    "fmt",
    "x_fmt",
    "title",
    "stacked",
    "height",
    "band",
    "band_title",
    "dashed",
    "partial",
    "y_title",
    "goal",
    "goal_metric",
}

COMPONENTS: dict[str, Component] = {
    "BigValue": Component(
        _big_value,
        frozenset(
            {"data", "filter", "value", "comparison", "comparison_title", "fmt", "title"}
            | {"sparkline", "x"}
            | {"down_is_good", "metric", "target"}
        ),
    ),
    "LineChart": Component(_xy("line", False), frozenset(_CHART_ATTRIBUTES)),
    "AreaChart": Component(_xy("area", True), frozenset(_CHART_ATTRIBUTES)),
    "BarChart": Component(_xy("bar", True), frozenset(_CHART_ATTRIBUTES | {"horizontal"})),
    "Waterfall": Component(
        _waterfall,
        frozenset({"data", "filter", "x", "y", "measure", "fmt", "title", "height", "period"}),
    ),
    "Heatmap": Component(
        _heatmap, frozenset({"data", "filter", "x", "y", "value", "fmt", "y_fmt", "title"})
    ),
    "Funnel": Component(
        _funnel, frozenset({"data", "filter", "stage", "value", "series", "fmt", "title"})
    ),
    "DataTable": Component(
        _data_table,
        frozenset(
            {"data", "filter", "columns", "fmt", "rows", "title", "search", "detail", "lazy"}
        ),
    ),
    "DetailDialog": Component(
        _detail_dialog, frozenset({"key", "header", "data", "titles", "title", "missing"})
    ),
    "AlertList": Component(
        _alert_list,
        frozenset(
            {"data", "filter", "severity", "message", "metric", "date", "limit", "title", "empty"}
        ),
    ),
    "Narrative": Component(_narrative, frozenset({"data", "topic"})),
    **{name: Component(_input, accepted) for name, accepted in inputs.ACCEPTED.items()},
}


ACCEPTED: dict[str, frozenset[str]] = {
    name: component.attributes for name, component in COMPONENTS.items()
}
"""Each component's name and the attributes it takes (for reports.tags.extract)."""


def render_all(placed: Placed, canvas: Canvas) -> list[str]:
    """HTML of each extracted component, in order; errors get the tag's line."""
    rendered = []
    for name, attributes in placed.tags:
        try:
            rendered.append(COMPONENTS[name].render(attributes, canvas))
        except PageProblem as problem:
            if problem.line is None:
                problem.line = attributes.line
            raise
    return rendered
