"""Opening the published warehouse to read it: one check and one message for every reader (the
report site, `ask`, the dbt docs page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from jobmetrics.core.errors import WarehouseUnavailable


def require_warehouse(path: Path) -> Path:
    """`path` when it is a file; WarehouseUnavailable saying how to make one otherwise."""
    if not path.is_file():
        raise WarehouseUnavailable(
            f"no warehouse at {path}: run `jobmetrics build` first "
            "(or point JOBMETRICS_WAREHOUSE at a built DuckDB file)"
        )
    return path


def open_read_only(
    path: Path, *, config: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse (with extra DuckDB `config`, e.g. no file access);
    WarehouseUnavailable naming the file and DuckDB's reason when it cannot be opened."""
    require_warehouse(path)
    try:
        return duckdb.connect(str(path), read_only=True, config=config or {})
    except duckdb.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise WarehouseUnavailable(f"cannot open the warehouse {path} read-only: {first}") from None
