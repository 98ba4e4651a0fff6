"""Fixtures of the generator tests: a small generated data set opened as DuckDB views."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from gen_helpers import DAYS, SEED, START, USERS, open_raw

from jobmetrics.generator import generate


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 users × 365 days from 2025-07-01."""
    out = tmp_path_factory.mktemp("generated") / "raw"
    generate(out, users=USERS, days=DAYS, start_date=START, seed=SEED)
    return out


@pytest.fixture(scope="session")
def gen_manifest(generated: Path) -> dict:
    return json.loads((generated / "_manifest.json").read_text())


@pytest.fixture(scope="session")
def gen_db(generated: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_raw(generated)
    yield connection
    connection.close()
