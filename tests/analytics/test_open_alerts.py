"""A critical alert on the latest day surfaces as a warning of `jobmetrics build`, not a failure."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from jobmetrics.core import settings as settings_module


@pytest.mark.slow
def test_open_critical_alert_is_a_build_warning(raw_dir: Path, tmp_path: Path):
    from jobmetrics.warehouse.build import build

    incident = tmp_path / "raw"
    shutil.copytree(raw_dir, incident)
    scans = str(incident / "raw_scans.parquet")
    # every scan of the last day of data takes 20x longer: p95_processing_ms jumps that day
    duckdb.sql(
        f"""
        copy (
            select * replace (
                case
                    when cast(scanned_at as date) = (
                        select max(cast(scanned_at as date)) from read_parquet('{scans}')
                    )
                    then processing_ms * 20
                    else processing_ms
                end as processing_ms
            )
            from read_parquet('{scans}')
        ) to '{tmp_path / "scans.parquet"}' (format parquet)
        """
    )
    shutil.move(tmp_path / "scans.parquet", scans)
    current = replace(
        settings_module.load(),
        raw_dir=incident,
        warehouse=tmp_path / "jobmetrics.duckdb",
        site_dir=tmp_path / "site",
    )
    report = build(current, full_refresh=True)
    warning = [w for w in report.warnings if "analytics_open_critical_alerts" in w]
    assert warning, report.warnings
    connection = duckdb.connect(str(current.warehouse), read_only=True)
    try:
        messages = connection.execute(
            "select message from fct_alerts where is_open and severity = 'critical'"
        ).fetchall()
    finally:
        connection.close()
    assert any("p95_processing_ms" in message for (message,) in messages)
