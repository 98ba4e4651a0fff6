"""Page inputs a reader changes in the browser: dropdowns, button groups and date ranges.

The site is static and opens from disk, so an input works in one of two ways:

- A **view input** (a single-select `<Dropdown>`, a `<ButtonGroup>`) is read by the page's SQL and
  text as `{{ inputs.channel.value }}`. The builder renders the whole page once per combination of
  options (at most MAX_VIEWS) and the browser swaps in the parts that differ. Every query,
  tile, chart, table, CSV download and sentence follows it, because each is computed by the
  same code as the default view.
- A **row filter** (`<DateRange>`, `<Dropdown multiple>`) keeps, in the browser, the rows of every
  chart, table and CSV download whose data has the filtered column; tiles with `x=` and text in
  `{% call(row) per_period(query, "month") %}` show the range's last period. SQL cannot read
  it (the rows are already in the page).

Options are bounded: a dropdown's come from a query on the page (e.g. the `dimension_value`s a
long mart has), so a filter the mart cannot answer is never offered.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from markupsafe import Markup

from jobmetrics.core.errors import PageProblem
from jobmetrics.core.labels import humanize
from jobmetrics.reports import tags
from jobmetrics.reports.queries import NAME
from jobmetrics.warehouse.results import QueryResult, to_json_value

INPUT_TAGS = tags.INPUT_TAGS
MAX_OPTIONS = 40
"""A dropdown or button group offers at most this many options (aggregate or pick a dimension)."""
MAX_VIEWS = 48
"""A page renders at most this many combinations of its view inputs (size and build time)."""
ALL = "all"

ACCEPTED: dict[str, frozenset[str]] = {
    "Dropdown": frozenset(
        {"name", "data", "value", "label", "title", "all", "default", "multiple", "column"}
        | {"options", "group"}
    ),
    "ButtonGroup": frozenset({"name", "options", "data", "value", "label", "title", "default"}),
    "DateRange": frozenset({"name", "data", "column", "columns", "title", "default"}),
}

# Presets of a date range: key, label, months back from the last period (None: all, 0: YTD).
PRESETS: tuple[tuple[str, str, int | None], ...] = (
    ("all", "All", None),
    ("last_3_months", "Last 3 months", 3),
    ("last_6_months", "Last 6 months", 6),
    ("last_12_months", "Last 12 months", 12),
    ("year_to_date", "Year to date", 0),
)


@dataclass(frozen=True)
class Option:
    """One choice of an input: its value in the URL, its label, and the value SQL sees."""

    value: str
    """The value as text: in the URL (encoded) and in view keys."""
    label: str
    raw: Any
    group: str | None = None
    """The option group it is listed under (a dropdown's `group=` column), if any."""


@dataclass(frozen=True)
class InputValue:
    """What `{{ inputs.<name> }}` is in a page's SQL and text for the view being rendered."""

    value: Any
    label: str
    is_all: bool

    def __str__(self) -> str:
        return str(self.value)


@dataclass
class Input:
    """One input tag of a page, with its options resolved from the page's data."""

    kind: str
    name: str
    title: str
    line: int | None
    options: list[Option]
    default: list[str]
    multiple: bool = False
    columns: list[str] = field(default_factory=list)
    presets: list[dict[str, str]] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)
    """A date range's last day of each period (a month's last day when the periods are months)."""

    @property
    def is_view(self) -> bool:
        """Read by SQL and rendered per option (else filtered in the browser)."""
        return self.kind == "ButtonGroup" or (self.kind == "Dropdown" and not self.multiple)

    def spec(self) -> dict[str, Any]:
        """What the browser needs: how to read and write this input in the URL and filter rows."""
        spec: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "view": self.is_view,
            "default": self.default,
            "values": [option.value for option in self.options],
        }
        if self.columns:
            spec["columns"] = self.columns
        if self.presets:
            spec["presets"] = self.presets
            spec["ends"] = self.ends
        return spec


def _text(value: Any) -> str:
    json_value = to_json_value(value)
    return "" if json_value is None else str(json_value)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


# ---------------------------------------------------------------------------------------------
# Reading the tags and their options


@dataclass(frozen=True)
class InputTag:
    """An input tag found in a page body before the page is templated."""

    attributes: tags.Attributes


def find_input_tags(body: str) -> list[InputTag]:
    """The input tags of a page body (lines already marked), in page order."""
    found = []
    names: set[str] = set()
    for match in tags.TAG.finditer(body):
        kind = match.group("name")
        if kind not in INPUT_TAGS:
            continue
        values = tags.parse_attributes(match.group("attributes"))
        line_text = values.pop(tags.LINE_ATTRIBUTE, None)
        line = int(line_text) if line_text and line_text.isdigit() else None
        attributes = tags.Attributes(kind, values, line)
        unknown = sorted(set(values) - ACCEPTED[kind])
        if unknown:
            raise PageProblem(
                f"<{kind}> has no attribute {unknown[0]!r} "
                f"(attributes: {', '.join(sorted(ACCEPTED[kind]))})",
                line,
            )
        if any("{{" in value or "{%" in value for value in values.values()):
            raise PageProblem(
                f"<{kind}> attributes cannot be templated (inputs are read before the page)", line
            )
        name = attributes.require("name")
        if not NAME.match(name):
            raise PageProblem(f"<{kind}> name={name!r} must be letters, digits and _", line)
        if name in names:
            raise PageProblem(f"input {name!r} is defined twice on this page", line)
        names.add(name)
        found.append(InputTag(attributes))
    return found


def _options_from_query(
    tag: tags.Attributes,
    result: QueryResult,
    value_column: str,
    label_column: str | None,
    group_column: str | None,
) -> list[Option]:
    for column in (value_column, label_column, group_column):
        if column is not None and column not in result.columns:
            raise PageProblem(
                f"<{tag.tag}> column {column!r} is not in query {result.name!r} "
                f"(columns: {', '.join(result.columns)})",
                tag.line,
            )
    options: list[Option] = []
    seen: set[str] = set()
    for row in result:
        raw = row[value_column]
        if raw is None:
            continue
        value = _text(raw)
        if value in seen:
            continue
        seen.add(value)
        label = row[label_column] if label_column else raw
        group = humanize(row[group_column]) if group_column else None
        options.append(Option(value, humanize(label), raw, group))
    return options


def _fixed_options(tag: tags.Attributes) -> list[Option]:
    options = []
    for item in tag.names("options"):
        value, _, label = item.partition(":")
        value = value.strip()
        options.append(Option(value, label.strip() or humanize(value), value))
    return options


def _choice_input(tag: tags.Attributes, results: Mapping[str, QueryResult]) -> Input:
    kind, line = tag.tag, tag.line
    name = tag.require("name")
    multiple = bool(tag.flag("multiple"))
    if tag.get("options") and tag.get("data"):
        raise PageProblem(f"<{kind}> takes options= or data=, not both", line)
    if tag.get("options"):
        options = _fixed_options(tag)
    else:
        result = results[tag.require("data")]
        options = _options_from_query(
            tag, result, tag.require("value"), tag.get("label"), tag.get("group")
        )
    if kind == "Dropdown" and tag.get("all"):
        options = [Option(ALL, str(tag.get("all")), ALL)] + [
            option for option in options if option.value != ALL
        ]
    if not options:
        raise PageProblem(f"<{kind}> {name!r} has no options (its query returned no rows)", line)
    if len(options) > MAX_OPTIONS:
        raise PageProblem(
            f"<{kind}> {name!r} has {len(options)} options; at most {MAX_OPTIONS} "
            "(pick a coarser dimension)",
            line,
        )
    values = [option.value for option in options]
    wanted = tag.names("default")
    unknown = [value for value in wanted if value not in values]
    if unknown:
        raise PageProblem(
            f"<{kind}> default={unknown[0]!r} is not one of its options ({', '.join(values)})",
            line,
        )
    default = wanted or ([] if multiple else [values[0]])
    columns: list[str] = []
    if multiple:
        if kind != "Dropdown":
            raise PageProblem(f"<{kind}> cannot be multiple", line)
        columns = [tag.require("column")]
        if len(default) == len(values):
            default = []  # every value selected is the same as no filter
    elif tag.get("column"):
        raise PageProblem(
            f"<{kind}> column= is for multiple dropdowns (filters rows); a single dropdown is "
            "read by SQL as {{ inputs.%s.value }}" % name,
            line,
        )
    elif len(default) > 1:
        raise PageProblem(f"<{kind}> {name!r} takes one default value", line)
    title = tag.get("title") or humanize(name)
    return Input(kind, name, title, line, options, default, multiple, columns)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day if it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    following = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(day.day, (following - timedelta(days=1)).day))


def _date_range(tag: tags.Attributes, results: Mapping[str, QueryResult]) -> Input:
    name, line = tag.require("name"), tag.line
    result = results[tag.require("data")]
    column = tag.require("column")
    if column not in result.columns:
        raise PageProblem(
            f"<DateRange> column {column!r} is not in query {result.name!r} "
            f"(columns: {', '.join(result.columns)})",
            line,
        )
    periods = sorted({value for value in result.column(column) if value is not None})
    dates = [_as_date(value) for value in periods]
    if not periods:
        raise PageProblem(f"<DateRange> {name!r}: query {result.name!r} has no rows", line)
    if any(value is None for value in dates):
        raise PageProblem(f"<DateRange> column {column!r} must hold dates", line)
    options = [Option(_text(value), _text(value), value) for value in periods]
    last = dates[-1]
    presets = []
    for key, label, months in PRESETS:
        if months is None:
            start = dates[0]
        elif months == 0:
            start = date(last.year, 1, 1)
        else:
            start = _months_before(last, months) + timedelta(days=1)
        first = next(value for value in dates if value >= start) if start <= last else last
        presets.append({"key": key, "label": label, "start": first.isoformat()})
    default = tag.get("default", "all")
    if default not in {preset["key"] for preset in presets}:
        keys = ", ".join(preset["key"] for preset in presets)
        raise PageProblem(f"<DateRange> default={default!r} is not a preset ({keys})", line)
    columns = [column] + [extra for extra in tag.names("columns") if extra != column]
    title = tag.get("title") or "Period"
    # The last day each period covers, so a daily column is kept through the end of the month.
    monthly = all(day.day == 1 for day in dates) and len(dates) > 1
    ends = [
        (_months_before(day, -1) - timedelta(days=1) if monthly else day).isoformat()
        for day in dates
    ]
    item = Input("DateRange", name, title, line, options, [default], False, columns, presets)
    item.ends = ends
    return item


def resolve(found: list[InputTag], results: Mapping[str, QueryResult]) -> dict[str, Input]:
    """Each input with its options, from the results of the queries its `data=` names."""
    resolved: dict[str, Input] = {}
    for item in found:
        tag = item.attributes
        data = tag.get("data")
        if data is not None and data not in results:
            known = ", ".join(results) or "none"
            raise PageProblem(
                f"<{tag.tag}> data={data!r} is not a query on this page (queries: {known})",
                tag.line,
            )
        make = _date_range if tag.tag == "DateRange" else _choice_input
        resolved[tag.require("name")] = make(tag, results)
    return resolved


# ---------------------------------------------------------------------------------------------
# Views


@dataclass(frozen=True)
class View:
    """One combination of view-input options: the key the browser looks it up by."""

    key: str
    choices: dict[str, Option]
    is_default: bool

    def context(self) -> dict[str, InputValue]:
        return {
            name: InputValue(option.raw, option.label, option.value == ALL)
            for name, option in self.choices.items()
        }


def views(page_inputs: Mapping[str, Input], line: int | None = None) -> list[View]:
    """Every combination of the view inputs' options, the default one first."""
    view_inputs = [item for item in page_inputs.values() if item.is_view]
    count = 1
    for item in view_inputs:
        count *= len(item.options)
    if count > MAX_VIEWS:
        sizes = " × ".join(f"{len(item.options)} {item.name}" for item in view_inputs)
        raise PageProblem(
            f"the page's inputs make {count} views ({sizes}); at most {MAX_VIEWS} — use fewer "
            "options or a multiple dropdown (a row filter) for one of them",
            view_inputs[0].line if view_inputs else line,
        )

    def ordered(item: Input) -> list[Option]:
        first = [option for option in item.options if option.value == item.default[0]]
        return first + [option for option in item.options if option.value != item.default[0]]

    combos: Iterator[tuple[Option, ...]] = itertools.product(
        *(ordered(item) for item in view_inputs)
    )
    result = []
    for number, combo in enumerate(combos):
        choices = {item.name: option for item, option in zip(view_inputs, combo, strict=True)}
        result.append(View(view_key(choices), choices, number == 0))
    return result


def view_key(choices: Mapping[str, Option]) -> str:
    """`channel=paid_search&compare=previous_month` (inputs in page order)."""
    return "&".join(f"{name}={option.value}" for name, option in choices.items())


class NoInputs(Mapping[str, Any]):
    """`inputs` while an input's options are computed: reading one is an error."""

    def __getitem__(self, key: str) -> Any:
        raise PageProblem(f"an input's options query cannot read inputs (it reads inputs.{key})")

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


# ---------------------------------------------------------------------------------------------
# Controls (HTML) and per-period text


def control_html(item: Input) -> str:
    """The control a reader uses; the browser sets it from the URL on load."""
    label_id = f"jm-input-{item.name}"
    data = f'data-input="{_e(item.name)}" data-kind="{_e(item.kind)}"'
    title = f'<span class="jm-input-title" id="{label_id}">{_e(item.title)}</span>'
    if item.kind == "DateRange":
        presets = (
            "".join(
                f'<option value="{_e(preset["key"])}"'
                f"{' selected' if preset['key'] == item.default[0] else ''}>"
                f"{_e(preset['label'])}</option>"
                for preset in item.presets
            )
            + '<option value="custom">Custom</option>'
        )
        default_start = next(p["start"] for p in item.presets if p["key"] == item.default[0])
        months = [(option.value, _period_label(option.raw)) for option in item.options]
        start = "".join(
            f'<option value="{_e(value)}"{" selected" if value == default_start else ""}>'
            f"{_e(label)}</option>"
            for value, label in months
        )
        last = months[-1][0]
        end = "".join(
            f'<option value="{_e(value)}"{" selected" if value == last else ""}>'
            f"{_e(label)}</option>"
            for value, label in months
        )
        return (
            f'<div class="jm-input jm-daterange" role="group" aria-labelledby="{label_id}" {data}>'
            f"{title}"
            f'<select data-role="preset" aria-label="{_e(item.title)} preset">{presets}</select>'
            f'<span class="jm-range"><select data-role="start" aria-label="From">{start}</select>'
            f'<span aria-hidden="true">–</span>'
            f'<select data-role="end" aria-label="To">{end}</select></span></div>'
        )
    if item.kind == "ButtonGroup":
        buttons = "".join(
            f'<button type="button" data-value="{_e(option.value)}" '
            f'aria-pressed="{"true" if option.value in item.default else "false"}">'
            f"{_e(option.label)}</button>"
            for option in item.options
        )
        return (
            f'<div class="jm-input jm-buttons" role="group" aria-labelledby="{label_id}" {data}>'
            f'{title}<span class="jm-button-row">{buttons}</span></div>'
        )
    if item.multiple:
        boxes = "".join(
            f'<label><input type="checkbox" value="{_e(option.value)}"'
            f"{' checked' if not item.default or option.value in item.default else ''}> "
            f"{_e(option.label)}</label>"
            for option in item.options
        )
        return (
            f'<details class="jm-input jm-multi" {data}><summary>{title}'
            f'<span class="jm-multi-summary">All</span></summary>'
            f'<div class="jm-multi-options" role="group" aria-labelledby="{label_id}">'
            f'<span class="jm-multi-actions"><button type="button" data-role="all">All</button>'
            f'<button type="button" data-role="none">None</button></span>{boxes}</div></details>'
        )
    choices, group = "", None
    for option in item.options:
        if option.group != group:
            choices += "</optgroup>" if group is not None else ""
            choices += f'<optgroup label="{_e(option.group)}">' if option.group is not None else ""
            group = option.group
        selected = " selected" if option.value in item.default else ""
        choices += f'<option value="{_e(option.value)}"{selected}>{_e(option.label)}</option>'
    choices += "</optgroup>" if group is not None else ""
    return (
        f'<label class="jm-input jm-dropdown" {data}>{title}'
        f'<select aria-labelledby="{label_id}">{choices}</select></label>'
    )


def _period_label(value: Any) -> str:
    day = _as_date(value)
    if day is None:
        return str(value)
    return day.strftime("%b %Y") if day.day == 1 else day.isoformat()


def per_period(
    result: QueryResult, column: str, caller: Callable[..., str] | None = None
) -> Markup:
    """`{% call(row) per_period(movements, "month") %}…{% endcall %}`: the block written once per
    row; the browser shows the one for the last period of the page's date range (default: the
    last row)."""
    if caller is None:
        raise PageProblem("per_period is used as {% call(row) per_period(query, 'column') %}")
    if not isinstance(result, QueryResult):
        raise PageProblem("per_period takes a query result and a column name")
    if column not in result.columns:
        raise PageProblem(
            f"per_period: column {column!r} is not in query {result.name!r} "
            f"(columns: {', '.join(result.columns)})"
        )
    rows = sorted((row for row in result if row[column] is not None), key=lambda row: row[column])
    blocks = []
    for number, row in enumerate(rows):
        hidden = "" if number == len(rows) - 1 else " hidden"
        blocks.append(
            f'\n<div class="jm-per-period" data-group="{_e(result.name)}:{_e(column)}" '
            f'data-column="{_e(column)}" '
            f'data-period="{_e(_text(row[column]))}"{hidden}>\n\n{caller(row)}\n\n</div>\n'
        )
    return Markup("".join(blocks))


def page_spec(page_inputs: Mapping[str, Input]) -> list[dict[str, Any]]:
    return [item.spec() for item in page_inputs.values()]
