"""Narratives take a period's completeness from the rows (dim_periods' columns), not from a rule
of their own: the warehouse's label is printed as it is, and its columns are never figures."""

from __future__ import annotations

from datetime import date, timedelta

from jobmetrics.ai.facts import build_facts
from jobmetrics.ai.offline import offline_summary
from jobmetrics.ai.registry import Registry


def _cohort_rows() -> list[dict]:
    """Four cohorts as the cohorts page joins them to dim_periods: the first month (30 of 31
    days) and the last (one day of data) partial."""
    months = [date(2025, 12, 1), date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    labels = ["partial: 30 of 31 days", None, None, "partial: 1 of 31 days"]
    customers = [51, 155, 144, 4]
    return [
        {
            "cohort_month": month,
            "is_complete_cohort": label is None,
            "days_with_data": int(label.split()[1]) if label else 31,
            "days_in_period": 30 if month.month == 11 else 31,
            "partial_label": label,
            "cohort_customers": count,
        }
        for month, label, count in zip(months, labels, customers, strict=True)
    ]


def test_the_warehouse_label_names_the_partial_cohort_and_it_is_not_compared() -> None:
    facts = build_facts("Cohorts", {"cohort_summary": _cohort_rows()}, Registry())
    (entry,) = facts["results"]
    assert entry["partial_period"]["label"] == "partial: 1 of 31 days"
    assert entry["period"] == "2026-11-01"
    # no breakdown by the label, and the label's columns are no figures
    assert "items" not in entry
    assert [figure["metric"] for figure in entry["figures"]] == ["cohort_customers"]
    text = offline_summary(facts)
    assert (
        "**The Nov 2026 cohort** (the Dec 2026 cohort so far is partial: 1 of 31 days, left out "
        "of the comparison): Cohort customers 144 (down 7.1% from 155)."
    ) in text
    assert "51" not in text  # the partial first cohort is never the one compared with


def test_a_label_column_without_days_is_enough() -> None:
    week = date(2026, 11, 16)
    rows = [
        {
            "week_date": week + timedelta(weeks=i),
            "is_complete_week": i < 2,
            "partial_label": None if i < 2 else "partial: 2 of 7 days",
            "completed_scans": scans,
        }
        for i, scans in enumerate([700, 756, 90])
    ]
    text = offline_summary(build_facts("Product", {"weekly": rows}, Registry()))
    assert text.startswith(
        "- **Week of 2026-11-23** (week of 2026-11-30 so far is partial: 2 of 7 days, "
        "left out of the comparison): Completed scans 756 (up 8.0% from 700)."
    )
