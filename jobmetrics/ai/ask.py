"""`jobmetrics ask "question"`: Claude writes one query, it is checked and run read-only, and
Claude answers from the rows, every figure a reference to a cell (jobmetrics.ai.claims).

One conversation, tool use throughout. Claude calls query_metrics (registry metrics by time or a
dimension, computed by MetricFlow) or run_sql (one SELECT over the marts, checked by sql_guard);
the rows, or the error, go back as the tool result; then it calls answer. A query that is
refused or fails goes back once for repair.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jobmetrics.ai import client as ai_client
from jobmetrics.ai import sanitize
from jobmetrics.ai.claims import Fact, Mentions, aliases_for, label, render_checked
from jobmetrics.ai.coverage import Coverage, read_coverage
from jobmetrics.ai.facts import is_period_column, iso_date, number
from jobmetrics.ai.registry import Registry, read_manifest, registry_from_manifest
from jobmetrics.ai.semantic_query import MetricQueryFailed, mf_query
from jobmetrics.ai.sql_guard import (
    GuardRejected,
    QueryFailed,
    check_sql,
    run_query,
)
from jobmetrics.core.errors import UserError
from jobmetrics.core.formats import auto_format, format_value
from jobmetrics.core.settings import Settings
from jobmetrics.warehouse.read import open_read_only
from jobmetrics.warehouse.results import QueryResult, to_json_value

ROWS_SHOWN_TO_MODEL = 60

NO_KEY_MESSAGE = (
    "`ask` needs Claude: set ANTHROPIC_API_KEY (export ANTHROPIC_API_KEY=sk-ant-...); "
    "`jobmetrics explain METRIC` works without it"
)

SQL_TOOL = {
    "name": "run_sql",
    "description": "Run one read-only DuckDB SELECT query over the marts and get its rows.",
    "input_schema": {
        "type": "object",
        "properties": {
            "sql": {"type": "string", "description": "One SELECT (or WITH ... SELECT) query."},
            "explanation": {"type": "string", "description": "One sentence: what it computes."},
        },
        "required": ["sql"],
    },
}
METRIC_TIME = tuple(
    f"metric_time__{grain}" for grain in ("day", "week", "month", "quarter", "year")
)
METRIC_TOOL = {
    "name": "query_metrics",
    "description": (
        "Query registry metrics through the dbt semantic layer (MetricFlow), grouped by time "
        "and/or the metrics' dimensions. Prefer it when the question is a registry metric over "
        "time or by a dimension; use run_sql for anything else."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "metrics": {"type": "array", "items": {"type": "string"}},
            "group_by": {
                "type": "array",
                "items": {"type": "string"},
                "description": "metric_time__day|week|month|quarter|year and/or listed dimensions.",
            },
            "start_time": {"type": "string", "description": "Optional first day, YYYY-MM-DD."},
            "end_time": {"type": "string", "description": "Optional last day, YYYY-MM-DD."},
            "explanation": {"type": "string", "description": "One sentence: what it computes."},
        },
        "required": ["metrics"],
    },
}
ANSWER_TOOL = {
    "name": "answer",
    "description": (
        "Give the answer to the question, every figure written as a {{r<row>.<column>}} "
        "reference to a cell of the query's rows."
    ),
    "input_schema": {
        "type": "object",
        "properties": {"answer": {"type": "string", "description": "2-5 sentences."}},
        "required": ["answer"],
    },
}

SYSTEM_PROMPT = """\
You answer questions about a subscription SaaS business (a résumé-scanning product) from its
DuckDB analytics warehouse. You see the marts (tables), their columns and the metric registry.

1. When the question is about registry metrics over time or by one of their dimensions, call
   query_metrics (the semantic layer computes them exactly as defined). Otherwise call run_sql
   with ONE DuckDB SELECT (or WITH ... SELECT) query that answers the question.
   Use only the tables listed; follow the metric definitions. No DDL, no file functions.
   Return few rows (aggregate, order, limit). Months are first-of-month dates; rates are
   fractions (0.052 = 5.2%). Complete months have is_complete_month = true in fct_mrr_monthly.
2. You get the rows (or an error to fix), numbered from 1. Then call answer: a short
   plain-language answer. NEVER type a number, digit, year, percent sign or number word:
   write every figure and date as a reference to its cell, {{r<row>.<column>}}, e.g.
   "MRR was {{r3.ending_mrr}} in {{r3.month}}". The reference is replaced by the value; a
   figure from a row also shows which row it is from. Numbers in the question are not data.
   Name only the metric and month of the cell you refer to. Change words ("rose", "fell",
   "doubled", "better", "record") are checked against the rows (a row against the row of
   the previous period); use them only when the rows show it. Plain sentences: no links,
   images, HTML, code or headings. If the rows cannot answer the question, say so."""


class AskFailed(UserError):
    """The question could not be answered (API trouble, no valid query, a failed query)."""

    def __init__(self, message: str) -> None:
        super().__init__(sanitize.for_terminal(message, limit=2000))  # it may quote Claude's SQL


@dataclass
class AskResult:
    question: str
    sql: str = ""
    explanation: str = ""
    tables: tuple[str, ...] = ()
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    truncated: bool = False
    answer: str = ""
    kind: str = ""
    """"sql" (run_sql) or "metrics" (query_metrics through MetricFlow)."""
    answer_status: str = ""
    """"grounded" (every figure written from the rows, words checked), "withheld" or ""
    (--sql-only)."""
    checked: str = ""
    """What was checked, in words (e.g. "2 figures written from the data; 1 month checked")."""
    unverified: list[str] = field(default_factory=list)
    """Why the answer was withheld (the checks it failed)."""
    repaired: bool = False
    attempts: list[dict[str, str]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    """Claude calls, tokens and the cost estimate of this question."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "kind": self.kind,
            "sql": self.sql,
            "explanation": self.explanation,
            "tables": list(self.tables),
            "columns": self.columns,
            "rows": [[to_json_value(value) for value in row] for row in self.rows],
            "row_count": len(self.rows),
            "truncated": self.truncated,
            "answer": self.answer,
            "answer_status": self.answer_status,
            "checked": self.checked,
            "unverified": self.unverified,
            "repaired": self.repaired,
            "attempts": self.attempts,
            "usage": self.usage,
        }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def mart_nodes(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The mart models of the manifest (models/marts/**) by name."""
    marts = {}
    for node in (manifest.get("nodes") or {}).values():
        fqn = node.get("fqn") or []
        if node.get("resource_type") == "model" and len(fqn) > 1 and fqn[1] == "marts":
            marts[node.get("alias") or node["name"]] = node
    return marts


def schema_context(
    settings: Settings, coverage: Coverage | None = None
) -> tuple[str, set[str], Registry]:
    """The marts, their columns and the metric registry as prompt text; mart names; registry.
    A metric needing data the warehouse does not hold (coverage) is marked left out."""
    coverage = coverage or Coverage()
    manifest = read_manifest(settings)
    catalog = _read_json(settings.dbt_target_dir / "catalog.json")
    registry = registry_from_manifest(manifest)
    marts = mart_nodes(manifest)
    lines = ["# Tables (DuckDB, schema main)"]
    for name in sorted(marts):
        node = marts[name]
        catalogued = ((catalog.get("nodes") or {}).get(node["unique_id"]) or {}).get("columns", {})
        types = {key.lower(): value.get("type") for key, value in catalogued.items()}
        lines.append(f"\n## {name}\n{' '.join(str(node.get('description', '')).split())}")
        for column in (node.get("columns") or {}).values():
            kind = types.get(column["name"].lower()) or column.get("data_type") or "?"
            description = " ".join(str(column.get("description", "")).split())
            lines.append(f"- {column['name']} ({kind}): {description}")
    lines.append("\n# Metrics (the registry; mart_column is where each figure lives)")
    for metric in registry:
        note = coverage.note(metric.requires)
        left_out = f" LEFT OUT: {note}; it cannot be computed." if note else ""
        lines.append(
            f"- {metric.name} ({metric.label}; {metric.format}; grain {metric.grain}; "
            f"mart_column {metric.mart_column}): {metric.description} "
            f"Computed as {metric.definition}.{left_out}"
        )
    absent = coverage.absent(sorted(coverage.areas))
    if absent:
        lines.append(
            "\n# Data the warehouse does not hold (dim_data_coverage); figures built on it are "
            "empty or NULL, not 0: answer that they cannot be computed, and why"
        )
        lines.extend(f"- {area.name}: {area.note}" for area in absent)
    return "\n".join(lines), set(marts), registry


def _rows_message(result: QueryResult) -> str:
    shown = [
        {"row": number_, **{c: to_json_value(v) for c, v in zip(result.columns, row, strict=True)}}
        for number_, row in enumerate(result.rows[:ROWS_SHOWN_TO_MODEL], start=1)
    ]
    payload = {
        "columns": result.columns,
        "rows": shown,
        "row_count": len(result.rows),
        "truncated": result.truncated or len(result.rows) > ROWS_SHOWN_TO_MODEL,
    }
    return json.dumps(payload, ensure_ascii=False)


def _metric_query(registry: Registry, tool_input: dict[str, Any]) -> dict[str, Any]:
    """Check a query_metrics call: known metrics, their dimensions, ISO dates (GuardRejected)."""
    metrics = tool_input.get("metrics")
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise GuardRejected("query_metrics needs a list of metric names")
    unknown = [name for name in metrics if name not in registry]
    if unknown:
        raise GuardRejected(
            f"unknown metrics {unknown}; known: {', '.join(sorted(registry.metrics))}"
        )
    group_by = tool_input.get("group_by") or []
    if not isinstance(group_by, list) or not all(isinstance(g, str) for g in group_by):
        raise GuardRejected("group_by must be a list of names")
    shared = set.intersection(*(set(registry.metrics[name].dimensions) for name in metrics))
    for name in group_by:
        if name not in shared and name not in METRIC_TIME:
            raise GuardRejected(
                f"cannot group {', '.join(metrics)} by {name!r}; use one of "
                f"{', '.join(sorted(shared | set(METRIC_TIME)))}"
            )
    bounds = {}
    for key in ("start_time", "end_time"):
        value = tool_input.get(key)
        if value:
            try:
                bounds[key] = date.fromisoformat(str(value)[:10]).isoformat()
            except ValueError:
                raise GuardRejected(f"{key} {value!r} is not a YYYY-MM-DD date") from None
    return {"metrics": list(metrics), "group_by": list(group_by), **bounds}


def _metric_command(query: dict[str, Any]) -> str:
    """The `mf query` command line that answers the query (shown as the query used)."""
    parts = ["mf query", f"--metrics {','.join(query['metrics'])}"]
    if query["group_by"]:
        parts.append(f"--group-by {','.join(query['group_by'])}")
    parts += [
        f"--{key.replace('_', '-')} {query[key]}"
        for key in ("start_time", "end_time")
        if key in query
    ]
    return " ".join(parts)


def _run_metrics(settings: Settings, query: dict[str, Any]) -> QueryResult:
    started = time.perf_counter()
    try:
        records = mf_query(
            settings,
            query["metrics"],
            group_by=query["group_by"],
            order=[name for name in query["group_by"] if name in METRIC_TIME],
            limit=settings.ask_row_limit + 1,
            start_time=query.get("start_time"),
            end_time=query.get("end_time"),
        )
    except MetricQueryFailed as error:
        raise QueryFailed(str(error)) from None
    columns = list(records[0]) if records else [*query["group_by"], *query["metrics"]]
    rows = [tuple(record.get(column) for column in columns) for record in records]
    return QueryResult(
        name="ask",
        columns=columns,
        rows=rows[: settings.ask_row_limit],
        truncated=len(rows) > settings.ask_row_limit,
        seconds=time.perf_counter() - started,
    )


def ask(
    question: str,
    settings: Settings,
    *,
    sql_only: bool = False,
    http_client_factory: ai_client.HttpClientFactory | None = None,
) -> AskResult:
    """Answer `question` from the warehouse (AskFailed or UserError when it cannot)."""
    question = " ".join(question.split())
    if not question:
        raise UserError('ask needs a question, e.g. jobmetrics ask "What is MRR by month?"')
    if not settings.anthropic_api_key:
        raise UserError(NO_KEY_MESSAGE)
    connection = open_read_only(settings.warehouse)
    try:
        coverage = read_coverage(connection)
    finally:
        connection.close()
    context, marts, registry = schema_context(settings, coverage)
    session = ai_client.Session(settings, http_client_factory=http_client_factory)
    result = _ask(question, session, context, marts, registry, sql_only)
    result.usage = session.usage.as_dict(settings)
    return result


def _ask(
    question: str,
    session: ai_client.Session,
    context: str,
    marts: set[str],
    registry: Registry,
    sql_only: bool,
) -> AskResult:
    settings = session.settings
    system = f"{SYSTEM_PROMPT}\n\n{context}"
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    result = AskResult(question=question)
    catalogs = {settings.warehouse.stem}

    def call(tool: str) -> ai_client.Reply:
        try:
            return ai_client.send(
                session,
                system=system,
                messages=messages,
                tools=[METRIC_TOOL, SQL_TOOL, ANSWER_TOOL],
                tool_name=tool,
            )
        except ai_client.AIUnavailable as error:
            raise AskFailed(f"Claude could not answer: {error.reason}") from None

    def query_call(reply: ai_client.Reply) -> ai_client.ToolCall:
        for tool_call in reply.tool_calls:
            if tool_call.name in (SQL_TOOL["name"], METRIC_TOOL["name"]):
                return tool_call
        raise AskFailed("Claude's reply had no query: no run_sql or query_metrics call")

    def run(tool_call: ai_client.ToolCall) -> QueryResult | None:
        """Check and run one query call; None with --sql-only once it passed the checks."""
        result.explanation = str(tool_call.input.get("explanation") or "")
        if tool_call.name == METRIC_TOOL["name"]:
            result.kind = "metrics"
            query = _metric_query(registry, tool_call.input)
            result.sql = _metric_command(query)
            result.tables = tuple(
                sorted({registry.metrics[name].model or "?" for name in query["metrics"]})
            )
            return None if sql_only else _run_metrics(settings, query)
        sql = tool_call.input.get("sql")
        if not isinstance(sql, str) or not sql.strip():
            raise AskFailed("Claude's reply had no query: run_sql without sql")
        result.kind, result.sql = "sql", sql.strip()
        checked = check_sql(sql, marts, catalogs)
        result.sql, result.tables = checked.sql, checked.tables
        if sql_only:
            return None
        return run_query(
            settings.warehouse,
            checked,
            row_limit=settings.ask_row_limit,
            timeout_s=settings.ask_timeout_s,
        )

    reply = call(ai_client.ANY_TOOL)
    rows: QueryResult | None = None
    for attempt in range(2):
        tool_call = query_call(reply)
        try:
            rows = run(tool_call)
            break
        except (GuardRejected, QueryFailed) as error:
            kind = "refused" if isinstance(error, GuardRejected) else "failed"
            result.attempts.append({"query": result.sql, "error": f"{kind}: {error}"})
            if attempt == 1:
                raise AskFailed(f"the query was {kind} after one repair attempt: {error}") from None
            messages += ai_client.tool_result(
                reply,
                tool_call.name,
                f"The query was {kind}: {error}. Fix it and call {tool_call.name} (or the other "
                "query tool) again.",
            )
            reply = call(ai_client.ANY_TOOL)
            result.repaired = True
    if rows is None:  # --sql-only
        return result
    result.columns = rows.columns
    result.rows = [list(row) for row in rows.rows]
    result.truncated = rows.truncated
    _answer(result, rows, reply, query_call(reply).name, messages, call, registry)
    return result


def _answer(
    result: AskResult,
    rows: QueryResult,
    reply: ai_client.Reply,
    tool: str,
    messages: list[dict[str, Any]],
    call: Callable[[str], ai_client.Reply],
    registry: Registry,
) -> None:
    """Ask for the answer, check it against the rows, retry once, else withhold it."""
    facts = cell_facts(rows, registry)
    mentions = Mentions(
        [fact.aliases for fact in facts.values()]
        + [aliases_for(metric.label, metric.name) for metric in registry]
    )
    messages += ai_client.tool_result(reply, tool, _rows_message(rows), is_error=False)
    for attempt in range(2):
        answer_reply = call("answer")
        try:
            text = str(ai_client.tool_input(answer_reply, "answer").get("answer") or "").strip()
        except ai_client.AIUnavailable as error:
            raise AskFailed(f"Claude's answer was malformed: {error.reason}") from None
        if not text:
            raise AskFailed("Claude's answer was empty")
        problems = sanitize.problems(text)
        checked = render_checked(" ".join(text.split()), facts, mentions)
        problems += checked.problems
        if not problems:
            result.answer, result.answer_status = checked.text, "grounded"
            result.checked, result.unverified = label(checked, facts), []
            return
        result.unverified = problems
        if attempt == 0:
            messages += ai_client.tool_result(
                answer_reply,
                "answer",
                "The answer failed these checks: "
                + "; ".join(problems)
                + ". Answer again following the rules (figures only as cell references).",
            )
    result.answer = (
        "Answer withheld: it failed the checks against the rows (see `--json` for which); "
        "the query and its rows are below."
    )
    result.answer_status = "withheld"


def cell_facts(rows: QueryResult, registry: Registry) -> dict[str, Fact]:
    """Every cell of the first ROWS_SHOWN_TO_MODEL rows as a fact `r<row>.<column>`.

    A numeric cell states its metric, the row it is in (its period and keys) and, when the
    rows are a series over a period column, its change against the same keys' previous period.
    """
    shown = rows.rows[:ROWS_SHOWN_TO_MODEL]
    columns = rows.columns
    period = next(
        (
            column
            for i, column in enumerate(columns)
            if is_period_column(column, [row[i] for row in shown])
        ),
        None,
    )
    numeric = [
        c
        for i, c in enumerate(columns)
        if c != period
        and any(row[i] is not None for row in shown)
        and all(number(row[i]) is not None for row in shown if row[i] is not None)
    ]
    keys = [c for c in columns if c != period and c not in numeric]
    index = {column: i for i, column in enumerate(columns)}

    def row_label(row: tuple[Any, ...]) -> str:
        parts = [_cell(row[index[period]], period)] if period else []
        parts += [sanitize.for_terminal(row[index[k]], limit=40) for k in keys]
        return ", ".join(part for part in parts if part)

    previous_of: dict[int, int] = {}
    if period is not None:
        latest: dict[tuple[Any, ...], int] = {}
        order = sorted(range(len(shown)), key=lambda r: str(shown[r][index[period]]))
        for r in order:
            group = tuple(shown[r][index[k]] for k in keys)
            if group in latest:
                previous_of[r] = latest[group]
            latest[group] = r
    facts: dict[str, Fact] = {}
    for r, row in enumerate(shown):
        label_text = row_label(row) if (period or keys) and len(shown) > 1 else ""
        period_iso = iso_date(row[index[period]]) if period else None
        for column in columns:
            value = row[index[column]]
            fact_id = f"r{r + 1}.{column}"
            if column == period or column in keys:
                facts[fact_id] = Fact(
                    id=fact_id,
                    display=_cell(value, column)
                    if column == period
                    else sanitize.for_terminal(value, limit=80),
                    kind="period",
                    period=period_iso if column == period else None,
                    row_label=label_text,
                )
                continue
            metric = registry.for_column(column)
            direction = ratio = assessment = None
            if r in previous_of:
                before = number(shown[previous_of[r]][index[column]])
                now = number(value)
                if before is not None and now is not None:
                    direction = (now > before) - (now < before)
                    ratio = now / before if before else None
                    if metric is not None and direction:
                        assessment = "better" if (direction < 0) == metric.down_is_good else "worse"
            facts[fact_id] = Fact(
                id=fact_id,
                display=_cell(value, column),
                kind="cell",
                metric=column,
                label=metric.label if metric else column.replace("_", " "),
                period=period_iso,
                direction=direction,
                ratio=ratio,
                assessment=assessment,
                aliases=aliases_for(metric.label if metric else "", column),
                row_label=label_text,
            )
    return facts


MAX_CELL_CHARS = 60
"""Longest cell `ask` prints; the rest is cut and counted."""


def _cell(value: Any, column: str) -> str:
    """A cell for the terminal: formatted, control characters escaped, long text cut."""
    fmt = auto_format(column)
    try:
        text = format_value(value, fmt)
    except Exception:  # noqa: BLE001 - a display format never hides the value
        text = format_value(value)
    return sanitize.for_terminal(text, limit=MAX_CELL_CHARS)


def _usage_line(usage: dict[str, Any]) -> str:
    prompt = usage["input_tokens"] + usage["cache_write_tokens"] + usage["cache_read_tokens"]
    cached = (
        f" ({usage['cache_read_tokens']:,} from the prompt cache)"
        if usage["cache_read_tokens"]
        else ""
    )
    return (
        f"Claude ({usage['model']}): {usage['calls']} calls, {prompt:,} input tokens{cached} + "
        f"{usage['output_tokens']:,} output tokens, estimated ${usage['cost_usd']:.4f} "
        f"(${usage['cost_without_cache_usd']:.4f} without the prompt cache)"
    )


def render_text(result: AskResult, *, max_rows: int = 30) -> str:
    """The answer, the query and the rows as plain text for the terminal."""
    parts: list[str] = []
    if result.answer:
        parts += [result.answer]
        if result.checked:
            parts.append(f"(Claude's words; {result.checked}.)")
        parts.append("")
    parts += [
        "Metric query:" if result.kind == "metrics" else "SQL:",
        sanitize.for_terminal(result.sql, limit=4000),
        "",
    ]
    if result.columns:
        table = [
            [_cell(value, column) for value, column in zip(row, result.columns, strict=True)]
            for row in result.rows[:max_rows]
        ]
        widths = [
            max([len(column), *(len(row[i]) for row in table)])
            for i, column in enumerate(result.columns)
        ]
        header = [sanitize.for_terminal(c, limit=MAX_CELL_CHARS) for c in result.columns]
        widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
        parts.append("  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)))
        parts.append("  ".join("-" * width for width in widths))
        for row in table:
            parts.append("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
        more = " (row limit reached)" if result.truncated else ""
        parts.append(f"({min(len(result.rows), max_rows)} of {len(result.rows)} rows shown{more})")
    if result.usage:
        parts.append(_usage_line(result.usage))
    return "\n".join(parts).rstrip()
