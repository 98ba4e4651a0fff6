"""Find the page files, read their front matter, and expand templated pages into one page each.

A page is `<pages_dir>/<name>.md` (`index.md` is the home page); files and folders whose name
starts with `_` are shared snippets for `{% include %}`, not pages. Optional YAML front matter:

    ---
    title: MRR movements        # else the first "# " heading
    order: 20                   # position in the sidebar (default 100, then title)
    requires: product_events    # data areas of dim_data_coverage (one, or a list) the page needs
    ---

A page whose `requires:` names an area the raw data does not hold is left out of the site; the
sidebar and the home page say so ("Product: left out — the raw data holds no scans or sessions").

A file named `[param].md` is a template: its front matter has `params_query`, a SQL query with a
column named `param`; the site gets one page per row, `params.<column>` holds that row's values,
and the page is written to `<folder>/<slug of the value>.html`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb
import yaml

from jobmetrics.core.errors import PageError, PageProblem, ReportError
from jobmetrics.reports.templating import render_string, slug

TEMPLATE_FILE = re.compile(r"^\[([A-Za-z_][A-Za-z0-9_]*)\]\.md$")
DEFAULT_ORDER = 100


@dataclass(frozen=True)
class PageSource:
    """One Markdown file: its front matter and body (front matter lines blanked, lines kept)."""

    path: Path
    relative: PurePosixPath
    meta: dict[str, Any]
    body: str
    param: str | None
    pages_dir: Path

    @property
    def order(self) -> int:
        value = self.meta.get("order", DEFAULT_ORDER)
        return value if isinstance(value, int) else DEFAULT_ORDER

    @property
    def requires(self) -> tuple[str, ...]:
        """The data areas (dim_data_coverage) front matter `requires:` names; PageError when it
        is neither a name nor a list of names."""
        value = self.meta.get("requires")
        if value is None:
            return ()
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise PageError(
                self.path, 2, "requires: must be a data area or a list of them (product_events)"
            )
        return tuple(names)

    @property
    def group(self) -> str:
        """Sidebar group of a templated page: front matter `group`, else the folder name."""
        folder = self.relative.parent.name
        return str(self.meta.get("group") or folder.replace("_", " ").replace("-", " ").title())


@dataclass
class PageInstance:
    """One HTML page to write: a page source with its parameter values (if templated)."""

    source: PageSource
    url: str
    title: str
    params: dict[str, Any] = field(default_factory=dict)
    nav_title: str = ""

    def __post_init__(self) -> None:
        self.nav_title = self.nav_title or self.title

    @property
    def depth(self) -> int:
        return self.url.count("/")

    @property
    def root(self) -> str:
        """Relative path from this page to the site root ('' or '../')."""
        return "../" * self.depth

    @property
    def slug(self) -> str:
        return self.url.removesuffix(".html").replace("/", "-")


def _split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            break
    else:
        raise PageError(path, 1, "front matter starts with --- but has no closing --- line")
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        raise PageError(path, line, f"front matter is not valid YAML: {problem}") from None
    if not isinstance(meta, dict):
        raise PageError(path, 2, "front matter must be YAML keys (title: ..., order: ...)")
    body = "\n" * end + "\n" + "\n".join(lines[end + 1 :])
    return meta, body


def read_page(path: Path, pages_dir: Path) -> PageSource:
    text = path.read_text(encoding="utf-8")
    meta, body = _split_front_matter(path, text)
    match = TEMPLATE_FILE.match(path.name)
    param = match.group(1) if match else None
    if param and not meta.get("params_query"):
        raise PageError(
            path,
            1,
            f"templated page needs `params_query:` in its front matter (a query "
            f"returning a {param!r} column, one row per page)",
        )
    relative = PurePosixPath(path.relative_to(pages_dir).as_posix())
    return PageSource(
        path=path, relative=relative, meta=meta, body=body, param=param, pages_dir=pages_dir
    )


def load_pages(pages_dir: Path) -> list[PageSource]:
    """Every page file under `pages_dir`, sorted by (order, path)."""
    if not pages_dir.is_dir():
        raise ReportError(f"the pages folder {pages_dir} does not exist")
    sources = [
        read_page(path, pages_dir)
        for path in sorted(pages_dir.rglob("*.md"))
        if not any(part.startswith("_") for part in path.relative_to(pages_dir).parts)
    ]
    if not sources:
        raise ReportError(f"the pages folder {pages_dir} has no .md pages")
    return sorted(sources, key=lambda source: (source.order, str(source.relative)))


def _first_heading(body: str) -> tuple[str, int] | None:
    in_fence = False
    for number, line in enumerate(body.split("\n"), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence and line.startswith("# "):
            return line[2:].strip(), number
    return None


def page_title(source: PageSource, params: dict[str, Any]) -> str:
    """The page title: front matter `title`, else the first `# ` heading (templated with params)."""
    context = {"params": params}
    if source.meta.get("title"):
        try:
            return render_string(str(source.meta["title"]), context).strip()
        except PageProblem as problem:
            raise PageError(source.path, 2, f"title: {problem}") from None
    heading = _first_heading(source.body)
    if heading is None:
        return source.path.stem.replace("-", " ").replace("_", " ").capitalize()
    text, line = heading
    try:
        return render_string(text, context).strip()
    except PageProblem as problem:
        raise PageError(source.path, line, str(problem)) from None


def _url(source: PageSource, value: Any | None) -> str:
    folder = source.relative.parent
    name = f"{slug(value)}.html" if source.param else f"{source.relative.stem}.html"
    return str(folder / name) if str(folder) != "." else name


def expand(source: PageSource, connection: duckdb.DuckDBPyConnection) -> list[PageInstance]:
    """The pages one source produces: itself, or one per row of its params query."""
    if source.param is None:
        return [PageInstance(source, _url(source, None), page_title(source, {}))]
    sql = str(source.meta["params_query"])
    try:
        cursor = connection.execute(sql)
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    except duckdb.Error as error:
        first = str(error).strip().splitlines()[0]
        raise PageError(source.path, 2, f"params_query: {first}") from None
    if source.param not in columns:
        raise PageError(
            source.path,
            2,
            f"params_query returns no {source.param!r} column (columns: {', '.join(columns)})",
        )
    instances = []
    seen: set[str] = set()
    for row in rows:
        params = dict(zip(columns, row, strict=True))
        url = _url(source, params[source.param])
        if url in seen:
            continue
        seen.add(url)
        title = page_title(source, params)
        nav_title = source.meta.get("nav_title")
        if nav_title:
            try:
                nav_title = render_string(str(nav_title), {"params": params}).strip()
            except PageProblem as problem:
                raise PageError(source.path, 2, f"nav_title: {problem}") from None
        instances.append(PageInstance(source, url, title, params, nav_title or title))
    return instances
