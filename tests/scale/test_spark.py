"""The same dbt project on Spark gives the same marts as on DuckDB.

A small data set is built on the `spark` target (dbt-spark session method: a local Spark in a
child process, so the JVM ends with it), extended by a few days and built again, as a nightly
run does (the incremental models overwrite their recent partitions); DuckDB builds the
extended data set from scratch. Models and seeds only; the first Spark build only of what the
nightly build reads of its own tables (the incremental models and everything upstream of them:
views, tables, incremental models and a seed, so each materialization still replaces an
existing relation in the nightly build). Every mart's rows must match: DECIMAL money exactly,
the key figures to the cent, doubles to 1e-9 relative. The DuckDB build runs while the Spark
child does. About 2 minutes alone on 2 cores, 2½–3 minutes shared with the other test worker.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from scale_helpers import INCREMENTAL_MODELS_ON_SPARK, dbt_build, ran_incrementally

from jobmetrics.core.settings import PROJECT_ROOT

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java 17 on PATH"),
]
pytest.importorskip("pyspark", reason="pip install the spark extra: dbt-spark[session], pyspark")
pytest.importorskip("dbt.adapters.spark", reason="pip install the spark extra: dbt-spark[session]")

USERS = 500
DAYS = 150
START = date(2025, 1, 1)
SEED = 11
APPENDED_DAYS = 5
SPARK_TIMEOUT_S = 600
# The figures the issue names; the whole-table comparison covers every other column too.
KEY_FIGURES = {
    "fct_mrr_monthly": (
        ["month"],
        [
            "starting_mrr",
            "new_mrr",
            "expansion_mrr",
            "reactivation_mrr",
            "contraction_mrr",
            "churned_mrr",
            "ending_mrr",
            "churned_customers",
            "logo_churn_rate",
            "gross_mrr_churn_rate",
        ],
    ),
    "fct_channel_performance": (
        ["performance_month", "channel"],
        ["spend_usd", "new_customers", "cac_usd", "logo_churn_rate"],
    ),
}


@pytest.fixture(scope="module")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from jobmetrics.generator import generate

    out = tmp_path_factory.mktemp("spark_raw") / "raw"
    generate(out, users=USERS, days=DAYS, start_date=START, seed=SEED)
    return out


def _copy(raw: Path, folder: Path) -> Path:
    shutil.copytree(raw, folder / "raw")
    return folder / "raw"


@pytest.fixture(scope="module")
def spark_child(
    small_raw: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[subprocess.Popen, Path]]:
    """The Spark build started in a child process; (process, its folder). Killed if left over."""
    folder = tmp_path_factory.mktemp("spark")
    env = {
        **os.environ,
        "JOBMETRICS_RAW_DIR": str(_copy(small_raw, folder)),
        "JOBMETRICS_SPARK_DIR": str(folder / "spark"),
        "DBT_TARGET_PATH": str(folder / "target"),
        "DBT_LOG_PATH": str(folder / "logs"),
    }
    # Output to files, not pipes: nobody reads a pipe while the DuckDB build runs.
    with (folder / "stdout.log").open("w") as stdout, (folder / "stderr.log").open("w") as stderr:
        child = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("spark_build.py")),
                str(folder / "export"),
                str(APPENDED_DAYS),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
    yield child, folder
    if child.poll() is None:
        child.kill()
        child.wait()


@pytest.fixture(scope="module")
def duckdb_warehouse(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from jobmetrics.generator import append_days

    folder = tmp_path_factory.mktemp("spark_duckdb")
    raw = _copy(small_raw, folder)
    append_days(raw, APPENDED_DAYS)  # deterministic: the same rows the Spark side appends
    path = folder / "jobmetrics.duckdb"
    dbt_build(raw, path, folder / "target", "--full-refresh")
    return path


@pytest.fixture(scope="module")
def spark_marts(spark_child: tuple[subprocess.Popen, Path], duckdb_warehouse: Path) -> Path:
    """Every mart built on Spark, exported as <folder>/<mart>/ Parquet.

    duckdb_warehouse comes after spark_child: DuckDB builds while the Spark child runs.
    """
    child, folder = spark_child
    returncode = child.wait(timeout=SPARK_TIMEOUT_S)
    assert returncode == 0, (folder / "stderr.log").read_text()[-3000:]
    return folder / "export"


def test_spark_nightly_run_took_the_incremental_path(spark_marts: Path) -> None:
    run_results = json.loads((spark_marts.parent / "target" / "run_results.json").read_text())
    ran = ran_incrementally(run_results)
    assert {model: ran[model] for model in INCREMENTAL_MODELS_ON_SPARK} == dict.fromkeys(
        INCREMENTAL_MODELS_ON_SPARK, True
    )


def _marts(export: Path) -> list[str]:
    return sorted(path.name for path in export.iterdir() if path.is_dir())


def _read(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list[str], list[tuple]]:
    cursor = con.execute(f"select * from {relation}")
    columns = [item[0] for item in cursor.description]
    return columns, cursor.fetchall()


def _sort_key(row: tuple) -> tuple:
    """Order rows by every value; floats rounded so last-bit differences do not reorder."""
    return tuple(
        (value is None, round(value, 4) if isinstance(value, float) else value) for value in row
    )


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is None and right is None
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        return left is not None and right is not None and Decimal(left) == Decimal(right)
    return left == right


def _spark_relation(export: Path, mart: str) -> str:
    return f"read_parquet('{export / mart}/*.parquet')"


def test_spark_builds_every_mart_with_the_duckdb_rows(
    duckdb_warehouse: Path, spark_marts: Path
) -> None:
    con = duckdb.connect(str(duckdb_warehouse), read_only=True)
    duckdb_marts = sorted(
        row[0]
        for row in con.execute(
            # the marts; not the fingerprints in main_incremental_state
            "select table_name from duckdb_tables() where schema_name = 'main'"
            " and (table_name like 'fct\\_%' escape '\\' or table_name like 'dim\\_%' escape '\\')"
        ).fetchall()
    )
    assert _marts(spark_marts) == duckdb_marts
    mismatches: list[str] = []
    for mart in duckdb_marts:
        columns, duck_rows = _read(con, mart)
        spark_columns, spark_rows = _read(con, _spark_relation(spark_marts, mart))
        assert sorted(spark_columns) == sorted(columns), mart
        if len(spark_rows) != len(duck_rows):
            mismatches.append(
                f"{mart}: {len(duck_rows)} rows on DuckDB, {len(spark_rows)} on Spark"
            )
            continue
        reorder = [spark_columns.index(name) for name in columns]
        spark_rows = [tuple(row[i] for i in reorder) for row in spark_rows]
        for duck_row, spark_row in zip(
            sorted(duck_rows, key=_sort_key), sorted(spark_rows, key=_sort_key), strict=True
        ):
            differing = [
                f"{name}={left!r} vs {right!r}"
                for name, left, right in zip(columns, duck_row, spark_row, strict=True)
                if not _same(left, right)
            ]
            if differing:
                mismatches.append(f"{mart}: " + ", ".join(differing[:4]))
                break
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("mart", sorted(KEY_FIGURES))
def test_spark_key_figures_equal_duckdb_to_the_cent(
    duckdb_warehouse: Path, spark_marts: Path, mart: str
) -> None:
    keys, figures = KEY_FIGURES[mart]
    con = duckdb.connect(str(duckdb_warehouse), read_only=True)
    selected = ", ".join([*keys, *figures])
    duck = con.execute(f"select {selected} from {mart} order by all").fetchall()
    spark = con.execute(
        f"select {selected} from {_spark_relation(spark_marts, mart)} order by all"
    ).fetchall()
    assert len(duck) > 1 and len(spark) == len(duck)
    # Non-trivial data: some MRR and some CAC, so equality is not 0 = 0.
    assert any(value not in (None, 0) for row in duck for value in row[len(keys) :])
    for duck_row, spark_row in zip(duck, spark, strict=True):
        assert duck_row[: len(keys)] == spark_row[: len(keys)]
        for name, left, right in zip(
            figures, duck_row[len(keys) :], spark_row[len(keys) :], strict=True
        ):
            if isinstance(left, Decimal):
                assert abs(left - right) < Decimal("0.005"), (mart, duck_row[: len(keys)], name)
            else:
                assert _same(left, right), (mart, duck_row[: len(keys)], name, left, right)
