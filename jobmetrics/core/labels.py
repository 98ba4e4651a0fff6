"""Display labels: the one registry for column names AND category values (paid_search, job_seeker,
never_scanned), shared by the report components, the charts, the narratives and the inputs."""

from __future__ import annotations

import functools
import re

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


_LABELS = {
    "ltv_to_cac": "LTV:CAC",
    "dau": "DAU",
    "wau": "WAU",
    "mau": "MAU",
    "date_day": "Date",
    "at_risk_score": "At-risk score",
    "tenure_months": "Tenure (months)",
    "scans_last_30_days": "Scans, last 30 days",
    "scans_previous_30_days": "Scans, 30 days before",
    "resume_format": "Résumé format",
    "keywords_band": "Keywords extracted",
}

# Countries as the data carries them (ISO 3166-1 alpha-2, raw_users.country) → their names; a
# code not listed here shows as the code.
_COUNTRIES = {
    "AU": "Australia",
    "BR": "Brazil",
    "CA": "Canada",
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "IN": "India",
    "IT": "Italy",
    "KE": "Kenya",
    "MX": "Mexico",
    "NG": "Nigeria",
    "NL": "Netherlands",
    "PH": "Philippines",
    "PL": "Poland",
    "SE": "Sweden",
    "SG": "Singapore",
    "US": "United States",
    "ZA": "South Africa",
}

# A name a person did not write for reading: lower case, digits and underscores only.
_IDENTIFIER = re.compile(r"[a-z0-9]+(?:_+[a-z0-9]+)*")


def is_identifier(text: str) -> bool:
    """True for a raw name such as paid_search or logo_churn_rate (what a reader must not see)."""
    return bool(_IDENTIFIER.fullmatch(text))


def humanize(name: object) -> str:
    """A column name or a category value as a label: ending_mrr → Ending MRR, cac_usd → CAC,
    p95_processing_ms → p95 processing time, ltv_to_cac → LTV:CAC, paid_search → Paid search,
    GB → United Kingdom.
    Text that is not a raw name (a label, "Dec 2025", "5-10") is returned unchanged, so any
    value can be passed."""
    return _label(str(name))


@functools.lru_cache(maxsize=4096)
def _label(column: str) -> str:
    # Cached: a site build asks for the same few hundred labels about 57,000 times.
    if column in _LABELS:
        return _LABELS[column]
    if column in _COUNTRIES:
        return _COUNTRIES[column]
    if not is_identifier(column):
        return column
    parts = [word for word in column.split("_") if word]
    if len(parts) > 1 and parts[-1] == "usd":
        parts = parts[:-1]  # the format shows the currency
    elif len(parts) > 1 and parts[-1] == "ms":
        parts[-1] = "time"  # the format shows the unit: p95_processing_ms → p95 processing time
    words = [_ACRONYMS.get(word, word) for word in parts]
    if words and words[0] == words[0].lower() and words[0] not in _ACRONYMS.values():
        words[0] = words[0].capitalize()
    return " ".join(words)


_RAW_NAME_IN_TEXT = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def readable(text: str) -> str:
    """A sentence with the raw names in it shown by their labels, lower-cased where a word is:
    "equals new_customers" → "equals new customers", "of ending_mrr" → "of ending MRR"."""

    def label(match: re.Match[str]) -> str:
        words = humanize(match.group(0))
        return words[:1].lower() + words[1:] if words[1:2].islower() else words

    return _RAW_NAME_IN_TEXT.sub(label, text)
