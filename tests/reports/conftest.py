"""Tiny hand-made warehouses and page folders for the report pipeline's unit tests."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from jobmetrics.reports import SiteResult, build_site

PAGE_DATA = re.compile(r'<script type="application/json" id="jm-page-data">(.*?)</script>', re.S)


def make_tiny_warehouse(path: Path) -> Path:
    """Twelve months of a made-up MRR mart, two channels, three alerts."""
    connection = duckdb.connect(str(path))
    try:
        connection.execute(
            """
            create table fct_mrr_monthly as
            select
                (date '2025-01-01' + to_months(i))::date as month,
                (1000 + i * 100.005)::decimal(18, 2) as ending_mrr,
                (100 + i)::decimal(18, 2) as new_mrr,
                (-20 - i)::decimal(18, 2) as churned_mrr,
                (0.03 + i / 1000)::double as logo_churn_rate,
                (10 + i)::integer as paying_customers
            from range(12) as t(i)
            """
        )
        connection.execute(
            """
            create table dim_channels as
            select * from (values ('paid_social', 'Paid social'), ('organic', 'Organic'))
                as t(channel, channel_label)
            """
        )
        connection.execute(
            """
            create table fct_alerts as
            select * from (values
                (date '2025-12-03', 'signups', 'critical', 'Signups fell 60% below baseline'),
                (date '2025-12-01', 'failure_rate', 'warning', 'Failure rate 4.1% above 3%'),
                (date '2025-11-20', 'dau', 'warning', 'DAU 20% below baseline')
            ) as t(alert_date, metric, severity, message)
            """
        )
    finally:
        connection.close()
    return path


@pytest.fixture
def tiny_warehouse(tmp_path: Path) -> Path:
    return make_tiny_warehouse(tmp_path / "tiny.duckdb")


PageWriter = Callable[[dict[str, str]], Path]


@pytest.fixture
def write_pages(tmp_path: Path) -> PageWriter:
    """Write {relative path: Markdown} into a fresh pages folder and return the folder."""
    counter = iter(range(1000))

    def write(pages: dict[str, str]) -> Path:
        folder = tmp_path / f"pages{next(counter)}"
        for relative, text in pages.items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return folder

    return write


Builder = Callable[..., SiteResult]


@pytest.fixture
def build(tiny_warehouse: Path, write_pages: PageWriter, tmp_path: Path) -> Builder:
    """Build a site from {path: Markdown} against the tiny warehouse into tmp_path/site."""

    def run(pages: dict[str, str], **options: object) -> SiteResult:
        return build_site(
            tiny_warehouse, tmp_path / "site", pages_dir=write_pages(pages), **options
        )

    return run


def read_page_data(html: str) -> dict:
    """The JSON a page embeds (datasets for CSV download, Plotly figures)."""
    match = PAGE_DATA.search(html)
    assert match, "page has no embedded data"
    return json.loads(match.group(1))


@pytest.fixture
def page_data() -> Callable[[str], dict]:
    return read_page_data


@pytest.fixture(scope="session")
def report_warehouse(request: pytest.FixtureRequest) -> Path:
    """The warehouse the real pages are tested on: the session's small generated one, or the
    built DuckDB file named by REPORTS_TEST_WAREHOUSE (to iterate on pages without a rebuild;
    REPORTS_TEST_TARGET then names the dbt target folder holding its manifest.json)."""
    prebuilt = os.environ.get("REPORTS_TEST_WAREHOUSE")
    if prebuilt:
        if os.environ.get("REPORTS_TEST_TARGET"):
            os.environ["DBT_TARGET_PATH"] = os.environ["REPORTS_TEST_TARGET"]
        return Path(prebuilt)
    return request.getfixturevalue("warehouse")


@pytest.fixture(scope="session")
def report_site(report_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> SiteResult:
    """The real pages built from the report warehouse (strict)."""
    return build_site(report_warehouse, tmp_path_factory.mktemp("report") / "site")
