"""Fixtures of the importer tests: one real PostgreSQL server per test session (per xdist
worker) and one small generated raw folder whose rows the tests load into their sources."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.importers.postgres_server import PostgresServer
from tests.once import produced_once

PRODUCT_USERS = 1_500
PRODUCT_DAYS = 60
PRODUCT_START = date(2025, 1, 1)
EXAMPLE_MAPPING = (
    Path(__file__).resolve().parents[2] / "jobmetrics" / "importers" / "product.example.yml"
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server started for this session, stopped at its end (even after failures);
    each test makes its own database with server.create_database(name)."""
    try:
        server = PostgresServer.start()
    except RuntimeError as error:
        pytest.fail(f"cannot start the test PostgreSQL server: {error}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def product_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated raw folder (1,500 users × 60 days from 2025-01-01); read only."""
    from jobmetrics.generator import generate

    def produce(folder: Path) -> None:
        generate(
            folder / "raw", users=PRODUCT_USERS, days=PRODUCT_DAYS, start_date=PRODUCT_START, seed=3
        )

    return produced_once(tmp_path_factory, "importers-raw", produce) / "raw"


def differing_rows(expected: str, actual: str) -> tuple[int, int]:
    """(rows of `expected` missing from `actual`, rows of `actual` not in `expected`), counted
    with duplicates by DuckDB over two selects (e.g. read_parquet of two raw folders)."""
    import duckdb

    connection = duckdb.connect()
    try:
        missing = connection.sql(f"select count(*) from (({expected}) except all ({actual}))")
        extra = connection.sql(f"select count(*) from (({actual}) except all ({expected}))")
        return missing.fetchone()[0], extra.fetchone()[0]
    finally:
        connection.close()
