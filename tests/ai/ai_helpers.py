"""Helpers of the AI tests: a small warehouse file with the mart's columns, file hashes, a
made-up registry metric."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import duckdb

from jobmetrics.ai.registry import Metric

SMALL_MONTHS = [
    # month, starting, new, expansion, reactivation, contraction, churned MRR; paying; churned
    ("2025-07-01", "1000.00", "250.50", "40.00", "0.00", "-10.00", "-60.25", 52, 3),
    ("2025-08-01", "1220.25", "310.00", "55.75", "20.00", "-12.50", "-44.00", 61, 2),
    ("2025-09-01", "1549.50", "280.25", "30.00", "0.00", "-5.00", "-120.75", 66, 6),
]


def build_small_warehouse(path: Path) -> Path:
    """A DuckDB file holding a three-month fct_mrr_monthly with the mart's column names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            """
            create table fct_mrr_monthly (
                month date, is_complete_month boolean, starting_mrr decimal(18,6),
                new_mrr decimal(18,6), expansion_mrr decimal(18,6),
                reactivation_mrr decimal(18,6), contraction_mrr decimal(18,6),
                churned_mrr decimal(18,6), ending_mrr decimal(18,6),
                paying_customers bigint, churned_customers bigint, logo_churn_rate double
            )
            """
        )
        previous_paying = 50
        for month, *movements, paying, churned in SMALL_MONTHS:
            ending = sum(Decimal(value) for value in movements)
            connection.execute(
                "insert into fct_mrr_monthly values (?, true, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [month, *movements, str(ending), paying, churned, churned / previous_paying],
            )
            previous_paying = paying
    return path


def file_hash(path: Path) -> str:
    """SHA-256 of a file and of its WAL if one exists (a write would change either)."""
    digest = hashlib.sha256(path.read_bytes())
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        digest.update(wal.read_bytes())
    return digest.hexdigest()


def make_metric(
    name: str,
    label: str,
    fmt: str,
    down_is_good: bool | None,
    column: str | None = None,
    *,
    headline: bool = False,
) -> Metric:
    """A monthly registry metric read from fct_test.<column> (default: its name)."""
    return Metric(
        name=name,
        label=label,
        description="",
        type="simple",
        format=fmt,
        down_is_good=down_is_good,
        grain="month",
        mart_column=f"fct_test.{column or name}",
        definition="",
        headline=headline,
    )
