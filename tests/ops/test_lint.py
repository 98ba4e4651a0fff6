"""SQLFluff (dbt templater, DuckDB dialect) and ruff pass on the whole repository."""

from __future__ import annotations

import importlib.util
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from ops_helpers import SAVED_PARSE

from jobmetrics.core.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent
SQL_PATHS = ["models", "tests/dbt", "analyses"]
LINT_BUDGET_CPU_S = 150
"""CPU seconds (not wall time: the machine may be shared) that linting ~50 SQL files may take: a
guard against a lint that runs away (about 70 s alone with the Rust parser, 90 s without; CPU
time grows too when test workers share the two cores), not a speed target (those are
`make bench`'s)."""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*args], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)


@pytest.mark.slow
def test_sqlfluff_passes_on_every_model_and_singular_test(tmp_path: Path) -> None:
    """...and writes dbt's saved parse of the lint target where `target_path` says, leaving
    the builds' saved parse alone (.sqlfluff points it at target/lint: the test below)."""
    paths = [path for path in SQL_PATHS if (PROJECT_ROOT / path).is_dir()]
    # The lint's own saved parse in this test's folder instead of the repository's target/lint.
    override = tmp_path / "lint.cfg"
    override.write_text(f"[sqlfluff:templater:dbt]\ntarget_path = {tmp_path / 'lint-target'}\n")
    builds_parse = Path(os.environ["DBT_TARGET_PATH"]) / SAVED_PARSE
    builds_parse_before = builds_parse.read_bytes() if builds_parse.exists() else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run(
        str(BIN / "sqlfluff"), "lint", *paths, "--config", str(override),
        "--disable-progress-bar", "--nocolor",
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    assert "All Finished" in result.stdout + result.stderr
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < LINT_BUDGET_CPU_S, f"sqlfluff used {cpu:.0f} CPU seconds"
    assert (tmp_path / "lint-target" / SAVED_PARSE).is_file()
    builds_parse_after = builds_parse.read_bytes() if builds_parse.exists() else None
    assert builds_parse_after == builds_parse_before, "linting replaced the builds' saved parse"


def test_sqlfluff_config_renders_through_dbt_against_the_lint_target() -> None:
    """Linting never opens the warehouse: it renders with the :memory: `lint` target."""
    from configparser import ConfigParser

    config = ConfigParser()
    config.read(PROJECT_ROOT / ".sqlfluff")
    assert config["sqlfluff"]["templater"] == "dbt"
    assert config["sqlfluff"]["dialect"] == "duckdb"
    # SQLFluff's Rust lexer, parser and rules (the `rs` extra): installed, and the rules on.
    assert importlib.util.find_spec("sqlfluffrs") is not None
    assert config["sqlfluff"]["use_rust_rules"] == "True"
    assert config["sqlfluff:templater:dbt"]["target"] == "lint"
    # Not target/ itself, where `jobmetrics build` keeps its saved parse.
    assert Path(config["sqlfluff:templater:dbt"]["target_path"]).parent == Path("target")
    profiles = (PROJECT_ROOT / "profiles.yml").read_text()
    assert 'path: ":memory:"' in profiles.split("lint:", 1)[1]


def test_sqlfluff_rejects_sql_off_the_house_style(tmp_path: Path) -> None:
    """Upper-case keywords, `::` casts and a trailing select comma are reported."""
    sql = tmp_path / "bad.sql"
    sql.write_text("SELECT a::int AS b, c, FROM t\n")
    result = run(
        str(BIN / "sqlfluff"),
        "lint",
        str(sql),
        "--templater",
        "jinja",
        "--config",
        str(PROJECT_ROOT / ".sqlfluff"),
        "--nocolor",
    )
    assert result.returncode == 1
    for rule in ("CP01", "CV11", "CV03"):
        assert rule in result.stdout, result.stdout


def test_ruff_check_passes() -> None:
    result = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr


def test_ruff_format_is_applied() -> None:
    result = run(str(BIN / "ruff"), "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr
