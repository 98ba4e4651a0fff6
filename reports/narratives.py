"""Narrative blocks: text about a page's named results, written by the narrative engine
(jobmetrics.ai.narratives: Claude with every figure checked, a cache, or its offline summary)."""

from __future__ import annotations

from jobmetrics.ai.narratives import Narrative, write_narrative
from reports.queries import QueryResult

__all__ = ["Narrative", "write"]


def write(topic: str, results: dict[str, QueryResult], *, refresh: bool = False) -> Narrative:
    """The narrative about `results` (query name → rows), from the engine."""
    records = {name: result.records() for name, result in results.items()}
    return write_narrative(topic, records, refresh=refresh)
