"""The offline summary: a deterministic, rule-based narrative written from the facts payload.

Used when there is no API key, when the API fails, and when Claude's text is withheld. It reads
like a short report, not a dump of the facts:
- display labels only (the registry's, else the site's label of the column);
- changes between complete periods only: a partial latest period is named as partial, with the
  days the data covers when the result says, and left out of the comparison;
- "better"/"worse" only for metrics whose good direction the registry names;
- an empty result says what it means ("No open alerts.");
- a figure with a target (seeds/metric_targets.csv) says whether it is on track, as
  fct_metric_targets judged it: "on track against the ≥ 3.0× target";
- it ends with actions, each triggered by a rule on a figure it names: a figure past its warning
  level in the metric_thresholds seed (with the channels or plans on the page that drive it),
  a figure off track against its target, critical alerts, a headline figure that worsened
  period after period.
Every number it prints is a value of the facts in the metric's display format.
"""

from __future__ import annotations

from typing import Any

from jobmetrics.core.formats import format_value, is_percent
from jobmetrics.core.targets import TARGETS_FILE as GOALS_FILE
from jobmetrics.core.targets import state_words, target_text

MAX_FIGURES_PER_RESULT = 6
MAX_ITEMS_PER_BREAKDOWN = 8
MAX_FIGURES_PER_ITEM = 3
MAX_DRIVERS = 3
MAX_MESSAGES = 5
TARGETS_FILE = "seeds/metric_thresholds.csv"


# --- periods -----------------------------------------------------------------------------------


def period_label(period: str | None, column: str | None) -> str:
    """ "Nov 2026" for a month ("Nov 2026 cohort" for a cohort month), "week of 2026-11-23" for
    a week, the date or value otherwise."""
    if not period:
        return ""
    name = (column or "").lower()
    is_date = len(period) >= 10 and period[4] == "-" and period[7] == "-"
    if is_date and "month" in name and period[8:10] == "01":
        month = format_value(period, "month")
        return f"the {month} cohort" if "cohort" in name else month
    if is_date and "week" in name:
        return f"week of {period[:10]}"
    return period


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _partial_note(entry: dict[str, Any]) -> str:
    """' (Dec 2026 so far is partial: 1 of 31 days, left out of the comparison)' or ''."""
    partial = entry.get("partial_period")
    if not partial:
        return ""
    label = period_label(partial.get("period"), entry.get("period_column"))
    # the warehouse's label (dim_periods.partial_label) when the result has it
    status = partial.get("label") or "partial"
    days, of_days = partial.get("days_with_data"), partial.get("days_in_period")
    if "label" not in partial and days is not None and of_days is not None:
        status += f": {format_value(days, 'num0')} of {format_value(of_days, 'num0')} days"
    if entry.get("period_complete") is False:
        return f" so far ({status}; no complete period to compare)"
    return f" ({label} so far is {status}, left out of the comparison)"


# --- figures -----------------------------------------------------------------------------------


def _value(figure: dict[str, Any], value: Any = None) -> str:
    return format_value(figure["value"] if value is None else value, figure["format"])


def _change(figure: dict[str, Any]) -> str:
    """' (up 2.9% from $12,000.00, better)' or ' (up 0.4 pts from 5.1%)' or ''."""
    if figure.get("previous") is None or "change" not in figure:
        return ""
    change = figure["change"]
    if change == 0:
        return " (unchanged)"
    direction = "up" if change > 0 else "down"
    amount = _amount(change, figure.get("change_pct"), figure["format"])
    previous = _value(figure, figure["previous"])
    if not amount.strip("0.,%pts "):  # too small to show at this precision
        return f" (little changed from {previous})"
    verdict = f", {figure['assessment']}" if figure.get("assessment") else ""
    return f" ({direction} {amount} from {previous}{verdict})"


def _amount(change: float, change_pct: float | None, fmt: str) -> str:
    """A change as points for a rate, as a percentage of the previous value otherwise."""
    if is_percent(fmt):
        return f"{format_value(abs(change) * 100, 'num1')} pts"
    if change_pct is not None:
        return format_value(abs(change_pct), "pct1")
    return format_value(abs(change), fmt)


def _goal_text(figure: dict[str, Any]) -> str:
    """ "≥ 3.0× target": a figure's target in its format."""
    goal = figure["goal"]
    return f"{target_text(goal['comparator'], goal['value'], figure['format'])} target"


def _figure_text(figure: dict[str, Any], period_column: str | None = None) -> str:
    own_period = period_label(figure.get("period"), period_column)
    where = f" in {own_period}" if own_period else ""
    goal = ""
    if "goal" in figure:
        goal = f", {state_words(figure['goal']['on_track'])} against the {_goal_text(figure)}"
    return f"{figure['label']} {_value(figure)}{where}{_change(figure)}{goal}"


def _ranked(figures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Headline metrics first, then other registry metrics, each in the query's column order."""
    return sorted(
        figures,
        key=lambda figure: (not figure.get("headline"), "registry_metric" not in figure),
    )


def _key_label(key: dict[str, Any]) -> str:
    """{"plan": "basic", "billing_cycle": "monthly"} → "Basic, monthly"."""
    return _capitalized(", ".join(str(value).replace("_", " ") for value in key.values()))


# --- the summary of each result ----------------------------------------------------------------


def _series_lines(entry: dict[str, Any]) -> list[str]:
    figures = _ranked(entry.get("figures", []))[:MAX_FIGURES_PER_RESULT]
    if not figures:
        return []
    period = period_label(entry.get("period"), entry.get("period_column"))
    heading = f"**{_capitalized(period)}**{_partial_note(entry)}: " if period else ""
    column = entry.get("period_column")
    return [f"- {heading}" + "; ".join(_figure_text(f, column) for f in figures) + "."]


def _age_label(entry: dict[str, Any]) -> str:
    """ "at 11 months since start" for an age key such as months_since_start."""
    column = str(entry.get("age_column") or "")
    if not column:
        return ""
    unit, _, anchor = column.partition("_since_")
    age = entry.get("age")
    if age == 1:
        unit = unit.removesuffix("s")
    return f" at {format_value(age, 'num0')} {unit.replace('_', ' ')} since {anchor}"


def _breakdown_lines(entry: dict[str, Any]) -> list[str]:
    items = entry.get("items", [])
    if not items:
        return []
    period = period_label(entry.get("period"), entry.get("period_column"))
    dims = ", ".join(str(d).replace("_", " ") for d in entry.get("dimensions", []))
    heading = f"By {dims}" + (f", {period}" if period else "") + _age_label(entry)
    if entry.get("groups", 0) > MAX_ITEMS_PER_BREAKDOWN:
        ranked_by = next(
            (f["label"] for f in items[0]["figures"] if f["metric"] == entry.get("ranked_by")),
            None,
        )
        heading += f" (largest {ranked_by} first)" if ranked_by else " (largest first)"
    lines = [f"- {heading}:"]
    for item in items[:MAX_ITEMS_PER_BREAKDOWN]:
        figures = _ranked(item["figures"])[:MAX_FIGURES_PER_ITEM]
        if figures:
            text = "; ".join(_figure_text(f) for f in figures)
            lines.append(f"  - {_key_label(item['key'])}: {text}.")
    return lines if len(lines) > 1 else []


def _alert_lines(entry: dict[str, Any]) -> list[str]:
    counts = entry.get("alerts_by_severity") or {}
    summary = ", ".join(
        f"{format_value(count, 'num0')} {severity}" for severity, count in counts.items()
    )
    lines = [f"- {entry['label']}: {summary}."]
    lines += [f"  - {message}" for message in entry.get("messages", [])[:MAX_MESSAGES]]
    return lines


def _empty_line(entry: dict[str, Any]) -> str:
    label = str(entry.get("label") or entry["name"].replace("_", " "))
    return f"- No {label[:1].lower() + label[1:]}."


def _mover_text(mover: dict[str, Any]) -> str:
    where = f" ({_key_label(mover['key'])})" if mover.get("key") else ""
    direction = "up" if mover["change_pct"] > 0 else "down"
    amount = _amount(mover["change"], mover["change_pct"], str(mover.get("format") or ""))
    verdict = f", {mover['assessment']}" if mover.get("assessment") else ""
    return f"{mover['label']}{where} {direction} {amount}{verdict}"


# --- actions -----------------------------------------------------------------------------------


def _metric_id(figure: dict[str, Any]) -> str:
    return str(figure.get("registry_metric") or figure["metric"])


def _target_text(figure: dict[str, Any], *, critical: bool = True) -> str:
    """'above the 5.0% warning level' (and the critical level when that is crossed too)."""
    target = figure["target"]
    side = "above" if target["direction"] == "above" else "below"
    text = f"{side} the {_value(figure, target['value'])} warning level"
    if critical and figure.get("breach") == "critical":
        text += f" and the {_value(figure, target['critical'])} critical level"
    return text


def _distance(figure: dict[str, Any]) -> float:
    """How far past its target a figure is, in its own unit (larger is worse)."""
    target = figure["target"]
    gap = figure["value"] - target["value"]
    return gap if target["direction"] == "above" else -gap


def _breaching_items(facts: dict[str, Any], metric: str) -> list[tuple[str, dict[str, Any]]]:
    """(item label, figure) of every breakdown item on the page past the metric's target,
    furthest first."""
    found = []
    for entry in facts["results"]:
        for item in entry.get("items", []):
            for figure in item["figures"]:
                if _metric_id(figure) == metric and figure.get("breach"):
                    found.append((_key_label(item["key"]), figure))
    return sorted(found, key=lambda pair: (-_distance(pair[1]), pair[0]))


def _drivers_text(drivers: list[tuple[str, dict[str, Any]]]) -> str:
    """ "Basic (9.0%, past the 8.0% critical level), Pro (5.5%)"."""
    parts = []
    for name, figure in drivers[:MAX_DRIVERS]:
        critical = figure["target"]["critical"]
        level = (
            f", past the {_value(figure, critical)} critical level"
            if figure.get("breach") == "critical"
            else ""
        )
        parts.append(f"{name} ({_value(figure)}{level})")
    return ", ".join(parts)


def _within_text(figure: dict[str, Any], where: str) -> str:
    return (
        f"{figure['label']} {_value(figure)}{where} is within its "
        f"{_value(figure, figure['target']['value'])} warning level"
    )


def _figure_target_actions(facts: dict[str, Any]) -> tuple[list[str], list[str], set[str]]:
    """Figures of a period past their target, each with the breakdown rows on the page that
    drive it: (actions, "within target" notes, the metrics acted on)."""
    actions: list[str] = []
    within: list[str] = []
    acted: set[str] = set()
    for entry in facts["results"]:
        for figure in _ranked(entry.get("figures", [])):
            if "target" not in figure:
                continue
            when = period_label(
                figure.get("period") or entry.get("period"), entry.get("period_column")
            )
            where = f" in {when}" if when else ""
            if not figure.get("breach"):
                within.append(_within_text(figure, where))
                continue
            acted.add(_metric_id(figure))
            drivers = _breaching_items(facts, _metric_id(figure))
            if drivers:
                advice = f"it is driven by {_drivers_text(drivers)}; start with {drivers[0][0]}"
            else:
                advice = "break it down (by channel, plan or cohort) to find what drives it"
            actions.append(
                f"{figure['label']} was {_value(figure)}{where}, {_target_text(figure)}: {advice}."
            )
    return actions, within, acted


def _breakdown_target_actions(
    facts: dict[str, Any], acted: set[str]
) -> tuple[list[str], list[str]]:
    """Breakdown rows past their metric's target, for metrics no period figure acted on."""
    first: dict[str, dict[str, Any]] = {}  # metric → its first figure with a target
    for entry in facts["results"]:
        for item in entry.get("items", []):
            for figure in item["figures"]:
                if "target" in figure and _metric_id(figure) not in acted:
                    first.setdefault(_metric_id(figure), figure)
    actions: list[str] = []
    within: list[str] = []
    for metric, example in first.items():
        drivers = _breaching_items(facts, metric)
        if not drivers:
            target = _value(example, example["target"]["value"])
            within.append(
                f"{example['label']} is within its {target} warning level in every row shown"
            )
            continue
        actions.append(
            f"{example['label']} is {_target_text(example, critical=False)} for "
            f"{_drivers_text(drivers)}: start with {drivers[0][0]}."
        )
    return actions, within


def _goal_actions(facts: dict[str, Any], acted: set[str]) -> tuple[list[str], list[str]]:
    """Figures off track against their target (seeds/metric_targets.csv), unless a warning
    level already made an action of the metric; on-track figures are notes."""
    actions: list[str] = []
    on_track: list[str] = []
    for entry in facts["results"]:
        for figure in _ranked(entry.get("figures", [])):
            if "goal" not in figure or _metric_id(figure) in acted:
                continue
            when = period_label(
                figure.get("period") or entry.get("period"), entry.get("period_column")
            )
            where = f" in {when}" if when else ""
            if figure["goal"]["on_track"]:
                on_track.append(
                    f"{figure['label']} {_value(figure)}{where} is on track against the "
                    f"{_goal_text(figure)}"
                )
            elif figure["goal"]["on_track"] is False:
                actions.append(
                    f"{figure['label']} was {_value(figure)}{where}, off track against the "
                    f"{_goal_text(figure)}: break it down (by channel, plan or cohort) to find "
                    "what holds it back."
                )
    return actions, on_track


def _alert_actions(facts: dict[str, Any]) -> list[str]:
    """Critical alerts first; warnings when there is no critical alert."""
    for severity, advice in (
        ("critical", "Deal with the critical alerts first"),
        ("warning", "Check the warnings"),
    ):
        messages = [
            str(alert.get("message") or alert.get("metric"))
            for alert in facts.get("open_alerts") or []
            if alert.get("severity") == severity and alert.get("is_open") is not False
        ]
        if messages:
            return [f"{advice}: " + "; ".join(list(dict.fromkeys(messages))[:MAX_MESSAGES]) + "."]
    return []


def _trend_actions(facts: dict[str, Any]) -> list[str]:
    """Headline figures that got worse in each of their recent periods."""
    actions = []
    for entry in facts["results"]:
        for figure in _ranked(entry.get("figures", [])):
            recent = figure.get("recent") or []
            if not figure.get("headline") or "down_is_good" not in figure or len(recent) < 3:
                continue
            if any(value is None for value in recent):
                continue
            steps = [after - before for before, after in zip(recent, recent[1:], strict=False)]
            worse = all((step > 0) == figure["down_is_good"] and step != 0 for step in steps)
            if worse and not figure.get("breach"):  # a breach has its own action
                path = " → ".join(_value(figure, value) for value in recent)
                actions.append(
                    f"{figure['label']} got worse period after period ({path}): "
                    "find what drives it."
                )
    return actions


def _action_lines(facts: dict[str, Any]) -> list[str]:
    figure_actions, within, acted = _figure_target_actions(facts)
    breakdown_actions, rows_within = _breakdown_target_actions(facts, acted)
    goal_actions, on_track = _goal_actions(facts, acted)
    within += rows_within + on_track
    actions = (
        _alert_actions(facts)
        + figure_actions
        + breakdown_actions
        + goal_actions
        + _trend_actions(facts)
    )
    has_figures = any(entry.get("figures") or entry.get("items") for entry in facts["results"])
    if not actions and not has_figures:
        return []  # only alerts, none to act on, or empty results: nothing to add
    if not actions and within:
        actions = ["No action triggered: " + "; ".join(within[:MAX_DRIVERS]) + "."]
    elif not actions:
        actions = [
            f"No action triggered: no figure here has a warning level in {TARGETS_FILE} "
            f"or a target in {GOALS_FILE}."
        ]
    return ["", "**Actions**", "", *[f"- {action}" for action in actions]]


# --- the summary -------------------------------------------------------------------------------


def offline_summary(facts: dict[str, Any]) -> str:
    """Markdown: each result's latest complete figures with their change, the largest changes,
    alerts, then rule-based actions."""
    lines: list[str] = []
    for entry in facts["results"]:
        if entry.get("rows", 0) == 0:
            lines.append(_empty_line(entry))
        elif "alerts" in entry:
            lines.extend(_alert_lines(entry))
        elif "items" in entry:
            lines.extend(_breakdown_lines(entry))
        else:
            lines.extend(_series_lines(entry))
    movers = facts.get("top_movers") or []
    if movers:
        lines.append("- Largest changes: " + "; ".join(_mover_text(m) for m in movers) + ".")
    if not lines:
        return f"No figures to summarise for {facts['topic']}."
    return "\n".join(lines + _action_lines(facts))
