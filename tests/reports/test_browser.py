"""Every page of the real site opened in headless Chromium: no console errors, no network request
leaving the site folder, every chart drawn, CSV download and table sorting working.

Uses Debian's chromium (/usr/bin/chromium, installed by scripts/install_test_tools.sh) driven by
Python Playwright; Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from jobmetrics.core.formats import format_value
from jobmetrics.core.settings import PROJECT_ROOT
from jobmetrics.reports import SiteResult

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = PROJECT_ROOT / "test-output"

# Something Plotly drew for each trace type: cartesian traces, heatmap images, funnel bars.
PLOT_DRAWN = """(node) => {
    const drawn = node.querySelectorAll(
        '.cartesianlayer .trace path, .cartesianlayer .trace .point, .heatmaplayer image,'
        + ' .funnellayer .point, .waterfalllayer .point, .barlayer .point').length;
    const points = (node.data || []).reduce(
        (sum, trace) => sum + ((trace.x || trace.z || trace.y || []).length), 0);
    return {drawn, points, traces: (node.data || []).length,
            svg: node.querySelectorAll('.main-svg').length};
}"""
# Plotly's responsive charts have followed a new window width: the drawing of every chart on
# screen fits the chart's box (a heatmap's box keeps a minimum width, in a strip that scrolls
# sideways).
CHARTS_FIT = """() => [...document.querySelectorAll('.jm-chart')]
    .filter((node) => node.offsetParent !== null)
    .every((node) => [...node.querySelectorAll('.main-svg')].every(
        (svg) => svg.getBoundingClientRect().width <= node.getBoundingClientRect().width + 1))"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/install_test_tools.sh "
            "(apt-get install chromium) to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class PageWatch:
    """Console errors, page errors and requests leaving the site folder, for one page."""

    def __init__(self, page: object, site: Path) -> None:
        self.problems: list[str] = []
        self.site_url = site.resolve().as_uri()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on(
            "requestfailed",
            lambda request: self.problems.append(
                f"failed request: {request.url} ({request.failure})"
            ),
        )
        page.on("request", self._request)

    def _console(self, message: object) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _request(self, request: object) -> None:
        url = request.url
        if not (url.startswith(self.site_url) or url.startswith(("blob:", "data:"))):
            self.problems.append(f"request outside the site: {url}")


def _open(browser: object, site: Path, url: str, **context: object) -> tuple[object, PageWatch]:
    page = browser.new_context(accept_downloads=True, **context).new_page()
    watch = PageWatch(page, site)
    path, _, state = url.partition("#")  # a page's inputs in the URL after #
    page.goto((site / path).resolve().as_uri() + (f"#{state}" if state else ""), wait_until="load")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.jm-chart'))"
        ".every(node => node.getAttribute('data-rendered') === 'true')",
        timeout=20_000,
    )
    return page, watch


def _pages(report_site: SiteResult) -> list[str]:
    return [str(path.relative_to(report_site.out_dir)) for path in report_site.pages]


def test_every_page_opens_cleanly_and_draws_every_chart(
    browser: object, report_site: SiteResult
) -> None:
    OUTPUT.mkdir(exist_ok=True)
    site = report_site.out_dir
    charts_seen = 0
    for url in _pages(report_site):
        page, watch = _open(browser, site, url, viewport={"width": 1440, "height": 900})
        charts = page.query_selector_all(".jm-chart")
        for chart in charts:
            state = chart.evaluate(PLOT_DRAWN)
            chart_id = chart.get_attribute("id")
            assert state["svg"] > 0, f"{url} {chart_id}: no plot drawn"
            assert state["traces"] > 0 and state["points"] > 0, f"{url} {chart_id}: empty: {state}"
            assert state["drawn"] > 0, f"{url} {chart_id}: nothing drawn: {state}"
        charts_seen += len(charts)
        assert page.title().endswith("· JobMetrics"), url
        # Every page as a reader sees it, at 1440 px and on a 390 px phone, in test-output/.
        name = url.removesuffix(".html").replace("/", "-")
        page.screenshot(path=str(OUTPUT / f"page-{name}-1440.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_function(CHARTS_FIT, timeout=10_000)
        page.screenshot(path=str(OUTPUT / f"page-{name}-390.png"), full_page=True)
        assert watch.problems == [], f"{url}: {watch.problems}"
        page.context.close()
    assert charts_seen >= 20


def test_overview_screenshots_light_dark_and_phone(
    browser: object, report_site: SiteResult
) -> None:
    OUTPUT.mkdir(exist_ok=True)
    site = report_site.out_dir
    shots = {
        "overview.png": {"viewport": {"width": 1280, "height": 900}},
        "overview-dark.png": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"},
        "overview-phone.png": {"viewport": {"width": 390, "height": 844}, "is_mobile": True},
    }
    for name, options in shots.items():
        page, watch = _open(browser, site, "index.html", **options)
        page.screenshot(path=str(OUTPUT / name), full_page=True)
        assert watch.problems == [], f"{name}: {watch.problems}"
        if options.get("is_mobile"):
            # On a phone the sidebar hides behind the menu button and the page does not scroll
            # sideways.
            assert not page.is_visible("#jm-sidebar")
            page.click(".jm-menu")
            assert page.is_visible("#jm-sidebar")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.context.close()
        assert (OUTPUT / name).stat().st_size > 10_000


def test_download_csv_gives_the_chart_data(browser: object, report_site: SiteResult) -> None:
    page, watch = _open(browser, report_site.out_dir, "mrr.html")
    button = page.query_selector(".jm-chart-card .jm-download")
    dataset = button.get_attribute("data-dataset")
    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    embedded = page.evaluate(
        f"JSON.parse(document.getElementById('jm-page-data').textContent).datasets[{dataset!r}]"
    )
    # Named after the page and the query (the dataset key adds a digest of its rows).
    assert download.suggested_filename == f"mrr-{embedded['name']}.csv"
    assert dataset.startswith(f"{embedded['name']}-")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == embedded["columns"]
    assert len(rows) == len(embedded["rows"]) + 1
    assert watch.problems == []
    page.context.close()


HOSTILE_CELLS = """# Hostile

```sql hostile_cells
select * from (values
    (1, '=HYPERLINK("http://example.com","x")', -12.5),
    (2, '+1+2', 3.25),
    (3, '-2+3', -1),
    (4, '@SUM(A1)', 0),
    (5, chr(9) || 'tab first', 7),
    (6, chr(13) || 'carriage return first', 8),
    (7, 'plain text - with a dash inside', -0.5)
) as cells(row_number, label, delta_usd)
```

<DataTable data="hostile_cells" />
"""


def test_download_csv_keeps_formula_text_as_text(browser: object, build) -> None:
    """A text cell starting with =, +, -, @, tab or CR gets a leading apostrophe so a
    spreadsheet shows it instead of running it; numbers, negative ones too, stay numbers."""
    site = build({"index.md": HOSTILE_CELLS}).out_dir
    page, watch = _open(browser, site, "index.html")
    with page.expect_download() as download_info:
        page.click(".jm-download")
    text = Path(download_info.value.path()).read_bytes().decode("utf-8")  # CRs kept
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["row_number", "label", "delta_usd"]
    assert [row[1] for row in rows[1:]] == [
        '\'=HYPERLINK("http://example.com","x")',
        "'+1+2",
        "'-2+3",
        "'@SUM(A1)",
        "'\ttab first",
        "'\rcarriage return first",
        "plain text - with a dash inside",
    ]
    assert [row[2] for row in rows[1:]] == ["-12.5", "3.25", "-1", "0", "7", "8", "-0.5"]
    assert watch.problems == []
    page.context.close()


def test_tables_sort_when_a_header_is_clicked(browser: object, report_site: SiteResult) -> None:
    page, watch = _open(browser, report_site.out_dir, "mrr.html")
    table = page.query_selector(".jm-table")

    def first_column() -> list[str]:
        return table.evaluate(
            "t => Array.from(t.tBodies[0].rows).map(r => r.cells[0].getAttribute('data-v'))"
        )

    before = first_column()
    header = table.query_selector(".jm-sort[data-col='0']")
    header.click()
    ascending = first_column()
    header.click()
    descending = first_column()
    assert ascending == sorted(before)
    assert descending == sorted(before, reverse=True)
    assert watch.problems == []
    page.context.close()


def test_print_layout_shows_content_only(browser: object, report_site: SiteResult) -> None:
    page, watch = _open(browser, report_site.out_dir, "index.html")
    page.emulate_media(media="print")
    assert not page.is_visible("#jm-sidebar")
    assert not page.is_visible(".jm-download")
    assert page.evaluate("getComputedStyle(document.querySelector('.jm-main')).marginLeft") == "0px"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    assert watch.problems == []
    page.context.close()


def _wait_view(page: object, fragment: str) -> None:
    page.wait_for_function(
        "(fragment) => (document.documentElement.dataset.jmView || '').includes(fragment)",
        arg=fragment,
        timeout=10_000,
    )
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.jm-chart'))"
        ".every(node => node.getAttribute('data-rendered') === 'true')",
        timeout=10_000,
    )


def _tile(page: object) -> tuple[str, str]:
    tile = page.locator(".jm-bigvalue").first
    return tile.locator(".jm-bv-value").inner_text(), tile.locator(".jm-bv-comparison").inner_text()


def _shown_rows(page: object, table: int) -> list[list[str]]:
    rows = page.locator("table.jm-table").nth(table).locator("tbody tr:not(.jm-out)")
    return [
        [cell.get_attribute("data-v") for cell in row.locator("td").all()] for row in rows.all()
    ]


def test_inputs_redraw_every_part_and_live_in_the_url(
    browser: object, sales_site: Path, sales_expected
) -> None:
    """A reader changes the channel, the comparison and the period: tiles, text, charts, tables
    and CSV follow; the URL holds the state, the back button undoes it, a bookmark restores it."""
    site = sales_site.parent
    page, watch = _open(browser, site, "index.html")
    _wait_view(page, "channel=all")
    every = sales_expected(None)
    assert _tile(page)[0] == f"${every['2025-12-01']:,.2f}"

    page.select_option('[data-input="channel"] select', "referral")
    _wait_view(page, "channel=referral")
    referral = sales_expected("referral")
    assert page.url.endswith("#channel=referral")
    value, comparison = _tile(page)
    assert value == f"${referral['2025-12-01']:,.2f}"
    change = (referral["2025-12-01"] / referral["2025-11-01"] - 1) * 100
    assert f"{change:+.1f}% vs previous month" in comparison
    assert "Dec 2025: Referral" in page.locator(".jm-per-period:not([hidden]) h2").inner_text()
    trend = page.locator(".jm-chart").first.evaluate("(node) => node.data[0].y")
    assert trend == [float(referral[month]) for month in sorted(referral)]

    page.click('[data-input="compare"] button[data-value="previous_quarter"]')
    _wait_view(page, "compare=previous_quarter")
    change = (referral["2025-12-01"] / referral["2025-09-01"] - 1) * 100
    assert f"{change:+.1f}% vs previous quarter" in _tile(page)[1]

    page.select_option('[data-input="period"] [data-role="preset"]', "last_3_months")
    page.wait_for_function("location.hash.includes('period=last_3_months')")
    page.wait_for_timeout(200)
    last3 = ["2025-10-01", "2025-11-01", "2025-12-01"]
    assert [row[0] for row in _shown_rows(page, 0)] == last3
    assert page.locator(".jm-chart").first.evaluate("(node) => node.data[0].x") == last3
    with page.expect_download() as download:
        page.locator(".jm-table-card .jm-download").first.click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert [row[0] for row in rows[1:]] == last3

    page.select_option('[data-input="period"] [data-role="end"]', "2025-11-01")
    page.wait_for_function("location.hash.includes('period=2025-10-01~2025-11-01')")
    page.wait_for_timeout(200)
    assert _tile(page)[0] == f"${referral['2025-11-01']:,.2f}"
    assert "Nov 2025" in page.locator(".jm-per-period:not([hidden]) h2").inner_text()

    # Rows of the multiple dropdown's column: one channel unticked leaves two bar series.
    page.locator('[data-input="shown"] summary').click()
    page.locator('[data-input="shown"] input[value="organic"]').uncheck()
    page.wait_for_function("location.hash.includes('shown=')")
    page.wait_for_timeout(200)
    bars = page.locator(".jm-chart").nth(1).evaluate("(node) => node.data.map(t => t.meta)")
    assert sorted(bars) == ["paid_search", "referral"]
    channels = {row[1] for row in _shown_rows(page, 1)}
    assert channels == {"paid_search", "referral"}

    page.go_back()
    page.wait_for_function("!location.hash.includes('shown=')")
    page.go_back()
    page.wait_for_function("location.hash.endsWith('period=last_3_months')")
    page.wait_for_timeout(200)
    assert _tile(page)[0] == f"${referral['2025-12-01']:,.2f}"
    assert watch.problems == []
    page.context.close()

    # A bookmarked view opens as it was shared.
    organic = sales_expected("organic")
    page_url = (site / "index.html").resolve().as_uri()
    page = browser.new_context().new_page()
    page.goto(f"{page_url}#channel=organic&period=last_6_months")
    _wait_view(page, "channel=organic")
    assert _tile(page)[0] == f"${organic['2025-12-01']:,.2f}"
    assert page.locator('[data-input="channel"] select').input_value() == "organic"
    assert len(_shown_rows(page, 0)) == 6
    page.context.close()


ALERTS_PAGE = """# Alerts

```sql alerts
select * from fct_alerts order by alert_date desc
```

```sql severities
select distinct severity from fct_alerts order by severity
```

<Dropdown name="severity" data="severities" value="severity" column="severity" multiple />

<AlertList data="alerts" metric="metric" />
"""


def test_a_multiple_dropdown_filters_alert_lists(browser: object, build) -> None:
    result = build({"index.md": ALERTS_PAGE})
    page, watch = _open(browser, result.out_dir, "index.html")
    page.wait_for_function("document.documentElement.dataset.jmView !== undefined")
    shown = page.locator(".jm-alerts li:not([hidden]) .jm-badge")
    assert sorted(text.lower() for text in shown.all_inner_texts()) == [
        "critical",
        "warning",
        "warning",
    ]
    page.goto(page.url.split("#")[0] + "#severity=warning")
    page.wait_for_function("document.querySelectorAll('.jm-alerts li[hidden]').length === 1")
    assert [text.lower() for text in shown.all_inner_texts()] == ["warning", "warning"]
    assert watch.problems == []
    page.context.close()


def _mart(warehouse: Path, sql: str) -> list[tuple]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _chart_data(page: object, title: str) -> dict[str, list]:
    """Trace name → y values of the chart captioned `title`, as Plotly drew it."""
    return page.locator(f'.jm-chart[aria-label="{title}"]').evaluate(
        "(node) => Object.fromEntries(node.data.map((t) => [t.name, t.y]))"
    )


def test_the_real_pages_follow_their_inputs_to_the_marts_rows(
    browser: object, report_site: SiteResult, report_warehouse: Path
) -> None:
    """On the built site: a channel chosen on the MRR page draws exactly that channel's rows of
    fct_mrr_monthly_by_dimension; a period ending earlier shows the overview tiles of that month
    of fct_mrr_monthly; both states come back from the URL."""
    site = report_site.out_dir
    complete = "select period_start_date from dim_periods where grain = 'month' and is_complete"
    expected = _mart(
        report_warehouse,
        "select new_mrr, -churned_mrr from fct_mrr_monthly_by_dimension "
        "where dimension = 'acquisition_channel' and dimension_value = 'paid_search' "
        f"and month in ({complete}) order by month",
    )
    page, watch = _open(browser, site, "mrr.html")
    page.wait_for_function("document.documentElement.dataset.jmView === 'slice=all'")
    page.select_option('[data-input="slice"] select', "acquisition_channel:paid_search")
    _wait_view(page, "slice=acquisition_channel:paid_search")
    drawn = _chart_data(page, "New MRR against MRR lost to churn")
    assert drawn["New MRR"] == [float(row[0]) for row in expected]
    assert drawn["Lost to churn MRR"] == [float(row[1]) for row in expected]
    assert page.url.endswith("#slice=acquisition_channel%3Apaid_search")
    assert watch.problems == []
    page.context.close()

    # The same view from a bookmark.
    page, watch = _open(browser, site, "mrr.html#slice=acquisition_channel%3Apaid_search")
    _wait_view(page, "slice=acquisition_channel:paid_search")
    assert _chart_data(page, "New MRR against MRR lost to churn")["New MRR"] == [
        float(row[0]) for row in expected
    ]
    page.context.close()

    months = [row[0] for row in _mart(report_warehouse, complete + " order by 1")]
    end = months[2]
    mrr, customers = _mart(
        report_warehouse,
        f"select ending_mrr, paying_customers from fct_mrr_monthly where month = '{end}'",
    )[0]
    page, watch = _open(browser, site, f"index.html#period={months[0]}~{end}")
    page.wait_for_function("document.documentElement.dataset.jmApplied !== undefined")
    tiles = {
        tile.locator(".jm-bv-title").inner_text(): tile.locator(".jm-bv-value").inner_text()
        for tile in page.locator(".jm-bigvalue").all()
    }
    assert tiles["MRR"] == format_value(mrr, "usd0")
    assert tiles["Paying customers"] == format_value(customers, "num0")
    heading = page.locator(".jm-per-period:not([hidden]) h2").inner_text()
    assert format_value(end, "month") in heading
    assert watch.problems == []
    page.context.close()
