"""The semantic layer on a built warehouse: `mf query` answers every metric, and each equals the
mart's figure for the last full period; narratives and `ask` work on the real marts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest
from ai_helpers import file_hash
from fake_anthropic import FakeApi, tool_reply
from number_trace import check

from jobmetrics.ai import ask, narratives
from jobmetrics.ai.facts import build_facts
from jobmetrics.ai.registry import load_registry
from jobmetrics.ai.semantic_query import mf_query
from jobmetrics.core import settings as settings_module

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ai_built(built_settings: settings_module.Settings) -> settings_module.Settings:
    return replace(built_settings, anthropic_api_key="")


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _last_full_periods(connection: duckdb.DuckDBPyConnection) -> dict[str, date]:
    month = connection.execute(
        "select max(month) from fct_mrr_monthly where is_complete_month"
    ).fetchone()[0]
    day = connection.execute("select max(activity_date) from fct_product_daily").fetchone()[0]
    return {"month": month, "day": day}


def test_mf_query_answers_every_metric_equal_to_the_mart(ai_built):
    registry = load_registry(ai_built)
    with duckdb.connect(str(ai_built.warehouse), read_only=True) as connection:
        periods = _last_full_periods(connection)
        expected = {}
        for metric in registry:
            condition = f" and {metric.mart_filter}" if metric.mart_filter else ""
            row = connection.execute(
                f"select {metric.column} from {metric.model} "
                f"where {metric.time_column} = ?{condition}",
                [periods[metric.grain]],
            ).fetchone()
            assert row is not None, f"{metric.model} has no row for {periods[metric.grain]}"
            expected[metric.name] = row[0]
        # mf query runs while this reader holds the file: it opens it read-only too, so a
        # DuckDB CLI or a report reading the warehouse does not make it fail (nor the reverse)
        compared = []
        for grain in ("month", "day"):
            names = [metric.name for metric in registry if metric.grain == grain]
            rows = mf_query(ai_built, names, group_by=[f"metric_time__{grain}"])
            by_period = {_day(row[f"metric_time__{grain}"]): row for row in rows}
            answered = by_period[periods[grain]]
            for name in names:
                want = expected[name]
                got = answered[name]
                if want is None:
                    assert got is None, f"{name}: mf gave {got}, the mart NULL"
                else:
                    # a mart column stored to cents (decimal(18,2)) is the exact figure rounded
                    places = -want.as_tuple().exponent if isinstance(want, Decimal) else 6
                    tolerance = 0.5 * 10.0**-places + 1e-9
                    assert got == pytest.approx(float(want), rel=1e-9, abs=tolerance), name
                compared.append(name)
    assert sorted(compared) == sorted(metric.name for metric in registry)
    print(f"mf query matched {len(compared)} metrics at {periods}")


def test_offline_narrative_on_real_marts_is_grounded(ai_built):
    with duckdb.connect(str(ai_built.warehouse), read_only=True) as connection:
        cursor = connection.execute(
            "select month, starting_mrr, new_mrr, churned_mrr, ending_mrr, paying_customers, "
            "logo_churn_rate, net_revenue_retention, quick_ratio "
            "from fct_mrr_monthly where is_complete_month order by month"
        )
        columns = [column[0] for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    narrative = narratives.Narrator(ai_built).write("MRR", {"movements": rows})
    assert narrative.source == "offline" and "MRR" in narrative.text
    facts = build_facts("MRR", {"movements": rows}, load_registry(ai_built))
    assert check(narrative.text, facts).ok
    labels = {figure["label"] for figure in facts["results"][0]["figures"]}
    assert {"MRR", "Logo churn rate", "Quick ratio"} <= labels  # registry labels, not columns


def test_ask_on_the_real_marts_leaves_the_warehouse_unchanged(ai_built):
    settings = replace(ai_built, anthropic_api_key="sk-ant-test", ai_max_retries=0)
    before = file_hash(settings.warehouse)
    sql = (
        "select acquisition_channel, count(*) as customers, sum(current_mrr) as mrr "
        "from dim_customers where is_paying group by 1 order by mrr desc"
    )
    api = FakeApi(
        [
            tool_reply("run_sql", {"sql": "drop table dim_customers"}),
            tool_reply("run_sql", {"sql": sql}, call_id="toolu_2"),
            tool_reply("answer", {"answer": "See the table."}, call_id="toolu_3"),
        ]
    )
    result = ask.ask(
        "Which channel brings the most MRR?", settings, http_client_factory=api.factory
    )
    assert result.repaired and result.tables == ("dim_customers",)
    assert result.rows and result.answer_status == "grounded"
    assert file_hash(settings.warehouse) == before


def test_ask_answers_a_metric_by_dimension_through_metricflow(ai_built):
    settings = replace(ai_built, anthropic_api_key="sk-ant-test", ai_max_retries=0)
    call = {"metrics": ["cac", "signups"], "group_by": ["channel_month__channel"]}
    api = FakeApi(
        [
            tool_reply("query_metrics", call),
            tool_reply("answer", {"answer": "CAC differs by channel."}, call_id="toolu_3"),
        ]
    )
    result = ask.ask("What is CAC by channel?", settings, http_client_factory=api.factory)
    assert result.kind == "metrics" and result.answer_status == "grounded"
    assert result.columns == ["channel_month__channel", "cac", "signups"]
    channels = {row[0] for row in result.rows}
    assert "all" not in channels and len(channels) >= 3  # the blended row is not a channel
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        total = connection.execute(
            "select sum(signups) from fct_channel_performance where channel = 'all'"
        ).fetchone()[0]
    assert sum(row[2] for row in result.rows) == total


def test_mrr_split_by_customer_segment_adds_up_to_the_mart(ai_built):
    with duckdb.connect(str(ai_built.warehouse), read_only=True) as connection:
        month = _last_full_periods(connection)["month"]
        (ending_mrr,) = connection.execute(
            "select ending_mrr from fct_mrr_monthly where month = ?", [month]
        ).fetchone()
    rows = mf_query(
        ai_built, ["mrr", "paying_customers"], group_by=["metric_time__month", "customer__segment"]
    )
    latest = [row for row in rows if _day(row["metric_time__month"]) == month]
    assert len(latest) >= 2
    assert sum(row["mrr"] for row in latest) == pytest.approx(float(ending_mrr), abs=1e-6)
