"""dbt's docs site is built into the report site under docs/ and works offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jobmetrics.core.errors import WarehouseUnavailable
from jobmetrics.core.settings import PROJECT_ROOT
from jobmetrics.warehouse.docs_site import DocsError, build_docs_site, docs_link, make_offline

LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


@pytest.fixture(scope="module")
def docs_page(warehouse: Path, raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    return build_docs_site(warehouse, site, raw_dir=raw_dir)


def inlined_manifest(html: str) -> dict:
    """The manifest dbt inlines into the static page (`n=[{...manifest...}, ...]` style blob)."""
    start = html.index(
        '{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/'
    )
    decoder = json.JSONDecoder()
    manifest, _ = decoder.raw_decode(html, start)
    return manifest


@pytest.mark.slow
def test_docs_page_documents_every_model_and_leaves_the_warehouse_alone(
    docs_page: Path, warehouse: Path
) -> None:
    assert docs_page.name == "index.html" and docs_page.parent.name == "docs"
    html = docs_page.read_text()
    manifest = inlined_manifest(html)
    models = {
        node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "model"
    }
    sql_files = {path.stem for path in (PROJECT_ROOT / "models").rglob("*.sql")}
    assert sql_files <= models
    # The catalog (column types from the built warehouse) is inlined too.
    assert '"CATALOG.JSON INLINE DATA"' not in html
    assert re.search(r'"type": "(BIGINT|VARCHAR|DECIMAL\(\d+,\d+\)|TIMESTAMP)"', html)
    assert not list(warehouse.parent.glob("*.wal"))


@pytest.mark.slow
def test_docs_page_loads_nothing_from_the_network(docs_page: Path) -> None:
    html = docs_page.read_text()
    assert not re.search(r"""<(script|link|img|iframe)\b[^>]*(src|href)=["'](https?:)?//""", html)
    assert "cloudfront.net" not in html


@pytest.mark.slow
@pytest.mark.browser
def test_docs_page_renders_a_model_offline_in_chromium(docs_page: Path) -> None:
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.goto(docs_page.as_uri() + "#!/model/model.jobmetrics.stg_users", timeout=120_000)
        page.get_by_text("Depends On").first.wait_for(timeout=60_000)
        text = page.locator("body").inner_text()
        browser.close()
    assert "Columns" in text and "user_id" in text
    remote = [url for url in requested if not url.startswith(LOCAL_SCHEMES)]
    assert remote == []


def test_docs_link_points_at_a_model_page() -> None:
    assert (
        docs_link("fct_mrr_monthly") == "docs/index.html#!/model/model.jobmetrics.fct_mrr_monthly"
    )
    assert docs_link("raw.raw_users", "source").endswith(
        "#!/source/source.jobmetrics.raw.raw_users"
    )


def test_tracker_is_removed_from_the_page() -> None:
    page = 'i.async=1,i.src="//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js",a.parentNode'
    assert "cloudfront" not in make_offline(page)
    with pytest.raises(DocsError):
        make_offline('<script src="https://cdn.example.com/x.js"></script>')


def test_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WarehouseUnavailable, match="no warehouse at .*jobmetrics build"):
        build_docs_site(tmp_path / "none.duckdb", tmp_path / "site", raw_dir=tmp_path)
