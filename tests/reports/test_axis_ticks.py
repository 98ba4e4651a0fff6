"""The x axis ticks Plotly draws in Chromium: a month axis labels each month of a short data set
once, in order, under its own month (Plotly's own steps fell mid-month on 3-4 months: "Sep 2026,
Oct 2026, Oct 2026"); on a phone a long one keeps every label clear of the next; a
months-since-start axis has whole numbers only (no 0.5 months). The expected months are read from
the tiny warehouse and formatted by Python, not by the chart code."""

from __future__ import annotations

import re
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from tests.reports.test_browser import _open, browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHORT_END = "2025-05-01"  # the tiny warehouse's first four months: Jan to Apr 2025

PAGE = f"""# Ticks

```sql short_months
select month, new_mrr, ending_mrr from fct_mrr_monthly where month < date '{SHORT_END}'
order by month
```

```sql all_months
select month, ending_mrr from fct_mrr_monthly order by month
```

```sql retention
select i::integer as months_since_start, 1 - i / 10 as logo_retention
from range(4) as t(i)
```

<BarChart data="short_months" x="month" y="new_mrr" title="Bars" />

<LineChart data="short_months" x="month" y="ending_mrr" title="Line" />

<LineChart data="all_months" x="month" y="ending_mrr" title="Year" />

<LineChart data="retention" x="months_since_start" y="logo_retention" title="Retention" />
"""

# Each chart's drawn x tick labels with their left and right edges on screen, by card title.
TICKS = """() => Object.fromEntries(Array.from(document.querySelectorAll('.jm-chart')).map(node => [
    node.closest('.jm-card').querySelector('.jm-card-title').textContent.trim(),
    Array.from(node.querySelectorAll('.xtick text')).map(text => {
        const box = text.getBoundingClientRect();
        return [text.textContent, box.left, box.right];
    })
]))"""


def _months(warehouse: Path, where: str = "true") -> list[str]:
    """The months of fct_mrr_monthly as "Jan 2025", in order, formatted here (not by Plotly)."""
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = connection.execute(
            f"select month from fct_mrr_monthly where {where} order by month"
        ).fetchall()
    finally:
        connection.close()
    return [month.strftime("%b %Y") for (month,) in rows]


def _by_title(ticks: dict[str, list], word: str) -> list[list]:
    [labels] = [labels for title, labels in ticks.items() if title.startswith(word)]
    return labels


def _month(label: str) -> date:
    return datetime.strptime(label, "%b %Y").date()


def _drawn(browser: object, site: Path, width: int) -> dict[str, list]:  # noqa: F811
    page, watch = _open(browser, site, "index.html", viewport={"width": width, "height": 900})
    page.wait_for_timeout(200)
    ticks = page.evaluate(TICKS)
    assert watch.problems == []
    page.context.close()
    return ticks


def test_month_and_months_since_axes_label_whole_months(
    browser: object,  # noqa: F811
    build,
    tiny_warehouse: Path,
) -> None:
    site = build({"index.md": PAGE}).out_dir
    short = _months(tiny_warehouse, f"month < date '{SHORT_END}'")
    year = _months(tiny_warehouse)
    assert len(short) == 4 and len(year) == 12

    wide = _drawn(browser, site, 1440)
    # On a wide screen: every month of the data once, in order, for bars and for a line.
    for title in ("Bars", "Line"):
        assert [label for label, _, _ in _by_title(wide, title)] == short, title
    assert [label for label, _, _ in _by_title(wide, "Year")] == year
    # Months since start: whole numbers 0 to 3, nothing between them.
    assert [label for label, _, _ in _by_title(wide, "Retention")] == ["0", "1", "2", "3"]

    phone = _drawn(browser, site, 390)
    for title, months in (("Bars", short), ("Line", short), ("Year", year)):
        drawn = _by_title(phone, title)
        labels = [label for label, _, _ in drawn]
        # every label a month of the data, once, in month order, from the first month
        assert labels and set(labels) <= set(months), (title, labels)
        assert [_month(label) for label in labels] == sorted({_month(label) for label in labels})
        assert labels[0] == months[0], (title, labels)
        # evenly spaced: every month, or every 2nd, 3rd, ... month
        steps = {months.index(b) - months.index(a) for a, b in pairwise(labels)}
        assert len(steps) <= 1, (title, labels)
        # and not crowded: each label ends before the next one begins
        for (_, _, right), (_, left, _) in pairwise(drawn):
            assert right < left, (title, drawn)
    # Plotly hides a label that would run past the chart (display: none, no width)
    for title, drawn in (*wide.items(), *phone.items()):
        assert all(right > left for _, left, right in drawn), (title, drawn)
    retention = [label for label, _, _ in _by_title(phone, "Retention")]
    assert retention and all(re.fullmatch(r"\d+", label) for label in retention), retention
