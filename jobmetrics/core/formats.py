"""Number and date formats by name (Evidence's `fmt=`), and automatic formats from column names.

Named formats: usd ($1,234.56), usd0 ($1,235), usd1k ($1.2k), usd1m ($1.23M), pct (3.2 %, or 73 %
from 10 % up), pct0, pct1, pct2, num0 (1,235), num1, num2, num1k (1.2k), mult (3.2×), ms (1,234 ms),
date (2025-03-14), month (Mar 2025). Rates are fractions: 0.032 formats as 3.2%.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from jobmetrics.core.errors import PageProblem

Number = int | float | Decimal

MISSING = "–"
"""What an empty (NULL) value shows as."""


class UnknownFormat(PageProblem):
    """A `fmt=` or filter name that is not one of FORMATS."""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _decimal(value: Number) -> Decimal:
    """Exact decimal of a number; a float goes through its shortest repr (0.1 → 0.1)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _fixed(value: Number, decimals: int) -> str:
    """Thousands separators and exactly `decimals` decimals, rounding half away from zero."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return MISSING
    quantum = Decimal(1).scaleb(-decimals)
    rounded = _decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.00"
    return f"{rounded:,.{decimals}f}"


def _signed(prefix: str, text: str) -> str:
    """Put a minus sign before the prefix: -$12.00, not $-12.00."""
    return f"-{prefix}{text[1:]}" if text.startswith("-") else f"{prefix}{text}"


def _scaled(value: Number, divisor: int, suffix: str, decimals: int) -> str:
    return _fixed(_decimal(value) / divisor, decimals) + suffix


def _compact(value: Number, decimals: int) -> str:
    """1.2k / 3.4M / 5.6B, or the plain number below a thousand."""
    size = abs(float(value))
    if size >= 1e9:
        return _scaled(value, 1_000_000_000, "B", decimals)
    if size >= 1e6:
        return _scaled(value, 1_000_000, "M", decimals)
    if size >= 1e3:
        return _scaled(value, 1_000, "k", decimals)
    return _fixed(value, 0 if float(value).is_integer() else decimals)


def _percent(value: Number, decimals: int) -> str:
    return _fixed(_decimal(value) * 100, decimals) + "%"


def _auto_percent(value: Number) -> str:
    return _percent(value, 0 if abs(float(value)) >= 0.1 else 1)


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _date(value: object) -> str:
    day = _as_date(value)
    return day.isoformat() if day else str(value)


def _month(value: object) -> str:
    day = _as_date(value)
    return day.strftime("%b %Y") if day else str(value)


def _datetime(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return _date(value)


_NUMERIC: dict[str, Callable[[Number], str]] = {
    "usd": lambda v: _signed("$", _fixed(v, 2)),
    "usd2": lambda v: _signed("$", _fixed(v, 2)),
    "usd0": lambda v: _signed("$", _fixed(v, 0)),
    "usd1k": lambda v: _signed("$", _scaled(v, 1_000, "k", 1)),
    "usd1m": lambda v: _signed("$", _scaled(v, 1_000_000, "M", 2)),
    "usdk": lambda v: _signed("$", _compact(v, 1)),
    "pct": _auto_percent,
    "pct0": lambda v: _percent(v, 0),
    "pct1": lambda v: _percent(v, 1),
    "pct2": lambda v: _percent(v, 2),
    "num0": lambda v: _fixed(v, 0),
    "num1": lambda v: _fixed(v, 1),
    "num2": lambda v: _fixed(v, 2),
    "num1k": lambda v: _compact(v, 1),
    "mult": lambda v: _fixed(v, 1) + "×",
    "ms": lambda v: _fixed(v, 0) + " ms",
    "hours": lambda v: _fixed(v, 1) + " h",
    "days": lambda v: _fixed(v, 1) + " d",
    "months": lambda v: _fixed(v, 1) + " mo",
}

_TEMPORAL: dict[str, Callable[[object], str]] = {
    "date": _date,
    "month": _month,
    "datetime": _datetime,
}

FORMATS: tuple[str, ...] = (*_NUMERIC, *_TEMPORAL, "num", "text")
"""Every format name a page may use."""


def check_format(name: str) -> str:
    """Return `name` if it is a known format, else raise UnknownFormat listing the known ones."""
    if name not in FORMATS:
        raise UnknownFormat(f"unknown format {name!r} (known: {', '.join(FORMATS)})")
    return name


def _plain(value: object) -> str:
    """Default display of a value with no format: integers with separators, 2 decimals else."""
    if _is_number(value):
        if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral()):
            return _fixed(value, 0)
        return _fixed(value, 2)
    if isinstance(value, datetime):
        return _datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def format_value(value: object, fmt: str | None = None) -> str:
    """Format one value by format name; None shows as an en dash, non-numbers pass through."""
    if value is None:
        return MISSING
    if fmt is None or fmt in ("num", "text"):
        return _plain(value)
    check_format(fmt)
    if fmt in _TEMPORAL:
        return _TEMPORAL[fmt](value)
    if not _is_number(value):
        return str(value)
    return _NUMERIC[fmt](value)


# Column-name rules, first match wins: (how the name ends or what it equals, format).
_SUFFIX_FORMATS: tuple[tuple[str, str], ...] = (
    ("_usd", "usd"),
    ("match_rate", "num1"),  # a 0-100 score, not a fraction
    ("_pct", "pct1"),
    ("_rate", "pct1"),
    ("_retention", "pct1"),
    ("_share", "pct1"),
    ("_conversion", "pct1"),
    ("stickiness", "pct1"),
    ("_ms", "ms"),
    ("_hours", "hours"),
    ("_month", "month"),
    ("_date", "date"),
    ("_at", "datetime"),
    ("_mrr", "usd"),
    ("_arr", "usd"),
)
_EXACT_FORMATS: dict[str, str] = {
    "mrr": "usd",
    "arr": "usd",
    "arpu": "usd",
    "cac": "usd",
    "ltv": "usd",
    "spend": "usd",
    "month": "month",
    "date": "date",
    "day": "date",
    "ltv_to_cac": "mult",
    "quick_ratio": "mult",
    "cac_payback_months": "months",
    "duration_days": "days",
}


def auto_format(column: str) -> str | None:
    """The format a column's name implies (mrr_usd → usd, churn_rate → pct1), or None."""
    name = column.lower()
    for marker in ("_previous", "_prev", "_prior", "_last_month", "_target"):
        if name.endswith(marker) and len(name) > len(marker):
            return auto_format(name.removesuffix(marker))
    if name in _EXACT_FORMATS:
        return _EXACT_FORMATS[name]
    for ending, fmt in _SUFFIX_FORMATS:
        if name.endswith(ending):
            return fmt
    return None


def is_percent(fmt: str | None) -> bool:
    return fmt is not None and fmt.startswith("pct")


# d3-format strings Plotly uses for axes, matching the named formats.
_D3: dict[str, tuple[str, str]] = {
    "usd": ("", "$,.0f"),
    "usd2": ("", "$,.0f"),
    "usd0": ("", "$,.0f"),
    "usd1k": ("", "$.3~s"),
    "usd1m": ("", "$.3~s"),
    "usdk": ("", "$.3~s"),
    "pct": ("", ".0%"),
    "pct0": ("", ".0%"),
    "pct1": ("", ".1%"),
    "pct2": ("", ".2%"),
    "num0": ("", ",.0f"),
    "num1": ("", ",.1f"),
    "num2": ("", ",.2f"),
    "num1k": ("", "~s"),
    "mult": ("", ",.1f"),
    "ms": ("", ",.0f"),
    "hours": ("", ",.1f"),
    "days": ("", ",.1f"),
    "months": ("", ",.1f"),
}


# d3-format hover text per named format: (prefix, d3 spec, suffix); same text as format_value.
_HOVER: dict[str, tuple[str, str, str]] = {
    "usd": ("", "$,.2f", ""),
    "usd2": ("", "$,.2f", ""),
    "usd0": ("", "$,.0f", ""),
    "usd1k": ("", "$,.3~s", ""),
    "usd1m": ("", "$,.3~s", ""),
    "usdk": ("", "$,.3~s", ""),
    "pct": ("", ".1%", ""),
    "pct0": ("", ".0%", ""),
    "pct1": ("", ".1%", ""),
    "pct2": ("", ".2%", ""),
    "num0": ("", ",.0f", ""),
    "num1": ("", ",.1f", ""),
    "num2": ("", ",.2f", ""),
    "num1k": ("", ",.3~s", ""),
    "mult": ("", ",.1f", "×"),
    "ms": ("", ",.0f", " ms"),
    "hours": ("", ",.1f", " h"),
    "days": ("", ",.1f", " d"),
    "months": ("", ",.1f", " mo"),
}


def hover_template(fmt: str | None, field: str = "y") -> str:
    """A Plotly hover template printing `field` the way the named format does."""
    prefix, spec, suffix = _HOVER.get(fmt or "", ("", ",.2~f", ""))
    return f"{prefix}%{{{field}:{spec}}}{suffix}"


def axis_format(fmt: str | None) -> dict[str, str]:
    """Plotly axis settings (tickprefix, tickformat) for a named format."""
    if fmt is None or fmt not in _D3:
        return {}
    prefix, tick = _D3[fmt]
    settings = {"tickformat": tick}
    if prefix:
        settings["tickprefix"] = prefix
    return settings
