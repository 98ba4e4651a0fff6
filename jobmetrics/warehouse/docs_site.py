"""dbt's documentation site (lineage graph, model and column docs) as one offline page of the site.

`build_docs_site(warehouse, site_dir, raw_dir=...)` runs `dbt docs generate --static` in-process
and writes `<site_dir>/docs/index.html`: a single self-contained HTML file (manifest and catalog
inlined) that opens from disk with no server and loads nothing from the network.

Report pages link to a model's page with `docs_link(model_name)`, e.g.
`docs/index.html#!/model/model.jobmetrics.fct_mrr_monthly` (relative to the site root).

The catalog (column types) is read from a private copy of the warehouse, because dbt-duckdb
opens its database read-write: the live file is never locked, so a DuckDB CLI session or a
running build is not disturbed.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from jobmetrics.core.atomic import write_file
from jobmetrics.core.errors import UserError
from jobmetrics.warehouse.dbt_invoke import run_dbt
from jobmetrics.warehouse.read import require_warehouse

DOCS_FOLDER = "docs"
STATIC_PAGE = "static_index.html"
"""What `dbt docs generate --static` writes into the target folder."""
PROJECT_NAME = "jobmetrics"

# dbt's docs page can load a Snowplow tracker from a CDN when usage stats are on
# (dbt_project.yml turns them off); the page is patched so it never can.
_TRACKER = re.compile(r'i\.src="//[^"]*/sp\.js"')
# A favicon link that was never templated; it only produces a 404.
_BROKEN_FAVICON = re.compile(r"<link[^>]*href=\"\$\{require\([^>]*>")
_EXTERNAL_LOAD = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["'](?:https?:)?//"""
)


class DocsError(UserError):
    """The documentation site could not be generated."""


def docs_link(name: str, resource: str = "model") -> str:
    """Link from the site root to a node's page in the docs site.

    `name` is a model or seed name (fct_mrr_monthly), or source.table for a source (raw.raw_users).
    """
    return f"{DOCS_FOLDER}/index.html#!/{resource}/{resource}.{PROJECT_NAME}.{name}"


def make_offline(html: str) -> str:
    """dbt's static docs page with every network load removed; raises if one is left."""
    html = _TRACKER.sub('i.src="about:blank"', html)
    html = _BROKEN_FAVICON.sub("", html)
    if "//d1fc8wv8zag5ca" in html or _EXTERNAL_LOAD.search(html):
        raise DocsError("the dbt docs page still loads a resource from the network")
    return html


def write_docs_page(static_page: Path, site_dir: Path) -> Path:
    """Write dbt's static docs page (made offline) to `<site_dir>/docs/index.html`."""
    html = make_offline(static_page.read_text(encoding="utf-8"))
    out = site_dir / DOCS_FOLDER / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_file(out, html.encode("utf-8"))
    return out


def build_docs_site(warehouse: Path, site_dir: Path, *, raw_dir: Path) -> Path:
    """Generate dbt's docs for `warehouse` into `<site_dir>/docs/index.html`; return that path."""
    require_warehouse(warehouse)
    with tempfile.TemporaryDirectory(prefix="jobmetrics-docs-") as scratch:
        # Same file name, so dbt-duckdb names the database as in the live warehouse.
        copy = Path(scratch) / warehouse.name
        shutil.copyfile(warehouse, copy)
        target = Path(scratch) / "target"
        outcome = run_dbt(
            ["docs", "generate", "--static"],
            env={
                "JOBMETRICS_BUILD_PATH": str(copy),
                "JOBMETRICS_RAW_DIR": str(raw_dir),
                "DBT_TARGET_PATH": str(target),
            },
        )
        page = target / STATIC_PAGE
        if not outcome.success or not page.is_file():
            raise DocsError(f"dbt docs generate failed: {outcome.first_error()}")
        return write_docs_page(page, site_dir)
