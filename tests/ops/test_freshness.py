"""Source freshness: every raw table is judged against its loaded_at field (1 day warn, 3 error)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator import RAW_TABLES, generate
from jobmetrics.freshness import (
    SourceFreshness,
    check_freshness,
    overall_status,
    read_sources_json,
)


def by_table(sources: list[SourceFreshness]) -> dict[str, SourceFreshness]:
    return {source.name.split(".")[-1]: source for source in sources}


@pytest.mark.slow
def test_data_ending_yesterday_is_not_stale(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    generate(raw, users=300, days=30, seed=5)  # no start date: the data ends yesterday
    sources = by_table(check_freshness(raw, tmp_path / "target"))

    assert set(sources) == set(RAW_TABLES)
    for table, source in sources.items():
        assert source.status in ("pass", "warn"), (table, source)
        assert source.age_hours is not None and 0 <= source.age_hours < 72, source
        assert (source.warn_after, source.error_after) == ("1 day", "3 days")
    assert overall_status(list(sources.values())) in ("pass", "warn")


@pytest.mark.slow
def test_old_data_is_an_error_and_written_to_sources_json(raw_dir: Path, tmp_path: Path) -> None:
    """The session data set ends 2025-12-31: long past the 3-day error threshold."""
    manifest = json.loads((raw_dir / "_manifest.json").read_text())
    target = tmp_path / "target"
    sources = check_freshness(raw_dir, target)

    assert {s.status for s in sources} == {"error"}
    assert overall_status(sources) == "error"
    newest = max(s.max_loaded_at for s in sources if s.max_loaded_at is not None)
    assert newest.date().isoformat() <= manifest["data_end"]
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


def test_overall_status_is_the_worst() -> None:
    def source(status: str) -> SourceFreshness:
        return SourceFreshness(f"raw.{status}", status, None, None, None, "", "")

    assert overall_status([]) == "pass"
    assert overall_status([source("pass"), source("warn")]) == "warn"
    assert overall_status([source("warn"), source("error"), source("pass")]) == "error"
