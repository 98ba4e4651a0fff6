"""The statistical shapes the reports show, and the injected anomalies, within tolerances."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pytest
from gen_helpers import DAYS, START

from jobmetrics.generator.anomalies import plan_anomalies
from jobmetrics.generator.timeline import Window


def rows(db: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return db.execute(sql).fetchall()


def value(db: duckdb.DuckDBPyConnection, sql: str):
    return db.execute(sql).fetchone()[0]


def daily(db: duckdb.DuckDBPyConnection, sql: str) -> dict[date, float]:
    """A query returning (day, value) rows as a dict."""
    return {day: float(v) for day, v in rows(db, sql)}


def test_fewer_signups_and_scans_at_weekends(gen_db) -> None:
    for table, column in (("raw_users", "signed_up_at"), ("raw_scans", "scanned_at")):
        weekend, weekday = rows(
            gen_db,
            f"""
            select
                count(*) filter (where isodow({column}) >= 6) / 2.0,
                count(*) filter (where isodow({column}) <= 5) / 5.0
            from {table}
            """,
        )[0]
        assert weekend < 0.85 * weekday, table


def test_january_job_hunt_peak(gen_db) -> None:
    per_day = daily(
        gen_db,
        "select date_trunc('month', signed_up_at)::date, count(*) / count(distinct "
        "signed_up_at::date) from raw_users group by 1",
    )
    january = per_day[date(2026, 1, 1)]
    neighbours = (per_day[date(2025, 11, 1)] + per_day[date(2026, 3, 1)]) / 2
    assert january > 1.15 * neighbours


def test_signups_grow_over_the_year(gen_db) -> None:
    first, last = rows(
        gen_db,
        f"""
        select
            count(*) filter (where signed_up_at < timestamp '{START}' + interval 90 day),
            count(*) filter (where signed_up_at >= timestamp '{START}' + interval {DAYS - 90} day)
        from raw_users
        """,
    )[0]
    assert last > 1.5 * first


def test_conversion_and_cac_depend_on_the_channel(gen_db) -> None:
    funnel = rows(
        gen_db,
        """
        with visitors as (
            select channel, count(distinct visitor_id) as visitors
            from raw_sessions
            where user_id is null
            group by 1
        ),
        signups as (
            select acquisition_channel as channel, count(*) as signups
            from raw_users group by 1
        ),
        spend as (
            select channel, sum(spend_usd) as spend_usd from raw_marketing_spend group by 1
        )
        select channel, signups / visitors, spend_usd / signups
        from visitors join signups using (channel) left join spend using (channel)
        """,
    )
    conversion = [rate for _, rate, _ in funnel]
    assert max(conversion) > 2.5 * min(conversion)
    cac = [c for _, _, c in funnel if c is not None]
    assert len(cac) == 3
    assert max(cac) > 1.2 * min(cac)


def test_paid_conversion_depends_on_the_channel(gen_db) -> None:
    rates = dict(
        rows(
            gen_db,
            """
            select acquisition_channel,
                   count(distinct s.user_id) / count(distinct u.user_id)
            from raw_users u left join raw_subscriptions s using (user_id)
            group by 1
            """,
        )
    )
    assert rates["referral"] > 1.8 * rates["paid_social"]


def test_annual_plans_churn_less_than_monthly(gen_db) -> None:
    churn = dict(
        rows(
            gen_db,
            f"""
            select billing_cycle,
                   count(*) filter (where end_reason in ('canceled', 'payment_failed'))
                   / sum(date_diff('day', started_at, coalesce(ended_at, {_end()})) / 30.44)
            from raw_subscriptions
            group by 1
            """,
        )
    )
    assert churn["annual"] < 0.5 * churn["monthly"]
    assert 0.03 < churn["monthly"] < 0.15


def _end() -> str:
    return f"timestamp '{START + timedelta(days=DAYS)}'"


def test_every_subscription_event_occurs(gen_db) -> None:
    reasons = dict(rows(gen_db, "select end_reason, count(*) from raw_subscriptions group by 1"))
    for reason in ("canceled", "payment_failed", "upgraded", "downgraded"):
        assert reasons.get(reason, 0) >= 3, reason
    reactivations = value(
        gen_db,
        """
        select count(*) from raw_subscriptions s
        where exists (
            select 1 from raw_subscriptions p
            where p.user_id = s.user_id and p.end_reason in ('canceled', 'payment_failed')
              and p.ended_at < s.started_at
        )
        and not exists (
            select 1 from raw_subscriptions p
            where p.user_id = s.user_id and p.ended_at = s.started_at
        )
        """,
    )
    assert reactivations >= 3
    statuses = dict(rows(gen_db, "select status, count(*) from raw_invoices group by 1"))
    assert statuses.get("failed", 0) >= 3
    assert statuses.get("refunded", 0) >= 1


def test_scan_distributions(gen_db) -> None:
    mean_match, p50, p99, failure_rate = rows(
        gen_db,
        """
        select avg(match_rate), quantile_cont(processing_ms, 0.5),
               quantile_cont(processing_ms, 0.99), avg((status = 'failed')::int)
        from raw_scans
        """,
    )[0]
    assert 52 < mean_match < 66  # Beta(5, 3.5) × 100 has mean 58.8
    assert p99 / p50 > 4  # lognormal, heavy right tail
    assert 0.02 < failure_rate < 0.04
    # Keywords are Poisson within a job category: variance ≈ mean.
    for category, mean, variance, n in rows(
        gen_db,
        """
        select job_category, avg(keywords_extracted), var_samp(keywords_extracted), count(*)
        from raw_scans where status = 'completed' group by 1
        """,
    ):
        assert n > 500, category
        assert 0.85 < variance / mean < 1.15, category


def test_match_rates_are_beta_shaped(gen_db) -> None:
    values = np.array([r[0] for r in rows(gen_db, "select match_rate from raw_scans")], float)
    values = values[~np.isnan(values)] / 100
    mean, var = values.mean(), values.var()
    # Method-of-moments Beta parameters land near the generator's (5, 3.5).
    common = mean * (1 - mean) / var - 1
    assert 4 < mean * common < 6
    assert 2.8 < (1 - mean) * common < 4.2


def test_paying_users_scan_more(gen_db) -> None:
    paid, free = rows(
        gen_db,
        """
        with paying as (select distinct user_id from raw_subscriptions)
        select
            count(*) filter (where user_id in (select user_id from paying))
                / (select count(*) from paying),
            count(*) filter (where user_id not in (select user_id from paying))
                / ((select count(*) from raw_users) - (select count(*) from paying))
        from raw_scans
        """,
    )[0]
    assert paid > 2 * free


def test_spend_follows_paid_visits(gen_db) -> None:
    correlation = value(
        gen_db,
        """
        with visits as (
            select started_at::date as day, channel, count(*) as visits
            from raw_sessions where user_id is null group by 1, 2
        )
        select corr(s.spend_usd, v.visits)
        from raw_marketing_spend s join visits v on v.day = s.spend_date and v.channel = s.channel
        where s.channel = 'paid_search'
        """,
    )
    assert correlation > 0.7


# --- injected anomalies -------------------------------------------------------------------


def _by_name(manifest: dict) -> dict[str, dict]:
    return {a["name"]: a for a in manifest["anomalies"]}


def test_manifest_lists_three_anomalies_apart_and_after_the_first_60_days(gen_manifest) -> None:
    anomalies = gen_manifest["anomalies"]
    assert len(anomalies) >= 3
    days = sorted(date.fromisoformat(a["date"]) for a in anomalies)
    assert days[0] >= START + timedelta(days=60)
    assert days[-1] < START + timedelta(days=DAYS)
    assert all((b - a).days >= 14 for a, b in zip(days, days[1:], strict=False))
    for anomaly in anomalies:
        assert set(anomaly) >= {"name", "metric", "date", "direction", "dimension", "description"}
        assert anomaly["direction"] in ("up", "down")


@pytest.mark.parametrize("days", [120, 200, 365, 730])
def test_anomalies_exist_for_any_window_of_120_days_or_more(days: int) -> None:
    window = Window(date(2024, 3, 5), days)
    planned = plan_anomalies(window)
    assert len(planned) == 3
    offsets = sorted((a.day - window.start).days for a in planned)
    assert offsets[0] >= 60
    assert offsets[-1] < days
    assert min(b - a for a, b in zip(offsets, offsets[1:], strict=False)) >= 14


def test_short_windows_get_no_anomalies() -> None:
    assert plan_anomalies(Window(date(2024, 3, 5), 119)) == []


def _around(series: dict[date, float], day: date) -> list[float]:
    """The values of the 28 days before day (missing days count as zero)."""
    return [series.get(day - timedelta(days=k), 0.0) for k in range(1, 29)]


def test_processing_incident_is_visible_on_its_day(gen_db, gen_manifest) -> None:
    day = date.fromisoformat(_by_name(gen_manifest)["processing_incident"]["date"])
    p95 = daily(
        gen_db,
        "select scanned_at::date, quantile_cont(processing_ms, 0.95) from raw_scans group by 1",
    )
    others = [v for d, v in p95.items() if d != day]
    assert p95[day] > 3 * np.median(others)
    assert p95[day] > 2 * max(others)


def test_churn_spike_is_visible_on_its_day(gen_db, gen_manifest) -> None:
    day = date.fromisoformat(_by_name(gen_manifest)["churn_spike"]["date"])
    churned = daily(
        gen_db,
        """
        select ended_at::date,
               sum(price_usd / case billing_cycle when 'annual' then 12 else 1 end)
        from raw_subscriptions where end_reason in ('canceled', 'payment_failed')
        group by 1
        """,
    )
    before = _around(churned, day)
    assert churned[day] > 5 * np.mean(before)
    assert churned[day] > 1.5 * max(v for d, v in churned.items() if d != day)


def test_signup_drop_is_visible_on_its_day(gen_db, gen_manifest) -> None:
    anomaly = _by_name(gen_manifest)["signup_drop"]
    day = date.fromisoformat(anomaly["date"])
    channel = anomaly["dimension"]["acquisition_channel"]
    assert anomaly["metric"] == f"signups__{channel}"
    signups = daily(
        gen_db,
        f"select signed_up_at::date, count(*) from raw_users "
        f"where acquisition_channel = '{channel}' group by 1",
    )
    same_weekday = [signups.get(day - timedelta(weeks=k), 0.0) for k in range(1, 5)]
    assert signups.get(day, 0.0) <= 0.3 * np.median(same_weekday)
    visits = daily(
        gen_db,
        f"select started_at::date, count(*) from raw_sessions "
        f"where user_id is null and channel = '{channel}' group by 1",
    )
    assert visits[day] > 0.7 * np.median([visits[day - timedelta(weeks=k)] for k in range(1, 5)])


def test_manifest_effects_match_the_raw_data(gen_db, gen_manifest) -> None:
    anomalies = _by_name(gen_manifest)
    drop = anomalies["signup_drop"]
    channel = drop["dimension"]["acquisition_channel"]
    actual = value(
        gen_db,
        f"select count(*) from raw_users where acquisition_channel = '{channel}' "
        f"and signed_up_at::date = date '{drop['date']}'",
    )
    assert drop["effect"]["actual_signups"] == actual
    assert drop["effect"]["expected_signups"] > 3 * max(actual, 0.5)

    spike = anomalies["churn_spike"]
    canceled_that_day = value(
        gen_db,
        f"select count(*) from raw_subscriptions where end_reason = 'canceled' "
        f"and ended_at::date = date '{spike['date']}'",
    )
    assert 0 < spike["effect"]["subscriptions_canceled"] <= canceled_that_day
    assert spike["effect"]["mrr_usd"] > 0

    incident = anomalies["processing_incident"]
    scans_that_day = value(
        gen_db, f"select count(*) from raw_scans where scanned_at::date = date '{incident['date']}'"
    )
    assert incident["effect"]["scans_affected"] == scans_that_day


@pytest.fixture(scope="module")
def payments_db(tmp_path_factory: pytest.TempPathFactory):
    """A larger data set (30,000 users × 365 days) so that a few hundred renewals fail."""
    from gen_helpers import open_raw

    from jobmetrics.generator import generate

    out = tmp_path_factory.mktemp("payments") / "raw"
    generate(out, users=30_000, days=365, start_date=START, seed=5)
    connection = open_raw(out)
    yield connection
    connection.close()


def test_failed_renewals_are_mostly_recovered_within_a_week(payments_db) -> None:
    """assumptions.py: 4 % of monthly (8 % of annual) renewals fail at the first attempt and
    PAYMENT_RECOVERY = 62 % of those are recovered, 80 % of them by the retry on day 7."""
    renewals, failed, recovered, lost, within_a_week = rows(
        payments_db,
        """
        with invoices as (
            select *, period_start > min(period_start) over (partition by subscription_id)
                as is_renewal
            from raw_invoices
        )
        select
            count(*) filter (where is_renewal),
            count(*) filter (where attempt_count > 1 or status in ('failed', 'open')),
            count(*) filter (where status = 'paid' and attempt_count > 1),
            count(*) filter (where status = 'failed'),
            count(*) filter (where status = 'paid' and attempt_count > 1
                             and paid_at < issued_at + interval 8 day)
        from invoices
        """,
    )[0]
    assert 0.03 < failed / renewals < 0.06
    assert 0.55 < recovered / (recovered + lost) < 0.75
    assert 0.7 < within_a_week / recovered < 0.9
