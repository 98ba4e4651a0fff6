"""Targets in narratives: a targets result (fct_metric_targets rows) gives each figure of the same
metric and month its target and the mart's on-track judgement; the offline summary says on or
off track in words; the claim checker holds Claude's target words to the facts ("above the
target" only when the value is above it, "on track" only when the mart says so).

Expected texts are written from the rows fed in, not from the code under test.
"""

from __future__ import annotations

from datetime import date

from jobmetrics.ai.claims import Mentions, render_checked
from jobmetrics.ai.facts import build_facts
from jobmetrics.ai.narratives import fact_table
from jobmetrics.ai.offline import offline_summary
from jobmetrics.ai.registry import Registry
from tests.ai.ai_helpers import make_metric

REGISTRY = Registry(
    metrics={
        "logo_churn_rate": make_metric("logo_churn_rate", "Logo churn rate", "pct1", True),
        "net_revenue_retention": make_metric(
            "net_revenue_retention", "Net revenue retention", "pct1", False
        ),
    }
)
SEP, OCT = date(2026, 9, 1), date(2026, 10, 1)
KPIS = [
    {"month": SEP, "logo_churn_rate": 0.045, "net_revenue_retention": 0.99},
    {"month": OCT, "logo_churn_rate": 0.06, "net_revenue_retention": 1.02},
]


def target(month: date, metric: str, actual, value, comparator: str, on_track) -> dict:
    return {
        "month": month,
        "metric": metric,
        "actual_value": actual,
        "target_value": value,
        "comparator": comparator,
        "is_on_track": on_track,
    }


TARGETS = [
    target(SEP, "logo_churn_rate", 0.045, 0.05, "<=", True),
    target(OCT, "logo_churn_rate", 0.06, 0.05, "<=", False),
    target(OCT, "net_revenue_retention", 1.02, 1.0, ">=", True),
    target(OCT, "mrr_growth_rate", 0.08, 0.1, ">=", False),
    target(OCT, "ltv_to_cac", None, 3.0, ">=", None),
    target(OCT, "cac_payback_months", 2.2, 12.0, "<=", True),
]


def facts(results: dict) -> dict:
    return build_facts("Overview", results, REGISTRY)


def figures(payload: dict) -> dict[str, dict]:
    return {
        figure["metric"]: figure
        for entry in payload["results"]
        for figure in entry.get("figures", [])
    }


def test_figures_get_the_target_and_the_marts_judgement_of_their_month() -> None:
    found = figures(facts({"kpis": KPIS, "targets": TARGETS}))
    assert found["logo_churn_rate"]["goal"] == {
        "value": 0.05,
        "comparator": "<=",
        "on_track": False,
        "source": "metric_targets",
    }
    assert found["net_revenue_retention"]["goal"]["on_track"] is True
    # a target metric no figure shows is described from the targets' own actual value; one
    # with no value that month (LTV:CAC) is not described at all
    assert found["mrr_growth_rate"]["value"] == 0.08
    assert found["mrr_growth_rate"]["goal"]["on_track"] is False
    assert "ltv_to_cac" not in found


def test_a_figure_of_a_slice_is_not_judged_by_the_business_target() -> None:
    executive = [dict(row, logo_churn_rate=0.02) for row in KPIS]  # not the mart's 6.0 %
    found = figures(facts({"kpis": executive, "targets": TARGETS}))
    assert "goal" not in found["logo_churn_rate"]


def test_the_offline_summary_says_on_and_off_track_in_words() -> None:
    text = offline_summary(facts({"kpis": KPIS, "targets": TARGETS}))
    assert (
        "Logo churn rate 6.0% (up 1.5 pts from 4.5%, worse), off track against the ≤ 5.0% target"
        in text
    )
    assert (
        "Net revenue retention 102.0% (up 3.0 pts from 99.0%, better), on track against the "
        "≥ 100.0% target" in text
    )
    assert "MRR growth rate 8.0%, off track against the ≥ 10.0% target" in text
    assert "CAC payback 2.2 mo, on track against the ≤ 12.0 mo target" in text  # unit once
    assert (
        "- Logo churn rate was 6.0% in Oct 2026, off track against the ≤ 5.0% target: break it "
        "down (by channel, plan or cohort) to find what holds it back."
    ) in text


def check(text: str, payload: dict, results: dict):
    table = fact_table(payload, results)
    by_kind = {(f.metric, f.kind): f.id for f in table.facts.values() if f.kind != "period"}
    mentions = Mentions([fact.aliases for fact in table.facts.values()])
    return render_checked(
        text.format(
            **{
                "churn": "{{" + by_kind[("logo_churn_rate", "value")] + "}}",
                "churn_target": "{{" + by_kind[("logo_churn_rate", "target")] + "}}",
                "nrr": "{{" + by_kind[("net_revenue_retention", "value")] + "}}",
                "nrr_target": "{{" + by_kind[("net_revenue_retention", "target")] + "}}",
            }
        ),
        table.facts,
        mentions,
    )


def test_claims_about_targets_are_checked_against_the_facts() -> None:
    results = {"kpis": KPIS, "targets": TARGETS}
    payload = facts(results)
    good = check(
        "Logo churn was {churn}, above its {churn_target} target and off track; net revenue "
        "retention of {nrr} is on track against its {nrr_target} target.",
        payload,
        results,
    )
    assert good.ok, good.problems
    assert good.target_words == 3
    assert "6.0%" in good.text and "5.0%" in good.text
    for wrong, problem in [
        ("Logo churn was {churn}, below its {churn_target} target.", "the value is above"),
        ("Logo churn of {churn} is on track.", "(off track)"),
        ("Logo churn of {churn} met its {churn_target} target.", "(off track)"),
        ("Net revenue retention of {nrr} missed its {nrr_target} target.", "(on track)"),
        ("Net revenue retention of {nrr} is not on track.", "(on track)"),
        # the side word next to the figure, the target named without its figure
        # a clause of its own names no figure: unverifiable, so not let through
        ("Logo churn was {churn}, below the target.", "no figure with a target"),
        ("Logo churn was {churn} below target.", "the value is above"),
        ("Net revenue retention of {nrr} fell under its goal.", "the value is above"),
        # words that judge only where a target is named
        ("Logo churn of {churn} beat the target.", "(off track)"),
        ("Logo churn of {churn} stayed within target.", "(off track)"),
        ("Net revenue retention of {nrr} fell short of the target.", "(on track)"),
    ]:
        checked = check(wrong, payload, results)
        assert not checked.ok and any(problem in p for p in checked.problems), (wrong, checked)


def test_words_that_judge_a_target_only_where_one_is_named() -> None:
    """ "beat", "within", "under" say nothing about a target in a clause that names none."""
    results = {"kpis": KPIS, "targets": TARGETS}
    payload = facts(results)
    for text in [
        "Logo churn was {churn}, under last spring's level.",
        "Net revenue retention of {nrr} beat last month.",
    ]:
        checked = check(text, payload, results)
        assert checked.ok and checked.target_words == 0, (text, checked)
    right = check("Logo churn of {churn} was over the target.", payload, results)
    assert right.ok and right.target_words == 1, right


def test_a_target_word_with_no_target_in_the_facts_is_rejected() -> None:
    results = {"kpis": KPIS}  # no targets result: nothing says whether churn is on track
    payload = facts(results)
    table = fact_table(payload, results)
    churn = next(f.id for f in table.facts.values() if f.metric == "logo_churn_rate")
    mentions = Mentions([fact.aliases for fact in table.facts.values()])
    checked = render_checked(f"Logo churn of {{{{{churn}}}}} is on track.", table.facts, mentions)
    assert not checked.ok
    assert any("has no target" in problem for problem in checked.problems)
