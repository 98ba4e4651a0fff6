"""Alerts from fct_alerts marked on every chart that draws their metric.

A chart draws metric `m` when a trace is the y column `m` (its trace name is the column's label),
a series value `m` (long data, e.g. `series="metric"`), or the `value` column of long rows whose
`metric` column holds `m` only (e.g. `filter="metric=m"`). Charts on templated pages (one per
channel or plan) draw a slice, not the company-wide metric, and get no alerts. The site build
reads the alerts once (`load_alerts`); each chart gets one small diamond per alerted point,
coloured by severity, with the alert messages on hover.

Grain rule: an alert is drawn on a chart whose points are at least as long as the alert's
period, at the chart point whose period holds the alert's date. A daily alert lands on its day
on a daily chart, in its week on a weekly chart and in its month on a monthly one (the hover
names the day); a monthly alert is drawn on monthly charts only, never on one day of a daily
chart. A chart's period is the shortest step between its dates (month starts a month apart make
a monthly chart); an alert outside every point's period (before the first, in a gap, after the
last) is not drawn.
"""

from __future__ import annotations

import calendar
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb

from jobmetrics.core.formats import format_value
from jobmetrics.core.labels import humanize
from jobmetrics.reports import charts
from jobmetrics.reports.tags import Attributes
from jobmetrics.warehouse.results import QueryResult

ALERT_COLUMNS = ("period_start_date", "grain", "metric", "severity", "message")
GRAIN_DAYS = {"daily": 1, "weekly": 7, "monthly": 28, "quarterly": 89, "yearly": 365}
"""The shortest length of each alert grain, in days."""
SEVERITY_ORDER = ("critical", "warning")
"""Worst first: a point with alerts of both severities is drawn in the first one's colour."""
UNIT_FORMATS = {"usd": "usd", "ratio": "pct1", "ms": "ms", "count": "num0"}
"""fct_alerts.unit → the report format its values are shown in."""
MARKER_SIZE = 8
ALERTS_GROUP = "alerts"
"""The legend group of the marker traces (how a reader of the figure tells them apart); one
click on the legend hides or shows them all."""
HOVER_WIDTH = 40


@dataclass(frozen=True)
class Alert:
    """One row of fct_alerts, as the charts need it."""

    period_start_date: date
    grain: str
    metric: str
    severity: str
    message: str

    @property
    def key(self) -> str:
        """`metric@date`: names the alert in a marker's customdata."""
        return f"{self.metric}@{self.period_start_date.isoformat()}"


def load_alerts(connection: duckdb.DuckDBPyConnection) -> tuple[Alert, ...]:
    """Every alert in fct_alerts; none when the warehouse has no such table (or an older one
    without these columns), so a small test warehouse still builds."""
    found = {
        name
        for (name,) in connection.execute(
            "select column_name from information_schema.columns "
            "where table_name = 'fct_alerts' and table_schema = current_schema()"
        ).fetchall()
    }
    if not set(ALERT_COLUMNS) <= found:
        return ()
    rows = connection.execute(
        f"select {', '.join(ALERT_COLUMNS)} from fct_alerts "
        "where period_start_date is not null order by period_start_date, metric"
    ).fetchall()
    return tuple(Alert(*row) for row in rows)


def metric_label(metric: str) -> str:
    """A metric's display label, the one the site's tables show for it (core.labels)."""
    return humanize(metric)


def unit_value(value: float | None, unit: str | None) -> str:
    """A value of fct_alerts in its unit: $940.80, 9.6%, 31,777 ms, 26."""
    return format_value(value, UNIT_FORMATS.get(unit or ""))


def register_sql_functions(connection: duckdb.DuckDBPyConnection) -> None:
    """`metric_label(metric)` and `unit_value(value, unit)` for page SQL (the Alerts page)."""
    connection.create_function(
        "metric_label", metric_label, ["VARCHAR"], "VARCHAR", null_handling="default"
    )
    connection.create_function(
        "unit_value", unit_value, ["DOUBLE", "VARCHAR"], "VARCHAR", null_handling="special"
    )


def readable_message(alert: Alert) -> str:
    """The alert's message with its metric's label instead of the column name."""
    return alert.message.replace(alert.metric, metric_label(alert.metric))


def chart_metrics(
    result: QueryResult, ys: Sequence[str], series: str | None, labels: Mapping[str, str]
) -> dict[str, str]:
    """Trace name → the metric it draws, by the rules in the module docstring."""
    drawn: dict[str, str] = {}
    if series:
        drawn.update({str(value): str(value) for value in result.column(series)})
    metrics = set(result.column("metric")) if "metric" in result.columns else set()
    only = str(next(iter(metrics))) if len(metrics) == 1 else None
    for y in ys:
        drawn[labels.get(y, y)] = only if y == "value" and only else y
    return drawn


def annotate_chart(
    figure: dict[str, Any],
    alerts: Sequence[Alert],
    result: QueryResult,
    attributes: Attributes,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """annotate() for a chart component: which metrics it draws comes from its tag and rows."""
    if not alerts or not result.rows:
        return figure
    drawn = chart_metrics(result, attributes.names("y"), attributes.get("series"), labels)
    return annotate(figure, alerts, drawn)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _next_month(day: date) -> date:
    return day.replace(day=1) + timedelta(days=calendar.monthrange(day.year, day.month)[1])


def periods(xs: Sequence[Any]) -> list[tuple[Any, date, date]] | None:
    """Each point as (x as drawn, period start, period end exclusive); None if x is not dates."""
    days = sorted({day for day in map(_as_date, xs) if day is not None})
    if not days or len(days) < len([x for x in xs if x is not None and x != ""]) / 2:
        return None
    steps = [(later - earlier).days for earlier, later in zip(days, days[1:], strict=False)]
    step = min(steps) if steps else 1
    monthly = step >= 28 and all(day.day == 1 for day in days)
    drawn = {_as_date(x): x for x in xs if _as_date(x) is not None}
    return [
        (drawn[day], day, _next_month(day) if monthly else day + timedelta(days=step))
        for day in days
    ]


def _point(spans: list[tuple[Any, date, date]], alert: Alert) -> Any | None:
    """The x of the point whose period holds the alert's date, if the chart is coarse enough."""
    if not spans:
        return None
    shortest = min((end - start).days for _, start, end in spans)
    if GRAIN_DAYS.get(alert.grain, 1) > shortest:
        return None
    for x, start, end in spans:
        if start <= alert.period_start_date < end:
            return x
    return None


def _stacked_y(figure: dict[str, Any], index: int, x: Any) -> float | None:
    """Where trace `index` is drawn at x: its value, on top of earlier stacked traces."""
    traces = figure["data"]
    trace = traces[index]

    def value_at(other: dict[str, Any]) -> float | None:
        for other_x, other_y in zip(other.get("x") or [], other.get("y") or [], strict=False):
            if other_x == x:
                return None if other_y is None else float(other_y)
        return None

    own = value_at(trace)
    if own is None:
        return None
    layout = figure.get("layout", {})
    if trace.get("type") == "bar" and layout.get("barmode") in ("relative", "stack"):
        below = [
            value_at(other)
            for other in traces[:index]
            if other.get("type") == "bar" and other.get("legendgroup") != ALERTS_GROUP
        ]
        return own + sum(v for v in below if v is not None and (v >= 0) == (own >= 0))
    group = trace.get("stackgroup")
    if group:
        below = [value_at(other) for other in traces[:index] if other.get("stackgroup") == group]
        return own + sum(v for v in below if v is not None)
    return own


def annotate(
    figure: dict[str, Any], alerts: Sequence[Alert], drawn: Mapping[str, str]
) -> dict[str, Any]:
    """The figure with marker traces (per drawn trace and severity) for the alerts of the
    metrics it draws.

    drawn: trace name (or raw series value) → metric (see chart_metrics). The figure is
    changed in place and returned.
    """
    by_metric: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_metric.setdefault(alert.metric, []).append(alert)
    # (metric, x) → the alerts there, and the first trace that has a value at x: a metric can
    # be drawn by several traces (a partial period's dashed connector and open points).
    points: dict[tuple[str, Any], tuple[int, list[Alert]]] = {}
    for index, trace in enumerate(figure.get("data", [])):
        if trace.get("type") not in ("scatter", "bar") or trace.get("orientation") == "h":
            continue
        # A series trace carries its raw series value as meta; its name may be a label.
        metric = drawn.get(str(trace.get("meta", trace.get("name"))))
        if metric not in by_metric:
            continue
        spans = periods(trace.get("x") or [])
        if not spans:
            continue
        here: dict[Any, list[Alert]] = {}
        for alert in by_metric[metric]:
            x = _point(spans, alert)
            if x is not None:
                here.setdefault(x, []).append(alert)
        for x, found in here.items():
            if (metric, x) not in points and _stacked_y(figure, index, x) is not None:
                points[(metric, x)] = (index, found)
    # One marker trace per drawn trace and severity: a unified hover shows one point per
    # trace, so two metrics alerting in the same month need a trace each to both be read.
    markers: dict[tuple[str, int], dict[str, Any]] = {}
    for (_metric, x), (index, found) in points.items():
        y = _stacked_y(figure, index, x)
        worst = min(found, key=_severity_rank).severity
        marker = markers.setdefault((worst, index), _marker_trace(worst))
        if "meta" in figure["data"][index]:
            # the series value: a row filter hiding the series hides its alerts too
            marker["meta"] = figure["data"][index]["meta"]
        marker["x"].append(x)
        marker["y"].append(y)
        marker["text"].append("<br>".join(_hover_lines(found)))
        marker["customdata"].append([alert.key for alert in found])
    legend: set[str] = set()
    for severity, index in sorted(markers, key=lambda key: (_rank_of(key[0]), key[1])):
        marker = markers[(severity, index)]
        marker["showlegend"] = severity not in legend  # one legend entry per severity
        legend.add(severity)
        figure.setdefault("data", []).append(marker)
    return figure


def _rank_of(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def _severity_rank(alert: Alert) -> int:
    return _rank_of(alert.severity)


def _hover_lines(alerts: Sequence[Alert]) -> list[str]:
    lines = []
    for alert in sorted(alerts, key=lambda item: (_severity_rank(item), item.period_start_date)):
        lines.extend(textwrap.wrap(readable_message(alert), HOVER_WIDTH) or [""])
    return lines


def _marker_trace(severity: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "markers",
        "name": f"{severity.capitalize()} alert",
        "x": [],
        "y": [],
        "text": [],
        "customdata": [],
        "hovertemplate": "%{text}<extra></extra>",
        "marker": {
            "symbol": "diamond",
            "size": MARKER_SIZE,
            "color": charts.color_for(severity, 0),
            # A dark rim tells the marker from a line's own points of a similar colour.
            "line": {"color": "#111827", "width": 1},
        },
        "cliponaxis": False,
        "legendgroup": ALERTS_GROUP,
    }
