"""The finance marts agree with figures computed independently in Python from the raw files.

Uses the shared `raw_dir` (2,000 users × 365 days) and `warehouse` (built with `jobmetrics
build`) fixtures of tests/conftest.py.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest
from raw_figures import (
    Subscription,
    exact_mrr_at_end_of,
    lifetime_revenue,
    month_end_days,
    mrr_at_end_of,
    new_customers_by_month,
    paying_customers_at_end_of,
    subscriptions,
)

pytestmark = pytest.mark.slow

HALF_CENT = Fraction(1, 200)


@pytest.fixture(scope="module")
def subs(raw_dir: Path) -> list[Subscription]:
    return subscriptions(raw_dir)


@pytest.fixture(scope="module")
def data_span(raw_dir: Path) -> tuple[date, date]:
    """First and last day of the data, from the generator's manifest (not from SQL)."""
    manifest = json.loads((raw_dir / "_manifest.json").read_text())
    return date.fromisoformat(manifest["data_start"]), date.fromisoformat(manifest["data_end"])


def query(warehouse: Path, sql: str) -> list[tuple]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_data_span_matches_the_generator_manifest(warehouse: Path, data_span) -> None:
    rows = query(warehouse, "select min(date_day), max(date_day), count(*) from fct_mrr_daily")
    first, last, days = rows[0]
    assert (first, last) == data_span
    assert days == (data_span[1] - data_span[0]).days + 1


def test_monthly_ending_mrr_matches_python(warehouse: Path, subs, data_span) -> None:
    closes = month_end_days(*data_span)
    marts = dict(query(warehouse, "select month, ending_mrr from fct_mrr_monthly"))
    assert set(marts) == set(closes)
    for month, close in closes.items():
        # same definition, same 6-decimal MRR per subscription: equal exactly
        assert marts[month] == mrr_at_end_of(subs, close), month
        # and within half a cent of the exact, unrounded sum
        assert abs(Fraction(marts[month]) - exact_mrr_at_end_of(subs, close)) < HALF_CENT, month
    assert any(value > 0 for value in marts.values())


def test_new_customers_per_month_match_python(warehouse: Path, subs, data_span) -> None:
    closes = month_end_days(*data_span)
    marts = dict(query(warehouse, "select month, new_customers from fct_mrr_monthly"))
    expected = new_customers_by_month(subs, closes)
    assert marts == expected
    assert sum(expected.values()) > 50


def test_paying_customers_on_given_dates_match_python(warehouse: Path, subs, data_span) -> None:
    start, end = data_span
    days = [date(start.year, 3, 15), date(start.year, 9, 23), date(start.year, 10, 1), end]
    marts = dict(query(warehouse, "select date_day, paying_customers from fct_mrr_daily"))
    for day in days:
        assert marts[day] == paying_customers_at_end_of(subs, day), day


def test_daily_mrr_matches_python_on_every_day(warehouse: Path, subs, data_span) -> None:
    marts = dict(query(warehouse, "select date_day, mrr from fct_mrr_daily"))
    start, end = data_span
    day = start
    while day <= end:
        assert marts[day] == mrr_at_end_of(subs, day), day
        day = date.fromordinal(day.toordinal() + 7)


def test_lifetime_revenue_of_customers_matches_paid_invoices(warehouse: Path, raw_dir) -> None:
    expected = lifetime_revenue(raw_dir)
    marts = dict(query(warehouse, "select user_id, lifetime_revenue_usd from dim_customers"))
    payers = sorted(expected, key=lambda user_id: (-expected[user_id], user_id))
    assert len(payers) > 20
    for user_id in payers[:10] + payers[-10:]:
        assert marts[user_id] == expected[user_id], user_id
    assert sum(marts.values(), Decimal(0)) == sum(expected.values(), Decimal(0))


def test_current_mrr_of_customers_adds_up_to_last_day(warehouse: Path, subs, data_span) -> None:
    total, paying = query(
        warehouse, "select sum(current_mrr), count(*) filter (where is_paying) from dim_customers"
    )[0]
    assert total == mrr_at_end_of(subs, data_span[1])
    assert paying == paying_customers_at_end_of(subs, data_span[1])
