"""Settings and keys from a .env file: the commands read it, the environment wins over it, a bad
line is named by its number, and no value from it is ever printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jobmetrics.core.settings import PROJECT_ROOT

JOBMETRICS = str(Path(sys.executable).parent / "jobmetrics")


def run(args: list[str], env_file: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("JOBMETRICS_RAW_DIR", "STRIPE_API_KEY")
    }
    environment.update(JOBMETRICS_ENV_FILE=str(env_file), **env)
    return subprocess.run(
        [JOBMETRICS, *args], capture_output=True, text=True, env=environment, timeout=120
    )


def test_a_setting_in_the_env_file_reaches_the_command(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"# our settings\nJOBMETRICS_RAW_DIR={tmp_path / 'from-file'}\n")
    result = run(["import", "stripe", "--mapping", "m.yml", "--out", str(tmp_path / "o")], env_file)
    # STRIPE_API_KEY is in neither place: the command says so, having read the file
    assert result.returncode == 2
    assert "STRIPE_API_KEY is not set (environment or .env)" in result.stderr
    result = run(["build"], env_file)
    assert result.returncode == 2
    assert f"no raw data folder at {tmp_path / 'from-file'}" in result.stderr


def test_the_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"JOBMETRICS_RAW_DIR={tmp_path / 'from-file'}\n")
    result = run(["build"], env_file, JOBMETRICS_RAW_DIR=str(tmp_path / "from-env"))
    assert result.returncode == 2
    assert f"no raw data folder at {tmp_path / 'from-env'}" in result.stderr
    assert "from-file" not in result.stderr


def test_a_bad_line_is_named_by_number_without_any_value(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("STRIPE_API_KEY=rk_live_secret123\nthis line is not a setting\n")
    result = run(["build"], env_file)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {env_file}:2: not a KEY=value line (nothing of the file was used)"
    )
    assert "rk_live_secret123" not in result.stdout + result.stderr


def test_a_bad_key_from_the_env_file_is_refused_without_showing_it(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('STRIPE_API_KEY="rk_live_abc def"\n')
    result = run(["import", "stripe", "--mapping", "m.yml", "--out", str(tmp_path / "o")], env_file)
    assert result.returncode == 2
    assert "STRIPE_API_KEY contains whitespace" in result.stderr
    assert "rk_live_abc" not in result.stdout + result.stderr


def test_the_env_file_is_git_ignored() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", ".env"], cwd=PROJECT_ROOT, timeout=30
    )
    assert ignored.returncode == 0


def test_values_are_taken_as_written(tmp_path: Path, monkeypatch) -> None:
    """A password with `${` in it is not expanded (python-dotenv would, by default)."""
    from jobmetrics.core.settings import load_env_file

    env_file = tmp_path / ".env"
    env_file.write_text("JOBMETRICS_TEST_SECRET=pa${ss}word\n")
    monkeypatch.delenv("JOBMETRICS_TEST_SECRET", raising=False)
    monkeypatch.setenv("ss", "EXPANDED")
    assert load_env_file(env_file) == ["JOBMETRICS_TEST_SECRET"]
    assert os.environ["JOBMETRICS_TEST_SECRET"] == "pa${ss}word"
    monkeypatch.delenv("JOBMETRICS_TEST_SECRET")
