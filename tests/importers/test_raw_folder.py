"""The common writer of imported raw folders (jobmetrics/importers/raw_folder.py): what it writes
is what it was given, in the contract's types, and the build accepts it; a row that breaks the
contract is named by source, table, id and column and leaves the previous folder as it was;
--append replaces rows by key and keeps what the source does not give."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobmetrics.core.contract import RAW_TABLES
from jobmetrics.core.contract_arrow import ARROW_SCHEMAS
from jobmetrics.importers.errors import SourceError
from jobmetrics.importers.raw_folder import (
    SOURCE_ID,
    IdMap,
    read_import_state,
    read_table,
    write_import,
)
from jobmetrics.warehouse.raw_data import check_raw_dir


def generated(raw_dir: Path) -> dict[str, pa.Table]:
    return {name: pq.read_table(raw_dir / f"{name}.parquet") for name in RAW_TABLES}


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
    }


def rows_differ(left: Path, right: Path, table: str) -> int:
    """Rows of `table` in one folder and not the other, both ways (DuckDB, not the writer)."""
    query = (
        "select count(*) from ((select * from read_parquet(?) except all"
        " select * from read_parquet(?)) union all (select * from read_parquet(?)"
        " except all select * from read_parquet(?)))"
    )
    a, b = str(left / f"{table}.parquet"), str(right / f"{table}.parquet")
    return duckdb.execute(query, [a, b, b, a]).fetchone()[0]


def with_value(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    values = table[column].to_pylist()
    values[row] = value
    index = table.schema.get_field_index(column)
    return table.set_column(index, column, pa.array(values, table.schema.field(column).type))


def test_writes_the_given_rows_in_contract_types_and_the_build_accepts_them(
    raw_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "own"
    manifest = write_import(out, "files", generated(raw_dir), append=False)
    for table in RAW_TABLES:
        assert pq.read_schema(out / f"{table}.parquet").types == ARROW_SCHEMAS[table].types
        assert rows_differ(raw_dir, out, table) == 0, table
    original = json.loads((raw_dir / "_manifest.json").read_text())
    assert manifest["data_start"] == original["data_start"]
    assert manifest["data_end"] == original["data_end"]
    assert manifest["row_counts"] == original["row_counts"]
    assert manifest["absent_tables"] == []
    check_raw_dir(out)  # what `jobmetrics build` checks first


def test_tables_a_source_does_not_give_are_written_empty_and_listed_as_absent(
    raw_dir: Path, tmp_path: Path
) -> None:
    tables = generated(raw_dir)
    billing = {name: tables[name] for name in ("raw_users", "raw_subscriptions", "raw_invoices")}
    manifest = write_import(tmp_path / "own", "stripe", billing, append=False)
    assert manifest["absent_tables"] == ["raw_scans", "raw_sessions", "raw_marketing_spend"]
    assert pq.read_table(tmp_path / "own" / "raw_scans.parquet").num_rows == 0
    check_raw_dir(tmp_path / "own")


@pytest.mark.parametrize(
    ("table", "column", "row", "value", "message"),
    [
        (
            "raw_subscriptions",
            "plan",
            5,
            "enterprise",
            "raw_subscriptions row subscription_id=6: plan 'enterprise' is not one of basic, "
            "professional, premium",
        ),
        (
            "raw_invoices",
            "amount_usd",
            0,
            "-1.00",
            "raw_invoices row invoice_id=1: amount_usd is -1.00, below 0",
        ),
        ("raw_users", "country", 3, None, "raw_users row user_id=4: country is empty"),
        (
            "raw_invoices",
            "subscription_id",
            2,
            999_999,
            "raw_invoices row invoice_id=3: subscription_id 999999 is not a subscription_id of "
            "raw_subscriptions",
        ),
        (
            "raw_users",
            "acquisition_channel",
            0,
            "tiktok",
            "raw_users row user_id=1: acquisition_channel 'tiktok' is not a channel of "
            "seeds/channels.csv",
        ),
        ("raw_users", "user_id", 4, 4, "raw_users row user_id=4: user_id 4 appears on more"),
    ],
)
def test_a_row_breaking_the_contract_is_named_and_nothing_is_replaced(
    raw_dir: Path,
    tmp_path: Path,
    table: str,
    column: str,
    row: int,
    value: object,
    message: str,
) -> None:
    out = tmp_path / "own"
    tables = generated(raw_dir)
    write_import(out, "files", tables, append=False)
    before = fingerprint(out)
    if column == "amount_usd":
        value = pa.scalar(value).cast(pa.decimal128(10, 2)).as_py()
    tables[table] = with_value(tables[table], column, row, value)
    with pytest.raises(SourceError) as error:
        write_import(out, "files", tables, append=False)
    assert str(error.value).startswith(f"files: {message}")
    assert fingerprint(out) == before
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".own.tmp")] == []


def test_a_subscription_ending_before_it_started_names_both_times(
    raw_dir: Path, tmp_path: Path
) -> None:
    tables = generated(raw_dir)
    subscriptions = tables["raw_subscriptions"]
    row = (
        subscriptions["ended_at"]
        .to_pylist()
        .index(next(value for value in subscriptions["ended_at"].to_pylist() if value is not None))
    )
    started = subscriptions["started_at"][row].as_py()
    tables["raw_subscriptions"] = with_value(subscriptions, "ended_at", row, started)
    with pytest.raises(
        SourceError,
        match=rf"row subscription_id={row + 1}: ended_at .* is not "
        "after started_at",
    ):
        write_import(tmp_path / "own", "stripe", tables, append=False)


def test_values_that_do_not_convert_name_the_row_by_the_sources_id(tmp_path: Path) -> None:
    users = pa.table(
        {
            "user_id": [1, 2, 3],
            SOURCE_ID: ["u-a", "u-b", "u-c"],
            "email": [None, None, None],
            "full_name": [None, None, None],
            "country": ["DE", "US", "FR"],
            "segment": ["executive"] * 3,
            "acquisition_channel": ["direct"] * 3,
            "device": ["mobile"] * 3,
            "signed_up_at": ["2026-01-01T10:00:00+02:00", "2026-01-02 09:00:00", "soon"],
        }
    )
    with pytest.raises(SourceError) as error:
        write_import(tmp_path / "own", "postgres", {"raw_users": users}, append=False)
    assert str(error.value) == (
        "postgres: raw_users row user_id=3 (u-c): signed_up_at 'soon' is not a timestamp "
        "(YYYY-MM-DD HH:MM:SS, UTC or with an offset)"
    )
    fixed = with_value(users, "signed_up_at", 2, "2026-01-03")
    write_import(tmp_path / "own", "postgres", {"raw_users": fixed}, append=False)
    written = pq.read_table(tmp_path / "own" / "raw_users.parquet")
    assert SOURCE_ID not in written.column_names
    assert written["email"].null_count == 3  # no PII unless mapped
    # an offset is converted to UTC; times without one are taken as UTC
    assert written["signed_up_at"].to_pylist() == [
        datetime(2026, 1, 1, 8),
        datetime(2026, 1, 2, 9),
        datetime(2026, 1, 3),
    ]


def test_append_replaces_rows_by_key_adds_new_ones_and_keeps_other_tables(
    raw_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "own"
    tables = generated(raw_dir)
    write_import(out, "postgres", tables, append=False, state={"cursor": 1})
    subscriptions = tables["raw_subscriptions"]
    running = subscriptions["ended_at"].to_pylist().index(None)
    ended = with_value(subscriptions, "ended_at", running, datetime(2025, 12, 31, 12))
    ended = with_value(ended, "end_reason", running, "canceled").slice(running, 1)
    new = subscriptions.slice(0, 1)
    new = with_value(new, "subscription_id", 0, 10**9)
    update = pa.concat_tables([ended, new])
    manifest = write_import(
        out, "stripe", {"raw_subscriptions": update}, append=True, state={"cursor": 2}
    )
    written = pq.read_table(out / "raw_subscriptions.parquet")
    assert written.num_rows == subscriptions.num_rows + 1
    by_id = {row["subscription_id"]: row for row in written.to_pylist()}
    changed = by_id[subscriptions["subscription_id"][running].as_py()]
    assert (changed["ended_at"], changed["end_reason"]) == (datetime(2025, 12, 31, 12), "canceled")
    assert written["subscription_id"].to_pylist() == sorted(by_id)
    for table in set(RAW_TABLES) - {"raw_subscriptions"}:
        assert rows_differ(raw_dir, out, table) == 0, table
    assert read_import_state(out, "postgres") == {"cursor": 1}
    assert read_import_state(out, "stripe") == {"cursor": 2}
    assert set(manifest["sources"]) == {"postgres", "stripe"}
    assert manifest["row_counts"]["raw_subscriptions"] == written.num_rows


def test_append_refuses_a_generated_folder_and_a_missing_one(raw_dir: Path, tmp_path: Path) -> None:
    users = {"raw_users": read_table(raw_dir, "raw_users")}
    with pytest.raises(SourceError, match="holds a generated data set"):
        write_import(raw_dir, "files", users, append=True)
    with pytest.raises(SourceError, match="--append needs an import folder"):
        write_import(tmp_path / "nothing", "files", users, append=True)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(SourceError, match="refusing to replace a folder JobMetrics did not write"):
        write_import(tmp_path / "mine", "files", users, append=False)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_text_ids_keep_their_numbers_across_appends(tmp_path: Path) -> None:
    out = tmp_path / "own"
    users = ARROW_SCHEMAS["raw_users"].empty_table()

    def import_ids(source_ids: list[str], *, append: bool) -> list[int]:
        ids = IdMap.load(out, "stripe_customer")
        numbers = ids.assign(source_ids)
        write_import(out, "stripe", {"raw_users": users}, append=append, id_maps=[ids])
        return numbers

    assert import_ids(["cus_b", "cus_a"], append=False) == [1, 2]
    assert import_ids(["cus_c", "cus_a"], append=True) == [3, 2]
    write_import(out, "files", {"raw_users": users}, append=True)  # another source keeps them
    assert IdMap.load(out, "stripe_customer").assign(["cus_b", "cus_d"]) == [1, 4]


def test_data_end_is_the_given_last_complete_day(raw_dir: Path, tmp_path: Path) -> None:
    manifest = write_import(
        tmp_path / "own", "stripe", generated(raw_dir), append=False, data_end=date(2026, 1, 5)
    )
    assert manifest["data_end"] == "2026-01-05"


def test_generated_days_are_never_appended_to_imported_data(raw_dir: Path, tmp_path: Path) -> None:
    from jobmetrics.generator import append_days
    from jobmetrics.generator.errors import GeneratorError

    write_import(tmp_path / "own", "stripe", generated(raw_dir), append=False)
    before = fingerprint(tmp_path / "own")
    with pytest.raises(GeneratorError, match="holds imported data"):
        append_days(tmp_path / "own", 1)
    assert fingerprint(tmp_path / "own") == before
