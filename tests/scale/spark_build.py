"""Child process of the Spark test: build the project on the `spark` target, export the marts.

    python tests/scale/spark_build.py <export_dir> [<append_days>]

Reads the same environment as dbt (JOBMETRICS_RAW_DIR, JOBMETRICS_SPARK_DIR, DBT_TARGET_PATH,
...). Runs in its own process so Spark's JVM lives and dies with it. With append_days, the first
build is of the incremental models and what they are built from; the raw data set is then
extended by that many days (generator.append_days) and the whole project built, as a nightly
run: the incremental models take their partition-overwrite path. Writes
every mart (a model under models/marts/) as <export_dir>/<model>.parquet and
<export_dir>/timings.json (seconds per step); exits 1 with dbt's first error on stderr if a
build fails.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jobmetrics.warehouse.dbt_invoke import run_dbt

# Models and seeds only: the data tests are run on DuckDB; Spark runs would double the time.
BUILD_ARGS = [
    "build",
    "--target",
    "spark",
    "--exclude-resource-type",
    "test",
    "--exclude-resource-type",
    "unit_test",
]


def _mart_names(target_dir: Path) -> list[str]:
    manifest = json.loads((target_dir / "manifest.json").read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and "marts" in node["fqn"]
    )


def _timed_dbt(args: list[str], timings: dict[str, float], step: str) -> bool:
    """Run dbt, record its seconds under `step`; print dbt's first error if it failed."""
    begin = time.perf_counter()
    outcome = run_dbt(args)
    timings[step] = time.perf_counter() - begin
    if not outcome.success:
        print(outcome.first_error(), file=sys.stderr)
    return outcome.success


def main(export_dir: Path, append_days: int) -> int:
    import os

    timings: dict[str, float] = {}
    # The first build starts the Spark session; its on-run-start hook registers the raw files.
    # Before a nightly run it builds what the nightly run reads of its own tables: the
    # incremental models and every model and seed they are built from. The nightly build
    # rebuilds the other models and seeds whole either way: building them first as well took
    # about two thirds of a build's model time, for tables the nightly build overwrites.
    first = (
        [*BUILD_ARGS, "--select", "+config.materialized:incremental"] if append_days else BUILD_ARGS
    )
    if not _timed_dbt(first, timings, "dbt_build_with_spark_start_s"):
        return 1
    if append_days:
        from jobmetrics.generator import append_days as extend

        extend(Path(os.environ["JOBMETRICS_RAW_DIR"]), append_days)
        if not _timed_dbt(BUILD_ARGS, timings, "dbt_incremental_build_s"):
            return 1

    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()  # the session dbt-spark opened
    begin = time.perf_counter()
    export_dir.mkdir(parents=True, exist_ok=True)

    def export(name: str) -> None:
        # One file per mart, read back by DuckDB in the test.
        frame = spark.table(f"jobmetrics.{name}")
        frame.coalesce(1).write.mode("overwrite").parquet(str(export_dir / name))

    # Two at a time: each write is a small job that leaves a core idle while the driver works.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(export, _mart_names(Path(os.environ["DBT_TARGET_PATH"]))))
    timings["export_s"] = time.perf_counter() - begin
    (export_dir / "timings.json").write_text(json.dumps(timings, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0))
