"""A real, throw-away PostgreSQL server for the tests (Debian's `postgresql` package).

    server = PostgresServer.start()        # initdb + pg_ctl start on a free port
    with server.connect("shop") as conn:   # server.create_database("shop") first
        load_table(conn, "accounts", arrow_table, types={"id": "uuid"})
    server.stop()                          # pg_ctl stop -m immediate; removes the folder

PostgreSQL refuses to run as root, and CI and the development machines run the tests as root:
there initdb and pg_ctl run as the `postgres` system user (runuser), in a folder of their own under
/tmp owned by that user. Local connections (the Unix socket in that folder) need no password;
TCP connections to 127.0.0.1 need the superuser's password, PASSWORD, so tests can see how a
wrong one is reported.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pyarrow as pa

PREFERRED_VERSION = "15"
SUPERUSER = "postgres"
PASSWORD = "jm-test-secret-5f1c"
INSTALL_HINT = (
    "PostgreSQL server binaries not found (/usr/lib/postgresql/<version>/bin/initdb): install "
    "Debian's postgresql package (apt-get install postgresql; scripts/install_test_tools.sh "
    "does it)"
)


def find_bin_dir() -> Path:
    """The bin folder of PostgreSQL 15, else of the newest installed version."""
    preferred = Path(f"/usr/lib/postgresql/{PREFERRED_VERSION}/bin")
    if (preferred / "initdb").is_file():
        return preferred
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if not found:
        raise RuntimeError(INSTALL_HINT)
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    folder: Path  # data/, socket/, server.log
    port: int
    bin_dir: Path
    as_user: list[str]  # the command prefix running a tool as the server's owner

    @classmethod
    def start(cls) -> PostgresServer:
        """initdb in a new folder under /tmp and start the server on a free port; stopped at
        interpreter exit at the latest."""
        bin_dir = find_bin_dir()
        as_user: list[str] = []
        folder = Path(tempfile.mkdtemp(prefix="jm-pg-"))
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(folder, ignore_errors=True)
                raise RuntimeError(
                    "running as root and there is no `postgres` system user to run PostgreSQL "
                    f"as: {INSTALL_HINT}"
                ) from None
            os.chown(folder, owner.pw_uid, owner.pw_gid)
            as_user = ["runuser", "-u", "postgres", "--"]
        (folder / "socket").mkdir()
        if as_user:
            os.chown(folder / "socket", owner.pw_uid, owner.pw_gid)
        password_file = folder / "password"
        password_file.write_text(PASSWORD + "\n")
        if as_user:
            os.chown(password_file, owner.pw_uid, owner.pw_gid)
        server = cls(folder, free_port(), bin_dir, as_user)
        try:
            server._run(
                "initdb",
                "-D",
                str(folder / "data"),
                "-U",
                SUPERUSER,
                f"--pwfile={password_file}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )
            options = (
                f"-p {server.port} -k {folder / 'socket'} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            server._run(
                "pg_ctl",
                "-D",
                str(folder / "data"),
                "-o",
                options,
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            )
        except BaseException:
            server.stop()
            raise
        atexit.register(server.stop)
        return server

    def _run(self, tool: str, *arguments: str) -> None:
        command = [*self.as_user, str(self.bin_dir / tool), *arguments]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.is_file() else ""
            raise RuntimeError(
                f"{tool} failed ({done.returncode}): {done.stderr.strip()}\n{tail}".strip()
            )

    def stop(self) -> None:
        """Stop the server at once (no checkpoint) and remove its folder; safe to call twice."""
        if (self.folder / "data" / "postmaster.pid").is_file():
            command = [*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data")]
            subprocess.run(
                [*command, "-m", "immediate", "-w", "stop"], capture_output=True, check=False
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    def dsn(self, dbname: str = "postgres", *, tcp: bool = False, password: str = PASSWORD) -> str:
        """A libpq connection string: the Unix socket (no password), or TCP with a password."""
        if tcp:
            return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{dbname}"
        return f"host={self.folder / 'socket'} port={self.port} user={SUPERUSER} dbname={dbname}"

    def create_database(self, name: str, *, timezone: str = "UTC") -> str:
        """A new empty database (its sessions' TimeZone set to `timezone`); returns its DSN."""
        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'drop database if exists "{name}"')
            connection.execute(f'create database "{name}"')
            connection.execute(f"alter database \"{name}\" set timezone = '{timezone}'")
        return self.dsn(name)

    @contextlib.contextmanager
    def connect(self, dbname: str) -> Iterator[psycopg.Connection]:
        """A connection that commits on leaving the block."""
        with psycopg.connect(self.dsn(dbname)) as connection:
            yield connection


_PG_TYPES = {
    pa.int64(): "bigint",
    pa.int32(): "integer",
    pa.float64(): "double precision",
    pa.string(): "text",
    pa.bool_(): "boolean",
    pa.date32(): "date",
}


def pg_type(arrow: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow):
        return "timestamptz" if arrow.tz else "timestamp"
    if pa.types.is_decimal(arrow):
        return f"numeric({arrow.precision},{arrow.scale})"
    return _PG_TYPES[arrow]


def load_table(
    connection: psycopg.Connection,
    name: str,
    table: pa.Table,
    *,
    types: dict[str, str] | None = None,
    primary_key: str | None = None,
) -> None:
    """Create table `name` with the Arrow table's columns and copy its rows in. `types`
    overrides a column's PostgreSQL type (e.g. uuid, timestamptz); naive timestamps loaded into
    timestamptz are taken as UTC."""
    types = types or {}
    columns = []
    for field in table.schema:
        kind = types.get(field.name, pg_type(field.type))
        columns.append(f'"{field.name}" {kind}')
        if kind == "timestamptz" and pa.types.is_timestamp(field.type) and not field.type.tz:
            index = table.schema.get_field_index(field.name)
            table = table.set_column(
                index, field.name, table[field.name].cast(pa.timestamp("us", tz="UTC"))
            )
    if primary_key:
        columns.append(f'primary key ("{primary_key}")')
    names = ", ".join(f'"{field}"' for field in table.column_names)
    with connection.cursor() as cursor:
        cursor.execute(f'create table "{name}" ({", ".join(columns)})')
        with cursor.copy(f'copy "{name}" ({names}) from stdin') as copy:
            for batch in table.to_batches(50_000):
                for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                    copy.write_row(row)


def product_tables(raw: Path, *, uuid_keys: bool = False) -> dict[str, pa.Table]:
    """A generated raw folder's users, scans and sessions in the layout of a product database,
    as jobmetrics/importers/product.example.yml maps it: accounts, resume_scans, web_sessions
    (other names, lower-case countries, a success flag, durations in seconds). With uuid_keys,
    account ids are uuids ('00000000-0000-4000-8000-' + the user_id in 12 digits)."""
    import duckdb

    account = (
        "('00000000-0000-4000-8000-' || lpad(cast({0} as varchar), 12, '0'))"
        if uuid_keys
        else "{0}"
    )
    queries = {
        "accounts": f"""
            select {account.format("user_id")} as id, email, full_name as display_name,
                lower(country) as country_code, segment as persona,
                acquisition_channel as utm_source, device as signup_platform,
                signed_up_at as created_at, signed_up_at as updated_at
            from read_parquet('{raw}/raw_users.parquet')""",
        "resume_scans": f"""
            select scan_id as id, {account.format("user_id")} as account_id,
                scanned_at as created_at, match_rate as match_score,
                cast(processing_ms / 1000 as decimal(12, 3)) as duration_seconds,
                keywords_extracted as keyword_count, upper(resume_format) as file_extension,
                job_category as job_family, status = 'completed' as succeeded
            from read_parquet('{raw}/raw_scans.parquet')""",
        "web_sessions": f"""
            select session_id as id, visitor_id as anonymous_id,
                {account.format("user_id")} as account_id, started_at,
                channel as utm_source, device as device_type, landing_page as landing_path
            from read_parquet('{raw}/raw_sessions.parquet')""",
    }
    connection = duckdb.connect()
    try:
        return {name: connection.sql(query).to_arrow_table() for name, query in queries.items()}
    finally:
        connection.close()


PRODUCT_TYPES = {
    "accounts": {"created_at": "timestamptz", "updated_at": "timestamptz"},
    "resume_scans": {"created_at": "timestamptz"},
    "web_sessions": {"started_at": "timestamptz"},
}
"""The product tables' PostgreSQL types where they differ from the Arrow ones (times with zone)."""


def load_product_tables(connection: psycopg.Connection, tables: dict[str, pa.Table]) -> None:
    """Create and fill the product tables (uuid account ids when the ids are text)."""
    for name, table in tables.items():
        types = dict(PRODUCT_TYPES[name])
        for column in ("id", "account_id"):
            if column in table.column_names and pa.types.is_string(table[column].type):
                types[column] = "uuid"
        load_table(connection, name, table, types=types, primary_key="id")
