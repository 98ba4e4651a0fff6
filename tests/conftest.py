"""Shared fixtures: one small generated data set and one warehouse built from it per session."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from jobmetrics.core import settings as settings_module

SMALL_USERS = 2_000
SMALL_DAYS = 365
SMALL_START = date(2025, 1, 1)
SMALL_SEED = 7


@pytest.fixture(scope="session", autouse=True)
def isolated_dbt_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep dbt's target/ and logs/ of the test session out of the developer's folders."""
    folder = tmp_path_factory.mktemp("dbt")
    os.environ["DBT_TARGET_PATH"] = str(folder / "target")
    os.environ["DBT_LOG_PATH"] = str(folder / "logs")
    return folder


@pytest.fixture(scope="session")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small deterministic raw data set (2,000 users × 365 days from 2025-01-01)."""
    from jobmetrics.generator import generate

    out = tmp_path_factory.mktemp("raw") / "raw"
    generate(out, users=SMALL_USERS, days=SMALL_DAYS, start_date=SMALL_START, seed=SMALL_SEED)
    return out


@pytest.fixture(scope="session")
def built_settings(
    raw_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> settings_module.Settings:
    """Settings for the small data set, with a warehouse built by `jobmetrics build`."""
    from jobmetrics.warehouse.build import build

    folder = tmp_path_factory.mktemp("warehouse")
    current = replace(
        settings_module.load(),
        raw_dir=raw_dir,
        warehouse=folder / "jobmetrics.duckdb",
        site_dir=folder / "site",
    )
    build(current, full_refresh=True)
    return current


@pytest.fixture(scope="session")
def warehouse(built_settings: settings_module.Settings) -> Path:
    """Path of the small built warehouse (open it read-only)."""
    return built_settings.warehouse
