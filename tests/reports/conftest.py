"""Tiny hand-made warehouses and page folders for the report pipeline's unit tests."""

from __future__ import annotations

import base64
import gzip
import json
import os
import pickle
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jobmetrics.reports import SiteResult, build_site
from tests.once import produced_once

PAGE_VIEWS = re.compile(
    r'<script type="application/octet-stream" id="jm-page-views"[^>]*>(.*?)</script>', re.S
)
PAGE_DATA = re.compile(r'<script type="application/json" id="jm-page-data">(.*?)</script>', re.S)


def make_tiny_warehouse(path: Path) -> Path:
    """Twelve months of a made-up MRR mart, two channels, three alerts."""
    connection = duckdb.connect(str(path))
    try:
        connection.execute(
            """
            create table fct_mrr_monthly as
            select
                (date '2025-01-01' + to_months(i))::date as month,
                (1000 + i * 100.005)::decimal(18, 2) as ending_mrr,
                (100 + i)::decimal(18, 2) as new_mrr,
                (-20 - i)::decimal(18, 2) as churned_mrr,
                (0.03 + i / 1000)::double as logo_churn_rate,
                (10 + i)::integer as paying_customers
            from range(12) as t(i)
            """
        )
        connection.execute(
            """
            create table dim_channels as
            select * from (values ('paid_social', 'Paid social'), ('organic', 'Organic'))
                as t(channel, channel_label)
            """
        )
        connection.execute(
            """
            create table fct_alerts as
            select * from (values
                (date '2025-12-03', 'signups', 'critical', 'Signups fell 60% below baseline'),
                (date '2025-12-01', 'failure_rate', 'warning', 'Failure rate 4.1% above 3%'),
                (date '2025-11-20', 'dau', 'warning', 'DAU 20% below baseline')
            ) as t(alert_date, metric, severity, message)
            """
        )
    finally:
        connection.close()
    return path


@pytest.fixture
def tiny_warehouse(tmp_path: Path) -> Path:
    return make_tiny_warehouse(tmp_path / "tiny.duckdb")


PageWriter = Callable[[dict[str, str]], Path]


@pytest.fixture
def write_pages(tmp_path: Path) -> PageWriter:
    """Write {relative path: Markdown} into a fresh pages folder and return the folder."""
    counter = iter(range(1000))

    def write(pages: dict[str, str]) -> Path:
        folder = tmp_path / f"pages{next(counter)}"
        for relative, text in pages.items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return folder

    return write


Builder = Callable[..., SiteResult]


@pytest.fixture
def build(tiny_warehouse: Path, write_pages: PageWriter, tmp_path: Path) -> Builder:
    """Build a site from {path: Markdown} against the tiny warehouse into tmp_path/site."""

    def run(pages: dict[str, str], **options: object) -> SiteResult:
        return build_site(
            tiny_warehouse, tmp_path / "site", pages_dir=write_pages(pages), **options
        )

    return run


def read_page_data(html: str) -> dict:
    """The JSON a page embeds (datasets for CSV download, Plotly figures), with the other views
    of a page with inputs unpacked into it (chunks, their charts and datasets)."""
    match = PAGE_DATA.search(html)
    assert match, "page has no embedded data"
    data = json.loads(match.group(1))
    data["chunks"] = {}
    packed = PAGE_VIEWS.search(html)
    if packed:
        others = json.loads(gzip.decompress(base64.b64decode(packed.group(1))))
        for key in ("chunks", "charts", "datasets"):
            data[key].update(others[key])
    return data


@pytest.fixture
def page_data() -> Callable[[str], dict]:
    return read_page_data


@pytest.fixture(scope="session")
def report_warehouse(request: pytest.FixtureRequest) -> Path:
    """The warehouse the real pages are tested on: the session's small generated one, or the
    built DuckDB file named by REPORTS_TEST_WAREHOUSE (to iterate on pages without a rebuild;
    REPORTS_TEST_TARGET then names the dbt target folder holding its manifest.json)."""
    prebuilt = os.environ.get("REPORTS_TEST_WAREHOUSE")
    if prebuilt:
        if os.environ.get("REPORTS_TEST_TARGET"):
            os.environ["DBT_TARGET_PATH"] = os.environ["REPORTS_TEST_TARGET"]
        return Path(prebuilt)
    return request.getfixturevalue("warehouse")


@pytest.fixture(scope="session")
def report_site(report_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> SiteResult:
    """The real pages built from the report warehouse (strict); built once per test run and
    shared by the workers (tests/once.py), so read only."""

    def produce(folder: Path) -> None:
        result = build_site(report_warehouse, folder / "site")
        (folder / "result.pickle").write_bytes(pickle.dumps(result))

    folder = produced_once(tmp_path_factory, "report-site", produce)
    return pickle.loads((folder / "result.pickle").read_bytes())


# A page with inputs on a made-up sales table (tests/reports/test_inputs*.py, test_browser.py)

CHANNELS = ("paid_search", "organic", "referral")

SALES_PAGE = """# Sales

```sql channels
select distinct channel from fct_sales order by channel
```

```sql months
select distinct month from fct_sales order by month
```

<Dropdown name="channel" data="channels" value="channel" title="Channel" all="All channels" />
<ButtonGroup name="compare"
    options="previous_month:vs previous month,previous_quarter:vs previous quarter" />
<DateRange name="period" data="months" column="month" />

```sql sales
select
    month,
    sum(mrr) as mrr,
    lag(sum(mrr), case {{ inputs.compare.value | sql }} when 'previous_quarter' then 3 else 1 end)
        over (order by month) as mrr_prev
from fct_sales
{% if not inputs.channel.is_all %}where channel = {{ inputs.channel.value | sql }}{% endif %}
group by month
order by month
```

{% call(row) per_period(sales, "month") %}
## {{ row.month | month }}: {{ inputs.channel.label }}

MRR was {{ row.mrr | usd }}.
{% endcall %}

<BigValue data="sales" value="mrr" comparison="mrr_prev" x="month"
    comparison_title="{{ inputs.compare.label }}" />

<DataTable data="sales" />

```sql trend
select month, mrr from ${sales}
```

<LineChart data="trend" x="month" y="mrr" title="MRR" />

<Dropdown name="shown" data="channels" value="channel" column="channel" multiple title="Channels" />

```sql by_channel
select month, channel, sum(mrr) as mrr from fct_sales group by all order by month, channel
```

<BarChart data="by_channel" x="month" y="mrr" series="channel" title="MRR by channel" />

<DataTable data="by_channel" rows="50" />
"""


def sales_warehouse(path: Path) -> Path:
    """Three channels, twelve months; each channel's MRR grows by its own step."""
    connection = duckdb.connect(str(path))
    try:
        connection.execute(
            """
            create table fct_sales as
            select
                (date '2025-01-01' + to_months(m))::date as month,
                channel,
                (100 * (c + 1) + m * (c + 2))::decimal(18, 2) as mrr
            from range(12) as months(m)
            cross join (values (0, 'paid_search'), (1, 'organic'), (2, 'referral')) as t(c, channel)
            """
        )
    finally:
        connection.close()
    return path


def expected_mrr(channel: str | None) -> dict[str, Decimal]:
    """Month → MRR computed in Python from the same rule the table was filled with."""
    totals: dict[str, Decimal] = {}
    for index, name in enumerate(CHANNELS):
        if channel not in (None, name):
            continue
        for m in range(12):
            month = f"2025-{m + 1:02d}-01"
            totals[month] = totals.get(month, Decimal(0)) + Decimal(
                100 * (index + 1) + m * (index + 2)
            )
    return totals


@pytest.fixture
def sales_site(tmp_path: Path, write_pages: PageWriter) -> Path:
    """The sales page (a channel dropdown, a compare button group, a date range) built."""
    warehouse = sales_warehouse(tmp_path / "sales.duckdb")
    result = build_site(
        warehouse, tmp_path / "site", pages_dir=write_pages({"index.md": SALES_PAGE})
    )
    return result.pages[0]


@pytest.fixture
def sales_expected() -> Callable[[str | None], dict[str, Decimal]]:
    """expected_mrr: month → MRR of one channel (None: all) of the sales table."""
    return expected_mrr
