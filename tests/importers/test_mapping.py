"""The mapping file of `jobmetrics import postgres|files`: every mistake is one line naming the
file and the key; what a valid file becomes (constants, required columns, the select planned)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from jobmetrics.core.contract_arrow import ARROW_SCHEMAS
from jobmetrics.importers.errors import SourceError
from jobmetrics.importers.mapping import (
    incremental_filter,
    load_mapping,
    plan_column,
    plan_select,
    required_columns,
    with_sql_columns,
)
from tests.importers.conftest import EXAMPLE_MAPPING

SPEND = """
raw_marketing_spend:
  from: spend
  columns:
    spend_date: day
    channel: "'referral'"
    spend_usd: {spend}
"""


def mapping_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "product.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("source", ["postgres", "files"])
def test_the_example_mapping_loads_for_both_importers(source: str) -> None:
    mapping = load_mapping(EXAMPLE_MAPPING, source=source)
    assert list(mapping.tables) == ["raw_users", "raw_scans", "raw_sessions"]
    assert not {"email", "full_name"} & set(mapping.tables["raw_users"].columns)  # no PII
    assert mapping.tables["raw_scans"].incremental == "created_at"


def test_required_columns_are_the_contract_not_null_checks() -> None:
    # read from models/staging/raw/_sources.yml; spelled out here as the contract documents them
    assert required_columns("raw_marketing_spend") == ("spend_date", "channel", "spend_usd")
    assert "landing_page" in required_columns("raw_sessions")
    assert "user_id" not in required_columns("raw_sessions")  # anonymous visits


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "raw_userz:\n  from: x\n",
            "raw_userz: not a raw table; the mapping's tables are raw_users",
        ),
        (
            SPEND.format(spend="amount").replace("channel:", "chanel:"),
            "raw_marketing_spend.columns.chanel: not a column of raw_marketing_spend "
            "(spend_date, channel, spend_usd)",
        ),
        (
            SPEND.format(spend="null"),
            "raw_marketing_spend.columns.spend_usd: null, but the contract needs a value",
        ),
        (
            SPEND.format(spend="amount").replace("    spend_usd: amount\n", ""),
            "raw_marketing_spend.columns: spend_usd is not mapped and the contract needs a value",
        ),
        (
            SPEND.format(spend="amount") + "  sql: select 1\n",
            "raw_marketing_spend: give either `from:` (with `columns:`) or `sql:`, not both",
        ),
        (
            SPEND.format(spend="amount") + "  incremental_column: day\n",
            "raw_marketing_spend.incremental_column: unknown key; a table takes from, sql, "
            "columns, incremental",
        ),
        ("raw_users:\n  from: accounts\n", "raw_users.columns: expected `contract_column: "),
        ("raw_users: [accounts]\n", "raw_users: expected `from:` and `columns:`, or `sql:`"),
        ("- raw_users\n", "expected one entry per raw table"),
        ("raw_users:\n  from: [a\n", ":3: expected ',' or ']'"),
    ],
)
def test_mistakes_are_one_line_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = mapping_file(tmp_path, text)
    with pytest.raises(SourceError) as raised:
        load_mapping(path, source="postgres")
    assert str(raised.value).startswith(f"{path}")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_sql_is_for_postgres_only(tmp_path: Path) -> None:
    path = mapping_file(tmp_path, "raw_marketing_spend:\n  sql: select * from spend\n")
    assert load_mapping(path, source="postgres").tables["raw_marketing_spend"].sql
    with pytest.raises(SourceError, match=r"raw_marketing_spend\.sql: the files importer reads"):
        load_mapping(path, source="files")


def test_a_missing_mapping_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"^mapping file .*nope\.yml does not exist$"):
        load_mapping(tmp_path / "nope.yml", source="files")


def test_yaml_constants_become_sql_constants(tmp_path: Path) -> None:
    path = mapping_file(tmp_path, SPEND.format(spend="12.5") + "  incremental: day\n").read_text()
    path = mapping_file(tmp_path, path.replace("day\n    channel", "2025-01-31\n    channel"))
    columns = load_mapping(path, source="files").tables["raw_marketing_spend"].columns
    assert columns == {"spend_date": "'2025-01-31'", "channel": "'referral'", "spend_usd": "12.5"}


def test_a_sql_select_must_return_the_required_columns(tmp_path: Path) -> None:
    path = mapping_file(tmp_path, "raw_marketing_spend:\n  sql: select day as spend_date\n")
    table = load_mapping(path, source="postgres").tables["raw_marketing_spend"]
    with pytest.raises(SourceError) as raised:
        with_sql_columns(table, ["spend_date", "channel", "note"])
    assert str(raised.value) == (
        f"{path}: raw_marketing_spend.sql: the select returns no column spend_usd and the "
        "contract needs a value (name a column `spend_usd`); it returns spend_date, channel, note"
    )
    mapped = with_sql_columns(table, ["spend_date", "channel", "spend_usd", "note"])
    assert list(mapped.columns) == ["spend_date", "channel", "spend_usd"]


@pytest.mark.parametrize(
    ("table", "column", "kind", "sql", "arrow"),
    [
        ("raw_users", "user_id", "int", "(id)::bigint", pa.int64()),
        ("raw_users", "user_id", "other", "(id)::text", pa.string()),  # uuid: through IdMap
        (
            "raw_users",
            "signed_up_at",
            "timestamptz",
            "((id) at time zone 'UTC')::timestamp",
            None,
        ),
        ("raw_users", "signed_up_at", "timestamp", "(id)::timestamp", None),
        ("raw_users", "signed_up_at", "text", "(id)::text", pa.string()),
        ("raw_marketing_spend", "spend_date", "timestamptz", None, pa.date32()),
        ("raw_marketing_spend", "spend_usd", "numeric", "(id)::text", pa.string()),  # exact
        ("raw_scans", "processing_ms", "numeric", "(id)::float8", pa.float64()),
        ("raw_scans", "match_rate", "int", "(id)::float8", pa.float64()),
        ("raw_users", "country", "other", "(id)::text", pa.string()),  # e.g. an enum
    ],
)
def test_each_source_kind_arrives_in_one_arrow_type(
    table: str, column: str, kind: str, sql: str | None, arrow: pa.DataType | None
) -> None:
    planned = plan_column(table, column, "id", kind)
    if sql is not None:
        assert planned.sql == sql
    assert planned.arrow == (arrow or ARROW_SCHEMAS[table].field(column).type)


def test_the_incremental_filter_reads_from_the_saved_value_on(tmp_path: Path) -> None:
    path = mapping_file(tmp_path, SPEND.format(spend="amount") + "  incremental: day\n")
    table = load_mapping(path, source="postgres").tables["raw_marketing_spend"]
    kinds = dict.fromkeys(table.columns, "text")
    everything, _ = plan_select(table, kinds, incremental_filter(table, None))
    newer, _ = plan_select(table, kinds, incremental_filter(table, "'2025-01-31'::date"))
    assert " where " not in everything
    assert newer == everything + " where (day) >= '2025-01-31'::date"
