"""The product figures of the real pages against a recomputation from the raw Parquet files.

The Overview's product usage tiles (DAU, MAU, stickiness, match rate, p95 processing time) and
the product page's "By résumé format, job category and keyword count" section are recomputed
here in Python from raw_scans and raw_sessions, not read from the marts: DAU as the month's
average day (the metric registry's month grain), MAU as the distinct users active in the 30 days
ending on the month's last day, stickiness as their ratio, match rate over completed scans,
p95 with numpy's "linear" percentile (the continuous percentile of
macros/analytics_percentile.sql). Keyword bands come from seeds/keyword_bands.csv.
"""

from __future__ import annotations

import calendar
import html as html_lib
import json
import os
import re
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from jobmetrics.core import settings as settings_module
from jobmetrics.core.formats import format_value
from jobmetrics.reports import SiteResult
from tests.analytics.test_scans_by_dimension import keyword_band, read_bands

pytestmark = pytest.mark.slow

TILE = re.compile(
    r'<div class="jm-bigvalue" data-query="(?P<query>\w+)" data-column="(?P<column>\w+)" '
    r'data-value="(?P<value>[^"]*)"[^>]*?data-series="(?P<series>[^"]*)"',
)
PRODUCT_TILES = {
    "dau": "num0",
    "mau": "num0",
    "stickiness": "pct1",
    "avg_match_rate": "num1",
    "p95_processing_ms": "ms",
}


@pytest.fixture(scope="module")
def raw(request: pytest.FixtureRequest) -> Path:
    """The raw folder behind the report warehouse (see test_honest_periods.span)."""
    if os.environ.get("REPORTS_TEST_WAREHOUSE"):
        return settings_module.load().raw_dir
    return request.getfixturevalue("raw_dir")


@pytest.fixture(scope="module")
def scans(raw: Path) -> list[dict]:
    return pq.read_table(raw / "raw_scans.parquet").to_pylist()


def _month(day: date) -> date:
    return day.replace(day=1)


def _month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def complete_months(raw: Path) -> list[date]:
    """Months whose first and last day lie inside the data (its manifest's span)."""
    manifest = json.loads((raw / "_manifest.json").read_text())
    start, end = (date.fromisoformat(manifest[key]) for key in ("data_start", "data_end"))
    months, month = [], _month(start)
    while month <= end:
        if month >= start and _month_end(month) <= end:
            months.append(month)
        month = _month_end(month) + timedelta(days=1)
    return months


def product_months(raw: Path, scans: list[dict]) -> dict[date, dict[str, float]]:
    """Complete month → the five product tiles' figures, from the raw files."""
    active: dict[date, set[int]] = defaultdict(set)
    for scan in scans:
        if scan["status"] == "completed":
            active[scan["scanned_at"].date()].add(scan["user_id"])
    sessions = pq.read_table(raw / "raw_sessions.parquet", columns=["user_id", "started_at"])
    for session in sessions.to_pylist():
        if session["user_id"] is not None:
            active[session["started_at"].date()].add(session["user_id"])
    monthly_scans: dict[date, list[dict]] = defaultdict(list)
    for scan in scans:
        monthly_scans[_month(scan["scanned_at"].date())].append(scan)
    figures = {}
    for month in complete_months(raw):
        end = _month_end(month)
        days = [month + timedelta(days=i) for i in range(end.day)]
        dau = sum(len(active[day]) for day in days) / len(days)
        mau = len(set().union(*(active[end - timedelta(days=i)] for i in range(30))))
        rows = monthly_scans[month]
        rates = [row["match_rate"] for row in rows if row["status"] == "completed"]
        times = np.array([row["processing_ms"] for row in rows], dtype=np.float64)
        figures[month] = {
            "dau": dau,
            "mau": mau,
            "stickiness": dau / mau,
            "avg_match_rate": sum(rates) / len(rates),
            "p95_processing_ms": float(np.percentile(times, 95, method="linear")),
        }
    return figures


def test_overview_product_tiles_equal_the_raw_files(
    report_site: SiteResult, raw: Path, scans: list[dict]
) -> None:
    expected = product_months(raw, scans)
    page = (report_site.out_dir / "index.html").read_text(encoding="utf-8")
    tiles = {match["column"]: match for match in TILE.finditer(page)}
    last = max(expected)
    for column, fmt in PRODUCT_TILES.items():
        tile = tiles[column]
        assert float(tile["value"]) == pytest.approx(expected[last][column], rel=1e-9), column
        # every complete month the date range can end on shows its own figure
        series = {entry[0]: entry[1] for entry in json.loads(html_lib.unescape(tile["series"]))}
        assert set(series) == {month.isoformat() for month in expected}, column
        for month, figures in expected.items():
            assert series[month.isoformat()] == format_value(figures[column], fmt), (column, month)
    # p95 processing time: a rise is bad
    assert 'data-column="p95_processing_ms"' in page
    p95_tile = re.search(r'data-column="p95_processing_ms"[^>]*>', page).group(0)
    assert 'data-down-is-good="true"' in p95_tile


def _slices(scans: list[dict]) -> dict[str, dict[tuple[date, str], list[dict]]]:
    """Dimension → (month, value) → the scans, values as the page shows them."""
    bands = read_bands()
    grouped: dict[str, dict[tuple[date, str], list[dict]]] = defaultdict(lambda: defaultdict(list))
    for scan in scans:
        month = _month(scan["scanned_at"].date())
        grouped["resume_format"][(month, scan["resume_format"].upper())].append(scan)
        grouped["job_category"][(month, scan["job_category"])].append(scan)
        band = keyword_band(scan["keywords_extracted"], bands)
        grouped["keywords_band"][(month, band)].append(scan)
    return grouped


def _view_datasets(data: dict, name: str) -> list[dict]:
    """Every view's rows of one query of the page, as dicts."""
    found = []
    for dataset in data["datasets"].values():
        if dataset["name"] == name:
            columns = dataset["columns"]
            found.append([dict(zip(columns, row, strict=True)) for row in dataset["rows"]])
    return found


def test_product_page_slices_equal_the_raw_files(
    report_site: SiteResult, raw: Path, scans: list[dict], page_data
) -> None:
    data = page_data((report_site.out_dir / "product.html").read_text(encoding="utf-8"))
    grouped = _slices(scans)
    complete = set(complete_months(raw))
    # volumes: every month, each view's bars
    volume_views = _view_datasets(data, "scan_volumes")
    assert len(volume_views) == 3
    for rows in volume_views:
        dimension = next(column for column in rows[0] if column in grouped)
        expected = {key: len(found) for key, found in grouped[dimension].items()}
        shown = {(date.fromisoformat(r["scan_month"]), r[dimension]): r["scans"] for r in rows}
        assert shown == expected, dimension
        partial = {r["scan_month"] for r in rows if r["partial_label"]}
        assert partial == {m.isoformat() for m, _ in expected if m not in complete}, dimension
    # rates and times: complete months only, every view
    rate_views = _view_datasets(data, "complete_scans_by_slice")
    assert len(rate_views) == 3
    for rows in rate_views:
        dimension = next(column for column in rows[0] if column in grouped)
        assert {date.fromisoformat(r["scan_month"]) for r in rows} == complete, dimension
        for row in rows:
            found = grouped[dimension][(date.fromisoformat(row["scan_month"]), row[dimension])]
            completed = [scan["match_rate"] for scan in found if scan["status"] == "completed"]
            failed = sum(1 for scan in found if scan["status"] == "failed")
            times = np.array([scan["processing_ms"] for scan in found], dtype=np.float64)
            # the page rounds below what it shows (to 0.001 %, 0.001 points, 0.1 ms)
            assert row["failure_rate"] == pytest.approx(failed / len(found), abs=5.1e-6)
            assert row["scanning_users"] == len({scan["user_id"] for scan in found})
            if completed:
                assert row["avg_match_rate"] == pytest.approx(
                    sum(completed) / len(completed), abs=5.1e-4
                )
            else:
                assert row["avg_match_rate"] is None
            assert row["p95_processing_ms"] == pytest.approx(
                np.percentile(times, 95, method="linear"), abs=0.051
            )
