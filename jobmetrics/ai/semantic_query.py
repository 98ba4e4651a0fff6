"""Run `mf query` (MetricFlow, the dbt semantic layer engine) against the warehouse.

MetricFlow reads `<project>/target/semantic_manifest.json` and ignores DBT_TARGET_PATH, so the
query runs from a throwaway folder that links the project's files and points `target` at the
settings' dbt target folder. Its profile is the project's with the DuckDB file opened read-only:
dbt-duckdb otherwise opens it for writing, which fails while anyone else reads the warehouse (a
DuckDB CLI, the report, another question) and would hold everyone else out meanwhile.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import yaml

from jobmetrics.core.settings import PROJECT_ROOT, Settings

_PROJECT_ENTRIES = ("dbt_project.yml", "models", "macros", "seeds", "analyses")


class MetricQueryFailed(Exception):
    """`mf query` failed; the message holds its last error lines."""


def mf_executable() -> str:
    beside = Path(sys.executable).with_name("mf")
    return str(beside) if beside.exists() else (shutil.which("mf") or "mf")


@contextmanager
def _project_dir(settings: Settings) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="jobmetrics-mf-") as folder:
        root = Path(folder)
        for entry in _PROJECT_ENTRIES:
            if (PROJECT_ROOT / entry).exists():
                (root / entry).symlink_to(PROJECT_ROOT / entry)
        (root / "target").symlink_to(settings.dbt_target_dir.resolve())
        (root / "profiles.yml").write_text(read_only_profile(), encoding="utf-8")
        yield root


def read_only_profile() -> str:
    """The project's profiles.yml, its DuckDB output opening the file read-only."""
    profiles = yaml.safe_load((PROJECT_ROOT / "profiles.yml").read_text(encoding="utf-8"))
    duckdb = profiles["jobmetrics"]["outputs"]["duckdb"]
    duckdb["config_options"] = {**duckdb.get("config_options", {}), "access_mode": "read_only"}
    return yaml.safe_dump(profiles, sort_keys=False)


def _number(text: str) -> float | str | None:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def mf_query(
    settings: Settings,
    metrics: Sequence[str],
    *,
    group_by: Sequence[str] = ("metric_time__month",),
    where: Sequence[str] = (),
    order: Sequence[str] = (),
    limit: int | None = None,
    start_time: str | None = None,
    end_time: str | None = None,
    timeout_s: float = 300,
) -> list[dict[str, float | str | None]]:
    """Rows of `mf query --metrics ... --group-by ...`, numbers as floats, empty as None."""
    with _project_dir(settings) as project, tempfile.TemporaryDirectory() as out:
        csv_path = Path(out) / "result.csv"
        args = [mf_executable(), "query", "--metrics", ",".join(metrics), "--csv", str(csv_path)]
        if group_by:
            args += ["--group-by", ",".join(group_by)]
        for condition in where:
            args += ["--where", condition]
        if order:
            args += ["--order", ",".join(order)]
        if limit is not None:
            args += ["--limit", str(limit)]
        if start_time:
            args += ["--start-time", start_time]
        if end_time:
            args += ["--end-time", end_time]
        env = {
            **os.environ,
            "DBT_PROFILES_DIR": str(project),
            "DBT_PROJECT_DIR": str(project),
            "JOBMETRICS_WAREHOUSE": str(settings.warehouse),
            "JOBMETRICS_RAW_DIR": str(settings.raw_dir),
        }
        env.pop("JOBMETRICS_BUILD_PATH", None)
        try:
            completed = subprocess.run(
                args, cwd=project, env=env, capture_output=True, text=True, timeout=timeout_s
            )
        except subprocess.TimeoutExpired as error:
            raise MetricQueryFailed(f"mf query timed out after {timeout_s:.0f} s") from error
        if completed.returncode != 0 or not csv_path.exists():
            lines = [line for line in (completed.stdout + completed.stderr).splitlines() if line]
            raise MetricQueryFailed(" | ".join(lines[-8:]) or "mf query failed")
        with csv_path.open(newline="", encoding="utf-8") as stream:
            return [
                {key: _number(value) for key, value in row.items()}
                for row in csv.DictReader(stream)
            ]
