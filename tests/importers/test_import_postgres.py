"""`jobmetrics import postgres` against a real PostgreSQL server (tests/importers/conftest.py):
generated rows loaded into tables of a product database's layout come back as the same raw rows,
checked with DuckDB over both folders, not with the importer's code."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from jobmetrics.importers import postgres
from jobmetrics.importers.errors import SourceError
from jobmetrics.importers.postgres import import_postgres
from tests.importers.conftest import EXAMPLE_MAPPING, differing_rows
from tests.importers.postgres_server import (
    PASSWORD,
    PostgresServer,
    load_product_tables,
    product_tables,
)

UUID_PREFIX = "00000000-0000-4000-8000-"


def product_database(server: PostgresServer, raw: Path, name: str, **options) -> str:
    """A new database holding the generated rows as product tables; returns its DSN. Sessions
    default to Berlin time: the importer must still read UTC."""
    dsn = server.create_database(name, timezone="Europe/Berlin")
    with server.connect(name) as connection:
        load_product_tables(connection, product_tables(raw, **options))
    return dsn


def generated(raw: Path, table: str, *, without: str = "") -> str:
    exclude = f" exclude ({without})" if without else ""
    return f"select *{exclude} from read_parquet('{raw}/{table}.parquet')"


def test_example_mapping_imports_the_generated_rows(
    postgres_server: PostgresServer, product_raw: Path, tmp_path: Path, monkeypatch
) -> None:
    dsn = product_database(postgres_server, product_raw, "example")
    monkeypatch.setattr(postgres, "ROWS_PER_BATCH", 4_000)  # several batches per table
    seen = []
    manifest = import_postgres(
        tmp_path / "raw", mapping=EXAMPLE_MAPPING, dsn=dsn, append=False, progress=seen.append
    )
    out = tmp_path / "raw"
    users = (
        "select * replace (null::varchar as email, null::varchar as full_name)"
        " from read_parquet('{}/raw_users.parquet')"
    )
    assert differing_rows(users.format(product_raw), users.format(out)) == (0, 0)
    # email and full_name are not mapped: no personal data was copied
    assert differing_rows(generated(out, "raw_users"), users.format(out)) == (0, 0)
    for table in ("raw_scans", "raw_sessions"):
        assert differing_rows(generated(product_raw, table), generated(out, table)) == (0, 0)
    assert set(manifest["absent_tables"]) == {
        "raw_subscriptions",
        "raw_invoices",
        "raw_marketing_spend",
    }
    assert "raw_sessions: 8,000 rows" in seen  # progress per batch


def test_uuid_keys_get_one_id_per_user_in_every_table(
    postgres_server: PostgresServer, product_raw: Path, tmp_path: Path
) -> None:
    dsn = product_database(postgres_server, product_raw, "uuids", uuid_keys=True)
    mapping = tmp_path / "product.yml"
    # the `sql:` form for users, mapping email (copied, as mapped); the example for the rest
    example = EXAMPLE_MAPPING.read_text().split("raw_scans:")[1]
    mapping.write_text(
        "raw_users:\n  sql: >\n"
        "    select id as user_id, email, upper(country_code) as country, persona as segment,\n"
        "    utm_source as acquisition_channel, signup_platform as device,\n"
        "    created_at as signed_up_at from accounts\n"
        "raw_scans:" + example
    )
    out = tmp_path / "raw"
    import_postgres(out, mapping=mapping, dsn=dsn, append=False)

    # the uuid's last 12 digits are the generated user_id: translate the imported ids back
    ids = f"read_parquet('{out}/_ids_product_user.parquet')"
    back = f"(select cast(right(source_id, 12) as bigint) from {ids} where id = t.user_id)"
    imported = "select * replace ({back} as user_id) from read_parquet('{out}/{table}.parquet') t"
    for table, without in (("raw_users", "full_name"), ("raw_scans", ""), ("raw_sessions", "")):
        expected = generated(product_raw, table, without=without)
        actual = imported.format(back=back, out=out, table=table)
        if without:
            actual = f"select * exclude ({without}) from ({actual})"
        assert differing_rows(expected, actual) == (0, 0), table


def test_append_reads_only_rows_from_the_saved_incremental_value_on(
    postgres_server: PostgresServer, product_raw: Path, tmp_path: Path
) -> None:
    dsn = product_database(postgres_server, product_raw, "appends")
    out = tmp_path / "raw"
    import_postgres(out, mapping=EXAMPLE_MAPPING, dsn=dsn, append=False)
    state = json.loads((out / "_manifest.json").read_text())["sources"]["postgres"]["state"]
    last = state["tables"]["raw_scans"]["max"]
    with postgres_server.connect("appends") as connection:
        connection.execute(
            "insert into resume_scans select id + 1000000, account_id,"
            " created_at + interval '70 days', match_score, duration_seconds, keyword_count,"
            " file_extension, job_family, succeeded from resume_scans where id <= 10"
        )
        # an old scan disappears from the source: not read again, so it stays in the folder
        connection.execute("delete from resume_scans where id = 1")
    import_postgres(out, mapping=EXAMPLE_MAPPING, dsn=dsn, append=True)

    scans = generated(product_raw, "raw_scans")
    new = (
        f"select scan_id + 1000000 as scan_id, * exclude (scan_id) replace "
        f"(scanned_at + interval '70 days' as scanned_at) from ({scans}) where scan_id <= 10"
    )
    assert differing_rows(f"{scans} union all {new}", generated(out, "raw_scans")) == (0, 0)
    state = json.loads((out / "_manifest.json").read_text())["sources"]["postgres"]["state"]
    assert state["tables"]["raw_scans"]["max"] > last


def test_until_leaves_later_events_to_the_next_import(
    postgres_server: PostgresServer, product_raw: Path, tmp_path: Path
) -> None:
    """--until: rows after that day (UTC) are not read, the saved state stops there too, so
    the next --append reads them; the two imports together equal one of everything."""
    dsn = product_database(postgres_server, product_raw, "until")
    out, last_day = tmp_path / "raw", date(2025, 1, 31)
    manifest = import_postgres(out, mapping=EXAMPLE_MAPPING, dsn=dsn, until=last_day)
    assert manifest["data_end"] == "2025-01-31"
    for table, column in (("raw_scans", "scanned_at"), ("raw_sessions", "started_at")):
        early = f"{generated(product_raw, table)} where {column} < '2025-02-01'"
        assert differing_rows(early, generated(out, table)) == (0, 0), table
    import_postgres(out, mapping=EXAMPLE_MAPPING, dsn=dsn, append=True)
    for table in ("raw_scans", "raw_sessions"):
        assert differing_rows(generated(product_raw, table), generated(out, table)) == (0, 0)


@pytest.mark.parametrize(
    ("country", "problem"),
    [
        ("upper(country_cod)", 'PostgreSQL: column "country_cod" does not exist'),
        (
            "upper(country_code), id",
            "'upper(country_code), id' gives 2 columns, not one (a comma outside parentheses?)",
        ),
    ],
    ids=["unknown column", "two columns"],
)
def test_a_bad_expression_names_the_mapping_key_and_the_problem(
    postgres_server: PostgresServer, product_raw: Path, tmp_path: Path, country: str, problem: str
) -> None:
    dsn = product_database(postgres_server, product_raw, "badsql")
    mapping = tmp_path / "product.yml"
    mapping.write_text(EXAMPLE_MAPPING.read_text().replace("upper(country_code)", country))
    with pytest.raises(SourceError) as raised:
        import_postgres(tmp_path / "raw", mapping=mapping, dsn=dsn, append=False)
    assert str(raised.value) == f"{mapping}: raw_users.columns.country: {problem}"
    assert not (tmp_path / "raw").exists()


def test_reads_in_a_read_only_transaction(
    postgres_server: PostgresServer, product_raw: Path, tmp_path: Path
) -> None:
    dsn = product_database(postgres_server, product_raw, "readonly")
    mapping = tmp_path / "product.yml"
    mapping.write_text(
        EXAMPLE_MAPPING.read_text().replace("from: accounts", "from: accounts for update")
    )
    with pytest.raises(SourceError, match="raw_users.from: PostgreSQL: cannot execute SELECT FOR"):
        import_postgres(tmp_path / "raw", mapping=mapping, dsn=dsn, append=False)


def test_a_mapping_cannot_leave_the_read_only_transaction(
    postgres_server: PostgresServer, product_raw: Path, tmp_path: Path
) -> None:
    """A `from:` smuggling statements (commit, then a write) is one line, and writes nothing:
    every transaction of the import's session is read-only."""
    dsn = product_database(postgres_server, product_raw, "smuggle")
    mapping = tmp_path / "product.yml"
    mapping.write_text(
        EXAMPLE_MAPPING.read_text().replace(
            "from: accounts",
            'from: "accounts limit 0; commit; create table pwned (x int); select * from accounts"',
        )
    )
    with pytest.raises(SourceError) as raised:
        import_postgres(tmp_path / "raw", mapping=mapping, dsn=dsn, append=False)
    assert str(raised.value).startswith("postgres")
    assert "\n" not in str(raised.value)
    with postgres_server.connect("smuggle") as connection:
        assert connection.execute("select to_regclass('pwned')").fetchone()[0] is None
    assert not (tmp_path / "raw").exists()


@pytest.mark.parametrize(
    "dsn",
    ["postgresql://reader:s3cr3t w0rd@localhost/db", "host=localhost password=ab3 cd9 dbname=x"],
    ids=["url-with-space", "keywords-with-space"],
)
def test_a_connection_string_that_does_not_parse_shows_no_part_of_it(
    tmp_path: Path, dsn: str
) -> None:
    with pytest.raises(SourceError) as raised:
        import_postgres(tmp_path / "raw", mapping=EXAMPLE_MAPPING, dsn=dsn, append=False)
    message = str(raised.value)
    assert "does not parse" in message
    for piece in ("s3cr3t", "w0rd", "ab3", "cd9"):
        assert piece not in message


def test_a_null_key_is_reported_with_table_and_column(
    postgres_server: PostgresServer, product_raw: Path, tmp_path: Path
) -> None:
    dsn = product_database(postgres_server, product_raw, "nullkey")
    with postgres_server.connect("nullkey") as connection:
        connection.execute("alter table resume_scans drop constraint resume_scans_pkey")
        connection.execute("alter table resume_scans alter column id drop not null")
        connection.execute("update resume_scans set id = null where id = 5")
    with pytest.raises(SourceError, match=r"^postgres: raw_scans row .*scan_id.* empty"):
        import_postgres(tmp_path / "raw", mapping=EXAMPLE_MAPPING, dsn=dsn, append=False)


@pytest.mark.parametrize("tcp", [True, False], ids=["wrong-password", "unparsable"])
def test_failed_connection_does_not_show_the_password(
    postgres_server: PostgresServer, tmp_path: Path, tcp: bool
) -> None:
    secret = "Sup3r-s3cret"
    dsn = (
        postgres_server.dsn("postgres", tcp=True, password=secret)
        if tcp
        else f"postgresql://reader:{secret}@localhost:notaport/db"
    )
    with pytest.raises(SourceError) as raised:
        import_postgres(tmp_path / "raw", mapping=EXAMPLE_MAPPING, dsn=dsn, append=False)
    message = str(raised.value)
    assert message.startswith("postgres: cannot connect to ")
    assert secret not in message and PASSWORD not in message
    assert "\n" not in message
    if tcp:
        assert 'password authentication failed for user "postgres"' in message


@pytest.mark.parametrize(
    "dsn",
    [
        "host=127.0.0.1 port=1 user=reader password=Sup3r-s3cret dbname=product",
        "host=127.0.0.1 port=1 user=reader password='Sup3r-s3cret' dbname=product",
        "postgresql://reader:Sup3r-s3cret@127.0.0.1:1/product",
    ],
)
def test_a_refused_connection_shows_where_but_not_the_password(tmp_path: Path, dsn: str) -> None:
    with pytest.raises(SourceError) as raised:
        import_postgres(tmp_path / "raw", mapping=EXAMPLE_MAPPING, dsn=dsn, append=False)
    message = str(raised.value)
    assert "Sup3r-s3cret" not in message
    assert "host=127.0.0.1 port=1 user=reader dbname=product" in message
    assert "Connection refused" in message


EXAMPLE = EXAMPLE_MAPPING.read_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            EXAMPLE.replace("from: accounts", "from: acounts"),
            'raw_users.from: PostgreSQL: relation "acounts"',
        ),
        (
            EXAMPLE.replace("incremental: updated_at", "incremental: updatd_at"),
            "raw_users.incremental: ",
        ),
        (
            "raw_users:\n  sql: select * fro accounts\n",
            'raw_users.sql: PostgreSQL: syntax error at or near "fro"',
        ),
    ],
    ids=["from", "incremental", "sql"],
)
def test_each_sql_part_of_the_mapping_is_named_when_rejected(
    postgres_server: PostgresServer, product_raw: Path, tmp_path: Path, text: str, message: str
) -> None:
    dsn = product_database(postgres_server, product_raw, "badparts")
    mapping = tmp_path / "product.yml"
    mapping.write_text(text)
    with pytest.raises(SourceError) as raised:
        import_postgres(tmp_path / "raw", mapping=mapping, dsn=dsn, append=False)
    assert str(raised.value).startswith(f"{mapping}: {message}")


def test_without_postgresql_the_fixture_says_what_to_install(monkeypatch) -> None:
    from tests.importers import postgres_server

    monkeypatch.setattr(postgres_server, "PREFERRED_VERSION", "0")
    monkeypatch.setattr(postgres_server.glob, "glob", lambda _pattern: [])
    with pytest.raises(RuntimeError, match=r"apt-get install postgresql"):
        postgres_server.find_bin_dir()
