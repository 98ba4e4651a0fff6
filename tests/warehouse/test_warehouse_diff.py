"""differing_tables: the check behind "an incremental build equals a full refresh"."""

from __future__ import annotations

from pathlib import Path

import duckdb

from jobmetrics.warehouse.diff import differing_tables


def _warehouse(path: Path, statements: list[str]) -> Path:
    con = duckdb.connect(str(path))
    for statement in statements:
        con.execute(statement)
    con.close()
    return path


def test_reports_rows_on_either_side_and_tables_on_one_side_only(tmp_path: Path) -> None:
    left = _warehouse(
        tmp_path / "left.duckdb",
        [
            "create table fct_a as select * from (values (1, 'x'), (2, 'y'), (2, 'y')) t(k, v)",
            "create table fct_only_left as select 1 as k",
        ],
    )
    right = _warehouse(
        tmp_path / "right.duckdb",
        ["create table fct_a as select * from (values (1, 'x'), (2, 'y'), (3, 'z')) t(k, v)"],
    )
    tables, differences = differing_tables(left, right)
    assert tables == ["fct_a", "fct_only_left"]
    # a duplicated row counts: rows are compared as multisets
    assert differences == {"fct_a": (1, 1), "fct_only_left": (1, 0)}


def test_float_noise_differs_exactly_but_not_once_rounded(tmp_path: Path) -> None:
    # the same average added up in two orders (seen in fct_product_daily at 1M users)
    left = _warehouse(
        tmp_path / "left.duckdb", ["create table t as select cast(58.93329747175876 as double) x"]
    )
    right = _warehouse(
        tmp_path / "right.duckdb", ["create table t as select cast(58.933297471759175 as double) x"]
    )
    assert differing_tables(left, right)[1] == {"t": (1, 1)}
    assert differing_tables(left, right, float_decimals=6)[1] == {}
    assert differing_tables(left, right, float_decimals=15)[1] == {"t": (1, 1)}
