"""The offline summary: a deterministic, rule-based narrative written from the facts payload.

Used when there is no API key, when the API fails, and when Claude's text is withheld. Every
number it prints comes from the facts, formatted with the registry's (or the column name's)
format, so it passes the same grounding check as Claude's text.
"""

from __future__ import annotations

from typing import Any

from jobmetrics.ai.formatting import format_value, is_percent

MAX_FIGURES_PER_RESULT = 6


def _month_label(period: str | None) -> str:
    if not period:
        return ""
    return format_value(period, "month") if len(period) >= 7 and period[4] == "-" else period


def _period_label(entry: dict[str, Any], key: str = "period") -> str:
    period = entry.get(key)
    if not period:
        return ""
    column = str(entry.get("period_column", ""))
    if "month" in column and period.endswith("-01"):
        return _month_label(period)
    return period


def _change(figure: dict[str, Any]) -> str:
    """' (up 2.9% from $12,000.00)' or ' (up 0.4 pts from 5.1%)' or ''."""
    if figure.get("previous") is None or "change" not in figure:
        return ""
    change = figure["change"]
    if change == 0:
        return " (unchanged)"
    direction = "up" if change > 0 else "down"
    fmt = figure["format"]
    previous = format_value(figure["previous"], fmt)
    if is_percent(fmt):
        amount = f"{format_value(abs(change) * 100, 'num1')} pts"
    elif figure.get("change_pct") is not None:
        amount = format_value(abs(figure["change_pct"]), "pct1")
    else:
        amount = format_value(abs(change), fmt)
    verdict = f", {figure['assessment']}" if figure.get("assessment") else ""
    return f" ({direction} {amount} from {previous}{verdict})"


def _figure_text(figure: dict[str, Any]) -> str:
    value = format_value(figure["value"], figure["format"])
    return f"{figure['label']} {value}{_change(figure)}"


def _ranked(figures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Headline metrics first, then other registry metrics, each in the query's column order."""
    return sorted(
        figures,
        key=lambda figure: (not figure.get("headline"), "registry_metric" not in figure),
    )


def _series_lines(entry: dict[str, Any]) -> list[str]:
    figures = _ranked(entry.get("figures", []))[:MAX_FIGURES_PER_RESULT]
    if not figures:
        return []
    period = _period_label(entry)
    heading = f"**{period}**: " if period else ""
    return [f"- {heading}" + "; ".join(_figure_text(f) for f in figures) + "."]


def _breakdown_lines(entry: dict[str, Any]) -> list[str]:
    items = entry.get("items", [])
    if not items:
        return []
    lines = []
    period = _period_label(entry)
    dims = ", ".join(str(d).replace("_", " ") for d in entry.get("dimensions", []))
    heading = f"By {dims}" + (f", {period}" if period else "")
    lines.append(f"- {heading}:")
    for item in items[:5]:
        name = ", ".join(str(v) for v in item["key"].values())
        figures = _ranked(item["figures"])[:3]
        if figures:
            lines.append(f"  - {name}: " + "; ".join(_figure_text(f) for f in figures) + ".")
    omitted = entry["groups"] - min(5, len(items))
    if omitted > 0:
        lines.append(f"  - and {omitted} more.")
    return lines


def _mover_text(mover: dict[str, Any]) -> str:
    where = ""
    if mover.get("key"):
        where = " (" + ", ".join(str(v) for v in mover["key"].values()) + ")"
    direction = "up" if mover["change_pct"] > 0 else "down"
    amount = format_value(abs(mover["change_pct"]), "pct1")
    verdict = f", {mover['assessment']}" if mover.get("assessment") else ""
    return f"{mover['label']}{where} {direction} {amount}{verdict}"


def _alert_lines(alerts: list[dict[str, Any]]) -> list[str]:
    if not alerts:
        return ["- No open alerts."]
    counts: dict[str, int] = {}
    for alert in alerts:
        severity = str(alert.get("severity", "alert"))
        counts[severity] = counts.get(severity, 0) + 1
    summary = ", ".join(f"{count:,} {severity}" for severity, count in sorted(counts.items()))
    lines = [f"- Open alerts ({summary}):"]
    messages = [str(alert.get("message") or alert.get("metric") or "alert") for alert in alerts]
    lines += [f"  - {message}" for message in list(dict.fromkeys(messages))[:5]]
    return lines


def offline_summary(facts: dict[str, Any]) -> str:
    """Markdown bullets: latest figures with their change, top movers and open alerts."""
    lines: list[str] = []
    for entry in facts["results"]:
        if entry.get("rows", 0) == 0:
            lines.append(f"- `{entry['name']}` has no rows.")
        elif "items" in entry:
            lines.extend(_breakdown_lines(entry))
        else:
            lines.extend(_series_lines(entry))
    movers = facts.get("top_movers") or []
    if movers:
        lines.append("- Largest changes: " + "; ".join(_mover_text(m) for m in movers) + ".")
    if "open_alerts" in facts:
        lines.extend(_alert_lines(facts["open_alerts"]))
    if not lines:
        return f"No figures to summarise for {facts['topic']}."
    return "\n".join(lines)
