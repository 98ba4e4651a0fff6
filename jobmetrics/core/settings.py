"""Every setting JobMetrics reads, in one place: environment variables with documented defaults.

The dbt project (profiles.yml, dbt_project.yml) reads the same variables with the same defaults.
"""

from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from jobmetrics.core.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _number(
    name: str,
    default: str,
    kind: type[int] | type[float],
    *,
    at_least: float | None = None,
    above: float | None = None,
) -> int | float:
    """A numeric setting; a value that is not a number in range is a user error naming the
    variable and the values it accepts."""
    value = _env(name, default)
    accepted = f"a {'whole ' if kind is int else ''}number"
    if at_least is not None:
        accepted += f" of at least {at_least:g}"
    if above is not None:
        accepted += f" above {above:g}"
    try:
        number = kind(value)
    except ValueError:
        number = None
    if (
        number is None
        or not math.isfinite(number)
        or (at_least is not None and number < at_least)
        or (above is not None and number <= above)
    ):
        raise UserError(f"{name}={value!r} is not accepted: use {accepted}{_default(default)}")
    return number


def _matching(name: str, default: str, pattern: str, accepted: str) -> str:
    """A setting that must match a pattern (case-insensitive), or a user error saying what fits."""
    value = _env(name, default)
    if not re.fullmatch(pattern, value, re.IGNORECASE):
        raise UserError(f"{name}={value!r} is not accepted: use {accepted}{_default(default)}")
    return value


def _default(default: str) -> str:
    return f" (default {default})" if default else " (or leave it unset)"


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    accepted = f"{', '.join(choices[:-1])} or {choices[-1]}"
    return _matching(name, default, "|".join(map(re.escape, choices)), accepted)


def _date(name: str) -> date | None:
    """An optional YYYY-MM-DD setting."""
    value = _env(name, "")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name}={value!r} is not accepted: use a date as YYYY-MM-DD") from None


def _api_key(name: str) -> str:
    """The API key: whitespace or control characters inside it (a pasted line break) would only
    fail later as connection errors on every call, so they are refused here, without the key."""
    value = _env(name, "")
    bad = next((i for i, char in enumerate(value) if not char.isprintable() or char == " "), None)
    if bad is not None:
        raise UserError(
            f"{name} contains whitespace or a control character (at position {bad + 1} of "
            f"{len(value)}): set it to the key alone, on one line"
        )
    return value


MEMORY_SIZE = r"\d+(\.\d+)?\s*[kmgt](i?b)?"
"""A DuckDB memory_limit: a number and a unit (KB, MB, GB, TB, or KiB… for powers of 1024)."""

DUCKDB_MAGIC = b"DUCK"
"""DuckDB's file signature, at byte offset 8 of every database file."""


def duckdb_file_problem(path: Path) -> str | None:
    """Why an existing path cannot be a DuckDB database, or None (also when it does not exist)."""
    if not path.exists():
        return None
    if not path.is_file():
        return "is not a file"
    try:
        with path.open("rb") as handle:
            magic = handle.read(12)[8:12]
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    return None if magic == DUCKDB_MAGIC else "is not a DuckDB database"


def _warehouse(name: str, default: str) -> Path:
    path = _path(name, default)
    problem = duckdb_file_problem(path)
    if problem is not None:
        raise UserError(
            f"{name}={str(path)!r} {problem}: point it at a DuckDB file built by "
            "`jobmetrics build`, or at a path where none exists yet"
        )
    return path


def _path(name: str, default: str) -> Path:
    """A path setting; relative values are relative to the project root."""
    path = Path(_env(name, default)).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def dbt_target_path() -> Path:
    """dbt's target folder (DBT_TARGET_PATH, default target/), as the environment says now;
    `load()` keeps it as `dbt_target_dir`."""
    return _path("DBT_TARGET_PATH", "target")


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
    """JOBMETRICS_THREADS: dbt threads, the models built at a time (default 2)."""
    memory_limit: str
    """JOBMETRICS_MEMORY_LIMIT: DuckDB memory_limit for builds (default 8GB)."""
    anthropic_api_key: str = field(repr=False)
    """ANTHROPIC_API_KEY: enables Claude narratives and `ask`; empty means offline."""
    ai_model: str
    """JOBMETRICS_AI_MODEL: Claude model for narratives and ask (default claude-sonnet-5-5)."""
    ai_max_tokens: int
    """JOBMETRICS_AI_MAX_TOKENS: max output tokens per call (default 1024)."""
    ai_timeout_s: float
    """JOBMETRICS_AI_TIMEOUT_S: seconds before an API call is abandoned (default 30)."""
    ai_max_retries: int
    """JOBMETRICS_AI_MAX_RETRIES: SDK retries on 429/5xx/timeouts (default 2)."""
    ai_budget_s: float
    """JOBMETRICS_AI_BUDGET_S: seconds all API calls of one report build (or one `ask`) may
    take together; then the remaining narratives are automatic summaries (default 60)."""
    ai_breaker_failures: int
    """JOBMETRICS_AI_BREAKER_FAILURES: consecutive failed calls after which a run stops calling
    the API (default 3)."""
    ai_input_usd_per_mtok: float
    """JOBMETRICS_AI_INPUT_USD_PER_MTOK: input price per million tokens (default 3.00)."""
    ai_output_usd_per_mtok: float
    """JOBMETRICS_AI_OUTPUT_USD_PER_MTOK: output price per million tokens (default 15.00)."""
    ask_row_limit: int
    """JOBMETRICS_ASK_ROW_LIMIT: most rows `jobmetrics ask` fetches from its query (default 200)."""
    ask_timeout_s: float
    """JOBMETRICS_ASK_TIMEOUT_S: seconds before `ask`'s query is interrupted (default 20)."""
    duckdb_threads: int
    """JOBMETRICS_DUCKDB_THREADS: DuckDB `threads` of each build query (profiles.yml; default 1,
    dbt running JOBMETRICS_THREADS queries at a time)."""
    dbt_target: str
    """JOBMETRICS_TARGET: dbt target, duckdb, spark or lint (profiles.yml; default duckdb)."""
    events_from: date | None
    """JOBMETRICS_EVENTS_FROM: earliest event date the raw check accepts (YYYY-MM-DD; default
    the first signup minus JOBMETRICS_EVENT_MARGIN_DAYS)."""
    events_until: date | None
    """JOBMETRICS_EVENTS_UNTIL: latest event date the raw check accepts (YYYY-MM-DD; default
    the day after the build)."""
    event_margin_days: int
    """JOBMETRICS_EVENT_MARGIN_DAYS: how many days before the first signup an event may be
    (visits and spend come before signups; default 31)."""
    anthropic_base_url: str
    """ANTHROPIC_BASE_URL: an http(s) URL of a compatible API, read by the SDK (default empty:
    Anthropic's API)."""
    spark_dir: Path
    """JOBMETRICS_SPARK_DIR: Spark warehouse and metastore (profiles.yml; default data/spark)."""
    spark_cores: int
    """JOBMETRICS_SPARK_CORES: local Spark master cores (profiles.yml; default 2)."""
    spark_memory: str
    """JOBMETRICS_SPARK_MEMORY: Spark driver memory, a JVM size (profiles.yml; default 2g)."""
    spark_threads: int
    """JOBMETRICS_SPARK_THREADS: dbt threads on Spark (profiles.yml; default 2)."""
    spark_partitions: int
    """JOBMETRICS_SPARK_PARTITIONS: Spark shuffle partitions (profiles.yml; default 1)."""
    stripe_api_key: str = field(repr=False)
    """STRIPE_API_KEY: a Stripe secret or restricted (read-only) key for `jobmetrics import
    stripe` (default empty: import from --json-dir instead)."""
    postgres_dsn: str = field(repr=False)
    """JOBMETRICS_POSTGRES_DSN: the product database for `jobmetrics import postgres`, a libpq
    connection string or postgresql:// URL (default empty: give --dsn)."""

    @property
    def data_dir(self) -> Path:
        """The folder holding the warehouse (its lock, staging copies and caches live here)."""
        return self.warehouse.parent


def load() -> Settings:
    """Read and check the settings from the environment now; a bad value is a UserError that
    names the variable and the values it accepts."""
    return Settings(
        raw_dir=_path("JOBMETRICS_RAW_DIR", "data/raw"),
        warehouse=_warehouse("JOBMETRICS_WAREHOUSE", "data/jobmetrics.duckdb"),
        site_dir=_path("JOBMETRICS_SITE_DIR", "site"),
        dbt_target_dir=dbt_target_path(),
        threads=_number("JOBMETRICS_THREADS", "2", int, at_least=1),
        memory_limit=_matching(
            "JOBMETRICS_MEMORY_LIMIT", "8GB", MEMORY_SIZE, "a size such as 8GB, 512MB or 2GiB"
        ),
        anthropic_api_key=_api_key("ANTHROPIC_API_KEY"),
        ai_model=_matching("JOBMETRICS_AI_MODEL", "claude-sonnet-5-5", r"[\w.:@/-]+", "a model id"),
        ai_max_tokens=_number("JOBMETRICS_AI_MAX_TOKENS", "1024", int, at_least=1),
        ai_timeout_s=_number("JOBMETRICS_AI_TIMEOUT_S", "30", float, above=0),
        ai_max_retries=_number("JOBMETRICS_AI_MAX_RETRIES", "2", int, at_least=0),
        ai_budget_s=_number("JOBMETRICS_AI_BUDGET_S", "60", float, above=0),
        ai_breaker_failures=_number("JOBMETRICS_AI_BREAKER_FAILURES", "3", int, at_least=1),
        ai_input_usd_per_mtok=_number(
            "JOBMETRICS_AI_INPUT_USD_PER_MTOK", "3.00", float, at_least=0
        ),
        ai_output_usd_per_mtok=_number(
            "JOBMETRICS_AI_OUTPUT_USD_PER_MTOK", "15.00", float, at_least=0
        ),
        ask_row_limit=_number("JOBMETRICS_ASK_ROW_LIMIT", "200", int, at_least=1),
        ask_timeout_s=_number("JOBMETRICS_ASK_TIMEOUT_S", "20", float, above=0),
        duckdb_threads=_number("JOBMETRICS_DUCKDB_THREADS", "1", int, at_least=1),
        dbt_target=_choice("JOBMETRICS_TARGET", "duckdb", ("duckdb", "spark", "lint")),
        events_from=_date("JOBMETRICS_EVENTS_FROM"),
        events_until=_date("JOBMETRICS_EVENTS_UNTIL"),
        event_margin_days=_number("JOBMETRICS_EVENT_MARGIN_DAYS", "31", int, at_least=0),
        anthropic_base_url=_matching(
            "ANTHROPIC_BASE_URL", "", r"(https?://[^\s]+)?", "an http:// or https:// URL"
        ),
        spark_dir=_path("JOBMETRICS_SPARK_DIR", "data/spark"),
        spark_cores=_number("JOBMETRICS_SPARK_CORES", "2", int, at_least=1),
        spark_memory=_matching(
            "JOBMETRICS_SPARK_MEMORY", "2g", r"\d+[kmgt]?", "a JVM size such as 2g or 512m"
        ),
        spark_threads=_number("JOBMETRICS_SPARK_THREADS", "2", int, at_least=1),
        spark_partitions=_number("JOBMETRICS_SPARK_PARTITIONS", "1", int, at_least=1),
        stripe_api_key=_api_key("STRIPE_API_KEY"),
        postgres_dsn=_env("JOBMETRICS_POSTGRES_DSN", ""),
    )


def env_file() -> Path:
    """JOBMETRICS_ENV_FILE: a file of KEY=value lines whose variables the commands read as if set
    in the environment (default .env at the project root, git-ignored; see load_env_file)."""
    return _path("JOBMETRICS_ENV_FILE", ".env")


def load_env_file(path: Path) -> list[str]:
    """Put the variables of a .env file into the environment, except those already set (the
    environment wins over the file); return the names it set. Values are never printed: a line
    the file cannot parse is reported by its number only."""
    if not path.is_file():
        return []
    from dotenv import dotenv_values, load_dotenv  # only where a .env file exists
    from dotenv.parser import parse_stream

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path} cannot be read as a .env file ({type(error).__name__})") from None
    broken = next((binding for binding in parse_stream(io.StringIO(text)) if binding.error), None)
    if broken is not None:
        raise UserError(
            f"{path}:{broken.original.line}: not a KEY=value line (nothing of the file was used)"
        )
    names = dotenv_values(stream=io.StringIO(text), interpolate=False)
    added = [name for name, value in names.items() if value is not None and name not in os.environ]
    # as written: `${NAME}` in a value (a password) is kept, not expanded
    load_dotenv(stream=io.StringIO(text), override=False, interpolate=False)
    return added
