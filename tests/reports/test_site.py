"""The real report pages built from a generated warehouse: every page is there, every chart has
data, the KPI tiles equal the marts, pages stay small, the build is fast."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jobmetrics.core.formats import format_value
from jobmetrics.reports import SiteResult, build_site
from jobmetrics.reports.templating import slug

pytestmark = pytest.mark.slow

TOP_PAGES = {
    "index.html",
    "mrr.html",
    "customers.html",
    "segments.html",
    "cohorts.html",
    "funnel.html",
    "acquisition.html",
    "plans.html",
    "product.html",
    "alerts.html",
}
MAX_PAGE_BYTES = 300_000
TILE = re.compile(
    r'<div class="jm-bigvalue" data-query="(?P<query>\w+)" data-column="(?P<column>\w+)" '
    r'data-value="(?P<value>[^"]*)".*?<div class="jm-bv-value">(?P<text>[^<]*)</div>',
    re.S,
)


def query(warehouse: Path, sql: str) -> list[tuple]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def last_complete_month(warehouse: Path) -> date:
    """The last month whose last day is in the data (stated independently of the pages)."""
    (data_end,) = query(warehouse, "select max(date_day) from fct_mrr_daily")[0]
    month_start = data_end.replace(day=1)
    if (data_end + timedelta(days=1)).day == 1:
        return month_start
    return (month_start - timedelta(days=1)).replace(day=1)


def html(site: SiteResult, url: str) -> str:
    return (site.out_dir / url).read_text(encoding="utf-8")


def test_every_page_exists_with_lineage_and_no_errors(
    report_site: SiteResult, report_warehouse: Path
) -> None:
    channels = [row[0] for row in query(report_warehouse, "select channel from channels")]
    plans = [row[0] for row in query(report_warehouse, "select distinct plan from plans")]
    expected = (
        TOP_PAGES
        | {f"channels/{slug(channel)}.html" for channel in channels}
        | {f"plans/{slug(plan)}.html" for plan in plans}
    )
    written = {str(path.relative_to(report_site.out_dir)) for path in report_site.pages}
    assert written == expected
    assert report_site.errors == []
    for url in written:
        page = html(report_site, url)
        meta = re.search(r'<p class="jm-meta">(.*?)</p>', page, re.S).group(1)
        models = re.findall(r"<code>(\w+)</code>", meta)
        assert models, f"{url} names no dbt model"
        assert not any(model.startswith(("stg_", "int_")) for model in models), (url, models)
        assert "Data built" in meta


def test_every_chart_has_data(report_site: SiteResult, page_data) -> None:
    total = 0
    for path in report_site.pages:
        page = path.read_text(encoding="utf-8")
        data = page_data(page)
        # The page as opened and every other view of it (pages with inputs).
        every_view = page + "".join(data["chunks"].values())
        assert 'class="jm-empty"' not in every_view, f"{path.name}: a chart or table with no rows"
        containers = set(re.findall(r'<div class="jm-chart" id="([\w-]+)"', every_view))
        assert containers == set(data["charts"]), path
        for chart_id, figure in data["charts"].items():
            points = sum(
                len(
                    [value for value in trace.get("y") or trace.get("x") or [] if value is not None]
                )
                + len(trace.get("z") or [])
                for trace in figure["data"]
            )
            assert points > 0, f"{path.name} {chart_id} has no data"
        total += len(containers)
    assert total >= 40


def test_pages_stay_small(report_site: SiteResult) -> None:
    sizes = {path.name: path.stat().st_size for path in report_site.pages}
    too_big = {name: size for name, size in sizes.items() if size > MAX_PAGE_BYTES}
    assert too_big == {}


def test_overview_tiles_equal_the_marts(report_site: SiteResult, report_warehouse: Path) -> None:
    month = last_complete_month(report_warehouse)
    expected = dict(
        zip(
            (
                "mrr",
                "arr",
                "paying_customers",
                "arpu",
                "logo_churn_rate",
                "net_revenue_retention",
                "quick_ratio",
            ),
            query(
                report_warehouse,
                "select ending_mrr, arr, paying_customers, arpu, logo_churn_rate, "
                f"net_revenue_retention, quick_ratio from fct_mrr_monthly where month = '{month}'",
            )[0],
            strict=True,
        )
    )
    (expected["ltv_to_cac"],) = query(
        report_warehouse,
        "select ltv_to_cac from fct_channel_performance "
        f"where channel = 'all' and performance_month = '{month}'",
    )[0]
    formats = {
        "mrr": "usd0",
        "arr": "usd0",
        "paying_customers": "num0",
        "arpu": "usd",
        "logo_churn_rate": "pct1",
        "net_revenue_retention": "pct1",
        "ltv_to_cac": "mult",
        "quick_ratio": "mult",
    }
    page = html(report_site, "index.html")
    tiles = {match["column"]: match for match in TILE.finditer(page)}
    # the product usage tiles are held to the raw files in test_product_depth.py
    product = {"dau", "mau", "stickiness", "avg_match_rate", "p95_processing_ms"}
    assert set(tiles) == set(expected) | product
    for column, value in expected.items():
        tile = tiles[column]
        if value is None:
            assert tile["value"] == "", column
        elif isinstance(value, Decimal | int):
            assert Decimal(tile["value"]) == value, column
        else:
            assert float(tile["value"]) == pytest.approx(value, rel=1e-12), column
        assert tile["text"] == format_value(value, formats[column]), column
    assert re.search(rf"<h2 id=\"[\w-]+\">{format_value(month, 'month')}<a ", page)


def test_mrr_waterfall_reconciles_with_the_mart(
    report_site: SiteResult, report_warehouse: Path, page_data
) -> None:
    month = last_complete_month(report_warehouse)
    row = query(
        report_warehouse,
        "select starting_mrr, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr, "
        f"churned_mrr, ending_mrr from fct_mrr_monthly where month = '{month}'",
    )[0]
    data = page_data(html(report_site, "mrr.html"))
    waterfall = next(
        figure["data"][0]
        for figure in data["charts"].values()
        if figure["data"][0]["type"] == "waterfall"
    )
    assert waterfall["y"] == [float(value) for value in row]
    assert waterfall["measure"] == ["absolute"] + ["relative"] * 5 + ["total"]
    assert sum(Decimal(str(value)) for value in waterfall["y"][:-1]) == row[-1]


def test_channel_pages_show_their_own_channel(report_site: SiteResult, page_data) -> None:
    page = html(report_site, "channels/paid-social.html")
    assert "<h1>Channel: Paid social</h1>" in page
    assert "channel = &#39;paid_social&#39;" in page  # the SQL shown under the page


def test_tiles_take_down_is_good_from_the_metric_registry(report_site: SiteResult) -> None:
    # The CAC tile has no down_is_good attribute: the registry (config.meta.down_is_good of the
    # cac metric, mart column cac_usd) makes a rising CAC bad.
    page = html(report_site, "channels/paid-social.html")
    tile = re.search(r'data-column="cac_usd"[^>]*>', page).group(0)
    assert 'data-down-is-good="true"' in tile


def test_the_whole_site_builds_again_into_a_new_folder(
    report_warehouse: Path, report_site: SiteResult, tmp_path: Path
) -> None:
    # How long it takes is a benchmark, not a test: `make bench-site` (scripts/bench_site.py)
    # and scripts/bench_report.py measure it on the default data set and print the figures.
    started, cpu_started = time.perf_counter(), time.process_time()
    result = build_site(report_warehouse, tmp_path / "site")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"report site: {len(result.pages)} pages in {seconds:.2f} s ({cpu:.2f} CPU s)")
    rebuilt = {str(path.relative_to(result.out_dir)) for path in result.pages}
    assert rebuilt == {str(path.relative_to(report_site.out_dir)) for path in report_site.pages}
    assert all(path.stat().st_size > 0 for path in result.pages)
