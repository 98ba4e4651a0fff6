"""append_days: a data set extended by more days keeps its past and stays consistent."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from gen_helpers import INVARIANTS, TABLES, open_raw, violations

from jobmetrics.generator import GeneratorError, generate
from jobmetrics.generator.append import append_days

START = date(2025, 7, 1)
DAYS = 150
EXTRA = 30
USERS = 2_000


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("before") / "raw"
    generate(out, users=USERS, days=DAYS, start_date=START, seed=3)
    return out


@pytest.fixture(scope="module")
def after(before: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("after") / "raw"
    shutil.copytree(before, out)
    append_days(out, EXTRA)
    return out


@pytest.fixture(scope="module")
def both(before: Path, after: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The extended data set as raw_* views, the original one in schema old."""
    connection = open_raw(after)
    connection.execute("create schema old")
    for table in TABLES:
        connection.execute(
            f"create view old.{table} as select * from read_parquet('{before}/{table}.parquet')"
        )
    yield connection
    connection.close()


def value(db: duckdb.DuckDBPyConnection, sql: str):
    return db.execute(sql).fetchone()[0]


@pytest.mark.parametrize("name", INVARIANTS)
def test_invariant_holds_after_appending(both, name: str) -> None:
    assert violations(both, name, START, START + timedelta(days=DAYS + EXTRA)) == 0


@pytest.mark.parametrize(
    "table", ["raw_users", "raw_invoices", "raw_scans", "raw_sessions", "raw_marketing_spend"]
)
def test_past_rows_are_kept_as_they_were(both, table: str) -> None:
    settled = "where status <> 'open'" if table == "raw_invoices" else ""
    old_rows = value(both, f"select count(*) from old.{table}")
    assert old_rows > 0
    changed = value(
        both,
        f"select count(*) from (select * from old.{table} {settled} except all "
        f"select * from {table} limit {old_rows})",
    )
    assert changed == 0
    assert value(both, f"select count(*) from {table}") > old_rows


def test_invoices_in_retries_at_the_old_end_are_settled_with_their_subscription(both) -> None:
    settled = both.execute(
        """
        select n.status, n.attempt_count >= o.attempt_count, s.end_reason,
               n.paid_at < coalesce(s.ended_at, n.paid_at + interval 1 day),
               n.issued_at + interval 21 day < s.ended_at
        from old.raw_invoices o
        join raw_invoices n using (invoice_id)
        join raw_subscriptions s on s.subscription_id = n.subscription_id
        where o.status = 'open'
          and (o.subscription_id, o.issued_at, o.amount_usd) = (n.subscription_id, n.issued_at,
                                                                n.amount_usd)
        """
    ).fetchall()
    still_open = value(both, "select count(*) from old.raw_invoices where status = 'open'")
    assert len(settled) == still_open
    assert settled, "some invoices should be in payment retries at the old end"
    for status, more_attempts, reason, paid_while_running, after_retries in settled:
        assert more_attempts
        if status == "paid":  # recovered: the subscription went on
            assert paid_while_running and reason != "payment_failed"
        elif status == "failed":  # every retry failed: involuntary churn at the last one
            assert reason == "payment_failed" and after_retries
        else:
            assert status == "open" and reason is None


def test_only_running_subscriptions_change_and_only_by_ending(both) -> None:
    changed = both.execute(
        """
        select o.ended_at, n.ended_at, n.end_reason
        from old.raw_subscriptions o join raw_subscriptions n using (subscription_id)
        where o.ended_at is distinct from n.ended_at or o.end_reason is distinct from n.end_reason
           or o.user_id <> n.user_id or o.plan <> n.plan or o.price_usd <> n.price_usd
           or o.started_at <> n.started_at
        """
    ).fetchall()
    assert changed, "some subscriptions running at the old end should end in 30 more days"
    data_end = f"{START + timedelta(days=DAYS)}"
    for old_end, new_end, reason in changed:
        assert old_end is None
        assert str(new_end) >= data_end and reason is not None


def test_the_business_goes_on(both) -> None:
    new_users, old_users_scanning, new_subscriptions, new_invoices = both.execute(
        f"""
        select
            (select count(*) from raw_users where signed_up_at >= date '{START + timedelta(DAYS)}'),
            (select count(distinct user_id) from raw_scans
              where scanned_at >= date '{START + timedelta(DAYS)}' and user_id <= {USERS}),
            (select count(*) from raw_subscriptions
              where started_at >= date '{START + timedelta(DAYS)}'),
            (select count(*) from raw_invoices
              where issued_at >= date '{START + timedelta(DAYS)}')
        """
    ).fetchone()
    last_month = value(
        both,
        f"select count(*) from old.raw_users "
        f"where signed_up_at >= date '{START + timedelta(DAYS - EXTRA)}'",
    )
    assert 0.9 * last_month < new_users < 1.6 * last_month  # growth goes on
    assert old_users_scanning > 0.1 * USERS
    assert new_subscriptions > 0 and new_invoices > 0


def test_manifest_records_the_extension(before: Path, after: Path, both) -> None:
    old = json.loads((before / "_manifest.json").read_text())
    new = json.loads((after / "_manifest.json").read_text())
    assert new["data_start"] == old["data_start"]
    assert new["data_end"] == (START + timedelta(days=DAYS + EXTRA - 1)).isoformat()
    assert new["parameters"] == old["parameters"]
    assert new["anomalies"] == old["anomalies"]
    assert new["appended_days"] == [EXTRA]
    for table in TABLES:
        assert new["row_counts"][table] == value(both, f"select count(*) from {table}")
    spend_days = value(both, "select count(distinct spend_date) from raw_marketing_spend")
    assert spend_days == DAYS + EXTRA


def test_appending_is_deterministic(before: Path, after: Path, tmp_path: Path) -> None:
    again = tmp_path / "raw"
    shutil.copytree(before, again)
    append_days(again, EXTRA)
    for path in after.iterdir():
        assert path.read_bytes() == (again / path.name).read_bytes(), path.name


def test_appending_twice_continues_the_ids(after: Path, tmp_path: Path) -> None:
    twice = tmp_path / "raw"
    shutil.copytree(after, twice)
    manifest = append_days(twice, 10)
    assert manifest["appended_days"] == [EXTRA, 10]
    db = open_raw(twice)
    assert violations(db, "unique session_id in raw_sessions", START, date(2100, 1, 1)) == 0
    assert (
        violations(
            db, "subscriptions of a user never overlap", START, START + timedelta(DAYS + EXTRA + 10)
        )
        == 0
    )


def test_append_needs_a_generated_folder_and_positive_days(tmp_path: Path, after: Path) -> None:
    with pytest.raises(GeneratorError, match="holds no _manifest.json"):
        append_days(tmp_path, 5)
    with pytest.raises(GeneratorError, match="days must be a positive whole number, got 0"):
        append_days(after, 0)
