"""The finance marts keep their public column names, types and descriptions in DuckDB.

People write ad-hoc SQL against these names and read the descriptions with
`select comment from duckdb_columns()` in the DuckDB CLI (persist_docs).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

PUBLIC_COLUMNS: dict[str, set[str]] = {
    "dim_customers": {
        "user_id", "signed_up_at", "acquisition_channel", "segment", "country", "first_paid_at",
        "current_plan", "current_mrr", "lifetime_revenue_usd", "is_paying", "churned_at",
    },
    "fct_subscriptions": {
        "subscription_id", "user_id", "plan", "billing_cycle", "price_usd", "mrr",
        "started_at", "ended_at", "duration_days", "end_reason",
    },
    "fct_mrr_daily": {
        "date_day", "mrr", "arr", "paying_customers", "new_mrr", "expansion_mrr",
        "contraction_mrr", "churned_mrr", "reactivation_mrr",
    },
    "fct_customer_mrr_monthly": {
        "user_id", "month", "mrr", "previous_mrr", "mrr_change", "movement",
    },
    "fct_mrr_monthly": {
        "month", "starting_mrr", "new_mrr", "expansion_mrr", "reactivation_mrr",
        "contraction_mrr", "churned_mrr", "ending_mrr", "net_new_mrr", "arr",
        "paying_customers", "new_customers", "churned_customers", "reactivated_customers",
        "arpu", "logo_churn_rate", "gross_mrr_churn_rate", "net_mrr_churn_rate",
        "net_revenue_retention", "gross_revenue_retention", "quick_ratio", "mrr_growth_rate",
    },
}  # fmt: skip

MONEY_COLUMNS = {"mrr", "arr", "ending_mrr", "starting_mrr", "current_mrr", "new_mrr"}


@pytest.fixture(scope="module")
def columns(warehouse: Path) -> dict[str, dict[str, tuple[str, str | None]]]:
    """table -> column -> (data type, comment) for the finance marts."""
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = connection.execute(
            "select table_name, column_name, data_type, comment from duckdb_columns() "
            "where table_name in (select unnest(?::varchar[]))",
            [list(PUBLIC_COLUMNS)],
        ).fetchall()
    finally:
        connection.close()
    found: dict[str, dict[str, tuple[str, str | None]]] = {}
    for table, column, data_type, comment in rows:
        found.setdefault(table, {})[column] = (data_type, comment)
    return found


@pytest.mark.parametrize("table", sorted(PUBLIC_COLUMNS))
def test_mart_has_its_public_columns(columns, table: str) -> None:
    assert PUBLIC_COLUMNS[table] <= set(columns[table])


@pytest.mark.parametrize("table", sorted(PUBLIC_COLUMNS))
def test_every_mart_column_has_a_description_in_duckdb(columns, table: str) -> None:
    undocumented = [name for name, (_, comment) in columns[table].items() if not comment]
    assert undocumented == []


def test_money_is_decimal_and_rates_are_double(columns) -> None:
    for table, table_columns in columns.items():
        for name, (data_type, _) in table_columns.items():
            if name in MONEY_COLUMNS:
                assert data_type.startswith("DECIMAL"), (table, name, data_type)
            if name.endswith(("_rate", "_retention", "_ratio")):
                assert data_type == "DOUBLE", (table, name, data_type)
