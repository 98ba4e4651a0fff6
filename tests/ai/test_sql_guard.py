"""The SQL guard of `ask` (sql_guard): what a query really reads after DuckDB's CTE scoping.

Each refused query has a twin of the same shape over allowed tables that must pass, so a test
cannot pass because the guard refuses too much. The scoping cases first run the query on DuckDB
itself and assert which table it reads, so a DuckDB upgrade that changes scoping fails here.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from ai_helpers import file_hash

from jobmetrics.ai.sql_guard import CheckedQuery, GuardRejected, check_sql, run_query
from jobmetrics.warehouse.results import QueryResult

NOT_A_MART = "jobmetrics_build_info"
MARTS = {"fct_mrr_monthly", "fct_alerts"}
CATALOGS = {"jobmetrics"}  # the warehouse file is jobmetrics.duckdb


@pytest.fixture
def warehouse(small_warehouse: Path) -> Path:
    """The small warehouse plus a second mart and two tables that are not marts.

    Every non-mart table holds source = 'table' and the mart fct_alerts holds source = 'mart',
    so a query's rows say which of them DuckDB read.
    """
    with duckdb.connect(str(small_warehouse)) as connection:
        connection.execute(f"create table {NOT_A_MART} as select 'table' as source")
        connection.execute("create table \"résumé\" as select 'table' as source")
        connection.execute(
            "create table fct_alerts as select date '2025-09-01' as month, 'mart' as source"
        )
    return small_warehouse


def run_checked(warehouse: Path, sql: str) -> tuple[CheckedQuery, QueryResult]:
    """check_sql then run_query, as `ask` does."""
    checked = check_sql(sql, MARTS, CATALOGS)
    return checked, run_query(warehouse, checked, row_limit=100, timeout_s=10)


def duckdb_rows(warehouse: Path, sql: str) -> list[tuple]:
    """The rows DuckDB itself returns for `sql`, with no guard in the way."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def read(rows: list[tuple], source: str) -> bool:
    return any(source in row for row in rows)


def refusal(sql: str) -> str:
    with pytest.raises(GuardRejected) as error:
        check_sql(sql, MARTS, CATALOGS)
    message = str(error.value)
    assert "\n" not in message
    return message


# DuckDB 1.5.6 scoping, one case each: (query with {table}, does DuckDB read the table?).
# {table} is the non-mart table; the twin of a refused query puts the mart fct_alerts there.
SCOPING = {
    # the query of issue 14: the later CTE is not visible inside the earlier one
    "later-cte-shadows-the-table-read-by-an-earlier-cte": (
        "with a as (select * from {table}), {table} as (select 1) select * from a",
        True,
    ),
    "later-cte-shadowing-inside-a-subquery-of-the-cte-body": (
        "with a as (select * from (select * from {table})), "
        "{table} as (select 'cte' as source) select * from a",
        True,
    ),
    "shadowing-inside-a-subquery": (
        "select * from (with a as (select * from {table}), "
        "{table} as (select 'cte' as source) select * from a)",
        True,
    ),
    "with-of-a-subquery-is-not-visible-outside-it": (
        "select * from {table} where exists (with {table} as (select 1) select * from {table})",
        True,
    ),
    "with-of-a-union-branch-covers-that-branch-only": (
        "select source from (with {table} as (select 'cte' as source) select * from {table}) "
        "union all select source from {table}",
        True,
    ),
    "cte-body-does-not-see-itself": (
        "with {table} as (select * from {table}) select * from {table}",
        True,
    ),
    "recursive-cte-without-union-is-not-recursive": (
        "with recursive {table} as (select * from {table}) select * from {table}",
        True,
    ),
    "recursive-cte-anchor-does-not-see-itself": (
        "with recursive {table} as (select source from {table} "
        "union all select source from {table} where false) select * from {table}",
        True,
    ),
    "recursive-cte-does-not-see-later-ctes": (
        "with recursive a as (select 'cte' as source, 0 as depth "
        "union all select t.source, 1 from {table} as t, a where a.depth = 0), "
        "{table} as (select 'cte' as source) select source from a",
        True,
    ),
    "materialized-cte-does-not-see-later-ctes": (
        "with a as materialized (select * from {table}), "
        "{table} as (select 'cte' as source) select * from a",
        True,
    ),
    "schema-qualified-name-is-never-a-cte": (
        "with {table} as (select 'cte' as source) select * from main.{table}",
        True,
    ),
    "catalog-qualified-name-is-never-a-cte": (
        "with {table} as (select 'cte' as source) select * from jobmetrics.main.{table}",
        True,
    ),
    "earlier-cte-is-visible-to-a-later-one": (
        "with {table} as (select 'cte' as source), a as (select * from {table}) select * from a",
        False,
    ),
    "recursive-branch-sees-the-cte": (
        "with recursive {table} as (select 'cte' as source, 1 as n "
        "union all select source, n + 1 from {table} where n < 3) select source from {table}",
        False,
    ),
    "recursive-branch-sees-the-cte-in-a-subquery": (
        "with recursive {table} as (select 'cte' as source, 1 as n "
        "union all select source, n + 1 from (select * from {table}) where n < 3) "
        "select source from {table}",
        False,
    ),
    "outer-cte-is-visible-in-a-subquery": (
        "with {table} as (select 'cte' as source) select * from (select * from {table})",
        False,
    ),
    "with-before-a-union-covers-every-branch": (
        "with {table} as (select 'cte' as source) "
        "select * from {table} union all select * from {table}",
        False,
    ),
    "inner-cte-body-sees-the-outer-cte-of-the-same-name": (
        "with {table} as (select 'cte' as source) "
        "select * from (with {table} as (select * from {table}) select * from {table})",
        False,
    ),
    "earlier-inner-cte-sees-the-outer-cte-not-the-later-inner-one": (
        "with {table} as (select 'cte' as source) select * from "
        "(with a as (select * from {table}), {table} as (select 'inner' as source) "
        "select * from a)",
        False,
    ),
    "materialized-cte-is-visible-after-it": (
        "with {table} as materialized (select 'cte' as source) "
        "select * from {table} where source in (select source from {table})",
        False,
    ),
    "cte-names-match-ascii-case-insensitively-even-quoted": (
        "with \"JOBMETRICS_BUILD_INFO\" as (select 'cte' as source) select * from {table}",
        False,
    ),
}


@pytest.mark.parametrize("case", sorted(SCOPING))
def test_guard_refuses_exactly_where_duckdb_reads_the_table(warehouse, case):
    template, reads_table = SCOPING[case]
    sql = template.format(table=NOT_A_MART)
    rows = duckdb_rows(warehouse, sql)
    assert read(rows, "table") is reads_table, rows  # DuckDB's own scoping, as documented
    before = file_hash(warehouse)
    if reads_table:
        assert f"{NOT_A_MART}' is not one of this project's marts" in refusal(sql)
        # the same shape over a mart passes and reads the mart
        twin = template.format(table="fct_alerts")
        checked, result = run_checked(warehouse, twin)
        assert "fct_alerts" in checked.tables and read(result.rows, "mart")
        assert sorted(result.rows) == sorted(duckdb_rows(warehouse, twin))
    else:
        checked, result = run_checked(warehouse, sql)
        assert NOT_A_MART not in checked.tables
        assert sorted(result.rows) == sorted(rows) and not read(result.rows, "table")
    assert file_hash(warehouse) == before


def test_issue_query_with_a_later_cte_named_like_the_table_is_refused(warehouse):
    sql = (
        "with a as (select * from jobmetrics_build_info), "
        "jobmetrics_build_info as (select 1) select * from a"
    )
    assert duckdb_rows(warehouse, sql) == [("table",)]
    message = refusal(sql)
    assert "'jobmetrics_build_info' is not one of this project's marts" in message
    assert "a CTE of that name is not visible there" in message
    _, result = run_checked(warehouse, sql.replace("jobmetrics_build_info", "fct_alerts"))
    assert result.rows == [(date(2025, 9, 1), "mart")]


def test_later_cte_named_like_a_mart_does_not_hide_the_mart_read_by_an_earlier_cte(warehouse):
    sql = (
        "with a as (select month from fct_mrr_monthly), "
        "fct_mrr_monthly as (select date '2000-01-01' as month) select count(*) from a"
    )
    checked, result = run_checked(warehouse, sql)
    assert checked.tables == ("fct_mrr_monthly",)  # the earlier CTE reads the real mart
    assert result.rows == [(3,)]


def test_non_ascii_names_are_not_folded_like_duckdb_does_not(warehouse):
    sql = 'with "RÉSUMÉ" as (select \'cte\' as source) select * from "résumé"'
    assert duckdb_rows(warehouse, sql) == [("table",)]
    assert "'résumé' is not one of this project's marts" in refusal(sql)
    _, result = run_checked(warehouse, "with \"RESUME\" as (select 'cte' as source) from resume")
    assert result.rows == [("cte",)]


# (query refused, what the refusal names, a query of the same shape that passes)
CATALOG_ATTACKS = {
    "show": ("show", "SHOW is not allowed", "select * from fct_alerts"),
    "show-tables": ("show tables", "SHOW is not allowed", "select * from fct_alerts"),
    "show-all-tables": ("show all tables", "SHOW is not allowed", "select * from fct_alerts"),
    "describe": ("describe fct_alerts", "DESCRIBE is not allowed", "select * from fct_alerts"),
    "describe-in-from": (
        "from (describe fct_alerts)",
        "DESCRIBE is not allowed",
        "from (select * from fct_alerts)",
    ),
    "summarize": (
        "summarize fct_alerts",
        "SUMMARIZE is not allowed",
        "select count(*), min(month), max(month) from fct_alerts",
    ),
    "duckdb-tables": (
        "select * from duckdb_tables()",
        "table function duckdb_tables() is not allowed",
        "select * from range(3)",
    ),
    "duckdb-settings-in-a-cte": (
        "with s as (select * from duckdb_settings()) select * from s",
        "table function duckdb_settings() is not allowed",
        "with s as (select * from generate_series(1, 3)) select * from s",
    ),
    "duckdb-secrets-joined-to-a-mart": (
        "select * from fct_alerts, duckdb_secrets()",
        "table function duckdb_secrets() is not allowed",
        "select * from fct_alerts, unnest([1, 2])",
    ),
    "duckdb-views-as-a-view-name": (
        "select * from duckdb_views",
        "table 'duckdb_views' is not one of this project's marts",
        "select * from fct_alerts",
    ),
    "information-schema-in-a-cte": (
        "with c as (select * from information_schema.columns) select * from c",
        "table 'information_schema.columns' is not one of this project's marts",
        "with c as (select * from main.fct_alerts) select * from c",
    ),
    "pg-catalog": (
        "select * from pg_catalog.pg_tables",
        "table 'pg_catalog.pg_tables' is not one of this project's marts",
        "select * from main.fct_alerts",
    ),
    "pragma-function": (
        "select * from pragma_table_info('fct_alerts')",
        "table function pragma_table_info() is not allowed",
        "select * from range(2)",
    ),
    "query-function": (
        "select * from query('select * from jobmetrics_build_info')",
        "table function query() is not allowed",
        "select * from (select * from fct_alerts)",
    ),
    "query-table-function": (
        "select * from query_table('jobmetrics_build_info')",
        "table function query_table() is not allowed",
        "select * from fct_alerts",
    ),
    "glob": ("select * from glob('*')", "table function glob() is not allowed", "select 1"),
    "getenv": ("select getenv('HOME')", "function getenv() is not allowed", "select upper('HOME')"),
    "current-setting-in-a-subquery": (
        "select month from fct_alerts where source = (select current_setting('threads'))",
        "function current_setting() is not allowed",
        "select month from fct_alerts where source = (select lower('MART'))",
    ),
    "catalog-macro": (
        "select pg_get_viewdef(x) from range(3) as t(x)",
        "function pg_get_viewdef() is not allowed",
        "select abs(x) from range(3) as t(x)",
    ),
}


@pytest.mark.parametrize("attack", sorted(CATALOG_ATTACKS))
def test_catalog_statements_and_functions_are_refused(warehouse, attack):
    sql, named, twin = CATALOG_ATTACKS[attack]
    before = file_hash(warehouse)
    assert named in refusal(sql)
    run_checked(warehouse, twin)
    assert file_hash(warehouse) == before


def test_plan_check_refuses_a_table_the_parse_check_did_not_approve(warehouse):
    # a CheckedQuery that did not come from check_sql: the bound plan is the last word
    before = file_hash(warehouse)
    smuggled = CheckedQuery(sql="select * from jobmetrics_build_info", tables=("fct_alerts",))
    with pytest.raises(
        GuardRejected, match=r"plan reads table jobmetrics\.main\.jobmetrics_build_info"
    ):
        run_query(warehouse, smuggled, row_limit=10, timeout_s=5)
    honest = CheckedQuery(sql="select * from fct_alerts", tables=("fct_alerts",))
    assert run_query(warehouse, honest, row_limit=10, timeout_s=5).rows[0][1] == "mart"
    assert file_hash(warehouse) == before


def test_plan_check_refuses_a_macro_that_expands_to_a_catalog_scan(warehouse):
    # pg_get_viewdef is a built-in macro over duckdb_views(): no table function in the SQL text
    before = file_hash(warehouse)
    macro = CheckedQuery(sql="select pg_get_viewdef(x) from range(3) as t(x)", tables=())
    with pytest.raises(GuardRejected, match=r"table function duckdb_views\(\)"):
        run_query(warehouse, macro, row_limit=10, timeout_s=5)
    plain = CheckedQuery(sql="select abs(x) from range(3) as t(x)", tables=())
    assert len(run_query(warehouse, plain, row_limit=10, timeout_s=5).rows) == 3
    assert file_hash(warehouse) == before


# (legitimate query, the marts it reads, the rows it returns)
LEGITIMATE = {
    "ctes-referencing-earlier-ctes": (
        "with months as (select month, ending_mrr from fct_mrr_monthly), "
        "growth as (select month, ending_mrr - lag(ending_mrr) over (order by month) as net_new "
        "from months) select count(net_new) from growth",
        ("fct_mrr_monthly",),
        [(2,)],
    ),
    "nested-with-in-a-subquery": (
        "select count(*) from (with latest as (select max(month) as month from fct_mrr_monthly) "
        "select m.month from fct_mrr_monthly as m join latest using (month))",
        ("fct_mrr_monthly",),
        [(1,)],
    ),
    "union-of-two-marts": (
        "select month from fct_mrr_monthly union select month from fct_alerts order by month",
        ("fct_alerts", "fct_mrr_monthly"),
        None,
    ),
    "window-functions": (
        "select month, rank() over (order by churned_customers desc) as churn_rank, "
        "sum(paying_customers) over (order by month) as running_paying "
        "from fct_mrr_monthly order by month",
        ("fct_mrr_monthly",),
        None,
    ),
    "join-of-two-marts": (
        "select m.month, a.source from fct_mrr_monthly as m join fct_alerts as a using (month)",
        ("fct_alerts", "fct_mrr_monthly"),
        None,
    ),
    "recursive-cte-over-a-mart": (
        "with recursive months as (select min(month) as month from fct_mrr_monthly "
        "union all select cast(month + interval 1 month as date) from months "
        "where month < (select max(month) from fct_mrr_monthly)) select count(*) from months",
        ("fct_mrr_monthly",),
        [(3,)],
    ),
    "cte-named-like-the-mart-it-filters": (
        "with fct_mrr_monthly as (select * from fct_mrr_monthly where month >= '2025-08-01') "
        "select count(*) from fct_mrr_monthly",
        ("fct_mrr_monthly",),
        [(2,)],
    ),
    "qualified-mart-names": (
        "select count(*) from jobmetrics.main.fct_mrr_monthly, main.fct_alerts",
        ("fct_alerts", "fct_mrr_monthly"),
        [(3,)],
    ),
    "allowed-table-functions": (
        "select count(*) from range(3), generate_series(1, 2), unnest([1, 2])",
        (),
        [(12,)],
    ),
}


@pytest.mark.parametrize("name", sorted(LEGITIMATE))
def test_legitimate_queries_pass_and_name_the_marts_they_read(warehouse, name):
    sql, tables, expected = LEGITIMATE[name]
    checked, result = run_checked(warehouse, sql)
    assert checked.tables == tables
    assert sorted(result.rows) == sorted(duckdb_rows(warehouse, sql))
    if expected is not None:
        assert result.rows == expected
