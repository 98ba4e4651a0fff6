"""What the report site reads from the dbt project: links into the dbt docs site (built by
jobmetrics.warehouse.docs_site into <site>/docs/), and from the metric registry which metrics are
better when they go down (comparison tiles) and what each metric means (a tile's definition)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from jobmetrics.ai.registry import Metric, try_load_registry
from jobmetrics.core import settings as settings_module
from jobmetrics.core.labels import readable
from jobmetrics.core.settings import PROJECT_ROOT, Settings
from jobmetrics.warehouse.docs_site import docs_link

T = TypeVar("T")


@dataclass
class ProjectInfo:
    """The dbt project's seeds, and the metric registry's down-is-good flags and definitions."""

    seeds: set[str] = field(default_factory=set)
    down_is_good: dict[str, bool | None] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    """A metric's description, by metric name and by its mart column (KPI tile tooltips)."""

    def docs_link(self, table: str) -> str:
        """The dbt docs page of a warehouse table (model or seed), relative to the site root."""
        return docs_link(table, "seed" if table in self.seeds else "model")


def _by_name_and_column(metrics: list[Metric], value: Callable[[Metric], T]) -> dict[str, T]:
    """A value of every registry metric by metric name, and by the mart column it equals (so a
    tile on `logo_churn_rate` finds it); a name wins over another metric's column."""
    found = {metric.name: value(metric) for metric in metrics}
    for metric in metrics:
        if metric.column:
            found.setdefault(metric.column, value(metric))
    return found


def down_is_good_flags(settings: Settings) -> dict[str, bool | None]:
    """`config.meta.down_is_good` of every registry metric; empty without a dbt manifest."""
    return _by_name_and_column(list(try_load_registry(settings)), lambda m: m.down_is_good)


def metric_definitions(settings: Settings) -> dict[str, str]:
    """The registry's description of every metric that has one (models/semantic/_metrics.yml),
    raw names in it shown by their labels; empty without a dbt manifest."""
    metrics = [metric for metric in try_load_registry(settings) if metric.description]
    return _by_name_and_column(metrics, lambda m: readable(m.description))


def read_project(root: Path = PROJECT_ROOT, settings: Settings | None = None) -> ProjectInfo:
    """Read the seed names and the metric flags and definitions (none without a dbt manifest)."""
    settings = settings or settings_module.load()
    return ProjectInfo(
        seeds={path.stem for path in (root / "seeds").glob("*.csv")},
        down_is_good=down_is_good_flags(settings),
        definitions=metric_definitions(settings),
    )
