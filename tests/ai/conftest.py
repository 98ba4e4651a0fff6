"""Fixtures of the AI tests: the project's real manifest (dbt parse) and a small warehouse file."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jobmetrics import settings as settings_module
from jobmetrics.ai import narratives
from jobmetrics.dbt_invoke import run_dbt


@pytest.fixture(scope="session")
def parsed_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dbt's target folder after `dbt parse` of this project: manifest.json with the registry."""
    target = tmp_path_factory.mktemp("ai-target")
    outcome = run_dbt(["parse"], env={"DBT_TARGET_PATH": str(target)})
    assert outcome.success, outcome.first_error()
    return target


SMALL_MONTHS = [
    # month, starting, new, expansion, reactivation, contraction, churned MRR; paying; churned
    ("2025-07-01", "1000.00", "250.50", "40.00", "0.00", "-10.00", "-60.25", 52, 3),
    ("2025-08-01", "1220.25", "310.00", "55.75", "20.00", "-12.50", "-44.00", 61, 2),
    ("2025-09-01", "1549.50", "280.25", "30.00", "0.00", "-5.00", "-120.75", 66, 6),
]


def build_small_warehouse(path: Path) -> Path:
    """A DuckDB file holding a three-month fct_mrr_monthly with the mart's column names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            """
            create table fct_mrr_monthly (
                month date, is_complete_month boolean, starting_mrr decimal(18,6),
                new_mrr decimal(18,6), expansion_mrr decimal(18,6),
                reactivation_mrr decimal(18,6), contraction_mrr decimal(18,6),
                churned_mrr decimal(18,6), ending_mrr decimal(18,6),
                paying_customers bigint, churned_customers bigint, logo_churn_rate double
            )
            """
        )
        previous_paying = 50
        for month, *movements, paying, churned in SMALL_MONTHS:
            ending = sum(Decimal(value) for value in movements)
            connection.execute(
                "insert into fct_mrr_monthly values (?, true, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [month, *movements, str(ending), paying, churned, churned / previous_paying],
            )
            previous_paying = paying
    return path


def file_hash(path: Path) -> str:
    """SHA-256 of a file and of its WAL if one exists (a write would change either)."""
    digest = hashlib.sha256(path.read_bytes())
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        digest.update(wal.read_bytes())
    return digest.hexdigest()


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


@pytest.fixture(autouse=True)
def fresh_usage():
    narratives.reset_usage()
    yield
    narratives.reset_usage()
