"""Bad raw data fails `dbt build` with a message naming the table and the column.

One build over a raw folder with defects in several tables: a missing file, a missing column, a
wrong type, duplicate ids, a negative price, an ended_at before its started_at, an unknown plan,
a NULL session id and a session of a user who does not exist. A table's checks run in one query
that lists every broken check, so defects in one table do not mask each other; a wrong type or a
missing column is reported alone, as the other checks cannot run on it. Every defect must appear
among the failures, and no finance mart may be built from the bad data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from jobmetrics.warehouse.dbt_invoke import DbtOutcome, run_dbt

pytestmark = pytest.mark.slow


def rewrite(path: Path, select: str) -> None:
    """Replace a Parquet file by `select ... from t` over its own rows."""
    connection = duckdb.connect()
    try:
        connection.execute(f"create table t as select * from read_parquet('{path}')")
        connection.execute(f"copy ({select}) to '{path}' (format parquet)")
    finally:
        connection.close()


@pytest.fixture(scope="module")
def bad_build(raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtOutcome, Path]:
    """`dbt build` over a copy of the small raw data set with one defect per table."""
    folder = tmp_path_factory.mktemp("bad_raw")
    raw = folder / "raw"
    shutil.copytree(raw_dir, raw)
    (raw / "raw_marketing_spend.parquet").unlink()
    rewrite(raw / "raw_scans.parquet", "select * exclude (processing_ms) from t")
    rewrite(
        raw / "raw_invoices.parquet",
        "select * replace (cast(amount_usd as varchar) as amount_usd) from t",
    )
    rewrite(raw / "raw_users.parquet", "select * from t union all (select * from t limit 1)")
    rewrite(
        raw / "raw_subscriptions.parquet",
        "select * replace ("
        " case when subscription_id = 3 then -price_usd else price_usd end as price_usd,"
        " case when subscription_id = 1 then started_at - interval 1 day else ended_at end"
        " as ended_at,"
        " case when subscription_id = 2 then 'gold' else plan end as plan) from t",
    )
    rewrite(
        raw / "raw_sessions.parquet",
        "select * replace ("
        " case when session_id = (select min(session_id) from t) then null else session_id end"
        " as session_id,"
        " case when session_id = (select max(session_id) from t) then 999999999 else user_id end"
        " as user_id) from t",
    )
    warehouse = folder / "bad.duckdb"
    outcome = run_dbt(
        ["build"],
        env={
            "JOBMETRICS_RAW_DIR": str(raw),
            "JOBMETRICS_WAREHOUSE": str(warehouse),
            "JOBMETRICS_BUILD_PATH": str(warehouse),
        },
    )
    return outcome, warehouse


def failures_about(outcome: DbtOutcome, *words: str) -> list[str]:
    return [line for line in outcome.failures if all(word in line for word in words)]


def test_bad_raw_data_fails_the_build(bad_build) -> None:
    outcome, _ = bad_build
    assert not outcome.success


def test_missing_file_names_the_file(bad_build) -> None:
    outcome, _ = bad_build
    assert failures_about(outcome, "No files found", "raw_marketing_spend.parquet")


def test_missing_column_names_table_and_column(bad_build) -> None:
    outcome, _ = bad_build
    assert failures_about(outcome, "raw_scans.processing_ms is missing")


def test_wrong_type_names_table_column_and_expected_type(bad_build) -> None:
    outcome, _ = bad_build
    assert failures_about(outcome, "raw_invoices.amount_usd is varchar, expected decimal(10,2)")


def test_duplicate_ids_name_table_and_column(bad_build) -> None:
    outcome, _ = bad_build
    assert failures_about(outcome, "raw_users.user_id: 1 row repeating a value (unique)")


def test_negative_price_names_table_and_column(bad_build) -> None:
    outcome, _ = bad_build
    assert failures_about(outcome, "raw_subscriptions.price_usd: 1 row below 0 (non_negative)")


def test_ended_before_started_names_table_and_columns(bad_build) -> None:
    outcome, _ = bad_build
    assert failures_about(
        outcome, "raw_subscriptions.ended_at: 1 row not later than started_at (later_than)"
    )


def test_null_key_names_table_and_column(bad_build) -> None:
    outcome, _ = bad_build
    assert failures_about(outcome, "raw_sessions.session_id: 1 row NULL (not_null)")


def test_unknown_enum_value_names_table_column_and_accepted_values(bad_build) -> None:
    outcome, _ = bad_build
    assert failures_about(
        outcome,
        "raw_subscriptions.plan: 1 row not in (basic, premium, professional) (accepted_values)",
    )


def test_broken_relationship_names_table_and_column(bad_build) -> None:
    outcome, _ = bad_build
    assert failures_about(
        outcome, "raw_sessions.user_id: 1 row not a user_id of raw_users (relationships)"
    )


def test_no_finance_mart_is_built_from_bad_data(bad_build) -> None:
    _, warehouse = bad_build
    # not read_only: dbt's in-process DuckDB instance for this file may still be cached, and
    # DuckDB only shares it with a connection of the same configuration
    connection = duckdb.connect(str(warehouse))
    try:
        rows = connection.execute("select table_name from duckdb_tables()").fetchall()
        tables = {row[0] for row in rows}
    finally:
        connection.close()
    assert not tables & {"fct_mrr_monthly", "fct_mrr_daily", "dim_customers", "fct_subscriptions"}
