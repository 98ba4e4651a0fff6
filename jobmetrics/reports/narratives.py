"""Narrative blocks: text about a page's named results, written by the narrative engine
(jobmetrics.ai.narratives: Claude's words with every figure written from the data, a cache, or
the offline summary). One Narrator serves a whole site build."""

from __future__ import annotations

from jobmetrics.ai.narratives import Narrative, Narrator
from jobmetrics.warehouse.results import QueryResult

__all__ = ["Narrative", "Narrator", "write"]


def write(
    narrator: Narrator, topic: str, results: dict[str, QueryResult], *, ai: bool = True
) -> Narrative:
    """The narrative about `results` (query name → rows), from the engine; `ai=False` (a
    filtered view of a page) writes the automatic summary without calling the API."""
    records = {name: result.records() for name, result in results.items()}
    return narrator.write(topic, records, ai=ai)
