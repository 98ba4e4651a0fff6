"""The Jinja2 environment pages are written in: format filters, query results, error lines."""

from __future__ import annotations

import functools
import re
import traceback
import unicodedata
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from jobmetrics.core import sql
from jobmetrics.core.errors import PageProblem
from jobmetrics.core.formats import FORMATS, format_value
from jobmetrics.core.labels import humanize
from jobmetrics.warehouse.results import QueryResult, Row


def slug(value: object) -> str:
    """A file-name-safe form of a value: 'Paid social' → 'paid-social'."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return text or "page"


class PageEnvironment(jinja2.Environment):
    """Jinja2 where `result.column` reads a query column before any Python attribute."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, QueryResult | Row) and not attribute.startswith("_"):
            return obj[attribute]
        return super().getattr(obj, attribute)


def _finalize(value: Any) -> Any:
    """Numbers and dates printed without a filter get the plain format (1,234 / 1,234.57)."""
    if isinstance(value, str | Markup | jinja2.Undefined):
        return value
    return format_value(value)


def environment(
    name: str, text: str, *, html: bool = True, include_dir: Path | None = None
) -> PageEnvironment:
    """An environment holding one template `name` with `text`; `{% include "_x.sql" %}` reads
    shared snippets from `include_dir` (the pages folder).

    `html=True` (page bodies) escapes values and prints bare numbers formatted; `html=False`
    (SQL blocks, titles) prints values as they are.
    """
    loaders: list[jinja2.BaseLoader] = [
        jinja2.FunctionLoader(lambda wanted: (text, name, lambda: True) if wanted == name else None)
    ]
    if include_dir is not None:
        loaders.append(jinja2.FileSystemLoader(include_dir))
    env = PageEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize if html else None,
        keep_trailing_newline=True,
        # A {% for %} line leaves no blank line behind, so a loop writing list items makes a
        # tight Markdown list.
        trim_blocks=True,
        lstrip_blocks=True,
    )
    for fmt in FORMATS:
        env.filters[fmt] = partial(_format_filter, fmt=fmt)
    env.filters["fmt"] = lambda value, fmt=None: format_value(value, fmt)
    env.filters["slug"] = slug
    env.filters["label"] = humanize  # a category value as the reader sees it (GB → United Kingdom)
    env.filters["sql"] = sql.literal  # {{ params.channel | sql }} in a page's query
    return env


def _format_filter(value: Any, fmt: str) -> str:
    return format_value(value, fmt)


def _template_line(error: BaseException, name: str) -> int | None:
    """The template line an exception was raised at (Jinja rewrites tracebacks to it)."""
    line = getattr(error, "lineno", None)
    if isinstance(error, jinja2.TemplateSyntaxError) and line:
        return line
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == name
    ]
    return frames[-1].lineno if frames else None


def render(env: PageEnvironment, name: str, context: dict[str, Any]) -> str:
    """Render the named template; any failure becomes a PageProblem with the template line."""
    try:
        return env.get_template(name).render(context)
    except PageProblem as problem:
        if problem.line is None:
            problem.line = _template_line(problem, name)
        raise
    except jinja2.TemplateNotFound as error:
        raise PageProblem(
            f"template: include {error.name!r} not found in the pages folder",
            _template_line(error, name),
        ) from None
    except jinja2.TemplateError as error:
        message = error.message or type(error).__name__
        raise PageProblem(f"template: {message}", _template_line(error, name)) from None
    except (TypeError, ValueError, ArithmeticError) as error:
        raise PageProblem(
            f"template: {type(error).__name__}: {error}", _template_line(error, name)
        ) from None


def render_string(
    text: str,
    context: dict[str, Any],
    name: str = "<string>",
    include_dir: Path | None = None,
) -> str:
    """Render a short plain-text template such as a title or one SQL block."""
    if not any(marker in text for marker in ("{{", "{%", "{#")):
        return text  # most SQL blocks: no template to compile
    return render(_plain_environment(name, text, include_dir), name, context)


@functools.lru_cache(maxsize=256)
def _plain_environment(name: str, text: str, include_dir: Path | None) -> PageEnvironment:
    """One environment per text: a page's views render the same SQL blocks with other inputs,
    and the environment keeps the compiled template."""
    return environment(name, text, html=False, include_dir=include_dir)
