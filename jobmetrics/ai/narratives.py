"""Narratives for report pages: Claude's grounded summary of a page's figures, or the offline one.

`write_narrative(topic, results)` never raises for API trouble and never returns an empty text:
- no ANTHROPIC_API_KEY, an API error, a rate limit, a timeout or a malformed reply → the offline
  summary, labelled as automatic;
- a reply with a number not in the facts → one retry naming those numbers; if it still has one,
  the offline summary labelled "AI narrative withheld: unverified figures";
- a cached result for the same (model, prompt version, facts) → that result, with no API call.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobmetrics import settings as settings_module
from jobmetrics.ai import client as ai_client
from jobmetrics.ai.facts import build_facts, facts_hash, facts_json, has_figures
from jobmetrics.ai.grounding import check
from jobmetrics.ai.offline import offline_summary
from jobmetrics.ai.registry import try_load_registry
from jobmetrics.settings import Settings

PROMPT_VERSION = "narrative-v1"
CACHE_FILE = "narratives_cache.json"
TOOL_NAME = "write_narrative"

LABELS = {
    "claude": "Claude narrative — every figure checked against the data",
    "cache": "Claude narrative (cached) — every figure checked against the data",
    "withheld": "AI narrative withheld: unverified figures — automatic summary shown",
    "no_key": "Automatic summary — set ANTHROPIC_API_KEY for a Claude narrative",
    "offline": "Automatic summary — Claude unavailable",
}

SYSTEM_PROMPT = """\
You write the narrative block of a page in a SaaS analytics report for executives.
You receive a JSON "facts" payload: figures with names, units (format), periods, the previous
period, changes (change = absolute, change_pct = relative, as a fraction), recent history, top
movers and open alerts. Rates and percentages are fractions: 0.052 means 5.2%.

Write, in plain language:
- summary: a short executive summary (2-3 sentences) of what the figures show;
- drivers: 1-3 likely drivers of the changes, reasoned from the facts (say "likely");
- actions: 1-3 concrete recommended actions.

Rules: use ONLY numbers that appear in the facts, optionally rounded (12345.67 may be written
$12,346 or $12.3k; 0.0523 as 5.2%). Do not compute new numbers (no sums, differences or ratios
of your own), do not invent figures, dates or targets. Money in US dollars. No headings.
Answer by calling the write_narrative tool."""

NARRATIVE_TOOL = {
    "name": TOOL_NAME,
    "description": "Return the narrative for the report block.",
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
    """"claude", "cache", "offline" or "withheld"."""
    label: str
    """A human label for the block, e.g. "Automatic summary — Claude unavailable"."""
    detail: str = ""
    """Why the block is offline or withheld (the API error, the unverified figures)."""


@dataclass
class _Tally:
    claude: int = 0
    cache: int = 0
    offline: int = 0
    withheld: int = 0


_TALLY = _Tally()


@dataclass(frozen=True)
class UsageSummary:
    """Narratives and API usage of this process (one site build)."""

    model: str
    narratives: dict[str, int]
    calls: int
    failed_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float

    def line(self) -> str:
        """One line for the build output."""
        counts = ", ".join(f"{n} {source}" for source, n in self.narratives.items() if n)
        return (
            f"narratives: {counts or 'none'}; Claude ({self.model}): {self.calls} calls"
            f"{f' ({self.failed_calls} failed)' if self.failed_calls else ''}, "
            f"{self.input_tokens:,} input + {self.output_tokens:,} output tokens, "
            f"estimated ${self.cost_usd:.4f}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "narratives": self.narratives,
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
        }


def usage_summary(settings: Settings | None = None) -> UsageSummary:
    """Token usage and cost estimate of every API call made in this process so far."""
    current = settings or settings_module.load()
    usage = ai_client.USAGE
    return UsageSummary(
        model=current.ai_model,
        narratives=dict(vars(_TALLY)),
        calls=usage.calls,
        failed_calls=usage.failed_calls,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=usage.cost_usd(current),
    )


def reset_usage() -> None:
    """Start counting afresh (a new build)."""
    global _TALLY
    _TALLY = _Tally()
    ai_client.reset_usage()


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

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Store `entry`; a cache that cannot be written is skipped, never an error."""
        content = self._read()
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


def _user_prompt(facts: dict[str, Any]) -> str:
    return f"Topic: {facts['topic']}\n\nFacts (JSON):\n{facts_json(facts)}"


def _clean_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ai_client.AIUnavailable("malformed tool reply: drivers/actions is not a list")
    return [" ".join(str(item).split()) for item in value if str(item).strip()][:3]


def render(reply: dict[str, Any]) -> str:
    """The narrative tool's input as Markdown (AIUnavailable when a part is missing)."""
    summary = reply.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise ai_client.AIUnavailable("malformed tool reply: no summary")
    drivers = _clean_list(reply.get("drivers"))
    actions = _clean_list(reply.get("actions"))
    if not actions:
        raise ai_client.AIUnavailable("malformed tool reply: no actions")
    lines = [" ".join(summary.split())]
    if drivers:
        lines += ["", "**Likely drivers**", "", *[f"- {driver}" for driver in drivers]]
    lines += ["", "**Recommended actions**", "", *[f"- {action}" for action in actions]]
    return "\n".join(lines)


class Withheld(Exception):
    """Claude's text still held unverified numbers after the retry."""

    def __init__(self, unverified: list[str]) -> None:
        super().__init__(", ".join(unverified))
        self.unverified = unverified


def _claude_narrative(settings: Settings, facts: dict[str, Any]) -> str:
    """Claude's grounded Markdown; Withheld or AIUnavailable otherwise."""
    client = ai_client.create_client(settings)
    messages: list[dict[str, Any]] = [{"role": "user", "content": _user_prompt(facts)}]
    unverified: list[str] = []
    for attempt in range(2):
        reply = ai_client.send(
            client,
            settings,
            system=SYSTEM_PROMPT,
            messages=messages,
            tools=[NARRATIVE_TOOL],
            tool_name=TOOL_NAME,
        )
        text = render(ai_client.tool_input(reply, TOOL_NAME))
        grounding = check(text, facts)
        if grounding.ok:
            return text
        unverified = grounding.unverified
        if attempt == 0:
            messages += ai_client.tool_result(
                reply,
                TOOL_NAME,
                "These numbers are not in the facts and cannot be derived from them by rounding: "
                f"{', '.join(unverified)}. Rewrite the narrative using only numbers from the "
                "facts (rounding is fine) and call write_narrative again.",
            )
    raise Withheld(unverified)


def write_narrative(
    topic: str,
    results: dict[str, list[dict[str, Any]]],
    *,
    refresh: bool = False,
    settings: Settings | None = None,
) -> Narrative:
    """The narrative for a block about `results` (query name → rows)."""
    current = settings or settings_module.load()
    facts = build_facts(topic, results, try_load_registry(current))
    fallback = offline_summary(facts)
    if not current.anthropic_api_key or not has_figures(facts):
        _TALLY.offline += 1
        label = LABELS["no_key"] if not current.anthropic_api_key else "Automatic summary"
        return Narrative(fallback, "offline", label)
    cache = cache_for(current)
    key = facts_hash(current.ai_model, PROMPT_VERSION, facts_json(facts))
    cached = None if refresh else cache.get(key)
    if cached is not None and cached.get("status") == "ok" and cached.get("text"):
        _TALLY.cache += 1
        return Narrative(str(cached["text"]), "cache", LABELS["cache"])
    if cached is not None and cached.get("status") == "withheld":
        _TALLY.withheld += 1
        detail = ", ".join(cached.get("unverified", []))
        return Narrative(fallback, "withheld", LABELS["withheld"], detail)
    try:
        text = _claude_narrative(current, facts)
    except ai_client.AIUnavailable as error:
        _TALLY.offline += 1
        return Narrative(fallback, "offline", f"{LABELS['offline']} ({error.reason})", error.reason)
    except Withheld as error:
        _TALLY.withheld += 1
        cache.put(key, {"status": "withheld", "unverified": error.unverified, "topic": topic})
        return Narrative(fallback, "withheld", LABELS["withheld"], ", ".join(error.unverified))
    except Exception as error:  # noqa: BLE001 - a report page never fails over its narrative
        _TALLY.offline += 1
        reason = f"unexpected {type(error).__name__}"
        return Narrative(fallback, "offline", f"{LABELS['offline']} ({reason})", str(error))
    _TALLY.claude += 1
    cache.put(key, {"status": "ok", "text": text, "topic": topic, "model": current.ai_model})
    return Narrative(text, "claude", LABELS["claude"])
