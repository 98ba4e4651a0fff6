"""Deep links to a page's sections: every h2 and h3 gets a stable id made from its text, unique on
the page, and a "#" link that shows on hover and keyboard focus.

    <h2>MRR trend</h2>  →  <h2 id="mrr-trend">MRR trend<a class="jm-anchor" href="#mrr-trend"
                            aria-label="Link to this section: MRR trend">#</a></h2>
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

_HEADING = re.compile(r"<(h[23])((?:\s[^>]*)?)>(.*?)</\1>", re.S | re.I)
_ID = re.compile(r"""\sid\s*=\s*["']([^"']*)["']""", re.I)
_TAG = re.compile(r"<[^>]+>")
# Ids the site itself uses (page data, sidebar, charts): a heading never takes one of them.
_RESERVED = re.compile(r"jm-.*|chart-\d+|alerts-\d+|table-\d+")


def slug(text: str) -> str:
    """Lower-case words joined by hyphens, ASCII only: "Paid channels: CAC, LTV:CAC" →
    "paid-channels-cac-ltv-cac"; "section" when nothing is left."""
    plain = unicodedata.normalize("NFKD", html.unescape(_TAG.sub("", text)))
    ascii_text = plain.encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    return "-".join(words) or "section"


def _ids_in(fragments: Iterable[str]) -> set[str]:
    return {match.group(1) for fragment in fragments for match in _ID.finditer(fragment)}


def add_anchors(fragment: str, earlier: Iterable[str] = ()) -> str:
    """Give each h2/h3 of an HTML fragment an id and a link to itself; ids already used in the
    fragment or in `earlier` fragments of the same page are not reused (a second "By month"
    becomes "by-month-2"). A heading that has an id keeps it."""
    taken = _ids_in([fragment, *earlier])

    def anchor(match: re.Match[str]) -> str:
        tag, attributes, inner = match.group(1), match.group(2), match.group(3)
        if _ID.search(attributes):
            return match.group(0)
        base = slug(inner)
        if _RESERVED.fullmatch(base):
            base = f"section-{base}"
        candidate, number = base, 1
        while candidate in taken:
            number += 1
            candidate = f"{base}-{number}"
        taken.add(candidate)
        label = html.escape(html.unescape(_TAG.sub("", inner)).strip(), quote=True)
        link = (
            f'<a class="jm-anchor" href="#{candidate}" '
            f'aria-label="Link to this section: {label}">#</a>'
        )
        return f'<{tag}{attributes} id="{candidate}">{inner}{link}</{tag}>'

    return _HEADING.sub(anchor, fragment)
