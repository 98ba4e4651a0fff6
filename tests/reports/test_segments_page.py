"""The Segments and geography page shows, for the last complete month, each segment's, signup
device's and country's MRR, paying customers, ARPU, logo churn and NRR, and ranks the countries by
the measure chosen.

The expected figures are summed here from the customer-month grain (fct_customer_mrr_monthly: one
row per customer and month end, with the previous month end's MRR) joined to each customer's
attributes in dim_customers, not read from fct_mrr_monthly_by_dimension, which the page reads;
the last complete month is worked out from the last day of data with the calendar.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from jobmetrics.core.formats import format_value
from jobmetrics.core.labels import humanize
from jobmetrics.generator.assumptions import COUNTRIES
from jobmetrics.reports import SiteResult
from tests.reports.test_browser import _open, _wait_view, browser  # noqa: F401 (a fixture)
from tests.reports.test_site import html, last_complete_month, query

pytestmark = pytest.mark.slow

PAGE = "segments.html"
MEASURES = ("mrr", "arpu", "paying_customers", "logo_churn_rate", "nrr")
TABLE = re.compile(
    r'<figure class="jm-card jm-table-card">.*?<span class="jm-card-title">(?P<title>[^<]*)</span>'
    r".*?<tbody>(?P<body>.*?)</tbody>",
    re.S,
)
ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
CELL = re.compile(r'<td(?:[^>]*data-v="([^"]*)")?[^>]*>')  # a NULL cell has no data-v: ""


@dataclass(frozen=True)
class Slice:
    """One slice's figures in a month, from customer months."""

    mrr: Decimal
    paying_customers: int
    customers_at_start: int
    churned: int
    starting_mrr: Decimal
    kept_mrr: Decimal  # this month's MRR of the customers paying at the start of the month

    @property
    def arpu(self) -> Decimal | None:
        return self.mrr / self.paying_customers if self.paying_customers else None

    @property
    def logo_churn_rate(self) -> float | None:
        return self.churned / self.customers_at_start if self.customers_at_start else None

    @property
    def nrr(self) -> float | None:
        return float(self.kept_mrr / self.starting_mrr) if self.starting_mrr else None


def expected_slices(warehouse: Path, month: date, attribute: str) -> dict[str, Slice]:
    """Each value of a customer attribute (segment, device, country) → its figures in month."""
    rows = query(
        warehouse,
        f"""
        select
            customers.{attribute},
            sum(months.mrr),
            count(*) filter (where months.mrr > 0),
            count(*) filter (where months.previous_mrr > 0),
            count(*) filter (where months.previous_mrr > 0 and months.mrr = 0),
            sum(months.previous_mrr),
            coalesce(sum(months.mrr) filter (where months.previous_mrr > 0), 0)
        from fct_customer_mrr_monthly as months
        inner join dim_customers as customers on months.user_id = customers.user_id
        where months.month = '{month}'
        group by customers.{attribute}
        """,
    )
    return {row[0]: Slice(*row[1:]) for row in rows}


def tables(page: str) -> dict[str, list[list[str]]]:
    """Each table's title → its rows as the cells' raw values (data-v)."""
    return {
        html_lib.unescape(match["title"]): [CELL.findall(row) for row in ROW.findall(match["body"])]
        for match in TABLE.finditer(page)
    }


def number(text: str) -> float:
    return float(text) if text else float("nan")


def assert_rows_match(rows: list[list[str]], expected: dict[str, Slice], first: str) -> None:
    """Table rows (slice, MRR, share, customers, ARPU, at start, churned, churn, NRR) against the
    customer-month sums; `first` is the label of the all-customers row when the table has one."""
    total = sum(item.mrr for item in expected.values())
    seen = set()
    for row in rows:
        value = row[0]
        if value == first:
            continue
        found = expected.get(value, Slice(Decimal(0), 0, 0, 0, Decimal(0), Decimal(0)))
        seen.add(value)
        assert Decimal(row[1]) == found.mrr, value
        assert number(row[2]) == pytest.approx(float(found.mrr / total), rel=1e-9), value
        assert int(row[3]) == found.paying_customers, value
        if found.arpu is None:
            assert row[4] == "", value
        else:
            assert number(row[4]) == pytest.approx(float(found.arpu), abs=1e-6), value
        assert int(row[5]) == found.customers_at_start, value
        assert int(row[6]) == found.churned, value
        if found.logo_churn_rate is None:
            assert row[7] == "", value
        else:
            assert number(row[7]) == pytest.approx(found.logo_churn_rate, rel=1e-9), value
            assert number(row[8]) == pytest.approx(found.nrr, rel=1e-9), value
    assert seen >= {value for value, item in expected.items() if item.mrr or item.churned}


@pytest.fixture(scope="module")
def month(report_warehouse: Path) -> date:
    return last_complete_month(report_warehouse)


@pytest.fixture(scope="module")
def page(report_site: SiteResult) -> str:
    return html(report_site, PAGE)


def test_the_page_is_in_the_navigation(page: str) -> None:
    nav = re.search(r"<nav.*?</nav>", page, re.S).group(0)
    assert re.search(rf'href="{PAGE}"[^>]*>\s*Segments and geography\s*<', nav), nav


def test_side_by_side_tables_equal_the_customer_months(
    page: str, report_warehouse: Path, month: date
) -> None:
    shown = tables(page)
    label = format_value(month, "month")
    for title, attribute in (
        (f"Segments side by side, {label}", "segment"),
        (f"Signup devices side by side, {label}", "device"),
        (f"Countries side by side, {label} (ranked by MRR)", "country"),
    ):
        assert title in shown, (title, list(shown))
        rows = shown[title]
        expected = expected_slices(report_warehouse, month, attribute)
        first = "All customers" if attribute != "country" else ""
        if first:
            everyone = rows[0]
            assert everyone[0] == first
            assert Decimal(everyone[1]) == sum(item.mrr for item in expected.values())
            assert int(everyone[3]) == sum(item.paying_customers for item in expected.values())
        assert_rows_match(rows, expected, first)


def test_countries_are_ranked_by_the_chosen_measure(
    report_site: SiteResult, report_warehouse: Path, month: date, page_data
) -> None:
    expected = expected_slices(report_warehouse, month, "country")
    rankings = {
        figure["layout"]["xaxis"]["title"]["text"]: figure["data"][0]
        for figure in page_data(html(report_site, PAGE))["charts"].values()
        if figure["data"][0].get("orientation") == "h"
    }
    # one ranking per measure (the page's Measure buttons)
    assert len(rankings) == len(MEASURES), list(rankings)
    for measure in MEASURES:
        title = next(text for text in rankings if text.startswith(_axis_label(measure)))
        bars = rankings[title]

        def value(item: Slice, measure: str = measure) -> float | None:
            found = getattr(item, measure) if measure != "mrr" else item.mrr
            return None if found is None else float(found)

        def rank(country: str, value=value) -> tuple[bool, float, str]:
            found = value(expected[country])
            return (found is None, -(found or 0), country)  # highest first, no value last

        ranked = sorted(expected, key=rank)
        assert bars["y"] == [humanize(country) for country in ranked], measure
        for country, drawn in zip(ranked, bars["x"], strict=True):
            wanted = value(expected[country])
            assert (drawn is None) if wanted is None else drawn == pytest.approx(wanted), country


def _axis_label(measure: str) -> str:
    return {
        "mrr": "MRR",
        "arpu": "ARPU",
        "paying_customers": "Paying customers",
        "logo_churn_rate": "Logo churn rate",
        "nrr": "NRR",
    }[measure]


def test_small_countries_say_how_few_customers_their_rates_rest_on(
    page: str, report_warehouse: Path, month: date
) -> None:
    expected = expected_slices(report_warehouse, month, "country")
    fewest = min(
        (item.customers_at_start, country)
        for country, item in expected.items()
        if item.customers_at_start
    )
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert (
        f"{humanize(fewest[1])} started {format_value(month, 'month')} with "
        f"{fewest[0]} paying customers: a single customer churning there is a logo churn of "
        f"{format_value(1 / fewest[0], 'pct')} on their own."
    ) in text


def test_partial_months_are_named_and_left_out(
    report_site: SiteResult, report_warehouse: Path, month: date, page_data
) -> None:
    # a month is partial when its first or last day lies outside the data
    first_day, last_day = query(
        report_warehouse, "select min(date_day), max(date_day) from fct_mrr_daily"
    )[0]
    partial = {first_day.replace(day=1)} if first_day.day != 1 else set()
    if last_day.replace(day=1) != month:
        partial.add(last_day.replace(day=1))
    page = html(report_site, PAGE)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    for start in partial:
        assert f"{format_value(start, 'month')} (partial: " in text
    if not partial:  # data of whole months (the test data): nothing is called partial
        assert "(partial: " not in text
    drawn = {
        x[:10]
        for figure in page_data(page)["charts"].values()
        for trace in figure["data"]
        for x in trace.get("x") or []
        if isinstance(x, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", x)
    }
    assert drawn, "the trend charts draw months"
    assert max(drawn) == str(month)
    assert not drawn & {str(start) for start in partial}


def test_every_generated_country_reads_as_its_name() -> None:
    names = [humanize(code) for code in COUNTRIES]
    assert all(name != code for name, code in zip(names, COUNTRIES, strict=True))
    assert len(set(names)) == len(COUNTRIES)
    assert humanize("GB") == "United Kingdom"


@pytest.mark.browser
def test_the_measure_buttons_rerank_the_countries_in_the_browser(
    browser: object,  # noqa: F811 (the fixture imported above)
    report_site: SiteResult,
    report_warehouse: Path,
    month: date,
) -> None:
    """Clicking Logo churn redraws the ranking in the order of the customer-month sums, and the
    choice is in the URL."""
    expected = expected_slices(report_warehouse, month, "country")
    ranked = sorted(
        expected,
        key=lambda country: (
            expected[country].logo_churn_rate is None,
            -(expected[country].logo_churn_rate or 0),
            country,
        ),
    )
    page, watch = _open(browser, report_site.out_dir, PAGE)
    page.click('[data-input="measure"] button[data-value="logo_churn_rate"]')
    _wait_view(page, "measure=logo_churn_rate")
    title = f"Countries ranked by logo churn, {format_value(month, 'month')}"
    drawn = page.locator(f'.jm-chart[aria-label="{title}"]').evaluate("(node) => node.data[0].y")
    assert drawn == [humanize(country) for country in ranked]
    assert page.url.endswith("#measure=logo_churn_rate")
    assert watch.problems == []
    page.context.close()
