"""Bad input to `jobmetrics build`: one clear line, exit code 2, previous warehouse untouched."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from ops_helpers import cli_env, copy_raw, leftovers, one_error_line, row_counts, run_cli, sha256

from jobmetrics.generator import GENERATOR_VERSION, generate

USERS, DAYS, SEED = 300, 60, 11
START = "2025-01-01"


@pytest.fixture(scope="module")
def good_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small valid raw folder (300 users × 60 days)."""
    from datetime import date

    out = tmp_path_factory.mktemp("good") / "raw"
    generate(out, users=USERS, days=DAYS, start_date=date.fromisoformat(START), seed=SEED)
    return out


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    """A warehouse that a previous build left (its content only has to survive)."""
    folder = tmp_path / "data"
    folder.mkdir()
    warehouse = folder / "jobmetrics.duckdb"
    connection = duckdb.connect(str(warehouse))
    connection.execute("create table fct_mrr_monthly as select range as id from range(123)")
    connection.close()
    return warehouse


def rewrite(path: Path, select: str) -> None:
    """Replace a Parquet file by `select ... from t` over its own rows (types kept)."""
    connection = duckdb.connect()
    connection.execute(f"create table t as select * from read_parquet('{path}')")
    connection.execute(f"copy ({select}) to '{path}' (format parquet)")
    connection.close()


def truncate(raw: Path) -> str:
    path = raw / "raw_scans.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return str(path)


def garbage(raw: Path) -> str:
    path = raw / "raw_users.parquet"
    path.write_bytes(b"this is not a parquet file\n" * 100)
    return str(path)


def empty(raw: Path) -> str:
    for path in raw.iterdir():
        path.unlink()
    return str(raw)


def extra_column(raw: Path) -> str:
    rewrite(raw / "raw_users.parquet", "select *, 'x' as nickname from t")
    return "nickname"


def missing_column(raw: Path) -> str:
    rewrite(raw / "raw_sessions.parquet", "select * exclude (landing_page) from t")
    return "landing_page"


def wrong_type(raw: Path) -> str:
    rewrite(
        raw / "raw_invoices.parquet",
        "select * replace (cast(amount_usd as double) as amount_usd) from t",
    )
    return "amount_usd"


def missing_table(raw: Path) -> str:
    (raw / "raw_marketing_spend.parquet").unlink()
    return "raw_marketing_spend.parquet"


def older_generator(raw: Path) -> str:
    manifest_path = raw / "_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    major = int(GENERATOR_VERSION.split(".")[0])
    manifest["generator_version"] = f"{major - 1}.9.0"
    manifest_path.write_text(json.dumps(manifest))
    return f"{major - 1}.9.0"


def invoices_before_payment_retries(raw: Path) -> str:
    """A raw folder of generator 1.x: raw_invoices without attempt_count and paid_at."""
    rewrite(raw / "raw_invoices.parquet", "select * exclude (attempt_count, paid_at) from t")
    manifest_path = raw / "_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["generator_version"] = "1.0.0"
    manifest_path.write_text(json.dumps(manifest))
    return "written by generator version 1.0.0"


def no_manifest(raw: Path) -> str:
    (raw / "_manifest.json").unlink()
    return "_manifest.json"


def broken_manifest(raw: Path) -> str:
    (raw / "_manifest.json").write_text("{not json")
    return "_manifest.json"


def set_event_time(path: Path, id_column: str, column: str, value: str) -> str:
    """Date the first row's event `value`; returns how the error must name it."""
    connection = duckdb.connect()
    first = connection.execute(f"select min({id_column}) from read_parquet('{path}')").fetchone()[0]
    connection.close()
    rewrite(
        path,
        f"select * replace (case when {id_column} = {first} then timestamp '{value}' "
        f"else {column} end as {column}) from t",
    )
    return f"{path.name}: {column} of row {id_column}={first} is {value}"


def scan_in_2999(raw: Path) -> str:
    return set_event_time(raw / "raw_scans.parquet", "scan_id", "scanned_at", "2999-01-01 00:00:00")


def session_in_1970(raw: Path) -> str:
    return set_event_time(
        raw / "raw_sessions.parquet", "session_id", "started_at", "1970-01-01 00:00:00"
    )


DAMAGE: dict[str, Callable[[Path], str]] = {
    "truncated parquet": truncate,
    "not parquet at all": garbage,
    "empty raw folder": empty,
    "extra column": extra_column,
    "missing column": missing_column,
    "column of the wrong type": wrong_type,
    "missing raw table": missing_table,
    "older generator version": older_generator,
    "invoices of generator 1 (no payment attempts)": invoices_before_payment_retries,
    "no manifest": no_manifest,
    "manifest not json": broken_manifest,
    "scan dated 2999": scan_in_2999,
    "session dated 1970": session_in_1970,
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_bad_raw_folder_is_one_line_exit_2_and_keeps_the_warehouse(
    case: str, good_raw: Path, previous: Path, tmp_path: Path
) -> None:
    raw = copy_raw(good_raw, tmp_path / "raw")
    named = DAMAGE[case](raw)
    before_hash, before_rows = sha256(previous), row_counts(previous)

    result = run_cli("build", "--quiet", env=cli_env(raw, previous))

    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert named in line, line
    assert sha256(previous) == before_hash
    assert row_counts(previous) == before_rows
    assert leftovers(previous) == []


def test_raw_folder_that_does_not_exist(previous: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-raw"
    before = sha256(previous)
    result = run_cli("build", "--quiet", env=cli_env(missing, previous))
    assert result.returncode == 2
    assert str(missing) in one_error_line(result)
    assert sha256(previous) == before


def test_warehouse_in_a_folder_that_does_not_exist(good_raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "not" / "there" / "jobmetrics.duckdb"
    env = cli_env(good_raw, warehouse, DBT_TARGET_PATH=str(tmp_path / "target"))
    result = run_cli("build", "--quiet", env=env)
    assert result.returncode == 2
    assert str(warehouse.parent) in one_error_line(result)
    assert not (tmp_path / "not").exists()


def test_warehouse_path_that_is_a_folder(good_raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "data" / "jobmetrics.duckdb"
    warehouse.mkdir(parents=True)
    result = run_cli("build", "--quiet", env=cli_env(good_raw, warehouse))
    assert result.returncode == 2
    assert str(warehouse) in one_error_line(result)
    assert warehouse.is_dir() and not any(warehouse.iterdir())


@pytest.mark.slow
def test_warehouse_file_that_is_not_a_database(good_raw: Path, tmp_path: Path) -> None:
    """A damaged live file is reported, not silently replaced or half-copied."""
    warehouse = tmp_path / "data" / "jobmetrics.duckdb"
    warehouse.parent.mkdir()
    warehouse.write_bytes(b"not a duckdb database\n" * 10)
    before = sha256(warehouse)
    result = run_cli("build", "--quiet", env=cli_env(good_raw, warehouse))
    assert result.returncode == 2
    assert str(warehouse) in one_error_line(result)
    assert sha256(warehouse) == before
    assert leftovers(warehouse) == []


def test_event_window_can_be_widened(good_raw: Path, previous: Path, tmp_path: Path) -> None:
    """A data set that really starts earlier than the window (the first signup minus
    JOBMETRICS_EVENT_MARGIN_DAYS) is refused, and builds once JOBMETRICS_EVENTS_FROM says so.

    A year early rather than in 1970: the build covers every day from the earliest event, and
    55 years of days made this one build take most of a minute."""
    raw = copy_raw(good_raw, tmp_path / "raw")
    named = set_event_time(
        raw / "raw_sessions.parquet", "session_id", "started_at", "2024-01-01 00:00:00"
    )
    refused = run_cli("build", "--quiet", env=cli_env(raw, previous))
    assert refused.returncode == 2, refused.stderr
    assert named in one_error_line(refused)
    env = cli_env(raw, previous, JOBMETRICS_EVENTS_FROM="2024-01-01")
    result = run_cli("build", "--quiet", "--json", env=env)
    assert "started_at" not in result.stderr
    assert result.returncode == 0, result.stderr


BAD_SETTINGS = {
    "JOBMETRICS_MEMORY_LIMIT": ("lots", "a size such as 8GB"),
    "JOBMETRICS_THREADS": ("0", "a whole number of at least 1"),
    "JOBMETRICS_DUCKDB_THREADS": ("abc", "a whole number of at least 1"),
    "JOBMETRICS_AI_TIMEOUT_S": ("nan", "a number above 0"),
    "JOBMETRICS_AI_MAX_RETRIES": ("-1", "a whole number of at least 0"),
    "JOBMETRICS_AI_BUDGET_S": ("0", "a number above 0"),
    "JOBMETRICS_AI_BREAKER_FAILURES": ("0", "a whole number of at least 1"),
    "JOBMETRICS_ASK_ROW_LIMIT": ("1e3", "a whole number of at least 1"),
    "JOBMETRICS_TARGET": ("postgres", "duckdb, spark or lint"),
    "JOBMETRICS_EVENTS_FROM": ("last year", "a date as YYYY-MM-DD"),
    "JOBMETRICS_SPARK_MEMORY": ("2 gigs", "a JVM size such as 2g"),
    "ANTHROPIC_BASE_URL": ("api.example.com", "an http:// or https:// URL"),
}


@pytest.mark.parametrize("variable", sorted(BAD_SETTINGS))
def test_bad_setting_is_named_up_front(
    variable: str, good_raw: Path, previous: Path, tmp_path: Path
) -> None:
    value, accepted = BAD_SETTINGS[variable]
    result = run_cli("build", "--quiet", env=cli_env(good_raw, previous, **{variable: value}))
    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert f"{variable}={value!r} is not accepted: use {accepted}" in line, line
    assert leftovers(previous) == []


def test_warehouse_setting_pointing_at_another_file(good_raw: Path, tmp_path: Path) -> None:
    """Every command, not only build, names the variable (report used to fail inside DuckDB)."""
    not_duckdb = tmp_path / "notes.txt"
    not_duckdb.write_text("not a database\n")
    env = cli_env(good_raw, not_duckdb)
    for command in (["build"], ["report"], ["generate", "--out", str(tmp_path / "raw")]):
        result = run_cli(*command, "--quiet", env=env)
        assert result.returncode == 2, result.stderr
        line = one_error_line(result)
        assert f"JOBMETRICS_WAREHOUSE='{not_duckdb}' is not a DuckDB database" in line, line
    assert not (tmp_path / "raw").exists()


def test_api_key_with_a_line_break_is_refused_without_printing_it(
    good_raw: Path, previous: Path
) -> None:
    key = "sk-ant-api03-abcdef\nghijkl"
    env = cli_env(good_raw, previous, ANTHROPIC_API_KEY=key)
    for command in ("report", "build"):
        result = run_cli(command, "--quiet", env=env)
        assert result.returncode == 2, result.stderr
        line = one_error_line(result)
        assert "ANTHROPIC_API_KEY contains whitespace or a control character" in line, line
        assert "abcdef" not in result.stderr + result.stdout and "ghijkl" not in result.stderr
