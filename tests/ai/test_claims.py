"""Claim-level grounding of narratives, one test per attack, through the real SDK on a fake API.

Each attack is a reply that an old "is this number somewhere in the facts" check let through.
The expectation is what the user sees: the block is withheld, the automatic summary is shown, the
label says why in our words, and nothing of the withheld text reaches the block.
"""

from __future__ import annotations

import json

import pytest
from fake_anthropic import FakeApi, tool_reply
from test_narratives import GOOD, _offline, _write

from jobmetrics.ai import narratives
from jobmetrics.ai.claims import NUMBER_WORDS, VOCABULARY, Fact, Mentions, render_checked


def _reply(summary: str) -> dict:
    return {"summary": summary, "drivers": [], "actions": ["Review the figures."]}


ATTACKS = {
    # a figure hidden in a code span (it used to be exempt)
    "hidden-figure": (_reply("MRR reached {{f1}} (`12,999`)."), "unsafe content"),
    # a year-like integer (it used to be taken for a year)
    "year-like": (_reply("MRR reached {{f1}}, best since 2019."), "a figure typed by the model"),
    # the right number under the wrong metric
    "arr-as-mrr": (_reply("ARR reached {{f1}}."), "its words disagree with the data"),
    "mrr-as-customers": (_reply("We now have {{f1}} new customers."), "its words disagree"),
    # a direction the data contradicts: MRR rose 2.9 %
    "wrong-direction": (_reply("MRR fell {{f4}} to {{f1}}."), "its words disagree"),
    # claims in words
    "doubled": (_reply("MRR doubled to {{f1}}."), "its words disagree"),
    "cut-in-half": (_reply("New customers were cut in half to {{f5}}."), "its words disagree"),
    "ten-x": (_reply("MRR is up 10x at {{f1}}."), "a figure typed by the model"),
    "twelve": (_reply("MRR reached {{f1}} after twelve months."), "a figure typed by the model"),
    # better/worse judged against the registry: logo churn rose, which is worse
    "churn-better": (_reply("Logo churn improved to {{f9}}."), "its words disagree"),
    # a record the other way: Oct's MRR is the highest of the series
    "record-low": (_reply("MRR hit a record low of {{f1}}."), "its words disagree"),
    # the endpoints of a change swapped: f2 is September's (earlier) MRR, f1 October's
    "to-previous": (_reply("MRR saw an increase of {{f4}} to {{f2}}."), "its words disagree"),
    "from-latest": (_reply("MRR rose from {{f1}} to {{f2}}."), "its words disagree"),
    # a change quoted without saying which way
    "no-direction": (_reply("MRR changed by {{f4}}."), "its words disagree"),
    # a month that is not the figure's
    "wrong-month": (_reply("MRR reached {{f1}} in July."), "its words disagree"),
    "unknown-id": (_reply("MRR reached {{f99}}."), "its words disagree"),
    # content that must never reach a page or a terminal
    "image": (_reply("MRR {{f1}} ![up](https://evil.test/p.png)"), "unsafe content"),
    "link": (_reply("MRR {{f1}}, see [more](https://evil.test)."), "unsafe content"),
    "html": (_reply("MRR {{f1}} <script>alert(document.cookie)</script>"), "unsafe content"),
    "escape": (_reply("MRR reached {{f1}}\x1b]8;;https://evil.test\x07."), "unsafe content"),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_is_withheld_and_nothing_of_it_is_shown(ai_settings, name):
    reply, kind = ATTACKS[name]
    api = FakeApi([tool_reply("write_narrative", reply), tool_reply("write_narrative", reply)])
    narrative = _write(ai_settings, api)
    assert len(api.requests) == 2  # one retry naming the problems, then withheld
    assert narrative.source == "withheld"
    assert narrative.text == _offline()
    assert narrative.label.startswith("Claude narrative withheld (")
    assert kind in narrative.label
    shown = narrative.text + narrative.label + narrative.detail
    for marker in ("evil", "script", "12,999", "2019", "10x", "twelve", "ARR", "\x1b"):
        assert marker not in shown
    # not cached as good: a rebuild does not show it either
    again = _write(ai_settings, FakeApi([tool_reply("write_narrative", GOOD)]))
    assert again.source == "withheld"


def test_the_same_words_pass_when_the_data_agrees(ai_settings):
    """The checks withhold for the data's sake, not for the words: each passes when true."""
    reply = {
        "summary": "MRR rose {{f4}} to a record high of {{f1}} after an increase of {{f3}}; "
        "logo churn worsened to {{f9}}.",
        "drivers": ["Likely more sign ups: new customers grew {{f8}} to {{f5}} in October."],
        "actions": ["Lower logo churn from {{f9}}, which is up {{f11}}."],
    }
    narrative = _write(ai_settings, FakeApi([tool_reply("write_narrative", reply)]))
    assert narrative.source == "claude", narrative.detail
    assert narrative.text.startswith(
        "MRR rose 2.9% to a record high of $12,345.67 after an increase of $345.67; "
        "logo churn worsened to 5.2%."
    )


def test_a_poisoned_cache_entry_is_checked_again_and_never_breaks_a_build(ai_settings):
    _write(ai_settings, FakeApi([tool_reply("write_narrative", GOOD)]))
    path = ai_settings.data_dir / narratives.CACHE_FILE
    cache = json.loads(path.read_text())
    (key,) = cache
    cache[key]["reply"]["summary"] = "MRR {{f1}} ![x](https://evil.test/x.png)"
    path.write_text(json.dumps(cache))
    api = FakeApi([tool_reply("write_narrative", GOOD)])
    narrative = _write(ai_settings, api)
    assert len(api.requests) == 1  # the bad entry was dropped and asked for again
    assert narrative.source == "claude" and "evil" not in narrative.text
    assert "evil" not in path.read_text()


def test_vocabulary_words_are_checked_and_number_words_are_refused():
    facts = {
        "up": Fact(
            id="up",
            display="$2.00",
            metric="mrr",
            label="MRR",
            direction=1,
            ratio=2.0,
            assessment="better",
            record="high",
            aliases=("mrr",),
        ),
        "down": Fact(
            id="down",
            display="$1.00",
            metric="mrr",
            label="MRR",
            direction=-1,
            ratio=0.5,
            assessment="worse",
            record="low",
            aliases=("mrr",),
        ),
    }
    mentions = Mentions([("mrr",)])
    for word, entry in VOCABULARY.items():
        if word == "half":
            continue  # only "cut in half" claims a size; tested above
        passing = [
            fact_id
            for fact_id in facts
            if render_checked(f"MRR {word} {{{{{fact_id}}}}}", facts, mentions).ok
        ]
        expected = []
        for fact_id, fact in facts.items():
            wanted_direction = entry.get("direction")
            ok = wanted_direction is None or wanted_direction == fact.direction
            ok = ok and entry.get("assessment") in (None, fact.assessment)
            if "ratio" in entry:
                low, high = entry["ratio"]
                ok = ok and low <= fact.ratio <= high
            expected.append(fact_id) if ok else None
        assert passing == expected, word
    for word in sorted(NUMBER_WORDS):
        assert not render_checked(f"MRR reached {{{{up}}}}, {word}.", facts, mentions).ok, word
    assert render_checked("Customers sign up and follow up: {{up}} MRR.", facts, mentions).ok
