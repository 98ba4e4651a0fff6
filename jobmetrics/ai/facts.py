"""The facts payload: a compact, deterministic summary of a page's named query results.

The same rows always give the same payload (sorted keys, fixed rounding), so it can key the
narrative cache, and every number Claude may use is in it: latest values, the previous period,
month-over-month changes, recent history, top movers and open alerts.

Periods a result flags as incomplete (an `is_complete…` column that is false, e.g. the month the
data ends in) are never compared: changes are between the last complete period and the one
before, and the partial period is named in `partial_period`. The flag, the days the data covers
and the label ("partial: 2 of 7 days") come from the warehouse's one definition, dim_periods;
nothing here decides completeness. Columns holding the previous value
of another column (`mrr_prev`) are that column's comparison, not figures of their own. A figure
whose metric has a limit in the metric_thresholds seed carries it (`target`, the alert's warning
level) and, when the value crosses it, `breach`.

A result of targets (the columns of core.targets.TARGET_COLUMNS, from fct_metric_targets) is not
a figure of its own: each figure of the same metric and period gets its row as `goal` (target
value, comparator and the mart's is_on_track, never judged again here), and only when the
target row's actual_value is the figure's value (a slice's figure is not the business's). Target
metrics with no such figure are described from their actual_value in the targets result.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jobmetrics.ai.registry import Metric, Registry, Threshold
from jobmetrics.core.formats import auto_format
from jobmetrics.core.labels import humanize
from jobmetrics.core.targets import TARGET_COLUMNS

Rows = list[dict[str, Any]]

MAX_FIGURES = 12
"""Most numeric columns described per result."""
MAX_GROUPS = 10
"""Most rows of a breakdown (e.g. channels) described per result."""
RECENT_PERIODS = 3
"""Periods of history given per figure, latest last."""
TOP_MOVERS = 3
MAX_ALERTS = 10

_PERIOD_NAMES = ("month", "date", "day", "week", "period")
_ALERT_COLUMNS = ("severity", "message")
_COMPLETE_PREFIX = "is_complete"
"""A boolean column starting so says whether the row's period is complete."""
_PERIOD_DAYS = ("days_with_data", "days_in_period")
"""Columns that say how much of a partial period the data covers."""
_PARTIAL_LABEL = "partial_label"
"""dim_periods' label of a partial period ("partial: 2 of 7 days"), NULL when complete."""
_COMPARISON_SUFFIXES = ("_prev", "_previous", "_prior", "_week_ago", "_last_month")
_AVERAGE_PREFIXES = ("avg_", "average_", "mean_")


def _is_meta_column(name: str, columns: list[str]) -> bool:
    """Columns that describe a row rather than measure it: completeness flags, days of data,
    and the previous value of another column of the same result."""
    lowered = name.lower()
    if lowered.startswith(_COMPLETE_PREFIX) or lowered in (*_PERIOD_DAYS, _PARTIAL_LABEL):
        return True
    return any(
        lowered.endswith(suffix) and name[: -len(suffix)] in columns
        for suffix in _COMPARISON_SUFFIXES
    )


def _completeness_column(columns: list[str]) -> str | None:
    return next((c for c in columns if c.lower().startswith(_COMPLETE_PREFIX)), None)


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, float):
        return not (math.isnan(value) or math.isinf(value))
    return isinstance(value, int | Decimal)


def number(value: Any) -> float | int | None:
    """A JSON-safe number: integers stay integers, others are rounded to 6 decimals."""
    if not _is_number(value):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    rounded = round(float(value), 6)
    return 0.0 if rounded == 0 else rounded


def _period_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def iso_date(value: Any) -> str | None:
    """The ISO date (YYYY-MM-DD) of a period value or its text, None when it is not a date."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text[:10] if len(text) >= 7 and text[4] == "-" else None


def is_period_column(name: str, values: list[Any]) -> bool:
    """A column of periods: named like one (month, *_date, ...) or holding only dates."""
    lowered = name.lower()
    if lowered in _PERIOD_NAMES or lowered.endswith(("_month", "_date", "_week", "_day")):
        return True
    present = [value for value in values if value is not None]
    return bool(present) and all(isinstance(value, date) for value in present)


def _is_key_number(name: str) -> bool:
    """Numeric columns that index rows rather than measure them (cohort offsets, ranks)."""
    lowered = name.lower()
    return "_since_" in lowered or lowered.endswith(("_rank", "_order", "_index", "_number"))


def _columns(rows: Rows) -> list[str]:
    columns: list[str] = []
    for row in rows:
        for column in row:
            if column not in columns:
                columns.append(column)
    return columns


def _classify(rows: Rows) -> tuple[str | None, list[str], list[str]]:
    """(period column, key columns, numeric columns) of a result."""
    columns = _columns(rows)
    period = next((c for c in columns if is_period_column(c, [row.get(c) for row in rows])), None)
    numeric: list[str] = []
    keys: list[str] = []
    for column in columns:
        if column == period or _is_meta_column(column, columns):
            continue
        values = [row.get(column) for row in rows if row.get(column) is not None]
        if values and all(_is_number(value) for value in values) and not _is_key_number(column):
            numeric.append(column)
        elif values:
            keys.append(column)
    return period, keys, numeric


def _averaged(column: str) -> str | None:
    """The column an average column averages (avg_dau → dau), or None."""
    lowered = column.lower()
    prefix = next((p for p in _AVERAGE_PREFIXES if lowered.startswith(p)), None)
    return column[len(prefix) :] if prefix else None


def _lower_first(label: str) -> str:
    """ "Daily active users" → "daily active users"; acronyms (MRR, p95) stay as they are."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _label(column: str, metric: Metric | None, averaged: Metric | None) -> str:
    """The display label: the registry's, "Average …" of the registry's, or the site's label of
    the column (the unit word dropped where the format shows it)."""
    if metric is not None:
        return metric.label
    if averaged is not None:
        return f"Average {_lower_first(averaged.label)}"
    base = _averaged(column)
    label = f"Average {_lower_first(humanize(base))}" if base else humanize(column)
    if label.endswith(" ms") and label != "ms":
        label = label.removesuffix(" ms") + " time"  # the ms format shows the unit
    if label.endswith(" months") and column.endswith("_months"):
        label = label.removesuffix(" months")  # the months format shows it: "CAC payback 2.2 mo"
    return label


def _threshold(column: str, metric: Metric | None, registry: Registry) -> Threshold | None:
    names = [metric.name] if metric else []
    names += [column, _averaged(column) or ""]
    return next((registry.thresholds[n] for n in names if n in registry.thresholds), None)


def _describe(column: str, registry: Registry) -> dict[str, Any]:
    # a column named like a registry metric is that metric (mrr, when ending_mrr is the mart's)
    metric = registry.for_column(column) or registry.metrics.get(column)
    base = _averaged(column)
    averaged = registry.for_column(base) if metric is None and base else None
    source = metric or averaged
    described: dict[str, Any] = {
        "metric": column,
        "label": _label(column, metric, averaged),
        "format": (source.format if source else None) or auto_format(column) or "num",
    }
    if metric is not None:
        described["registry_metric"] = metric.name
        if metric.headline:
            described["headline"] = True
    if source is not None and source.down_is_good is not None:
        described["down_is_good"] = source.down_is_good  # absent: no direction is good news
    threshold = _threshold(column, metric or averaged, registry)
    if threshold is not None:
        described["target"] = {
            "value": threshold.warning_value,
            "critical": threshold.critical_value,
            "direction": threshold.direction,
            "source": "metric_thresholds",
        }
    return described


def _figure(
    column: str,
    rows: Rows,
    latest: dict[str, Any],
    previous: dict[str, Any] | None,
    registry: Registry,
) -> dict[str, Any] | None:
    value = number(latest.get(column))
    if value is None:
        return None
    figure = _describe(column, registry)
    figure["value"] = value
    if previous is not None:
        before = number(previous.get(column))
        figure["previous"] = before
        if before is not None:
            figure["change"] = number(value - before)
            if before > 0 and value >= 0:  # a relative change of a loss (< 0) reads backwards
                figure["change_pct"] = number((value - before) / before)
    history = [number(row.get(column)) for row in rows[-RECENT_PERIODS:]]
    if len(history) > 2:
        figure["recent"] = history
    if "down_is_good" in figure and "change" in figure and figure["change"]:
        better = (figure["change"] < 0) == figure["down_is_good"]
        figure["assessment"] = "better" if better else "worse"
    if "target" in figure and (level := _breach(figure["target"], value)):
        figure["breach"] = level
    return figure


def _breach(target: dict[str, Any], value: float) -> str | None:
    """ "critical", "warning" or None: whether `value` crosses the target's limits (the seed's
    rule: "above" is bad at or above the limit, "below" at or below it)."""
    for level, limit in (("critical", target["critical"]), ("warning", target["value"])):
        if value >= limit if target["direction"] == "above" else value <= limit:
            return level
    return None


def _sort_key(value: Any) -> tuple[int, str]:
    return (0, _period_text(value)) if value is not None else (1, "")


def _key_text(row: dict[str, Any], keys: list[str]) -> str:
    return ", ".join(f"{key}={row.get(key)}" for key in keys)


def _chosen(numeric: list[str], registry: Registry) -> list[str]:
    """At most MAX_FIGURES columns, headline metrics first, then registry metrics, then the
    rest; in the query's column order."""

    def rank(column: str) -> tuple[bool, bool]:
        metric = registry.for_column(column) or registry.metrics.get(column)
        return (not (metric and metric.headline), metric is None)

    kept = set(sorted(numeric, key=rank)[:MAX_FIGURES])
    return [column for column in numeric if column in kept]


def _partial(row: dict[str, Any], period: str) -> dict[str, Any]:
    """The partial period and how much of it the data covers, when the result says."""
    described: dict[str, Any] = {"period": _period_text(row.get(period))}
    for column in _PERIOD_DAYS:
        if (value := number(row.get(column))) is not None:
            described[column] = value
    if row.get(_PARTIAL_LABEL):
        described["label"] = str(row[_PARTIAL_LABEL])
    return described


def _series(rows: Rows, period: str, numeric: list[str], registry: Registry) -> dict[str, Any]:
    ordered = sorted(rows, key=lambda row: _sort_key(row.get(period)))
    flag = _completeness_column(_columns(rows))
    complete = [row for row in ordered if flag is None or row.get(flag) is not False]
    compared = complete or ordered  # nothing complete: describe what there is, flagged below
    latest = compared[-1]
    figures = []
    for column in _chosen(numeric, registry):
        # each figure at the last complete period that has it (a young cohort has no month 3)
        at = max((i for i, row in enumerate(compared) if row.get(column) is not None), default=-1)
        if at < 0:
            continue
        previous = compared[at - 1] if at > 0 else None
        figure = _figure(column, compared[: at + 1], compared[at], previous, registry)
        if figure is None:
            continue
        if compared[at] is not latest:
            figure["period"] = _period_text(compared[at].get(period))
            if previous is not None:
                figure["previous_period"] = _period_text(previous.get(period))
        figures.append(figure)
    described: dict[str, Any] = {
        "period_column": period,
        "period": _period_text(latest.get(period)),
        "periods": len(ordered),
        "first_period": _period_text(ordered[0].get(period)),
        "figures": figures,
    }
    if len(compared) > 1:
        described["previous_period"] = _period_text(compared[-2].get(period))
    if flag is not None:
        described["period_complete"] = bool(complete)
        if ordered[-1] is not latest or not complete:
            described["partial_period"] = _partial(ordered[-1], period)
    return described


def _breakdown(
    rows: Rows, period: str | None, keys: list[str], numeric: list[str], registry: Registry
) -> dict[str, Any]:
    """One entry per key (e.g. channel) at the latest complete period, with its change when there
    is one. With an age key (months_since_start), the groups are compared at the oldest age
    every group reached: month 0 of a cohort is 100 % by definition and says nothing."""
    flag = _completeness_column(_columns(rows))
    if flag is not None:
        rows = [row for row in rows if row.get(flag) is not False]
    ages = [key for key in keys if _is_key_number(key) and "_since_" in key.lower()]
    age_described: dict[str, Any] = {}
    if ages and len(keys) > 1:
        age, keys = ages[0], [key for key in keys if key != ages[0]]
        reached: dict[str, Any] = {}
        for row in rows:
            if row.get(age) is not None:
                group = _key_text(row, keys)
                reached[group] = max(reached.get(group, row[age]), row[age])
        common = min(reached.values(), default=None)
        rows = [row for row in rows if row.get(age) == common]
        age_described = {"age_column": age, "age": number(common)}
    latest_period = None
    if period is not None:
        latest_period = max(
            (row.get(period) for row in rows if row.get(period) is not None),
            key=_period_text,
            default=None,
        )
    groups: dict[str, Rows] = {}
    for row in rows:
        groups.setdefault(_key_text(row, keys), []).append(row)
    entries = []
    for key_text, group in groups.items():
        if period is not None:
            group = sorted(group, key=lambda row: _sort_key(row.get(period)))
            if group[-1].get(period) != latest_period:
                continue
        latest = group[-1]
        previous = group[-2] if len(group) > 1 and period is not None else None
        figures = [
            figure
            for column in _chosen(numeric, registry)
            if (figure := _figure(column, group, latest, previous, registry)) is not None
        ]
        entry = {"key": {key: _period_text(latest.get(key)) for key in keys}, "figures": figures}
        entries.append((key_text, entry))
    lead = numeric[0] if numeric else None

    def rank(item: tuple[str, dict[str, Any]]) -> tuple[float, str]:
        figures = {figure["metric"]: figure for figure in item[1]["figures"]}
        value = figures.get(lead, {}).get("value") if lead else None
        return (-(abs(value) if value is not None else -1.0), item[0])

    entries.sort(key=rank)
    described: dict[str, Any] = {
        "dimensions": keys,
        "groups": len(entries),
        "items": [entry for _, entry in entries[:MAX_GROUPS]],
        **age_described,
    }
    if lead is not None:
        described["ranked_by"] = lead
    if period is not None:
        described["period_column"] = period
        described["period"] = _period_text(latest_period)
    if len(entries) > MAX_GROUPS:
        described["omitted_groups"] = len(entries) - MAX_GROUPS
    return described


def _alerts(rows: Rows) -> list[dict[str, Any]]:
    alerts = []
    for row in rows[:MAX_ALERTS]:
        alert = {}
        for column, value in row.items():
            alert[column] = number(value) if _is_number(value) else _period_text(value)
        alerts.append(alert)
    return alerts


def _alert_summary(rows: Rows) -> dict[str, Any]:
    """How many alerts of each severity a result holds, and its first distinct messages."""
    by_severity: dict[str, int] = {}
    for row in rows:
        severity = str(row.get("severity") or "alert")
        by_severity[severity] = by_severity.get(severity, 0) + 1
    messages = [str(row["message"]) for row in rows if row.get("message")]
    return {
        "alerts_by_severity": dict(sorted(by_severity.items())),
        "messages": list(dict.fromkeys(messages))[:MAX_ALERTS],
    }


def _movers(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The figures with the largest relative change, across all results."""
    candidates = []
    for result in results:
        for figure in result.get("figures", []):
            if figure.get("change_pct") is not None:
                candidates.append((result["name"], None, figure))
        for item in result.get("items", []):
            for figure in item["figures"]:
                if figure.get("change_pct") is not None:
                    candidates.append((result["name"], item["key"], figure))
    candidates.sort(
        key=lambda c: (
            -abs(c[2]["change_pct"]),
            c[0],
            json.dumps(c[1], sort_keys=True),
            c[2]["metric"],
        )
    )
    movers = []
    for name, key, figure in candidates[:TOP_MOVERS]:
        mover = {
            "result": name,
            "metric": figure["metric"],
            "label": figure["label"],
            "change_pct": figure["change_pct"],
            "change": figure["change"],
            "format": figure["format"],
        }
        if key:
            mover["key"] = key
        if "assessment" in figure:
            mover["assessment"] = figure["assessment"]
        movers.append(mover)
    return movers


def _is_targets(columns: list[str]) -> bool:
    return all(column in columns for column in TARGET_COLUMNS)


def _goal(row: dict[str, Any]) -> dict[str, Any]:
    on_track = row.get("is_on_track")
    return {
        "value": number(row.get("target_value")),
        "comparator": str(row.get("comparator")),
        "on_track": None if on_track is None else bool(on_track),
        "source": "metric_targets",
    }


def _same_value(figure: dict[str, Any], actual: Any) -> bool:
    """Whether a figure shows the target row's actual value (to 6 significant decimals)."""
    value = number(actual)
    return value is not None and math.isclose(figure["value"], value, rel_tol=1e-6, abs_tol=1e-9)


def _attach_goals(
    described: list[dict[str, Any]], targets: dict[str, Rows], registry: Registry
) -> None:
    """Give each figure the target row of its metric and period (see the module docstring), and
    describe the target metrics no figure showed, at the targets' latest period."""
    by_key: dict[tuple[str, str | None], dict[str, Any]] = {}
    periods: dict[str, str | None] = {}
    for name, rows in targets.items():
        column = next(
            (c for c in _columns(rows) if is_period_column(c, [row.get(c) for row in rows])), None
        )
        periods[name] = column
        for row in rows:
            by_key[(str(row["metric"]), iso_date(row.get(column)) if column else None)] = row
    shown: set[tuple[str, str | None]] = set()
    for entry in described:
        for figure in entry.get("figures", []):
            period = iso_date(figure.get("period") or entry.get("period"))
            for metric in dict.fromkeys([figure["metric"], figure.get("registry_metric")]):
                row = by_key.get((str(metric), period)) if metric else None
                if row is None:
                    continue
                shown.add((str(metric), period))
                if not _same_value(figure, row.get("actual_value")):
                    continue  # a slice's figure, or a query without actual_value
                figure["goal"] = _goal(row)
                break
    for entry in described:
        name = entry["name"]
        if name not in targets:
            continue
        column = periods[name]
        rows = targets[name]
        latest = max((iso_date(row.get(column)) or "" for row in rows), default="")
        figures = []
        for row in rows:
            key = (str(row["metric"]), iso_date(row.get(column)) if column else None)
            if (key[1] or "") != latest or key in shown or number(row.get("actual_value")) is None:
                continue
            figure = _describe(key[0], registry)
            figure["value"] = number(row["actual_value"])
            figure["goal"] = _goal(row)
            figures.append(figure)
        if figures:
            entry.update(figures=figures, period=latest, period_column=column or "period")


def build_facts(topic: str, results: dict[str, Rows], registry: Registry) -> dict[str, Any]:
    """The facts payload for a narrative about `results` (query name → rows)."""
    described: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    targets: dict[str, Rows] = {}
    for name in results:
        rows = list(results[name])
        entry: dict[str, Any] = {"name": name, "label": humanize(name), "rows": len(rows)}
        if not rows:
            described.append(entry)
            continue
        columns = _columns(rows)
        if _is_targets(columns):
            targets[name] = rows  # goals of the other results' figures, attached below
            entry["targets"] = len({str(row["metric"]) for row in rows})
            described.append(entry)
            continue
        if all(column in columns for column in _ALERT_COLUMNS):
            alerts.extend(_alerts(rows))
            entry["alerts"] = len(rows)
            entry.update(_alert_summary(rows))
            described.append(entry)
            continue
        period, keys, numeric = _classify(rows)
        if keys:
            entry.update(_breakdown(rows, period, keys, numeric, registry))
        elif period is not None:
            entry.update(_series(rows, period, numeric, registry))
        else:
            # one row of figures (e.g. "last_month"); with several rows the last one counts
            entry["figures"] = [
                figure
                for column in _chosen(numeric, registry)
                if (figure := _figure(column, rows, rows[-1], None, registry)) is not None
            ]
        described.append(entry)
    if targets:
        _attach_goals(described, targets, registry)
    facts: dict[str, Any] = {"topic": topic, "results": described}
    movers = _movers(described)
    if movers:
        facts["top_movers"] = movers
    if alerts or any("alerts" in entry for entry in described):
        facts["open_alerts"] = alerts
    return facts


def facts_json(facts: dict[str, Any]) -> str:
    """The canonical JSON text of a facts payload (what is sent and hashed)."""
    return json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def facts_hash(*parts: str) -> str:
    """A stable hash of text parts (model, prompt version, facts JSON)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def has_figures(facts: dict[str, Any]) -> bool:
    """Whether the payload holds anything worth narrating."""
    return bool(facts.get("open_alerts")) or any(
        entry.get("figures") or entry.get("items") for entry in facts["results"]
    )
