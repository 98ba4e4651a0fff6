"""`jobmetrics explain METRIC`: a metric's definition from the registry, with no API call."""

from __future__ import annotations

from jobmetrics.ai.registry import Metric, Registry, RegistryUnavailable, load_registry
from jobmetrics.core.settings import Settings


def explain(metric: Metric, registry: Registry) -> str:
    """The metric's label, definition, calculation, unit and where its figure lives."""
    lines = [
        f"{metric.label} ({metric.name})",
        "",
        metric.description,
        "",
        f"Calculation:  {metric.definition}",
    ]
    for name in metric.inputs:
        if name in registry and name != metric.name:
            lines.append(f"  {name}: {registry.metrics[name].definition}")
    direction = {True: "lower is better", False: "higher is better"}.get(
        metric.down_is_good, "neither higher nor lower is better in itself"
    )
    lines += [
        f"Type:         {metric.type} metric (dbt semantic layer)",
        f"Format:       {metric.format or 'number'} ({direction})",
        f"Grain:        {metric.grain or 'any'}",
    ]
    if metric.mart_column:
        lines.append(f"Mart figure:  {metric.mart_column}")
    if metric.dimensions:
        lines.append(f"Dimensions:   {', '.join(metric.dimensions)}")
    grain = metric.grain or "month"
    lines.append(f"Query:        mf query --metrics {metric.name} --group-by metric_time__{grain}")
    return "\n".join(lines)


def _registry(settings: Settings) -> Registry:
    """The registry; parses the dbt project first when there is no manifest yet."""
    try:
        return load_registry(settings)
    except RegistryUnavailable:
        # imported here: dbt takes seconds to import and `explain` rarely needs it
        from jobmetrics.warehouse.dbt_invoke import run_dbt

        outcome = run_dbt(["parse"], env={"DBT_TARGET_PATH": str(settings.dbt_target_dir)})
        if not outcome.success:
            raise RegistryUnavailable(f"dbt parse failed: {outcome.first_error()}") from None
        return load_registry(settings)


def explain_command(settings: Settings, name: str | None, *, as_json: bool = False) -> dict:
    """Print one metric's definition (or the list of metrics); return it for --json."""
    registry = _registry(settings)
    if name is None:
        if not as_json:
            width = max((len(metric.name) for metric in registry), default=0)
            for metric in registry:
                print(f"{metric.name.ljust(width)}  {metric.label}")
        return {"metrics": [metric.as_dict() for metric in registry]}
    metric = registry.get(name)
    if not as_json:
        print(explain(metric, registry))
    return metric.as_dict()
