"""Fixtures of the AI tests: the project's real manifest (dbt parse) and a small warehouse file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from ai_helpers import build_small_warehouse
from fake_anthropic import fake_api_settings

from jobmetrics.core import settings as settings_module
from jobmetrics.warehouse.dbt_invoke import run_dbt
from tests.once import produced_once


@pytest.fixture(scope="session")
def parsed_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dbt's target folder after `dbt parse` of this project: manifest.json with the registry
    (parsed once per test run; read only)."""

    def parse(target: Path) -> None:
        outcome = run_dbt(["parse"], env={"DBT_TARGET_PATH": str(target)})
        assert outcome.success, outcome.first_error()

    return produced_once(tmp_path_factory, "ai-target", parse)


@pytest.fixture
def small_warehouse(tmp_path: Path) -> Path:
    return build_small_warehouse(tmp_path / "data" / "jobmetrics.duckdb")


@pytest.fixture
def ask_settings(small_warehouse: Path, parsed_target: Path) -> settings_module.Settings:
    return replace(
        settings_module.load(),
        anthropic_api_key="sk-ant-test",
        warehouse=small_warehouse,
        dbt_target_dir=parsed_target,
        ai_max_retries=0,
        ask_row_limit=50,
        ask_timeout_s=5.0,
    )


@pytest.fixture
def ai_settings(tmp_path: Path) -> settings_module.Settings:
    return fake_api_settings(tmp_path)
