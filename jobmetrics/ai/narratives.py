"""Narratives for report pages: Claude's words around figures written from the data, or the
offline summary.

Claude never types a figure: the facts it receives carry ids, its text refers to them as
`{{f3}}`, and the renderer writes each value from the warehouse (jobmetrics.ai.claims). One
`Narrator` serves one site build; `Narrator.write(topic, results)` never raises for API trouble
and never returns an empty text:
- no ANTHROPIC_API_KEY, an API error, a timeout, a spent time budget, an open circuit breaker or
  a malformed reply → the offline summary, labelled as automatic with the reason;
- a reply that fails a check (a typed figure, a change word against the data, a wrong metric or
  month, an image, link, HTML or control character) → one retry naming the problems; if it
  still fails, the offline summary labelled "withheld" (the withheld text is not shown anywhere);
- a cached reply for the same (model, prompt version, facts) → checked again, then shown with no
  API call; a cached reply that no longer passes is dropped and asked for again.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobmetrics.ai import client as ai_client
from jobmetrics.ai import sanitize
from jobmetrics.ai.claims import Checked, Fact, Mentions, aliases_for, label, render_checked
from jobmetrics.ai.facts import (
    build_facts,
    facts_hash,
    facts_json,
    has_figures,
    iso_date,
    number,
)
from jobmetrics.ai.offline import offline_summary
from jobmetrics.ai.registry import Registry, try_load_registry
from jobmetrics.core.formats import format_value, is_percent
from jobmetrics.core.settings import Settings

PROMPT_VERSION = "narrative-v3"
CACHE_FILE = "narratives_cache.json"
TOOL_NAME = "write_narrative"

LABELS = {
    "claude": "Claude narrative — {checked}",
    "cache": "Claude narrative (cached) — {checked}",
    "withheld": "Claude narrative withheld ({reason}) — automatic summary shown",
    "no_key": "Automatic summary — set ANTHROPIC_API_KEY for a Claude narrative",
    "offline": "Automatic summary — Claude unavailable ({reason})",
    "no_figures": "Automatic summary",
    "filtered": "Automatic summary of this filtered view — Claude writes the unfiltered page's",
}

SYSTEM_PROMPT = """\
You write the narrative block of a page in a SaaS analytics report for executives.
You receive the page topic and a list of facts. Each fact has an id (f1, f2, ... for figures,
p1, p2, ... for periods), a kind (value, previous, change, change_pct, period), what it shows
(its display text), its label (the metric), its period, what it is "for" (a channel, a plan),
its direction (up, down, unchanged against the previous period) and, where the metric has a
better direction, its assessment (better, worse). A figure with a business target says whether
it is on or off track against it (against_target), and its target is a fact of kind target
(value_is: whether the figure is above, below or at the target).

Write, in plain language:
- summary: a short executive summary (2-3 sentences) of what the facts show;
- drivers: 1-3 likely drivers of the changes, reasoned from the facts (say "likely");
- actions: 1-3 concrete recommended actions.

Rules, all checked by a program; a text that breaks one is thrown away:
- NEVER type a number, digit, year, percent sign or number word (two, dozen, tenfold). Write
  every figure and every period as its fact reference in double braces: "MRR reached {{f1}},
  up {{f3}} on {{p2}}". The reference is replaced by the value from the data.
- Name the metric of a reference next to it, and only that metric ("ARR" next to an MRR fact
  is wrong). Name months only for facts of that month.
- A change fact (change, change_pct) needs a direction word in the same clause ("up {{f3}}",
  "fell {{f4}}"), and it must match the fact's direction. "Doubled", "halved", "better",
  "worse" and "record" are checked against the data too; use them only when the facts say so.
- Say "on track" / "off track" (or "met" / "missed") only next to a figure whose
  against_target says so, and "above" / "below" a target only next to its target fact as its
  value_is says: "logo churn was {{f1}}, above its {{f9}} target and off track".
- Plain sentences only: no headings, links, images, HTML, code or tables.
Answer by calling the write_narrative tool."""

NARRATIVE_TOOL = {
    "name": TOOL_NAME,
    "description": "Return the narrative for the report block, figures as {{id}} references.",
    "input_schema": {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "description": "2-3 sentence executive summary."},
            "drivers": {
                "type": "array",
                "items": {"type": "string"},
                "description": "1-3 likely drivers.",
            },
            "actions": {
                "type": "array",
                "items": {"type": "string"},
                "description": "1-3 recommended actions.",
            },
        },
        "required": ["summary", "drivers", "actions"],
    },
}


@dataclass(frozen=True)
class Narrative:
    """What a narrative block shows."""

    text: str
    """Markdown."""
    source: str
    """"claude", "cache", "offline", "withheld" or "filtered" (a filtered view of a page)."""
    label: str
    """A human label saying what the block is and what was checked."""
    detail: str = ""
    """Why the block is offline or withheld, in our words (never the withheld text)."""


@dataclass(frozen=True)
class UsageSummary:
    """Narratives and API usage of one site build."""

    narratives: dict[str, int]
    usage: ai_client.Usage
    settings: Settings

    def line(self) -> str:
        """One line for the build output."""
        counts = ", ".join(f"{n} {source}" for source, n in self.narratives.items() if n)
        if not self.usage.calls and not self.usage.failed_calls:
            return f"narratives: {counts or 'none'} (no API calls)"
        return f"narratives: {counts or 'none'}; {self.usage.line(self.settings)}"

    def as_dict(self) -> dict[str, Any]:
        return {"narratives": self.narratives, **self.usage.as_dict(self.settings)}


class NarrativeCache:
    """Narratives by key in one JSON file next to the warehouse (data/narratives_cache.json)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            content = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return content if isinstance(content, dict) else {}

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._read().get(key)
        return entry if isinstance(entry, dict) else None

    def put(self, key: str, entry: dict[str, Any] | None) -> None:
        """Store `entry` (None drops the key); a cache that cannot be written is skipped."""
        content = self._read()
        if entry is None:
            content.pop(key, None)
        else:
            content[key] = entry
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".narratives-")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(content, stream, indent=1, sort_keys=True, ensure_ascii=False)
            os.chmod(temporary, 0o644)  # mkstemp makes it private; the cache is not secret
            os.replace(temporary, self.path)
        except OSError:
            return


def cache_for(settings: Settings) -> NarrativeCache:
    return NarrativeCache(settings.data_dir / CACHE_FILE)


# --- the facts the model may refer to -------------------------------------------------------


def _period_display(period: str, column: str) -> str:
    return format_value(period, "month") if "month" in column and period.endswith("-01") else period


def _records(rows: list[dict[str, Any]], metric: str, value: Any) -> str | None:
    """ "high"/"low" when `value` is the largest/smallest of the column across >= 3 rows."""
    values = [v for row in rows if (v := number(row.get(metric))) is not None]
    if len(values) < 3 or value is None:
        return None
    if value >= max(values) and value > min(values):
        return "high"
    if value <= min(values) and value < max(values):
        return "low"
    return None


class _FactTable:
    """Ids for every figure and period of a facts payload."""

    def __init__(self) -> None:
        self.facts: dict[str, Fact] = {}
        self._periods: dict[tuple[str, str], str] = {}

    def period(self, period: str | None, column: str) -> str | None:
        if not period:
            return None
        key = (period, column)
        if key not in self._periods:
            fact_id = f"p{len(self._periods) + 1}"
            self._periods[key] = fact_id
            self.facts[fact_id] = Fact(
                id=fact_id,
                display=_period_display(period, column),
                kind="period",
                period=iso_date(period),
            )
        return self._periods[key]

    def figure(
        self,
        figure: dict[str, Any],
        *,
        period: str | None,
        previous_period: str | None,
        key: dict[str, str],
        record: str | None,
    ) -> None:
        """The value, previous value, change and relative change of one figure."""
        fmt = figure.get("format") or "num"
        change = figure.get("change")
        direction = None if change is None else (change > 0) - (change < 0)
        previous = figure.get("previous")
        ratio = figure["value"] / previous if previous not in (None, 0) else None
        common = {
            "metric": figure["metric"],
            "label": figure.get("label", ""),
            "key": key,
            "direction": direction,
            "ratio": ratio,
            "assessment": figure.get("assessment"),
            "aliases": aliases_for(figure.get("label", ""), figure["metric"]),
        }
        goal = figure.get("goal") or {}
        on_track = goal.get("on_track")  # fct_metric_targets' judgement, never made here
        side = None
        if goal.get("value") is not None:
            side = (figure["value"] > goal["value"]) - (figure["value"] < goal["value"])
        self._add(
            "value",
            format_value(figure["value"], fmt),
            period,
            None,
            record,
            common,
            on_track,
            side,
        )
        if goal.get("value") is not None:
            value, target = figure["value"], goal["value"]
            self._add(
                "target",
                format_value(target, fmt),
                period,
                None,
                None,
                {**common, "direction": None, "ratio": None, "assessment": None},
                on_track,
                (value > target) - (value < target),
            )
        if previous is not None:
            self._add("previous", format_value(previous, fmt), previous_period, None, None, common)
        if change is not None and direction:
            shown = (
                f"{format_value(abs(change) * 100, 'num1')} pts"
                if is_percent(fmt)
                else format_value(abs(change), fmt)
            )
            self._add("change", shown, period, previous_period, None, common)
        if figure.get("change_pct") is not None and direction:
            shown = format_value(abs(figure["change_pct"]), "pct1")
            self._add("change_pct", shown, period, previous_period, None, common)

    def _add(
        self,
        kind: str,
        display: str,
        period: str | None,
        other: str | None,
        record: str | None,
        common: dict[str, Any],
        on_track: bool | None = None,
        target_side: int | None = None,
    ) -> None:
        fact_id = f"f{sum(1 for f in self.facts.values() if f.kind != 'period') + 1}"
        self.facts[fact_id] = Fact(
            id=fact_id,
            display=display,
            kind=kind,
            period=iso_date(period),
            other_period=iso_date(other),
            record=record,
            on_track=on_track,
            target_side=target_side,
            **common,
        )


def fact_table(payload: dict[str, Any], results: dict[str, list[dict[str, Any]]]) -> _FactTable:
    """Every figure of a facts payload with an id, stating what it is."""
    table = _FactTable()
    for entry in payload["results"]:
        column = str(entry.get("period_column", ""))
        period, previous = entry.get("period"), entry.get("previous_period")
        table.period(period, column)
        table.period(previous, column)
        partial = (entry.get("partial_period") or {}).get("period")
        rows = [
            row
            for row in results.get(entry["name"], [])
            if partial is None or iso_date(row.get(column)) != iso_date(partial)
        ]
        for figure in entry.get("figures", []):
            # a figure may be for an earlier period than the result's (a young cohort)
            at = figure.get("period", period)
            before = figure.get("previous_period", previous)
            table.period(at, column)
            table.period(before, column)
            record = _records(rows, figure["metric"], figure["value"]) if column else None
            table.figure(figure, period=at, previous_period=before, key={}, record=record)
        age = {entry["age_column"]: str(entry["age"])} if entry.get("age_column") else {}
        for item in entry.get("items", []):
            for figure in item["figures"]:
                table.figure(
                    figure,
                    period=figure.get("period", period),
                    previous_period=figure.get("previous_period"),
                    key={**item["key"], **age},
                    record=None,
                )
    return table


def _prompt(payload: dict[str, Any], table: _FactTable) -> str:
    facts = [fact.describe() for fact in table.facts.values()]
    return f"Topic: {payload['topic']}\n\nFacts (JSON):\n" + json.dumps(
        facts, ensure_ascii=False, separators=(",", ":")
    )


# --- checking and rendering a reply ----------------------------------------------------------


class Rejected(Exception):
    """Claude's reply failed a check; `problems` says which, `kind` is the label's reason."""

    def __init__(self, problems: list[str], kind: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.kind = kind


def _items(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ai_client.AIUnavailable(f"malformed tool reply: {name} is not a list of text")
    return [" ".join(item.split()) for item in value if item.strip()][:3]


def check_reply(
    reply: dict[str, Any], table: _FactTable, mentions: Mentions
) -> tuple[str, Checked]:
    """The reply as Markdown with every figure written from the data, and what was checked.

    Rejected when a part fails a check; AIUnavailable when the reply is malformed.
    """
    summary = reply.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise ai_client.AIUnavailable("malformed tool reply: no summary")
    parts = [("summary", " ".join(summary.split()), False)]
    parts += [("driver", text, False) for text in _items(reply.get("drivers", []), "drivers")]
    actions = _items(reply.get("actions"), "actions")
    if not actions:
        raise ai_client.AIUnavailable("malformed tool reply: no actions")
    parts += [("action", text, True) for text in actions]
    unsafe = [problem for _, text, _ in parts for problem in sanitize.problems(text)]
    if unsafe:
        raise Rejected(list(dict.fromkeys(unsafe)), "unsafe content")
    total = Checked()
    rendered: dict[str, list[str]] = {"summary": [], "driver": [], "action": []}
    for part, text, imperative in parts:
        checked = render_checked(text, table.facts, mentions, imperative=imperative)
        total.merge(checked)
        rendered[part].append(checked.text)
    if not total.ok:
        kind = (
            "a figure typed by the model"
            if any(p.startswith("typed figures") for p in total.problems)
            else "its words disagree with the data"
        )
        raise Rejected(total.problems, kind)
    lines = rendered["summary"][:1]
    if rendered["driver"]:
        lines += ["", "**Likely drivers**", "", *[f"- {text}" for text in rendered["driver"]]]
    lines += ["", "**Recommended actions**", "", *[f"- {text}" for text in rendered["action"]]]
    return "\n".join(lines), total


def _mentions(registry: Registry | None, table: _FactTable) -> Mentions:
    groups = [fact.aliases for fact in table.facts.values()]
    if registry is not None:
        groups += [aliases_for(metric.label, metric.name) for metric in registry]
    return Mentions(groups)


@dataclass
class Narrator:
    """Writes the narratives of one site build within one API session, and counts them."""

    settings: Settings
    refresh: bool = False
    http_client_factory: ai_client.HttpClientFactory | None = None
    """The SDK's HTTP client (None: its own); tests pass one with a mock transport."""
    tally: dict[str, int] = field(
        default_factory=lambda: {
            "claude": 0,
            "cache": 0,
            "offline": 0,
            "withheld": 0,
            "filtered": 0,
        }
    )

    def __post_init__(self) -> None:
        self.session = ai_client.Session(
            self.settings, http_client_factory=self.http_client_factory
        )
        self.cache = cache_for(self.settings)
        self.registry = try_load_registry(self.settings)

    def summary(self) -> UsageSummary:
        return UsageSummary(dict(self.tally), self.session.usage, self.settings)

    def _counted(self, narrative: Narrative) -> Narrative:
        self.tally[narrative.source] += 1
        return narrative

    def write(
        self, topic: str, results: dict[str, list[dict[str, Any]]], *, ai: bool = True
    ) -> Narrative:
        """The narrative block about `results` (query name → rows).

        `ai=False` (a page's filtered views: one API call per view would multiply the cost) never
        calls the API: a cached narrative of the same facts (often the unfiltered view's, when a
        view changes only what other blocks show) is used, else the automatic summary."""
        payload = build_facts(topic, results, self.registry)
        fallback = offline_summary(payload)
        if not self.settings.anthropic_api_key:
            return self._counted(Narrative(fallback, "offline", LABELS["no_key"]))
        if not has_figures(payload):
            return self._counted(Narrative(fallback, "offline", LABELS["no_figures"]))
        table = fact_table(payload, results)
        mentions = _mentions(self.registry, table)
        key = facts_hash(self.settings.ai_model, PROMPT_VERSION, facts_json(payload))
        cached = None if self.refresh and ai else self.cache.get(key)
        if cached is not None:
            shown = self._from_cache(cached, table, mentions, fallback)
            if shown is not None:
                return self._counted(shown)
            if ai:
                self.cache.put(key, None)  # an entry that no longer passes is asked for again
        if not ai:
            return self._counted(Narrative(fallback, "filtered", LABELS["filtered"]))
        try:
            reply, text, checked = self._ask(payload, table, mentions)
        except ai_client.AIUnavailable as error:
            label_text = LABELS["offline"].format(reason=error.reason)
            return self._counted(Narrative(fallback, "offline", label_text, error.reason))
        except Rejected as error:
            self.cache.put(key, {"status": "withheld", "kind": error.kind, "topic": topic})
            label_text = LABELS["withheld"].format(reason=error.kind)
            return self._counted(Narrative(fallback, "withheld", label_text, error.kind))
        except Exception as error:  # noqa: BLE001 - a report page never fails over its narrative
            reason = f"unexpected {type(error).__name__}"
            label_text = LABELS["offline"].format(reason=reason)
            return self._counted(Narrative(fallback, "offline", label_text, reason))
        self.cache.put(
            key, {"status": "ok", "reply": reply, "topic": topic, "model": self.settings.ai_model}
        )
        return self._counted(
            Narrative(text, "claude", LABELS["claude"].format(checked=label(checked, table.facts)))
        )

    def _from_cache(
        self, cached: dict[str, Any], table: _FactTable, mentions: Mentions, fallback: str
    ) -> Narrative | None:
        """A cached reply checked again (None when it no longer passes)."""
        if cached.get("status") == "withheld":
            kind = str(cached.get("kind") or "it failed a check")
            kind = kind if kind in _REJECTION_KINDS else "it failed a check"
            return Narrative(fallback, "withheld", LABELS["withheld"].format(reason=kind), kind)
        reply = cached.get("reply")
        if cached.get("status") != "ok" or not isinstance(reply, dict):
            return None
        try:
            text, checked = check_reply(reply, table, mentions)
        except (Rejected, ai_client.AIUnavailable):
            return None
        return Narrative(text, "cache", LABELS["cache"].format(checked=label(checked, table.facts)))

    def _ask(
        self, payload: dict[str, Any], table: _FactTable, mentions: Mentions
    ) -> tuple[dict[str, Any], str, Checked]:
        """Claude's reply, its rendered text and checks; Rejected or AIUnavailable otherwise."""
        messages: list[dict[str, Any]] = [{"role": "user", "content": _prompt(payload, table)}]
        for attempt in range(2):
            reply = ai_client.send(
                self.session,
                system=SYSTEM_PROMPT,
                messages=messages,
                tools=[NARRATIVE_TOOL],
                tool_name=TOOL_NAME,
            )
            tool_input = ai_client.tool_input(reply, TOOL_NAME)
            try:
                text, checked = check_reply(tool_input, table, mentions)
            except Rejected as error:
                if attempt == 1:
                    raise
                messages += ai_client.tool_result(
                    reply,
                    TOOL_NAME,
                    "The narrative failed these checks: "
                    + "; ".join(error.problems)
                    + ". Rewrite it following the rules and call write_narrative again.",
                )
                continue
            return tool_input, text, checked
        raise AssertionError("unreachable")


_REJECTION_KINDS = {
    "unsafe content",
    "a figure typed by the model",
    "its words disagree with the data",
}
