"""A nightly incremental build after more raw days equals a full refresh on the same data.

generate → full build → append_days(7), late-arriving scans and a corrected scan inside the
lookback → (a) incremental build of that warehouse, moved aside, (b) full refresh into a new
file at the same path → every table identical (EXCEPT both ways; DOUBLE columns to 9
decimals: an incremental table keeps its rows in another storage order than a full refresh
writes them in, and a DOUBLE sum or standard deviation over them can differ in its last bit,
as in fct_metric_anomalies).

The incremental build replaces only the re-selected days whose rows changed
(macros/incremental_replace_changed.sql): the days of the lookback that nothing changed keep
their stored rows, in place.

int_paid_customer_months re-selects whole months but replaces only the customers whose row
changed (its row_key): a customer month that is the same keeps its stored row, in place. Two of
its stored rows are spoiled before the nightly run (one figure changed, one row added for a
customer who does not exist): the run puts both right, as a full refresh has neither.

The data end on the first day of a month, so the late scans fall in the month before the newest
one: a model that re-aggregated only from its newest month (fct_scans_by_dimension,
fct_signup_cohort_activity) would keep that month's old figures.

The models that keep fingerprints of their input (macros/incremental_input_months.sql) skip
what did not change, on a smaller data set ending on a month's last day: fct_scans_by_dimension
leaves the previous month's stored rows as they are on the new month's first day and aggregates
it again after late scans in it; fct_funnel_monthly leaves a signup month whose users did not
change, marks the month that matures that night, and aggregates a five-month-old signup month
again when one of its users is linked to an earlier visit; fct_user_engagement does not
recompute a user active only on a day of the lookback that did not change; int_visitors does
not read the sessions of a lookback day that did not change again, and does read a day that
did, with no new day at all. The models incremental by month whose rows hold no day count
their lookback from the data end they keep (fct_cohort_retention from its newest month): a
marked row of a month before the lookback's stays as it is, and every month is rebuilt when
the stored rows no longer match a seed (plans, channels) or the slices with customers
(fct_mrr_monthly_by_dimension).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from scale_helpers import INCREMENTAL_MODELS, dbt_build, ran_incrementally

from jobmetrics.generator import generate
from jobmetrics.generator.append import append_days
from jobmetrics.warehouse.diff import differing_tables

pytestmark = pytest.mark.slow

USERS = 1_500
DAYS = 121  # 2025-01-01 to 2025-05-01
START = date(2025, 1, 1)
SEED = 5
APPENDED_DAYS = 7
LATE_SCANS_DAY = START + timedelta(days=DAYS - 2)  # 2025-04-30: within the 3-day lookback
LATE_SCANS = 25
CORRECTED_SCAN_DAY = LATE_SCANS_DAY - timedelta(days=1)  # 2025-04-29: a scan's figures corrected
LOOKBACK_START = START + timedelta(days=DAYS - 1 - 3)  # 2025-04-28: 3 days before the data end


def add_late_scans(raw: Path, day: date, count: int) -> None:
    """Scans that arrive after their day was built: copies of `count` of the day's scans (the
    same users, formats and categories) with new ids and twice the processing time."""
    path = raw / "raw_scans.parquet"
    scans = pq.read_table(path)
    on_day = scans.filter(pc.equal(pc.cast(scans["scanned_at"], pa.date32()), day)).slice(0, count)
    assert on_day.num_rows == count
    first_id = pc.max(scans["scan_id"]).as_py() + 1
    late = on_day.set_column(
        on_day.schema.get_field_index("scan_id"),
        "scan_id",
        pa.array(range(first_id, first_id + count), type=scans.schema.field("scan_id").type),
    ).set_column(
        on_day.schema.get_field_index("processing_ms"),
        "processing_ms",
        pc.multiply(on_day["processing_ms"], 2).cast(scans.schema.field("processing_ms").type),
    )
    pq.write_table(pa.concat_tables([scans, late]), path)


def correct_scan(raw: Path, day: date) -> int:
    """The first scan of `day` gets a new processing time, as a late correction would: the day
    keeps its number of scans. Returns the scan's id."""
    path = raw / "raw_scans.parquet"
    scans = pq.read_table(path)
    on_day = pc.equal(pc.cast(scans["scanned_at"], pa.date32()), day)
    first = pc.index(on_day, True).as_py()
    processing_ms = scans["processing_ms"].to_pylist()
    processing_ms[first] = (processing_ms[first] or 0) + 1_000
    corrected = scans.set_column(
        scans.schema.get_field_index("processing_ms"),
        "processing_ms",
        pa.array(processing_ms, type=scans.schema.field("processing_ms").type),
    )
    pq.write_table(corrected, path)
    return scans["scan_id"][first].as_py()


def query(warehouse: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    """The rows of one query on the warehouse file, opened read-only and closed again."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, parameters or []).fetchall()
    finally:
        con.close()


PAID_MONTHS_RESELECTED_FROM = date(2025, 4, 1)  # the month of 3 days before May's first day


def stored_paid_customer_months(warehouse: Path) -> list[tuple]:
    """The rows of int_paid_customer_months from PAID_MONTHS_RESELECTED_FROM on, every column,
    in the table's storage order (rowid)."""
    return query(
        warehouse,
        "select * from int_paid_customer_months where mrr_month >= ? order by rowid",
        [PAID_MONTHS_RESELECTED_FROM],
    )


def spoil_paid_customer_months(warehouse: Path) -> None:
    """One April row gets MRR it does not have, and a copy of another April row is added for a
    user who does not exist (-1)."""
    con = duckdb.connect(str(warehouse))
    try:
        april = [PAID_MONTHS_RESELECTED_FROM]
        (first, second) = con.execute(
            "select user_id from int_paid_customer_months where mrr_month = ?"
            " order by user_id limit 2",
            april,
        ).fetchall()
        con.execute(
            "update int_paid_customer_months set mrr = mrr + 1 where user_id = ? and mrr_month = ?",
            [first[0], *april],
        )
        con.execute(
            "insert into int_paid_customer_months select * replace (-1 as user_id)"
            " from int_paid_customer_months where user_id = ? and mrr_month = ?",
            [second[0], *april],
        )
    finally:
        con.close()


def stored_lookback_scans(warehouse: Path) -> list[tuple[int, date]]:
    """(scan_id, scan_date) of fct_scans from the lookback start on, in the table's storage
    order (rowid)."""
    return query(
        warehouse,
        "select scan_id, scan_date from fct_scans where scan_date >= ? order by rowid",
        [LOOKBACK_START],
    )


def stored_invoices(warehouse: Path) -> list[tuple[str, date, int]]:
    """(invoice_id, issued_date, a hash of the whole row) of fct_invoices, in the table's
    storage order (rowid)."""
    return query(
        warehouse,
        "select invoice_id, issued_date, hash(invoices) from fct_invoices as invoices"
        " order by rowid",
    )


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("incremental")
    raw = folder / "raw"
    generate(raw, users=USERS, days=DAYS, start_date=START, seed=SEED)
    # One warehouse path and one target folder for the three builds, as a nightly job has them:
    # dbt keys its saved parse on the profile, the warehouse path included, so the second and
    # third builds parse the project partially instead of from scratch.
    live, target = folder / "jobmetrics.duckdb", folder / "target"
    dbt_build(raw, live, target)
    stored_before = stored_lookback_scans(live)
    invoices_before = stored_invoices(live)
    spoil_paid_customer_months(live)
    paid_months_before = stored_paid_customer_months(live)

    manifest = append_days(raw, APPENDED_DAYS)
    add_late_scans(raw, LATE_SCANS_DAY, LATE_SCANS)
    corrected_scan_id = correct_scan(raw, CORRECTED_SCAN_DAY)
    results = dbt_build(raw, live, target)
    incremental = live.rename(folder / "incremental.duckdb")  # dbt's process has closed it
    dbt_build(raw, live, target, "--full-refresh")  # into a new file at the same path
    refreshed = live.rename(folder / "refreshed.duckdb")  # the path is free for `skips`
    return {
        "live": live,
        "target": target,
        "incremental": incremental,
        "refreshed": refreshed,
        "results": results,
        "manifest": manifest,
        "stored_before": stored_before,
        "paid_months_before": paid_months_before,
        "invoices_before": invoices_before,
        "corrected_scan_id": corrected_scan_id,
    }


def test_append_days_extends_the_data_set(builds: dict) -> None:
    manifest = builds["manifest"]
    assert manifest["data_end"] == (START + timedelta(days=DAYS + APPENDED_DAYS - 1)).isoformat()
    ((last_scan, new_users),) = query(
        builds["incremental"],
        "select (select max(scan_date) from fct_scans),"
        " (select count(*) from dim_customers where signup_date > ?)",
        [START + timedelta(days=DAYS - 1)],
    )
    assert last_scan == date.fromisoformat(manifest["data_end"])
    assert new_users > 0


def test_incremental_models_ran_incrementally(builds: dict) -> None:
    assert ran_incrementally(builds["results"]) == dict.fromkeys(INCREMENTAL_MODELS, True)


def test_incremental_build_equals_full_refresh(builds: dict) -> None:
    tables, differences = differing_tables(
        builds["incremental"], builds["refreshed"], float_decimals=9
    )
    assert set(INCREMENTAL_MODELS) <= set(tables)
    assert not differences, f"rows only in incremental / only in full refresh: {differences}"


def test_incremental_build_replaces_only_the_days_that_changed(builds: dict) -> None:
    changed_days = {LATE_SCANS_DAY, CORRECTED_SCAN_DAY}
    kept = [row for row in builds["stored_before"] if row[1] not in changed_days]
    # the lookback's other days: 2025-04-28 and the old data end, 2025-05-01
    assert {day for _, day in kept} == {LOOKBACK_START, START + timedelta(days=DAYS - 1)}
    stored_after = stored_lookback_scans(builds["incremental"])
    # delete+insert would have written every re-selected day again after the older rows
    assert stored_after[: len(kept)] == kept
    rewritten = stored_after[len(kept) :]
    assert {day for _, day in rewritten} == changed_days | {
        START + timedelta(days=DAYS - 1 + n) for n in range(1, APPENDED_DAYS + 1)
    }
    assert builds["corrected_scan_id"] in {scan_id for scan_id, _ in rewritten}


def test_invoices_are_written_again_only_on_the_days_that_changed(builds: dict) -> None:
    before = builds["invoices_before"]
    refreshed = stored_invoices(builds["refreshed"])
    # the issue days with a row only before or only in the full refresh: new invoices, and
    # older ones whose status or payment moved on (the build selects every day)
    changed_days = {day for _, day, _ in set(before) ^ set(refreshed)}
    new_days = {day for _, day, _ in refreshed} - {day for _, day, _ in before}
    assert new_days and changed_days - new_days, "days before the new ones changed too"
    kept = [row for row in before if row[1] not in changed_days]
    assert len(kept) > len(before) / 2
    after = stored_invoices(builds["incremental"])
    # rewriting every day would have written them all again, in another order
    assert after[: len(kept)] == kept
    assert {day for _, day, _ in after[len(kept) :]} == changed_days
    assert sorted(after) == sorted(refreshed)


def test_a_customer_month_that_did_not_change_keeps_its_stored_row(builds: dict) -> None:
    before = builds["paid_months_before"]
    after = stored_paid_customer_months(builds["incremental"])
    refreshed = stored_paid_customer_months(builds["refreshed"])
    # the stored rows a full refresh also writes, as they are: the unchanged customer months
    refreshed_rows = set(refreshed)
    kept = [row for row in before if row in refreshed_rows]
    assert len(before) - len(kept) >= 2  # the spoiled rows
    assert len(kept) > len(refreshed) / 2
    # delete+insert of each re-selected month would have written all its rows again
    assert after[: len(kept)] == kept
    rewritten = after[len(kept) :]
    assert sorted(rewritten) == sorted(refreshed_rows - set(kept))
    assert {row[1] for row in rewritten} >= {date(2025, 5, 1)}  # new and changed May rows
    assert all(row[0] != -1 for row in after)


SKIP_START = date(2024, 10, 1)
SKIP_DAYS = 151  # to 2025-02-28, a month's last day
FEBRUARY = date(2025, 2, 1)
OCTOBER = date(2024, 10, 1)  # its signups' windows closed by 2024-12-30
DECEMBER = date(2024, 12, 1)  # matures on the night of 2025-03-01 (60 days after its end)
# a day of the lookback of both nights (from 2025-02-25, then from 2025-02-26)
MARKED_DAY = date(2025, 2, 27)
SKIPPING_MODELS = [
    "--select",
    "+fct_scans_by_dimension +fct_funnel_monthly +fct_user_engagement"
    " +fct_signup_cohort_activity +fct_customer_mrr_monthly +fct_mrr_monthly_by_dimension"
    " +fct_channel_performance +fct_plan_performance +fct_cohort_retention",
]
# a row of each model incremental by month with no day in its rows, of a month its lookback on
# 2025-03-11 does not reach: (table, the row, the column marked), the row's every `?` a month.
# February for those that count their lookback from the data end they keep; January for
# fct_cohort_retention, which counts it from its newest month (2025-02-26: February again).
JANUARY = date(2025, 1, 1)
MONTH_ROWS = [
    (
        "int_customer_mrr_months",
        FEBRUARY,
        "month = ? and user_id ="
        " (select min(user_id) from int_customer_mrr_months where month = ?)",
        "mrr",
    ),
    (
        "fct_customer_mrr_monthly",
        FEBRUARY,
        "month = ? and user_id ="
        " (select min(user_id) from fct_customer_mrr_monthly where month = ?)",
        "mrr",
    ),
    (
        "int_paid_customer_months",
        FEBRUARY,
        "mrr_month = ? and user_id ="
        " (select min(user_id) from int_paid_customer_months where mrr_month = ?)",
        # not mrr: fct_cohort_retention aggregates February again, and would count the mark
        "mrr_change",
    ),
    (
        "fct_signup_cohort_activity",
        FEBRUARY,
        "activity_month = ? and signup_month = ? and dimension = 'all'",
        "active_users",
    ),
    ("fct_mrr_monthly_by_dimension", FEBRUARY, "month = ? and dimension = 'all'", "ending_mrr"),
    ("fct_channel_performance", FEBRUARY, "performance_month = ? and channel = 'all'", "signups"),
    (
        "fct_plan_performance",
        FEBRUARY,
        "performance_month = ? and plan = 'basic' and billing_cycle = 'monthly'",
        "customers",
    ),
    (
        "fct_cohort_retention",
        JANUARY,
        "mrr_month = ? and cohort_month = ? and dimension = 'all'",
        "retained_customers",
    ),
]


def month_rows(warehouse: Path) -> dict[date, tuple[int, int]]:
    """scan_month → (scans of its 'all' row in fct_scans_by_dimension, fct_scans rows that
    month, counted directly)."""
    rows = query(
        warehouse,
        """
        select by_dimension.scan_month, by_dimension.scans, (
            select count(*) from fct_scans
            where date_trunc('month', fct_scans.scan_date) = by_dimension.scan_month
        )
        from fct_scans_by_dimension as by_dimension
        where by_dimension.dimension = 'all'
        """,
    )
    return {month: (scans, counted) for month, scans, counted in rows}


def funnel_rows(warehouse: Path, month: date) -> dict[tuple[str, str, str], tuple]:
    """(dimension, dimension_value, stage) → (users, median hours, is_mature) of one month."""
    rows = query(
        warehouse,
        "select dimension, dimension_value, stage, users, median_hours_from_previous_stage,"
        " is_mature from fct_funnel_monthly where funnel_month = ?",
        [month],
    )
    return {row[:3]: row[3:] for row in rows}


def update(warehouse: Path, sql: str, parameters: list) -> None:
    """One statement that changes the warehouse file, committed and closed."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(sql, parameters)
    finally:
        con.close()


def quiet_user(warehouse: Path, raw: Path, data_end: date) -> int:
    """A user last active two days before the data end, a day of the lookback, and active
    neither on the days whose 30-day windows the next day moves nor on that next day (in the
    raw files, appended already)."""
    new_day = data_end + timedelta(days=1)
    active_on_new_day = {
        row["user_id"]
        for name, column in (("raw_sessions", "started_at"), ("raw_scans", "scanned_at"))
        for row in pq.read_table(raw / f"{name}.parquet", columns=["user_id", column]).to_pylist()
        if row[column].date() == new_day
    }
    candidates = query(
        warehouse,
        "select user_id from int_user_activity_days group by user_id"
        " having max(activity_date) = ? and count(*) filter (activity_date in (?, ?)) = 0",
        [
            data_end - timedelta(days=2),
            data_end - timedelta(days=29),
            data_end - timedelta(days=59),
        ],
    )
    return next(user for (user,) in candidates if user not in active_on_new_day)


def marked_visitor(warehouse: Path) -> tuple[str, str]:
    """A visitor of int_visitors whose sessions, in the raw files, are all on MARKED_DAY, and
    their device."""
    return query(
        warehouse,
        "select visitor_id, device from int_visitors where first_visit_date = ?"
        " and visitor_id not in (select visitor_id from stg_sessions"
        " where cast(started_at as date) != ?) order by visitor_id limit 1",
        [MARKED_DAY, MARKED_DAY],
    )[0]


def visitor_device(warehouse: Path, visitor_id: str) -> str:
    """The device of a visitor's row in int_visitors."""
    (row,) = query(warehouse, "select device from int_visitors where visitor_id = ?", [visitor_id])
    return row[0]


def month_values(warehouse: Path) -> dict[str, object]:
    """table → the marked column of its row of MONTH_ROWS."""
    return {
        table: query(
            warehouse, f"select {column} from {table} where {row}", [month] * row.count("?")
        )[0][0]
        for table, month, row, column in MONTH_ROWS
    }


def add_to_month_rows(warehouse: Path, amount: int) -> None:
    for table, month, row, column in MONTH_ROWS:
        update(
            warehouse,
            f"update {table} set {column} = {column} + ? where {row}",
            [amount, *[month] * row.count("?")],
        )


# what the stored rows of three monthly models are spoiled with before a nightly run: the rows
# of a seed or a slice that were as a seed or the data are not any more, as after a change of
# the seed (a plan ranked otherwise, a channel paid for or not) or of the customers in a slice
RANKED_OTHERWISE = ("basic", 99)
ZERO_SLICE = ("country", "nowhere")
DROPPED_SLICE = ("segment", "job_seeker")


def spoil_seed_and_slice_rows(warehouse: Path) -> str:
    """fct_plan_performance ranks a plan otherwise in every month, fct_channel_performance
    has another is_paid for a channel, fct_mrr_monthly_by_dimension gets a slice with zeros in
    every month and loses every row of another: each differs from its seed, or from the
    slices with customers, in the months a nightly run does not rebuild. Returns the channel."""
    plan, rank = RANKED_OTHERWISE
    update(warehouse, "update fct_plan_performance set plan_rank = ? where plan = ?", [rank, plan])
    ((channel,),) = query(warehouse, "select min(channel) from channels")
    update(
        warehouse,
        "update fct_channel_performance set is_paid = not is_paid where channel = ?",
        [channel],
    )
    dimension, value = ZERO_SLICE
    update(
        warehouse,
        "insert into fct_mrr_monthly_by_dimension select * replace (? as dimension, ? as"
        " dimension_value, 0 as starting_mrr, 0 as new_mrr, 0 as expansion_mrr,"
        " 0 as reactivation_mrr, 0 as contraction_mrr, 0 as churned_mrr, 0 as ending_mrr,"
        " 0 as net_new_mrr, 0 as starting_paying_customers, 0 as paying_customers,"
        " 0 as new_customers, 0 as churned_customers, 0 as reactivated_customers)"
        " from fct_mrr_monthly_by_dimension where dimension = 'all'",
        [dimension, value],
    )
    update(
        warehouse,
        "delete from fct_mrr_monthly_by_dimension where dimension = ? and dimension_value = ?",
        list(DROPPED_SLICE),
    )
    return channel


def seed_and_slice_rows(warehouse: Path, channel: str) -> dict[str, object]:
    """What spoil_seed_and_slice_rows changed, as the tables have it."""
    return {
        "plan_ranks": query(
            warehouse,
            "select distinct plan_rank from fct_plan_performance where plan = ?",
            [RANKED_OTHERWISE[0]],
        ),
        "seed_plan_ranks": query(
            warehouse, "select distinct plan_rank from plans where plan = ?", [RANKED_OTHERWISE[0]]
        ),
        "is_paid": query(
            warehouse,
            "select distinct is_paid from fct_channel_performance where channel = ?",
            [channel],
        ),
        "seed_is_paid": query(
            warehouse, "select is_paid from channels where channel = ?", [channel]
        ),
        "zero_slice_rows": query(
            warehouse,
            "select count(*) from fct_mrr_monthly_by_dimension"
            " where dimension = ? and dimension_value = ?",
            list(ZERO_SLICE),
        )[0][0],
        "dropped_slice_months": query(
            warehouse,
            "select count(*) from fct_mrr_monthly_by_dimension"
            " where dimension = ? and dimension_value = ?",
            list(DROPPED_SLICE),
        )[0][0],
        "months": query(
            warehouse, "select count(distinct month) from fct_mrr_monthly_by_dimension"
        )[0][0],
    }


def link_visitor_to_user(raw: Path, month: date, day: date) -> int:
    """A session on `day` in which an anonymous visitor who first came in `month` signs in as a
    user of that month who signed up later: the user's first visit moves back to the
    visitor's, long after they signed up. Returns the user's id."""
    sessions = pq.read_table(raw / "raw_sessions.parquet")
    users = pq.read_table(raw / "raw_users.parquet").to_pylist()
    first_sessions: dict[int, dict] = {}
    linked = set()
    for session in sessions.to_pylist():
        if session["user_id"] is not None:
            linked.add(session["visitor_id"])
        first = first_sessions.get(session["visitor_id"])
        if first is None or session["started_at"] < first["started_at"]:
            first_sessions[session["visitor_id"]] = session
    visitor = min(
        (
            first
            for visitor_id, first in first_sessions.items()
            if visitor_id not in linked and first["started_at"].date().replace(day=1) == month
        ),
        key=lambda first: first["started_at"],
    )
    user = max(
        (u for u in users if u["signed_up_at"].date().replace(day=1) == month),
        key=lambda u: u["signed_up_at"],
    )
    assert visitor["started_at"] < user["signed_up_at"]
    session = {
        **visitor,
        "session_id": pc.max(sessions["session_id"]).as_py() + 1,
        "user_id": user["user_id"],
        "started_at": datetime.combine(day, time(12)),
    }
    new = pa.Table.from_pylist([session], schema=sessions.schema)
    pq.write_table(pa.concat_tables([sessions, new]), raw / "raw_sessions.parquet")
    return user["user_id"]


@pytest.fixture(scope="module")
def skips(builds: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The models that skip what did not change, on one small data set: full build to
    2025-02-28, then stored rows marked: February's 'all' row of fct_scans_by_dimension
    (scans = -1), October's signups row of fct_funnel_monthly (users = -1) and the row of a user
    of fct_user_engagement active only on a lookback day (days_active + 1000), and the device
    of a visitor of int_visitors whose sessions are all on MARKED_DAY ('marked'). Nightly run
    on 2025-03-01; the user's and the visitor's marks taken off again; late scans on
    MARKED_DAY and a session on 2025-02-28 that links an anonymous October visitor to an
    October user; a nightly run again, with no new day; then a full refresh. At the warehouse
    path and with the target folder of `builds`, so dbt parses the project partially (the raw
    folder changed) instead of from scratch."""
    folder = tmp_path_factory.mktemp("skips")
    raw, live, target = folder / "raw", builds["live"], builds["target"]
    generate(raw, users=400, days=SKIP_DAYS, start_date=SKIP_START, seed=SEED)
    dbt_build(raw, live, target, *SKIPPING_MODELS)
    december_before = funnel_rows(live, DECEMBER)
    data_end = SKIP_START + timedelta(days=SKIP_DAYS - 1)
    append_days(raw, 1)
    user = quiet_user(live, raw, data_end)
    # a run that aggregates the month (recomputes the user) again writes the real figure
    update(
        live,
        "update fct_scans_by_dimension set scans = -1 where scan_month = ? and dimension = 'all'",
        [FEBRUARY],
    )
    update(
        live,
        "update fct_funnel_monthly set users = -1 where funnel_month = ?"
        " and dimension = 'all' and stage = 'signups'",
        [OCTOBER],
    )
    update(
        live,
        "update fct_user_engagement set days_active = days_active + 1000 where user_id = ?",
        [user],
    )
    visitor, device = marked_visitor(live)
    update(live, "update int_visitors set device = 'marked' where visitor_id = ?", [visitor])
    first = dbt_build(raw, live, target, *SKIPPING_MODELS)
    after_new_day = {
        "scans": month_rows(live),
        "funnel": {month: funnel_rows(live, month) for month in (OCTOBER, DECEMBER)},
        "user_days_active": query(
            live, "select days_active from fct_user_engagement where user_id = ?", [user]
        )[0][0],
        "visitor_device": visitor_device(live, visitor),
    }
    update(
        live,
        "update fct_user_engagement set days_active = days_active - 1000 where user_id = ?",
        [user],
    )
    update(live, "update int_visitors set device = ? where visitor_id = ?", [device, visitor])
    add_late_scans(raw, MARKED_DAY, 3)
    linked_user = link_visitor_to_user(raw, OCTOBER, data_end)
    dbt_build(raw, live, target, *SKIPPING_MODELS)
    after_late_data = {
        "scans": month_rows(live),
        "funnel": funnel_rows(live, OCTOBER),
        "linked_first_visit": query(
            live, "select first_visit_at from int_funnel_users where user_id = ?", [linked_user]
        )[0][0],
    }
    # to 2025-03-10 (three days before 2025-03-01 is in February), with seed and slice rows
    # spoiled; then one day more, with the MONTH_ROWS marked (+1000); the marks taken off again
    append_days(raw, 9)
    spoiled_channel = spoil_seed_and_slice_rows(live)
    dbt_build(raw, live, target, *SKIPPING_MODELS)
    after_spoiled_rows = seed_and_slice_rows(live, spoiled_channel)
    append_days(raw, 1)
    months_before = month_values(live)
    add_to_month_rows(live, 1000)
    dbt_build(raw, live, target, *SKIPPING_MODELS)
    months_after = month_values(live)
    add_to_month_rows(live, -1000)
    nightly = live.rename(folder / "nightly.duckdb")
    # the full refresh into a new file at the same path
    dbt_build(raw, live, target, *SKIPPING_MODELS, "--full-refresh")
    refreshed = live.rename(folder / "refreshed.duckdb")
    return {
        "first": first,
        "december_before": december_before,
        "after_new_day": after_new_day,
        "after_late_data": after_late_data,
        "nightly": nightly,
        "refreshed": refreshed,
        "after_spoiled_rows": after_spoiled_rows,
        "months_before": months_before,
        "months_after": months_after,
    }


def compiled_code(run_results: dict, model: str) -> str:
    (result,) = [r for r in run_results["results"] if r["unique_id"].endswith(f".{model}")]
    return result["compiled_code"]


KEPT_FINGERPRINTS = {
    "fct_scans_by_dimension": "input_months_of_fct_scans_by_dimension",
    "fct_funnel_monthly": "input_months_of_fct_funnel_monthly",
    "fct_user_engagement": "input_days_of_fct_user_engagement",
    "int_visitors": "input_days_of_int_visitors",
}


def test_the_skipping_models_ran_incrementally_with_their_fingerprints(skips: dict) -> None:
    models = tuple(KEPT_FINGERPRINTS)
    assert ran_incrementally(skips["first"], models) == dict.fromkeys(models, True)
    for model, kept in KEPT_FINGERPRINTS.items():
        assert kept in compiled_code(skips["first"], model)


def test_a_month_whose_scans_did_not_change_is_not_aggregated_again(skips: dict) -> None:
    # the lookback start, 2025-02-26, is in February, which a run without the kept
    # fingerprints aggregates again
    rows = skips["after_new_day"]["scans"]
    assert rows[FEBRUARY][0] == -1, "February's scans did not change, yet it was aggregated"
    march = date(2025, 3, 1)
    assert rows[march][0] == rows[march][1] > 0


def test_late_scans_in_a_month_get_it_aggregated_again(skips: dict) -> None:
    rows = skips["after_late_data"]["scans"]
    assert rows[FEBRUARY][0] == rows[FEBRUARY][1] > 0
    assert rows == {month: (counted, counted) for month, (_, counted) in rows.items()}


def test_a_funnel_month_whose_users_did_not_change_is_not_aggregated_again(skips: dict) -> None:
    october = skips["after_new_day"]["funnel"][OCTOBER]
    assert october["all", "all", "signups"][0] == -1, "October's users did not change"


def test_a_funnel_month_is_marked_mature_on_the_night_it_matures(skips: dict) -> None:
    before, after = skips["december_before"], skips["after_new_day"]["funnel"][DECEMBER]
    # 2025-02-28 is 59 days after December; 2025-03-01 the 60th
    assert {row[2] for row in before.values()} == {False}
    assert {row[2] for row in after.values()} == {True}
    assert {key: row[:2] for key, row in after.items()} == {
        key: row[:2] for key, row in before.items()
    }


def test_a_user_linked_to_an_earlier_visit_gets_their_signup_month_aggregated_again(
    skips: dict,
) -> None:
    # the session is on 2025-02-28, a day of the lookback, and no new day came: int_visitors
    # reads that day's sessions again because they changed
    assert skips["after_late_data"]["linked_first_visit"].date().replace(day=1) == OCTOBER
    assert skips["after_late_data"]["funnel"]["all", "all", "signups"][0] > 0


def test_users_of_lookback_days_that_did_not_change_are_not_recomputed(skips: dict) -> None:
    assert skips["after_new_day"]["user_days_active"] >= 1000, "the user's days did not change"


def test_sessions_of_lookback_days_that_did_not_change_are_not_read_again(skips: dict) -> None:
    # a run that read MARKED_DAY's sessions again would have written the visitor's device back
    assert skips["after_new_day"]["visitor_device"] == "marked"


def test_monthly_models_without_days_read_only_the_month_of_the_lookback(skips: dict) -> None:
    # on 2025-03-11 the lookback starts on 2025-03-07 (three days before the kept data end), in
    # March; from the newest month in the table it would start on 2025-02-26, in February
    before, after = skips["months_before"], skips["months_after"]
    assert after == {table: value + 1000 for table, value in before.items()}


def test_monthly_models_rebuild_every_month_when_a_seed_or_the_slices_changed(
    skips: dict,
) -> None:
    # the run on 2025-03-10 rebuilds from February (its lookback starts on 2025-02-26, three
    # days before the kept data end, 2025-03-01): the spoiled rows of January and before are
    # rebuilt too
    rows = skips["after_spoiled_rows"]
    assert rows["plan_ranks"] == rows["seed_plan_ranks"]
    assert rows["is_paid"] == rows["seed_is_paid"]
    assert rows["zero_slice_rows"] == 0
    assert rows["dropped_slice_months"] == rows["months"] > 3


def test_the_skipping_models_equal_a_full_refresh(skips: dict) -> None:
    tables, differences = differing_tables(skips["nightly"], skips["refreshed"], float_decimals=9)
    kept = {f"main_incremental_state.{table}" for table in KEPT_FINGERPRINTS.values()}
    assert set(KEPT_FINGERPRINTS) | kept <= set(tables)
    assert not differences, f"rows only in the nightly / only in the full refresh: {differences}"
