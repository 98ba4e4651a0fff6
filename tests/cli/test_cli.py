"""The command line: help everywhere, one-line errors with exit code 2, machine-readable output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jobmetrics.cli import app, main

SUBCOMMANDS = sorted(
    command.name or command.callback.__name__ for command in app.registered_commands
)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobmetrics.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert "Usage:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["frobnicate"], "No such command"),
        (["generate", "--users", "many"], "--users"),
        (["build", "--bogus"], "--bogus"),
        (["generate", "--users", "0"], "users"),
        (["generate", "--days", "-3"], "days"),
        (["generate", "--start-date", "2025-13-01"], "2025-13-01"),
    ],
)
def test_user_mistakes_give_one_line_and_exit_2(
    args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if args[0] == "generate":
        args = [*args, "--out", str(tmp_path / "raw")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and expected in err
    assert not (tmp_path / "raw").exists()


def test_generate_into_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli("generate", "--users", "50", "--days", "30", "--out", str(blocker / "raw"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: ") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_generate_json_reports_the_manifest(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    result = run_cli(
        "generate",
        "--users",
        "200",
        "--days",
        "60",
        "--start-date",
        "2025-01-01",
        "--out",
        str(out),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["out"] == str(out)
    assert payload["row_counts"]["raw_users"] == 200
    assert result.stderr == ""


def test_build_without_raw_data_names_the_folder(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "JOBMETRICS_RAW_DIR": str(tmp_path / "nowhere"),
        "JOBMETRICS_WAREHOUSE": str(tmp_path / "wh.duckdb"),
    }
    result = run_cli("build", "--quiet", env=env)
    assert result.returncode == 2
    assert str(tmp_path / "nowhere") in result.stderr
    assert not (tmp_path / "wh.duckdb").exists()
