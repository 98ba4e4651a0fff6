"""Compare every table of two warehouse files: which tables hold different rows.

Used to check that an incremental build equals a full refresh of the same data (the scale
test compares exactly; the benchmark rounds floating-point columns, because DuckDB adds floats
up in a different order from run to run when it uses more than one thread).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import duckdb

FLOAT_TYPES = ("FLOAT", "DOUBLE")


def _columns(
    con: duckdb.DuckDBPyConnection,
    table: str,
    float_decimals: int | None,
    ignore: Collection[str] = (),
) -> str:
    schema, name = _schema_and_name(table)
    names_types = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = 'left_side'"
        " and schema_name = ? and table_name = ? order by column_index",
        [schema, name],
    ).fetchall()
    return ", ".join(
        f'round("{name}", {float_decimals})'
        if float_decimals is not None and data_type in FLOAT_TYPES
        else f'"{name}"'
        for name, data_type in names_types
        if name not in ignore
    )


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    """The tables of every schema: a table of `main` by its name, another as schema.table
    (the fingerprints incremental models keep in main_incremental_state)."""
    return {
        name if schema == "main" else f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ?",
            [catalog],
        ).fetchall()
    }


def _schema_and_name(table: str) -> tuple[str, str]:
    schema, _, name = table.rpartition(".")
    return schema or "main", name


def _reference(catalog: str, table: str) -> str:
    schema, name = _schema_and_name(table)
    return f'{catalog}."{schema}"."{name}"'


def differing_tables(
    left: Path,
    right: Path,
    *,
    float_decimals: int | None = None,
    ignore_columns: Collection[str] = (),
) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """(tables compared, {table: (rows only in left, rows only in right)} for those differing).

    Rows are compared as multisets (EXCEPT ALL both ways). A table present on one side only
    counts as differing with all its rows on that side. float_decimals rounds FLOAT and
    DOUBLE columns before comparing; None compares them exactly. Columns named in
    ignore_columns are left out (e.g. ids an import numbers on its own).
    """
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as left_side (read_only)")
        con.execute(f"attach '{right}' as right_side (read_only)")
        left_tables, right_tables = _tables(con, "left_side"), _tables(con, "right_side")
        differences: dict[str, tuple[int, int]] = {}
        for table in sorted(left_tables ^ right_tables):
            side = "left_side" if table in left_tables else "right_side"
            (rows,) = con.execute(f"select count(*) from {_reference(side, table)}").fetchone()
            differences[table] = (rows, 0) if side == "left_side" else (0, rows)
        common = sorted(left_tables & right_tables)
        for table in common:
            columns = _columns(con, table, float_decimals, ignore_columns)
            left_rows = f"select {columns} from {_reference('left_side', table)}"
            right_rows = f"select {columns} from {_reference('right_side', table)}"
            only_left, only_right = con.execute(
                f"select (select count(*) from ({left_rows} except all {right_rows})),"
                f" (select count(*) from ({right_rows} except all {left_rows}))"
            ).fetchone()
            if only_left or only_right:
                differences[table] = (only_left, only_right)
        return sorted(left_tables | right_tables), differences
    finally:
        con.close()
