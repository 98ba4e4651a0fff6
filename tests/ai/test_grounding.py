"""The grounding check: roundings of facts pass, invented figures are named."""

from __future__ import annotations

import pytest
from number_trace import check, written_numbers

FACTS = {
    "figures": [
        {"metric": "mrr", "value": 12345.67, "previous": 12000.0, "change_pct": 0.028806},
        {"metric": "logo_churn_rate", "value": 0.0523, "change": 0.0043},
        {"metric": "churned_mrr", "value": -345.5},
        {"metric": "quick_ratio", "value": 3.24189},
        {"metric": "new_customers", "value": 1482},
        {"metric": "avg_match_rate", "value": 73.4},
    ],
    "period": "2025-10-01",
}


@pytest.mark.parametrize(
    "text",
    [
        "MRR reached $12,345.67.",
        "MRR reached $12.3k.",
        "MRR reached $12,346.",
        "MRR reached about $12,000.",
        "MRR reached $0.01M.",
        "Logo churn was 5.2%.",
        "Logo churn was 5%.",
        "Logo churn rose 0.4 pts.",
        "MRR grew 2.9% month over month.",
        "Churn cost -$345.50 of MRR.",
        "Churn cost $345.50 of MRR.",
        "The quick ratio is 3.2×.",
        "The quick ratio is 3.24x.",
        "1,482 new customers signed up.",
        "About 1.5k new customers.",
        "The average match rate is 73.4%.",
        "In October 2025 (2025-10-01) p95 latency held; Oct 3 was quiet.",
        "Take three actions: 1) fix onboarding, 2) call churned accounts.",
        "Watch the 30-day retention of the Q4 2025 cohort.",
    ],
)
def test_roundings_of_facts_are_grounded(text):
    outcome = check(text, FACTS)
    assert outcome.ok, outcome.unverified


@pytest.mark.parametrize(
    ("text", "invented"),
    [
        ("MRR reached $13,500.", "$13,500"),
        ("MRR reached $12.9k.", "$12.9k"),
        ("Logo churn was 6.1%.", "6.1%"),
        ("We expect 37% growth.", "37%"),
        ("1,520 new customers signed up.", "1,520"),
        ("The quick ratio is 4.1×.", "4.1×"),
        ("Aim for 25 more customers.", "25"),
    ],
)
def test_invented_figures_are_named(text, invented):
    outcome = check(text, FACTS)
    assert outcome.unverified == [invented]


def test_written_numbers_reads_units_and_scales():
    found = {w.text: w for w in written_numbers("$12.3k, 5.2%, -$1.2M and 1,482 users")}
    assert found["$12.3k"].value == pytest.approx(12300)
    assert found["$12.3k"].tolerance == pytest.approx(50, rel=1e-6)
    assert found["5.2%"].percent and found["5.2%"].value == pytest.approx(5.2)
    assert found["-$1.2M"].value == pytest.approx(-1_200_000)
    assert found["1,482"].value == 1482
