"""Shared by the ops tests: run the installed `jobmetrics` command, fingerprint a warehouse."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from jobmetrics.core.code_cache import cache_file
from jobmetrics.core.serialiser_cache import cache_file as serialisers_file
from jobmetrics.warehouse.dbt_invoke import JINJA_CACHE, JSON_SCHEMAS, SAVED_PARSE_OBJECTS

JOBMETRICS = Path(sys.executable).parent / "jobmetrics"
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
SAVED_PARSE = "partial_parse.msgpack"


def cli_env(raw_dir: Path, warehouse: Path, **extra: str) -> dict[str, str]:
    """The environment of a `jobmetrics` run on raw_dir and warehouse, with dbt output in tmp.

    dbt's target folder starts with the saved parse (and its objects), the compiled templates,
    the compiled generated code, the written serialisers and JSON schemas of this test session's
    builds, as a deployment's has them after its first build: dbt parses again only what the
    changed environment touches (about 1 s) instead of the whole project (about 5 s), and
    compiles no macro or class method again.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("JOBMETRICS_") and key != "ANTHROPIC_API_KEY"
    }
    scratch = warehouse.parent
    # this session's target folder (tests/conftest.py, isolated_dbt_artifacts)
    session_target = Path(os.environ["DBT_TARGET_PATH"])
    saved_parse = session_target / SAVED_PARSE
    # (a warehouse folder the test wants absent stays absent)
    if saved_parse.is_file() and scratch.is_dir() and not (scratch / "target").exists():
        (scratch / "target").mkdir()
        shutil.copyfile(saved_parse, scratch / "target" / SAVED_PARSE)
        if (session_target / JINJA_CACHE).is_dir():
            shutil.copytree(session_target / JINJA_CACHE, scratch / "target" / JINJA_CACHE)
        kept = (  # compiled code, written serialisers, JSON schemas, the parse's objects
            cache_file(session_target),
            serialisers_file(session_target),
            session_target / JSON_SCHEMAS,
            session_target / SAVED_PARSE_OBJECTS,
        )
        for path in kept:
            if path.is_file():
                shutil.copyfile(path, scratch / "target" / path.name)
    env.update(
        {
            "JOBMETRICS_RAW_DIR": str(raw_dir),
            "JOBMETRICS_WAREHOUSE": str(warehouse),
            "JOBMETRICS_SITE_DIR": str(scratch / "site"),
            "DBT_TARGET_PATH": str(scratch / "target"),
            "DBT_LOG_PATH": str(scratch / "logs"),
            **extra,
        }
    )
    return env


def run_cli(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `.venv/bin/jobmetrics ARGS` as a user would and capture its output."""
    return subprocess.run(
        [str(JOBMETRICS), *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def start_cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    """Start `.venv/bin/jobmetrics ARGS` in the background."""
    return subprocess.Popen(
        [str(JOBMETRICS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def start_cli_with(fault: str, *args: str, env: dict[str, str]) -> subprocess.Popen:
    """Start `jobmetrics ARGS` in a Python process that first runs FAULT, test code that wraps
    a function of the package to inject a fault (a signal, a kill) at an exact point."""
    code = f"import sys\n{fault}\nfrom jobmetrics.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish(process: subprocess.Popen, timeout: float = 600) -> subprocess.CompletedProcess:
    """Wait for `process`; on timeout kill it (a stray build would hold a core for the rest of
    the run) and raise subprocess.TimeoutExpired as communicate does."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def row_counts(warehouse: Path) -> dict[str, int]:
    """Rows of every table in the warehouse, opened read-only as a CLI user would."""
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() order by 1, 2"
        ).fetchall()
        return {
            f"{schema}.{table}": connection.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
            for schema, table in tables
        }
    finally:
        connection.close()


def leftovers(warehouse: Path) -> list[str]:
    """Files a build leaves beside the warehouse other than the warehouse and its lock."""
    keep = {warehouse.name, warehouse.name + ".lock"}
    return sorted(
        path.name
        for path in warehouse.parent.iterdir()
        if path.is_file() and path.name.startswith((".", warehouse.stem)) and path.name not in keep
    )


def copy_raw(raw_dir: Path, to: Path) -> Path:
    """A private copy of a raw data folder that a test may damage."""
    shutil.copytree(raw_dir, to)
    return to


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The single `error: ...` line a user mistake must produce (asserts there is exactly one)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def processes_holding(path: Path) -> list[int]:
    """Pids of the processes (other than this one) with `path` open, read from /proc."""
    target = str(path.resolve())
    found = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        pid = int(fd_dir.parent.name)
        if pid == os.getpid():
            continue
        try:
            links = [os.readlink(fd) for fd in fd_dir.iterdir()]
        except OSError:
            continue
        if target in links:
            found.append(pid)
    return found


@contextmanager
def duckdb_cli_session(database: Path, *flags: str) -> Iterator[int]:
    """An interactive `.venv/bin/duckdb [FLAGS] DATABASE` session left open, as a user leaves a
    terminal; yields the pid of the process that has the file open (the wheel's `duckdb` is a
    Python launcher that runs the real binary as a child)."""
    session = subprocess.Popen(
        [str(DUCKDB_CLI), *flags, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (holders := processes_holding(database)):
            assert session.poll() is None, "the DuckDB CLI session ended at once"
            assert time.monotonic() < deadline, "the DuckDB CLI never opened the database"
            time.sleep(0.05)
        yield holders[0]
    finally:
        os.killpg(session.pid, signal.SIGKILL)
        session.wait()
