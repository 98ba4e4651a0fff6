"""fct_scans_by_dimension agrees with a recomputation from the raw scans Parquet file.

The scans are grouped here in Python by calendar month and by résumé format, job category and
keyword band (the bands read from seeds/keyword_bands.csv, the one place they are defined),
and every column of the mart is compared. Percentiles use numpy's "linear" method, the
continuous percentile with linear interpolation between the two nearest ranks that
macros/analytics_percentile.sql computes (DuckDB's quantile_cont, SQL's percentile_cont).
numpy rather than pandas: pandas is not a dependency of the project, and its quantile's default
is the same linear definition. Uses the shared `raw_dir` and `warehouse` fixtures of
tests/conftest.py.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from jobmetrics.core.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

COLUMNS = (
    "scans",
    "completed_scans",
    "failed_scans",
    "failure_rate",
    "scanning_users",
    "avg_match_rate",
    "avg_keywords_extracted",
    "p50_processing_ms",
    "p95_processing_ms",
    "last_scan_date",
)
Key = tuple[date, str, str]


def keyword_band(keywords: int | None, bands: list[dict[str, str]]) -> str:
    """The seed's band holding a keyword count; the band without limits for a failed scan."""
    for band in bands:
        low, high = band["min_keywords"], band["max_keywords"]
        if keywords is None:
            if low == "" and high == "":
                return band["keywords_band"]
        elif low != "" and keywords >= int(low) and (high == "" or keywords <= int(high)):
            return band["keywords_band"]
    raise AssertionError(f"no keyword band holds {keywords}")


def read_bands() -> list[dict[str, str]]:
    """The rows of seeds/keyword_bands.csv."""
    with (PROJECT_ROOT / "seeds" / "keyword_bands.csv").open(encoding="utf-8") as seed:
        return list(csv.DictReader(seed))


def expected_slices(raw_dir: Path) -> dict[Key, dict[str, float | int | None]]:
    """(month, dimension, value) → every column of the mart, from the raw scans."""
    bands = read_bands()
    scans = pq.read_table(raw_dir / "raw_scans.parquet").to_pylist()
    groups: dict[Key, list[dict]] = defaultdict(list)
    for scan in scans:
        month = scan["scanned_at"].date().replace(day=1)
        slices = {
            "all": "all",
            "resume_format": scan["resume_format"],
            "job_category": scan["job_category"],
            "keywords_band": keyword_band(scan["keywords_extracted"], bands),
        }
        for dimension, value in slices.items():
            groups[(month, dimension, value)].append(scan)
    expected = {}
    for key, rows in groups.items():
        completed = [row for row in rows if row["status"] == "completed"]
        failed = sum(1 for row in rows if row["status"] == "failed")
        times = np.array([row["processing_ms"] for row in rows], dtype=np.float64)
        expected[key] = {
            "scans": len(rows),
            "completed_scans": len(completed),
            "failed_scans": failed,
            "failure_rate": failed / len(rows),
            "scanning_users": len({row["user_id"] for row in rows}),
            "avg_match_rate": (
                sum(row["match_rate"] for row in completed) / len(completed) if completed else None
            ),
            "avg_keywords_extracted": (
                sum(row["keywords_extracted"] for row in completed) / len(completed)
                if completed
                else None
            ),
            "p50_processing_ms": float(np.percentile(times, 50, method="linear")),
            "p95_processing_ms": float(np.percentile(times, 95, method="linear")),
            "last_scan_date": max(row["scanned_at"].date() for row in rows),
        }
    return expected


def test_scans_by_dimension_match_the_raw_scans(raw_dir: Path, warehouse: Path) -> None:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = connection.execute(
            f"select scan_month, dimension, dimension_value, {', '.join(COLUMNS)} "
            "from fct_scans_by_dimension"
        ).fetchall()
    finally:
        connection.close()
    found = {row[:3]: dict(zip(COLUMNS, row[3:], strict=True)) for row in rows}
    expected = expected_slices(raw_dir)
    assert set(found) == set(expected)
    for key, columns in sorted(expected.items()):
        for column, value in columns.items():
            if value is None or isinstance(value, int | date):
                assert found[key][column] == value, (key, column)
            else:
                assert found[key][column] == pytest.approx(value, rel=1e-9), (key, column)
    dimensions = {dimension for _, dimension, _ in expected}
    assert dimensions == {"all", "resume_format", "job_category", "keywords_band"}
    # the data exercise every band and the percentiles are not degenerate
    banded = {value for _, dimension, value in expected if dimension == "keywords_band"}
    assert banded == {band["keywords_band"] for band in read_bands()}
    assert any(c["p95_processing_ms"] > 2 * c["p50_processing_ms"] for c in expected.values())
