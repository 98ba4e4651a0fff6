"""The Markdown → SQL → Jinja → components pipeline on tiny pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jobmetrics.reports import PageError
from jobmetrics.reports.components import humanize
from jobmetrics.reports.queries import find_sql_blocks
from jobmetrics.reports.render import render_page

KPI_PAGE = """---
title: KPIs
---
# KPIs

```sql kpis
select month, ending_mrr as mrr, lag(ending_mrr) over (order by month) as mrr_prev,
    logo_churn_rate, lag(logo_churn_rate) over (order by month) as churn_prev
from fct_mrr_monthly
order by month desc
```

MRR was {{ kpis.mrr | usd }} in {{ kpis.month | month }}; {{ kpis | length }} months.

<BigValue data="kpis" value="mrr" comparison="mrr_prev" sparkline="month" />
<BigValue data="kpis" value="logo_churn_rate" comparison="churn_prev" title="Logo churn" />
"""


def html_of(result, name: str = "index.html") -> str:
    return (result.out_dir / name).read_text(encoding="utf-8")


def test_sql_blocks_are_found_with_their_page_lines() -> None:
    source = (
        "# T\n\n```sql first\nselect 1\n```\n\ntext\n\n```python\nx\n```\n"
        "```sql second\nselect 2\n```\n"
    )
    blocks = find_sql_blocks(source)
    assert [(block.name, block.line) for block in blocks] == [("first", 4), ("second", 13)]


def test_inline_values_use_format_filters_and_the_first_row(build) -> None:
    result = build({"index.md": KPI_PAGE})
    html = html_of(result)
    assert "MRR was $2,100.06 in Dec 2025; 12 months." in html


def test_big_value_shows_value_comparison_and_sparkline(build) -> None:
    html = html_of(build({"index.md": KPI_PAGE}))
    tile = re.search(r'<div class="jm-bigvalue" data-query="kpis" data-column="mrr".*?</svg>', html)
    assert tile, "MRR tile missing"
    assert 'data-value="2100.06"' in tile.group(0)
    assert "$2,100.06" in tile.group(0)
    assert "jm-bv-comparison good" in tile.group(0)  # MRR went up: good
    assert "+5.0% vs previous" in tile.group(0)


def test_down_is_good_from_the_attribute_turns_a_rise_red(build) -> None:
    page = KPI_PAGE.replace('title="Logo churn"', 'title="Logo churn" down_is_good="true"')
    html = html_of(build({"index.md": page}))
    churn = re.search(r'data-column="logo_churn_rate".*?</div></div>', html).group(0)
    assert "jm-bv-comparison bad" in churn
    assert "+0.1 pts" in churn


@pytest.mark.parametrize(
    ("registry", "tone"),
    [({"logo_churn_rate": True}, "bad"), ({"logo_churn_rate": False}, "good"), ({}, "bad")],
)
def test_down_is_good_from_the_metric_registry_before_the_attribute(
    build, monkeypatch: pytest.MonkeyPatch, registry: dict[str, bool], tone: str
) -> None:
    from jobmetrics.reports import build as build_module
    from jobmetrics.reports.project import ProjectInfo

    monkeypatch.setattr(build_module, "read_project", lambda: ProjectInfo(down_is_good=registry))
    page = KPI_PAGE.replace('title="Logo churn"', 'title="Logo churn" down_is_good="true"')
    html = html_of(build({"index.md": page}))
    churn = re.search(r'data-column="logo_churn_rate".*?</div></div>', html).group(0)
    assert f"jm-bv-comparison {tone}" in churn  # churn rose: bad when down is good


def test_metric_registry_flags_by_metric_and_mart_column(tmp_path: Path) -> None:
    import json
    from dataclasses import replace

    from jobmetrics.core import settings as settings_module
    from jobmetrics.reports.project import read_project

    def metric(name: str, meta: dict) -> dict:
        return {"name": name, "type": "simple", "config": {"meta": meta}}

    manifest = {
        "metrics": {
            "metric.jobmetrics.logo_churn": metric(
                "logo_churn",
                {"down_is_good": True, "mart_column": "fct_mrr_monthly.logo_churn_rate"},
            ),
            "metric.jobmetrics.mrr": metric("mrr", {"mart_column": "fct_mrr_monthly.ending_mrr"}),
        }
    }
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    current = replace(settings_module.load(), dbt_target_dir=tmp_path / "target")
    flags = read_project(settings=current).down_is_good
    assert flags == {
        "logo_churn": True,
        "logo_churn_rate": True,
        "mrr": False,
        "ending_mrr": False,
    }
    missing = replace(current, dbt_target_dir=tmp_path / "nowhere")
    assert read_project(settings=missing).down_is_good == {}


def test_later_queries_read_earlier_results(build, page_data) -> None:
    page = """# Trend
```sql months
select month, ending_mrr from fct_mrr_monthly
```
```sql recent
select * from ${months} where month >= '2025-10-01' order by month
```
<LineChart data="recent" x="month" y="ending_mrr" title="Recent MRR" />
"""
    html = html_of(build({"index.md": page}))
    data = page_data(html)
    trace = list(data["charts"].values())[0]["data"][0]
    assert trace["x"] == ["2025-10-01", "2025-11-01", "2025-12-01"]
    assert trace["y"] == [1900.05, 2000.05, 2100.06]
    assert trace["hovertemplate"] == "%{y:$,.2f}"
    (recent,) = [item for item in data["datasets"].values() if item["name"] == "recent"]
    assert recent["columns"] == ["month", "ending_mrr"]
    assert len(recent["rows"]) == 3


def test_loops_and_conditionals_over_results(build) -> None:
    page = """# Alerts
```sql alerts
select * from fct_alerts order by alert_date
```
{% for alert in alerts %}{% if alert.severity == 'critical' %}
- CRITICAL {{ alert.metric }} on {{ alert.alert_date | date }}
{% endif %}{% endfor %}
{% if not alerts %}No alerts{% endif %}
"""
    html = html_of(build({"index.md": page}))
    assert "<li>CRITICAL signups on 2025-12-03</li>" in html
    assert "failure_rate on" not in html


def test_lineage_lists_the_warehouse_tables_read(build) -> None:
    page = """# Mixed
```sql a
select month from fct_mrr_monthly
```
```sql b
select count(*) as n from ${a} join dim_channels on true
```
"""
    html = html_of(build({"index.md": page}))
    meta = re.search(r'<p class="jm-meta">(.*?)</p>', html, re.S).group(1)
    assert "Data built" in meta
    assert re.findall(r"<code>(\w+)</code>", meta) == ["dim_channels", "fct_mrr_monthly"]
    assert "docs/index.html#!/model/model.jobmetrics.fct_mrr_monthly" in meta


def test_templated_page_makes_one_page_per_row(build) -> None:
    template = """---
params_query: select channel, channel_label from dim_channels order by channel
title: "Channel: {{ params.channel_label }}"
nav_title: "{{ params.channel_label }}"
nav_parent: index
---
```sql months
select {{ params.channel | sql }} as channel, count(*) as months from fct_mrr_monthly
```
{{ params.channel_label }} has {{ months.months }} months.
"""
    result = build({"index.md": "# Home\n", "channels/[channel].md": template})
    names = sorted(str(path.relative_to(result.out_dir)) for path in result.pages)
    assert names == ["channels/organic.html", "channels/paid-social.html", "index.html"]
    social = html_of(result, "channels/paid-social.html")
    assert "<h1>Channel: Paid social</h1>" in social
    assert "Paid social has 12 months." in social
    assert 'href="../assets/site.css"' in social
    assert re.findall(r"<code>(\w+)</code>", social.split("</p>")[0]) == [
        "dim_channels",
        "fct_mrr_monthly",
    ]
    home = html_of(result)
    assert 'href="channels/organic.html">Organic</a>' in home


def test_data_table_formats_sorts_and_limits_rows(build, page_data) -> None:
    page = """# Table
```sql months
select month, ending_mrr, churned_mrr, logo_churn_rate, paying_customers
from fct_mrr_monthly order by month
```
<DataTable data="months" rows="5" fmt="ending_mrr:usd0" />
"""
    html = html_of(build({"index.md": page}))
    table = re.search(r"<table.*?</table>", html, re.S).group(0)
    assert '<td data-v="2025-01-01">Jan 2025</td>' in table
    assert '<td class="num" data-v="1000.0">$1,000</td>' in table
    assert '<td class="num neg" data-v="-20.0">-$20.00</td>' in table
    assert '<td class="num" data-v="0.03">3.0%</td>' in table
    assert table.count('class="jm-more"') == 7
    assert "Show all 12 rows" in html
    datasets = page_data(html)["datasets"].values()
    assert [len(item["rows"]) for item in datasets if item["name"] == "months"] == [12]


def test_every_chart_type_renders_a_figure_with_data(build, page_data) -> None:
    page = """# Charts
```sql months
select month, ending_mrr, new_mrr, churned_mrr from fct_mrr_monthly order by month
```
```sql long
select month, 'new' as movement, new_mrr as mrr from fct_mrr_monthly
union all select month, 'churn', churned_mrr from fct_mrr_monthly order by 1, 2
```
```sql steps
select * from (values (1, 'start', 1000.0), (2, 'new', 200.0), (3, 'churn', -50.0),
    (4, 'end', 1150.0)) t(i, step, mrr) order by i
```
```sql cohorts
select '2025-01-01'::date as cohort_month, m as months_since_start, 1.0 - m / 10 as logo_retention
from range(3) t(m)
```
```sql stages
select * from (values ('visitors', 1000), ('signups', 300), ('paid', 30)) t(stage, users)
```
<LineChart data="months" x="month" y="ending_mrr" />
<AreaChart data="months" x="month" y="new_mrr,churned_mrr" />
<BarChart data="long" x="month" y="mrr" series="movement" />
<Waterfall data="steps" x="step" y="mrr" />
<Heatmap data="cohorts" x="months_since_start" y="cohort_month" value="logo_retention" />
<Funnel data="stages" stage="stage" value="users" />
"""
    data = page_data(html_of(build({"index.md": page})))
    kinds = [figure["data"][0]["type"] for figure in data["charts"].values()]
    assert kinds == ["scatter", "scatter", "bar", "waterfall", "heatmap", "funnel"]
    for figure in data["charts"].values():
        assert figure["data"], "chart without traces"
        assert any(trace.get("x") or trace.get("z") for trace in figure["data"])
    bar = list(data["charts"].values())[2]
    assert [trace["name"] for trace in bar["data"]] == ["Churn", "New"]  # labels, not values
    assert bar["layout"]["barmode"] == "relative"
    waterfall = list(data["charts"].values())[3]["data"][0]
    assert waterfall["measure"] == ["absolute", "relative", "relative", "total"]
    heatmap = list(data["charts"].values())[4]["data"][0]
    assert heatmap["y"] == ["Jan 2025"]
    assert heatmap["text"] == [["100.0%", "90.0%", "80.0%"]]


def test_alert_list_shows_severity_and_message(build) -> None:
    page = """# Alerts
```sql alerts
select * from fct_alerts order by alert_date desc
```
```sql none
select * from ${alerts} where false
```
<AlertList data="alerts" metric="metric" />
<AlertList data="none" empty="All clear" />
"""
    html = html_of(build({"index.md": page}))
    assert html.count('class="jm-alert severity-critical"') == 1
    assert html.count('class="jm-alert severity-warning"') == 2
    assert "Signups fell 60% below baseline" in html
    assert '<p class="jm-all-clear">All clear</p>' in html


def test_narrative_without_an_api_key_is_a_labelled_offline_summary(
    build, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    page = """# N
```sql months
select month, ending_mrr, logo_churn_rate from fct_mrr_monthly order by month
```
<Narrative data="months" />
"""
    html = html_of(build({"index.md": page}))
    aside = re.search(r'<aside class="jm-narrative" data-source="offline">.*?</aside>', html, re.S)
    assert aside, "no offline narrative"
    assert "Automatic summary" in aside.group(0)
    assert "2,100.06" in aside.group(0)  # the latest month's MRR, from the engine's summary


def test_narrative_passes_the_named_results_to_the_engine(
    build, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobmetrics.ai.narratives import Narrative, Narrator

    calls = []

    def write(narrator, topic, results, ai=True):
        calls.append((topic, results, narrator.refresh))
        return Narrative("MRR **grew**.", "cache", "AI summary")

    monkeypatch.setattr(Narrator, "write", write)
    page = """# Growth
```sql months
select month, ending_mrr from fct_mrr_monthly order by month
```
<Narrative data="months" topic="MRR growth" />
"""
    from jobmetrics.core import settings as settings_module

    narrator = Narrator(settings_module.load(), refresh=True)
    html = html_of(build({"index.md": page}, narrator=narrator))
    assert "<p>MRR <strong>grew</strong>.</p>" in html
    assert 'data-source="cache"' in html
    topic, results, refresh = calls[0]
    assert topic == "MRR growth" and refresh is True
    assert results["months"][-1]["ending_mrr"] == Decimal("2100.06")


def test_a_failing_narrative_engine_names_the_page_line(
    build, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobmetrics.ai.narratives import Narrator

    def broken(narrator, topic, results):
        raise RuntimeError("boom")

    monkeypatch.setattr(Narrator, "write", broken)
    page = '# T\n```sql a\nselect 1 as x\n```\n\n<Narrative data="a" />\n'
    with pytest.raises(PageError, match=r"index\.md:6: <Narrative> the narrative engine failed"):
        build({"index.md": page})


def test_humanize_column_names() -> None:
    assert humanize("ending_mrr") == "Ending MRR"
    assert humanize("ltv_to_cac") == "LTV:CAC"
    assert humanize("cac_usd") == "CAC"
    assert humanize("spend_usd") == "Spend"
    assert humanize("p95_processing_ms") == "p95 processing time"  # the format shows "ms"


# ---- broken pages: the error names the file, the line and the cause, in one line ----

BROKEN = [
    (
        "# T\n\n```sql months\nselect month\nfrom fct_mrr_monthly\nwhere nope > 1\n```\n",
        6,
        r"query 'months': Binder Error: Referenced column \"nope\" not found",
    ),
    (
        "# T\n\n```sql months\nselect * from no_such_table\n```\n",
        4,
        "Catalog Error: Table with name no_such_table does not exist",
    ),
    (
        "# T\n```sql a\nselect 1 as x\n```\n```sql b\nselect *\nfrom ${c}\n```\n",
        7,
        r"query reference \$\{c\} is not an earlier query on this page \(earlier: a\)",
    ),
    (
        '# T\n```sql a\nselect 1 as x\n```\n\ntext\n\n<Sparkle data="a" />\n',
        8,
        "unknown component <Sparkle>",
    ),
    (
        '# T\n```sql a\nselect 1 as x\n```\n\n<LineChart data="a" x="x" y="y" />\n',
        6,
        r"<LineChart> column 'y' is not in query 'a' \(columns: x\)",
    ),
    (
        '# T\n```sql a\nselect 1 as x\n```\n\n<BigValue data="a" value="x" colour="red" />\n',
        6,
        "<BigValue> has no attribute 'colour'",
    ),
    (
        '# T\n```sql a\nselect 1 as x\n```\n\n\n<BigValue data="b" value="x" />\n',
        7,
        r"<BigValue> data='b' is not a query on this page \(queries: a\)",
    ),
    (
        '# T\n```sql a\nselect 1 as x\n```\n<BigValue data="a" value="x" fmt="dollars" />\n',
        5,
        "unknown format 'dollars'",
    ),
    (
        "# T\n```sql a\nselect 1 as x\n```\n\nValue: {{ a.y }}\n",
        6,
        r"query 'a' has no column 'y' \(columns: x\)",
    ),
    (
        "# T\n\n{% for row in a %}\n",
        3,
        "template: Unexpected end of template",
    ),
]


@pytest.mark.parametrize(("page", "line", "message"), BROKEN)
def test_broken_page_names_file_line_and_cause(build, page: str, line: int, message: str) -> None:
    with pytest.raises(PageError) as caught:
        build({"index.md": page})
    error = caught.value
    assert error.page.name == "index.md"
    assert error.line == line, str(error)
    assert re.search(message, error.message), str(error)
    assert "\n" not in str(error)
    assert str(error).endswith(f"index.md:{line}: {error.message}")


def test_page_error_is_a_user_error() -> None:
    from jobmetrics.core.errors import UserError

    assert issubclass(PageError, UserError)


def test_queries_run_read_only(tiny_warehouse: Path, write_pages: Callable) -> None:
    from jobmetrics.reports.pages_loader import PageInstance, load_pages

    folder = write_pages({"index.md": "# T\n```sql a\nselect 1 as x\n```\n"})
    connection = duckdb.connect(str(tiny_warehouse), read_only=True)
    try:
        source = load_pages(folder)[0]
        render_page(PageInstance(source, "index.html", "T"), connection)
        with pytest.raises(duckdb.Error, match="read-only"):
            connection.execute("create table t as select 1")
        # Page results live in the page's own connection and are gone afterwards.
        assert connection.execute(
            "select count(*) from duckdb_tables() where table_name like '__page_%'"
        ).fetchone() == (0,)
    finally:
        connection.close()


def test_shared_sql_snippets_are_included_from_underscore_files(build, tmp_path: Path) -> None:
    result = build(
        {
            "_sql/recent.sql": "select month from fct_mrr_monthly where month > '2025-10-31'",
            "index.md": "# I\n```sql recent\n{% include '_sql/recent.sql' %}\n```\n"
            "{{ recent | length }} recent months\n",
        }
    )
    assert [path.name for path in result.pages] == ["index.html"]  # _sql/ is not a page
    assert "2 recent months" in html_of(result)


def test_filter_attribute_draws_one_chart_per_value_in_a_loop(build, page_data) -> None:
    page = """# Alerts
```sql alerts
select alert_date, metric, severity, 1 as value from fct_alerts order by alert_date
```
{% for alert in alerts %}
<LineChart data="alerts" filter="metric={{ alert.metric }}" x="alert_date" y="value" />
{% endfor %}
"""
    data = page_data(html_of(build({"index.md": page})))
    assert len(data["charts"]) == 3
    names = sorted(item["name"] for item in data["datasets"].values())
    assert names == ["alerts-dau", "alerts-failure_rate", "alerts-signups"]
    assert all(len(dataset["rows"]) == 1 for dataset in data["datasets"].values())


def test_adjacent_tiles_share_one_row(build) -> None:
    lone_tile = KPI_PAGE.split("\n")[-2]
    html = html_of(build({"index.md": KPI_PAGE + "\nSome text.\n\n" + lone_tile + "\n"}))
    row, after = html.split('<div class="jm-tiles">')[1].split("<p>Some text.</p>")
    assert row.count('class="jm-bigvalue"') == 2
    assert after.count('class="jm-bigvalue"') == 1
    assert '<div class="jm-tiles">' not in after  # a lone tile is not wrapped
