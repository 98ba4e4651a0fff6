"""The anomaly detector flags every injected anomaly of the default data set, rarely others."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from anomaly_scoring import score_detection

from jobmetrics.core import settings as settings_module

DEFAULT_START = date(2025, 1, 1)
"""A fixed start date keeps the default data set (10,000 users × 365 days, seed 42) reproducible."""


@pytest.fixture(scope="module")
def default_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The default data set, generated and built with `jobmetrics build`."""
    from jobmetrics.generator import generate
    from jobmetrics.warehouse.build import build

    folder = tmp_path_factory.mktemp("default")
    raw_dir = folder / "raw"
    manifest = generate(raw_dir, start_date=DEFAULT_START)
    current = replace(
        settings_module.load(),
        raw_dir=raw_dir,
        warehouse=folder / "jobmetrics.duckdb",
        site_dir=folder / "site",
    )
    build(current, full_refresh=True)
    written = json.loads((raw_dir / "_manifest.json").read_text())
    assert written["anomalies"] == manifest["anomalies"]
    return current.warehouse, manifest


@pytest.mark.slow
def test_every_injected_anomaly_is_flagged_on_its_day_with_its_direction(default_warehouse):
    warehouse, manifest = default_warehouse
    assert len(manifest["anomalies"]) >= 3
    score = score_detection(warehouse, manifest)
    print(f"\nanomaly detection on the default data set: {score.summary()}")
    assert score.missed == [], f"missed injected anomalies: {score.missed}"
    assert score.recall == 1.0


@pytest.mark.slow
def test_false_alerts_stay_below_one_per_30_days_per_metric(default_warehouse):
    warehouse, manifest = default_warehouse
    score = score_detection(warehouse, manifest)
    print(f"\nanomaly detection on the default data set: {score.summary()}")
    for metric, days in sorted(score.false_alerts.items()):
        print(f"  {metric}: {len(days)} false alerts, first {days[:5]}")
    too_noisy = {
        metric: round(score.false_alerts_per_30_days(metric), 2)
        for metric in score.scored_days
        if score.false_alerts_per_30_days(metric) >= 1.0
    }
    assert too_noisy == {}
    # every metric of the team's list is scored, so "no false alerts" is not "no detection"
    assert {"signups", "new_mrr", "churned_mrr", "p95_processing_ms", "dau"} <= set(
        score.scored_days
    )
