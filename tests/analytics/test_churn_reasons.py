"""fct_churn_by_reason agrees with a plain-Python recomputation from the raw files.

Churn is re-derived from the raw subscriptions (each customer's MRR at every month end; a
churn is paying at one month end and nothing at the next) and each churn is given the
end_reason of the customer's subscription that ended last by the month end, mapped to
voluntary / involuntary as the README defines them. Compared with the mart row by row, to the
last of its 6 decimals. Uses the shared `raw_dir` and `warehouse` fixtures of tests/conftest.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.warehouse.raw_figures import (
    customer_mrr_at_end_of,
    month_end_days,
    read_rows,
    subscriptions,
)

pytestmark = pytest.mark.slow

# The README's definitions: a customer who cancelled left voluntarily; a subscription ended
# by a failed payment is involuntary churn.
CHURN_TYPES = {"canceled": "voluntary", "payment_failed": "involuntary"}

Split = dict[tuple[date, str], tuple[str, int, Decimal]]


def last_ending_reason(endings: list[tuple[datetime, int, str]], close: date) -> str:
    """end_reason of the subscription that ended last at or before the end of `close`."""
    next_midnight = datetime.combine(close + timedelta(days=1), time())
    ended = [ending for ending in endings if ending[0] < next_midnight]
    return max(ended)[2]


def churn_by_reason(raw_dir: Path) -> Split:
    """(month, end_reason) -> (churn_type, churned customers, churned MRR, negative)."""
    manifest = json.loads((raw_dir / "_manifest.json").read_text())
    closes = month_end_days(
        date.fromisoformat(manifest["data_start"]), date.fromisoformat(manifest["data_end"])
    )
    subs = subscriptions(raw_dir)
    endings: dict[int, list[tuple[datetime, int, str]]] = defaultdict(list)
    for row in read_rows(raw_dir, "raw_subscriptions"):
        if row["ended_at"] is not None:
            endings[row["user_id"]].append(
                (row["ended_at"], row["subscription_id"], row["end_reason"])
            )
    counts: dict[tuple[date, str], int] = defaultdict(int)
    lost: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    previous: dict[int, Decimal] = {}
    for month, close in sorted(closes.items()):
        current = customer_mrr_at_end_of(subs, close)
        for user_id, mrr in previous.items():
            if mrr > 0 and current.get(user_id, Decimal(0)) == 0:
                reason = last_ending_reason(endings[user_id], close)
                counts[(month, reason)] += 1
                lost[(month, reason)] -= mrr
        previous = current
    reasons = {reason for _, reason in counts}
    return {
        (month, reason): (
            CHURN_TYPES[reason],
            counts.get((month, reason), 0),
            lost.get((month, reason), Decimal(0)),
        )
        for month in closes
        for reason in reasons
    }


def mart_split(warehouse: Path) -> Split:
    """The mart's rows, keyed like churn_by_reason."""
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = connection.execute(
            "select month, end_reason, churn_type, churned_customers, churned_mrr"
            " from fct_churn_by_reason"
        ).fetchall()
    finally:
        connection.close()
    return {(row[0], row[1]): (row[2], row[3], row[4]) for row in rows}


def test_churn_by_reason_matches_the_raw_files(raw_dir: Path, warehouse: Path) -> None:
    expected = churn_by_reason(raw_dir)
    found = mart_split(warehouse)
    assert found == expected
    # the small data set has churn of both kinds, so the split is really exercised
    by_type: dict[str, int] = defaultdict(int)
    for churn_type, customers, _ in expected.values():
        by_type[churn_type] += customers
    assert by_type["voluntary"] > 10
    assert by_type["involuntary"] > 0


def test_every_churn_has_a_mapped_reason(raw_dir: Path) -> None:
    """A churned customer's last ending is a cancellation or a failed payment, never a plan
    change (the next period starts at the instant an upgrade or downgrade ends)."""
    reasons = {reason for _, reason in churn_by_reason(raw_dir)}
    assert reasons <= set(CHURN_TYPES)
