"""Every column check declared in the YAML runs in exactly one dbt test.

A column's checks (`config: meta: checks:`), a source column's `data_type` and a model's
`unique_combination` run in the `table_checks` generic test of a source or seed, or in one of the
grouped tests tests/dbt/checks_*.sql (macros/table_checks.sql). A table that declares checks but
is in neither would have them silently skipped; one in two would run them twice.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from jobmetrics.core.settings import Settings

pytestmark = pytest.mark.slow


def declares_checks(node: dict) -> bool:
    columns = node.get("columns", {}).values()
    meta = (node.get("config") or {}).get("meta") or {}
    return bool(
        meta.get("unique_combination")
        or any(((c.get("config") or {}).get("meta") or {}).get("checks") for c in columns)
        or (node["resource_type"] == "source" and any(c.get("data_type") for c in columns))
    )


VALUE_SEEDS = {"seed.jobmetrics.plans"}
"""Seeds every check group depends on for accepted values, not for checking them."""


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
            # every check node also reads the seeds accepted values come from
            # (table_checks_seeds() in macros/table_checks.sql): not a table it checks,
            # unless it is that seed's own test
            parents = [uid for uid in node["depends_on"]["nodes"] if uid in tables]
            covered.update([uid for uid in parents if uid not in VALUE_SEEDS] or parents)
    declaring = {uid for uid, node in tables.items() if declares_checks(node)}
    assert len(declaring) >= 50
    assert {uid for uid in declaring if covered[uid] == 0} == set()
    assert {uid for uid in declaring if covered[uid] > 1} == set()
