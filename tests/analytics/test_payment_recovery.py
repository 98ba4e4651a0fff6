"""fct_payment_recovery agrees with a plain-Python recomputation from the raw files.

From the README's definitions: a failed invoice is one whose first attempt was declined
(attempt_count above 1, or status failed or open), counted in the month it was issued by its
final status (paid: recovered); MRR at risk at a month's closing day is the MRR of the
subscriptions active at its end with a failed invoice issued by then and not paid by then; MRR
lost to payment failure is the month-end MRR of the customers who went from paying to nothing
in the month when the subscription that ended last was ended by a failed payment. Compared
with the mart row by row. Uses the shared `raw_dir` and `warehouse` fixtures of
tests/conftest.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.warehouse.raw_figures import month_end_days, read_rows

pytestmark = pytest.mark.slow

SIX_PLACES = Decimal("0.000001")
COUNTS = ("failed_invoices", "recovered_invoices", "lost_invoices", "open_invoices")
Row = dict[str, object]


def next_midnight(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time())


def mrr(sub: dict) -> Decimal:
    months = 12 if sub["billing_cycle"] == "annual" else 1
    return (sub["price_usd"] / months).quantize(SIX_PLACES)


def active_at_end_of(sub: dict, day: date) -> bool:
    end = next_midnight(day)
    return sub["started_at"] < end and (sub["ended_at"] is None or sub["ended_at"] >= end)


def first_attempt_failed(invoice: dict) -> bool:
    return invoice["attempt_count"] > 1 or invoice["status"] in ("failed", "open")


def recompute(raw_dir: Path) -> dict[tuple[date, str], Row]:
    """(month, plan or 'all') -> the mart's measures, from the raw rows."""
    manifest = json.loads((raw_dir / "_manifest.json").read_text())
    closes = month_end_days(
        date.fromisoformat(manifest["data_start"]), date.fromisoformat(manifest["data_end"])
    )
    subs = {row["subscription_id"]: row for row in read_rows(raw_dir, "raw_subscriptions")}
    plans = sorted({sub["plan"] for sub in subs.values()})
    failed = [row for row in read_rows(raw_dir, "raw_invoices") if first_attempt_failed(row)]
    rows: dict[tuple[date, str], Row] = {
        (month, plan): {
            **dict.fromkeys(COUNTS, 0),
            "mrr_at_risk": Decimal(0),
            "involuntary_churned_customers": 0,
            "mrr_lost": Decimal(0),
        }
        for month in closes
        for plan in [*plans, "all"]
    }

    def add(month: date, plan: str, measure: str, amount) -> None:
        for key in ((month, plan), (month, "all")):
            rows[key][measure] += amount

    outcome = {"failed": "lost_invoices", "open": "open_invoices"}
    for invoice in failed:
        plan = subs[invoice["subscription_id"]]["plan"]
        month = invoice["issued_at"].date().replace(day=1)
        add(month, plan, "failed_invoices", 1)
        add(month, plan, outcome.get(invoice["status"], "recovered_invoices"), 1)

    for month, close in closes.items():
        at_risk = {
            invoice["subscription_id"]
            for invoice in failed
            if invoice["issued_at"] < next_midnight(close)
            and (invoice["paid_at"] is None or invoice["paid_at"] >= next_midnight(close))
            and active_at_end_of(subs[invoice["subscription_id"]], close)
        }
        for sub_id in at_risk:
            add(month, subs[sub_id]["plan"], "mrr_at_risk", mrr(subs[sub_id]))

    by_user: dict[int, list[dict]] = defaultdict(list)
    for sub in subs.values():
        by_user[sub["user_id"]].append(sub)
    previous: dict[int, Decimal] = {}
    for month, close in sorted(closes.items()):
        current = {
            user: sum((mrr(s) for s in user_subs if active_at_end_of(s, close)), Decimal(0))
            for user, user_subs in by_user.items()
        }
        for user, before in previous.items():
            if before > 0 and current[user] == 0:
                ended = [
                    s
                    for s in by_user[user]
                    if s["ended_at"] is not None and s["ended_at"] < next_midnight(close)
                ]
                last = max(ended, key=lambda s: (s["ended_at"], s["subscription_id"]))
                if last["end_reason"] == "payment_failed":
                    add(month, last["plan"], "involuntary_churned_customers", 1)
                    add(month, last["plan"], "mrr_lost", before)
        previous = current
    for row in rows.values():
        decided = row["recovered_invoices"] + row["lost_invoices"]
        row["recovery_rate"] = row["recovered_invoices"] / decided if decided else None
    return rows


def mart_rows(warehouse: Path) -> dict[tuple[date, str], Row]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        result = connection.execute("select * from fct_payment_recovery")
        names = [column[0] for column in result.description]
        found = [dict(zip(names, values, strict=True)) for values in result.fetchall()]
    finally:
        connection.close()
    return {
        (row["month"], row["plan"]): {
            name: value
            for name, value in row.items()
            if name not in ("month", "plan", "month_end_date", "is_complete_month")
        }
        for row in found
    }


def test_payment_recovery_matches_the_raw_files(raw_dir: Path, warehouse: Path) -> None:
    expected = recompute(raw_dir)
    found = mart_rows(warehouse)
    assert found.keys() == expected.keys()
    for key, row in expected.items():
        rate = row.pop("recovery_rate")
        assert found[key].pop("recovery_rate") == pytest.approx(rate), key
        assert found[key] == row, key
    # the small data set has recovered, lost and involuntary churn, so every column is exercised
    totals = {
        name: sum(row[name] for (_, plan), row in expected.items() if plan == "all")
        for name in ("recovered_invoices", "lost_invoices", "involuntary_churned_customers")
    }
    assert all(total > 0 for total in totals.values()), totals
