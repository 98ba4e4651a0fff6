"""The customers page and the table parts it is made of: searchable tables, lazy tables (rows
in a script loaded on demand) and the detail dialog.

Made-up pages check the parts (every row of a lazy table is in its script with the cell text
the page would show; each detail key carries its own rows); the real site checks the lists
against dim_customers and the invoices against the raw-derived lifetime revenue; Chromium
checks what a reader does (search, sort the whole index, open a customer)."""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jobmetrics.core.errors import PageError
from jobmetrics.core.formats import format_value
from jobmetrics.reports import SiteResult
from tests.reports.test_browser import _open, browser  # noqa: F401  (fixture)
from tests.reports.test_inputs import view_html

LAZY_PAGE = """# Months

```sql months
select cast(month as varchar) as month_key, month, ending_mrr, paying_customers
from fct_mrr_monthly order by ending_mrr desc
```

<DataTable data="months" title="Months" lazy="true" detail="month_key" rows="3" />

```sql details
select cast(month as varchar) as month_key, ending_mrr, new_mrr from fct_mrr_monthly
where month >= '2025-06-01'
```

```sql detail_rows
select cast(month as varchar) as month_key, churned_mrr, logo_churn_rate from fct_mrr_monthly
where month >= '2025-06-01'
```

<DetailDialog key="month_key" header="details" data="detail_rows" titles="Churn" title="Month"
    missing="Only months from June." />
"""


def _lazy_rows(site: Path, html: str) -> list[list[str]]:
    """A lazy table's rows as the browser decodes them (each column's texts by index)."""
    name = re.search(r'data-lazy="([^"]+)"', html).group(1)
    script = (site / name).read_text(encoding="utf-8")
    payload = json.loads(script.split("] = ", 1)[1].rstrip().rstrip(";"))
    columns = payload["columns"]
    return [
        [column["t"][row] if "t" in column else column["d"][column["c"][row]] for column in columns]
        for row in range(payload["rows"])
    ]


def _details(html: str) -> dict[str, str]:
    packed = re.search(r'class="jm-detail-data">([^<]+)</script>', html).group(1)
    return json.loads(gzip.decompress(base64.b64decode(packed)))["details"]


def test_a_lazy_table_keeps_its_first_rows_in_the_page_and_all_in_its_script(
    build, tiny_warehouse: Path
) -> None:
    result = build({"index.md": LAZY_PAGE})
    html = (result.out_dir / "index.html").read_text(encoding="utf-8")
    connection = duckdb.connect(str(tiny_warehouse), read_only=True)
    expected = connection.execute(
        "select month, ending_mrr, paying_customers from fct_mrr_monthly order by ending_mrr desc"
    ).fetchall()
    connection.close()
    rows = _lazy_rows(result.out_dir, html)
    assert rows == [
        [str(month), format_value(month, "month"), format_value(mrr, "usd"), f"{count:,}"]
        for month, mrr, count in expected
    ]
    table = html.split('<table class="jm-table" data-lazy=', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 1 + 3  # the header and the first 3 rows
    assert 'placeholder="Search 12 rows"' in html
    # the key column opens the dialog with its own rows only
    details = _details(html)
    assert sorted(details) == sorted(
        str(month) for month, *_ in expected if str(month) >= "2025-06-01"
    )
    june = details["2025-06-01"]
    assert "<h3>Churn</h3>" in june and june.count("<tr>") == 2  # header + June's row
    assert 'data-missing="Only months from June."' in html


def test_a_searchable_table_says_how_many_rows_it_searches(build) -> None:
    page = """```sql months
select month, ending_mrr from fct_mrr_monthly order by month
```

<DataTable data="months" search="true" rows="5" />
"""
    html = (build({"index.md": page}).out_dir / "index.html").read_text(encoding="utf-8")
    assert 'placeholder="Search 12 rows"' in html
    assert html.count('class="jm-more"') == 7  # all 12 rows in the page, 5 shown at first


def test_a_detail_dialog_names_what_is_wrong(build) -> None:
    broken = LAZY_PAGE.replace('data="detail_rows" titles="Churn"', 'data="nope" titles="Churn"')
    with pytest.raises(PageError, match="data= names 'nope'"):
        build({"index.md": broken})
    broken = LAZY_PAGE.replace('key="month_key" header', 'key="month" header')
    with pytest.raises(
        PageError, match=r"index.md:20: <DetailDialog> column 'month' is not in query 'details'"
    ):
        build({"index.md": broken})


# --- The real page -------------------------------------------------------------------------


def _query(warehouse: Path, sql: str) -> list[tuple]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def customers_html(report_site: SiteResult) -> str:
    return (report_site.out_dir / "customers.html").read_text(encoding="utf-8")


def _first_column(html: str) -> list[str]:
    body = html.split('<table class="jm-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr(?: class="jm-more")?><td[^>]*>(?:<button[^>]*>)?([^<]*)', body)


def test_top_accounts_are_the_paying_customers_with_the_most_mrr(
    customers_html: str, report_warehouse: Path, page_data
) -> None:
    # dim_customers, not fct_customer_health: the page's list against the finance dimension
    expected = _query(
        report_warehouse,
        "select cast(user_id as varchar) from dim_customers where current_mrr > 0 "
        "order by current_mrr desc, lifetime_revenue_usd desc, user_id limit 200",
    )
    data = page_data(customers_html)
    top = view_html(customers_html, data, "list=top")
    assert _first_column(top) == [row[0] for row in expected]
    paying = _query(report_warehouse, "select count(*) from dim_customers where current_mrr > 0")
    assert f"Search {paying[0][0]:,} rows" in customers_html  # the lazy index holds them all


def test_the_lists_and_the_index_hold_what_their_titles_say(
    report_site: SiteResult, customers_html: str, report_warehouse: Path, page_data
) -> None:
    data = page_data(customers_html)
    at_risk = _first_column(view_html(customers_html, data, "list=at_risk"))
    scores = dict(
        _query(
            report_warehouse,
            "select cast(user_id as varchar), at_risk_score from fct_customer_health "
            "where customer_status = 'paying'",
        )
    )
    assert at_risk and all(scores[customer] >= 40 for customer in at_risk)
    assert len(at_risk) == min(200, sum(score >= 40 for score in scores.values()))
    churned = _first_column(view_html(customers_html, data, "list=churned"))
    last_day = _query(report_warehouse, "select max(date_day) from fct_mrr_daily")[0][0]
    ended = dict(
        _query(
            report_warehouse,
            "select cast(user_id as varchar), cast(churned_at as date) from dim_customers "
            "where customer_status = 'churned'",
        )
    )
    assert churned and all((last_day - ended[customer]).days < 90 for customer in churned)
    index = _lazy_rows(report_site.out_dir, customers_html)
    assert len(index) == len(scores)
    assert sorted(row[0] for row in index) == sorted(scores)


def test_a_customers_detail_has_their_invoices_and_subscriptions(
    customers_html: str, report_warehouse: Path
) -> None:
    details = _details(customers_html)
    revenue = dict(
        _query(
            report_warehouse,
            "select cast(user_id as varchar), lifetime_revenue_usd from dim_customers "
            "where first_paid_at is not null",
        )
    )
    subscriptions = dict(
        _query(
            report_warehouse,
            "select cast(user_id as varchar), count(*) from fct_subscriptions group by 1",
        )
    )
    assert len(details) >= 200
    for customer, html in list(details.items())[:40]:
        invoices = html.split("<h3>Invoices (newest first)</h3>", 1)[1].split("</table>", 1)[0]
        paid = [
            Decimal(amount.replace("$", "").replace(",", ""))
            for amount, status in re.findall(
                r'<td class="num"[^>]*>([^<]+)</td><td[^>]*>(\w+)</td>', invoices
            )
            if status in ("Paid", "Recovered")
        ]
        assert sum(paid) == revenue[customer], customer
        timeline = html.split("<h3>Subscriptions</h3>", 1)[1].split("</table>", 1)[0]
        assert timeline.count("<tr>") - 1 == subscriptions[customer], customer


# --- In the browser ------------------------------------------------------------------------


@pytest.fixture
def customers_page(browser: object, report_site: SiteResult) -> Iterator[tuple[object, object]]:  # noqa: F811
    page, watch = _open(browser, report_site.out_dir, "customers.html")
    yield page, watch
    page.context.close()


def test_search_sort_and_open_a_customer(
    customers_page: tuple[object, object], report_warehouse: Path
) -> None:
    page, watch = customers_page
    lists = page.locator(".jm-card:has(table:not([data-lazy]))").first
    lists.locator(".jm-search input").fill("premium")
    shown = lists.locator("tbody tr:visible")
    count = shown.count()
    assert count > 0
    assert all("Premium" in shown.nth(i).inner_text() for i in range(min(count, 20)))
    assert lists.locator(".jm-search-count").inner_text().endswith("rows match")

    # the lazy index: sort the whole index by MRR ascending, then search it
    index = page.locator(".jm-card:has(table[data-lazy])")
    index.locator('.jm-sort:has-text("MRR")').first.click()
    page.wait_for_function("document.querySelector('table[data-lazy] .jm-sort[data-dir]') !== null")
    smallest = _query(
        report_warehouse,
        "select min(current_mrr) from dim_customers where current_mrr > 0",
    )[0][0]
    first_mrr = index.locator("tbody tr").first.locator("td").nth(1).inner_text()
    assert first_mrr == format_value(smallest, "usd")
    index.locator(".jm-search input").fill("annual")
    page.wait_for_function(
        "document.querySelector('table[data-lazy]').closest('.jm-card')"
        ".querySelector('.jm-search-count').textContent.includes('match')"
    )
    annual = _query(
        report_warehouse,
        "select count(*) from dim_customers where current_mrr > 0 "
        "and current_billing_cycle = 'annual'",
    )[0][0]
    count_text = index.locator(".jm-search-count").inner_text()
    assert count_text.startswith(f"{annual:,} of ")

    # open the first top account
    lists.locator(".jm-search input").fill("")
    button = lists.locator(".jm-detail-open").first
    customer = button.inner_text()
    button.click()
    dialog = page.locator("dialog.jm-detail")
    page.wait_for_function("document.querySelector('dialog.jm-detail').open")
    assert dialog.locator(".jm-detail-title").inner_text() == f"Customer {customer}"
    assert "Invoices (newest first)" in dialog.inner_text()
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('dialog.jm-detail').open")
    assert watch.problems == []
