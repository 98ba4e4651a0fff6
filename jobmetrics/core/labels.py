"""Display labels of column names, shared by the report components and the narratives."""

from __future__ import annotations

_ACRONYMS = {
    "mrr": "MRR",
    "arr": "ARR",
    "arpu": "ARPU",
    "cac": "CAC",
    "ltv": "LTV",
    "nrr": "NRR",
    "grr": "GRR",
    "usd": "USD",
    "dau": "DAU",
    "wau": "WAU",
    "mau": "MAU",
    "ms": "ms",
    "p50": "p50",
    "p95": "p95",
    "p99": "p99",
    "id": "ID",
    "to": "to",
    "pct": "%",
}


_LABELS = {"ltv_to_cac": "LTV:CAC", "dau": "DAU", "wau": "WAU", "mau": "MAU"}


def humanize(column: str) -> str:
    """A column name as a label: ending_mrr → Ending MRR, cac_usd → CAC, ltv_to_cac → LTV:CAC."""
    if column in _LABELS:
        return _LABELS[column]
    parts = [word for word in column.split("_") if word]
    if len(parts) > 1 and parts[-1] == "usd":
        parts = parts[:-1]  # the format shows the currency
    words = [_ACRONYMS.get(word, word) for word in parts]
    if words and words[0] == words[0].lower() and words[0] not in _ACRONYMS.values():
        words[0] = words[0].capitalize()
    return " ".join(words)
