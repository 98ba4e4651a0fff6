"""The raw contract's row rules, read from where dbt reads them (models/staging/raw/_sources.yml),
checked on imported rows before they are written, so a bad row is answered with its source, table,
id and column instead of a failed build later.

The build runs the same rules again (macros/table_checks.sql); this copy names the first bad row,
which the build's check (a count per rule, at any scale) does not.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

from jobmetrics.core.contract import RAW_KEYS
from jobmetrics.core.settings import PROJECT_ROOT
from jobmetrics.importers.errors import SourceError

SOURCES_YML = PROJECT_ROOT / "models" / "staging" / "raw" / "_sources.yml"
SEEDS = PROJECT_ROOT / "seeds"
SOURCE_ID = "source_id"
"""Optional column of an imported table: the source's own id of the row, for messages only."""


@dataclass(frozen=True)
class Rule:
    """One check on one column: kind (not_null, unique, ...) and its argument."""

    table: str
    column: str
    kind: str
    argument: object = None


def rules(sources_yml: Path = SOURCES_YML) -> list[Rule]:
    """Every column check and relationship of the raw sources, in file order."""
    document = yaml.safe_load(sources_yml.read_text())
    found = []
    for source in document["sources"]:
        for table in source["tables"]:
            for column in table.get("columns", []):
                meta = (column.get("config") or {}).get("meta") or {}
                for check in meta.get("checks", []):
                    kind, argument = (
                        (check, None) if isinstance(check, str) else next(iter(check.items()))
                    )
                    if kind == "accepted_values" and isinstance(argument, dict):
                        argument = seed_values(argument["seed"], argument["column"])
                    found.append(Rule(table["name"], column["name"], kind, argument))
    return found


def seed_values(seed: str, column: str) -> list[str]:
    """The distinct values of a seed's column (accepted_values: {seed: ..., column: ...})."""
    with (SEEDS / f"{seed}.csv").open(newline="", encoding="utf-8") as handle:
        values = [row[column] for row in csv.DictReader(handle) if row.get(column)]
    return list(dict.fromkeys(values))  # in the seed's order, once each


def check(source: str, tables: dict[str, pa.Table]) -> None:
    """Raise SourceError naming the first row that breaks a rule of the contract."""
    connection = duckdb.connect()
    try:
        for name, table in tables.items():
            connection.register(name, table)
        for rule in rules():
            table = tables[rule.table]
            if table.num_rows == 0:
                continue
            found = _first_violation(
                connection, rule, has_source_id=SOURCE_ID in table.column_names
            )
            if found is not None:
                raise SourceError(_message(source, rule, *found))
    finally:
        connection.close()


def _first_violation(
    connection: duckdb.DuckDBPyConnection, rule: Rule, *, has_source_id: bool
) -> tuple | None:
    """(row key, source id, value, detail) of the first row breaking the rule, or None."""
    table, column = rule.table, rule.column
    key = " || ', ' || ".join(
        f"'{part}=' || coalesce(cast({part} as varchar), 'NULL')" for part in RAW_KEYS[table]
    )
    source_id = SOURCE_ID if has_source_id else "null"
    select = f"select {key}, {source_id}, {column}"
    detail = "null"
    if rule.kind == "not_null":
        where = f"{column} is null"
    elif rule.kind in ("unique", "no_duplicates"):
        where = (
            f"{column} in (select {column} from {table} where {column} is not null"
            f" group by {column} having count(*) > 1)"
        )
    elif rule.kind == "non_negative":
        where = f"{column} < 0"
    elif rule.kind == "accepted_values":
        values = ", ".join(_literal(value) for value in rule.argument)
        where = f"{column} not in ({values})"
    elif rule.kind == "between":
        bounds = []
        if rule.argument.get("min_value") is not None:
            bounds.append(f"{column} < {rule.argument['min_value']}")
        if rule.argument.get("max_value") is not None:
            bounds.append(f"{column} > {rule.argument['max_value']}")
        where = " or ".join(bounds)
    elif rule.kind == "later_than":
        where = f"{column} <= {rule.argument}"
        detail = f"cast({rule.argument} as varchar)"
    elif rule.kind == "null_when":
        where = f"({column} is null) <> coalesce({rule.argument}, false)"
    elif rule.kind == "relationships":
        field, (parent, _) = rule.argument["field"], _parent(rule)
        where = (
            f"{column} is not null and cast({column} as varchar) not in"
            f" (select cast({field} as varchar) from {parent} where {field} is not null)"
        )
    else:
        raise ValueError(f"{SOURCES_YML}: unknown check {rule.kind!r} on {table}.{column}")
    order = ", ".join(RAW_KEYS[table])
    return connection.execute(
        f"{select}, {detail} from {table} where {where} order by {order} limit 1"
    ).fetchone()


def _parent(rule: Rule) -> tuple[str, str]:
    """The relation a relationship points to (a raw table or a seed), as SQL and as the user
    knows it."""
    name = rule.argument["to"]
    seed = SEEDS / f"{name}.csv"
    if seed.is_file():
        return f"read_csv('{seed}', all_varchar = true)", f"seeds/{seed.name}"
    return name, name


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _message(source: str, rule: Rule, key: str, source_id: str | None, value, detail) -> str:
    """One line: source, table, row, column and what is wrong with the value."""
    where = f"{source}: {rule.table} row {key}" + (f" ({source_id})" if source_id else "")
    column, shown = rule.column, repr(value) if isinstance(value, str) else str(value)
    problems = {
        "not_null": "is empty; the contract needs a value",
        "unique": f"{shown} appears on more than one row",
        "no_duplicates": f"{shown} appears on more than one row",
        "non_negative": f"is {shown}, below 0",
        "accepted_values": lambda: f"{shown} is not one of {', '.join(map(str, rule.argument))}",
        "between": lambda: (
            f"{shown} is outside {rule.argument.get('min_value')} .. "
            f"{rule.argument.get('max_value')}"
        ),
        "later_than": f"{shown} is not after {rule.argument} {detail}",
        "null_when": lambda: f"is {shown} but must be empty exactly when {rule.argument}",
        "relationships": lambda: f"{shown} is not a {rule.argument['field']} of {_parent(rule)[1]}",
    }
    problem = problems[rule.kind]
    return f"{where}: {column} {problem() if callable(problem) else problem}"
