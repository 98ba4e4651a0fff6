"""Shared constants and helpers of the generator tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

TABLES = (
    "raw_users",
    "raw_subscriptions",
    "raw_invoices",
    "raw_scans",
    "raw_sessions",
    "raw_marketing_spend",
)
# A window with January in the middle, so the job-hunt peak can be compared with its neighbours.
START = date(2025, 7, 1)
DAYS = 365
USERS = 3_000
SEED = 11


def open_raw(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per raw table of folder."""
    connection = duckdb.connect()
    for table in TABLES:
        path = str(folder / f"{table}.parquet").replace("'", "''")
        connection.execute(f"create view {table} as select * from read_parquet('{path}')")
    return connection


KEYS = {
    "raw_users": "user_id",
    "raw_users ": "email",
    "raw_subscriptions": "subscription_id",
    "raw_invoices": "invoice_id",
    "raw_scans": "scan_id",
    "raw_sessions": "session_id",
    "raw_marketing_spend": "spend_date, channel",
}
REFERENCES = (
    ("raw_subscriptions", "raw_users", "user_id"),
    ("raw_invoices", "raw_users", "user_id"),
    ("raw_invoices", "raw_subscriptions", "subscription_id"),
    ("raw_scans", "raw_users", "user_id"),
    ("raw_sessions", "raw_users", "user_id"),
)
EVENT_TIMES = {
    "raw_users": "signed_up_at",
    "raw_subscriptions": "started_at",
    "raw_invoices": "issued_at",
    "raw_scans": "scanned_at",
    "raw_sessions": "started_at",
}

# What must hold in any generated (or extended) data set. Each query counts violations;
# {start} and {end} are the first day and the day after the last, as SQL timestamps.
INVARIANTS: dict[str, str] = {
    **{
        f"unique {key} in {table.strip()}": (
            f"select (count(*) - count(distinct ({key}))) + (count(*) - count(({key}))) "
            f"from {table.strip()}"
        )
        for table, key in KEYS.items()
    },
    **{
        f"{child}.{key} exists in {parent}": (
            f"select count(*) from {child} c anti join {parent} p using ({key}) "
            f"where c.{key} is not null"
        )
        for child, parent, key in REFERENCES
    },
    **{
        f"{table}.{column} inside the window": (
            f"select count(*) from {table} where {column} < {{start}} or {column} >= {{end}}"
        )
        for table, column in EVENT_TIMES.items()
    },
    "subscriptions of a user never overlap": """
        select count(*)
        from raw_subscriptions a
        join raw_subscriptions b
          on a.user_id = b.user_id and a.subscription_id < b.subscription_id
         and a.started_at < coalesce(b.ended_at, {end})
         and b.started_at < coalesce(a.ended_at, {end})
    """,
    "subscriptions end after they start, before the data end, with a reason": """
        select count(*) from raw_subscriptions
        where ended_at <= started_at or ended_at >= {end}
           or (ended_at is null) <> (end_reason is null)
    """,
    "one invoice per billing period begun before the end, at the subscription price": """
        with expected as (
            select subscription_id, price_usd, started_at,
                   case billing_cycle when 'annual' then 12 else 1 end as months,
                   coalesce(ended_at, {end}) as stop
            from raw_subscriptions
        ),
        periods as (
            select e.subscription_id, e.price_usd, k,
                   e.started_at + to_months(k * e.months) as period_start,
                   e.started_at + to_months((k + 1) * e.months) as period_end
            from expected e, range(0, 400) r(k)
            where e.started_at + to_months(k * e.months) < e.stop
        ),
        compared as (
            select p.*, i.invoice_id, i.amount_usd, i.period_end as invoiced_end, i.issued_at
            from periods p
            full join raw_invoices i
              on i.subscription_id = p.subscription_id and i.period_start = p.period_start
        )
        select count(*) from compared
        where invoice_id is null or k is null or amount_usd <> price_usd
           or invoiced_end <> period_end or issued_at <> period_start
    """,
    "a payment_failed end follows exactly one failed invoice": """
        select count(*) from (
            select s.subscription_id, count(i.invoice_id) as failed
            from raw_subscriptions s
            left join raw_invoices i
              on i.subscription_id = s.subscription_id and i.status = 'failed'
             and i.issued_at < s.ended_at
            where s.end_reason = 'payment_failed'
            group by all
        ) where failed <> 1
    """,
    "failed invoices only on payment_failed subscriptions, ended by the last retry": """
        select count(*) from raw_invoices i join raw_subscriptions s using (subscription_id)
        where i.status = 'failed'
          and (s.end_reason is distinct from 'payment_failed'
               or s.ended_at not between i.issued_at + interval 21 day
                                     and i.issued_at + interval 22 day)
    """,
    "open invoices are the running subscriptions' last, issued under 22 days before the end": """
        select count(*) from raw_invoices i join raw_subscriptions s using (subscription_id)
        where i.status = 'open'
          and (s.ended_at is not null or i.issued_at < {end} - interval 22 day
               or i.period_start < (select max(period_start) from raw_invoices l
                                    where l.subscription_id = i.subscription_id))
    """,
    "attempt_count and paid_at agree with the status": """
        select count(*) from raw_invoices
        where attempt_count is null or attempt_count < 1 or attempt_count > 6
           or (status in ('paid', 'refunded')) <> (paid_at is not null)
           or (status = 'refunded' and attempt_count <> 1)
           or (status = 'failed' and attempt_count <> 6)
           or (status = 'open' and attempt_count = 6)
           or (status in ('paid', 'refunded') and (attempt_count = 1) <> (paid_at = issued_at))
           or paid_at >= issued_at + interval 22 day or paid_at >= {end}
    """,
    "a recovered invoice was paid while its subscription ran": """
        select count(*) from raw_invoices i join raw_subscriptions s using (subscription_id)
        where i.status = 'paid' and i.attempt_count > 1
          and (i.paid_at >= coalesce(s.ended_at, {end}) or i.period_start = s.started_at)
    """,
    "a refunded invoice covers the day its canceled subscription ended": """
        select count(*) from raw_invoices i join raw_subscriptions s using (subscription_id)
        where i.status = 'refunded'
          and not (s.end_reason = 'canceled' and i.period_start < s.ended_at
                   and s.ended_at < i.period_end)
    """,
    "sessions before signup are anonymous, after signup carry the user": """
        with visitor_of as (
            select distinct visitor_id, user_id from raw_sessions where user_id is not null
        )
        select count(*)
        from raw_sessions s
        join visitor_of v using (visitor_id)
        join raw_users u on u.user_id = v.user_id
        where (s.user_id is null and s.started_at >= u.signed_up_at)
           or (s.user_id is not null and s.started_at < u.signed_up_at)
    """,
    "a visitor belongs to at most one user": """
        select count(*) from (
            select visitor_id from raw_sessions where user_id is not null
            group by 1 having count(distinct user_id) > 1
        )
    """,
    "scans happen after signup": """
        select count(*) from raw_scans s join raw_users u using (user_id)
        where s.scanned_at <= u.signed_up_at
    """,
    "scans happen within two hours of a signed-in session start": """
        select count(*) from raw_scans c
        where not exists (
            select 1 from raw_sessions s
            where s.user_id = c.user_id and s.started_at <= c.scanned_at
              and s.started_at >= c.scanned_at - interval 2 hour
        )
    """,
    "failed scans have no match rate or keywords; values in range": """
        select count(*) from raw_scans
        where (status = 'failed') <> (match_rate is null)
           or (status = 'failed') <> (keywords_extracted is null)
           or match_rate not between 0 and 100 or processing_ms <= 0
    """,
    "marketing spend is positive": "select count(*) from raw_marketing_spend where spend_usd <= 0",
}


def violations(db: duckdb.DuckDBPyConnection, name: str, start: date, end: date) -> int:
    """How many rows break INVARIANTS[name] for data from start to end (exclusive)."""
    sql = INVARIANTS[name].format(start=f"timestamp '{start}'", end=f"timestamp '{end}'")
    return db.execute(sql).fetchone()[0]
