"""Independent figures computed in plain Python from the raw Parquet files.

These re-derive the finance marts' numbers straight from the definitions (a subscription is
active at instant t when started_at <= t < ended_at; annual MRR is price / 12) without SQL,
so the pytest checks compare two separate implementations.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pyarrow.parquet as pq

SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class Subscription:
    """One raw subscription row with its MRR."""

    user_id: int
    billing_cycle: str
    price_usd: Decimal
    started_at: datetime
    ended_at: datetime | None

    @property
    def mrr(self) -> Decimal:
        """MRR as the warehouse stores it: price per month, to 6 decimal places."""
        months = 12 if self.billing_cycle == "annual" else 1
        return (self.price_usd / months).quantize(SIX_PLACES)

    @property
    def exact_mrr(self) -> Fraction:
        """MRR as an exact fraction (no rounding at all)."""
        months = 12 if self.billing_cycle == "annual" else 1
        return Fraction(self.price_usd) / months

    def active_at_end_of(self, day: date) -> bool:
        """Active at the last instant of `day`: started_at < day + 1 <= ended_at (or no end)."""
        next_midnight = datetime.combine(day + timedelta(days=1), time())
        return self.started_at < next_midnight and (
            self.ended_at is None or self.ended_at >= next_midnight
        )


def read_rows(raw_dir: Path, table: str) -> list[dict]:
    """All rows of one raw table as dictionaries."""
    return pq.read_table(raw_dir / f"{table}.parquet").to_pylist()


def subscriptions(raw_dir: Path) -> list[Subscription]:
    """The raw subscriptions."""
    return [
        Subscription(
            user_id=row["user_id"],
            billing_cycle=row["billing_cycle"],
            price_usd=row["price_usd"],
            started_at=row["started_at"],
            ended_at=row["ended_at"],
        )
        for row in read_rows(raw_dir, "raw_subscriptions")
    ]


def month_end_days(data_start: date, data_end: date) -> dict[date, date]:
    """Month start -> the day closing it (the month's last day, or data_end if earlier)."""
    closes: dict[date, date] = {}
    month = data_start.replace(day=1)
    while month <= data_end:
        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        closes[month] = min(following - timedelta(days=1), data_end)
        month = following
    return closes


def customer_mrr_at_end_of(subs: list[Subscription], day: date) -> dict[int, Decimal]:
    """user_id -> MRR at the end of `day` (customers with at least one active subscription)."""
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for sub in subs:
        if sub.active_at_end_of(day):
            totals[sub.user_id] += sub.mrr
    return dict(totals)


def mrr_at_end_of(subs: list[Subscription], day: date) -> Decimal:
    """Company MRR at the end of `day`."""
    return sum(customer_mrr_at_end_of(subs, day).values(), Decimal(0))


def exact_mrr_at_end_of(subs: list[Subscription], day: date) -> Fraction:
    """Company MRR at the end of `day` without any rounding."""
    return sum((sub.exact_mrr for sub in subs if sub.active_at_end_of(day)), Fraction(0))


def paying_customers_at_end_of(subs: list[Subscription], day: date) -> int:
    """Customers with MRR > 0 at the end of `day`."""
    return sum(1 for mrr in customer_mrr_at_end_of(subs, day).values() if mrr > 0)


def new_customers_by_month(subs: list[Subscription], closes: dict[date, date]) -> dict[date, int]:
    """Month -> customers whose month-end MRR is positive for the first time that month."""
    first_month: dict[int, date] = {}
    for month, close in sorted(closes.items()):
        for user_id, mrr in customer_mrr_at_end_of(subs, close).items():
            if mrr > 0 and user_id not in first_month:
                first_month[user_id] = month
    counts = dict.fromkeys(closes, 0)
    for month in first_month.values():
        counts[month] += 1
    return counts


def lifetime_revenue(raw_dir: Path) -> dict[int, Decimal]:
    """user_id -> sum of paid invoices (failed and refunded excluded)."""
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for row in read_rows(raw_dir, "raw_invoices"):
        if row["status"] == "paid":
            totals[row["user_id"]] += row["amount_usd"]
    return dict(totals)
