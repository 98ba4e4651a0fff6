"""Narrative blocks on a built page: what Claude's words can and cannot put on the page."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ai"))
from fake_anthropic import FakeApi, fake_api_settings, tool_reply  # noqa: E402

from jobmetrics.ai.narratives import Narrator  # noqa: E402
from jobmetrics.core import settings as settings_module  # noqa: E402

PAGE = """# Growth
```sql months
select month, ending_mrr, paying_customers from fct_mrr_monthly order by month
```
<Narrative data="months" topic="MRR growth" />
"""


@pytest.fixture
def ai_settings(tmp_path: Path) -> settings_module.Settings:
    return replace(fake_api_settings(tmp_path), ai_max_retries=0)


def _aside(html: str) -> str:
    start = html.index('<aside class="jm-narrative"')
    return html[start : html.index("</aside>", start)]


def test_claudes_words_with_figures_from_the_warehouse(build, ai_settings):
    # tiny warehouse: Dec 2025 ending MRR 2,100.06 (up from 2,000.05), 21 paying customers
    reply = {
        "summary": "MRR rose to {{f1}} in {{p1}} with {{f5}} paying customers.",
        "drivers": [],
        "actions": ["Keep the paying customers growing."],
    }
    api = FakeApi([tool_reply("write_narrative", reply)])
    result = build(
        {"index.md": PAGE}, narrator=Narrator(ai_settings, http_client_factory=api.factory)
    )
    html = (result.out_dir / "index.html").read_text()
    aside = _aside(html)
    assert "<p>MRR rose to $2,100.06 in Dec 2025 with 21 paying customers.</p>" in aside
    assert 'data-source="claude"' in aside
    assert "2 figures and 1 period written from the data" in aside


@pytest.mark.parametrize(
    "summary",
    [
        "MRR rose to {{f1}} ![x](https://evil.test/pixel.png)",
        'MRR rose to {{f1}} <img src="https://evil.test/p.png" title="EVIL">',
        "MRR rose to {{f1}}, EVIL says `9,999`.",
        "MRR fell to {{f1}}, EVIL.",
    ],
    ids=["markdown-image", "html", "code-span", "wrong-direction"],
)
def test_withheld_text_never_reaches_the_page_in_any_form(build, ai_settings, summary):
    reply = {"summary": summary, "drivers": [], "actions": ["Act."]}
    api = FakeApi([tool_reply("write_narrative", reply)])
    result = build(
        {"index.md": PAGE}, narrator=Narrator(ai_settings, http_client_factory=api.factory)
    )
    html = (result.out_dir / "index.html").read_text()
    for marker in ("evil", "EVIL", "9,999", "pixel"):
        assert marker not in html  # not in the text, a title, an attribute or a comment
    aside = _aside(html)
    assert 'data-source="withheld"' in aside and "automatic summary shown" in aside
    assert "$2,100.06" in aside  # the automatic summary, from the data
    # a second build (served from the cache) neither fails nor shows it
    again = build({"index.md": PAGE}, narrator=Narrator(ai_settings))
    assert "evil" not in (again.out_dir / "index.html").read_text().lower()
