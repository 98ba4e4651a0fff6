"""The check of seeds/metric_targets.csv before dbt runs: a typo in a hand-edited target stops
the build with the line and column it is on (SeedError, exit code 2 at the CLI), instead of a
failed accepted_values test that names neither.

The accepted metric names and comparators are read from the seed's YAML
(seeds/_metric_targets.yml, the accepted_values tests dbt runs too), so they are written once.
"""

from __future__ import annotations

import csv
import difflib
import math
from pathlib import Path
from typing import Any

import yaml

from jobmetrics.core.errors import SeedError

TARGETS_CSV = Path("seeds") / "metric_targets.csv"
TARGETS_YAML = Path("seeds") / "_metric_targets.yml"
COLUMNS = ("metric", "comparator", "target_value", "unit", "label")


def accepted_values(project_root: Path) -> dict[str, list[str]]:
    """Column → the values its accepted_values check allows, from the seed's YAML (the column's
    `config: meta: checks:`, which the build's table_checks test runs)."""
    document = yaml.safe_load((project_root / TARGETS_YAML).read_text(encoding="utf-8"))
    seed = next(s for s in document["seeds"] if s["name"] == "metric_targets")
    accepted: dict[str, list[str]] = {}
    for column in seed.get("columns") or []:
        checks = ((column.get("config") or {}).get("meta") or {}).get("checks") or []
        for check in checks:
            if isinstance(check, dict) and "accepted_values" in check:
                accepted[column["name"]] = [str(value) for value in check["accepted_values"]]
    return accepted


def _problem(path: str, line: int, column: str, text: str) -> SeedError:
    return SeedError(f"{path} line {line}, column {column}: {text}")


def _known(value: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}accepted: {', '.join(allowed)}"


def check_metric_targets(project_root: Path) -> list[dict[str, Any]]:
    """The rows of seeds/metric_targets.csv, checked; SeedError naming the line and column of the
    first bad value (unknown metric or comparator, a target that is not a number, a metric
    twice)."""
    path = project_root / TARGETS_CSV
    shown = str(TARGETS_CSV)
    allowed = accepted_values(project_root)
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            reader = csv.DictReader(stream)
            missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
            if missing:
                raise _problem(shown, 1, missing[0], "the header has no such column")
            rows = list(reader)
    except OSError as error:
        raise SeedError(f"cannot read {shown}: {error.strerror or error}") from None
    seen: dict[str, int] = {}
    checked = []
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        for column in ("metric", "comparator"):
            value = (row.get(column) or "").strip()
            if value not in allowed.get(column, [value]):
                raise _problem(
                    shown,
                    line,
                    column,
                    f"{value!r} is not accepted; " + _known(value, allowed[column]),
                )
        metric = row["metric"].strip()
        if metric in seen:
            raise _problem(
                shown,
                line,
                "metric",
                f"{metric!r} already has a target on line {seen[metric]}; keep one row per metric",
            )
        seen[metric] = line
        text = (row.get("target_value") or "").strip()
        try:
            target = float(text)
        except ValueError:
            target = math.nan
        if not math.isfinite(target):
            raise _problem(
                shown,
                line,
                "target_value",
                f"{text!r} is not a number (write ratios as fractions: 0.05 for 5 %)",
            )
        checked.append({**row, "metric": metric, "target_value": target})
    return checked
