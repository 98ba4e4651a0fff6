"""No tile, narrative or chart of the real pages compares a partial period with a complete one.

Which weeks and months are partial is worked out here from the raw Parquet files' event dates
with Python's calendar, not read from the warehouse's dim_periods, so the pages' SQL and the
warehouse's definition are both checked against a second computation.
"""

from __future__ import annotations

import calendar
import html as html_lib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jobmetrics.core import settings as settings_module
from jobmetrics.reports import SiteResult, build_site
from jobmetrics.reports import build as build_module
from jobmetrics.warehouse.results import QueryResult

pytestmark = pytest.mark.slow

# Every event of the raw contract that opens the data window (a subscription's end or an
# invoice's service period may lie after the last day of data, so they do not count).
RAW_EVENTS = {
    "raw_users": "signed_up_at",
    "raw_sessions": "started_at",
    "raw_scans": "scanned_at",
    "raw_subscriptions": "started_at",
    "raw_invoices": "issued_at",
    "raw_marketing_spend": "spend_date",
}
BIGVALUE = re.compile(r"<BigValue\b([^>]*)/>")
ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
NARRATIVE = re.compile(r'<aside class="jm-narrative"[^>]*>(.*?)</aside>', re.S)
MONTH_NAMES = {name: number for number, name in enumerate(calendar.month_abbr) if name}
MONTH_MENTION = re.compile(r"\b(" + "|".join(MONTH_NAMES) + r") (\d{4})\b")
WEEK_MENTION = re.compile(r"\b[Ww]eek of (\d{4}-\d{2}-\d{2})\b")
PAGE_DATA = re.compile(r'<script type="application/json" id="jm-page-data">(.*?)</script>', re.S)


@dataclass(frozen=True)
class Span:
    """The first and last day of the raw data, and what follows from them."""

    start: date
    end: date

    def label(self, first: date, last: date) -> str | None:
        """None for a period the data covers whole, else 'partial: n of m days'."""
        if first >= self.start and last <= self.end:
            return None
        covered = (min(last, self.end) - max(first, self.start)).days + 1
        return f"partial: {covered} of {(last - first).days + 1} days"

    def week(self, monday: date) -> str | None:
        return self.label(monday, monday + timedelta(days=6))

    def month(self, first: date) -> str | None:
        days = calendar.monthrange(first.year, first.month)[1]
        return self.label(first, first.replace(day=days))

    def day(self, day: date) -> str | None:
        return self.label(day, day)


@pytest.fixture(scope="module")
def span(request: pytest.FixtureRequest) -> Span:
    """The raw data's span: the default data (data/raw) when the pages are tested on a prebuilt
    warehouse (REPORTS_TEST_WAREHOUSE), else the session's generated raw folder."""
    if os.environ.get("REPORTS_TEST_WAREHOUSE"):
        raw = settings_module.load().raw_dir
    else:
        raw = request.getfixturevalue("raw_dir")
    firsts, lasts = [], []
    for table, column in RAW_EVENTS.items():
        first, last = duckdb.sql(
            f"select min({column}), max({column}) from read_parquet('{raw / table}.parquet')"
        ).fetchone()
        firsts.append(first.date() if isinstance(first, datetime) else first)
        lasts.append(last.date() if isinstance(last, datetime) else last)
    return Span(min(firsts), max(lasts))


@dataclass
class BuiltSite:
    site: SiteResult
    results: dict[str, dict[str, QueryResult]] = field(default_factory=dict)
    """Each page's URL → its query results."""
    sources: dict[str, str] = field(default_factory=dict)
    """Each page's URL → its Markdown."""


@pytest.fixture(scope="module")
def built(report_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The real pages built from the report warehouse, keeping every page's query results."""
    captured = BuiltSite(site=None)  # type: ignore[arg-type]
    render = build_module.render_page

    def keeping_results(page: Any, *args: Any, **kwargs: Any) -> Any:
        rendered = render(page, *args, **kwargs)
        captured.results[page.url] = rendered.results
        captured.sources[page.url] = page.source.path.read_text(encoding="utf-8")
        return rendered

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build_module, "render_page", keeping_results)
        captured.site = build_site(report_warehouse, tmp_path_factory.mktemp("honest") / "site")
    return captured


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
        return date.fromisoformat(value[:10])
    return None


def _grain(column: str, values: list[date]) -> str:
    """'week', 'month' or 'day': by the column's name, else by the dates themselves."""
    if "week" in column or (len(values) > 1 and all(v.weekday() == 0 for v in values)):
        return "week"
    if "month" in column or (len(values) > 1 and all(v.day == 1 for v in values)):
        return "month"
    return "day"


def _partial(span: Span, grain: str, period: date) -> str | None:
    return {"week": span.week, "month": span.month, "day": span.day}[grain](period)


def _tiles(page_source: str) -> list[dict[str, str]]:
    return [dict(ATTRIBUTE.findall(match.group(1))) for match in BIGVALUE.finditer(page_source)]


def test_the_data_span_leaves_partial_periods_to_check(span: Span) -> None:
    """The checks below only mean something when the data has partial periods."""
    first_monday = span.start - timedelta(days=span.start.weekday())
    last_monday = span.end - timedelta(days=span.end.weekday())
    assert span.week(first_monday) or span.week(last_monday)


def test_comparison_tiles_read_complete_periods_only(built: BuiltSite, span: Span) -> None:
    checked = 0
    for url, results in built.results.items():
        for tile in _tiles(built.sources[url]):
            if "comparison" not in tile or "{" in tile.get("data", "{"):
                continue
            result = results[tile["data"]]
            period_columns = [
                column
                for column in result.columns
                if result.rows and _as_date(result.rows[0][result.index(column)]) is not None
            ]
            assert period_columns, f"{url}: tile {tile['value']} has no period column"
            column = period_columns[0]
            periods = [_as_date(value) for value in result.column(column)]
            grain = _grain(column, [p for p in periods if p])
            partial = {p: label for p in periods if p and (label := _partial(span, grain, p))}
            # the tile shows the first row and compares it with an earlier one of the result
            assert partial == {}, f"{url}: tile {tile['value']} reads partial {grain}s {partial}"
            checked += 1
    assert checked >= 20


def _mentions(text: str) -> list[tuple[str, date, int]]:
    found = [
        ("month", date(int(year), MONTH_NAMES[name], 1), match.end())
        for match in MONTH_MENTION.finditer(text)
        for name, year in [match.groups()]
    ]
    found += [
        ("week", date.fromisoformat(match.group(1)), match.end())
        for match in WEEK_MENTION.finditer(text)
    ]
    return found


def test_narratives_name_a_partial_period_as_partial_with_its_days(
    built: BuiltSite, span: Span
) -> None:
    named_partial = 0
    for path in built.site.pages:
        page = path.read_text(encoding="utf-8")
        # the default view's narratives, and those of the other views of a page with inputs
        chunks = json.loads(PAGE_DATA.search(page).group(1)).get("chunks") or {}
        blocks = [block for html in [page, *chunks.values()] for block in NARRATIVE.findall(html)]
        for block in blocks:
            text = html_lib.unescape(re.sub(r"<[^>]+>", "", block))
            for grain, period, end in _mentions(text):
                label = _partial(span, grain, period)
                if label is None:
                    continue
                # a partial period is only ever named with its label, never given a figure
                after = text[end : end + 60]
                assert label in after, (path.name, grain, period, label, text[end - 40 : end + 60])
                named_partial += 1
    assert named_partial >= 1  # the product page's last (or first) week at least


def _marked(trace: dict[str, Any], index: int) -> bool:
    """Whether a trace draws point `index` as partial: dashed, hatched, or labelled in the hover."""
    if (trace.get("line") or {}).get("dash") == "dash":
        return True
    shapes = ((trace.get("marker") or {}).get("pattern") or {}).get("shape")
    if isinstance(shapes, list) and shapes[index] == "/":
        return True
    hover = trace.get("hovertemplate")
    return isinstance(hover, list) and "partial" in hover[index]


def test_charts_draw_partial_weeks_and_months_apart(built: BuiltSite, span: Span) -> None:
    marked = 0
    for path in built.site.pages:
        data = json.loads(PAGE_DATA.search(path.read_text(encoding="utf-8")).group(1))
        for chart_id, figure in data["charts"].items():
            for trace in figure["data"]:
                invisible = (  # the lower edge of a band: no line, no hover, only its fill
                    trace.get("hoverinfo") == "skip" and (trace.get("line") or {}).get("width") == 0
                )
                if (
                    trace.get("type") not in ("bar", "scatter")
                    or trace.get("legendgroup") == "alerts"
                    or invisible
                ):
                    continue
                xs = [_as_date(value) for value in trace.get("x") or []]
                dates = [x for x in xs if x is not None]
                if len(dates) < 2 or len(dates) != len(xs):
                    continue
                grain = _grain("", sorted(set(dates)))
                if grain == "day":
                    continue
                for index, (x, y) in enumerate(zip(xs, trace.get("y") or [], strict=False)):
                    if y is None or _partial(span, grain, x) is None:
                        continue
                    if x > span.end:
                        # a period after the data can only be a forecast, and must say so
                        hover = trace.get("hovertemplate")
                        forecast = isinstance(hover, list) and "forecast" in hover[index]
                        is_dashed = (trace.get("line") or {}).get("dash") == "dash"
                        assert forecast or is_dashed, (path.name, chart_id, trace.get("name"), x)
                        continue
                    assert _marked(trace, index), (path.name, chart_id, trace.get("name"), x)
                    marked += 1
    assert marked >= 1


def test_heatmap_cells_of_partial_months_are_left_out(built: BuiltSite, span: Span) -> None:
    """A cohort heatmap's cell at age n is measured n months after the cohort's month; none is
    measured in a partial month (a false cliff on the last diagonal)."""
    checked = 0
    for path in built.site.pages:
        data = json.loads(PAGE_DATA.search(path.read_text(encoding="utf-8")).group(1))
        for figure in data["charts"].values():
            for trace in figure["data"]:
                # the values' trace prints them; a backdrop trace marking empty cells does not
                if trace.get("type") != "heatmap" or "text" not in trace:
                    continue
                for label, row in zip(trace["y"], trace["z"], strict=True):
                    name, _, year = str(label).partition(" ")
                    if name not in MONTH_NAMES or not year.isdigit():
                        continue
                    cohort = date(int(year), MONTH_NAMES[name], 1)
                    for age, value in zip(trace["x"], row, strict=True):
                        index = cohort.year * 12 + cohort.month - 1 + int(age)
                        measured = date(index // 12, index % 12 + 1, 1)
                        if value is not None and span.month(measured):
                            pytest.fail(f"{path.name}: {label} at {age} measured in {measured}")
                        checked += 1
    assert checked > 0


def _calendar_periods(span: Span) -> set[tuple[str, date, date, int, int, bool, str | None]]:
    """Every day, Monday-to-Sunday week and month the raw data touches, from Python's calendar."""
    periods = set()
    day = span.start
    while day <= span.end:
        monday = day - timedelta(days=day.weekday())
        month_days = calendar.monthrange(day.year, day.month)[1]
        starts_ends = {
            ("day", day, day),
            ("week", monday, monday + timedelta(days=6)),
            ("month", day.replace(day=1), day.replace(day=month_days)),
        }
        for grain, first, last in starts_ends:
            covered = (min(last, span.end) - max(first, span.start)).days + 1
            label = span.label(first, last)
            periods.add((grain, first, last, (last - first).days + 1, covered, not label, label))
        day += timedelta(days=1)
    return periods


def test_dim_periods_equals_the_calendar_of_the_raw_data(
    report_warehouse: Path, span: Span
) -> None:
    connection = duckdb.connect(str(report_warehouse), read_only=True)
    try:
        rows = connection.execute(
            "select grain, period_start_date, period_end_date, days_in_period, days_with_data, "
            "is_complete, partial_label from dim_periods"
        ).fetchall()
    finally:
        connection.close()
    assert len(rows) == len(set(rows))
    assert set(rows) == _calendar_periods(span)
