"""seeds/metric_targets.csv is edited by hand: a typo stops `jobmetrics build` before dbt runs,
with the file, line and column in one line and exit code 2; the shipped seed passes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jobmetrics.cli import main
from jobmetrics.core.errors import SeedError
from jobmetrics.core.settings import PROJECT_ROOT
from jobmetrics.warehouse import build as build_module
from jobmetrics.warehouse.targets_seed import check_metric_targets

HEADER = "metric,comparator,target_value,unit,label\n"
GOOD = "ltv_to_cac,>=,3,multiple,a\n"


def project_with(tmp_path: Path, rows: str) -> Path:
    """A project folder with the real seed YAML and a metric_targets.csv of `rows`."""
    (tmp_path / "seeds").mkdir()
    shutil.copy(PROJECT_ROOT / "seeds" / "_metric_targets.yml", tmp_path / "seeds")
    (tmp_path / "seeds" / "metric_targets.csv").write_text(HEADER + rows, encoding="utf-8")
    return tmp_path


def test_the_shipped_targets_pass() -> None:
    rows = check_metric_targets(PROJECT_ROOT)
    assert {row["metric"] for row in rows} >= {"ltv_to_cac", "logo_churn_rate"}


@pytest.mark.parametrize(
    ("rows", "line", "column", "words"),
    [
        (GOOD + "logo_churn_rte,<=,0.05,ratio,b\n", 3, "metric", "did you mean 'logo_churn_rate'"),
        (GOOD + "logo_churn_rate,=<,0.05,ratio,b\n", 3, "comparator", "accepted: >=, <="),
        ("logo_churn_rate,<=,5%,ratio,b\n", 2, "target_value", "'5%' is not a number"),
        ("logo_churn_rate,<=,,ratio,b\n", 2, "target_value", "'' is not a number"),
        (GOOD + GOOD, 3, "metric", "already has a target on line 2"),
    ],
)
def test_a_typo_names_the_line_and_column(
    tmp_path: Path, rows: str, line: int, column: str, words: str
) -> None:
    with pytest.raises(SeedError) as raised:
        check_metric_targets(project_with(tmp_path, rows))
    message = str(raised.value)
    assert message.startswith(f"seeds/metric_targets.csv line {line}, column {column}: ")
    assert words in message


def test_build_with_a_typo_in_the_targets_exits_2_before_dbt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = project_with(tmp_path, GOOD + "logo_churn_rte,<=,0.05,ratio,b\n")
    monkeypatch.setattr(build_module, "PROJECT_ROOT", project)
    monkeypatch.setenv("JOBMETRICS_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    ran = []
    monkeypatch.setattr(build_module, "run_dbt", lambda *a, **k: ran.append(a))
    assert main(["build", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "seeds/metric_targets.csv line 3, column metric" in err
    assert ran == [] and not (tmp_path / "wh.duckdb").exists()
