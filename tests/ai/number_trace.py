"""A test helper: every number in a text must be in the facts, or a rounding of one.

The product no longer reads numbers out of model text (jobmetrics.ai.claims: figures come by
reference); the tests use this to hold the offline summary, which prints numbers itself, to the
facts it was written from.


A written number is grounded when some number in the facts, shown at the written precision and
scale, gives it: 12,345.67 → "$12.3k", "$12,346" or "$12,000"; 0.0523 → "5.2%" or "5%";
a change of -0.0291 → "down 2.9%". Percentages are compared with facts × 100 (rates are
fractions) and with the facts as they are (scores already on a 0-100 scale). Dates, years,
list markers and identifiers such as p95 are not figures; bare integers up to
SMALL_INTEGER_LIMIT ("three actions", "top 3") are allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SMALL_INTEGER_LIMIT = 10

_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
# Dates and periods are not figures: removed before numbers are read.
_NOT_FIGURES = [
    re.compile(r"\b\d{4}-\d{2}(?:-\d{2})?(?:[ T]\d{2}:\d{2}(?::\d{2})?)?\b"),
    re.compile(rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.IGNORECASE),
    re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?,?\s+\d{{4}}\b", re.IGNORECASE),
    re.compile(rf"\b(?:{_MONTHS})\.?\s+\d{{4}}\b", re.IGNORECASE),
    re.compile(rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b", re.IGNORECASE),
    re.compile(r"\bQ[1-4]\s*\d{4}\b", re.IGNORECASE),
    re.compile(r"\b\d+-(?:day|week|month|quarter|year)\b", re.IGNORECASE),  # "30-day churn"
    re.compile(r"^\s*(?:\d+[.)]|[-*])\s+", re.MULTILINE),  # list markers
    re.compile(r"`[^`]*`"),  # code spans: column names, SQL
]

_NUMBER = re.compile(
    r"""
    (?<![\w.])                                   # not part of an identifier like p95 or v2.1
    (?P<sign>[-−+])?
    (?P<currency>\$|USD\s?)?
    (?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?:\s?(?P<scale>[kKmMbB]|thousand|million|billion)(?![A-Za-z]))?
    (?:\s?(?P<unit>%|percent(?:age\ points?)?|pts?\b|points?\b|pp\b|×|x(?![A-Za-z])|ms\b))?
    (?![\w])                                     # nor followed by letters (3rd, 7d)
    """,
    re.VERBOSE,
)
_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9}


@dataclass(frozen=True)
class Written:
    """One number as the model wrote it."""

    text: str
    value: float
    tolerance: float
    percent: bool


@dataclass
class Grounding:
    """The outcome of a check: which written numbers could not be traced to the facts."""

    checked: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unverified


def _strip_non_figures(text: str) -> str:
    for pattern in _NOT_FIGURES:
        text = pattern.sub(" ", text)
    return text


def _is_year(match: re.Match[str]) -> bool:
    return (
        not match["currency"]
        and not match["unit"]
        and not match["scale"]
        and re.fullmatch(r"(19|20)\d{2}", match["digits"]) is not None
    )


def written_numbers(text: str) -> list[Written]:
    """Every figure in `text`, with the tolerance its written precision implies."""
    found: list[Written] = []
    for match in _NUMBER.finditer(_strip_non_figures(text)):
        if _is_year(match):
            continue
        digits = match["digits"].replace(",", "")
        decimals = len(digits.split(".", 1)[1]) if "." in digits else 0
        scale = _SCALES.get((match["scale"] or "").lower(), 1.0)
        sign = -1.0 if match["sign"] in ("-", "−") else 1.0
        value = sign * float(digits) * scale
        step = 10.0**-decimals
        if decimals == 0 and scale == 1.0:
            # "12,000" is 12,345 rounded to thousands; "1,000" (one significant digit) is exact
            stripped = digits.rstrip("0")
            zeros = len(digits) - len(stripped)
            if zeros and len(stripped) >= 2:
                step = 10.0**zeros
        unit = (match["unit"] or "").lower()
        percent = unit.startswith(("%", "percent", "pt", "point", "pp"))
        found.append(
            Written(
                text=match.group(0).strip(),
                value=value,
                tolerance=step * scale / 2 + 1e-9 * max(1.0, abs(value)),
                percent=percent,
            )
        )
    return found


def fact_numbers(facts: Any) -> list[float]:
    """Every number in a facts payload, including numbers inside its strings."""
    numbers: list[float] = []

    def visit(node: Any) -> None:
        if isinstance(node, bool) or node is None:
            return
        if isinstance(node, int | float):
            if not (isinstance(node, float) and (math.isnan(node) or math.isinf(node))):
                numbers.append(float(node))
        elif isinstance(node, str):
            numbers.extend(written.value for written in written_numbers(node))
        elif isinstance(node, dict):
            for value in node.values():
                visit(value)
        elif isinstance(node, list | tuple):
            for value in node:
                visit(value)

    visit(facts)
    return numbers


def _candidates(facts_numbers: Iterable[float], percent: bool) -> list[float]:
    values: set[float] = set()
    for number in facts_numbers:
        for candidate in (number, -number):
            values.add(candidate)
            if percent:
                values.add(candidate * 100)
    return sorted(values)


def is_grounded(written: Written, facts_numbers: list[float]) -> bool:
    """Whether `written` is a rounding of some number in the facts (sign may be dropped)."""
    small = written.value == int(written.value) and 0 <= written.value <= SMALL_INTEGER_LIMIT
    if small and not written.percent:
        return True
    targets = (written.value, abs(written.value))
    return any(
        abs(candidate - target) <= written.tolerance
        for candidate in _candidates(facts_numbers, written.percent)
        for target in targets
    )


def check(text: str, facts: Any) -> Grounding:
    """Check every number in `text` against the numbers in `facts`."""
    numbers = fact_numbers(facts)
    outcome = Grounding()
    for written in written_numbers(text):
        outcome.checked.append(written.text)
        if not is_grounded(written, numbers):
            outcome.unverified.append(written.text)
    outcome.unverified = list(dict.fromkeys(outcome.unverified))
    return outcome
