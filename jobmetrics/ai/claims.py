"""Claim-level grounding: the model writes words, the data writes numbers.

Facts sent to the model carry ids. The model refers to them as `{{f12}}` (narratives) or
`{{r3.ending_mrr}}` (`ask`: row 3, column ending_mrr) and never types a figure itself; the
renderer writes each reference from the warehouse value in the metric's display format.
`render_checked` withholds a text when:
- the model typed any digit or number character outside a reference (no exemptions: not in code
  spans, not year-like, not in links or headings), a number word ("twelve", "dozen", "tenfold")
  or a percent sign;
- it refers to an id that is not a fact;
- a change word (VOCABULARY: "rose", "fell", "doubled", "halved", "better", "record", ...)
  disagrees with the sign, size or assessment of the figure it sits next to, or has no figure;
- a metric named next to a reference is not the referenced metric (ARR quoted as MRR, ARPU
  quoted as a customer count);
- a month named next to a reference is not the referenced period (a value from the wrong row);
- a target word disagrees with the target it sits next to: "on track", "met" on a figure off
  track (fct_metric_targets.is_on_track), "off track", "missed", "short of" on one on track,
  "above" / "exceeds" / "below" a target fact when the value is on the other side of it, or a
  target word next to no figure with a target.

A word belongs to the nearest reference in its clause (after it first: "rose {{f2}}",
"{{f3}} new customers"), clauses being split at , ; : and sentence ends.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

REFERENCE = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_.]*)\s*\}\}")
"""`{{f12}}` or `{{r3.ending_mrr}}`: a fact reference."""


def _words(text: str) -> list[str]:
    return text.split()


# One place for the vocabulary of change words, with what each asserts about the figure.
# direction: +1 (rose), -1 (fell), 0 (flat); ratio: (low, high) bounds on value / previous;
# assessment: "better" or "worse" (the registry's down_is_good decides which way is good);
# record: the latest value is the highest ("high") or lowest ("low") of the series.
VOCABULARY: dict[str, dict[str, Any]] = {
    **{
        word: {"direction": 1}
        for word in _words(
            "rose risen rise rises rising grew grown grows growing increase increased increases "
            "increasing climbed climbing jump jumped gain gains gained up higher surged soared "
            "accelerated"
        )
    },
    **{
        word: {"direction": -1}
        for word in _words(
            "fell fall fallen falls falling drop dropped drops dropping decline declined declines "
            "declining decrease decreased decreases decreasing shrank shrunk slipped dip dipped "
            "down lower plunged slowed eased"
        )
    },
    **{word: {"direction": 0} for word in _words("flat unchanged stable steady")},
    **{
        word: {"assessment": "better"}
        for word in _words("better improved improving improvement healthier")
    },
    **{
        word: {"assessment": "worse"}
        for word in _words("worse worsened worsening deteriorated deteriorating")
    },
    "doubled": {"direction": 1, "ratio": (1.9, 2.1)},
    "twice": {"direction": 1, "ratio": (1.9, 2.1)},
    "tripled": {"direction": 1, "ratio": (2.85, 3.15)},
    "quadrupled": {"direction": 1, "ratio": (3.8, 4.2)},
    "halved": {"direction": -1, "ratio": (0.45, 0.55)},
    "half": {"direction": -1, "ratio": (0.45, 0.55)},
    "record": {"record": True},
}
_DIRECTION_WORDS = frozenset(word for word, entry in VOCABULARY.items() if "direction" in entry)

# Words that judge a figure against its target (seeds/metric_targets.csv): on_track is what
# they claim about fct_metric_targets.is_on_track; side is where the value lies against the
# target ("above" the target: +1), checked only next to a target fact. "track" counts only
# after "on" / "off" (see _target_claim).
TARGET_VOCABULARY: dict[str, dict[str, Any]] = {
    **{word: {"on_track": True} for word in _words("met meets")},
    **{word: {"on_track": False} for word in _words("missed misses")},
    **{word: {"side": 1} for word in _words("above exceeds exceeded exceeding")},
    **{word: {"side": -1} for word in _words("below")},
}
# Words that judge a figure against its target only in a clause that names a target ("beat the
# target", "within target", "under the goal", "short of the target"): elsewhere they mean other
# things ("beat last month", "within a week").
TARGET_CONTEXT_VOCABULARY: dict[str, dict[str, Any]] = {
    **{word: {"on_track": True} for word in _words("beat beats beating within")},
    **{word: {"on_track": False} for word in _words("short")},
    **{word: {"side": 1} for word in _words("over")},
    **{word: {"side": -1} for word in _words("under")},
}
_TARGET_NOUNS = frozenset(_words("target targets goal goals"))
# "up"/"down" in phrasal verbs say nothing about a figure ("sign up", "follow up", "drill down").
_PHRASAL = {
    "up": set(
        _words(
            "sign signs signed signing follow set pick back look break warm speed scale ramp free "
            "line end show shows showed mop clean open top catch"
        )
    ),
    "down": set(_words("drill break narrow shut track cut slow step write")),
}
_MORE_THAN = re.compile(r"\bmore\s+than\s*$", re.IGNORECASE)

# Numbers in words are figures the model typed; "one" is left out (a pronoun as often as not).
NUMBER_WORDS = frozenset(
    _words(
        "zero two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
        "eighty ninety hundred hundreds thousand thousands million millions billion billions "
        "dozen dozens thrice percent percentage"
    )
)
_NUMBER_WORD = re.compile(r"\b[a-z]+fold\b|\b(" + "|".join(sorted(NUMBER_WORDS)) + r")\b")

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH = re.compile(r"\b(" + "|".join(MONTH_NAMES) + r")\b")

# Metric synonyms the labels do not spell out (acronyms both ways).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "mrr": ("monthly recurring revenue",),
    "arr": ("annual recurring revenue", "annualized run rate", "run rate"),
    "cac": ("customer acquisition cost", "acquisition cost"),
    "ltv": ("lifetime value", "customer lifetime value"),
    "nrr": ("net revenue retention",),
    "grr": ("gross revenue retention",),
    "daily active users": ("dau",),
    "monthly active users": ("mau",),
    "weekly active users": ("wau",),
}

_CLAUSE_BREAK = re.compile(r"[,;:!?]|\.(?=\s|$)|\n|\s[–—-]\s|\bwhile\b|\bwhereas\b|\bbut\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_PLACEHOLDER = "\ue000"


@dataclass(frozen=True)
class Fact:
    """One figure (or period) the model may refer to, and what it is."""

    id: str
    display: str
    """The text the renderer writes for the reference."""
    kind: str = "value"
    """value, previous, change, change_pct, period or cell."""
    metric: str = ""
    label: str = ""
    period: str | None = None
    """ISO date of the period the figure is for (first day of a month for monthly figures)."""
    other_period: str | None = None
    """For a change: the period it is measured from."""
    key: dict[str, str] = field(default_factory=dict)
    """Dimension values (channel=organic) of a breakdown figure."""
    direction: int | None = None
    """Sign of the figure's change against the previous period (+1, -1, 0), None if unknown."""
    ratio: float | None = None
    """value / previous of the figure, None if unknown."""
    assessment: str | None = None
    """"better" / "worse" per the registry's down_is_good, None if the metric has no good way."""
    record: str | None = None
    """"high" / "low" when the latest value is the extreme of the series given."""
    aliases: tuple[str, ...] = ()
    """Names of the metric (label, column, synonyms) in lower case."""
    row_label: str = ""
    """`ask`: the row a cell is in (e.g. its month), written after the value unless named."""
    on_track: bool | None = None
    """For a figure with a target and its target fact: fct_metric_targets' is_on_track."""
    target_side: int | None = None
    """For a figure with a target and its target fact: where the value lies against the target
    (+1 above, -1 below, 0 on it)."""

    def describe(self) -> dict[str, Any]:
        """What the model is told about the fact."""
        described: dict[str, Any] = {"id": self.id, "kind": self.kind, "shows": self.display}
        for name in ("label", "period", "other_period", "assessment", "record"):
            value = getattr(self, name)
            if value:
                described[name if name != "other_period" else "compared_with"] = value
        if self.key:
            described["for"] = self.key
        if self.direction is not None:
            described["direction"] = {1: "up", -1: "down", 0: "unchanged"}[self.direction]
        if self.on_track is not None:
            described["against_target"] = "on track" if self.on_track else "off track"
        if self.target_side is not None:
            described["value_is"] = {1: "above", -1: "below", 0: "at"}[self.target_side]
        return described


def aliases_for(*names: str) -> tuple[str, ...]:
    """Lower-case names of a metric: its label, column name and their synonyms."""
    found: list[str] = []
    for name in names:
        if not name:
            continue
        phrase = " ".join(name.replace("_", " ").lower().split())
        found.append(phrase)
        for key, synonyms in SYNONYMS.items():
            if re.search(rf"\b{re.escape(key)}\b", phrase):
                found.extend(synonyms)
            if phrase in synonyms:
                found.append(key)
    return tuple(dict.fromkeys(found))


def _stem(word: str) -> str:
    word = word.lower().strip("'")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _tokens(phrase: str) -> tuple[str, ...]:
    return tuple(_stem(word) for word in _WORD.findall(phrase))


_NOT_HEADS = frozenset(_words("start end month day week year period total value"))
"""Last words of labels that do not name a metric on their own ("at the start")."""


class Mentions:
    """The metric names a text can use: every fact's aliases, their head nouns and the acronyms
    of SYNONYMS (so "ARR" is read as a metric name even on a page without ARR)."""

    def __init__(self, alias_groups: Iterable[Iterable[str]]) -> None:
        phrases: set[tuple[str, ...]] = set()
        known = [(key, *synonyms) for key, synonyms in SYNONYMS.items()] + [("arpu",)]
        for aliases in [*alias_groups, *known]:
            for alias in aliases:
                tokens = _tokens(alias)
                if tokens:
                    phrases.add(tokens)
                    if len(tokens) > 1 and len(tokens[-1]) > 2 and tokens[-1] not in _NOT_HEADS:
                        phrases.add(tokens[-1:])  # "customers" of "new customers"
        self.phrases = sorted(phrases, key=len, reverse=True)

    def find(self, words: list[str]) -> list[tuple[int, tuple[str, ...]]]:
        """(word index, phrase) of each metric name in `words`, longest match first."""
        stems = [_stem(word) for word in words]
        found = []
        index = 0
        while index < len(stems):
            for phrase in self.phrases:
                if tuple(stems[index : index + len(phrase)]) == phrase:
                    found.append((index, phrase))
                    index += len(phrase)
                    break
            else:
                index += 1
        return found


def _compatible(phrase: tuple[str, ...], fact: Fact) -> bool:
    """Whether a metric name can describe the fact ("MRR" fits "new MRR"; "ARR" does not)."""
    if not fact.aliases:
        return True
    for alias in fact.aliases:
        tokens = _tokens(alias)
        if tokens and set(phrase) <= set(tokens) and phrase[-1] == tokens[-1]:
            return True
    return False


@dataclass
class Checked:
    """The outcome of checking one text: the rendered text, or the problems that withhold it."""

    text: str = ""
    problems: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    change_words: int = 0
    metric_names: int = 0
    months: int = 0
    target_words: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def merge(self, other: Checked) -> None:
        self.problems += [p for p in other.problems if p not in self.problems]
        self.references += other.references
        self.change_words += other.change_words
        self.metric_names += other.metric_names
        self.months += other.months
        self.target_words += other.target_words


def typed_figures(text: str) -> list[str]:
    """Digits, number characters, number words and % signs outside fact references."""
    bare = REFERENCE.sub(" ", text)
    found = [char for char in bare if unicodedata.numeric(char, None) is not None or char == "%"]
    found += [match.group(0) for match in _NUMBER_WORD.finditer(bare.lower())]
    return list(dict.fromkeys(found))


def _month_of(period: str | None) -> str | None:
    if not period or len(period) < 7 or period[4] != "-":
        return None
    try:
        return MONTH_NAMES[int(period[5:7]) - 1]
    except (ValueError, IndexError):
        return None


@dataclass
class _Token:
    kind: str  # "word" or "ref"
    text: str
    fact: Fact | None = None


def _clauses(text: str, facts: dict[str, Fact], result: Checked) -> list[list[_Token]]:
    """The text cut into clauses of word and reference tokens (unknown ids are problems)."""
    refs: list[str] = []

    def hold(match: re.Match[str]) -> str:
        refs.append(match.group(1))
        return f" {_PLACEHOLDER}{len(refs) - 1}{_PLACEHOLDER} "

    held = REFERENCE.sub(hold, text)
    clauses: list[list[_Token]] = []
    for part in _CLAUSE_BREAK.split(held):
        tokens: list[_Token] = []
        for piece in re.findall(rf"{_PLACEHOLDER}\d+{_PLACEHOLDER}|[A-Za-z][A-Za-z'-]*", part):
            if piece.startswith(_PLACEHOLDER):
                fact_id = refs[int(piece.strip(_PLACEHOLDER))]
                fact = facts.get(fact_id)
                if fact is None:
                    result.problems.append(f"refers to {fact_id}, which is not a fact")
                    continue
                result.references.append(fact_id)
                tokens.append(_Token("ref", fact_id, fact))
            else:
                tokens.append(_Token("word", piece))
        if tokens:
            clauses.append(tokens)
    return clauses


def _nearest_ref(clause: list[_Token], index: int) -> Fact | None:
    """The reference a word at `index` belongs to: the next one in its clause, else the last."""
    for token in clause[index + 1 :]:
        if token.kind == "ref":
            return token.fact
    for token in reversed(clause[:index]):
        if token.kind == "ref":
            return token.fact
    return None


def _check_change_word(
    word: str, entry: dict[str, Any], fact: Fact, more_than: bool, extreme: str = ""
) -> str:
    """'' when `word` agrees with the fact, else what is wrong."""
    if fact.kind in ("period", "cell") and fact.direction is None and fact.record is None:
        return f'"{word}" describes {fact.id}, which has no change to describe'
    if "direction" in entry:
        if fact.direction is None:
            return f'"{word}" describes {fact.id}, whose change is not known'
        if entry["direction"] != fact.direction:
            actual = {1: "rose", -1: "fell", 0: "did not change"}[fact.direction]
            return f'"{word}" contradicts {fact.id} ({fact.label or fact.metric} {actual})'
    if "ratio" in entry:
        low, high = entry["ratio"]
        if fact.ratio is None:
            return f'"{word}" describes {fact.id}, whose ratio to the previous period is unknown'
        if more_than:
            ok = fact.ratio >= low if entry["direction"] > 0 else fact.ratio <= high
        else:
            ok = low <= fact.ratio <= high
        if not ok:
            return f'"{word}" does not match {fact.id} (it changed by a factor of {fact.ratio:.2f})'
    if "assessment" in entry and fact.assessment != entry["assessment"]:
        if fact.assessment is None:
            return f'"{word}" judges {fact.id}, a metric with no better direction'
        return f'"{word}" contradicts {fact.id} (the change is {fact.assessment})'
    if "record" in entry and fact.record is None:
        return f'"{word}" describes {fact.id}, which is not a record in the data'
    if "record" in entry and extreme in ("high", "low") and extreme != fact.record:
        return f'"{word} {extreme}" contradicts {fact.id} (a record {fact.record})'
    return ""


_NEGATIONS = frozenset(_words("not never"))


def _target_claim(clause: list[_Token], index: int) -> dict[str, Any] | None:
    """What the word at `index` claims about a target, or None when it claims nothing
    ("not on track" and "not met" claim the opposite)."""
    word = clause[index].text.lower()
    start = index
    if word == "track":
        before = clause[index - 1].text.lower() if index > 0 else ""
        if before not in ("on", "off"):
            return None
        claim: dict[str, Any] | None = {"on_track": before == "on"}
        start = index - 1
    elif word in ("on-track", "off-track"):
        claim = {"on_track": word == "on-track"}
    else:
        claim = TARGET_VOCABULARY.get(word)
        if claim is None and _names_a_target(clause):
            claim = TARGET_CONTEXT_VOCABULARY.get(word)
    if claim and "on_track" in claim and start > 0 and clause[start - 1].text.lower() in _NEGATIONS:
        return {"on_track": not claim["on_track"]}
    return claim


def _names_a_target(clause: list[_Token]) -> bool:
    return any(token.kind == "word" and token.text.lower() in _TARGET_NOUNS for token in clause)


def _check_target_words(clause: list[_Token], result: Checked, imperative: bool) -> None:
    """On/off track, met/missed words against the nearest figure's target state, and
    above/below against a target fact; a clause with no target says nothing about one."""
    for index, token in enumerate(clause):
        if token.kind != "word" or (imperative and index == 0):
            continue
        claim = _target_claim(clause, index)
        if claim is None:
            continue
        fact = _nearest_ref(clause, index)
        word = token.text
        if "side" in claim:
            about_target = fact is not None and fact.kind == "target"
            if not about_target and not _names_a_target(clause):
                continue  # "above" a figure, no target named: not a claim about one
            result.target_words += 1
            if fact is None or fact.target_side is None:
                where = f"{fact.id}, which has no target" if fact else "no figure with a target"
                result.problems.append(f'"{word}" judges a target but sits next to {where}')
                continue
            if fact.target_side != claim["side"]:
                actual = {1: "above", -1: "below", 0: "at"}.get(fact.target_side, "unknown")
                result.problems.append(
                    f'"{word}" contradicts {fact.id} (the value is {actual} the target)'
                )
            continue
        if imperative and fact is None:
            continue  # "Get churn back on track": an aim
        result.target_words += 1
        if fact is None or fact.on_track is None:
            where = f"{fact.id}, which has no target" if fact else "no figure with a target"
            result.problems.append(f'"{word}" judges a target but sits next to {where}')
        elif fact.on_track != claim["on_track"]:
            actual = "on track" if fact.on_track else "off track"
            result.problems.append(f'"{word}" contradicts {fact.id} ({actual})')


def _check_clause(
    clause: list[_Token], mentions: Mentions, result: Checked, imperative: bool
) -> set[str]:
    """Check one clause; returns the ids of the changes it gives a direction word to."""
    words = [(i, token.text) for i, token in enumerate(clause) if token.kind == "word"]
    for position, (index, word) in enumerate(words):
        lowered = word.lower()
        entry = VOCABULARY.get(lowered)
        if entry is None:
            continue
        if imperative and index == 0:
            continue  # "Lower CAC ...": an instruction, not a claim
        before = clause[index - 1].text.lower() if index > 0 else ""
        after = clause[index + 1].text.lower() if index + 1 < len(clause) else ""
        if lowered in _PHRASAL and (
            before in _PHRASAL[lowered] or after == "to" and lowered == "up"
        ):
            continue
        if lowered == "half" and before not in ("in",):
            continue  # only "cut in half" claims a size; "half of" is a share we do not read
        fact = _nearest_ref(clause, index)
        if fact is None and imperative:
            continue  # "Keep paying customers growing": an aim, not a claim about the data
        result.change_words += 1
        if fact is None:
            result.problems.append(f'"{word}" is not next to the figure it describes')
            continue
        preceding = " ".join(w for _, w in words[max(0, position - 2) : position])
        problem = _check_change_word(
            word, entry, fact, bool(_MORE_THAN.search(preceding)), extreme=after
        )
        if problem:
            result.problems.append(problem)
    _check_endpoints(clause, result, imperative)
    _check_names(clause, mentions, result)
    _check_target_words(clause, result, imperative)
    if not any(token.kind == "word" and token.text.lower() in _DIRECTION_WORDS for token in clause):
        return set()
    return {token.text for token in clause if token.kind == "ref"}


def _check_endpoints(clause: list[_Token], result: Checked, imperative: bool) -> None:
    """In a clause about a change, "from X" must be the earlier value, "to X" the later one."""
    moving = any(
        token.kind == "word"
        and token.text.lower() in _DIRECTION_WORDS
        and not (imperative and index == 0)  # "Lower churn from {{f9}}": an aim
        for index, token in enumerate(clause)
    )
    if not moving:
        return
    for index, token in enumerate(clause[1:], start=1):
        before = clause[index - 1].text.lower()
        fact = token.fact
        if token.kind != "ref" or fact is None or fact.kind not in ("value", "previous"):
            continue
        if before == "from" and fact.kind == "value":
            result.problems.append(f"{fact.id} is the latest value, written as where it came from")
        elif before == "to" and fact.kind == "previous":
            result.problems.append(f"{fact.id} is the previous value, written as where it went")


def _check_names(clause: list[_Token], mentions: Mentions, result: Checked) -> None:
    """Metric names and months next to each reference must be the referenced fact's."""
    last_ref = -1
    for index, token in enumerate(clause):
        if token.kind != "ref" or token.fact is None:
            continue
        fact = token.fact
        following = next(
            (i for i in range(index + 1, len(clause)) if clause[i].kind == "ref"), len(clause)
        )
        before = [t.text for t in clause[last_ref + 1 : index]]
        after = [t.text for t in clause[index + 1 : following]]
        last_ref = index
        if fact.kind == "period":
            continue
        named = mentions.find(before)
        subject = named[-1][1] if named else None
        if subject is None:
            named_after = mentions.find(after)
            subject = named_after[0][1] if named_after else None
        if subject is not None:
            result.metric_names += 1
            if not _compatible(subject, fact):
                result.problems.append(
                    f'"{" ".join(subject)}" is named for {fact.id}, which is '
                    f"{fact.label or fact.metric}"
                )
        # a month after the figure is its own ("{{f1}} in October"); else the one before it
        months = _MONTH.findall(" ".join(after)) or _MONTH.findall(" ".join(before))
        allowed = {_month_of(fact.period), _month_of(fact.other_period)} - {None}
        for month in months:
            if not allowed:
                break
            result.months += 1
            if month not in allowed:
                result.problems.append(
                    f"{month} is named for {fact.id}, which is for {' / '.join(sorted(allowed))}"
                )


def _render(text: str, facts: dict[str, Fact]) -> str:
    """The text with every reference replaced by its display (and the row it comes from)."""
    named_rows = {
        fact.row_label
        for fact_id in REFERENCE.findall(text)
        if (fact := facts.get(fact_id)) is not None and fact.kind == "period"
    }

    def write(match: re.Match[str]) -> str:
        fact = facts[match.group(1)]
        if fact.row_label and fact.row_label not in named_rows and fact.kind != "period":
            return f"{fact.display} ({fact.row_label})"
        return fact.display

    return REFERENCE.sub(write, text)


def render_checked(
    text: str, facts: dict[str, Fact], mentions: Mentions, *, imperative: bool = False
) -> Checked:
    """Check one text written with references and render it; `imperative` for action items."""
    result = Checked()
    typed = typed_figures(text)
    if typed:
        result.problems.append("typed figures itself: " + " ".join(typed))
    directed: set[str] = set()
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", REFERENCE.sub(r" \g<0> ", text)):
        for clause in _clauses(sentence, facts, result):
            directed |= _check_clause(clause, mentions, result, imperative)
    for fact_id in dict.fromkeys(result.references):
        if facts[fact_id].kind in ("change", "change_pct") and fact_id not in directed:
            result.problems.append(f"{fact_id} is a change written without its direction")
    if result.ok:
        result.text = _render(text, facts)
    return result


def label(checked: Checked, facts: dict[str, Fact]) -> str:
    """What was checked, in words, for the block's label."""
    used = [facts[fact_id] for fact_id in dict.fromkeys(checked.references)]
    counts = [
        (sum(1 for fact in used if fact.kind != "period"), "figure"),
        (sum(1 for fact in used if fact.kind == "period"), "period"),
    ]
    written = " and ".join(f"{n} {what}{'s' if n != 1 else ''}" for n, what in counts if n)
    parts = [f"{written or 'no figures'} written from the data"]
    checks = [
        (checked.change_words, "change word"),
        (checked.metric_names, "metric name"),
        (checked.months, "month"),
        (checked.target_words, "target word"),
    ]
    named = [f"{n} {what}{'s' if n != 1 else ''}" for n, what in checks if n]
    if named:
        parts.append(", ".join(named) + " checked against them")
    return "; ".join(parts)
