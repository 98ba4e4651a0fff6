"""Alerts marked on the charts of their metrics (reports.annotations) and the Alerts page.

The unit tests draw hand-made figures with hand-made alerts and state where each marker must be;
the site tests read the built pages and compute where every alert belongs with SQL."""

from __future__ import annotations

import html as html_module
import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jobmetrics.core.labels import humanize
from jobmetrics.reports import SiteResult
from jobmetrics.reports.annotations import (
    ALERTS_GROUP,
    Alert,
    annotate,
    chart_metrics,
    load_alerts,
    metric_label,
    unit_value,
)
from jobmetrics.warehouse.results import QueryResult

RED, AMBER = "#dc2626", "#d97706"


def line(name: str, xs: list[str], ys: list[float]) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "name": name, "x": xs, "y": ys}


def alert(day: str, metric: str, severity: str = "warning", grain: str = "daily") -> Alert:
    return Alert(
        period_start_date=date.fromisoformat(day),
        grain=grain,
        metric=metric,
        severity=severity,
        message=f"{severity.capitalize()}: {metric} was unusual on {day}",
    )


def markers(figure: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The alert marker traces of a figure by name, the traces of one name merged."""
    merged: dict[str, dict[str, Any]] = {}
    for trace in figure["data"]:
        if trace.get("legendgroup") != ALERTS_GROUP:
            continue
        into = merged.setdefault(
            trace["name"], {"x": [], "y": [], "text": [], "customdata": [], "marker": {}}
        )
        for key in ("x", "y", "text", "customdata"):
            into[key].extend(trace[key])
        into["marker"] = trace["marker"]
    return merged


MONTHS = ["2026-06-01", "2026-07-01", "2026-08-01"]


def test_daily_alert_lands_in_its_month_and_monthly_alert_on_its_month() -> None:
    figure = {"data": [line("New MRR", MONTHS, [10.0, 20.0, 30.0])], "layout": {}}
    alerts = [
        alert("2026-07-03", "new_mrr"),  # a day in July → the July point
        alert("2026-08-01", "new_mrr", "critical", grain="monthly"),
        alert("2026-09-02", "new_mrr"),  # after the last month: not on the chart
        alert("2026-05-31", "new_mrr"),  # before the first month
        alert("2026-07-10", "churned_mrr"),  # a metric this chart does not draw
    ]
    annotate(figure, alerts, {"New MRR": "new_mrr"})
    found = markers(figure)
    assert set(found) == {"Warning alert", "Critical alert"}
    assert found["Warning alert"]["x"] == ["2026-07-01"]
    assert found["Warning alert"]["y"] == [20.0]
    assert found["Warning alert"]["customdata"] == [["new_mrr@2026-07-03"]]
    assert found["Warning alert"]["marker"]["color"] == AMBER
    assert found["Critical alert"]["x"] == ["2026-08-01"]
    assert found["Critical alert"]["y"] == [30.0]
    assert found["Critical alert"]["marker"]["color"] == RED


def test_monthly_alert_is_not_drawn_on_a_daily_chart() -> None:
    days = ["2026-08-01", "2026-08-02", "2026-08-03"]
    figure = {"data": [line("Logo churn rate", days, [0.1, 0.2, 0.3])], "layout": {}}
    annotate(
        figure,
        [alert("2026-08-01", "logo_churn_rate", grain="monthly")],
        {"Logo churn rate": "logo_churn_rate"},
    )
    assert markers(figure) == {}


def test_daily_alert_on_a_weekly_chart_falls_in_its_week() -> None:
    mondays = ["2026-08-03", "2026-08-10", "2026-08-17"]
    figure = {"data": [line("Scans", mondays, [5.0, 6.0, 7.0])], "layout": {}}
    # Thursday 13 August is in the week starting Monday 10 August; 24 August is past the last
    # week (17-23 August).
    annotate(
        figure, [alert("2026-08-13", "scans"), alert("2026-08-24", "scans")], {"Scans": "scans"}
    )
    assert markers(figure)["Warning alert"]["x"] == ["2026-08-10"]
    assert markers(figure)["Warning alert"]["y"] == [6.0]


def test_alert_on_a_day_missing_from_a_daily_chart_is_not_drawn() -> None:
    days = ["2026-08-01", "2026-08-02", "2026-08-04"]  # no 3 August
    figure = {"data": [line("Signups", days, [1.0, 2.0, 4.0])], "layout": {}}
    annotate(
        figure,
        [alert("2026-08-03", "signups"), alert("2026-08-04", "signups")],
        {"Signups": "signups"},
    )
    assert markers(figure)["Warning alert"]["x"] == ["2026-08-04"]


def test_alerts_at_one_point_make_one_marker_in_the_worst_colour_with_every_message() -> None:
    figure = {"data": [line("p95 processing ms", MONTHS, [1.0, 2.0, 3.0])], "layout": {}}
    both = [
        alert("2026-07-05", "p95_processing_ms", "warning"),
        alert("2026-07-20", "p95_processing_ms", "critical"),
    ]
    annotate(figure, both, {"p95 processing ms": "p95_processing_ms"})
    found = markers(figure)
    assert list(found) == ["Critical alert"]
    assert found["Critical alert"]["x"] == ["2026-07-01"]
    assert sorted(found["Critical alert"]["customdata"][0]) == [
        "p95_processing_ms@2026-07-05",
        "p95_processing_ms@2026-07-20",
    ]
    text = found["Critical alert"]["text"][0]
    # The critical message first; the metric shown by its label, never its column name.
    assert text.index("Critical: p95 processing time") < text.index("Warning: p95 processing time")
    assert "p95_processing_ms" not in text


def test_two_metrics_alerting_in_one_month_each_get_a_marker_trace() -> None:
    # A unified hover shows one point per trace: each metric's marker needs its own trace.
    figure = {
        "data": [
            line("Logo churn rate", MONTHS, [0.05, 0.06, 0.09]),
            line("Gross MRR churn rate", MONTHS, [0.04, 0.07, 0.12]),
        ],
        "layout": {},
    }
    alerts = [
        alert("2026-08-01", "logo_churn_rate", "critical", grain="monthly"),
        alert("2026-08-01", "gross_mrr_churn_rate", "critical", grain="monthly"),
        alert("2026-07-01", "gross_mrr_churn_rate", "warning", grain="monthly"),
    ]
    drawn = {"Logo churn rate": "logo_churn_rate", "Gross MRR churn rate": "gross_mrr_churn_rate"}
    annotate(figure, alerts, drawn)
    added = figure["data"][2:]
    assert [(t["name"], t["x"], t["y"]) for t in added] == [
        ("Critical alert", ["2026-08-01"], [0.09]),
        ("Critical alert", ["2026-08-01"], [0.12]),
        ("Warning alert", ["2026-07-01"], [0.07]),
    ]
    assert [t["showlegend"] for t in added] == [True, False, True]


def test_a_metric_drawn_by_several_traces_gets_one_marker_per_point() -> None:
    # A partial last month: the main line stops before it, a dashed connector joins the last
    # complete month to it, open points mark it (reports.charts); all three are "New MRR".
    main = line("New MRR", MONTHS, [10.0, 20.0, None])
    connector = line("New MRR", MONTHS, [None, 20.0, 30.0])
    points = line("New MRR", MONTHS, [None, None, 30.0])
    figure = {"data": [main, connector, points], "layout": {}}
    annotate(
        figure,
        [alert("2026-07-04", "new_mrr"), alert("2026-08-02", "new_mrr")],
        {"New MRR": "new_mrr"},
    )
    assert markers(figure)["Warning alert"]["x"] == ["2026-07-01", "2026-08-01"]
    assert markers(figure)["Warning alert"]["y"] == [20.0, 30.0]


def test_marker_sits_on_top_of_its_stacked_bar() -> None:
    figure = {
        "data": [
            {"type": "bar", "name": "New MRR", "x": MONTHS, "y": [10.0, 12.0, 14.0]},
            {"type": "bar", "name": "Churned MRR", "x": MONTHS, "y": [-5.0, -6.0, -7.0]},
            {"type": "bar", "name": "Expansion MRR", "x": MONTHS, "y": [4.0, 3.0, -2.0]},
        ],
        "layout": {"barmode": "relative"},
    }
    alerts = [alert("2026-06-15", "expansion_mrr"), alert("2026-08-15", "expansion_mrr")]
    annotate(figure, alerts, {"Expansion MRR": "expansion_mrr"})
    # June: 4 stacks on the positive 10 → 14. August: -2 stacks below the negative -7 → -9.
    assert markers(figure)["Warning alert"]["x"] == ["2026-06-01", "2026-08-01"]
    assert markers(figure)["Warning alert"]["y"] == [14.0, -9.0]


def test_grouped_bars_and_category_charts() -> None:
    grouped = {
        "data": [
            {"type": "bar", "name": "A", "x": MONTHS, "y": [1.0, 2.0, 3.0]},
            {"type": "bar", "name": "B", "x": MONTHS, "y": [4.0, 5.0, 6.0]},
        ],
        "layout": {"barmode": "group"},
    }
    annotate(grouped, [alert("2026-07-02", "b")], {"B": "b"})
    assert markers(grouped)["Warning alert"]["y"] == [5.0]
    categories = {"data": [line("B", ["paid_search", "referral"], [1.0, 2.0])], "layout": {}}
    annotate(categories, [alert("2026-07-02", "b")], {"B": "b"})
    assert markers(categories) == {}


def test_series_trace_is_matched_by_its_raw_value_not_its_label() -> None:
    figure = {
        "data": [{**line("Churned MRR", MONTHS, [1.0, 2.0, 3.0]), "meta": "churned_mrr"}],
        "layout": {},
    }
    annotate(figure, [alert("2026-06-09", "churned_mrr")], {"churned_mrr": "churned_mrr"})
    assert markers(figure)["Warning alert"]["x"] == ["2026-06-01"]


def test_chart_metrics_from_columns_series_and_long_rows() -> None:
    labels = {"value": "Value", "expected_value": "Expected value", "new_mrr": "New MRR"}
    long_rows = QueryResult(
        "context", ["day", "metric", "value", "expected_value"], [(1, "churned_mrr", 2.0, 1.0)]
    )
    assert chart_metrics(long_rows, ["value", "expected_value"], None, labels) == {
        "Value": "churned_mrr",
        "Expected value": "expected_value",
    }
    two_metrics = QueryResult("context", ["day", "metric", "value"], [(1, "a", 2.0), (2, "b", 3.0)])
    assert chart_metrics(two_metrics, ["value"], None, labels) == {"Value": "value"}
    wide = QueryResult("wide", ["month", "new_mrr"], [(1, 2.0)])
    assert chart_metrics(wide, ["new_mrr"], None, labels) == {"New MRR": "new_mrr"}
    by_series = QueryResult("long", ["month", "metric", "value"], [(1, "a", 1.0), (1, "b", 2.0)])
    assert chart_metrics(by_series, ["value"], "metric", labels) == {
        "a": "a",
        "b": "b",
        "Value": "value",
    }


def test_labels_and_values_in_the_metric_unit() -> None:
    assert metric_label("churned_mrr") == "Churned MRR"
    assert metric_label("signups__organic_search") == "Signups organic search"
    assert unit_value(0.096, "ratio") == "9.6%"
    assert unit_value(940.8, "usd") == "$940.80"
    assert unit_value(31776.5, "ms") == "31,777 ms"
    assert unit_value(26.0, "count") == "26"


def test_load_alerts_without_the_table_or_with_an_older_one(tmp_path: Path) -> None:
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        assert load_alerts(connection) == ()
        connection.execute("create table fct_alerts as select date '2026-01-01' as alert_date")
        assert load_alerts(connection) == ()
        connection.execute("drop table fct_alerts")
        connection.execute(
            "create table fct_alerts as select * from (values "
            "(date '2026-02-01', 'monthly', 'logo_churn_rate', 'warning', 'm1'), "
            "(date '2026-01-05', 'daily', 'new_mrr', 'critical', 'm2')"
            ") as t(period_start_date, grain, metric, severity, message)"
        )
        assert load_alerts(connection) == (
            Alert(date(2026, 1, 5), "daily", "new_mrr", "critical", "m2"),
            Alert(date(2026, 2, 1), "monthly", "logo_churn_rate", "warning", "m1"),
        )
    finally:
        connection.close()


def test_a_warehouse_with_an_older_alerts_table_still_builds(build, page_data) -> None:
    # The tiny warehouse's fct_alerts has no grain or period_start_date column.
    site = build(
        {
            "index.md": "# MRR\n\n```sql m\nselect month, new_mrr from fct_mrr_monthly\n```\n\n"
            '<LineChart data="m" x="month" y="new_mrr" />\n'
        }
    )
    figure = next(iter(page_data(site.pages[0].read_text(encoding="utf-8"))["charts"].values()))
    assert markers(figure) == {}


# --- the real pages -------------------------------------------------------------------------

TRUNC = {"daily": "day", "weekly": "week", "monthly": "month"}
GRAIN_ORDER = ["daily", "weekly", "monthly"]


def _chart_grain(xs: list[str]) -> str:
    """Monthly when every point is a first of a month, weekly when all are Mondays, else daily."""
    days = [date.fromisoformat(x[:10]) for x in xs]
    if all(day.day == 1 for day in days) and len(set(days)) > 1:
        return "monthly"
    if all(day.weekday() == 0 for day in days) and len(set(days)) > 1:
        return "weekly"
    return "daily"


def _is_date(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None


def _drawn_metrics(trace: dict, dataset: dict, metrics: set[str]) -> set[str]:
    """The alert metrics a trace draws, read from the chart's own rows: a column whose label
    is the trace's name, a series value, or the metric whose long rows give the trace's points."""
    columns = dataset["columns"]
    found = {column for column in columns if humanize(column) == trace["name"]} & metrics
    if trace.get("meta") in metrics or trace["name"] in metrics:
        found.add(trace.get("meta") or trace["name"])
    if {"metric", "value"} <= set(columns) and trace["name"] == humanize("value"):
        m, v = columns.index("metric"), columns.index("value")
        points = list(zip(trace["x"], trace["y"], strict=True))
        for metric in metrics:
            rows = [row for row in dataset["rows"] if row[m] == metric]
            x_column = next(i for i, value in enumerate(rows[0]) if _is_date(value)) if rows else 0
            if rows and [(row[x_column], row[v]) for row in rows] == points:
                found.add(metric)
    return found


def _chart_datasets(page: str) -> dict[str, str]:
    """Chart id → the dataset of its card's Download CSV button (the button comes first)."""
    found = {}
    for match in re.finditer(r'data-chart="([^"]+)"', page):
        start = page.rindex('data-dataset="', 0, match.start()) + len('data-dataset="')
        found[match.group(1)] = page[start : page.index('"', start)]
    return found


@pytest.mark.slow
def test_every_alert_is_marked_on_every_chart_of_its_metric(
    report_site: SiteResult, report_warehouse: Path, page_data
) -> None:
    connection = duckdb.connect(str(report_warehouse), read_only=True)
    try:
        alerts = connection.execute(
            "select metric, grain, period_start_date, "
            "date_trunc('week', period_start_date)::date, "
            "date_trunc('month', period_start_date)::date "
            "from fct_alerts"
        ).fetchall()
    finally:
        connection.close()
    metrics = {row[0] for row in alerts}
    assert metrics, "the default data has alerts"
    charts_checked, marked = 0, 0
    for path in report_site.pages:
        if path.parent.name in ("channels", "plans"):
            continue  # one channel's or plan's slice, not the company-wide metric
        page = path.read_text(encoding="utf-8")
        data = page_data(page)
        chart_dataset = _chart_datasets(page)
        for chart_id, figure in data["charts"].items():
            traces = [t for t in figure["data"] if t.get("legendgroup") != ALERTS_GROUP]
            marked_points = [
                (x, keys)
                for t in figure["data"]
                if t.get("legendgroup") == ALERTS_GROUP
                for x, keys in zip(t["x"], t["customdata"], strict=True)
            ]
            found = {key: x for x, keys in marked_points for key in keys}
            metric_points = [
                (x, metric)
                for x, keys in marked_points
                for metric in {key.split("@")[0] for key in keys}
            ]
            assert len(metric_points) == len(set(metric_points)), f"{path.name}: one marker each"
            expected: dict[str, str] = {}
            dataset_key = chart_dataset.get(chart_id)
            for trace in traces:
                xs = [x for x in trace.get("x") or [] if _is_date(x)]
                if trace.get("type") not in ("scatter", "bar") or not xs or not dataset_key:
                    continue
                drawn = _drawn_metrics(trace, data["datasets"][dataset_key], metrics)
                grain = _chart_grain(xs)
                for metric, alert_grain, day, week, month in alerts:
                    if metric not in drawn:
                        continue
                    if GRAIN_ORDER.index(alert_grain) > GRAIN_ORDER.index(grain):
                        continue
                    x = {"daily": day, "weekly": week, "monthly": month}[grain].isoformat()
                    if x in xs:
                        expected[f"{metric}@{day.isoformat()}"] = x
            charts_checked += 1
            marked += len(expected)
            assert found == expected, f"{path.name} {chart_id}"
    assert charts_checked > 20 and marked > 0


@pytest.mark.slow
def test_alerts_page_lists_every_alert_once(
    report_site: SiteResult, report_warehouse: Path
) -> None:
    connection = duckdb.connect(str(report_warehouse), read_only=True)
    try:
        ((count, critical),) = connection.execute(
            "select count(*), count(*) filter (where severity = 'critical') from fct_alerts"
        ).fetchall()
    finally:
        connection.close()
    page = (report_site.out_dir / "alerts.html").read_text(encoding="utf-8")
    card = page[page.index("Every alert, newest first") :]
    table = card[card.index("<tbody>") : card.index("</tbody>")]
    rows = re.findall(r"<tr[ >].*?</tr>", table, re.S)
    assert len(rows) == count
    # Each cell's raw value (data-v, what it sorts by); the text shown may be a label.
    values = [re.findall(r'<td[^>]*data-v="([^"]*)"', row) for row in rows]
    assert sum(1 for row in values if row[3] == "critical") == critical
    shown = html_module.unescape(re.sub(r"<[^>]+>", " ", table))
    assert not re.search(r"\b[a-z0-9]+_[a-z0-9_]+\b", shown), "a raw column name in the table"
