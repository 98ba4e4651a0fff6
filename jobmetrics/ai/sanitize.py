"""What a model reply may contain before it is cached, rendered on a page or printed.

A reply is plain prose with **bold** or *italic* at most: no images, no links (Markdown, HTML or
bare URLs), no raw HTML, no code spans or fences, no control characters (terminal escape
sequences), no bidirectional overrides or invisible characters. `problems(text)` names what a
reply breaks; a reply with any problem is withheld, never cleaned and shown.
`for_terminal(text)` makes any text (a query's cells, an error) safe to print.
"""

from __future__ import annotations

import re
import unicodedata

_CHECKS: list[tuple[str, re.Pattern[str]]] = [
    ("an image", re.compile(r"!\[")),
    ("a link", re.compile(r"\]\s*[(\[]|\[[^\]]*\]:")),
    ("a URL", re.compile(r"(?i)\b(?:https?|ftp|file|data|javascript|mailto):|\bwww\.")),
    ("raw HTML", re.compile(r"<\s*/?\s*[A-Za-z!?][^>]*>|&#?\w+;")),
    ("an autolink", re.compile(r"<[^>\s]+[@:][^>\s]*>")),
    ("code", re.compile(r"`|^ {4,}\S", re.MULTILINE)),
    ("a heading", re.compile(r"^\s{0,3}#{1,6}\s", re.MULTILINE)),
]
_INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}
"""Unicode categories that never belong in a reply (controls, format, private, unassigned)."""


def _control_characters(text: str) -> list[str]:
    found = []
    for char in text:
        if char in "\n\t":
            continue
        if unicodedata.category(char) in _INVISIBLE:
            found.append(f"U+{ord(char):04X}")
    return list(dict.fromkeys(found))


def problems(text: str) -> list[str]:
    """What in `text` may not reach a page or a terminal (empty when it is safe)."""
    found = [f"contains {what}" for what, pattern in _CHECKS if pattern.search(text)]
    controls = _control_characters(text)
    if controls:
        found.append("contains control or invisible characters (" + ", ".join(controls[:5]) + ")")
    return found


def for_terminal(value: object, *, limit: int = 200) -> str:
    """`value` as text safe for a terminal: control characters shown as \\xNN, at most `limit`
    characters (the rest replaced by an ellipsis and the count left out)."""
    text = str(value)
    cleaned = "".join(
        char
        if char == "\n" or unicodedata.category(char) not in _INVISIBLE
        else f"\\x{ord(char):02x}"
        if ord(char) < 0x100
        else f"\\u{ord(char):04x}"
        for char in text
    )
    if len(cleaned) > limit:
        return f"{cleaned[:limit]}… ({len(cleaned) - limit:,} more characters)"
    return cleaned
