"""Checks a raw data folder before a build, so bad input fails with one line naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from generator.contract import MANIFEST_NAME, RAW_COLUMNS, RAW_TABLES
from generator.version import GENERATOR_MAJOR, is_compatible
from jobmetrics.errors import UserError


def read_manifest(raw_dir: Path) -> dict:
    """The generator's manifest of a raw folder, checked for presence and generator version."""
    if not raw_dir.is_dir():
        raise UserError(
            f"no raw data folder at {raw_dir}: run `jobmetrics generate` or set JOBMETRICS_RAW_DIR"
        )
    path = raw_dir / MANIFEST_NAME
    if not path.is_file():
        if not any(raw_dir.iterdir()):
            raise UserError(
                f"the raw data folder {raw_dir} is empty: run `jobmetrics generate --out {raw_dir}`"
            )
        raise UserError(
            f"{path} is missing: the raw folder was not written by `jobmetrics generate`"
        )
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UserError(f"{path} is not valid JSON ({error})") from error
    found = str(manifest.get("generator_version", "unknown"))
    if not is_compatible(found):
        raise UserError(
            f"{raw_dir} was written by generator version {found}, this build needs "
            f"{GENERATOR_MAJOR}.x: regenerate it with "
            f"`jobmetrics generate --out {raw_dir}`"
        )
    return manifest


def parquet_columns(path: Path) -> dict[str, str]:
    """Column name → DuckDB type of a Parquet file, or UserError when it cannot be read."""
    connection = duckdb.connect()
    try:
        rows = connection.execute(
            "select column_name, column_type from (describe select * from read_parquet(?))",
            [str(path)],
        ).fetchall()
    except duckdb.Error as error:
        first = str(error).strip().splitlines()[0]
        raise UserError(f"{path} is not a readable Parquet file: {first}") from error
    finally:
        connection.close()
    return dict(rows)


def check_raw_dir(raw_dir: Path) -> dict:
    """Raise UserError unless every raw table exists, reads and has exactly the contract columns."""
    manifest = read_manifest(raw_dir)
    for table in RAW_TABLES:
        path = raw_dir / f"{table}.parquet"
        if not path.is_file():
            raise UserError(f"{path} is missing: every raw table must be present")
        found = parquet_columns(path)
        expected = RAW_COLUMNS[table]
        missing = [name for name in expected if name not in found]
        extra = [name for name in found if name not in expected]
        if missing:
            raise UserError(f"{path} is missing column(s) {', '.join(missing)}")
        if extra:
            raise UserError(f"{path} has unexpected column(s) {', '.join(extra)}")
        wrong = [
            f"{name} is {found[name]}, expected {kind}"
            for name, kind in expected.items()
            if found[name] != kind
        ]
        if wrong:
            raise UserError(f"{path}: {'; '.join(wrong)}")
    return manifest
