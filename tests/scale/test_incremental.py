"""A nightly incremental build after more raw days equals a full refresh on the same data.

generate → full build → append_days(7) and late-arriving scans inside the lookback →
(a) incremental build of that warehouse, moved aside, (b) full refresh into a new file at the
same path → every table identical (EXCEPT both ways).

The data end on the first day of a month, so the late scans fall in the month before the newest
one: a model that re-aggregated only from its newest month (fct_scans_by_dimension,
fct_signup_cohort_activity) would keep that month's old figures.
"""

from __future__ import annotations

from datetime import date, timedelta
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

    manifest = append_days(raw, APPENDED_DAYS)
    add_late_scans(raw, LATE_SCANS_DAY, LATE_SCANS)
    results = dbt_build(raw, live, target)
    incremental = live.rename(folder / "incremental.duckdb")  # dbt's process has closed it
    dbt_build(raw, live, target, "--full-refresh")  # into a new file at the same path
    return {
        "incremental": incremental,
        "refreshed": live,
        "results": results,
        "manifest": manifest,
    }


def test_append_days_extends_the_data_set(builds: dict) -> None:
    manifest = builds["manifest"]
    assert manifest["data_end"] == (START + timedelta(days=DAYS + APPENDED_DAYS - 1)).isoformat()
    con = duckdb.connect(str(builds["incremental"]), read_only=True)
    last_scan, new_users = con.execute(
        "select (select max(scan_date) from fct_scans),"
        " (select count(*) from dim_customers where signup_date > ?)",
        [START + timedelta(days=DAYS - 1)],
    ).fetchone()
    assert last_scan == date.fromisoformat(manifest["data_end"])
    assert new_users > 0


def test_incremental_models_ran_incrementally(builds: dict) -> None:
    assert ran_incrementally(builds["results"]) == dict.fromkeys(INCREMENTAL_MODELS, True)


def test_incremental_build_equals_full_refresh(builds: dict) -> None:
    tables, differences = differing_tables(builds["incremental"], builds["refreshed"])
    assert set(INCREMENTAL_MODELS) <= set(tables)
    assert not differences, f"rows only in incremental / only in full refresh: {differences}"
