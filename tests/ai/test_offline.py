"""The offline summary as a reader sees it: display labels, complete periods only, no rows that
say nothing, a sentence for an empty result, no verdict on spend, and actions from targets.

Expected texts are written from the rows fed in (and the targets of a hand-made registry), not
from the code under test.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jobmetrics.ai.facts import build_facts
from jobmetrics.ai.offline import offline_summary
from jobmetrics.ai.registry import (
    Registry,
    Threshold,
    read_thresholds,
    registry_from_manifest,
)
from tests.ai.ai_helpers import make_metric

REGISTRY = Registry(
    metrics={
        "mrr": make_metric("mrr", "MRR", "usd", False, "ending_mrr", headline=True),
        "new_customers": make_metric(
            "new_customers", "New customers", "num0", False, "new_customers"
        ),
        "dau": make_metric("dau", "Daily active users", "num0", False, "dau", headline=True),
        "logo_churn_rate": make_metric(
            "logo_churn_rate", "Logo churn rate", "pct1", True, "logo_churn_rate", headline=True
        ),
        "net_revenue_retention": make_metric(
            "net_revenue_retention", "Net revenue retention", "pct1", False, "net_revenue_retention"
        ),
        "marketing_spend": make_metric(
            "marketing_spend", "Marketing spend", "usd", None, "spend_usd"
        ),
        "cac": make_metric("cac", "CAC", "usd", True, "cac_usd"),
    },
    thresholds={
        "logo_churn_rate": Threshold("logo_churn_rate", "above", 0.05, 0.08, "monthly"),
        "net_revenue_retention": Threshold("net_revenue_retention", "below", 0.95, 0.9, "monthly"),
    },
)


def summary(results: dict[str, list[dict]], registry: Registry = REGISTRY) -> str:
    return offline_summary(build_facts("Test page", results, registry))


def actions(text: str) -> list[str]:
    """The bullets after the **Actions** heading."""
    assert "**Actions**" in text, text
    return [line[2:] for line in text.split("**Actions**", 1)[1].splitlines() if line[:2] == "- "]


# --- labels -------------------------------------------------------------------------------------


def test_display_labels_replace_column_names_and_comparison_columns_are_not_figures():
    rows = [
        {
            "month": date(2026, 9, 1),
            "ending_mrr": Decimal("1000.00"),
            "new_customers": 10,
            "new_customers_prev": 8,
            "ltv_usd": 300.0,
            "avg_dau": 40.4,
        },
        {
            "month": date(2026, 10, 1),
            "ending_mrr": Decimal("1100.00"),
            "new_customers": 12,
            "new_customers_prev": 10,
            "ltv_usd": 330.0,
            "avg_dau": 44.2,
        },
    ]
    text = summary({"months": rows})
    assert "MRR $1,100.00 (up 10.0% from $1,000.00, better)" in text
    assert "New customers 12 (up 20.0% from 10, better)" in text
    assert "LTV $330.00 (up 10.0% from $300.00)" in text  # no registry direction: no verdict
    assert "Average daily active users 44 (up 9.4% from 40, better)" in text
    for raw in ("new customers prev", "New customers prev", "ltv usd", "avg dau", "Avg DAU"):
        assert raw not in text
    assert not re.search(r"\band \d+ more\b", text)


def test_a_long_breakdown_lists_its_rows_without_an_and_more_line():
    rows = [{"channel": f"channel_{i}", "spend_usd": Decimal(100 * i)} for i in range(1, 13)]
    text = summary({"latest": rows})
    assert "- By channel (largest Marketing spend first):" in text
    assert "  - Channel 12: Marketing spend $1,200.00." in text
    assert "more" not in text


# --- complete periods ---------------------------------------------------------------------------


def test_a_partial_month_is_named_as_partial_and_not_compared():
    rows = [
        {"month": date(2026, 9, 1), "is_complete_month": True, "paying_customers": 90,
         "logo_churn_rate": 0.03},
        {"month": date(2026, 10, 1), "is_complete_month": True, "paying_customers": 100,
         "logo_churn_rate": 0.04},
        # two days of November: a fall from 100 to 7 customers is not news
        {"month": date(2026, 11, 1), "is_complete_month": False, "days_with_data": 2,
         "days_in_period": 30, "paying_customers": 7, "logo_churn_rate": 0.001},
    ]  # fmt: skip
    text = summary({"months": rows})
    assert text.startswith(
        "- **Oct 2026** (Nov 2026 so far is partial: 2 of 30 days, left out of the comparison): "
    )
    assert "Logo churn rate 4.0% (up 1.0 pts from 3.0%, worse)" in text
    assert "Paying customers 100 (up 11.1% from 90)" in text
    assert "0.1%" not in text and " 7 " not in text and "down" not in text


def test_a_partial_week_is_left_out_of_the_comparison():
    weeks = [date(2026, 11, 9) + timedelta(weeks=i) for i in range(4)]
    completed = [700, 720, 756, 90]
    days = [7, 7, 7, 2]
    rows = [
        {"week_date": week, "is_complete_week": n == 7, "days_with_data": n,
         "days_in_period": 7, "completed_scans": scans}
        for week, n, scans in zip(weeks, days, completed, strict=True)
    ]  # fmt: skip
    text = summary({"weekly": rows})
    assert text.startswith(
        "- **Week of 2026-11-23** (week of 2026-11-30 so far is partial: 2 of 7 days, "
        "left out of the comparison): Completed scans 756 (up 5.0% from 720)."
    )


def test_cohort_figures_come_from_the_youngest_cohort_old_enough_to_have_them():
    rows = [
        {"cohort_month": date(2026, 7, 1), "cohort_customers": 50, "month_3_logo_retention": 0.8},
        {"cohort_month": date(2026, 8, 1), "cohort_customers": 60, "month_3_logo_retention": 0.85},
        {"cohort_month": date(2026, 9, 1), "cohort_customers": 70, "month_3_logo_retention": None},
    ]
    text = summary({"cohort_summary": rows})
    assert text.startswith("- **The Sep 2026 cohort**: Cohort customers 70 (up 16.7% from 60)")
    assert "Month 3 logo retention 85.0% in the Aug 2026 cohort (up 5.0 pts from 80.0%)" in text


# --- rows that say nothing ----------------------------------------------------------------------


def test_month_zero_retention_rows_are_left_out_and_channels_compared_at_a_common_age():
    retention = {  # channel → logo retention at months 0, 1, 2, ...
        "paid_social": [1.0, 0.9, 0.8, 0.7],
        "referral": [1.0, 0.95, 0.9],
        "content": [1.0, 0.85, 0.75, 0.7, 0.65],
    }
    rows = [
        {"months_since_start": age, "acquisition_channel": channel, "logo_retention": value}
        for channel, values in retention.items()
        for age, value in enumerate(values)
    ]
    text = summary({"retention_by_channel": rows})
    common_age = min(len(values) for values in retention.values()) - 1
    assert common_age == 2
    assert "- By acquisition channel at 2 months since start:" in text
    assert "  - Referral: Logo retention 90.0%." in text
    assert "  - Paid social: Logo retention 80.0%." in text
    assert "  - Content: Logo retention 75.0%." in text
    assert "100.0%" not in text and "month 0" not in text.lower()


# --- empty results ------------------------------------------------------------------------------


def test_an_empty_result_says_what_is_missing():
    text = summary({"open_alerts": [], "recent_alerts": []})
    assert text == "- No open alerts.\n- No recent alerts."


# --- direction ----------------------------------------------------------------------------------


def test_higher_spend_is_never_called_better_or_worse():
    rows = [
        {"month": date(2026, 9, 1), "spend_usd": Decimal("1000.00"), "cac_usd": Decimal("50")},
        {"month": date(2026, 10, 1), "spend_usd": Decimal("1500.00"), "cac_usd": Decimal("60")},
    ]
    text = summary({"months": rows})
    assert "Marketing spend $1,500.00 (up 50.0% from $1,000.00);" in text
    assert "CAC $60.00 (up 20.0% from $50.00, worse)" in text
    mover = re.search(r"Largest changes: (.*)", text).group(1)
    assert "Marketing spend up 50.0%;" in mover  # no verdict there either


def test_the_project_registry_names_no_good_direction_for_spend_and_reads_the_targets(
    parsed_target: Path,
):
    manifest = json.loads((parsed_target / "manifest.json").read_text(encoding="utf-8"))
    registry = registry_from_manifest(manifest)
    assert registry.metrics["marketing_spend"].down_is_good is None
    assert registry.metrics["cac"].down_is_good is True
    thresholds = read_thresholds(manifest)
    seed = Path(__file__).parents[2] / "seeds" / "metric_thresholds.csv"
    lines = [line.split(",") for line in seed.read_text(encoding="utf-8").splitlines()[1:]]
    expected = {
        fields[1]: (fields[3], float(fields[4]), float(fields[5]))
        for fields in lines
        if fields[0] == "threshold"
    }
    assert {
        name: (t.direction, t.warning_value, t.critical_value) for name, t in thresholds.items()
    } == expected


# --- actions ------------------------------------------------------------------------------------


KPIS = [
    {"month": date(2026, 9, 1), "logo_churn_rate": 0.045, "net_revenue_retention": 0.99},
    {"month": date(2026, 10, 1), "logo_churn_rate": 0.06, "net_revenue_retention": 0.97},
]
PLAN_MIX = [
    {"plan": "basic", "customers": 300, "logo_churn_rate": 0.09},
    {"plan": "pro", "customers": 200, "logo_churn_rate": 0.055},
    {"plan": "premium", "customers": 100, "logo_churn_rate": 0.02},
]


def test_churn_above_target_names_the_plans_that_drive_it():
    text = summary({"kpis": KPIS, "mix": PLAN_MIX})
    # 6.0 % ≥ the 5.0 % warning level; basic (9.0 % ≥ 8.0 % critical) and pro (5.5 %) breach
    assert actions(text) == [
        "Logo churn rate was 6.0% in Oct 2026, above the 5.0% warning level: it is driven by "
        "Basic (9.0%, past the 8.0% critical level), Pro (5.5%); start with Basic."
    ]


def test_a_breakdown_past_its_target_is_an_action_on_its_own():
    text = summary({"mix": PLAN_MIX})
    assert actions(text) == [
        "Logo churn rate is above the 5.0% warning level for Basic (9.0%, past the 8.0% critical "
        "level), Pro (5.5%): start with Basic."
    ]


def test_a_retention_below_its_target_is_an_action():
    rows = [dict(row, net_revenue_retention=0.93, logo_churn_rate=0.04) for row in KPIS]
    text = summary({"kpis": rows})
    assert actions(text) == [
        "Net revenue retention was 93.0% in Oct 2026, below the 95.0% warning level: break it down "
        "(by channel, plan or cohort) to find what drives it."
    ]


def test_figures_within_their_targets_trigger_no_action_and_say_so():
    rows = [dict(row, logo_churn_rate=0.04) for row in KPIS]
    text = summary({"kpis": rows})
    assert actions(text) == [
        "No action triggered: Logo churn rate 4.0% in Oct 2026 is within its 5.0% warning level; "
        "Net revenue retention 97.0% in Oct 2026 is within its 95.0% warning level."
    ]


def test_a_headline_figure_worse_period_after_period_is_an_action():
    rows = [
        {"month": date(2026, 8, 1), "logo_churn_rate": 0.03},
        {"month": date(2026, 9, 1), "logo_churn_rate": 0.035},
        {"month": date(2026, 10, 1), "logo_churn_rate": 0.04},
    ]
    assert actions(summary({"kpis": rows})) == [
        "Logo churn rate got worse period after period (3.0% → 3.5% → 4.0%): find what drives it."
    ]


def test_critical_alerts_come_first():
    alerts = [
        {"metric": "signups", "severity": "critical", "message": "Signups fell 41% below"},
        {"metric": "dau", "severity": "warning", "message": "DAU 20% below baseline"},
    ]
    text = summary({"open_alerts": alerts, "kpis": KPIS})
    assert "- Open alerts: 1 critical, 1 warning." in text
    assert actions(text)[0] == "Deal with the critical alerts first: Signups fell 41% below."


def test_no_target_on_the_page_is_said_plainly():
    rows = [{"channel": "paid_social", "spend_usd": Decimal("10.00")}]
    assert actions(summary({"latest": rows})) == [
        "No action triggered: no figure here has a warning level in seeds/metric_thresholds.csv "
        "or a target in seeds/metric_targets.csv."
    ]


# --- the real pages -----------------------------------------------------------------------------

_spec = importlib.util.spec_from_file_location(
    "reports_test_fixtures", Path(__file__).parents[1] / "reports" / "conftest.py"
)
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
report_warehouse = _fixtures.report_warehouse  # the warehouse and site of tests/reports
report_site = _fixtures.report_site

NARRATIVE = re.compile(r'<aside class="jm-narrative".*?</aside>', re.S)


def _narrative(site, url: str) -> str:
    page = (site.out_dir / url).read_text(encoding="utf-8")
    block = NARRATIVE.search(page).group(0)
    return html.unescape(re.sub(r"<[^>]+>", "", block))


@pytest.mark.slow
def test_default_pages_read_well(report_site, report_warehouse: Path):
    pages = [path.relative_to(report_site.out_dir) for path in report_site.pages]
    for url in pages:
        page = (report_site.out_dir / url).read_text(encoding="utf-8")
        if 'class="jm-narrative"' not in page:
            continue
        text = _narrative(report_site, str(url))
        assert "has no rows" not in text, url
        assert not re.search(r"\band \d+ more\b", text), url
        assert not re.search(r"\b(prev|usd|avg)\b", text), (url, text)
        assert not re.search(r"Marketing spend [^;.]*(better|worse)", text), (url, text)
        assert "at 0 months since start" not in text, url  # month 0 is 100 % by definition
    # the last week of product data is partial unless it has all seven days
    with duckdb.connect(str(report_warehouse), read_only=True) as connection:
        last_day = connection.execute(
            "select max(activity_date) from fct_product_daily"
        ).fetchone()[0]
    monday = last_day - timedelta(days=last_day.weekday())
    days = (last_day - monday).days + 1
    product = _narrative(report_site, "product.html")
    if days < 7:
        assert (
            f"week of {monday.isoformat()} so far is partial: {days} of 7 days, left out of the "
            "comparison" in product
        )
        assert f"Week of {(monday - timedelta(weeks=1)).isoformat()}" in product
