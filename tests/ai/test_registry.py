"""The metric registry as dbt parses it from models/semantic/, and `jobmetrics explain`."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from jobmetrics import cli
from jobmetrics.ai.registry import load_registry
from jobmetrics.ai.semantic_query import mf_executable
from jobmetrics.core import settings as settings_module

FORMATS = {"usd", "usd0", "pct1", "pct", "num0", "num1", "mult", "ms"}


@pytest.fixture
def registry_settings(parsed_target: Path) -> settings_module.Settings:
    return replace(settings_module.load(), dbt_target_dir=parsed_target, anthropic_api_key="")


def test_every_metric_is_fully_declared_and_points_at_a_real_mart_column(registry_settings):
    registry = load_registry(registry_settings)
    manifest = json.loads((registry_settings.dbt_target_dir / "manifest.json").read_text())
    mart_columns = {
        (node["name"], column)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
        for column in node["columns"]
    }
    assert len(registry) >= 20
    assert "customer__segment" in registry.get("mrr").dimensions
    assert "channel_month__channel" in registry.get("cac").dimensions
    for metric in registry:
        assert metric.label and metric.description, metric.name
        assert metric.format in FORMATS, metric.name
        assert metric.grain in {"day", "month"}, metric.name
        assert (metric.model, metric.column) in mart_columns, metric.name
        assert metric.time_column, f"{metric.name} has no time dimension (metric_time)"


def test_no_second_list_of_metric_names_in_python(registry_settings):
    """Python reads metric names from the manifest; none is typed into the AI or report code."""
    names = {metric.name for metric in load_registry(registry_settings)}
    root = settings_module.PROJECT_ROOT
    for path in [*root.glob("jobmetrics/ai/*.py"), *root.glob("jobmetrics/reports/*.py")]:
        literals = set(re.findall(r"""["']([a-z_]+)["']""", path.read_text(encoding="utf-8")))
        # a few metric names are also ordinary words or column names used as formats
        listed = literals & names - {"mrr", "arr", "arpu", "cac", "scans", "signups", "visitors"}
        assert len(listed) < 3, f"{path.name} lists metric names: {sorted(listed)}"


def test_explain_prints_the_definition_without_any_api_call(registry_settings, monkeypatch, capsys):
    monkeypatch.setattr(cli.settings_module, "load", lambda: registry_settings)
    assert cli.main(["explain", "logo_churn_rate"]) == 0
    out = capsys.readouterr().out
    assert "Logo churn rate" in out and "starting_paying_customers" in out
    assert "fct_mrr_monthly.logo_churn_rate" in out and "lower is better" in out


def test_explain_unknown_metric_exits_2_naming_close_metrics(
    registry_settings, monkeypatch, capsys
):
    monkeypatch.setattr(cli.settings_module, "load", lambda: registry_settings)
    assert cli.main(["explain", "churn_rate"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "logo_churn_rate" in err


def test_explain_lists_every_metric_as_json(registry_settings, monkeypatch, capsys):
    monkeypatch.setattr(cli.settings_module, "load", lambda: registry_settings)
    assert cli.main(["explain", "--json"]) == 0
    listed = {m["name"] for m in json.loads(capsys.readouterr().out)["metrics"]}
    assert listed == {metric.name for metric in load_registry(registry_settings)}


def test_metricflow_is_installed():
    assert Path(mf_executable()).exists()
