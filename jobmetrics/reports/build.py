"""Build the static report site: every page of jobmetrics/reports/pages/ rendered against the
warehouse.

The site is written to a new version folder and published only when the build succeeded, in one
atomic step (jobmetrics/reports/publish.py), so a failed or killed build leaves the previous site
as it was.
The dbt docs site in `<out_dir>/docs/` (written by another command) is carried over into the new
site.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from jobmetrics.ai.coverage import Coverage, read_coverage
from jobmetrics.ai.narratives import UsageSummary
from jobmetrics.core import settings as settings_module
from jobmetrics.core.errors import PageError, ReportError
from jobmetrics.reports.annotations import load_alerts, register_sql_functions
from jobmetrics.reports.components import pack
from jobmetrics.reports.narratives import Narrator
from jobmetrics.reports.pages_loader import (
    PageInstance,
    PageSource,
    expand,
    load_pages,
    page_title,
)
from jobmetrics.reports.project import ProjectInfo, read_project
from jobmetrics.reports.publish import new_version, publish
from jobmetrics.reports.render import LeftOut, RenderedPage, SiteContext, render_page
from jobmetrics.warehouse.docs_site import DOCS_FOLDER
from jobmetrics.warehouse.read import open_read_only

PACKAGE = Path(__file__).resolve().parent
DEFAULT_PAGES = PACKAGE / "pages"
ASSETS = PACKAGE / "assets"
TEMPLATES = PACKAGE / "templates"
VENDOR = ASSETS / "vendor"
# A partial plotly.js bundle (core + bar, heatmap, funnel, waterfall), built by
# scripts/build_plotly_bundle.sh (see assets/vendor/README.md), shipped with its licence.
CHART_LIBRARY = "plotly-jobmetrics.min.js"
CHART_LIBRARY_LICENSE = "LICENSE-plotly.js.txt"

# A page must not fetch anything when opened: no remote src/href on resource-loading elements.
_EXTERNAL_RESOURCE = re.compile(
    r"<(?:img|script|iframe|link|source|video|audio|embed|object|track)\b[^>]*?"
    r"\b(?:src|href|data|srcset)\s*=\s*[\"']?\s*(?:[a-z][a-z0-9+.-]*:)?//",
    re.IGNORECASE,
)


_CHART_REF = re.compile(r'data-chart="([^"]+)"')
_DATASET_REF = re.compile(r'data-dataset="([^"]+)"')


@dataclass
class SiteResult:
    """What a site build wrote: page files (final paths), page errors (non-strict), seconds."""

    out_dir: Path
    pages: list[Path] = field(default_factory=list)
    errors: list[PageError] = field(default_factory=list)
    seconds: float = 0.0
    narration: UsageSummary | None = None
    """The narratives by source and the API calls, tokens and cost of this build."""


@dataclass
class NavItem:
    title: str
    url: str | None = None
    children: list[NavItem] = field(default_factory=list)


def plotly_js() -> Path:
    """The vendored partial plotly.js bundle (no CDN, not the plotly wheel's full 4.8 MB file)."""
    path = VENDOR / CHART_LIBRARY
    if not path.is_file():
        raise ReportError(f"the vendored chart library is missing: {path}")
    return path


def _navigation(instances: list[PageInstance]) -> list[NavItem]:
    """Sidebar items: pages in order; templated pages as a group under their `nav_parent`."""
    items: list[NavItem] = []
    by_stem: dict[str, NavItem] = {}
    groups: dict[Path, NavItem] = {}
    pending: list[tuple[PageSource, NavItem]] = []
    for instance in instances:
        source = instance.source
        if source.param is None:
            item = NavItem(instance.title, instance.url)
            items.append(item)
            by_stem[source.relative.stem] = item
            continue
        if source.path not in groups:
            groups[source.path] = NavItem(source.group)
            pending.append((source, groups[source.path]))
        groups[source.path].children.append(NavItem(instance.nav_title, instance.url))
    for source, group in pending:
        parent = by_stem.get(str(source.meta.get("nav_parent", "")))
        (parent.children if parent else items).append(group)
    return items


def _leave_out(
    sources: list[PageSource], coverage: Coverage
) -> tuple[list[PageSource], list[LeftOut]]:
    """The pages to build, and those left out because the raw data lacks an area they
    require (front matter `requires:`), with why."""
    kept: list[PageSource] = []
    left_out: list[LeftOut] = []
    for source in sources:
        unknown = coverage.unknown(source.requires)
        if unknown:
            known = ", ".join(sorted(coverage.areas))
            raise PageError(
                source.path, 2, f"requires: unknown data area {unknown[0]!r} (known: {known})"
            )
        note = coverage.note(source.requires)
        if note is None:
            kept.append(source)
        else:
            title = source.group if source.param else page_title(source, {})
            if LeftOut(title, note) not in left_out:  # plans.md and plans/[plan].md: one note
                left_out.append(LeftOut(title, note))
    return kept, left_out


def _built_at(warehouse: Path) -> str:
    """When the warehouse file was last written (the safe build swaps it in when done)."""
    stamp = datetime.fromtimestamp(warehouse.stat().st_mtime, tz=UTC)
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def _json_for_html(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _layout() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("page.html")


def _check_offline(page: PageInstance, html: str) -> None:
    match = _EXTERNAL_RESOURCE.search(html)
    if match:
        raise PageError(
            page.source.path,
            None,
            f"the page would load an external resource ({match.group(0)[:80]}...); "
            "reports must open offline",
        )


def _page_data(page: PageInstance, rendered: RenderedPage | None) -> tuple[dict[str, Any], str]:
    """What the page embeds: the default view's charts and rows as JSON, and the other views of
    a page with inputs as gzip + base64 (a page's views repeat much of each other, so they
    compress about tenfold; the browser unpacks them with its own DecompressionStream)."""
    if rendered is None:
        return {"page": page.slug, "datasets": {}, "charts": {}, "inputs": [], "views": {}}, ""
    shown_charts = set(_CHART_REF.findall(rendered.body))
    shown_data = set(_DATASET_REF.findall(rendered.body))
    payload = {
        "page": page.slug,
        "datasets": {k: v for k, v in rendered.datasets.items() if k in shown_data},
        "charts": {k: v for k, v in rendered.charts.items() if k in shown_charts},
        "inputs": rendered.inputs,
        "views": rendered.views,
    }
    others = {
        "chunks": rendered.chunks,
        "datasets": {k: v for k, v in rendered.datasets.items() if k not in shown_data},
        "charts": {k: v for k, v in rendered.charts.items() if k not in shown_charts},
    }
    if not any(others.values()):
        return payload, ""
    return payload, pack(others)


def _write_page(
    layout: jinja2.Template,
    staging: Path,
    page: PageInstance,
    rendered: RenderedPage | None,
    error: PageError | None,
    context: dict[str, Any],
) -> Path:
    project: ProjectInfo = context["project"]
    tables = rendered.tables if rendered else []
    payload, extra = _page_data(page, rendered)
    html = layout.render(
        title=page.title,
        root=page.root,
        url=page.url,
        nav=context["nav"],
        left_out=context["left_out"],
        body=jinja2.utils.markupsafe.Markup(rendered.body if rendered else ""),
        show_title=not (rendered and rendered.has_heading),
        error=error,
        queries=list(rendered.results.values()) if rendered else [],
        lineage=[(table, project.docs_link(table)) for table in tables],
        built_at=context["built_at"],
        freshness=context["freshness"],
        docs=f"{DOCS_FOLDER}/index.html",
        has_charts=bool(rendered and rendered.charts),
        has_inputs=bool(rendered and rendered.inputs),
        chart_library=CHART_LIBRARY,
        page_data=jinja2.utils.markupsafe.Markup(_json_for_html(payload)),
        page_extra=extra,
    )
    _check_offline(page, html)
    target = staging / page.url
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    for name, text in (rendered.files if rendered else {}).items():
        (target.parent / name).write_text(text, encoding="utf-8")
    return target


def _copy_assets(staging: Path) -> None:
    assets = staging / "assets"
    assets.mkdir()
    for path in ASSETS.iterdir():
        if path.is_file():
            shutil.copyfile(path, assets / path.name)
    shutil.copyfile(plotly_js(), assets / CHART_LIBRARY)
    shutil.copyfile(VENDOR / CHART_LIBRARY_LICENSE, assets / CHART_LIBRARY_LICENSE)


def _expand_all(
    sources: list[PageSource],
    connection: duckdb.DuckDBPyConnection,
    strict: bool,
    errors: list[PageError],
) -> list[tuple[PageInstance, PageError | None]]:
    """Every page instance; a template whose params query fails becomes one error page."""
    instances: list[tuple[PageInstance, PageError | None]] = []
    for source in sources:
        try:
            instances.extend((instance, None) for instance in expand(source, connection))
        except PageError as error:
            if strict:
                raise
            errors.append(error)
            folder = source.relative.parent
            url = f"{folder}/index.html" if str(folder) != "." else f"{source.relative.stem}.html"
            title = source.group if source.param else source.relative.stem
            instances.append((PageInstance(source, url, title), error))
    return instances


def build_site(
    warehouse: Path,
    out_dir: Path,
    *,
    pages_dir: Path | None = None,
    strict: bool = True,
    narrator: Narrator | None = None,
    progress: Callable[[str], None] | None = None,
    freshness: str = "",
) -> SiteResult:
    """Render every page against the warehouse (read-only) and swap the new site in.

    narrator: writes the narrative blocks (default: one from the environment's settings).
    freshness: one line about the raw sources' freshness for every page's footer.

    strict=True: the first broken page raises PageError (file, line, cause) and the previous
    site stays. strict=False: broken pages show their error and the others build normally.
    """
    started = time.perf_counter()
    report = progress or (lambda _message: None)
    out_dir = Path(os.path.abspath(out_dir))  # not resolved: `site` is a link to a version
    warehouse = Path(warehouse).resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"the site folder {out_dir} exists and is not a folder")
    sources = load_pages(Path(pages_dir) if pages_dir else DEFAULT_PAGES)
    connection = open_read_only(warehouse)
    result = SiteResult(out_dir=out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = new_version(out_dir)
    except OSError as error:
        connection.close()
        raise ReportError(
            f"cannot create the site folder next to {out_dir}: {error.strerror or error}"
        ) from error
    narrator = narrator or Narrator(settings_module.load())
    try:
        project = read_project()
        coverage = read_coverage(connection)
        sources, left_out = _leave_out(sources, coverage)
        site = SiteContext(
            down_is_good=project.down_is_good,
            definitions=project.definitions,
            narrator=narrator,
            alerts=load_alerts(connection),  # read once, marked on every chart of their metric
            coverage=coverage,
            left_out=tuple(left_out),
        )
        register_sql_functions(connection)  # metric_label() and unit_value() for page SQL
        instances = _expand_all(sources, connection, strict, result.errors)
        context = {
            "project": project,
            "nav": _navigation([instance for instance, _ in instances]),
            "built_at": _built_at(warehouse),
            "freshness": freshness,
            "left_out": left_out,
        }
        layout = _layout()
        _copy_assets(staging)
        for number, (page, expand_error) in enumerate(instances, start=1):
            report(f"page {number}/{len(instances)}: {page.url}")
            rendered, error = None, expand_error
            if error is None:
                try:
                    rendered = render_page(page, connection, site)
                except PageError as page_error:
                    if strict:
                        raise
                    error = page_error
                    result.errors.append(page_error)
            written = _write_page(layout, staging, page, rendered, error, context)
            result.pages.append(out_dir / written.relative_to(staging))
        publish(staging, out_dir)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise ReportError(
            f"cannot write the site to {out_dir} ({error.strerror or error} on "
            f"{error.filename or out_dir}); the previous site is unchanged"
        ) from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        connection.close()
    result.seconds = time.perf_counter() - started
    result.narration = narrator.summary()
    return result
