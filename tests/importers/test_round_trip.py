"""The whole way in, as a team adopting JobMetrics goes: the generated rows are put where a real
business keeps them — users, scans and sessions in a PostgreSQL product database (another
layout, uuid-free but renamed, times with zone), customers, subscriptions and invoices in the
shapes of Stripe's API (served by a local fake), marketing spend in a CSV export with its own
column names — then imported with `jobmetrics import postgres`, `... stripe --append` and
`... files --append` and built. Every mart equals the one built from the generator's files.

Only the ids Stripe's import numbers on its own (subscription_id, invoice_id) are left out of
the comparison; every other column of every table is compared, row for row.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from jobmetrics.cli import main
from jobmetrics.core import settings as settings_module
from jobmetrics.importers.stripe_billing import import_stripe
from jobmetrics.warehouse.build import build
from jobmetrics.warehouse.diff import differing_tables
from tests.importers.conftest import EXAMPLE_MAPPING
from tests.importers.fake_stripe import FakeStripe
from tests.importers.postgres_server import PostgresServer, load_product_tables, product_tables
from tests.importers.stripe_shapes import mapping_yaml, stripe_objects

pytestmark = pytest.mark.slow

RENUMBERED = ("subscription_id", "invoice_id")
"""Ids the Stripe import gives its own numbers (Stripe's are text: sub_…, in_…)."""

BUILD_RECORD = "jobmetrics_build_info"
"""The build's own record (which raw data set, when): differs by design."""


def spend_export(raw_dir: Path, folder: Path) -> Path:
    """The generated marketing spend as an ad platform's CSV export: other names and order."""
    folder.mkdir(parents=True, exist_ok=True)
    duckdb.execute(
        f"copy (select channel as source, cast(spend_usd as varchar) as cost, spend_date as day"
        f" from read_parquet('{raw_dir}/raw_marketing_spend.parquet'))"
        f" to '{folder / 'spend.csv'}' (header)"
    )
    mapping = folder / "files.yml"
    mapping.write_text(
        "raw_marketing_spend:\n"
        "  from: spend.csv\n"
        "  columns:\n"
        "    spend_date: day\n"
        "    channel: source\n"
        "    spend_usd: cost\n"
    )
    return mapping


@pytest.fixture(scope="module")
def imported(
    raw_dir: Path, postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The raw folder imported from PostgreSQL, Stripe and a CSV file."""
    folder = tmp_path_factory.mktemp("round-trip")
    out = folder / "raw"
    postgres_server.create_database("round_trip", timezone="America/New_York")
    with postgres_server.connect("round_trip") as connection:
        load_product_tables(connection, product_tables(raw_dir))
    dsn = postgres_server.dsn("round_trip")
    assert main(["import", "postgres", "--mapping", str(EXAMPLE_MAPPING), "--dsn", dsn,
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip

    stripe_mapping = mapping_yaml(folder / "stripe.yml", raw_users="false")
    with FakeStripe(stripe_objects(raw_dir)) as fake:
        result = import_stripe(
            out, mapping=stripe_mapping, api_key=fake.api_key, api_base=fake.url, append=True
        )
    assert result.skipped == []

    files_mapping = spend_export(raw_dir, folder / "exports")
    assert main(["import", "files", "--mapping", str(files_mapping), "--out", str(out),
                 "--append", "--quiet"]) == 0  # fmt: skip
    return out


def test_every_mart_built_from_imported_data_equals_the_generated_build(
    imported: Path, built_settings: settings_module.Settings, tmp_path: Path
) -> None:
    settings = replace(
        built_settings,
        raw_dir=imported,
        warehouse=tmp_path / "imported.duckdb",
        site_dir=tmp_path / "site",
        dbt_target_dir=tmp_path / "target",
    )
    report = build(settings, full_refresh=True)
    assert not report.incremental
    tables, differences = differing_tables(
        built_settings.warehouse,
        settings.warehouse,
        float_decimals=6,
        ignore_columns=RENUMBERED,
    )
    assert {
        "fct_mrr_monthly",
        "fct_invoices",
        "fct_product_daily",
        "fct_channel_performance",
    } <= set(tables)
    assert len(tables) >= 40
    assert {table: rows for table, rows in differences.items() if table != BUILD_RECORD} == {}


def test_the_imported_folder_records_each_source(imported: Path) -> None:
    import json

    manifest = json.loads((imported / "_manifest.json").read_text())
    assert set(manifest["sources"]) == {"postgres", "stripe", "files"}
    assert manifest["absent_tables"] == []
    assert manifest["sources"]["stripe"]["tables"] == ["raw_invoices", "raw_subscriptions"]
    assert manifest["sources"]["files"]["tables"] == ["raw_marketing_spend"]
