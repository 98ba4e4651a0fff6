"""Every column check declared in the YAML runs in exactly one dbt test.

A column's checks (`config: meta: checks:`), a source column's `data_type` and a model's
`unique_combination` run in the `table_checks` generic test of a source or seed, or in one of the
grouped tests tests/dbt/checks_*.sql (macros/table_checks.sql). A table that declares checks but
is in neither would have them silently skipped; one in two would run them twice.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from jobmetrics.core.settings import Settings
from jobmetrics.warehouse.dbt_invoke import run_dbt

pytestmark = pytest.mark.slow


def declares_checks(node: dict) -> bool:
    columns = node.get("columns", {}).values()
    meta = (node.get("config") or {}).get("meta") or {}
    return bool(
        meta.get("unique_combination")
        or any(((c.get("config") or {}).get("meta") or {}).get("checks") for c in columns)
        or (node["resource_type"] == "source" and any(c.get("data_type") for c in columns))
    )


VALUE_SEEDS = {"seed.jobmetrics.channels", "seed.jobmetrics.plans"}
"""Seeds every check group depends on for accepted values and relationships, not for checking
them (table_checks_seeds() in macros/table_checks.sql)."""


def references(node: dict) -> set[str]:
    """The models a check group names in `references=[ref('x'), ...]`: tables its relationships
    checks point to, not tables it checks."""
    code = node.get("raw_code", "")
    if "references=" not in code:
        return set()
    listed = code.split("references=", 1)[1].split("]", 1)[0]
    return {f"model.jobmetrics.{name}" for name in re.findall(r"ref\('(\w+)'\)", listed)}


def test_every_table_with_checks_is_checked_by_exactly_one_test(
    built_settings: Settings,
) -> None:
    manifest = json.loads((built_settings.dbt_target_dir / "manifest.json").read_text())
    tables = {
        uid: node
        for uid, node in {**manifest["nodes"], **manifest["sources"]}.items()
        if node["resource_type"] in {"model", "seed", "source"}
    }
    covered: Counter[str] = Counter()
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        generic = (node.get("test_metadata") or {}).get("name") == "table_checks"
        grouped = node["name"].startswith("checks_")
        if generic or grouped:
            # every check node also reads the seeds accepted values and relationships
            # point to, and a group the models named in its references=: not tables it checks
            if generic and node.get("attached_node"):
                checked = [node["attached_node"]]  # a seed's or a model's own test
            else:
                checked = [
                    uid
                    for uid in node["depends_on"]["nodes"]
                    if uid in tables and uid not in VALUE_SEEDS and uid not in references(node)
                ]
            covered.update(checked)
    declaring = {uid for uid, node in tables.items() if declares_checks(node)}
    assert len(declaring) >= 50
    assert {uid for uid in declaring if covered[uid] == 0} == set()
    assert {uid for uid in declaring if covered[uid] > 1} == set()


def test_a_broken_relationship_between_marts_names_table_column_and_rows(
    built_settings: Settings, tmp_path: Path
) -> None:
    """A customer deleted from dim_customers: the finance and product check groups name every
    mart column pointing to it (relationships checks, macros/table_checks.sql), with the row
    counts DuckDB gives for that customer."""
    copy = tmp_path / built_settings.warehouse.name  # same catalog name as the build
    shutil.copyfile(built_settings.warehouse, copy)
    with duckdb.connect(str(copy)) as connection:
        (user_id,) = connection.execute(
            "select user_id from fct_customer_mrr_monthly group by user_id "
            "order by count(*) desc, user_id limit 1"
        ).fetchone()
        rows = {
            mart: connection.execute(
                f"select count(*) from {mart} where user_id = ?", [user_id]
            ).fetchone()[0]
            for mart in ("fct_subscriptions", "fct_customer_mrr_monthly", "fct_user_engagement")
        }
        connection.execute("delete from dim_customers where user_id = ?", [user_id])
    outcome = run_dbt(
        ["test", "--select", "checks_finance", "checks_product"],
        env={
            "JOBMETRICS_RAW_DIR": str(built_settings.raw_dir),
            "JOBMETRICS_WAREHOUSE": str(copy),
            "JOBMETRICS_BUILD_PATH": str(copy),
            "DBT_TARGET_PATH": str(tmp_path / "target"),
        },
    )
    assert not outcome.success
    failures = " | ".join(outcome.failures)
    assert all(count > 0 for count in rows.values()), rows
    for mart, count in rows.items():
        noun = "row" if count == 1 else "rows"
        message = f"{mart}.user_id: {count} {noun} not a user_id of dim_customers (relationships)"
        assert message in failures, (message, failures)
