"""Product-only data builds and reports (issue 18): a product database import holds users, scans
and sessions but no subscriptions, invoices or marketing spend (billing comes later, or there
is none yet). `jobmetrics build` passes every test on it, the finance marts have no rows (MRR is
unknown, not 0), the MRR, customer, plan, cohort, segment, acquisition and channel pages are
left out with a note saying why, no page shows a dollar figure, None or NaN, and the product
page's figures are those the raw scans give when recomputed here with pandas."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from jobmetrics.core import settings as settings_module
from jobmetrics.core.contract import MANIFEST_NAME
from jobmetrics.core.formats import format_value
from jobmetrics.reports import build_site
from jobmetrics.reports.narratives import Narrator

pytestmark = pytest.mark.slow

USERS = 1_000
DAYS = 120
START = date(2025, 3, 1)
SEED = 18
PRODUCT_TABLES = ("raw_users", "raw_scans", "raw_sessions")
BILLING_NOTE = "the raw data holds no subscriptions or invoices"
# the pages that need billing data, by the title their note gives them
BILLING_PAGES = {
    "mrr.html": "MRR movements",
    "customers.html": "Customers",
    "segments.html": "Segments and geography",
    "cohorts.html": "Cohorts",
    "acquisition.html": "Acquisition",
    "plans.html": "Plans",
}

# Text no page may show without billing data: missing values written out, any dollar figure
# ("$0", "$0.00"), and the labels of finance figures (tile titles, chart titles, table headers).
# A bare 0.00 is allowed: dormant users' average of 0.00 scans in the last 30 days is measured.
FORBIDDEN = re.compile(
    r"\bNaN\b|\bNone\b|\bnull\b|\bundefined\b|\$\s?\d|\bMRR\b|\bARR\b|\bARPU\b"
    r"|Paying customers|Quick ratio|Logo churn|Net revenue retention|LTV|\bCAC\b"
    r"|paying and free|signup-to-paid|Converted|Retained \d"
)


@dataclass(frozen=True)
class ProductOnly:
    settings: settings_module.Settings
    raw: Path
    warehouse: Path
    site: Path


@pytest.fixture(scope="module")
def product_only(tmp_path_factory: pytest.TempPathFactory) -> ProductOnly:
    """A product-database import folder (write_import of the generator's users, scans and
    sessions: subscriptions, invoices and marketing spend empty and listed as absent), built
    and reported once for the module."""
    from jobmetrics.generator import generate
    from jobmetrics.importers.raw_folder import write_import
    from jobmetrics.warehouse.build import build

    folder = tmp_path_factory.mktemp("product-only")
    generate(folder / "generated", users=USERS, days=DAYS, start_date=START, seed=SEED)
    tables = {
        name: pq.read_table(folder / "generated" / f"{name}.parquet") for name in PRODUCT_TABLES
    }
    write_import(folder / "raw", "postgres", tables, append=False)
    settings = replace(
        settings_module.load(),
        raw_dir=folder / "raw",
        warehouse=folder / "jobmetrics.duckdb",
        site_dir=folder / "site",
        anthropic_api_key="",  # the offline narratives: what they write is under test
    )
    build(settings, full_refresh=True)
    build_site(settings.warehouse, settings.site_dir, narrator=Narrator(settings))
    return ProductOnly(settings, settings.raw_dir, settings.warehouse, settings.site_dir)


def visible_text(page: Path) -> str:
    """What a reader sees of a page: no scripts, styles or the 'SQL behind this page' block, no
    buttons, tags removed, entities decoded."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"<(script|style|button)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r'<details class="jm-queries">.*?</details>', " ", text, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text)


def pages(site: Path) -> list[Path]:
    return sorted(path for path in site.rglob("*.html") if "docs" not in path.parts)


def last_complete_month(raw: Path) -> date:
    """The last month the raw rows cover to its last day: the data ends on the latest event day
    of the tables that hold rows."""
    data_end = max(
        pd.read_parquet(raw / "raw_users.parquet")["signed_up_at"].max(),
        pd.read_parquet(raw / "raw_scans.parquet")["scanned_at"].max(),
        pd.read_parquet(raw / "raw_sessions.parquet")["started_at"].max(),
    ).date()
    next_day = data_end + timedelta(days=1)
    month_end = data_end if next_day.day == 1 else data_end.replace(day=1) - timedelta(days=1)
    return month_end.replace(day=1)


def test_the_import_folder_lists_the_billing_and_marketing_tables_as_absent(
    product_only: ProductOnly,
) -> None:
    manifest = json.loads((product_only.raw / MANIFEST_NAME).read_text())
    assert set(manifest["absent_tables"]) == {
        "raw_subscriptions",
        "raw_invoices",
        "raw_marketing_spend",
    }


def test_the_warehouse_marks_billing_absent_and_has_no_finance_figures(
    product_only: ProductOnly,
) -> None:
    connection = duckdb.connect(str(product_only.warehouse), read_only=True)
    try:
        coverage = dict(
            connection.sql("select data_area, is_present from dim_data_coverage").fetchall()
        )
        counts = {
            table: connection.sql(f"select count(*) from {table}").fetchone()[0]
            for table in (
                "fct_mrr_daily",
                "fct_mrr_monthly",
                "fct_mrr_monthly_by_dimension",
                "fct_plan_performance",
                "fct_metric_targets",
                "fct_payment_recovery",
            )
        }
        (metrics,) = connection.sql("select list(distinct metric) from fct_metric_daily").fetchone()
        (stages,) = connection.sql(
            "select list(distinct stage order by stage) from fct_funnel_monthly"
        ).fetchone()
        (known_customers,) = connection.sql(
            "select count(*) from fct_channel_performance where new_customers is not null"
            " or paying_customers is not null or ending_mrr is not null"
        ).fetchone()
        (paying_split,) = connection.sql(
            "select count(*) from fct_product_daily where dau_paying is not null"
            " or mau_free is not null"
        ).fetchone()
        (product_days,) = connection.sql("select count(*) from fct_product_daily").fetchone()
        customers, known_paying = connection.sql(
            "select count(*), count(current_mrr) + count(customer_status) + count(is_paying)"
            " + count(lifetime_revenue_usd) from dim_customers"
        ).fetchone()
    finally:
        connection.close()
    assert coverage == {
        "scans": True,
        "sessions": True,
        "product_events": True,
        "marketing_spend": False,
        "billing": False,
    }
    assert counts == dict.fromkeys(counts, 0)
    assert not {"new_mrr", "churned_mrr", "churned_customers"} & set(metrics)
    assert {"dau", "scans", "signups"} <= set(metrics)
    assert stages == ["activated", "scanned", "signups", "visitors"]
    assert known_customers == 0
    assert paying_split == 0
    assert product_days == DAYS
    assert (customers, known_paying) == (USERS, 0)  # every user, none called never_paid


def test_finance_pages_are_left_out_with_a_note_and_product_pages_stay(
    product_only: ProductOnly,
) -> None:
    site = product_only.site
    for name in BILLING_PAGES:
        assert not (site / name).exists(), name
    assert not (site / "plans").exists() and not (site / "channels").exists()
    assert {path.name for path in pages(site)} == {
        "index.html",
        "product.html",
        "funnel.html",
        "alerts.html",
    }
    for page in pages(site):
        text = visible_text(page)
        for title in BILLING_PAGES.values():
            assert f"{title}: left out — {BILLING_NOTE}" in text, (page.name, title)
        # once in the sidebar (and once more on the home page): plans.md and its plan pages
        # share one note
        once = 2 if page.name == "index.html" else 1
        assert text.count(f"Plans: left out — {BILLING_NOTE}") == once, page.name
        assert f"Channels: left out — {BILLING_NOTE}" in text, page.name
    index = visible_text(site / "index.html")
    assert f"MRR trend: left out — {BILLING_NOTE}" in index
    assert "DAU (average day)" in index and "Product usage" in index
    funnel = visible_text(site / "funnel.html")
    assert f"The converted and retained stages (paying customers): left out — {BILLING_NOTE}" in (
        funnel
    )


def test_no_page_shows_finance_figures_or_missing_values(product_only: ProductOnly) -> None:
    shown = {}
    for page in pages(product_only.site):
        # the notes name what they leave out ("MRR, ARR, ...: left out — ...")
        text = re.sub(r"[^.]*: left out — the raw data holds no [a-z ]+", " ", visible_text(page))
        found = sorted(set(FORBIDDEN.findall(text)))
        if found:
            shown[str(page.relative_to(product_only.site))] = found
    assert shown == {}


def test_product_figures_match_the_raw_scans(product_only: ProductOnly) -> None:
    month = last_complete_month(product_only.raw)
    scans = pd.read_parquet(product_only.raw / "raw_scans.parquet")
    scans["resume_format"] = scans["resume_format"].astype(str)
    scans["status"] = scans["status"].astype(str)
    in_month = scans[
        (scans["scanned_at"] >= pd.Timestamp(month))
        & (scans["scanned_at"] < pd.Timestamp((month + timedelta(days=32)).replace(day=1)))
    ]
    product = visible_text(product_only.site / "product.html")
    assert f"{format_value(month.isoformat(), 'month')}, the last complete month of the data" in (
        product
    )
    assert len(in_month) > 100
    for resume_format, rows in in_month.groupby("resume_format"):
        completed = rows[rows["status"] == "completed"]
        expected = " ".join(
            [
                resume_format.upper(),
                f"{len(rows):,}",
                format_value(float((rows["status"] == "failed").mean()), "pct1"),
                f"{rows['user_id'].nunique():,}",
                format_value(float(completed["match_rate"].mean()), "num1"),
            ]
        )
        assert expected in product, expected


def test_ask_is_told_the_finance_metrics_cannot_be_computed(product_only: ProductOnly) -> None:
    from jobmetrics.ai.ask import schema_context
    from jobmetrics.ai.coverage import read_coverage

    connection = duckdb.connect(str(product_only.warehouse), read_only=True)
    try:
        coverage = read_coverage(connection)
    finally:
        connection.close()
    context, _, _ = schema_context(product_only.settings, coverage)
    metrics = context.split("# Metrics", 1)[1].splitlines()
    line = {text.split()[1]: text for text in metrics if text.startswith("- ")}
    for name in ("mrr", "arr", "paying_customers", "logo_churn_rate", "quick_ratio"):
        assert f"LEFT OUT: {BILLING_NOTE};" in line[name], name
    assert "LEFT OUT" in line["cac"]
    assert "LEFT OUT" not in line["dau"]
    assert "LEFT OUT" not in line["signups"]
    assert f"- billing: {BILLING_NOTE}" in context
