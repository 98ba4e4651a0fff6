"""Finance-only data builds and reports (issue 18): a billing import holds users, subscriptions
and invoices but no scans, sessions or marketing spend. `jobmetrics build` passes every test on
it, the product and funnel pages are left out of the site with a note saying why, no page
shows a product or spend figure as 0, None or NaN, and the finance figures are those the raw
subscriptions give when recomputed here with pandas."""

from __future__ import annotations

import html
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
from jobmetrics.core.errors import PageError
from jobmetrics.core.formats import format_value
from jobmetrics.reports import build_site
from jobmetrics.reports.narratives import Narrator

pytestmark = pytest.mark.slow

USERS = 2_000
DAYS = 120
START = date(2025, 3, 1)
SEED = 18
BILLING_TABLES = ("raw_users", "raw_subscriptions", "raw_invoices")
PRODUCT_NOTE = "Product: left out — the raw data holds no scans or sessions"
FUNNEL_NOTE = "Funnel: left out — the raw data holds no scans or sessions"

# Text no page may show when product and marketing data are absent: missing values written out,
# and the labels of product and spend figures (tile titles, table headers, chart titles).
FORBIDDEN = re.compile(
    r"\bNaN\b|\bNone\b|\bnull\b|\bundefined\b|\b0 scans\b|\bDAU\b|\bMAU\b|Stickiness"
    r"|Visitors|Scans per|Match rate|p95 processing|Marketing spend by channel|CAC payback"
)


@dataclass(frozen=True)
class FinanceOnly:
    settings: settings_module.Settings
    raw: Path
    warehouse: Path
    site: Path


@pytest.fixture(scope="module")
def finance_only(tmp_path_factory: pytest.TempPathFactory) -> FinanceOnly:
    """A billing-only import folder (write_import of the generator's users, subscriptions and
    invoices: the other tables empty and listed as absent), built and reported."""
    from jobmetrics.generator import generate
    from jobmetrics.importers.raw_folder import write_import
    from jobmetrics.warehouse.build import build

    folder = tmp_path_factory.mktemp("finance-only")
    generate(folder / "generated", users=USERS, days=DAYS, start_date=START, seed=SEED)
    tables = {
        name: pq.read_table(folder / "generated" / f"{name}.parquet") for name in BILLING_TABLES
    }
    write_import(folder / "raw", "stripe", tables, append=False)
    settings = replace(
        settings_module.load(),
        raw_dir=folder / "raw",
        warehouse=folder / "jobmetrics.duckdb",
        site_dir=folder / "site",
        anthropic_api_key="",  # the offline narratives: what they write is under test
    )
    build(settings, full_refresh=True)
    build_site(settings.warehouse, settings.site_dir, narrator=Narrator(settings))
    return FinanceOnly(settings, settings.raw_dir, settings.warehouse, settings.site_dir)


def visible_text(page: Path) -> str:
    """What a reader sees of a page: no scripts, styles or the 'SQL behind this page' block, no
    buttons (the multi-select's "All" / "None"), tags removed, entities decoded."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"<(script|style|button)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r'<details class="jm-queries">.*?</details>', " ", text, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text)


def pages(site: Path) -> list[Path]:
    return sorted(path for path in site.rglob("*.html") if "docs" not in path.parts)


def last_complete_month_mrr(raw: Path) -> tuple[date, float, int]:
    """(month, MRR, paying customers) of the last complete month, from the raw rows alone: the
    data ends on the latest event day of the billing tables; a customer's MRR at a month end is
    the price (annual / 12) of their subscriptions running at its last instant."""
    users = pd.read_parquet(raw / "raw_users.parquet")
    subscriptions = pd.read_parquet(raw / "raw_subscriptions.parquet")
    invoices = pd.read_parquet(raw / "raw_invoices.parquet")
    data_end = max(
        users["signed_up_at"].max(), subscriptions["started_at"].max(), invoices["issued_at"].max()
    ).date()
    next_month = (data_end + timedelta(days=1)).replace(day=1)
    month = (next_month - timedelta(days=1)).replace(day=1)
    instant = pd.Timestamp(next_month)  # the month's last instant is just before this
    running = subscriptions[
        (subscriptions["started_at"] < instant)
        & (subscriptions["ended_at"].isna() | (subscriptions["ended_at"] >= instant))
    ]
    months = running["billing_cycle"].astype(str).map({"monthly": 1, "annual": 12})
    mrr = (running["price_usd"].astype(float) / months).groupby(running["user_id"]).sum()
    return month, float(mrr.sum()), int((mrr > 0).sum())


def test_the_import_folder_lists_the_product_and_marketing_tables_as_absent(
    finance_only: FinanceOnly,
) -> None:
    import json

    manifest = json.loads((finance_only.raw / MANIFEST_NAME).read_text())
    assert set(manifest["absent_tables"]) == {"raw_scans", "raw_sessions", "raw_marketing_spend"}


def test_the_warehouse_says_which_data_is_absent_and_leaves_its_figures_out(
    finance_only: FinanceOnly,
) -> None:
    connection = duckdb.connect(str(finance_only.warehouse), read_only=True)
    try:
        coverage = dict(
            connection.sql("select data_area, is_present from dim_data_coverage").fetchall()
        )
        counts = {
            table: connection.sql(f"select count(*) from {table}").fetchone()[0]
            for table in ("fct_product_daily", "fct_user_engagement", "fct_signup_cohort_activity")
        }
        (blended_spend,) = connection.sql(
            "select count(*) from fct_channel_performance where spend_usd is not null"
            " or cac_usd is not null or visitors is not null"
        ).fetchone()
        (stages,) = connection.sql("select list(distinct stage) from fct_funnel_monthly").fetchone()
        (mrr_months,) = connection.sql("select count(*) from fct_mrr_monthly").fetchone()
        (scan_risk,) = connection.sql(
            "select count(*) from fct_customer_health where engagement_trend is not null"
            " or completed_scans_last_30_days is not null"
        ).fetchone()
    finally:
        connection.close()
    assert coverage == {
        "scans": False,
        "sessions": False,
        "product_events": False,
        "marketing_spend": False,
        "billing": True,
    }
    assert counts == dict.fromkeys(counts, 0)
    assert blended_spend == 0
    assert stages == ["signups"]
    assert scan_risk == 0
    assert mrr_months >= 3


def test_product_and_funnel_pages_are_left_out_with_a_note(finance_only: FinanceOnly) -> None:
    site = finance_only.site
    assert not (site / "product.html").exists()
    assert not (site / "funnel.html").exists()
    for page in pages(site):
        text = visible_text(page)
        assert PRODUCT_NOTE in text, page.name  # in every page's sidebar
        assert FUNNEL_NOTE in text, page.name
        assert 'href="product.html"' not in page.read_text(encoding="utf-8")
    index = visible_text(site / "index.html")
    assert "LTV:CAC: left out — the raw data holds no marketing spend" in index
    assert "Product usage (DAU, MAU, stickiness, match rate, processing time): left out" in index


def test_no_page_shows_product_or_spend_figures_or_missing_values(
    finance_only: FinanceOnly,
) -> None:
    shown = {}
    for page in pages(finance_only.site):
        # the notes name what they leave out ("Product usage (DAU, MAU, ...): left out")
        text = re.sub(r"[^.]*: left out — the raw data holds no [a-z ]+", " ", visible_text(page))
        found = sorted(set(FORBIDDEN.findall(text)))
        if found:
            shown[str(page.relative_to(finance_only.site))] = found
    assert shown == {}


def test_finance_figures_match_the_raw_subscriptions(finance_only: FinanceOnly) -> None:
    month, mrr, paying = last_complete_month_mrr(finance_only.raw)
    index = visible_text(finance_only.site / "index.html")
    assert mrr > 0 and paying > 0
    # the overview's narrative states the last complete month's figures, the tile rounds them
    assert f"{format_value(month.isoformat(), 'month')} : MRR {format_value(mrr, 'usd')} (" in index
    assert f"Paying customers {paying:,}" in index
    assert format_value(mrr, "usd0") in index
    assert format_value(mrr, "usd") in visible_text(finance_only.site / "mrr.html")


def test_a_page_requiring_an_unknown_data_area_is_refused_naming_it(
    finance_only: FinanceOnly, tmp_path: Path
) -> None:
    pages_dir = tmp_path / "pages"
    pages_dir.mkdir()
    (pages_dir / "index.md").write_text("# Home\n")
    (pages_dir / "usage.md").write_text("---\nrequires: clickstream\n---\n# Usage\n")
    with pytest.raises(PageError, match=r"usage\.md:2: requires: unknown data area 'clickstream'"):
        build_site(
            finance_only.warehouse,
            tmp_path / "site",
            pages_dir=pages_dir,
            narrator=Narrator(replace(settings_module.load(), anthropic_api_key="")),
        )


def test_ask_is_told_which_metrics_cannot_be_computed(finance_only: FinanceOnly) -> None:
    from jobmetrics.ai.ask import schema_context
    from jobmetrics.ai.coverage import read_coverage

    connection = duckdb.connect(str(finance_only.warehouse), read_only=True)
    try:
        coverage = read_coverage(connection)
    finally:
        connection.close()
    context, _, _ = schema_context(finance_only.settings, coverage)
    metrics = context.split("# Metrics", 1)[1].splitlines()
    line = {text.split()[1]: text for text in metrics if text.startswith("- ")}
    assert "LEFT OUT: the raw data holds no scans or sessions" in line["dau"]
    assert "LEFT OUT: the raw data holds no scans;" in line["failure_rate"]
    assert "LEFT OUT: the raw data holds no marketing spend" in line["cac"]
    assert "LEFT OUT" not in line["mrr"]
    assert "- sessions: the raw data holds no sessions" in context
