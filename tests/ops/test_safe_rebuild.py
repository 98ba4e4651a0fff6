"""Safe rebuilds, builds that are stopped: a killed or concurrent build, a DuckDB CLI session on
the warehouse, or a generator writing the raw folder never damages the warehouse.

Each test starts from a copy of the session's built warehouse (tests/ops/conftest.py `live`) and
runs the installed `jobmetrics build` as a separate process, the way a user or a scheduler does.
A failed check, a changed model, another data set, corrupt data or a full disk: see
test_rebuild_inputs.py.
"""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from ops_helpers import (
    DUCKDB_CLI,
    cli_env,
    copy_raw,
    duckdb_cli_session,
    finish,
    leftovers,
    one_error_line,
    row_counts,
    run_cli,
    sha256,
    start_cli,
    start_cli_with,
)

from jobmetrics.cli import INTERRUPTED
from jobmetrics.warehouse.build import staging_path, wal_path

pytestmark = pytest.mark.slow


def wait_until_dbt_writes(live: Path, process: subprocess.Popen, timeout: float = 180) -> Path:
    """Block until the build's new database file exists and dbt is writing to it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wal = wal_path(staging_path(live))
        if wal.exists():
            return wal
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the build ended (exit {process.returncode}) before it wrote: {err}")
        time.sleep(0.02)
    process.kill()
    pytest.fail("the build never started writing its new database file")


def stop(process: subprocess.Popen, how: signal.Signals) -> subprocess.CompletedProcess:
    process.send_signal(how)
    return finish(process, timeout=120)


@pytest.mark.parametrize(
    "how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=lambda how: how.name
)
def test_killed_build_leaves_the_old_warehouse(
    how: signal.Signals, live: Path, raw_dir: Path
) -> None:
    before_hash, before_rows = sha256(live), row_counts(live)
    build = start_cli("build", "--quiet", env=cli_env(raw_dir, live))
    wait_until_dbt_writes(live, build)

    stopped = stop(build, how)

    assert stopped.returncode != 0
    assert sha256(live) == before_hash
    assert row_counts(live) == before_rows
    if how != signal.SIGKILL:
        # Ctrl-C or SIGTERM: the build cleans up after itself and says so in one line.
        assert stopped.returncode == INTERRUPTED
        line = one_error_line(stopped)
        assert f"interrupted by {how.name}" in line and "unchanged" in line, line
        assert "Traceback" not in stopped.stdout, stopped.stdout[-3000:]
        assert leftovers(live) == []


def test_second_concurrent_build_exits_2_and_a_killed_build_is_cleaned_up(
    live: Path, raw_dir: Path
) -> None:
    before_hash, before_rows = sha256(live), row_counts(live)
    env = cli_env(raw_dir, live)
    first = start_cli("build", "--quiet", env=env)
    wait_until_dbt_writes(live, first)

    second = run_cli(
        "build", "--quiet", env={**env, "DBT_TARGET_PATH": env["DBT_TARGET_PATH"] + "2"}
    )

    line = one_error_line(second)
    assert second.returncode == 2
    assert "another build" in line and str(live) in line, line
    assert sha256(live) == before_hash

    stop(first, signal.SIGKILL)
    assert leftovers(live), "a killed build leaves its unfinished file behind"

    # The lock died with the killed build: the next build runs, removes the leftovers, passes.
    third = run_cli("build", "--quiet", env=env)
    assert third.returncode == 0, third.stderr
    assert leftovers(live) == []
    assert row_counts(live) == before_rows


def test_open_cli_session_neither_blocks_nor_sees_the_rebuild(live: Path, tmp_path: Path) -> None:
    """A reader keeps its snapshot of the old file; new sessions open the new warehouse."""
    from jobmetrics.generator import generate

    smaller = tmp_path / "raw-small"
    generate(smaller, users=400, days=120, start_date=date(2025, 1, 1), seed=3)
    before = row_counts(live)
    reader = duckdb.connect(str(live), read_only=True)
    try:
        table = max(before, key=lambda name: before[name])
        count = f"select count(*) from {table}"
        assert reader.execute(count).fetchone()[0] == before[table]

        result = run_cli("build", "--quiet", "--full-refresh", env=cli_env(smaller, live))

        assert result.returncode == 0, result.stderr
        assert reader.execute(count).fetchone()[0] == before[table]
    finally:
        reader.close()
    fresh = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-csv", "-noheader", str(live), "-c", count],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert fresh.returncode == 0, fresh.stderr
    assert int(fresh.stdout.strip()) < before[table]


def test_writable_cli_session_on_the_live_file_stops_the_build(live: Path, raw_dir: Path) -> None:
    """A writable DuckDB CLI session would write its log beside the new file after the swap
    (every later reader replays it): the build refuses, names the session's pid, and keeps the
    old warehouse."""
    before_hash, before_rows = sha256(live), row_counts(live)
    with duckdb_cli_session(live) as pid:
        result = run_cli("build", "--quiet", env=cli_env(raw_dir, live))

        assert result.returncode == 2, result.stderr
        line = one_error_line(result)
        assert f"process {pid} (duckdb) has {live} open for writing" in line, line
        assert "-readonly" in line and "unchanged" in line, line
    assert sha256(live) == before_hash
    assert row_counts(live) == before_rows
    assert leftovers(live) == []


def test_read_only_cli_session_does_not_stop_the_build(live: Path, raw_dir: Path) -> None:
    before = row_counts(live)
    with duckdb_cli_session(live, "-readonly"):
        result = run_cli("build", "--quiet", env=cli_env(raw_dir, live))
        assert result.returncode == 0, result.stderr
    assert row_counts(live) == before
    assert leftovers(live) == []


# Sends SIGTERM to the build from inside `dbt docs generate` (after dbt build passed, before the
# swap), as its catalog query starts, and leaves a mark that it did.
SIGTERM_DURING_DOCS = """
import os, signal, time
from pathlib import Path
from dbt.adapters.base.impl import BaseAdapter
def terminating(catalog_query):
    def query(*args, **kwargs):
        Path(os.environ["MARK"]).write_text("catalog")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.3)
        return catalog_query(*args, **kwargs)
    return query
BaseAdapter._get_one_catalog = terminating(BaseAdapter._get_one_catalog)
BaseAdapter._get_one_catalog_by_relations = terminating(BaseAdapter._get_one_catalog_by_relations)
"""


def test_sigterm_during_dbt_docs_cancels_the_build(
    live: Path, raw_dir: Path, tmp_path: Path
) -> None:
    """The build passed but was terminated while making its docs page: nothing is swapped in."""
    mark = tmp_path / "mark"
    before_hash, before_rows = sha256(live), row_counts(live)

    result = finish(
        start_cli_with(
            SIGTERM_DURING_DOCS, "build", "--quiet", env=cli_env(raw_dir, live, MARK=str(mark))
        )
    )

    assert mark.read_text() == "catalog"
    assert result.returncode == INTERRUPTED, result.stderr
    line = one_error_line(result)
    assert "interrupted by SIGTERM" in line and "unchanged" in line, line
    assert sha256(live) == before_hash
    assert row_counts(live) == before_rows
    assert leftovers(live) == []


def test_generate_into_the_raw_folder_a_build_reads_exits_2(
    live: Path, raw_dir: Path, tmp_path: Path
) -> None:
    raw = copy_raw(raw_dir, tmp_path / "raw")
    before = {path.name: sha256(path) for path in raw.iterdir()}
    build = start_cli("build", "--quiet", env=cli_env(raw, live))
    wait_until_dbt_writes(live, build)

    generate = run_cli(
        "generate", "--users", "50", "--days", "10", "--out", str(raw), env=cli_env(raw, live)
    )

    assert generate.returncode == 2, generate.stderr
    line = one_error_line(generate)
    assert f"{raw} is in use by a build" in line and f"pid {build.pid}" in line, line
    assert {path.name: sha256(path) for path in raw.iterdir()} == before
    assert finish(build).returncode == 0


def test_build_of_a_raw_folder_being_generated_exits_2(
    live: Path, raw_dir: Path, tmp_path: Path
) -> None:
    from jobmetrics.core.locks import hold, raw_lock_path

    raw = copy_raw(raw_dir, tmp_path / "raw")
    before = sha256(live)
    # what `jobmetrics generate` holds while it writes the folder
    with hold(raw_lock_path(raw), shared=False, refuse=AssertionError):
        result = run_cli("build", "--quiet", env=cli_env(raw, live))

    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert f"{raw} is being written by `jobmetrics generate`" in line, line
    assert sha256(live) == before
