"""The analytics marts agree with independent Python calculations on the raw files."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow


def _raw(raw_dir: Path, table: str, columns: str) -> list[tuple]:
    path = str(raw_dir / f"{table}.parquet")
    return duckdb.sql(f"select {columns} from read_parquet('{path}')").fetchall()


def _mart(warehouse: Path, query: str) -> list[tuple]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def _active_days(raw_dir: Path) -> dict[int, set[date]]:
    """Per user, the days with a completed scan or a signed-in session."""
    days: dict[int, set[date]] = defaultdict(set)
    for user_id, scanned_at, status in _raw(raw_dir, "raw_scans", "user_id, scanned_at, status"):
        if status == "completed":
            days[user_id].add(scanned_at.date())
    for user_id, started_at in _raw(raw_dir, "raw_sessions", "user_id, started_at"):
        if user_id is not None:
            days[user_id].add(started_at.date())
    return days


def test_daily_weekly_and_monthly_active_users_are_distinct_counts(raw_dir, warehouse):
    active = _active_days(raw_dir)
    rows = _mart(warehouse, "select activity_date, dau, wau, mau from fct_product_daily")
    assert len(rows) >= 365
    for day, dau, wau, mau in rows[::17] + rows[-3:]:
        in_window = {
            span: sum(
                1
                for dates in active.values()
                if any(day - timedelta(days=span - 1) <= d <= day for d in dates)
            )
            for span in (1, 7, 30)
        }
        assert (dau, wau, mau) == (in_window[1], in_window[7], in_window[30]), day


def test_funnel_stages_follow_the_windows(raw_dir, warehouse):
    signed_up = dict(_raw(raw_dir, "raw_users", "user_id, signed_up_at"))
    scans: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for user_id, scanned_at, status in _raw(raw_dir, "raw_scans", "user_id, scanned_at, status"):
        scans[user_id].append((scanned_at, status))
    first_paid: dict[int, datetime] = {}
    for user_id, started_at in _raw(raw_dir, "raw_subscriptions", "user_id, started_at"):
        first_paid[user_id] = min(started_at, first_paid.get(user_id, started_at))
    expected: dict[str, int] = defaultdict(int)
    for user_id, signup in signed_up.items():
        events = sorted(scans[user_id])
        early = [(at, status) for at, status in events if signup <= at < signup + timedelta(14)]
        scanned = bool(early) and early[0][0] < signup + timedelta(7)
        completed = [at for at, status in early if status == "completed"]
        activated = scanned and len(completed) >= 3
        paid = first_paid.get(user_id)
        converted = activated and paid is not None and signup <= paid < signup + timedelta(30)
        expected["signups"] += 1
        expected["scanned"] += scanned
        expected["activated"] += activated
        expected["converted"] += converted
    found = dict(
        _mart(
            warehouse,
            "select stage, sum(users) from fct_funnel_monthly "
            "where dimension = 'all' and stage in ('signups', 'scanned', 'activated', 'converted') "
            "group by stage",
        )
    )
    assert found == dict(expected)
    assert expected["activated"] > 0 and expected["converted"] > 0


def test_channel_spend_signups_and_cac_match_the_raw_files(raw_dir, warehouse):
    spend: dict[tuple[date, str], float] = defaultdict(float)
    for day, channel, amount in _raw(
        raw_dir, "raw_marketing_spend", "spend_date, channel, spend_usd"
    ):
        spend[(day.replace(day=1), channel)] += float(amount)
    signups: dict[tuple[date, str], int] = defaultdict(int)
    for signed_up_at, channel in _raw(raw_dir, "raw_users", "signed_up_at, acquisition_channel"):
        signups[(signed_up_at.date().replace(day=1), channel)] += 1
    rows = _mart(
        warehouse,
        "select performance_month, channel, is_paid, spend_usd, signups, new_customers, cac_usd "
        "from fct_channel_performance where channel != 'all'",
    )
    assert rows
    for month, channel, is_paid, spend_usd, signup_count, new_customers, cac in rows:
        assert float(spend_usd) == pytest.approx(spend[(month, channel)], abs=0.005)
        assert signup_count == signups[(month, channel)]
        if new_customers == 0:
            assert cac is None
        elif not is_paid:
            assert cac == 0
        else:
            assert float(cac) == pytest.approx(float(spend_usd) / new_customers, abs=1e-6)


def test_every_alert_names_its_metric_period_and_severity(warehouse):
    rows = _mart(
        warehouse, "select metric, period_start_date, grain, severity, message from fct_alerts"
    )
    assert rows, "the small data set has alerts (monthly churn above 5 % at least)"
    for metric, period, grain, severity, message in rows:
        label = period.isoformat()[:7] if grain == "monthly" else period.isoformat()
        assert message.lower().startswith(severity)
        assert metric in message and label in message
