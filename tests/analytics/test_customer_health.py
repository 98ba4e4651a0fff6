"""fct_customer_health agrees with a recomputation from the raw files, customer by customer.

The customers (everyone with a subscription), who pays at the end of the data, the engagement
trend, the at-risk score and the churn reason and lost MRR are re-derived with pandas from the
raw Parquet files and the README's rules ("At-risk score"), not from the marts, and compared
with every row of the mart. Uses the shared `raw_dir` and `warehouse` fixtures of
tests/conftest.py (2,000 users × 365 days).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.warehouse.raw_figures import customer_mrr_at_end_of, month_end_days, subscriptions

pytestmark = pytest.mark.slow

CHURN_TYPES = {"canceled": "voluntary", "payment_failed": "involuntary"}
TREND_POINTS = {"stopped": 40, "inactive": 40, "falling": 25}


def trend(last: int, previous: int) -> str:
    if last == 0:
        return "inactive" if previous == 0 else "stopped"
    if 2 * last <= previous:
        return "falling"
    if last >= 2 * previous:
        return "rising"
    return "steady"


def expected_health(raw_dir: Path) -> pd.DataFrame:
    manifest = json.loads((raw_dir / "_manifest.json").read_text())
    end = date.fromisoformat(manifest["data_end"])
    subs = pd.read_parquet(raw_dir / "raw_subscriptions.parquet")
    scans = pd.read_parquet(raw_dir / "raw_scans.parquet")
    invoices = pd.read_parquet(raw_dir / "raw_invoices.parquet")

    scan_day = scans["scanned_at"].dt.date
    completed = scans["status"] == "completed"
    last_30 = completed & (scan_day >= end - timedelta(days=29)) & (scan_day <= end)
    previous_30 = (
        completed & (scan_day >= end - timedelta(days=59)) & (scan_day < end - timedelta(days=29))
    )
    scans_last = scans[last_30].groupby("user_id").size()
    scans_previous = scans[previous_30].groupby("user_id").size()

    window = end - timedelta(days=89)
    # a declined first charge: retried (attempt_count > 1), given up or still being retried
    first_attempt_failed = (invoices["attempt_count"] > 1) | invoices["status"].isin(
        ["failed", "open"]
    )
    failed = (
        invoices[first_attempt_failed & (invoices["issued_at"].dt.date >= window)]
        .groupby("user_id")
        .size()
    )

    # a downgrade: a subscription that starts at the instant one of the same customer ended
    # with end_reason 'downgraded'
    ended_down = subs[subs["end_reason"] == "downgraded"][["user_id", "ended_at"]]
    downgrades = subs.merge(
        ended_down, left_on=["user_id", "started_at"], right_on=["user_id", "ended_at"]
    )
    downgrades = downgrades[downgrades["started_at"].dt.date >= window].groupby("user_id").size()

    all_subs = subscriptions(raw_dir)
    at_end = customer_mrr_at_end_of(all_subs, end)
    # MRR lost at a customer's last churn as the bridge counts it: paying at one month end,
    # nothing at the next; the MRR at the earlier month end
    last_churn: dict[int, Decimal] = {}
    previous: dict[int, Decimal] = {}
    start = date.fromisoformat(manifest["data_start"])
    for _, close in sorted(month_end_days(start, end).items()):
        current = customer_mrr_at_end_of(all_subs, close)
        for user_id, mrr in previous.items():
            if mrr > 0 and current.get(user_id, Decimal(0)) == 0:
                last_churn[user_id] = mrr
        previous = current
    rows = []
    for user_id, user_subs in subs.groupby("user_id"):
        paying = at_end.get(user_id, Decimal(0)) > 0
        last, previous = int(scans_last.get(user_id, 0)), int(scans_previous.get(user_id, 0))
        user_trend = trend(last, previous)
        row = {
            "user_id": user_id,
            "customer_status": "paying" if paying else "churned",
            "engagement_trend": user_trend,
            "at_risk_score": None,
            "churn_type": None,
            "churned_date": None,
            "lost_mrr": None,
        }
        if paying:
            score = (
                TREND_POINTS.get(user_trend, 0)
                + (30 if failed.get(user_id, 0) > 0 else 0)
                + (20 if downgrades.get(user_id, 0) > 0 else 0)
            )
            row["at_risk_score"] = min(score, 100)
        else:
            last_end = user_subs.sort_values(["ended_at", "subscription_id"]).iloc[-1]
            row["churned_date"] = last_end["ended_at"].date()
            # why and how much: at their last churn in the MRR bridge (none for a customer who
            # never paid at a month end); the last subscription to end is the one of that month
            if user_id in last_churn:
                row["churn_type"] = CHURN_TYPES[last_end["end_reason"]]
                row["lost_mrr"] = last_churn[user_id]
        rows.append(row)
    return pd.DataFrame(rows).set_index("user_id").sort_index()


def mart_health(warehouse: Path) -> pd.DataFrame:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        frame = connection.execute(
            "select user_id, customer_status, engagement_trend, at_risk_score, churn_type,"
            " churned_date, lost_mrr, is_at_risk from fct_customer_health"
        ).df()
    finally:
        connection.close()
    return frame.set_index("user_id").sort_index()


def test_customer_health_matches_the_raw_files(raw_dir: Path, warehouse: Path) -> None:
    expected = expected_health(raw_dir)
    found = mart_health(warehouse)
    assert list(found.index) == list(expected.index)
    for column in ["customer_status", "engagement_trend", "churn_type"]:
        mismatched = found[column].fillna("-") != expected[column].fillna("-")
        assert not mismatched.any(), (
            found[mismatched][[column]].join(expected[[column]], rsuffix="_expected").head()
        )
    scores = found["at_risk_score"].astype("Int64")
    assert scores.equals(expected["at_risk_score"].astype("Int64"))
    assert (found["is_at_risk"] == (scores.fillna(0) >= 40)).all()
    churned = expected["customer_status"] == "churned"
    assert list(found.loc[churned, "churned_date"].dt.date) == list(
        expected.loc[churned, "churned_date"]
    )
    assert [None if pd.isna(v) else Decimal(str(v)) for v in found.loc[churned, "lost_mrr"]] == [
        None if v is None or pd.isna(v) else v for v in expected.loc[churned, "lost_mrr"]
    ]
    # the small data set exercises every part of the rule
    assert set(expected["engagement_trend"]) >= {"stopped", "falling", "rising", "steady"}
    assert (scores.fillna(0) >= 40).sum() > 0
    assert set(expected.loc[churned, "churn_type"].dropna()) == {"voluntary", "involuntary"}
