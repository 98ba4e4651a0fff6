"""Source freshness: every raw table is judged against its loaded_at field (1 day warn, 3 error)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from jobmetrics.core.settings import PROJECT_ROOT
from jobmetrics.generator import RAW_TABLES, generate
from jobmetrics.warehouse.freshness import (
    FreshnessError,
    SourceFreshness,
    check_freshness,
    overall_status,
    read_sources_json,
    summary_line,
)


def by_table(sources: list[SourceFreshness]) -> dict[str, SourceFreshness]:
    return {source.name.split(".")[-1]: source for source in sources}


def loaded_at_fields() -> dict[str, str]:
    """table → the loaded_at_field expression configured in models/staging/raw/_sources.yml."""
    sources = yaml.safe_load((PROJECT_ROOT / "models/staging/raw/_sources.yml").read_text())
    (raw,) = [source for source in sources["sources"] if source["name"] == "raw"]
    return {table["name"]: table["config"]["loaded_at_field"] for table in raw["tables"]}


@pytest.mark.slow
def test_statuses_follow_the_thresholds_on_data_ending_yesterday(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    generate(raw, users=1_000, days=30, seed=5)  # no start date: the data ends yesterday
    sources = by_table(check_freshness(raw, tmp_path / "target"))
    fields = loaded_at_fields()

    assert set(sources) == set(RAW_TABLES) == set(fields)
    for table, source in sources.items():
        assert source.status != "runtime error", source.message
        newest = duckdb.sql(
            f"select max({fields[table]}) from read_parquet('{raw / table}.parquet')"
        ).fetchone()[0]
        assert source.max_loaded_at.replace(tzinfo=None) == newest, table
        age_hours = (source.snapshotted_at - source.max_loaded_at).total_seconds() / 3600
        expected = "pass" if age_hours < 24 else "warn" if age_hours < 72 else "error"
        assert source.status == expected, (table, age_hours, source)
        assert (source.warn_after, source.error_after) == ("1 day", "3 days")
    # Daily activity ends yesterday, so the busiest tables are never stale.
    for table in ("raw_scans", "raw_sessions", "raw_users"):
        assert sources[table].status in ("pass", "warn"), sources[table]


@pytest.mark.slow
def test_old_data_is_an_error_and_written_to_sources_json(raw_dir: Path, tmp_path: Path) -> None:
    """The session data set ends 2025-12-31: long past the 3-day error threshold."""
    manifest = json.loads((raw_dir / "_manifest.json").read_text())
    target = tmp_path / "target"
    sources = check_freshness(raw_dir, target)

    assert {s.status for s in sources} == {"error"}
    assert overall_status(sources) == "error"
    newest = max(s.max_loaded_at for s in sources if s.max_loaded_at is not None)
    # A spend row counts as loaded at the end of its day, so nothing is newer than the day after.
    data_end = date.fromisoformat(manifest["data_end"])
    assert newest.date() <= data_end + timedelta(days=1)
    assert read_sources_json(target / "sources.json") == sources


@pytest.mark.slow
def test_a_missing_raw_file_is_a_runtime_error_not_a_crash(raw_dir: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in raw_dir.iterdir():
        if path.name != "raw_scans.parquet":
            (raw / path.name).symlink_to(path)
    sources = by_table(check_freshness(raw, tmp_path / "target"))

    assert sources["raw_scans"].status == "runtime error"
    assert "raw_scans" in sources["raw_scans"].message
    assert overall_status(list(sources.values())) == "runtime error"


@pytest.mark.slow
def test_a_table_without_rows_is_no_rows_not_stale(tmp_path: Path) -> None:
    """Imported billing data without product events: empty scans and sessions are reported as
    holding no rows, not as an error (dbt says error, newest row in year 1)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jobmetrics.core.contract_arrow import ARROW_SCHEMAS

    raw = tmp_path / "raw"
    generate(raw, users=300, days=30)  # ends yesterday: fresh
    for table in ("raw_scans", "raw_sessions"):
        pq.write_table(pa.Table.from_pylist([], ARROW_SCHEMAS[table]), raw / f"{table}.parquet")
    sources = by_table(check_freshness(raw, tmp_path / "target"))

    assert sources["raw_scans"].status == sources["raw_sessions"].status == "no rows"
    assert sources["raw_scans"].max_loaded_at is None and sources["raw_scans"].age_hours is None
    status = overall_status(list(sources.values()))
    assert status in ("pass", "warn")  # a day-old newest row warns late in the day
    assert read_sources_json(tmp_path / "target" / "sources.json") == list(sources.values())
    line = summary_line(list(sources.values()))
    assert line.startswith(status) and "raw_scans" not in line.split("; no rows")[0]
    assert "; no rows in raw_scans, raw_sessions (checked" in line


def test_overall_status_is_the_worst() -> None:
    def source(status: str) -> SourceFreshness:
        return SourceFreshness(f"raw.{status}", status, None, None, None, "", "")

    assert overall_status([]) == "pass"
    assert overall_status([source("pass"), source("warn")]) == "warn"
    assert overall_status([source("warn"), source("error"), source("pass")]) == "error"


def test_missing_raw_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FreshnessError, match="no raw data folder"):
        check_freshness(tmp_path / "nowhere", tmp_path / "target")
