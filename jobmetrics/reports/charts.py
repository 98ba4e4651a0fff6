"""Plotly figures (plain JSON dicts) built from query results, with the page's number formats.

Figures are built here rather than with plotly's Python objects: plain dicts are fast to build
and small to embed, and hover texts are formatted by jobmetrics.core.formats so a tooltip shows
exactly what the tables and tiles show.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from jobmetrics.core.formats import axis_format, format_value, hover_template
from jobmetrics.warehouse.results import QueryResult, to_json_value

PALETTE = (
    "#2563eb",
    "#f97316",
    "#16a34a",
    "#9333ea",
    "#dc2626",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#4b5563",
    "#65a30d",
)

# Movements keep their meaning across charts: growth greens/blues, losses orange/red.
_MEANING_COLORS = {
    "new": "#16a34a",
    "expansion": "#65a30d",
    "reactivation": "#0891b2",
    "contraction": "#f97316",
    "churn": "#dc2626",
    "churned": "#dc2626",
    "critical": "#dc2626",
    "warning": "#d97706",
}

_NEUTRAL_WORDS = {"mrr", "lost", "to", "usd", "customers", "alerts", "level"}

GOOD = "#16a34a"
BAD = "#dc2626"
TOTAL = "#2563eb"


def color_for(label: str, position: int) -> str:
    """A series color: by meaning for MRR movements, else the palette in order."""
    words = {word for word in re.split(r"[^a-z]+", label.lower()) if word}
    meaning = words & set(_MEANING_COLORS)
    # Only a label that is just the movement ("new", "New MRR", "lost to churn MRR"), not
    # "net new MRR" or "logo churn rate".
    if len(meaning) == 1 and words - meaning <= _NEUTRAL_WORDS:
        return _MEANING_COLORS[meaning.pop()]
    return PALETTE[position % len(PALETTE)]


def _x_axis(values: Sequence[Any], fmt: str | None) -> dict[str, Any]:
    if fmt == "month":
        return {"type": "date", "tickformat": "%b %Y", "hoverformat": "%b %Y"}
    if fmt == "date" or (values and isinstance(values[0], date)):
        return {"type": "date", "hoverformat": "%Y-%m-%d"}
    if values and isinstance(values[0], str):
        return {"type": "category"}
    return {}


def base_layout(height: int) -> dict[str, Any]:
    """Layout shared by every chart; titles are the page's captions around the chart."""
    return {
        "height": height,
        "margin": {"l": 64, "r": 16, "t": 12, "b": 48},
        "legend": {"orientation": "h", "y": -0.18, "x": 0},
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
) -> dict[str, Any]:
    """Line, area or bar chart: one trace per y column, or per value of `series` (long data)."""
    x_position = result.index(x)
    y_positions = {y: result.index(y) for y in ys}
    if series:
        traces_source = [(name, rows, ys[0]) for name, rows in _groups(result, series).items()]
    else:
        traces_source = [(labels.get(y, y), result.rows, y) for y in ys]
    traces = []
    for position, (name, rows, y) in enumerate(traces_source):
        values = [row[y_positions[y]] for row in rows]
        trace: dict[str, Any] = {
            "name": name,
            "x": [to_json_value(row[x_position]) for row in rows],
            "y": [to_json_value(value) for value in values],
            "hovertemplate": hover_template(fmt),
        }
        color = color_for(name, position)
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
    layout = base_layout(height)
    layout["hovermode"] = "x unified"
    layout["showlegend"] = len(traces) > 1
    layout["xaxis"] = _x_axis(result.column(x), x_fmt)
    layout["yaxis"] = {"rangemode": "tozero", **axis_format(fmt)}
    if kind == "bar":
        layout["barmode"] = "relative" if stacked else "group"
    return {"data": traces, "layout": layout}


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
    labels = [str(item) for item in result.column(label)]
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
    layout["xaxis"] = {"type": "category"}
    layout["yaxis"] = axis_format(fmt)
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
            f"{labels.get(y, y)} %{{y}}<br>{labels.get(x, x)} %{{x}}<br>"
            f"{labels.get(value, value)} %{{text}}<extra></extra>"
        ),
        "colorscale": "Blues",
        "reversescale": True,  # Plotly's Blues runs dark to light; high values dark
        "showscale": False,
        "xgap": 1,
        "ygap": 1,
    }
    layout = base_layout(max(220, 26 * len(ys) + 90))
    layout["xaxis"] = {"type": "category", "title": {"text": labels.get(x, x)}, "side": "top"}
    layout["yaxis"] = {"type": "category", "autorange": "reversed"}
    layout["margin"] = {"l": 80, "r": 16, "t": 40, "b": 16}  # room for the x axis on top
    return {"data": [trace], "layout": layout}


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
    traces = []
    for position, (name, rows) in enumerate(groups.items()):
        values = [row[value_position] for row in rows]
        traces.append(
            {
                "type": "funnel",
                "name": name,
                "y": [str(row[stage_position]) for row in rows],
                "x": [to_json_value(item) for item in values],
                "text": [format_value(item, fmt) for item in values],
                "textinfo": "text+percent initial",
                "hovertemplate": "%{y}: %{text} (%{percentInitial:.1%} of first, "
                "%{percentPrevious:.1%} of previous)<extra>%{fullData.name}</extra>",
                "marker": {"color": color_for(name, position) if series else PALETTE[0]},
                "connector": {"line": {"width": 0}},
            }
        )
    stages = len({row[stage_position] for row in result.rows})
    layout = base_layout(max(260, 48 * stages + 80))
    layout["showlegend"] = bool(series)
    layout["yaxis"] = {"type": "category"}
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
