"""Safe rebuilds, what a build reads: a failing check, a changed model, another data set, the
same inputs, corrupt data or a full disk never damages the warehouse.

Each test starts from a copy of the session's built warehouse (tests/ops/conftest.py `live`) and
runs the installed `jobmetrics build` as a separate process, the way a user or a scheduler does.
The builds that are killed, run twice at once or meet a DuckDB CLI session are in
test_safe_rebuild.py (two files, so two test workers can run them side by side).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest
from ops_helpers import (
    JOBMETRICS,
    cli_env,
    copy_raw,
    leftovers,
    one_error_line,
    row_counts,
    run_cli,
    sha256,
)

pytestmark = pytest.mark.slow


def test_failing_test_keeps_the_old_warehouse(live: Path, raw_dir: Path, tmp_path: Path) -> None:
    """A raw file that breaks a dbt test (a duplicated user) fails the build, nothing swapped."""
    raw = copy_raw(raw_dir, tmp_path / "raw")
    users = raw / "raw_users.parquet"
    connection = duckdb.connect()
    connection.execute(f"create table t as select * from read_parquet('{users}')")
    connection.execute(
        f"copy (select * from t union all (select * from t limit 1)) to '{users}' (format parquet)"
    )
    connection.close()
    before_hash, before_rows = sha256(live), row_counts(live)

    result = run_cli("build", "--quiet", env=cli_env(raw, live))

    assert result.returncode == 2
    line = one_error_line(result)
    assert "unchanged" in line, line
    assert sha256(live) == before_hash
    assert row_counts(live) == before_rows
    assert leftovers(live) == []


def test_changed_incremental_columns_ask_for_a_full_refresh(live: Path, raw_dir: Path) -> None:
    """After an upgrade that changes an incremental model's columns (here: the live table has
    one more), the nightly build stops with what to run, and --full-refresh then succeeds."""
    connection = duckdb.connect(str(live))
    connection.execute("alter table fct_product_daily add column retired_measure double")
    connection.close()
    before_hash = sha256(live)
    env = cli_env(raw_dir, live)

    result = run_cli("build", "--quiet", env=env)

    assert result.returncode == 2
    line = one_error_line(result)
    assert "model.jobmetrics.fct_product_daily is incremental" in line, line
    assert "jobmetrics build --full-refresh" in line, line
    assert sha256(live) == before_hash
    assert leftovers(live) == []
    assert run_cli("build", "--quiet", "--full-refresh", env=env).returncode == 0
    connection = duckdb.connect(str(live), read_only=True)
    columns = [row[0] for row in connection.execute("describe fct_product_daily").fetchall()]
    connection.close()
    assert "retired_measure" not in columns


def test_build_extends_only_the_data_set_the_warehouse_was_built_from(
    live: Path, raw_dir: Path, tmp_path: Path
) -> None:
    """More days of the same data set: incremental. Another data set in the raw folder (here a
    new seed): a full build, or the older days of the event tables would keep the old data."""
    from jobmetrics.generator import append_days, generate

    raw = copy_raw(raw_dir, tmp_path / "raw")
    env = cli_env(raw, live)
    append_days(raw, 2)
    extended = json.loads(run_cli("build", "--json", env=env).stdout)
    assert extended["incremental"] is True and extended["full_build_reason"] is None

    replaced = generate(raw, users=300, days=60, start_date=date(2025, 3, 1), seed=8)
    rebuilt = json.loads(run_cli("build", "--json", env=env).stdout)
    assert rebuilt["incremental"] is False
    assert "another data set" in rebuilt["full_build_reason"]
    connection = duckdb.connect(str(live), read_only=True)
    scans, first_day = connection.execute(
        "select count(*), min(scan_date) from fct_scans"
    ).fetchone()
    connection.close()
    assert scans == replaced["row_counts"]["raw_scans"]
    assert first_day >= date(2025, 3, 1)


def test_a_build_with_nothing_changed_runs_no_dbt_and_rechecks_freshness(
    live: Path, raw_dir: Path, tmp_path: Path
) -> None:
    """Same raw files and dbt project as the live warehouse's build: nothing is rebuilt, only
    the sources' freshness (which changes with the clock) is checked again. A raw file written
    since (here only its modification time) builds again, incrementally: with the project
    unchanged, its views and seeds stay as the copied warehouse holds them, and the warehouse
    is the one a build of every node makes."""
    from jobmetrics.warehouse.diff import differing_tables

    raw = copy_raw(raw_dir, tmp_path / "raw")
    env = cli_env(raw, live)
    first = json.loads(run_cli("build", "--json", env=env).stdout)
    manifest = json.loads((live.parent / "target" / "manifest.json").read_text())
    data_build = [  # what `jobmetrics build` runs: every model, seed and data test
        uid for uid in manifest["nodes"] if uid.split(".")[0] in ("model", "seed", "test")
    ]
    views_and_seeds = [
        uid
        for uid in data_build
        if uid.startswith("seed.") or manifest["nodes"][uid]["config"]["materialized"] == "view"
    ]
    # another raw folder than the live warehouse's build: every node runs
    assert first["up_to_date"] is False and first["kept"] == 0
    assert first["nodes"] == len(data_build) > 90
    every_node = tmp_path / "every_node" / live.name
    every_node.parent.mkdir()
    shutil.copyfile(live, every_node)
    live_hash = sha256(live)
    sources = live.parent / "target" / "freshness" / "sources.json"
    checked_before = sources.stat().st_mtime_ns

    second = json.loads(run_cli("build", "--json", env=env).stdout)

    assert second["up_to_date"] is True and second["nodes"] == 0
    assert sha256(live) == live_hash
    assert sources.stat().st_mtime_ns > checked_before
    assert leftovers(live) == []

    users = raw / "raw_users.parquet"
    stat = users.stat()
    os.utime(users, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    third = json.loads(run_cli("build", "--json", env=env).stdout)
    assert third["up_to_date"] is False and third["incremental"] is True
    assert third["kept"] == len(views_and_seeds) > 10
    assert third["nodes"] == len(data_build) - len(views_and_seeds)
    # floats rounded: DuckDB adds them up in another order from run to run (warehouse/diff.py);
    # the build record differs by its digest of the raw files' modification times
    tables, differences = differing_tables(every_node, live, float_decimals=6)
    assert len(tables) > 40 and set(differences) == {"jobmetrics_build_info"}
    assert _views(live) == _views(every_node)


def _views(warehouse: Path) -> dict[str, tuple[str, int]]:
    """Each view's definition and its row count (every view still answers)."""
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = connection.execute(
            "select view_name, sql from duckdb_views() where not internal"
        ).fetchall()
        return {
            name: (sql, connection.execute(f'select count(*) from "{name}"').fetchone()[0])
            for name, sql in names
        }
    finally:
        connection.close()


def test_corrupt_data_pages_fail_the_build_and_keep_the_old_warehouse(
    live: Path, raw_dir: Path, tmp_path: Path
) -> None:
    """A Parquet file whose footer is intact (the schema check passes) but whose data is not."""
    raw = copy_raw(raw_dir, tmp_path / "raw")
    scans = raw / "raw_scans.parquet"
    data = bytearray(scans.read_bytes())
    middle = len(data) // 2
    data[middle - 4096 : middle + 4096] = b"\xff" * 8192
    scans.write_bytes(bytes(data))
    before_hash = sha256(live)

    result = run_cli("build", "--quiet", "--full-refresh", env=cli_env(raw, live))

    assert result.returncode == 2
    one_error_line(result)
    assert sha256(live) == before_hash
    assert leftovers(live) == []


def test_full_disk_keeps_the_old_warehouse(live: Path, raw_dir: Path) -> None:
    """Writes past a size limit fail (EFBIG, as on a full disk): the build stops cleanly."""
    limit = live.stat().st_size // 2
    before_hash, before_rows = sha256(live), row_counts(live)

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [str(JOBMETRICS), "build", "--quiet", "--full-refresh"],
        capture_output=True,
        text=True,
        env=cli_env(raw_dir, live),
        preexec_fn=small_disk,
        timeout=600,
    )

    assert result.returncode == 2, result.stderr
    assert "unchanged" in one_error_line(result)
    assert sha256(live) == before_hash
    assert row_counts(live) == before_rows
    assert leftovers(live) == []
