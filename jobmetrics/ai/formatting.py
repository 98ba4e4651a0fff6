"""Number formats of the report site (reports.formats), imported when first used.

reports imports jobmetrics.ai.narratives at module level, so importing reports here at module
level would be circular; the formats themselves live in one place, reports/formats.py.
"""

from __future__ import annotations

from typing import Any


def auto_format(column: str) -> str | None:
    """The format a column's name implies (mrr → usd, churn_rate → pct1), or None."""
    from reports.formats import auto_format as implied

    return implied(column)


def format_value(value: Any, fmt: str | None = None) -> str:
    """A value formatted by format name (usd, pct1, num0, mult, month, ...)."""
    from reports.formats import format_value as formatted

    return formatted(value, fmt)


def is_percent(fmt: str | None) -> bool:
    return fmt is not None and fmt.startswith("pct")
