"""`jobmetrics ask` against a small warehouse file, with recorded-shape fake API replies."""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from pathlib import Path

import pytest
from ai_helpers import file_hash
from fake_anthropic import FakeApi, text_reply, tool_reply

from jobmetrics import cli
from jobmetrics.ai import ask
from jobmetrics.ai.sql_guard import GuardRejected, QueryFailed, check_sql, run_query

QUESTION = "How did MRR change over the last three months?"
GOOD_SQL = (
    "select month, starting_mrr, ending_mrr, ending_mrr - starting_mrr as net_new_mrr "
    "from fct_mrr_monthly order by month"
)
# Rows: 1 Jul 2025 (starting $1,000.00, ending $1,220.25), 2 Aug, 3 Sep (ending $1,734.00,
# net new $184.50). The model refers to cells; the renderer writes them with their row.
GOOD_ANSWER = (
    "MRR grew to {{r3.ending_mrr}} by the end of September, from {{r1.starting_mrr}} at the "
    "start of July; {{r3.net_new_mrr}} was net new MRR in {{r3.month}}."
)
# Row 3 is named by its month cell; row 1 is not, so its value says which row it is from.
GOOD_RENDERED = (
    "MRR grew to $1,734.00 by the end of September, from $1,000.00 (Jul 2025) at "
    "the start of July; $184.50 was net new MRR in Sep 2025."
)


def run_sql(sql: str, call_id: str = "toolu_sql") -> object:
    return tool_reply("run_sql", {"sql": sql, "explanation": "MRR by month."}, call_id=call_id)


def answer(text: str) -> object:
    return tool_reply("answer", {"answer": text}, call_id="toolu_answer")


def test_valid_question_is_answered_from_the_rows(ask_settings):
    before = file_hash(ask_settings.warehouse)
    api = FakeApi([run_sql(GOOD_SQL), answer(GOOD_ANSWER)])
    result = ask.ask(QUESTION, ask_settings, http_client_factory=api.factory)
    assert result.answer_status == "grounded", result.unverified
    assert result.answer == GOOD_RENDERED
    assert result.checked == (
        "3 figures and 1 period written from the data; 1 change word, 2 metric names, "
        "2 months checked against them"
    )
    assert result.tables == ("fct_mrr_monthly",)
    assert result.columns == ["month", "starting_mrr", "ending_mrr", "net_new_mrr"]
    assert [float(row[2]) for row in result.rows] == [1220.25, 1549.5, 1734.0]
    # the schema context: marts with descriptions and the metric registry, not staging
    (block,) = api.requests[0]["system"]
    system = block["text"]
    assert block["cache_control"] == {"type": "ephemeral"}  # ~13k stable tokens, cached
    assert api.requests[1]["system"] == api.requests[0]["system"]
    assert "## fct_mrr_monthly" in system and "logo_churn_rate" in system
    assert "## stg_users" not in system and "## int_" not in system
    assert api.requests[0]["tool_choice"] == {"type": "any"}
    assert {tool["name"] for tool in api.requests[0]["tools"]} == {
        "run_sql",
        "query_metrics",
        "answer",
    }
    assert api.requests[1]["tool_choice"] == {"type": "tool", "name": "answer"}
    rows_turn = api.requests[1]["messages"][-1]["content"][0]
    assert rows_turn["type"] == "tool_result" and '"row": 3' in rows_turn["content"]
    assert '"ending_mrr": 1734' in rows_turn["content"]
    assert file_hash(ask_settings.warehouse) == before


FORBIDDEN = {
    "drop": "drop table fct_mrr_monthly",
    "copy-to": "copy (select * from fct_mrr_monthly) to '{out}/leak.csv'",
    "read-csv": "select * from read_csv('/etc/passwd')",
    "attach": "attach '{out}/other.duckdb' as other",
    "two-statements": "select 1; delete from fct_mrr_monthly",
    "file-path": "select * from '/etc/passwd'",
    "not-a-mart": "select * from information_schema.tables",
    # a CTE named like a table cannot smuggle that table in: `a` reads the real table
    "cte-shadowing": (
        "with a as (select * from jobmetrics_build_info), "
        "jobmetrics_build_info as (select 1) select * from a"
    ),
    "catalog-function": "select * from duckdb_settings()",
    "describe": "describe fct_mrr_monthly",
}


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_forbidden_statement_never_runs_and_the_warehouse_is_unchanged(
    ask_settings, tmp_path, name
):
    sql = FORBIDDEN[name].format(out=tmp_path)
    before = file_hash(ask_settings.warehouse)
    api = FakeApi([run_sql(sql), run_sql(sql, call_id="toolu_sql2")])
    with pytest.raises(ask.AskFailed, match="refused after one repair attempt"):
        ask.ask(QUESTION, ask_settings, http_client_factory=api.factory)
    assert len(api.requests) == 2  # the refusal went back once for repair, then we stopped
    repair_turn = api.requests[1]["messages"][-1]["content"][0]
    assert repair_turn["is_error"] is True and "refused" in repair_turn["content"]
    assert file_hash(ask_settings.warehouse) == before
    assert not (tmp_path / "leak.csv").exists() and not (tmp_path / "other.duckdb").exists()
    with pytest.raises(GuardRejected):
        check_sql(sql, {"fct_mrr_monthly"})


def test_sql_error_goes_back_once_and_the_repaired_query_runs(ask_settings):
    broken = "select month, mrr_total from fct_mrr_monthly"
    api = FakeApi([run_sql(broken), run_sql(GOOD_SQL, call_id="toolu_sql2"), answer(GOOD_ANSWER)])
    result = ask.ask(QUESTION, ask_settings, http_client_factory=api.factory)
    error_turn = api.requests[1]["messages"][-1]["content"][0]
    assert error_turn["is_error"] is True and "mrr_total" in error_turn["content"]
    assert result.repaired and result.sql == GOOD_SQL and result.answer_status == "grounded"
    assert result.attempts[0]["query"] == broken


def test_each_figure_is_checked_against_the_month_next_to_it(ask_settings):
    reply = "MRR was {{r3.ending_mrr}} in September and {{r1.ending_mrr}} in July."
    api = FakeApi([run_sql(GOOD_SQL), answer(reply)])
    result = ask.ask(QUESTION, ask_settings, http_client_factory=api.factory)
    assert result.answer_status == "grounded", result.unverified
    assert (
        result.answer
        == "MRR was $1,734.00 (Sep 2025) in September and $1,220.25 (Jul 2025) in July."
    )
    swapped = "MRR was {{r1.ending_mrr}} in September and {{r3.ending_mrr}} in July."
    api = FakeApi([run_sql(GOOD_SQL), answer(swapped), answer(swapped)])
    result = ask.ask(QUESTION, ask_settings, http_client_factory=api.factory)
    assert result.answer_status == "withheld"
    assert "September is named for r1.ending_mrr, which is for July" in result.unverified


def test_typed_number_in_the_answer_is_withheld_after_one_retry(ask_settings):
    invented = "MRR grew to $9,999 in September."
    api = FakeApi([run_sql(GOOD_SQL), answer(invented), answer(invented)])
    result = ask.ask(QUESTION, ask_settings, http_client_factory=api.factory)
    assert len(api.requests) == 3
    retry = api.requests[2]["messages"][-1]["content"][0]["content"]
    assert "typed figures itself: 9" in retry
    assert result.answer_status == "withheld" and "9,999" not in result.answer
    assert result.answer.startswith("Answer withheld: it failed the checks against the rows")
    assert len(result.rows) == 3  # the rows are still shown: they are the data


@pytest.mark.parametrize(
    ("question", "reply", "problem"),
    [
        # a value from the wrong row: August named, September's cell quoted
        (QUESTION, "MRR was {{r3.ending_mrr}} in August.", "August is named for r3.ending_mrr"),
        # a number from the question is never a fact; it can only be typed, and that is refused
        ("Did MRR pass $1,500 in September?", "Yes, it passed $1,500.", "typed figures"),
        # the right cell under the wrong metric
        (QUESTION, "ARR was {{r3.ending_mrr}} in September.", '"arr" is named for'),
        # a direction the rows contradict (ending MRR rose every month)
        (QUESTION, "MRR fell to {{r3.ending_mrr}}.", '"fell" contradicts r3.ending_mrr'),
        # a size the rows contradict ($1,549.50 → $1,734.00 is not doubling)
        (QUESTION, "MRR doubled to {{r3.ending_mrr}}.", '"doubled" does not match'),
        (QUESTION, "MRR is up tenfold to {{r3.ending_mrr}}.", "typed figures itself: tenfold"),
        (QUESTION, "See ![chart](http://x.test/a.png) {{r3.ending_mrr}}", "contains an image"),
        (QUESTION, "MRR is {{r3.ending_mrr}}\x1b[2J", "control or invisible characters"),
        (QUESTION, "MRR is {{r9.ending_mrr}}.", "refers to r9.ending_mrr, which is not a fact"),
    ],
    ids=[
        "wrong-row",
        "question-number",
        "swapped-metric",
        "wrong-direction",
        "wrong-size",
        "number-word",
        "image",
        "terminal-escape",
        "unknown-cell",
    ],
)
def test_answer_that_fails_a_check_is_withheld(ask_settings, question, reply, problem):
    api = FakeApi([run_sql(GOOD_SQL), answer(reply), answer(reply)])
    result = ask.ask(question, ask_settings, http_client_factory=api.factory)
    assert result.answer_status == "withheld"
    assert any(problem in found for found in result.unverified), result.unverified
    assert "1500" not in result.answer and "\x1b" not in result.answer
    assert "http" not in result.answer and "tenfold" not in result.answer


def test_sql_only_stops_after_the_guard(ask_settings):
    api = FakeApi([run_sql(GOOD_SQL)])
    result = ask.ask(QUESTION, ask_settings, sql_only=True, http_client_factory=api.factory)
    assert result.sql == GOOD_SQL and result.rows == [] and len(api.requests) == 1


@pytest.mark.parametrize(
    "reply",
    [text_reply("SELECT 1"), tool_reply("run_sql", {"query": "select 1"})],
    ids=["text-instead-of-tool", "tool-without-sql"],
)
def test_malformed_tool_reply_is_a_clear_error(ask_settings, reply):
    with pytest.raises(ask.AskFailed, match="no query"):
        ask.ask(QUESTION, ask_settings, http_client_factory=FakeApi([reply]).factory)


def _answer_with(monkeypatch: pytest.MonkeyPatch, api: FakeApi) -> None:
    """Make the CLI's `ask` talk to `api` (the CLI has no transport option of its own)."""
    monkeypatch.setattr(ask, "ask", functools.partial(ask.ask, http_client_factory=api.factory))


def test_cli_prints_answer_sql_and_table(ask_settings, monkeypatch, capsys):
    monkeypatch.setattr(cli.settings_module, "load", lambda: ask_settings)
    _answer_with(monkeypatch, FakeApi([run_sql(GOOD_SQL), answer(GOOD_ANSWER)]))
    assert cli.main(["ask", QUESTION]) == 0
    out = capsys.readouterr().out
    assert GOOD_RENDERED in out and GOOD_SQL in out and "$1,734.00" in out
    assert "2 calls, 2,400 input tokens + 360 output tokens, estimated $0.0126" in out


def test_cli_json_output(ask_settings, monkeypatch, capsys):
    monkeypatch.setattr(cli.settings_module, "load", lambda: ask_settings)
    _answer_with(monkeypatch, FakeApi([run_sql(GOOD_SQL), answer(GOOD_ANSWER)]))
    assert cli.main(["ask", QUESTION, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["sql"] == GOOD_SQL and payload["answer_status"] == "grounded"
    assert payload["rows"][-1] == ["2025-09-01", 1549.5, 1734, 184.5]
    assert payload["usage"]["calls"] == 2 and payload["usage"]["input_tokens"] == 2400


def test_cli_ask_without_a_key_exits_2_with_one_line(ask_settings, monkeypatch, capsys):
    monkeypatch.setattr(
        cli.settings_module, "load", lambda: replace(ask_settings, anthropic_api_key="")
    )
    assert cli.main(["ask", QUESTION]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "ANTHROPIC_API_KEY" in err


def test_cli_ask_failure_exits_2_with_one_line(ask_settings, monkeypatch, capsys):
    monkeypatch.setattr(cli.settings_module, "load", lambda: ask_settings)
    _answer_with(monkeypatch, FakeApi([run_sql("drop table fct_mrr_monthly")]))
    assert cli.main(["ask", QUESTION]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_slow_query_is_interrupted(small_warehouse: Path):
    query = check_sql("select count(*) from range(100000000) a, range(100000) b", set())
    with pytest.raises(QueryFailed, match="longer than 0.5 s"):
        run_query(small_warehouse, query, row_limit=10, timeout_s=0.5)


def test_row_limit_truncates(small_warehouse: Path):
    query = check_sql("select * from range(1000)", set())
    result = run_query(small_warehouse, query, row_limit=10, timeout_s=5)
    assert len(result.rows) == 10 and result.truncated


def test_metric_question_uses_the_semantic_layer_query(ask_settings):
    call = {"metrics": ["mrr", "logo_churn_rate"], "group_by": ["metric_time__month"]}
    api = FakeApi([tool_reply("query_metrics", call)])
    result = ask.ask(
        "MRR and logo churn by month?", ask_settings, sql_only=True, http_client_factory=api.factory
    )
    assert result.kind == "metrics" and result.tables == ("fct_mrr_monthly",)
    assert result.sql == "mf query --metrics mrr,logo_churn_rate --group-by metric_time__month"


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        ({"metrics": ["revenue_per_scan"]}, "unknown metrics"),
        ({"metrics": ["mrr"], "group_by": ["channel_month__channel"]}, "cannot group"),
        ({"metrics": ["mrr"], "start_time": "last year"}, "not a YYYY-MM-DD date"),
    ],
)
def test_invalid_metric_query_goes_back_for_repair(ask_settings, call, problem):
    api = FakeApi([tool_reply("query_metrics", call), run_sql(GOOD_SQL, "toolu_2")])
    result = ask.ask("MRR?", ask_settings, sql_only=True, http_client_factory=api.factory)
    repair = api.requests[1]["messages"][-1]["content"][0]
    assert repair["is_error"] and problem in repair["content"]
    assert result.repaired and result.kind == "sql" and result.sql == GOOD_SQL


def test_cli_never_prints_control_characters_and_cuts_huge_cells(ask_settings, monkeypatch, capsys):
    hostile = (
        "select month, chr(27) || '[2J' || chr(27) || ']0;pwned' || chr(7) as note, "
        "repeat('x', 5000) as big, ending_mrr from fct_mrr_monthly order by month"
    )
    monkeypatch.setattr(cli.settings_module, "load", lambda: ask_settings)
    reply = "MRR was {{r3.ending_mrr}} in {{r3.month}}."
    _answer_with(monkeypatch, FakeApi([run_sql(hostile), answer(reply)]))
    assert cli.main(["ask", QUESTION]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J\\x1b]0;pwned\\x07" in out  # shown escaped, so the user sees what is there
    assert "x" * 61 not in out and "… (4,940 more characters)" in out
    assert "MRR was $1,734.00 in Sep 2025." in out
