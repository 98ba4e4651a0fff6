"""The README's ad-hoc SQL recipes (docs/recipes/*.sql) run as written in the DuckDB CLI."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest
from ops_helpers import DUCKDB_CLI

from jobmetrics.core.settings import PROJECT_ROOT

RECIPES = sorted((PROJECT_ROOT / "docs" / "recipes").glob("*.sql"))
EXPECTED = {
    "mrr_by_month",
    "churned_customers_last_month",
    "cohort_retention_heatmap",
    "top_channels_by_ltv_to_cac",
    "column_comments",
}


def duckdb_cli(warehouse: Path, sql: str) -> subprocess.CompletedProcess:
    """`duckdb -readonly WAREHOUSE < recipe.sql`, as a user pastes a recipe into the CLI."""
    return subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-bail", "-csv", str(warehouse)],
        input=sql,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_project_installs_the_duckdb_cli_of_its_duckdb_version() -> None:
    import duckdb

    result = subprocess.run([str(DUCKDB_CLI), "-version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert duckdb.__version__ in result.stdout


def test_every_promised_recipe_exists() -> None:
    assert {path.stem for path in RECIPES} == EXPECTED


@pytest.mark.slow
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda path: path.stem)
def test_recipe_returns_rows_in_the_cli(recipe: Path, warehouse: Path) -> None:
    result = duckdb_cli(warehouse, recipe.read_text())
    assert result.returncode == 0 and result.stderr == "", result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert len(rows) >= 2, result.stdout  # a header and at least one row
    header, body = rows[0], rows[1:]
    assert all(len(row) == len(header) for row in body)
    assert any(any(value not in ("", "NULL") for value in row) for row in body)


@pytest.mark.slow
def test_column_comments_describe_the_marts(warehouse: Path) -> None:
    result = duckdb_cli(
        warehouse,
        "select count(*) filter (where comment is null or comment = '') as missing, count(*) "
        "from duckdb_columns() where table_name like 'fct\\_%' escape '\\' "
        "or table_name like 'dim\\_%' escape '\\';",
    )
    assert result.returncode == 0, result.stderr
    missing, total = map(int, result.stdout.splitlines()[1].split(","))
    assert total > 0 and missing == 0, f"{missing} of {total} mart columns have no comment"


@pytest.mark.slow
def test_cli_session_cannot_write_to_the_warehouse(warehouse: Path) -> None:
    result = duckdb_cli(warehouse, "create table scratch as select 1 as x;")
    assert result.returncode != 0
    assert "read-only" in result.stderr.lower()


@pytest.mark.slow
def test_churned_customers_recipe_agrees_with_the_mrr_mart(warehouse: Path) -> None:
    recipe = PROJECT_ROOT / "docs" / "recipes" / "churned_customers_last_month.sql"
    listed = duckdb_cli(warehouse, recipe.read_text())
    assert listed.returncode == 0, listed.stderr
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    counted = duckdb_cli(
        warehouse,
        "select churned_customers, churned_mrr from fct_mrr_monthly "
        "where month = (select max(month) from fct_mrr_monthly where is_complete_month);",
    )
    churned_customers, churned_mrr = counted.stdout.splitlines()[1].split(",")
    assert len(rows) == int(churned_customers)
    lost = sum(float(row["lost_mrr"]) for row in rows)
    assert lost == pytest.approx(-float(churned_mrr), abs=0.01 * max(1, len(rows)))


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda path: path.stem)
def test_readme_shows_the_recipe_as_written(recipe: Path) -> None:
    """The README's recipe section is the files themselves: what users copy is what we test."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert f"```sql\n{recipe.read_text().strip()}\n```" in readme, (
        f"README.md does not show docs/recipes/{recipe.name} verbatim"
    )
