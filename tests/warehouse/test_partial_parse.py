"""dbt reuses its saved parse when only the warehouse's folder changes (about 4-5 s a build).

run_dbt leaves the DuckDB file's path out of the key dbt checks its saved parse against
(jobmetrics/warehouse/dbt_invoke.py); that is right only while no Jinja in the project reads
`target.path`, because the parse would then depend on it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from jobmetrics.core.settings import PROJECT_ROOT
from jobmetrics.warehouse.dbt_invoke import run_dbt

JINJA_FOLDERS = ("models", "macros", "seeds", "tests/dbt", "analyses", "snapshots")
READS_TARGET_PATH = re.compile(r"""target\s*(\.\s*path\b|\[\s*['"]path['"]|\.get\(\s*['"]path)""")


def _project_files() -> list[Path]:
    files = [PROJECT_ROOT / "dbt_project.yml"]
    for folder in JINJA_FOLDERS:
        files += [
            path
            for path in (PROJECT_ROOT / folder).rglob("*")
            if path.suffix in {".sql", ".yml", ".yaml", ".md"}
        ]
    return files


def test_no_jinja_in_the_project_reads_the_warehouse_path() -> None:
    files = _project_files()
    readers = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if READS_TARGET_PATH.search(line)
    ]
    assert len(files) > 100
    assert readers == []


def test_the_pattern_finds_each_way_of_reading_the_path() -> None:
    for text in ("{{ target.path }}", "{{ target['path'] }}", '{{ target.get("path") }}'):
        assert READS_TARGET_PATH.search(text), text
    assert not READS_TARGET_PATH.search("target.metric_date, target.pathway")


def _parse(folder: Path, target: Path) -> dict:
    """`dbt parse` with the warehouse and raw data in `folder`; dbt's perf_info.json."""
    outcome = run_dbt(
        ["parse", "--no-write-json"],
        env={
            "JOBMETRICS_WAREHOUSE": str(folder / "jobmetrics.duckdb"),
            "JOBMETRICS_BUILD_PATH": str(folder / "jobmetrics.duckdb"),
            "JOBMETRICS_RAW_DIR": str(folder / "raw"),
            "DBT_TARGET_PATH": str(target),
        },
    )
    assert outcome.success, outcome.first_error()
    return json.loads((target / "perf_info.json").read_text())


def test_a_warehouse_in_another_folder_reuses_the_saved_parse(tmp_path: Path) -> None:
    target = tmp_path / "target"
    first = _parse(tmp_path / "first", target)
    second = _parse(tmp_path / "second", target)
    assert first["path_count"] > 250
    assert first["parsed_path_count"] == first["path_count"]  # nothing saved yet: all of it
    # The sources file reads JOBMETRICS_RAW_DIR, which changed with the folder: it and the
    # models reading those sources are parsed again (91 of 279 files today), the rest reused.
    assert second["path_count"] == first["path_count"]
    assert second["parsed_path_count"] < first["path_count"] / 2
