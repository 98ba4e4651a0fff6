"""Plotly figures (plain JSON dicts) built from query results, with the page's number formats.

Figures are built here rather than with plotly's Python objects: plain dicts are fast to build
and small to embed, and hover texts are formatted by jobmetrics.core.formats so a tooltip shows
exactly what the tables and tiles show.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from jobmetrics.core.formats import MISSING, axis_format, format_value, hover_template
from jobmetrics.core.labels import humanize
from jobmetrics.generator.assumptions import DEVICES, SEGMENTS
from jobmetrics.generator.errors import GeneratorError
from jobmetrics.generator.reference import load_channels, load_plans
from jobmetrics.warehouse.results import QueryResult, to_json_value

# Series with no fixed colour take the first of these not yet used in their chart (12: the
# product page's job categories draw 11 series in one chart).
PALETTE = (
    "#2563eb",
    "#f97316",
    "#9333ea",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#4b5563",
    "#16a34a",
    "#dc2626",
    "#65a30d",
    "#a16207",
    "#7c3aed",
)

GOOD = "#16a34a"
BAD = "#dc2626"
TOTAL = "#2563eb"
EMPTY = "rgba(148, 163, 184, 0.28)"
"""A heatmap cell with no value: translucent slate, unlike the lightest blue of a low value."""
ALL = "#334155"
"""The "all" row of a long mart (every channel, segment, ...): dark slate, never a category's."""

# One colour per value of a dimension, in the dimension's stable order (seeds for channels and
# plans, the generator's lists for segments and devices). Values of one dimension never share a
# colour; two dimensions never meet on one chart, so they may.
_DIMENSION_PALETTE = (
    "#2563eb",
    "#f97316",
    "#9333ea",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#65a30d",
    "#4b5563",
    "#a16207",
    "#7c3aed",
)

# Colours that say "growth": a series that only goes below zero (a loss) never gets one.
_GOOD_COLORS = frozenset({GOOD, "#65a30d", "#0891b2"})

# Movements and severities keep their meaning across charts: growth greens, losses orange/red.
_MEANING_COLORS = {
    "new": GOOD,
    "expansion": "#65a30d",
    "reactivation": "#0891b2",
    "contraction": "#f97316",
    "churn": BAD,
    "churned": BAD,
    "critical": BAD,
    "warning": "#d97706",
    "info": "#64748b",
}

_NEUTRAL_WORDS = {"mrr", "lost", "to", "usd", "customers", "alerts", "level"}


def _seed_values() -> tuple[tuple[str, ...], ...]:
    """Each dimension's values in their stable order (empty where a seed cannot be read)."""
    try:
        channels = load_channels().names
        plans = load_plans().plans
    except GeneratorError:
        channels, plans = (), ()
    return (channels, plans, SEGMENTS, DEVICES)


def _category_colors() -> dict[str, str]:
    """Category value → colour, keyed by the raw value and by its display label."""
    colors = {"all": ALL}
    for values in _seed_values():
        for position, value in enumerate(values):
            colors[value] = _DIMENSION_PALETTE[position % len(_DIMENSION_PALETTE)]
    return {**colors, **{humanize(value): color for value, color in colors.items()}}


CATEGORY_COLORS: dict[str, str] = _category_colors()
"""The one category → colour assignment of the site (paid_search is one colour everywhere)."""


def fixed_color(label: str) -> str | None:
    """The colour a series always has: its category's, or its movement's; None for others."""
    if label in CATEGORY_COLORS:
        return CATEGORY_COLORS[label]
    words = {word for word in re.split(r"[^a-z]+", label.lower()) if word}
    meaning = words & set(_MEANING_COLORS)
    # Only a label that is just the movement ("new", "New MRR", "lost to churn MRR"), not
    # "net new MRR" or "logo churn rate".
    if len(meaning) == 1 and words - meaning <= _NEUTRAL_WORDS:
        return _MEANING_COLORS[meaning.pop()]
    return None


def color_for(label: str, position: int, used: Sequence[str] = ()) -> str:
    """A series colour: fixed by category or meaning, else the first palette colour (from
    `position`) not already used in the chart, so two series of one chart never share one."""
    fixed = fixed_color(label)
    if fixed is not None:
        return fixed
    for step in range(len(PALETTE)):
        candidate = PALETTE[(position + step) % len(PALETTE)]
        if candidate not in used:
            return candidate
    return PALETTE[position % len(PALETTE)]


def series_colors(names: Sequence[str], negative: Sequence[bool] = ()) -> list[str]:
    """Colours of a chart's series: fixed ones kept, the others distinct from every colour in the
    chart; a series that only goes below zero (`negative`) is never drawn in a growth colour."""
    colors = [fixed_color(name) for name in names]
    for position in range(len(names)):
        is_loss = position < len(negative) and negative[position]
        color = colors[position]
        if color is not None and not (is_loss and color in _GOOD_COLORS):
            continue
        taken = [other for other in colors if other is not None]
        if is_loss:
            taken += sorted(_GOOD_COLORS)
        colors[position] = BAD if is_loss and BAD not in taken else color_for("", position, taken)
    return [color or PALETTE[0] for color in colors]


_UNITS = {
    "usd": "USD",
    "pct": "%",
    "ms": "ms",
    "hours": "hours",
    "days": "days",
    "months": "months",
}


def unit_of(fmt: str | None) -> str | None:
    """The unit a named format shows (usd0 → USD, pct1 → %), or None for plain numbers."""
    if not fmt:
        return None
    return next((unit for prefix, unit in _UNITS.items() if fmt.startswith(prefix)), None)


def axis_title(label: str, fmt: str | None) -> str:
    """An axis title with its unit: "MRR (USD)", "Churn rate (%)"; the unit once only."""
    unit = unit_of(fmt)
    if unit is None or label.endswith(f" {unit}") or label.endswith(f"({unit})"):
        return label
    return f"{label} ({unit})"


def _value_title(ys: Sequence[str], labels: dict[str, str], fmt: str | None) -> str:
    """The y axis title of one or more value columns."""
    names = [labels.get(y, humanize(y)) for y in ys]
    if len(names) == 1:
        return axis_title(names[0], fmt)
    shared = _shared_words(names)  # Completed scans, Failed scans → Scans
    if shared:
        return axis_title(shared[:1].upper() + shared[1:], fmt)
    generic = {"USD": "Amount", "%": "Rate", "ms": "Time", "hours": "Time", "days": "Time"}
    unit = unit_of(fmt)
    return axis_title(generic.get(unit or "", "Value"), fmt)


def _shared_words(names: Sequence[str]) -> str:
    """The words every name ends with (match rate), else starts with (DAU), else ""."""
    split = [name.split() for name in names]
    for take in (lambda words, n: words[-n:], lambda words, n: words[:n]):
        for count in range(min(len(words) for words in split) - 1, 0, -1):
            parts = {" ".join(take(words, count)).lower() for words in split}
            if len(parts) == 1:
                return " ".join(take(split[0], count))
    return ""


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _x_axis(values: Sequence[Any], fmt: str | None) -> dict[str, Any]:
    """The x axis of a line, area or bar chart. A month axis ticks on the first of a month and a
    whole-number axis (months since signup) on whole numbers: Plotly's own steps fall between
    them on a short range ("Sep 2026, Oct 2026, Oct 2026"; 0.5 months). The dtick given is the
    smallest step; the page (xTicks in assets/site.js) widens it where the chart is too narrow for a
    label per month or number."""
    if fmt == "month":
        return {"type": "date", "tickformat": "%b %Y", "hoverformat": "%b %Y", "dtick": "M1"}
    if fmt == "date" or (values and isinstance(values[0], date)):
        return {"type": "date", "hoverformat": "%Y-%m-%d"}
    if values and isinstance(values[0], str):
        return {"type": "category"}
    present = [value for value in values if value is not None]
    if present and all(_is_whole(value) for value in present):
        # one point at 0 (a cohort's first month) would get a range from -1 to 1
        return {
            "tick0": 0,
            "dtick": 1,
            **({"rangemode": "nonnegative"} if min(present) >= 0 else {}),
        }
    return {}


def _is_loss(values: Sequence[Any]) -> bool:
    """True for a series that only goes below zero (churn, contraction, lost MRR)."""
    numbers = [float(value) for value in values if isinstance(value, int | float | Decimal)]
    return bool(numbers) and max(numbers) <= 0 and min(numbers) < 0


def _category_labels(values: Sequence[Any]) -> dict[str, Any]:
    """Raw category values (paid_search) shown by their labels on ticks and hovers; the data
    keeps the raw values, so the page's row filters still match them."""
    alias = {value: humanize(value) for value in values if isinstance(value, str)}
    alias = {value: label for value, label in alias.items() if label != value}
    return {"labelalias": alias} if alias else {}


def base_layout(height: int) -> dict[str, Any]:
    """Layout shared by every chart; titles are the page's captions around the chart."""
    return {
        "height": height,
        "margin": {"l": 64, "r": 16, "t": 12, "b": 48},
        # Above the plot: a legend below it would sit on the x axis title.
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"namelength": -1},
    }


def _groups(result: QueryResult, series: str) -> dict[str, list[tuple]]:
    """Rows grouped by the series column, in order of first appearance."""
    position = result.index(series)
    groups: dict[str, list[tuple]] = {}
    for row in result.rows:
        groups.setdefault(str(row[position]), []).append(row)
    return groups


def _partial_label(value: Any) -> str | None:
    """The hover label of a partial period: the column's text ('partial: 2 of 7 days'), or
    'partial' for a true flag; None for a complete period (NULL, False, empty)."""
    if value is None or value is False or value == "":
        return None
    return value if isinstance(value, str) else "partial"


def _partial_traces(trace: dict[str, Any], flags: list[str | None], kind: str) -> list[dict]:
    """Draw a trace's partial periods distinctly (their labels in `flags`, None = complete):
    bars hatched and paler, lines and areas stopped before them with the partial points open
    markers joined by a dashed line, the label in the hover. Returns the traces to add."""
    if not any(flags):
        return []
    template = trace["hovertemplate"]
    partial_hover = [f"{template} ({flag})" if flag else template for flag in flags]
    if kind == "bar":
        trace["marker"]["pattern"] = {"shape": ["/" if flag else "" for flag in flags]}
        trace["marker"]["opacity"] = [0.55 if flag else 1.0 for flag in flags]
        trace["hovertemplate"] = partial_hover
        # the legend draws a trace's first bar: a plain swatch stands in, so a hatched first
        # (partial) bar does not make the whole series look partial
        trace.update(showlegend=False, legendgroup=trace["name"])
        swatch = {"color": trace["marker"]["color"], "symbol": "square", "size": 12}
        return [
            {
                "type": "scatter",
                "name": trace["name"],
                "x": [None],
                "y": [None],
                "mode": "markers",
                "marker": swatch,
                "legendgroup": trace["name"],
                "hoverinfo": "skip",
                **({"meta": trace["meta"]} if "meta" in trace else {}),
            }
        ]
    values = trace["y"]
    near = [
        bool(flags[i] or (i > 0 and flags[i - 1]) or (i + 1 < len(flags) and flags[i + 1]))
        for i in range(len(flags))
    ]
    trace["y"] = [None if flag else value for value, flag in zip(values, flags, strict=True)]
    trace["legendgroup"] = trace["name"]
    shared = {
        "type": "scatter",
        "name": trace["name"],
        "x": trace["x"],
        "legendgroup": trace["name"],
        "showlegend": False,
        **({"meta": trace["meta"]} if "meta" in trace else {}),
    }
    color = trace["line"]["color"]
    connector = {
        **shared,
        "y": [value if close else None for value, close in zip(values, near, strict=True)],
        "mode": "lines",
        "line": {"color": color, "width": 2, "dash": "dash"},
        "hoverinfo": "skip",
    }
    points = {
        **shared,
        "y": [value if flag else None for value, flag in zip(values, flags, strict=True)],
        "mode": "markers",
        "marker": {"color": "white", "size": 8, "line": {"color": color, "width": 2}},
        "hovertemplate": partial_hover,
    }
    return [connector, points]


def xy_figure(
    result: QueryResult,
    *,
    kind: str,
    x: str,
    ys: list[str],
    series: str | None,
    fmt: str | None,
    x_fmt: str | None,
    stacked: bool,
    labels: dict[str, str],
    height: int = 320,
    partial: str | None = None,
    y_title: str | None = None,
) -> dict[str, Any]:
    """Line, area or bar chart: one trace per y column, or per value of `series` (long data).
    Rows whose `partial` column is set (a label or true) are partial periods, drawn apart."""
    x_position = result.index(x)
    y_positions = {y: result.index(y) for y in ys}
    if series:
        traces_source = [(name, rows, ys[0]) for name, rows in _groups(result, series).items()]
        # The raw series value rides along as the trace's meta, for the page's row filters.
        series_values = list(_groups(result, series))
    else:
        traces_source = [(labels.get(y, y), result.rows, y) for y in ys]
        series_values = [None] * len(ys)
    names = [humanize(name) for name, _, _ in traces_source]
    losses = [_is_loss([row[y_positions[y]] for row in rows]) for _, rows, y in traces_source]
    colors = series_colors(names, losses)
    traces = []
    for position, (_, rows, y) in enumerate(traces_source):
        values = [row[y_positions[y]] for row in rows]
        trace: dict[str, Any] = {
            "name": names[position],
            "x": [to_json_value(row[x_position]) for row in rows],
            "y": [to_json_value(value) for value in values],
            "hovertemplate": hover_template(fmt),
        }
        if series_values[position] is not None:
            trace["meta"] = series_values[position]
        color = colors[position]
        if kind == "bar":
            trace.update(type="bar", marker={"color": color}, textposition="none")
        else:
            trace.update(
                type="scatter",
                mode="lines+markers" if len(rows) <= 24 else "lines",
                line={"color": color, "width": 2},
            )
            if kind == "area":
                if stacked:
                    trace["stackgroup"] = "one"
                else:
                    trace["fill"] = "tozeroy"
        traces.append(trace)
        if partial:
            flags = [_partial_label(row[result.index(partial)]) for row in rows]
            traces.extend(_partial_traces(trace, flags, kind))
    layout = base_layout(height)
    layout["hovermode"] = "x unified"
    layout["showlegend"] = sum(trace.get("showlegend", True) for trace in traces) > 1
    layout["xaxis"] = {
        **_x_axis(result.column(x), x_fmt),
        **_category_labels(result.column(x)),
        "automargin": True,
        "title": {"text": labels.get(x, humanize(x))},
    }
    if layout["xaxis"].get("dtick") == "M1":
        # The last month's label sits on its bar near the right edge, and Plotly hides a label
        # that would run past the chart ("Nov 2026" on a phone): room for half a label.
        layout["margin"]["r"] = 32
    if y_title is None and series:
        y_title = labels.get(ys[0], humanize(ys[0]))
    layout["yaxis"] = {
        "rangemode": "tozero",
        "automargin": True,  # wide tick labels push the title out, never under it
        **axis_format(fmt),
        "title": {"text": axis_title(y_title, fmt) if y_title else _value_title(ys, labels, fmt)},
    }
    if kind == "bar":
        layout["barmode"] = "relative" if stacked else "group"
    return {"data": traces, "layout": layout}


def horizontal_bars(figure: dict[str, Any]) -> dict[str, Any]:
    """A bar figure of xy_figure turned on its side, for a ranking: categories down the y axis in
    row order (the first row on top), values along the x axis; taller with more bars. The
    categories are drawn by their labels (no row filter reads them here): Plotly places the axis
    title by the width of the raw values, so aliased long labels would run into it."""
    data = []
    for trace in figure["data"]:
        categories = [
            humanize(item) if isinstance(item, str) else item for item in trace.get("x") or []
        ]
        turned = {**trace, "x": trace.get("y"), "y": categories}
        if trace.get("type") == "bar":
            turned["orientation"] = "h"
        template = trace.get("hovertemplate")
        if isinstance(template, str):
            turned["hovertemplate"] = template.replace("%{y", "%{x")
        elif isinstance(template, list):
            turned["hovertemplate"] = [item.replace("%{y", "%{x") for item in template]
        data.append(turned)
    layout = dict(figure["layout"])
    layout["xaxis"], layout["yaxis"] = (
        dict(layout["yaxis"]),
        {
            **layout["xaxis"],
            "autorange": "reversed",
            "labelalias": {},
            "title": {**layout["xaxis"]["title"], "standoff": 12},
        },
    )
    layout["hovermode"] = "y unified"
    bars = max((len(trace.get("y") or []) for trace in data), default=0)
    layout["height"] = max(layout["height"], 24 * bars + 80)
    return {**figure, "data": data, "layout": layout}


GOAL = "#64748b"
"""A target's dashed line and label: mid slate, the colour of no series (so it never reads as
one) and readable on the light and the dark theme."""


def goal_line(figure: dict[str, Any], value: float, label: str) -> dict[str, Any]:
    """The figure with a dashed horizontal line at `value` across the whole plot, labelled in
    words ("Target ≥ 3.0×") at its right end; both sit in plot-wide (paper) x, so the page's
    row filters keep them whatever range they show, and they widen the y axis to reach it."""
    layout = figure["layout"]
    layout.setdefault("shapes", []).append(
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": value,
            "y1": value,
            "line": {"color": GOAL, "width": 1.5, "dash": "dash"},
            "layer": "above",
        }
    )
    layout.setdefault("annotations", []).append(
        {
            "xref": "paper",
            "x": 1,
            "xanchor": "right",
            "yref": "y",
            "y": value,
            "yanchor": "bottom",
            "yshift": 2,  # clear of the dashes
            "text": label,
            "showarrow": False,
            "font": {"size": 11, "color": GOAL},
            # a light pill, so the words stay readable where a series crosses them (dark theme too)
            "bgcolor": "rgba(248, 250, 252, 0.85)",
        }
    )
    return figure


def waterfall_figure(
    result: QueryResult,
    *,
    label: str,
    value: str,
    measure: str | None,
    fmt: str | None,
    height: int = 360,
) -> dict[str, Any]:
    """Waterfall: the first row is the starting total, the last the ending total, others steps."""
    labels = [humanize(item) for item in result.column(label)]
    values = result.column(value)
    if measure:
        measures = [str(item) for item in result.column(measure)]
    else:
        measures = ["relative"] * len(values)
        if measures:
            measures[0] = "absolute"
        if len(measures) > 1:
            measures[-1] = "total"
    trace = {
        "type": "waterfall",
        "x": labels,
        "y": [to_json_value(item) for item in values],
        "measure": measures,
        "text": [format_value(item, fmt) for item in values],
        "textposition": "outside",
        "hovertemplate": "%{x}: %{text}<extra></extra>",
        "increasing": {"marker": {"color": GOOD}},
        "decreasing": {"marker": {"color": BAD}},
        "totals": {"marker": {"color": TOTAL}},
        "connector": {"line": {"width": 1, "dash": "dot"}},
        "cliponaxis": False,
    }
    layout = base_layout(height)
    layout["showlegend"] = False
    layout["margin"]["t"] = 28  # room for the labels above the highest bars
    layout["xaxis"] = {"type": "category", "automargin": True, "title": {"text": humanize(label)}}
    layout["yaxis"] = {
        **axis_format(fmt),
        "automargin": True,
        "title": {"text": axis_title(humanize(value), fmt)},
    }
    return {"data": [trace], "layout": layout}


def heatmap_figure(
    result: QueryResult,
    *,
    x: str,
    y: str,
    value: str,
    fmt: str | None,
    y_fmt: str | None,
    labels: dict[str, str],
) -> dict[str, Any]:
    """Heatmap of value by (y, x), e.g. retention by cohort month and months since start."""
    xs: list[Any] = []
    ys: list[Any] = []
    cells: dict[tuple[Any, Any], Any] = {}
    x_position, y_position, v_position = result.index(x), result.index(y), result.index(value)
    for row in result.rows:
        if row[x_position] not in xs:
            xs.append(row[x_position])
        if row[y_position] not in ys:
            ys.append(row[y_position])
        cells[(row[y_position], row[x_position])] = row[v_position]
    xs.sort(key=lambda item: (item is None, item))
    ys.sort(key=lambda item: (item is None, item))
    z = [[to_json_value(cells.get((row, column))) for column in xs] for row in ys]
    y_values = [to_json_value(item) for item in ys]  # raw rows, for the page's date range
    text = [
        [format_value(cells[(row, column)], fmt) if (row, column) in cells else "" for column in xs]
        for row in ys
    ]
    y_labels = [format_value(item, y_fmt) for item in ys]
    trace = {
        "type": "heatmap",
        "x": [to_json_value(item) for item in xs],
        "y": y_labels,
        "z": z,
        "text": text,
        "texttemplate": "%{text}",
        "textfont": {"size": 10},
        "hovertemplate": (
            f"{labels.get(y, humanize(y))} %{{y}}<br>{labels.get(x, humanize(x))} %{{x}}<br>"
            f"{labels.get(value, humanize(value))} %{{text}}<extra></extra>"
        ),
        "meta": y_values,
        # Light to dark blue from a visible light blue, so a low value never looks empty.
        "colorscale": [[0, "#dbeafe"], [0.5, "#60a5fa"], [1, "#1e3a8a"]],
        "showscale": True,
        "colorbar": {
            "title": {"text": axis_title(labels.get(value, humanize(value)), fmt), "side": "right"},
            "thickness": 10,
            "outlinewidth": 0,
            **axis_format(fmt),
        },
        "xgap": 1,
        "ygap": 1,
    }
    empty = {
        # Cells with no value (a cohort too young, a partial month left out): grey, no number.
        "type": "heatmap",
        "x": trace["x"],
        "y": y_labels,
        "z": [[1 if (row, column) not in cells else None for column in xs] for row in ys],
        "colorscale": [[0, EMPTY], [1, EMPTY]],
        "showscale": False,
        "hovertemplate": "no value<extra></extra>",
        "name": "No value",
        "meta": y_values,  # filtered with the value trace's rows by the page's date range
        "xgap": 1,
        "ygap": 1,
    }
    layout = base_layout(max(220, 26 * len(ys) + 90))
    layout["xaxis"] = {
        "type": "category",
        "title": {"text": labels.get(x, humanize(x))},
        "side": "top",
        "automargin": True,  # on a phone the column labels turn and need more room
        "showgrid": False,  # grid lines would cross the empty cells
    }
    layout["yaxis"] = {
        "type": "category",
        "autorange": "reversed",
        "automargin": True,
        "showgrid": False,
        "title": {"text": labels.get(y, humanize(y))},
    }
    layout["margin"] = {"l": 80, "r": 16, "t": 40, "b": 16}  # room for the x axis on top
    data = [empty, trace] if any(None in row for row in z) else [trace]
    return {"data": data, "layout": layout}


BAND_FILL = "rgba(100, 116, 139, 0.2)"
"""An interval's shading: translucent slate, the colour of no series, so the lines drawn over it
keep their colours on the light and the dark theme."""


def interval_band(
    figure: dict[str, Any],
    result: QueryResult,
    *,
    x: str,
    lower: str,
    upper: str,
    label: str,
    fmt: str | None,
    partial: str | None = None,
) -> dict[str, Any]:
    """The figure with a shaded band from the column `lower` up to `upper` (a forecast's
    interval), drawn under its lines: one legend entry, `label`, whose hover gives both ends
    ("80 % error band: $28,136 to $30,245") and, on a row of a partial period, the `partial`
    column's label. Rows where the ends are NULL leave a gap."""
    xs = [to_json_value(value) for value in result.column(x)]
    lows = result.column(lower)
    edge = {"type": "scatter", "mode": "lines", "x": xs, "line": {"width": 0}}
    low_edge = {
        **edge,
        "name": label,
        "y": [to_json_value(value) for value in lows],
        "showlegend": False,
        "hoverinfo": "skip",
    }
    high_edge = {
        **edge,
        "name": label,
        "y": [to_json_value(value) for value in result.column(upper)],
        "fill": "tonexty",
        "fillcolor": BAND_FILL,
        "legendrank": 1001,  # listed after the lines (default rank 1000)
        "customdata": [None if low is None else format_value(low, fmt) for low in lows],
        "hovertemplate": f"%{{customdata}} to {hover_template(fmt)}",
    }
    if partial is not None:
        high_edge["hovertemplate"] = [
            f"%{{customdata}} to {hover_template(fmt)}" + (f" ({note})" if note else "")
            for note in result.column(partial)
        ]
    figure["data"][:0] = [low_edge, high_edge]
    # a tonexty fill would turn Plotly's default legend order around
    figure["layout"].setdefault("legend", {})["traceorder"] = "normal"
    return figure


def share_text(part: Any, whole: Any) -> str:
    """A part as a share of a whole as the site shows it; a share too small for one decimal is
    "<0.1%", never "0%" (44 of 16,653 is not none), and no whole gives an en dash."""
    if part is None or not whole:
        return MISSING
    share = float(part) / float(whole)
    if 0 < share < 0.0005:
        return "<0.1%"
    return format_value(share, "pct")


def _funnel_texts(values: Sequence[Any], fmt: str | None) -> list[str]:
    """Each stage's count and its share of the first stage, on two lines."""
    first = values[0] if values else None
    return [f"{format_value(value, fmt)}<br>{share_text(value, first)}" for value in values]


def funnel_figure(
    result: QueryResult,
    *,
    stage: str,
    value: str,
    series: str | None,
    fmt: str | None,
    labels: dict[str, str],
) -> dict[str, Any]:
    """Funnel: stages top to bottom with counts and % of the first stage; one trace per series."""
    stage_position, value_position = result.index(stage), result.index(value)
    groups = _groups(result, series) if series else {labels.get(value, value): result.rows}
    names = [humanize(name) for name in groups]
    colors = series_colors(names) if series else [PALETTE[0]]
    traces = []
    for position, rows in enumerate(groups.values()):
        values = [row[value_position] for row in rows]
        traces.append(
            {
                "type": "funnel",
                "name": names[position],
                "y": [humanize(row[stage_position]) for row in rows],
                "x": [to_json_value(item) for item in values],
                "text": _funnel_texts(values, fmt),
                "textinfo": "text",
                "hovertemplate": "%{y}: %{text} (%{percentInitial:.1%} of first, "
                "%{percentPrevious:.1%} of previous)<extra>%{fullData.name}</extra>",
                "marker": {"color": colors[position]},
                "connector": {"line": {"width": 0}},
            }
        )
    stages = len({row[stage_position] for row in result.rows})
    layout = base_layout(max(260, 48 * stages + 80))
    layout["showlegend"] = bool(series)
    layout["yaxis"] = {
        "type": "category",
        "automargin": True,
        "title": {"text": labels.get(stage, humanize(stage))},
    }
    layout["xaxis"] = {"title": {"text": axis_title(labels.get(value, humanize(value)), fmt)}}
    layout["margin"]["l"] = 110
    return {"data": traces, "layout": layout}


def sparkline_svg(values: Sequence[float | None], *, width: int = 120, height: int = 28) -> str:
    """A tiny inline SVG line of a series (no script, prints as is)."""
    points = [float(item) for item in values if item is not None]
    if len(points) < 2:
        return ""
    low, high = min(points), max(points)
    span = (high - low) or 1.0
    step = width / (len(points) - 1)
    coordinates = " ".join(
        f"{index * step:.1f},{height - 2 - (point - low) / span * (height - 4):.1f}"
        for index, point in enumerate(points)
    )
    return (
        f'<svg class="jm-spark" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" preserveAspectRatio="none" aria-hidden="true">'
        f'<polyline points="{coordinates}" fill="none" stroke="currentColor" '
        'stroke-width="1.5" vector-effect="non-scaling-stroke"/></svg>'
    )
