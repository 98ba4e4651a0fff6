"""Named number formats and automatic formats from column names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jobmetrics.core.formats import UnknownFormat, auto_format, axis_format, format_value


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (Decimal("1234.565"), "usd", "$1,234.57"),
        (Decimal("-12"), "usd", "-$12.00"),
        (1234.5, "usd0", "$1,235"),
        (Decimal("-0.004"), "usd", "$0.00"),
        (12_345, "usd1k", "$12.3k"),
        (2_345_678.9, "usd1m", "$2.35M"),
        (0.0321, "pct", "3.2%"),
        (0.734, "pct", "73%"),
        (0.7345, "pct1", "73.5%"),
        (-0.05, "pct1", "-5.0%"),
        (1234.4, "num0", "1,234"),
        (1234, "num1k", "1.2k"),
        (999, "num1k", "999"),
        (3.25, "mult", "3.3×"),
        (840.4, "ms", "840 ms"),
        (date(2025, 3, 14), "date", "2025-03-14"),
        (date(2025, 3, 1), "month", "Mar 2025"),
        ("2025-03-01", "month", "Mar 2025"),
        (None, "usd", "–"),
        ("paid_social", "usd", "paid_social"),
    ],
)
def test_named_formats(value: object, fmt: str, expected: str) -> None:
    assert format_value(value, fmt) == expected


def test_money_rounds_half_up_to_the_cent_for_floats_too() -> None:
    # 2.675 is 2.67499999... in binary; the shortest repr rounds as people expect.
    assert format_value(2.675, "usd") == "$2.68"


def test_values_without_a_format_get_separators_and_two_decimals() -> None:
    assert format_value(1234567) == "1,234,567"
    assert format_value(Decimal("1234.5")) == "1,234.50"
    assert format_value(Decimal("12.00")) == "12"
    assert format_value(True) == "yes"


def test_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(UnknownFormat, match="unknown format 'dollars'.*usd"):
        format_value(1, "dollars")


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("price_usd", "usd"),
        ("ending_mrr", "usd"),
        ("mrr", "usd"),
        ("mrr_prev", "usd"),
        ("logo_churn_rate", "pct1"),
        ("share_pct", "pct1"),
        ("net_revenue_retention", "pct1"),
        ("stickiness", "pct1"),
        ("p95_processing_ms", "ms"),
        ("cohort_month", "month"),
        ("alert_date", "date"),
        ("ltv_to_cac", "mult"),
        ("paying_customers", None),
    ],
)
def test_auto_format_from_column_name(column: str, expected: str | None) -> None:
    assert auto_format(column) == expected


def test_axis_formats_match_named_formats() -> None:
    assert axis_format("usd0") == {"tickformat": "$,.0f"}
    assert axis_format("pct1") == {"tickformat": ".1%"}
    assert axis_format(None) == {}
