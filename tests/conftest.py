"""Shared fixtures: one small generated data set and one warehouse built from it per test run.

With pytest-xdist (scripts/test.sh runs two workers) each worker has its own session; what
every worker reads but none changes (the raw data set, the built warehouse, dbt's parse) is
produced once per run by the first worker that asks, under a file lock, and the others reuse
it (tests/once.py). A test that changes a warehouse or a raw folder works on its own copy.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from jobmetrics.core import settings as settings_module
from tests.once import produced_once

SMALL_USERS = 2_000
SMALL_DAYS = 365
SMALL_START = date(2025, 1, 1)
SMALL_SEED = 7

LONGEST_FIRST = (
    "tests/scale/test_spark.py",
    "tests/scale/test_bench.py",
    "tests/scale/test_incremental.py",
    "tests/ops/test_lint.py",
)
"""Test files that take minutes, run first: with two workers (scripts/test.sh) the other worker
meanwhile runs the many short files, instead of one of these starting last and running alone."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: position for position, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(scope="session", autouse=True)
def isolated_dbt_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep dbt's target/ and logs/ of the test session out of the developer's folders."""
    folder = tmp_path_factory.mktemp("dbt")
    os.environ["DBT_TARGET_PATH"] = str(folder / "target")
    os.environ["DBT_LOG_PATH"] = str(folder / "logs")
    return folder


@pytest.fixture(scope="session")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small deterministic raw data set (2,000 users × 365 days from 2025-01-01); read only:
    a test that changes raw files works on a copy."""
    from jobmetrics.generator import generate

    def produce(folder: Path) -> None:
        generate(
            folder / "raw",
            users=SMALL_USERS,
            days=SMALL_DAYS,
            start_date=SMALL_START,
            seed=SMALL_SEED,
        )

    return produced_once(tmp_path_factory, "raw", produce) / "raw"


@pytest.fixture(scope="session")
def built_settings(
    raw_dir: Path, tmp_path_factory: pytest.TempPathFactory, isolated_dbt_artifacts: Path
) -> settings_module.Settings:
    """Settings for the small data set, with a warehouse built by `jobmetrics build`.

    The warehouse is built once per run; this session's dbt target folder gets a copy of the
    build's (manifest.json, catalog.json, the docs page) as if this session had built it.
    """
    from jobmetrics.warehouse.build import build

    target = Path(os.environ["DBT_TARGET_PATH"])

    def produce(folder: Path) -> None:
        build(
            replace(
                settings_module.load(),
                raw_dir=raw_dir,
                warehouse=folder / "jobmetrics.duckdb",
                site_dir=folder / "site",
            ),
            full_refresh=True,
        )
        shutil.copytree(target, folder / "build-target")

    folder = produced_once(tmp_path_factory, "warehouse", produce)
    shutil.copytree(folder / "build-target", target, dirs_exist_ok=True)
    return replace(
        settings_module.load(),
        raw_dir=raw_dir,
        warehouse=folder / "jobmetrics.duckdb",
        site_dir=tmp_path_factory.mktemp("warehouse") / "site",
    )


@pytest.fixture(scope="session")
def warehouse(built_settings: settings_module.Settings) -> Path:
    """Path of the small built warehouse (open it read-only)."""
    return built_settings.warehouse
