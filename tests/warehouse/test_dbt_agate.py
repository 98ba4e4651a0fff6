"""run_dbt shares agate type testers: query results become the same agate tables as before.

`_type_testers_shared` (jobmetrics/warehouse/dbt_invoke.py) keeps one type tester per set of
text columns. The expectations are the tables dbt's own functions build with the patch undone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from dbt_common.clients import agate_helper

from jobmetrics.warehouse.dbt_invoke import _type_testers_shared

ROWS = [
    {"id": 1, "code": "005", "day": date(2025, 1, 31), "at": datetime(2025, 1, 31, 8, 30),
     "amount": Decimal("12.50"), "flag": True, "note": "null", "tags": ["a", "b"]},
    {"id": 2, "code": "", "day": None, "at": None,
     "amount": None, "flag": None, "note": None, "tags": None},
]  # fmt: skip
COLUMNS = ["id", "code", "day", "at", "amount", "flag", "note", "tags"]


def _described(table) -> tuple:
    return (
        tuple(table.column_names),
        tuple(type(kind).__name__ for kind in table.column_types),
        tuple(tuple(row.values()) for row in table.rows),
    )


def test_query_results_become_the_same_tables() -> None:
    expected = _described(agate_helper.table_from_data_flat(ROWS, COLUMNS))
    empty = _described(agate_helper.empty_table())
    csv_like = _described(agate_helper.table_from_rows([["1", "2025-01-31"]], ["n", "d"], []))
    with _type_testers_shared():
        assert _described(agate_helper.table_from_data_flat(ROWS, COLUMNS)) == expected
        assert _described(agate_helper.table_from_data_flat(ROWS, COLUMNS)) == expected
        assert _described(agate_helper.empty_table()) == empty
        assert (
            _described(agate_helper.table_from_rows([["1", "2025-01-31"]], ["n", "d"], []))
            == csv_like
        )
    # the text column stays text ('005', '' and 'null' kept), dates and money keep their types
    kinds = ("Integer", "Text", "Date", "DateTime", "Number", "Boolean", "Text", "Text")
    assert expected[1] == kinds
    assert expected[2][0][1] == "005" and expected[2][1][1] == ""
    assert csv_like[1] == ("Number", "Date")


def test_one_tester_per_set_of_text_columns_and_the_originals_restored() -> None:
    original = agate_helper.build_type_tester
    with _type_testers_shared():
        first = agate_helper.build_type_tester(["code", "note"], string_null_values=())
        assert agate_helper.build_type_tester(("note", "code"), ()) is first
        assert agate_helper.build_type_tester(["code"], ()) is not first
        assert agate_helper.build_type_tester(["code", "note"]) is not first  # other null values
    assert agate_helper.build_type_tester is original
    assert agate_helper.build_type_tester(["code"], ()) is not agate_helper.build_type_tester(
        ["code"], ()
    )
