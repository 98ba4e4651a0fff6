"""Every setting JobMetrics reads, in one place: environment variables with documented defaults.

The dbt project (profiles.yml, dbt_project.yml) reads the same variables with the same defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from jobmetrics.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _number(name: str, default: str, kind: type[int] | type[float]) -> int | float:
    """A numeric setting; a value that is not a number is a user error naming the variable."""
    value = _env(name, default)
    try:
        return kind(value)
    except ValueError:
        raise UserError(
            f"{name}={value!r} is not a {'whole ' if kind is int else ''}number"
        ) from None


def _path(name: str, default: str) -> Path:
    """A path setting; relative values are relative to the project root."""
    path = Path(_env(name, default)).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment taken when `load()` is called."""

    raw_dir: Path
    """JOBMETRICS_RAW_DIR: raw Parquet files written by the generator (default data/raw)."""
    warehouse: Path
    """JOBMETRICS_WAREHOUSE: the DuckDB warehouse file (default data/jobmetrics.duckdb)."""
    site_dir: Path
    """JOBMETRICS_SITE_DIR: the static report site (default site)."""
    dbt_target_dir: Path
    """DBT_TARGET_PATH: dbt's artifacts (manifest.json, catalog.json; default target)."""
    threads: int
    """JOBMETRICS_THREADS: dbt threads, also DuckDB threads (default 2)."""
    memory_limit: str
    """JOBMETRICS_MEMORY_LIMIT: DuckDB memory_limit for builds (default 8GB)."""
    anthropic_api_key: str
    """ANTHROPIC_API_KEY: enables Claude narratives and `ask`; empty means offline."""
    ai_model: str
    """JOBMETRICS_AI_MODEL: Claude model for narratives and ask (default claude-sonnet-5-5)."""
    ai_max_tokens: int
    """JOBMETRICS_AI_MAX_TOKENS: max output tokens per call (default 1024)."""
    ai_timeout_s: float
    """JOBMETRICS_AI_TIMEOUT_S: seconds before an API call is abandoned (default 30)."""
    ai_max_retries: int
    """JOBMETRICS_AI_MAX_RETRIES: SDK retries on 429/5xx/timeouts (default 2)."""
    ai_input_usd_per_mtok: float
    """JOBMETRICS_AI_INPUT_USD_PER_MTOK: input price per million tokens (default 3.00)."""
    ai_output_usd_per_mtok: float
    """JOBMETRICS_AI_OUTPUT_USD_PER_MTOK: output price per million tokens (default 15.00)."""
    ask_row_limit: int
    """JOBMETRICS_ASK_ROW_LIMIT: most rows `jobmetrics ask` fetches from its query (default 200)."""
    ask_timeout_s: float
    """JOBMETRICS_ASK_TIMEOUT_S: seconds before `ask`'s query is interrupted (default 20)."""

    @property
    def data_dir(self) -> Path:
        """The folder holding the warehouse (its lock, staging copies and caches live here)."""
        return self.warehouse.parent


def load() -> Settings:
    """Read the settings from the environment now."""
    return Settings(
        raw_dir=_path("JOBMETRICS_RAW_DIR", "data/raw"),
        warehouse=_path("JOBMETRICS_WAREHOUSE", "data/jobmetrics.duckdb"),
        site_dir=_path("JOBMETRICS_SITE_DIR", "site"),
        dbt_target_dir=_path("DBT_TARGET_PATH", "target"),
        threads=_number("JOBMETRICS_THREADS", "2", int),
        memory_limit=_env("JOBMETRICS_MEMORY_LIMIT", "8GB"),
        anthropic_api_key=_env("ANTHROPIC_API_KEY", ""),
        ai_model=_env("JOBMETRICS_AI_MODEL", "claude-sonnet-5-5"),
        ai_max_tokens=_number("JOBMETRICS_AI_MAX_TOKENS", "1024", int),
        ai_timeout_s=_number("JOBMETRICS_AI_TIMEOUT_S", "30", float),
        ai_max_retries=_number("JOBMETRICS_AI_MAX_RETRIES", "2", int),
        ai_input_usd_per_mtok=_number("JOBMETRICS_AI_INPUT_USD_PER_MTOK", "3.00", float),
        ai_output_usd_per_mtok=_number("JOBMETRICS_AI_OUTPUT_USD_PER_MTOK", "15.00", float),
        ask_row_limit=_number("JOBMETRICS_ASK_ROW_LIMIT", "200", int),
        ask_timeout_s=_number("JOBMETRICS_ASK_TIMEOUT_S", "20", float),
    )
