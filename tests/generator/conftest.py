"""Fixtures of the generator tests: a small generated data set opened as DuckDB views."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from gen_helpers import DAYS, SEED, START, USERS, open_raw

from jobmetrics.generator import generate
from tests.once import produced_once


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 users × 365 days from 2025-07-01 (generated once per test run; read only)."""

    def produce(folder: Path) -> None:
        generate(folder / "raw", users=USERS, days=DAYS, start_date=START, seed=SEED)

    return produced_once(tmp_path_factory, "generated", produce) / "raw"


@pytest.fixture(scope="session")
def gen_manifest(generated: Path) -> dict:
    return json.loads((generated / "_manifest.json").read_text())


@pytest.fixture(scope="session")
def gen_db(generated: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_raw(generated)
    yield connection
    connection.close()
