"""Helpers of the scale tests: `dbt build` in its own process, as a nightly job runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from jobmetrics.core.settings import PROJECT_ROOT

DBT = str(Path(sys.executable).with_name("dbt"))
MODELS_AND_SEEDS = [
    "--exclude-resource-type",
    "test",
    "--exclude-resource-type",
    "unit_test",
]
BUILD_TIMEOUT_S = 300
# The models built incrementally: by day, by month (macros/incremental_by_date.sql), and by
# visitor or user (macros/incremental_by_key.sql).
INCREMENTAL_MODELS = (
    "fct_scans",
    "fct_sessions",
    "int_user_activity_days",
    "fct_product_daily",
    "fct_scans_by_dimension",
    "fct_signup_cohort_activity",
    "int_customer_mrr_months",
    "fct_customer_mrr_monthly",
    "int_paid_customer_months",
    "fct_mrr_monthly_by_dimension",
    "fct_channel_performance",
    "fct_plan_performance",
    "fct_cohort_retention",
    "fct_funnel_monthly",
    "int_visitors",
    "int_funnel_users",
    "int_user_activity_totals",
    "dim_customers",
    "fct_user_engagement",
)
BY_KEY_MODELS = (
    "int_visitors",
    "int_funnel_users",
    "int_user_activity_totals",
    "dim_customers",
    "fct_user_engagement",
)
"""Incremental by key on DuckDB (macros/incremental_by_key.sql); plain tables on Spark, whose
Parquet tables cannot replace rows by key."""
INCREMENTAL_MODELS_ON_SPARK = tuple(m for m in INCREMENTAL_MODELS if m not in BY_KEY_MODELS)


def dbt_build(raw: Path, warehouse: Path, target: Path, *extra: str) -> dict:
    """`dbt build` of the models and seeds into the DuckDB file `warehouse`; run_results.json.

    A child process, so the DuckDB file is closed (and checkpointed) when it returns: an
    in-process dbt-duckdb keeps its database open after the invocation ends.
    """
    child = subprocess.run(
        [DBT, "build", *MODELS_AND_SEEDS, "--target", "duckdb", *extra],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "JOBMETRICS_RAW_DIR": str(raw),
            "JOBMETRICS_WAREHOUSE": str(warehouse),
            "JOBMETRICS_BUILD_PATH": str(warehouse),
            # one DuckDB thread: float aggregates add up in the same order in every build
            "JOBMETRICS_DUCKDB_THREADS": "1",
            "DBT_TARGET_PATH": str(target),
            "DBT_LOG_PATH": str(target / "logs"),
        },
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert child.returncode == 0, child.stdout[-3000:]
    return json.loads((target / "run_results.json").read_text())


def ran_incrementally(
    run_results: dict, models: tuple[str, ...] = INCREMENTAL_MODELS
) -> dict[str, bool]:
    """Per incremental model (each of `models`, which the build ran): did this build take the
    incremental path?

    The lookback start is read from the model's own table, or from what it keeps beside it
    (`<schema>_incremental_state.<kind>_of_<model>`), only when is_incremental() is true.
    """
    results = {result["unique_id"].split(".")[-1]: result for result in run_results["results"]}
    return {
        model: f"from {results[model]['relation_name']}" in results[model]["compiled_code"]
        or f'_incremental_state"."data_end_of_{model}"' in results[model]["compiled_code"]
        for model in models
    }
