"""The raw data contract: files, columns and types, keys, references, subscription timelines."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from gen_helpers import DAYS, INVARIANTS, START, TABLES, USERS, violations

from jobmetrics.generator import generate

# The contract of issue 2, typed out independently of jobmetrics.core.contract on purpose.
EXPECTED_COLUMNS = {
    "raw_users": {
        "user_id": "BIGINT",
        "email": "VARCHAR",
        "full_name": "VARCHAR",
        "country": "VARCHAR",
        "segment": "VARCHAR",
        "acquisition_channel": "VARCHAR",
        "device": "VARCHAR",
        "signed_up_at": "TIMESTAMP",
    },
    "raw_subscriptions": {
        "subscription_id": "BIGINT",
        "user_id": "BIGINT",
        "plan": "VARCHAR",
        "billing_cycle": "VARCHAR",
        "price_usd": "DECIMAL(10,2)",
        "started_at": "TIMESTAMP",
        "ended_at": "TIMESTAMP",
        "end_reason": "VARCHAR",
    },
    "raw_invoices": {
        "invoice_id": "BIGINT",
        "subscription_id": "BIGINT",
        "user_id": "BIGINT",
        "issued_at": "TIMESTAMP",
        "period_start": "TIMESTAMP",
        "period_end": "TIMESTAMP",
        "amount_usd": "DECIMAL(10,2)",
        "status": "VARCHAR",
        "attempt_count": "INTEGER",
        "paid_at": "TIMESTAMP",
    },
    "raw_scans": {
        "scan_id": "BIGINT",
        "user_id": "BIGINT",
        "scanned_at": "TIMESTAMP",
        "match_rate": "DOUBLE",
        "processing_ms": "INTEGER",
        "keywords_extracted": "INTEGER",
        "resume_format": "VARCHAR",
        "job_category": "VARCHAR",
        "status": "VARCHAR",
    },
    "raw_sessions": {
        "session_id": "BIGINT",
        "visitor_id": "BIGINT",
        "user_id": "BIGINT",
        "started_at": "TIMESTAMP",
        "channel": "VARCHAR",
        "device": "VARCHAR",
        "landing_page": "VARCHAR",
    },
    "raw_marketing_spend": {
        "spend_date": "DATE",
        "channel": "VARCHAR",
        "spend_usd": "DECIMAL(10,2)",
    },
}
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
DATA_END = f"timestamp '{START + timedelta(days=DAYS)}'"


def rows(db: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return db.execute(sql).fetchall()


def value(db: duckdb.DuckDBPyConnection, sql: str):
    return db.execute(sql).fetchone()[0]


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_same_seed_and_parameters_give_identical_files(generated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, users=USERS, days=DAYS, start_date=START, seed=11)
    names = sorted(p.name for p in generated.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (generated / name).read_bytes() == (again / name).read_bytes(), name


def test_a_different_seed_gives_different_data(generated: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(other, users=USERS, days=DAYS, start_date=START, seed=12)
    for table in TABLES:
        assert (generated / f"{table}.parquet").read_bytes() != (
            other / f"{table}.parquet"
        ).read_bytes(), table
    first = duckdb.sql(f"select signed_up_at from '{generated}/raw_users.parquet' limit 50")
    second = duckdb.sql(f"select signed_up_at from '{other}/raw_users.parquet' limit 50")
    assert first.fetchall() != second.fetchall()


@pytest.mark.parametrize("table", TABLES)
def test_every_contract_column_has_its_type(gen_db: duckdb.DuckDBPyConnection, table: str) -> None:
    found = dict(rows(gen_db, f"select column_name, column_type from (describe {table})"))
    assert found == EXPECTED_COLUMNS[table]


def test_manifest_matches_the_files(gen_manifest: dict, gen_db, generated: Path) -> None:
    assert gen_manifest["data_start"] == START.isoformat()
    assert gen_manifest["data_end"] == (START + timedelta(days=DAYS - 1)).isoformat()
    assert gen_manifest["parameters"] == {
        "users": USERS,
        "days": DAYS,
        "start_date": START.isoformat(),
        "start_date_given": True,
        "seed": 11,
    }
    assert set(gen_manifest["row_counts"]) == set(TABLES)
    for table in TABLES:
        assert gen_manifest["row_counts"][table] == value(gen_db, f"select count(*) from {table}")
    assert gen_manifest["row_counts"]["raw_users"] == USERS
    leftovers = [p.name for p in generated.parent.iterdir() if p.name.startswith(".raw")]
    assert leftovers in ([], [".raw.lock"])  # the raw folder's lock may stay, no temporary folder


@pytest.mark.parametrize("name", INVARIANTS)
def test_invariant_holds(gen_db, name: str) -> None:
    assert violations(gen_db, name, START, START + timedelta(days=DAYS)) == 0


def test_some_subscriptions_run_past_the_end_and_some_invoices_fail_or_are_refunded(
    gen_db,
) -> None:
    running, failed, refunded = rows(
        gen_db,
        """
        select
            (select count(*) from raw_subscriptions where ended_at is null),
            (select count(*) from raw_invoices where status = 'failed'),
            (select count(*) from raw_invoices where status = 'refunded')
        """,
    )[0]
    assert running > 0 and failed > 0 and refunded > 0


def test_each_user_keeps_one_visitor(gen_db) -> None:
    one_visitor_per_user = value(
        gen_db,
        "select max(n) from (select user_id, count(distinct visitor_id) n from raw_sessions "
        "where user_id is not null group by 1)",
    )
    assert one_visitor_per_user == 1


def test_categorical_columns_use_the_documented_values(gen_db) -> None:
    channels = {row["channel"] for row in read_seed("channels.csv")}
    plans = {row["plan"] for row in read_seed("plans.csv")}
    expected = {
        ("raw_users", "segment"): {"job_seeker", "career_changer", "recent_graduate", "executive"},
        ("raw_users", "acquisition_channel"): channels,
        ("raw_users", "device"): {"desktop", "mobile"},
        ("raw_subscriptions", "plan"): plans,
        ("raw_subscriptions", "billing_cycle"): {"monthly", "annual"},
        ("raw_subscriptions", "end_reason"): {
            "canceled",
            "payment_failed",
            "upgraded",
            "downgraded",
        },
        ("raw_invoices", "status"): {"paid", "failed", "refunded", "open"},
        ("raw_scans", "resume_format"): {"pdf", "docx", "txt"},
        ("raw_scans", "status"): {"completed", "failed"},
        ("raw_sessions", "channel"): channels,
        ("raw_sessions", "device"): {"desktop", "mobile"},
    }
    for (table, column), allowed in expected.items():
        found = {r[0] for r in rows(gen_db, f"select distinct {column} from {table}")}
        assert found - {None} == allowed, (table, column)
    countries = {r[0] for r in rows(gen_db, "select distinct country from raw_users")}
    assert all(len(c) == 2 and c.isupper() for c in countries)
    assert len(countries) >= 10


def test_emails_look_like_addresses_and_names_have_two_parts(gen_db) -> None:
    bad = value(
        gen_db,
        "select count(*) from raw_users "
        "where not regexp_full_match(email, '[a-z]+\\.[a-z]+[0-9]+@[a-z]+\\.[a-z]+') "
        "or full_name not like '% %'",
    )
    assert bad == 0


def test_plan_changes_continue_at_the_same_instant_one_rank_away(gen_db) -> None:
    ranks = {row["plan"]: int(row["plan_rank"]) for row in read_seed("plans.csv")}
    changes = rows(
        gen_db,
        """
        select s.end_reason, s.plan, n.plan, n.started_at = s.ended_at
        from raw_subscriptions s
        left join raw_subscriptions n
          on n.user_id = s.user_id and n.started_at = s.ended_at
        where s.end_reason in ('upgraded', 'downgraded')
        """,
    )
    assert {c[0] for c in changes} == {"upgraded", "downgraded"}
    for reason, old, new, same_instant in changes:
        assert new is not None and same_instant
        assert ranks[new] - ranks[old] == (1 if reason == "upgraded" else -1)


def test_prices_are_catalogue_prices_after_an_optional_discount(gen_db) -> None:
    catalogue = {
        (row["plan"], row["billing_cycle"]): Decimal(row["list_price_usd"])
        for row in read_seed("plans.csv")
    }
    prices = rows(gen_db, "select distinct plan, billing_cycle, price_usd from raw_subscriptions")
    discounted = 0
    for plan, cycle, price in prices:
        listed = catalogue[(plan, cycle)]
        assert price in (listed, (listed * Decimal("0.8")).quantize(Decimal("0.01")))
        discounted += price != listed
    assert discounted > 0


def test_the_funnel_has_anonymous_visitors_and_a_visit_before_each_signup(gen_db) -> None:
    never_signed_up = value(
        gen_db,
        """
        select count(distinct visitor_id) from raw_sessions
        where visitor_id not in (
            select visitor_id from raw_sessions where user_id is not null
        )
        """,
    )
    assert never_signed_up > USERS
    # Every user's signup happens in a session that started shortly before it.
    without_signup_visit = value(
        gen_db,
        """
        select count(*) from raw_users u
        where not exists (
            select 1 from raw_sessions s
            where s.user_id is null and s.channel = u.acquisition_channel
              and s.started_at <= u.signed_up_at
              and s.started_at >= u.signed_up_at - interval 1 hour
              and s.visitor_id = (
                  select any_value(visitor_id) from raw_sessions x where x.user_id = u.user_id
              )
        )
        and exists (select 1 from raw_sessions x where x.user_id = u.user_id)
        """,
    )
    assert without_signup_visit == 0


def test_spend_only_for_paid_channels_every_day(gen_db) -> None:
    paid = {row["channel"] for row in read_seed("channels.csv") if row["is_paid"] == "true"}
    per_channel = dict(rows(gen_db, "select channel, count(*) from raw_marketing_spend group by 1"))
    assert set(per_channel) == paid
    assert set(per_channel.values()) == {DAYS}
    assert value(gen_db, "select min(spend_usd) from raw_marketing_spend") > 0


def test_default_start_date_ends_the_data_yesterday(tmp_path: Path) -> None:
    manifest = generate(tmp_path / "raw", users=50, days=30, seed=1)
    today = datetime.now(UTC).date()
    assert abs((date.fromisoformat(manifest["data_end"]) - today).days + 1) <= 1
    assert manifest["parameters"]["start_date_given"] is False
    assert json.loads((tmp_path / "raw" / "_manifest.json").read_text()) == manifest
