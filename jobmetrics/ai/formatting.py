"""Number formats and column labels of the report site (reports.formats, reports.labels),
imported when first used.

reports imports jobmetrics.ai.narratives at module level, so importing reports here at module
level would be circular; the formats and labels themselves live in one place each,
reports/formats.py and reports/labels.py.
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


def column_label(column: str) -> str:
    """A column name as the site labels it (ending_mrr → Ending MRR, ltv_to_cac → LTV:CAC)."""
    from reports.labels import humanize

    return humanize(column)
