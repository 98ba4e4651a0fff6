"""Targets on the report: a tile with `target=` says "On track" / "Off track" / "Not judged" vs
the target in words, for the month it shows and, through the date range, for any month it can
show; a chart with `goal=` draws the target as a dashed labelled line. The rows are a targets
query (as fct_metric_targets gives them); the component reads is_on_track, it never compares.

Expected texts are written from the rows the tiny warehouse holds: logo churn 3.0 % in Jan 2025
rising 0.1 pts a month to 4.1 % in Dec 2025, against a made-up target of ≤ 3.5 %.
"""

from __future__ import annotations

import html as html_module
import json
import re
from pathlib import Path

import pytest

from jobmetrics.reports import PageError

TARGETS = """
```sql targets
-- as fct_metric_targets gives them; June has no judgement (as a month with no value has)
select
    month,
    'logo_churn_rate' as metric,
    logo_churn_rate as actual_value,
    0.035 as target_value,
    '<=' as comparator,
    case when month = date '2025-06-01' then null else logo_churn_rate <= 0.035 end
        as is_on_track
from fct_mrr_monthly
order by month
```
"""

PAGE = (
    """---
title: Targets
---
# Targets

```sql months
select month from fct_mrr_monthly order by month
```

<DateRange name="period" data="months" column="month" />

```sql kpis
select month, logo_churn_rate, ending_mrr from fct_mrr_monthly order by month
```
"""
    + TARGETS
    + "\n".join(
        [
            '<BigValue data="kpis" value="logo_churn_rate" x="month" title="Logo churn" '
            'target="targets" />',
            '<BigValue data="kpis" value="ending_mrr" x="month" title="MRR" target="targets" />',
            '<BigValue data="kpis" value="ending_mrr" x="month" title="MRR, no target" />',
            "",
            '<LineChart data="kpis" x="month" y="logo_churn_rate" fmt="pct1" goal="targets" />',
            '<LineChart data="kpis" x="month" y="logo_churn_rate,ending_mrr" goal="targets" '
            'goal_metric="logo_churn_rate" />',
            '<LineChart data="kpis" x="month" y="ending_mrr" goal="targets" />',
            "",
        ]
    )
)


def html_of(result, name: str = "index.html") -> str:
    return (result.out_dir / name).read_text(encoding="utf-8")


def tile(page: str, title: str) -> str:
    """The HTML of the tile titled `title` (up to the next tile or card)."""
    start = page.index(f'<div class="jm-bv-title">{title}</div>')
    begin = page.rindex('<div class="jm-bigvalue"', 0, start)
    ends = [page.find(mark, start) for mark in ('<div class="jm-bigvalue"', "<figure")]
    return page[begin : min([end for end in ends if end > 0] or [len(page)])]


def words(fragment: str) -> str:
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_a_tile_says_off_track_against_the_target_in_words(build) -> None:
    page = html_of(build({"index.md": PAGE}))
    churn = tile(page, "Logo churn")
    # Dec 2025: 4.1 % > 3.5 %, judged off track
    assert '<div class="jm-bv-target off-track">' in churn
    assert "Off track vs target ≤ 3.5%" in words(churn)
    assert "jm-bv-target" not in tile(page, "MRR, no target")
    assert "No target in seeds/metric_targets.csv" in words(tile(page, "MRR"))


def test_every_month_of_a_tile_carries_its_own_target_state(build) -> None:
    page = html_of(build({"index.md": PAGE}))
    churn = tile(page, "Logo churn")
    series = json.loads(html_module.unescape(re.search(r'data-series="([^"]*)"', churn).group(1)))
    states = {entry[0][:7]: words(entry[3]) for entry in series}
    assert states["2025-01"] == "✓ On track vs target ≤ 3.5%"  # 3.0 %
    assert states["2025-05"] == "✓ On track vs target ≤ 3.5%"  # 3.4 %
    assert states["2025-06"] == "– Not judged (no value) vs target ≤ 3.5%"  # NULL: not judged
    assert states["2025-07"] == "✗ Off track vs target ≤ 3.5%"  # 3.6 %


def test_a_goal_line_is_a_dashed_labelled_line_at_the_target(build, page_data) -> None:
    data = page_data(html_of(build({"index.md": PAGE})))
    single, several, none = list(data["charts"].values())
    for figure, label in ((single, "Target ≤ 3.5%"), (several, "Logo churn rate target ≤ 3.5%")):
        [shape] = figure["layout"]["shapes"]
        assert (shape["y0"], shape["y1"], shape["line"]["dash"]) == (0.035, 0.035, "dash")
        assert (shape["xref"], shape["x0"], shape["x1"]) == ("paper", 0, 1)  # kept by row filters
        assert [note["text"] for note in figure["layout"]["annotations"]] == [label]
    assert "shapes" not in none["layout"]  # MRR has no target: no line


def test_a_target_query_that_is_not_on_the_page_names_the_line(build) -> None:
    tag = '<BigValue data="kpis" value="x" target="goals" />'
    page = f"# T\n```sql kpis\nselect 1 as x\n```\n\n{tag}\n"
    with pytest.raises(PageError) as raised:
        build({"index.md": page})
    assert "index.md:6" in str(raised.value)
    assert "target='goals' is not a query on this page" in str(raised.value)


@pytest.mark.browser
@pytest.mark.slow
def test_the_date_range_moves_the_target_state_with_the_tile(build, tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no /usr/bin/chromium")
    site = build({"index.md": PAGE}).out_dir
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(chromium), args=["--headless"])
        try:
            page = browser.new_page()
            page.goto((site / "index.html").resolve().as_uri() + "#period=2025-01-01~2025-05-01")
            page.wait_for_function(
                "document.querySelector('.jm-bigvalue').getAttribute('data-period')"
                " === '2025-05-01'"
            )
            first = page.locator(".jm-bigvalue").first
            assert first.locator(".jm-bv-value").inner_text() == "3.4%"
            assert first.locator(".jm-bv-target").inner_text() == "✓ On track vs target ≤ 3.5%"
            page.goto((site / "index.html").resolve().as_uri() + "#period=2025-01-01~2025-06-01")
            page.wait_for_function(
                "document.querySelector('.jm-bigvalue').getAttribute('data-period')"
                " === '2025-06-01'"
            )
            target = page.locator(".jm-bigvalue").first.locator(".jm-bv-target")
            assert target.inner_text() == "– Not judged (no value) vs target ≤ 3.5%"
        finally:
            browser.close()
