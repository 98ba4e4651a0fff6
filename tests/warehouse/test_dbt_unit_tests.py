"""The dbt unit tests (models/**/_*unit_tests.yml) pass.

`jobmetrics build` leaves them out: they check the models' SQL against fixed rows, so their
answer does not depend on the data. They run here, on every `make test`, against a copy of the
small built warehouse (dbt needs the upstream tables for the input column types).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jobmetrics.core.settings import Settings
from jobmetrics.warehouse.dbt_invoke import run_dbt

pytestmark = pytest.mark.slow


def test_every_dbt_unit_test_passes(built_settings: Settings, tmp_path: Path) -> None:
    # Same file name: the views in the file name their tables by the file's catalog name.
    copy = tmp_path / built_settings.warehouse.name
    shutil.copyfile(built_settings.warehouse, copy)
    target = tmp_path / "target"
    outcome = run_dbt(
        ["test", "--select", "test_type:unit"],
        env={
            "JOBMETRICS_RAW_DIR": str(built_settings.raw_dir),
            "JOBMETRICS_WAREHOUSE": str(copy),
            "JOBMETRICS_BUILD_PATH": str(copy),
            "DBT_TARGET_PATH": str(target),
        },
    )
    assert outcome.success, outcome.failures
    manifest = json.loads((target / "manifest.json").read_text())
    declared = set(manifest["unit_tests"])
    ran = {item.node.unique_id for item in outcome.result.results} - {
        uid for uid in manifest["nodes"] if uid.startswith("operation.")
    }
    assert len(declared) >= 17
    assert ran == declared
