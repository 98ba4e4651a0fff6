"""A nightly incremental build after more raw days equals a full refresh on the same data.

generate → full build → append_days(7) → (a) incremental build of that warehouse, moved aside,
(b) full refresh into a new file at the same path → every table identical (EXCEPT both ways).
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
from scale_helpers import INCREMENTAL_MODELS, dbt_build, ran_incrementally

from jobmetrics.generator import generate
from jobmetrics.generator.append import append_days
from jobmetrics.warehouse.diff import differing_tables

pytestmark = pytest.mark.slow

USERS = 1_500
DAYS = 120
START = date(2025, 1, 1)
SEED = 5
APPENDED_DAYS = 7


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
