"""scripts/bench.py runs the whole benchmark end to end at a tiny size and records its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jobmetrics.core.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

STAGES = {"generate", "dbt_build", "report"}


def test_bench_writes_every_figure_and_the_nightly_rebuild_matches(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    child = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "scripts" / "bench.py"),
            "--users", "400",
            "--cli-users", "400",
            "--days", "45",
            "--overhead-pairs", "2",
            "--nightly-pairs", "2",
            "--work-dir", str(tmp_path / "work"),
            "--out", str(out),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert child.returncode == 0, child.stdout[-2000:] + child.stderr[-2000:]
    assert "same tables: True" in child.stdout
    document = json.loads(out.read_text())
    assert set(document["cli"]) == {"run_first", "build_unchanged", "append_1_day", "build_nightly"}
    assert all(step["wall_s"] > 0 for step in document["cli"].values())
    (result,) = document["results"]
    assert result["dbt_build_success"] and not result["report_page_errors"]
    assert result["dbt_overhead_builds_success"]
    assert result["incremental"]["builds_success"]
    assert set(result["stages"]) == STAGES
    for stage in result["stages"].values():
        assert stage["wall_s"] > 0 and stage["peak_mib"] > 0 and stage["rows_per_s"] > 0
    assert result["biggest_raw_table"]["rows"] == max(result["raw_rows"].values())
    assert result["direct_sql_s"] > 0 and result["dbt_overhead_ratio"] > 0
    # the reported pair is one of the two timed, the upper one
    pairs = result["dbt_overhead_ratio_of_each_pair"]
    assert len(pairs) == 2 and pairs == sorted(pairs)
    reported = result["dbt_models_s"] / result["direct_sql_s"]
    assert abs(reported - pairs[1]) < 0.05 * pairs[1]
    incremental = result["incremental"]
    assert incremental["tables_compared"] >= 20
    assert incremental["tables_differing_from_full_refresh"] == {}
    # two nights two weeks apart, after the 45 generated days (from 1 January 2025); the
    # reported night is the upper of the two
    assert incremental["date_of_each_night"] == ["2025-02-15", "2025-03-01"]
    nights = incremental["ratio_of_each_night"]
    assert len(nights) == 2 == len(incremental["seconds_of_each_night"])
    reported = incremental["incremental_build_s"] / incremental["full_refresh_build_s"]
    assert abs(reported - max(nights)) < 0.01 * max(nights)
    assert incremental["ratio"] == max(nights)
