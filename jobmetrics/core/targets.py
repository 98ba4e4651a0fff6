"""Targets (seeds/metric_targets.csv, judged in fct_metric_targets) as the report and the
narratives show them: the columns a targets query has, and a target in words ("≥ 3.0×").
Whether a value is on track is decided once, in the mart (macro analytics_is_on_track); code
here only reads its is_on_track."""

from __future__ import annotations

from typing import Any

from jobmetrics.core.formats import format_value

TARGETS_FILE = "seeds/metric_targets.csv"
TARGET_COLUMNS = ("metric", "target_value", "comparator", "is_on_track")
"""Columns of a targets query (from fct_metric_targets): a tile's `target=`, a chart's `goal=`,
and the facts of a narrative read these."""
COMPARATOR_SIGNS = {">=": "≥", "<=": "≤"}


def target_text(comparator: str, value: Any, fmt: str | None) -> str:
    """ "≥ 3.0×", "≤ 5.0%": a target's comparator and value in the figure's format."""
    return f"{COMPARATOR_SIGNS.get(comparator, comparator)} {format_value(value, fmt)}"


def state_words(on_track: bool | None) -> str:
    """ "on track", "off track" or "not judged" (no value that month)."""
    return {True: "on track", False: "off track"}.get(on_track, "not judged")
