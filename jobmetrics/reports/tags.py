"""Component tags in a page: find them, read their attributes, keep their page line.

A component is a self-closing tag starting a line (it may span lines), for example
`<BigValue data="kpis" value="mrr" fmt="usd" />`. Tags are cut out of the templated Markdown and
replaced by placeholder comments before markdown-it renders it; reports.components then renders
each one and puts its HTML back.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

from jobmetrics.core.errors import PageProblem
from jobmetrics.core.formats import check_format

_ATTRIBUTE = r"""[A-Za-z_][-\w:.]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
TAG = re.compile(
    rf"^[ \t]*<(?P<name>[A-Z][A-Za-z0-9]*)(?P<attributes>(?:\s+{_ATTRIBUTE})*)\s*/?>[ \t]*$",
    re.MULTILINE,
)
"""A component tag: starts a line, may span lines, self-closing (the slash is optional)."""
STRAY_TAG = re.compile(r"^[ \t]*</?[A-Z][A-Za-z0-9]*\b", re.MULTILINE)
ATTRIBUTE = re.compile(
    r"""(?P<key>[A-Za-z_][-\w:.]*)(?:\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'=<>`]+)))?"""
)
LINE_ATTRIBUTE = "__line"
INPUT_TAGS = ("Dropdown", "ButtonGroup", "DateRange")
"""Components that are inputs a reader changes (reports.inputs)."""


@dataclass
class Attributes:
    """A tag's attributes, checked against what the component accepts."""

    tag: str
    values: dict[str, str]
    line: int | None

    def get(self, key: str, default: str | None = None) -> str | None:
        value = self.values.get(key)
        return default if value is None or value == "" else value

    def require(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise PageProblem(f"<{self.tag}> needs a {key}= attribute", self.line)
        return value

    def names(self, key: str, default: str | None = None) -> list[str]:
        """A comma-separated list attribute."""
        value = self.get(key, default)
        return [item.strip() for item in value.split(",") if item.strip()] if value else []

    def flag(self, key: str) -> bool | None:
        value = self.get(key)
        if value is None:
            return None
        lowered = value.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        raise PageProblem(f"<{self.tag}> {key}={value!r} must be true or false", self.line)

    def integer(self, key: str, default: int) -> int:
        value = self.get(key)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise PageProblem(f"<{self.tag}> {key}={value!r} must be a number", self.line) from None

    def fmt(self, key: str = "fmt") -> str | None:
        value = self.get(key)
        if value is None:
            return None
        try:
            return check_format(value)
        except PageProblem as problem:
            raise PageProblem(f"<{self.tag}> {key}=: {problem}", self.line) from None


def parse_attributes(text: str) -> dict[str, str]:
    values = {}
    for match in ATTRIBUTE.finditer(text):
        raw = next(
            (
                match.group(group)
                for group in ("dq", "sq", "bare")
                if match.group(group) is not None
            ),
            "true",
        )
        values[match.group("key")] = html.unescape(raw)
    return values


def mark_lines(source: str) -> str:
    """Give every component tag its page line (as an attribute) before templating moves it."""

    def mark(match: re.Match[str]) -> str:
        line = source.count("\n", 0, match.start("name")) + 1
        start = match.end("name") - match.start()
        text = match.group(0)
        return f'{text[:start]} {LINE_ATTRIBUTE}="{line}"{text[start:]}'

    return TAG.sub(mark, source)


@dataclass
class Placed:
    """The components found in a rendered page, each replaced by a placeholder comment."""

    text: str
    tags: list[tuple[str, Attributes]]


def placeholder(index: int) -> str:
    return f"<!--jm-component-{index}-->"


def extract(text: str, accepted: Mapping[str, frozenset[str]]) -> Placed:
    """Replace each component tag by a placeholder; unknown tags and attributes are errors.

    `accepted` maps each component name to the attributes it takes.
    """
    tags: list[tuple[str, Attributes]] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        values = parse_attributes(match.group("attributes"))
        line_text = values.pop(LINE_ATTRIBUTE, None)
        line = int(line_text) if line_text and line_text.isdigit() else None
        allowed = accepted.get(name)
        if allowed is None:
            raise PageProblem(
                f"unknown component <{name}> (components: {', '.join(accepted)})", line
            )
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise PageProblem(
                f"<{name}> has no attribute {unknown[0]!r} "
                f"(attributes: {', '.join(sorted(allowed))})",
                line,
            )
        tags.append((name, Attributes(name, values, line)))
        return f"\n{placeholder(len(tags) - 1)}\n"

    replaced = TAG.sub(replace, text)
    stray = STRAY_TAG.search(replaced)
    if stray:
        snippet = replaced[stray.start() : stray.start() + 40].strip().splitlines()[0]
        raise PageProblem(
            f"cannot read the component tag {snippet!r}: components are self-closing tags "
            'on their own line, attribute values in quotes, e.g. <LineChart data="q" x="month" '
            'y="mrr" />'
        )
    return Placed(replaced, tags)


_PLACEHOLDER_RUN = re.compile(r"^\s*(?:<!--jm-component-\d+-->\s*)+$")


def wrap_placeholder_run(html_text: str, placed: Placed) -> str:
    """A block of only component placeholders: two or more tiles become one tile row (a grid
    that wraps), inputs one input bar; anything else is returned as it is."""
    if not _PLACEHOLDER_RUN.match(html_text):
        return html_text
    names = [placed.tags[int(number)][0] for number in re.findall(r"\d+", html_text)]
    if len(names) > 1 and all(name == "BigValue" for name in names):
        return f'<div class="jm-tiles">{html_text.strip()}</div>\n'
    if all(name in INPUT_TAGS for name in names):
        return f'<div class="jm-input-bar">{html_text.strip()}</div>\n'
    return html_text
