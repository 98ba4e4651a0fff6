"""fct_user_engagement agrees with a recomputation from the raw Parquet files.

Every user's scans, active days and paying days are counted here in Python from raw_users,
raw_scans, raw_sessions and raw_subscriptions, with the data end the generator wrote in the raw
folder's manifest: an active day has a completed scan or a signed-in session, a paying day ends
inside a subscription (started before the next midnight, not ended before it), and the windows
are the last 30 days of data and the 30 before those. The mart counts completed scans from
int_user_activity_days and the other scans from fct_scans; here every scan is counted from the
raw file. Uses the shared `raw_dir` and `warehouse` fixtures of tests/conftest.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow

COLUMNS = (
    "scans_total",
    "completed_scans_total",
    "scans_last_30_days",
    "completed_scans_last_30_days",
    "completed_scans_previous_30_days",
    "first_scan_at",
    "last_scan_at",
    "days_active",
    "days_active_last_30_days",
    "paying_days_active",
    "last_active_date",
    "engagement_tier",
)


def tier(completed_last_30_days: int, completed_total: int) -> str:
    """The engagement tier the mart's header defines."""
    if completed_last_30_days >= 10:
        return "power"
    if completed_last_30_days >= 3:
        return "engaged"
    if completed_last_30_days >= 1:
        return "casual"
    return "dormant" if completed_total >= 1 else "never_scanned"


def is_paying_at_end_of(day: date, subscriptions: list[dict]) -> bool:
    """A subscription of the user is active at the last instant of `day`."""
    next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time())
    return any(
        sub["started_at"] < next_midnight
        and (sub["ended_at"] is None or sub["ended_at"] >= next_midnight)
        for sub in subscriptions
    )


def expected_users(raw_dir: Path) -> tuple[dict[int, dict], date]:
    """user_id → the mart's figures, and the data end."""
    data_end = date.fromisoformat(json.loads((raw_dir / "_manifest.json").read_text())["data_end"])
    last_30_from = data_end - timedelta(days=29)
    previous_30_from = data_end - timedelta(days=59)
    scans = defaultdict(list)
    active_days = defaultdict(set)
    for scan in pq.read_table(raw_dir / "raw_scans.parquet").to_pylist():
        scans[scan["user_id"]].append(scan)
        if scan["status"] == "completed":
            active_days[scan["user_id"]].add(scan["scanned_at"].date())
    for session in pq.read_table(
        raw_dir / "raw_sessions.parquet", columns=["user_id", "started_at"]
    ).to_pylist():
        if session["user_id"] is not None:
            active_days[session["user_id"]].add(session["started_at"].date())
    subscriptions = defaultdict(list)
    for sub in pq.read_table(raw_dir / "raw_subscriptions.parquet").to_pylist():
        subscriptions[sub["user_id"]].append(sub)

    expected = {}
    for user_id in pq.read_table(raw_dir / "raw_users.parquet", columns=["user_id"])[
        "user_id"
    ].to_pylist():
        own = scans[user_id]
        completed = [s for s in own if s["status"] == "completed"]
        days = active_days[user_id]
        completed_last_30 = sum(1 for s in completed if s["scanned_at"].date() >= last_30_from)
        expected[user_id] = {
            "scans_total": len(own),
            "completed_scans_total": len(completed),
            "scans_last_30_days": sum(1 for s in own if s["scanned_at"].date() >= last_30_from),
            "completed_scans_last_30_days": completed_last_30,
            "completed_scans_previous_30_days": sum(
                1 for s in completed if previous_30_from <= s["scanned_at"].date() < last_30_from
            ),
            "first_scan_at": min((s["scanned_at"] for s in own), default=None),
            "last_scan_at": max((s["scanned_at"] for s in own), default=None),
            "days_active": len(days),
            "days_active_last_30_days": sum(1 for day in days if day >= last_30_from),
            "paying_days_active": sum(
                1 for day in days if is_paying_at_end_of(day, subscriptions[user_id])
            ),
            "last_active_date": max(days, default=None),
            "engagement_tier": tier(completed_last_30, len(completed)),
        }
    return expected, data_end


def test_user_engagement_matches_the_raw_files(raw_dir: Path, warehouse: Path) -> None:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = connection.execute(
            f"select user_id, {', '.join(COLUMNS)} from fct_user_engagement"
        ).fetchall()
        data_end = connection.execute("select max(date_day) from int_data_days").fetchone()[0]
    finally:
        connection.close()
    found = {row[0]: dict(zip(COLUMNS, row[1:], strict=True)) for row in rows}
    expected, manifest_end = expected_users(raw_dir)
    assert data_end == manifest_end
    assert set(found) == set(expected)
    mismatches = [
        (user_id, column, found[user_id][column], value)
        for user_id, columns in expected.items()
        for column, value in columns.items()
        if found[user_id][column] != value
    ]
    assert not mismatches, mismatches[:10]
    # the data exercise what the mart's sources split: users whose only scans failed, scans
    # that failed in the last 30 days, and every tier
    users = expected.values()
    assert any(e["scans_total"] > 0 and e["completed_scans_total"] == 0 for e in users)
    assert any(e["scans_last_30_days"] > e["completed_scans_last_30_days"] for e in users)
    assert {e["engagement_tier"] for e in users} == {
        "power",
        "engaged",
        "casual",
        "dormant",
        "never_scanned",
    }
