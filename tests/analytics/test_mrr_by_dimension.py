"""fct_mrr_monthly_by_dimension agrees with a plain-Python recomputation from the raw files.

The movements are re-derived here from the raw subscriptions (MRR at each month end, the
movement rule written out in Python, the plan held at the month end) and summed per channel,
per signup device and per plan, then compared with the mart column by column, to the last of
its 6 decimals.
Uses the shared `raw_dir` and `warehouse` fixtures of tests/conftest.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.warehouse.raw_figures import Subscription, month_end_days, read_rows, subscriptions

pytestmark = pytest.mark.slow

MONEY_COLUMNS = (
    "starting_mrr",
    "new_mrr",
    "expansion_mrr",
    "reactivation_mrr",
    "contraction_mrr",
    "churned_mrr",
    "ending_mrr",
)
COUNT_COLUMNS = (
    "starting_paying_customers",
    "paying_customers",
    "new_customers",
    "churned_customers",
    "reactivated_customers",
)
ADDITIVE_COLUMNS = MONEY_COLUMNS + COUNT_COLUMNS


@dataclass(frozen=True)
class CustomerMonth:
    """One customer at one month end, with the plan the mart should file the month under."""

    user_id: int
    month: date
    previous_mrr: Decimal
    mrr: Decimal
    has_paid_before: bool
    plan: str | None


def movement(previous_mrr: Decimal, mrr: Decimal, has_paid_before: bool) -> str:
    """The README's movement definitions between two month ends."""
    if previous_mrr == 0 and mrr > 0:
        return "reactivation" if has_paid_before else "new"
    if previous_mrr > 0 and mrr == 0:
        return "churn"
    if mrr > previous_mrr:
        return "expansion"
    if mrr < previous_mrr:
        return "contraction"
    return "unchanged"


def customer_months(raw_dir: Path) -> list[CustomerMonth]:
    """Every customer month from the first month-end with MRR through the last month."""
    manifest = json.loads((raw_dir / "_manifest.json").read_text())
    closes = month_end_days(
        date.fromisoformat(manifest["data_start"]), date.fromisoformat(manifest["data_end"])
    )
    plans = [row["plan"] for row in read_rows(raw_dir, "raw_subscriptions")]
    subs: list[tuple[Subscription, str]] = list(zip(subscriptions(raw_dir), plans, strict=True))
    mrr: dict[int, Decimal] = {}
    plan: dict[int, str] = {}
    paid_before: set[int] = set()
    rows: list[CustomerMonth] = []
    for month, close in sorted(closes.items()):
        month_mrr: dict[int, Decimal] = defaultdict(Decimal)
        month_plan: dict[int, tuple[Decimal, str]] = {}
        for sub, sub_plan in subs:
            if sub.active_at_end_of(close):
                month_mrr[sub.user_id] += sub.mrr
                # a customer's subscriptions do not overlap; if they did, the largest names it
                month_plan[sub.user_id] = max(
                    (sub.mrr, sub_plan), month_plan.get(sub.user_id, (Decimal(0), ""))
                )
        for user_id in sorted(set(mrr) | set(month_mrr)):
            ending = month_mrr.get(user_id, Decimal(0))
            starting = mrr.get(user_id, Decimal(0))
            held: str | None = None  # the mart's plan rule: month-end plan, else previous
            if ending > 0:
                held = month_plan[user_id][1]
            elif starting > 0:
                held = plan[user_id]
            rows.append(
                CustomerMonth(user_id, month, starting, ending, user_id in paid_before, held)
            )
            if ending > 0:
                paid_before.add(user_id)
                plan[user_id] = month_plan[user_id][1]
            mrr[user_id] = ending
    return rows


def empty_slice() -> dict[str, Decimal | int]:
    """The additive columns of a slice with nobody in it."""
    return {**dict.fromkeys(MONEY_COLUMNS, Decimal(0)), **dict.fromkeys(COUNT_COLUMNS, 0)}


def slice_sums(
    rows: list[CustomerMonth], slice_of: dict[int, str] | None
) -> dict[tuple[date, str], dict[str, Decimal | int]]:
    """(month, slice value) -> the additive columns; slice_of None slices by the row's plan."""
    sums: dict[tuple[date, str], dict[str, Decimal | int]] = defaultdict(empty_slice)
    for row in rows:
        if row.previous_mrr == 0 and row.mrr == 0:
            continue
        value = row.plan if slice_of is None else slice_of[row.user_id]
        assert value is not None, row
        found = sums[(row.month, value)]
        kind = movement(row.previous_mrr, row.mrr, row.has_paid_before)
        change = row.mrr - row.previous_mrr
        found["starting_mrr"] += row.previous_mrr
        found["ending_mrr"] += row.mrr
        found["starting_paying_customers"] += int(row.previous_mrr > 0)
        found["paying_customers"] += int(row.mrr > 0)
        column = {
            "new": "new_mrr",
            "expansion": "expansion_mrr",
            "reactivation": "reactivation_mrr",
            "contraction": "contraction_mrr",
            "churn": "churned_mrr",
        }.get(kind)
        if column is not None:
            found[column] += change
        counted = {
            "new": "new_customers",
            "churn": "churned_customers",
            "reactivation": "reactivated_customers",
        }.get(kind)
        if counted is not None:
            found[counted] += 1
    return dict(sums)


@pytest.fixture(scope="module")
def raw_customer_months(raw_dir: Path) -> list[CustomerMonth]:
    return customer_months(raw_dir)


def mart_slices(
    warehouse: Path, dimension: str
) -> dict[tuple[date, str], dict[str, Decimal | int]]:
    """The mart's rows of one dimension, keyed like slice_sums."""
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = connection.execute(
            f"select month, dimension_value, {', '.join(ADDITIVE_COLUMNS)}"
            " from fct_mrr_monthly_by_dimension where dimension = ?",
            [dimension],
        ).fetchall()
    finally:
        connection.close()
    return {(row[0], row[1]): dict(zip(ADDITIVE_COLUMNS, row[2:], strict=True)) for row in rows}


@pytest.mark.parametrize("dimension", ["acquisition_channel", "device", "plan"])
def test_movements_by_dimension_match_the_raw_files(
    raw_dir: Path, warehouse: Path, raw_customer_months: list[CustomerMonth], dimension: str
) -> None:
    # a channel or device is the raw user's; a plan is the one held at the month end
    fixed = (
        None
        if dimension == "plan"
        else {row["user_id"]: row[dimension] for row in read_rows(raw_dir, "raw_users")}
    )
    expected = slice_sums(raw_customer_months, fixed)
    found = mart_slices(warehouse, dimension)
    months = {month for month, _ in found}
    values = {value for _, value in expected}
    # the mart has every slice in every month, zeros where the slice had nobody
    assert set(found) == {(month, value) for month in months for value in values}
    for key, columns in sorted(found.items()):
        assert columns == expected.get(key, empty_slice()), key
    assert sum(columns["expansion_mrr"] for columns in expected.values()) > 0
    assert sum(columns["churned_customers"] for columns in expected.values()) > 10
