"""The metric registry: every metric as declared once in models/semantic/*.yml, read from dbt's
manifest.json (semantic-layer `metrics` + `semantic_models`), never from a list in Python.

Each metric's `config.meta` carries what the semantic layer has no field for:
`format` (a report format name: usd, pct1, num0, mult, ms, ...), `down_is_good` (null when
neither direction is good news, as for spend), `grain` and
`mart_column` ("model.column": the mart figure the metric must equal for a full month).
"""

from __future__ import annotations

import csv
import difflib
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobmetrics.core.errors import UserError
from jobmetrics.core.settings import PROJECT_ROOT, Settings


class RegistryUnavailable(UserError):
    """The dbt manifest is missing or unreadable, so no metric definitions can be read."""


@dataclass(frozen=True)
class Measure:
    """One aggregation in a semantic model: `agg(expr)` over a mart."""

    name: str
    agg: str
    expr: str
    description: str
    model: str
    non_additive: str | None = None
    time_column: str | None = None
    """The mart column of the measure's time dimension (e.g. month)."""

    def sql(self) -> str:
        """The aggregation as SQL text, with the semi-additive rule if any."""
        text = f"{self.agg}({self.expr}) from {self.model}"
        if self.non_additive:
            text += f" (value at the {self.non_additive} of each period, not summed over time)"
        return text


@dataclass(frozen=True)
class Metric:
    """A metric as the registry declares it."""

    name: str
    label: str
    description: str
    type: str
    format: str | None
    down_is_good: bool | None
    """True when a fall is good news, False when a rise is, None when neither (spend)."""
    grain: str | None
    mart_column: str | None
    definition: str
    """The calculation in words/SQL, built from the metric's type_params and measures."""
    inputs: tuple[str, ...] = ()
    """Measures or metrics this metric is computed from."""
    dimensions: tuple[str, ...] = ()
    """Dimensions MetricFlow can group this metric by."""
    time_column: str | None = None
    """The mart column holding the metric's period (what metric_time maps to)."""
    mart_filter: str | None = None
    """A condition picking the mart row that holds the figure (e.g. the blended channel row)."""
    headline: bool = False
    """Summaries mention headline metrics first."""
    requires: tuple[str, ...] = ()
    """Data areas (dim_data_coverage) the figure needs; without them it cannot be computed."""

    @property
    def model(self) -> str | None:
        return self.mart_column.split(".", 1)[0] if self.mart_column else None

    @property
    def column(self) -> str | None:
        return self.mart_column.split(".", 1)[1] if self.mart_column else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "type": self.type,
            "format": self.format,
            "down_is_good": self.down_is_good,
            "grain": self.grain,
            "mart_column": self.mart_column,
            "definition": self.definition,
            "inputs": list(self.inputs),
            "dimensions": list(self.dimensions),
            "time_column": self.time_column,
            "mart_filter": self.mart_filter,
            "headline": self.headline,
            "requires": list(self.requires),
        }


@dataclass(frozen=True)
class Threshold:
    """A `threshold` row of the metric_thresholds seed: the target a figure is held to."""

    metric: str
    direction: str
    """Which side is bad: "above" (bad at or above the value) or "below"."""
    warning_value: float
    critical_value: float
    grain: str


@dataclass
class Registry:
    """All metrics by name, plus a lookup from mart column to metric, and the targets of the
    metric_thresholds seed by metric name."""

    metrics: dict[str, Metric] = field(default_factory=dict)
    thresholds: dict[str, Threshold] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.metrics

    def __iter__(self):  # noqa: ANN204 - iterator of Metric
        return iter(self.metrics[name] for name in sorted(self.metrics))

    def __len__(self) -> int:
        return len(self.metrics)

    def get(self, name: str) -> Metric:
        """The metric called `name`; UserError listing close names when there is none."""
        if name in self.metrics:
            return self.metrics[name]
        by_label = {metric.label.lower(): metric for metric in self.metrics.values()}
        if name.lower() in by_label:
            return by_label[name.lower()]
        close = self.close_names(name)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        known = "" if close else f" (known metrics: {', '.join(sorted(self.metrics))})"
        raise UserError(f"unknown metric {name!r}{hint}{known}")

    def close_names(self, name: str, limit: int = 5) -> list[str]:
        """Metric names that look like `name` (typos, partial names)."""
        names = sorted(self.metrics)
        close = difflib.get_close_matches(name.lower(), names, n=limit, cutoff=0.5)
        contains = [candidate for candidate in names if name.lower() in candidate]
        return list(dict.fromkeys([*close, *contains]))[:limit]

    def for_column(self, column: str, model: str | None = None) -> Metric | None:
        """The metric whose mart figure is `column` (in `model` when given)."""
        for metric in self._by_column.get(column, ()):
            if model is None or metric.model == model:
                return metric
        return None

    @functools.cached_property
    def _by_column(self) -> dict[str, list[Metric]]:
        """Metrics by mart column, in name order (narratives look columns up thousands of
        times per site build)."""
        by_column: dict[str, list[Metric]] = {}
        for metric in self:
            by_column.setdefault(metric.column, []).append(metric)
        return by_column


def manifest_path(settings: Settings) -> Path:
    return settings.dbt_target_dir / "manifest.json"


def read_manifest(settings: Settings) -> dict[str, Any]:
    """The dbt manifest; RegistryUnavailable saying how to produce it when missing."""
    path = manifest_path(settings)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryUnavailable(
            f"no dbt manifest at {path}; run `jobmetrics build` (or `dbt parse`) first"
        ) from None
    except (OSError, ValueError) as error:
        raise RegistryUnavailable(f"cannot read the dbt manifest {path}: {error}") from None


def _meta(node: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for holder in (node.get("meta"), (node.get("config") or {}).get("meta")):
        if isinstance(holder, dict):
            merged.update(holder)
    return merged


def _model_name(reference: str | None) -> str:
    """`ref('fct_mrr_monthly')` → fct_mrr_monthly."""
    text = (reference or "").strip()
    for quote in ("'", '"'):
        if f"ref({quote}" in text:
            return text.split(f"ref({quote}", 1)[1].split(quote, 1)[0]
    return text


def _primary_entity(model: dict[str, Any]) -> str | None:
    return model.get("primary_entity") or next(
        (e["name"] for e in model.get("entities") or [] if e.get("type") == "primary"), None
    )


def _measures(manifest: dict[str, Any]) -> tuple[dict[str, Measure], dict[str, tuple[str, ...]]]:
    """Every measure by name, and the dimensions MetricFlow can group it by: its semantic
    model's own, and those of models it joins to through a foreign entity (customer__segment)."""
    models = list((manifest.get("semantic_models") or {}).values())
    by_entity: dict[str, list[str]] = {}
    for model in models:
        primary = _primary_entity(model)
        if primary:
            names = [dim["name"] for dim in model.get("dimensions") or []]
            by_entity.setdefault(primary, []).extend(names)
    measures: dict[str, Measure] = {}
    dimensions: dict[str, tuple[str, ...]] = {}
    for model in models:
        mart = _model_name(model.get("model")) or model.get("name", "?")
        primary = _primary_entity(model)
        reachable = {
            f"{entity['name']}__{name}"
            for entity in model.get("entities") or []
            if entity.get("type") == "foreign"
            for name in by_entity.get(entity["name"], [])
        }
        own = {
            f"{primary}__{dim['name']}" if primary else dim["name"]
            for dim in model.get("dimensions") or []
        }
        dims = tuple(sorted(own | reachable))
        default_time = (model.get("defaults") or {}).get("agg_time_dimension")
        time_exprs = {d["name"]: d.get("expr") or d["name"] for d in model.get("dimensions") or []}
        for measure in model.get("measures") or []:
            time_dimension = measure.get("agg_time_dimension") or default_time
            non_additive = measure.get("non_additive_dimension") or {}
            window = non_additive.get("window_choice")
            measures[measure["name"]] = Measure(
                name=measure["name"],
                agg=str(measure.get("agg", "sum")),
                expr=str(measure.get("expr") or measure["name"]),
                description=str(measure.get("description") or ""),
                model=mart,
                non_additive=(f"{window} {non_additive.get('name')}" if window else None),
                time_column=time_exprs.get(time_dimension) if time_dimension else None,
            )
            dimensions[measure["name"]] = dims
    return measures, dimensions


def _reference(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("name")
    return value if isinstance(value, str) else None


def _filter_text(metric: dict[str, Any]) -> str:
    """The metric's filter as readable SQL: {{ Dimension('x__channel') }} → channel."""
    where = (metric.get("filter") or {}).get("where_filters") or []
    parts = [str(item.get("where_sql_template", "")) for item in where if isinstance(item, dict)]
    text = " and ".join(part for part in parts if part)
    return re.sub(r"\{\{\s*\w+\('(?:\w+__)?(\w+)'\)\s*\}\}", r"\1", text)


def _definition(
    metric: dict[str, Any], measures: dict[str, Measure]
) -> tuple[str, tuple[str, ...]]:
    """The metric's calculation in words (with its filter), and the names it is computed from."""
    text, inputs = _unfiltered_definition(metric, measures)
    condition = _filter_text(metric)
    return (f"{text}, where {condition}" if condition else text), inputs


def _unfiltered_definition(
    metric: dict[str, Any], measures: dict[str, Measure]
) -> tuple[str, tuple[str, ...]]:
    kind = metric.get("type", "simple")
    params = metric.get("type_params") or {}

    def describe(name: str | None) -> str:
        if name and name in measures:
            return measures[name].sql()
        return name or "?"

    if kind in ("simple", "cumulative"):
        name = _reference(params.get("measure"))
        if name is None:  # dbt >= 1.10 may declare simple metrics by their measure inputs
            inputs = params.get("input_measures") or []
            name = _reference(inputs[0]) if inputs else None
        text = describe(name)
        if kind == "cumulative":
            window = params.get("window") or (params.get("cumulative_type_params") or {}).get(
                "window"
            )
            text = f"running total of {text}" + (f" over {window}" if window else "")
        return text, (name,) if name else ()
    if kind == "ratio":
        numerator = _reference(params.get("numerator"))
        denominator = _reference(params.get("denominator"))
        return f"{numerator} / {denominator}", tuple(n for n in (numerator, denominator) if n)
    if kind in ("derived", "conversion"):
        inputs = []
        parts = []
        for item in params.get("metrics") or []:
            name = _reference(item) or "?"
            inputs.append(name)
            alias = item.get("alias") if isinstance(item, dict) else None
            offset = item.get("offset_window") if isinstance(item, dict) else None
            if offset:
                offset_text = (
                    offset
                    if isinstance(offset, str)
                    else f"{offset.get('count')} {offset.get('granularity')}"
                )
                parts.append(f"{alias or name} = {name} {offset_text} earlier")
            elif alias:
                parts.append(f"{alias} = {name}")
        where = f" where {'; '.join(parts)}" if parts else ""
        return f"{params.get('expr') or '?'}{where}", tuple(inputs)
    return str(kind), ()


def _direction(meta: dict[str, Any]) -> bool | None:
    """`down_is_good` from a metric's meta: absent means False (a rise is good), null means None."""
    if "down_is_good" not in meta:
        return False
    value = meta["down_is_good"]
    return None if value is None else bool(value)


def registry_from_manifest(manifest: dict[str, Any]) -> Registry:
    """Build the registry from a parsed manifest.json."""
    measures, dimensions = _measures(manifest)
    nodes = {node["name"]: node for node in (manifest.get("metrics") or {}).values()}
    parsed = {name: _definition(node, measures) for name, node in nodes.items()}

    def dims_of(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        """Dimensions shared by everything a metric is computed from."""
        if name in parsed and name not in seen:
            sets = [dims_of(source, seen | {name}) for source in parsed[name][1]]
            return set.intersection(*sets) if sets else set()
        return set(dimensions.get(name, ()))

    def time_of(name: str, seen: frozenset[str] = frozenset()) -> str | None:
        if name in parsed and name not in seen:
            found = [time_of(source, seen | {name}) for source in parsed[name][1]]
            return next((column for column in found if column), None)
        return measures[name].time_column if name in measures else None

    metrics: dict[str, Metric] = {}
    for node in nodes.values():
        meta = _meta(node)
        definition, inputs = parsed[node["name"]]
        dims = sorted(dims_of(node["name"]))
        metrics[node["name"]] = Metric(
            name=node["name"],
            label=str(node.get("label") or node["name"].replace("_", " ")),
            description=" ".join(str(node.get("description") or "").split()),
            type=str(node.get("type", "simple")),
            format=meta.get("format"),
            down_is_good=_direction(meta),
            grain=meta.get("grain") or node.get("time_granularity"),
            mart_column=meta.get("mart_column"),
            mart_filter=meta.get("mart_filter"),
            headline=bool(meta.get("headline", False)),
            requires=tuple(meta.get("requires") or ()),
            time_column=time_of(node["name"]),
            definition=definition,
            inputs=inputs,
            dimensions=tuple(dims),
        )
    return Registry(metrics)


THRESHOLDS_SEED = "metric_thresholds"


def read_thresholds(manifest: dict[str, Any]) -> dict[str, Threshold]:
    """The `threshold` rows of the metric_thresholds seed (the CSV the manifest names), by
    metric; empty when the seed or its file is missing."""
    node = next(
        (
            node
            for node in (manifest.get("nodes") or {}).values()
            if node.get("resource_type") == "seed" and node.get("name") == THRESHOLDS_SEED
        ),
        None,
    )
    if node is None or not node.get("original_file_path"):
        return {}
    path = Path(node.get("root_path") or PROJECT_ROOT) / node["original_file_path"]
    thresholds: dict[str, Threshold] = {}
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            for row in csv.DictReader(stream):
                if row.get("check_type") != "threshold" or row.get("direction") not in (
                    "above",
                    "below",
                ):
                    continue
                thresholds[row["metric"]] = Threshold(
                    metric=row["metric"],
                    direction=row["direction"],
                    warning_value=float(row["warning_value"]),
                    critical_value=float(row["critical_value"]),
                    grain=row.get("grain") or "",
                )
    except (OSError, KeyError, ValueError):
        return {}
    return thresholds


_LOADED: dict[tuple[str, int], Registry] = {}


def load_registry(settings: Settings) -> Registry:
    """The registry from the manifest in the settings' dbt target folder (read once per version
    of the file: a site build asks for it once per narrative block)."""
    path = manifest_path(settings)
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError:
        key = None
    if key is not None and key in _LOADED:
        return _LOADED[key]
    manifest = read_manifest(settings)
    registry = registry_from_manifest(manifest)
    registry.thresholds = read_thresholds(manifest)
    if key is not None:
        _LOADED.clear()
        _LOADED[key] = registry
    return registry


def try_load_registry(settings: Settings) -> Registry:
    """The registry, or an empty one when there is no manifest (facts then use column names)."""
    try:
        return load_registry(settings)
    except (RegistryUnavailable, KeyError, TypeError, AttributeError):
        return Registry()  # a missing or odd manifest costs labels, never a narrative
