"""fct_plan_changes agrees with a plain-Python recomputation of the plan-change matrix from the
raw files.

Here a plan change is read straight off raw_subscriptions: a customer's subscription that ends
at the very instant their next one starts, on another plan or billing cycle. The end_reason is
not used to find them (the mart starts from int_subscription_periods' start_reason); the type
comes from the plan ranks of seeds/plans.csv. Every (month, from plan · cycle, to plan · cycle)
cell is compared with the mart: customers and MRR before and after, to the mart's 6 decimals.
Uses the shared `raw_dir` and `warehouse` fixtures of tests/conftest.py.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.warehouse.raw_figures import SIX_PLACES, read_rows

pytestmark = pytest.mark.slow

PLANS_SEED = Path(__file__).resolve().parents[2] / "seeds" / "plans.csv"

Cell = tuple[date, str, str, str, str]


def plan_ranks() -> dict[str, int]:
    """plan -> plan_rank from the seed."""
    with PLANS_SEED.open(newline="") as seed:
        return {row["plan"]: int(row["plan_rank"]) for row in csv.DictReader(seed)}


def change_type(from_plan: str, to_plan: str, ranks: dict[str, int]) -> str:
    """upgrade / downgrade by plan rank; the same plan on the other cycle is a cycle switch."""
    if ranks[to_plan] > ranks[from_plan]:
        return "upgrade"
    if ranks[to_plan] < ranks[from_plan]:
        return "downgrade"
    return "cycle_switch"


def monthly(price_usd: Decimal, billing_cycle: str) -> Decimal:
    """A subscription's MRR: the price per month, to 6 decimals."""
    return (price_usd / (12 if billing_cycle == "annual" else 1)).quantize(SIX_PLACES)


def raw_matrix(raw_dir: Path) -> dict[Cell, dict[str, object]]:
    """(month, from plan, from cycle, to plan, to cycle) -> type, customers, MRR before/after."""
    ranks = plan_ranks()
    by_user: dict[int, list[dict]] = defaultdict(list)
    for row in read_rows(raw_dir, "raw_subscriptions"):
        by_user[row["user_id"]].append(row)
    cells: dict[Cell, dict[str, object]] = {}
    for rows in by_user.values():
        rows.sort(key=lambda row: (row["started_at"], row["subscription_id"]))
        for old, new in zip(rows, rows[1:], strict=False):
            if old["ended_at"] != new["started_at"]:
                continue
            if (old["plan"], old["billing_cycle"]) == (new["plan"], new["billing_cycle"]):
                continue
            month = new["started_at"].date().replace(day=1)
            key = (month, old["plan"], old["billing_cycle"], new["plan"], new["billing_cycle"])
            cell = cells.setdefault(
                key,
                {
                    "change_type": change_type(old["plan"], new["plan"], ranks),
                    "customers": 0,
                    "mrr_before": Decimal(0),
                    "mrr_after": Decimal(0),
                },
            )
            cell["customers"] += 1
            cell["mrr_before"] += monthly(old["price_usd"], old["billing_cycle"])
            cell["mrr_after"] += monthly(new["price_usd"], new["billing_cycle"])
            # the raw end_reason says the same as the plan ranks
            assert old["end_reason"] == f"{cell['change_type']}d", (old, new)
    return cells


def mart_matrix(warehouse: Path) -> dict[Cell, dict[str, object]]:
    """The mart's rows, keyed like raw_matrix."""
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = connection.execute(
            "select change_month, from_plan, from_billing_cycle, to_plan, to_billing_cycle,"
            " change_type, customers, mrr_before, mrr_after, mrr_change from fct_plan_changes"
        ).fetchall()
    finally:
        connection.close()
    matrix: dict[Cell, dict[str, object]] = {}
    for *key, kind, customers, before, after, change in rows:
        assert change == after - before, key
        matrix[tuple(key)] = {
            "change_type": kind,
            "customers": customers,
            "mrr_before": before,
            "mrr_after": after,
        }
    return matrix


def test_plan_change_matrix_matches_the_raw_subscriptions(raw_dir: Path, warehouse: Path) -> None:
    expected = raw_matrix(raw_dir)
    found = mart_matrix(warehouse)
    assert found == expected
    kinds = {cell["change_type"] for cell in expected.values()}
    assert {"upgrade", "downgrade"} <= kinds
    assert sum(cell["customers"] for cell in expected.values()) > 20
