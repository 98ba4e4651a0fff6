"""`jobmetrics import files`: the generated rows written as CSV (other column names, times with
a Berlin offset) and as Parquet (several files per table) come back as the same raw rows through
the mapping file; checked with DuckDB over both folders, not with the importer's code."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from jobmetrics.importers.errors import SourceError
from jobmetrics.importers.files import import_files
from tests.importers.conftest import EXAMPLE_MAPPING, differing_rows
from tests.importers.postgres_server import product_tables

ZONED = {"accounts": ("created_at", "updated_at"), "resume_scans": ("created_at",)}

SPEND = """
raw_marketing_spend:
  from: spend/*.csv
  columns:
    spend_date: day
    channel: source
    spend_usd: amount
"""


def write_exports(raw: Path, folder: Path, suffix: str) -> Path:
    """The product tables as files in `folder` (scans split by month) and a mapping for them:
    the example mapping with `from:` pointing at the files, plus marketing spend."""
    folder.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'Europe/Berlin'")
    tables = product_tables(raw)
    options = "(format csv, header)" if suffix == ".csv" else "(format parquet)"
    try:
        for name, table in tables.items():
            connection.register("rows", table)
            zoned = ", ".join(
                f"timezone('UTC', {column}) as {column}" for column in ZONED.get(name, ())
            )
            select = f"select * replace ({zoned}) from rows" if zoned else "select * from rows"
            if name == "resume_scans":
                for month in (1, 2, 3):
                    connection.execute(
                        f"copy ({select} where month(created_at) = {month}) "
                        f"to '{folder}/{name}-2025-0{month}{suffix}' {options}"
                    )
            else:
                connection.execute(f"copy ({select}) to '{folder}/{name}{suffix}' {options}")
            connection.unregister("rows")
        (folder / "spend").mkdir(exist_ok=True)
        connection.execute(
            "copy (select spend_date as day, channel as source,"
            " cast(spend_usd as varchar) as amount"
            f" from read_parquet('{raw}/raw_marketing_spend.parquet'))"
            f" to '{folder}/spend/spend.csv' (format csv, header)"
        )
    finally:
        connection.close()
    mapping = folder / "product.yml"
    text = EXAMPLE_MAPPING.read_text()
    text = text.replace("from: accounts", f"from: accounts{suffix}")
    text = text.replace("from: resume_scans", f"from: resume_scans-*{suffix}")
    text = text.replace("from: web_sessions", f"from: web_sessions{suffix}")
    mapping.write_text(text + SPEND)
    return mapping


def generated(raw: Path, table: str) -> str:
    return f"select * from read_parquet('{raw}/{table}.parquet')"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_files_in_another_layout_import_as_the_generated_rows(
    product_raw: Path, tmp_path: Path, suffix: str
) -> None:
    mapping = write_exports(product_raw, tmp_path / "exports", suffix)
    out = tmp_path / "raw"
    manifest = import_files(out, mapping=mapping, append=False)
    users = (
        "select * replace (null::varchar as email, null::varchar as full_name)"
        " from read_parquet('{}/raw_users.parquet')"
    )
    assert differing_rows(users.format(product_raw), users.format(out)) == (0, 0)
    for table in ("raw_scans", "raw_sessions", "raw_marketing_spend"):
        assert differing_rows(generated(product_raw, table), generated(out, table)) == (0, 0)
    assert set(manifest["absent_tables"]) == {"raw_subscriptions", "raw_invoices"}


def test_append_adds_the_rows_of_new_files(product_raw: Path, tmp_path: Path) -> None:
    mapping = write_exports(product_raw, tmp_path / "exports", ".csv")
    march = tmp_path / "exports" / "resume_scans-2025-03.csv"
    held_back = march.read_text()
    march.unlink()
    out = tmp_path / "raw"
    first = import_files(out, mapping=mapping, append=False)
    march.write_text(held_back)
    second = import_files(out, mapping=mapping, append=True)

    march_rows = len(held_back.splitlines()) - 1
    assert march_rows > 0
    assert second["row_counts"]["raw_scans"] == first["row_counts"]["raw_scans"] + march_rows
    assert differing_rows(generated(product_raw, "raw_scans"), generated(out, "raw_scans")) == (
        0,
        0,
    )
    state = json.loads((out / "_manifest.json").read_text())["sources"]["files"]["state"]
    assert state["tables"]["raw_scans"]["max"].startswith("2025-03-")


def test_a_glob_matching_nothing_names_the_mapping_key(tmp_path: Path) -> None:
    mapping = tmp_path / "product.yml"
    mapping.write_text(SPEND)
    with pytest.raises(SourceError) as raised:
        import_files(tmp_path / "raw", mapping=mapping, append=False)
    assert str(raised.value) == (
        f"{mapping}: raw_marketing_spend.from: 'spend/*.csv' matches no file "
        f"({tmp_path}/spend/*.csv)"
    )


def test_a_value_that_does_not_convert_names_row_and_column(tmp_path: Path) -> None:
    mapping = tmp_path / "product.yml"
    mapping.write_text(SPEND)
    (tmp_path / "spend").mkdir()
    (tmp_path / "spend" / "a.csv").write_text(
        "day,source,amount\n2025-01-01,referral,12.50\n2025-01-02,referral,12.5O\n"
    )
    with pytest.raises(SourceError) as raised:
        import_files(tmp_path / "raw", mapping=mapping, append=False)
    message = str(raised.value)
    assert message.startswith("files: raw_marketing_spend row ")
    assert "2025-01-02" in message and "spend_usd '12.5O'" in message


def test_an_expression_duckdb_rejects_names_the_key(tmp_path: Path) -> None:
    mapping = tmp_path / "product.yml"
    mapping.write_text(SPEND.replace("channel: source", "channel: sauce"))
    (tmp_path / "spend").mkdir()
    (tmp_path / "spend" / "a.csv").write_text("day,source,amount\n2025-01-01,referral,12.50\n")
    with pytest.raises(SourceError, match=r"raw_marketing_spend\.columns\.channel: DuckDB: "):
        import_files(tmp_path / "raw", mapping=mapping, append=False)


def test_an_expression_giving_two_columns_names_the_key(tmp_path: Path) -> None:
    mapping = tmp_path / "product.yml"
    mapping.write_text(SPEND.replace("channel: source", "channel: source, day"))
    (tmp_path / "spend").mkdir()
    (tmp_path / "spend" / "a.csv").write_text("day,source,amount\n2025-01-01,referral,12.50\n")
    with pytest.raises(SourceError) as raised:
        import_files(tmp_path / "raw", mapping=mapping, append=False)
    assert str(raised.value) == (
        f"{mapping}: raw_marketing_spend.columns.channel: 'source, day' gives 2 columns, not one"
        " (a comma outside parentheses?)"
    )
    assert not (tmp_path / "raw").exists()
