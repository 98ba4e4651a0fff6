"""What the report site reads from the dbt project: links into the dbt docs site (built by
jobmetrics.warehouse.docs_site into <site>/docs/), and which metrics are better when they go down
(comparison tiles), from the metric registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jobmetrics.ai.registry import try_load_registry
from jobmetrics.core import settings as settings_module
from jobmetrics.core.settings import PROJECT_ROOT, Settings
from jobmetrics.warehouse.docs_site import docs_link


@dataclass
class ProjectInfo:
    """The dbt project's seeds and the metric registry's down-is-good flags."""

    seeds: set[str] = field(default_factory=set)
    down_is_good: dict[str, bool | None] = field(default_factory=dict)

    def docs_link(self, table: str) -> str:
        """The dbt docs page of a warehouse table (model or seed), relative to the site root."""
        return docs_link(table, "seed" if table in self.seeds else "model")


def down_is_good_flags(settings: Settings) -> dict[str, bool | None]:
    """`config.meta.down_is_good` of every registry metric, by metric name and by the mart
    column it equals (so a tile on `logo_churn_rate` finds it); empty without a dbt manifest."""
    metrics = list(try_load_registry(settings))
    flags = {metric.name: metric.down_is_good for metric in metrics}
    for metric in metrics:
        if metric.column:
            flags.setdefault(metric.column, metric.down_is_good)
    return flags


def read_project(root: Path = PROJECT_ROOT, settings: Settings | None = None) -> ProjectInfo:
    """Read the seed names and the metric flags (none without a dbt manifest)."""
    return ProjectInfo(
        seeds={path.stem for path in (root / "seeds").glob("*.csv")},
        down_is_good=down_is_good_flags(settings or settings_module.load()),
    )
