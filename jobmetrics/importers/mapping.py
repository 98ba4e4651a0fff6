"""The mapping file of `jobmetrics import postgres|files`: which source rows become which raw
contract columns (jobmetrics/importers/product.example.yml documents the format).

This module loads and checks the YAML, plans and runs the SQL of both importers through a small
Engine interface (PostgreSQL on the server, DuckDB over CSV / Parquet files) and turns the rows
read into contract tables: text or uuid keys get stable integer ids through IdMap, and the
incremental state of `--append` is kept here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from jobmetrics.core.contract import RAW_TABLES
from jobmetrics.core.contract_arrow import ARROW_SCHEMAS
from jobmetrics.importers.contract_checks import SOURCE_ID, rules
from jobmetrics.importers.errors import SourceError
from jobmetrics.importers.raw_folder import EVENT_DAYS, IdMap, write_import

TABLE_KEYS = ("from", "sql", "columns", "incremental")

ID_COLUMNS = ("user_id", "subscription_id", "invoice_id", "scan_id", "session_id", "visitor_id")
"""Contract columns holding an entity's id: a source's text or uuid ids become integers through
one IdMap per entity (user_id of raw_scans goes through the same map as raw_users.user_id)."""

ID_KIND_PREFIX = "product"
"""IdMap kinds are `product_<entity>` (product_user, ...), shared by the postgres and the files
importer: both read a product database, so either can extend a folder the other wrote."""

ROWS_PER_BATCH = 100_000
"""Rows fetched at a time from the source (a PostgreSQL server-side cursor, a DuckDB reader)."""


@dataclass(frozen=True)
class TableMapping:
    """How one contract table is read: a source relation and a SQL expression per column."""

    path: Path
    name: str
    source: str | None  # `from:` a table / view (postgres) or a file glob (files)
    sql: str | None  # `sql:` a select whose columns are named as the contract's
    columns: dict[str, str] = field(default_factory=dict)  # contract column -> SQL expression
    incremental: str | None = None

    def where(self, key: str) -> str:
        """`<mapping file>: <table>.<key>` for messages."""
        return f"{self.path}: {self.name}.{key}"

    @property
    def source_key(self) -> str:
        return "sql" if self.sql is not None else "from"


@dataclass(frozen=True)
class Mapping:
    path: Path
    tables: dict[str, TableMapping]


def load_mapping(path: Path | str, *, source: str) -> Mapping:
    """Read and check a mapping file; every mistake is a SourceError naming the file and key."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"mapping file {path} does not exist") from None
    except OSError as error:
        raise SourceError(f"cannot read mapping file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise SourceError(f"{path}{line}: {problem}") from None
    if not isinstance(document, dict) or not document:
        raise SourceError(
            f"{path}: expected one entry per raw table ({', '.join(RAW_TABLES)}), found "
            f"{'nothing' if not document else type(document).__name__}"
        )
    tables = {}
    for name, entry in document.items():
        if name not in ARROW_SCHEMAS:
            raise SourceError(
                f"{path}: {name}: not a raw table; the mapping's tables are {', '.join(RAW_TABLES)}"
            )
        tables[name] = _table_mapping(path, name, entry, source)
    # users first: their keys take the first ids, and the tables referencing them follow
    return Mapping(path, {name: tables[name] for name in RAW_TABLES if name in tables})


def _table_mapping(path: Path, name: str, entry: object, source: str) -> TableMapping:
    where = f"{path}: {name}"
    if not isinstance(entry, dict):
        raise SourceError(f"{where}: expected `from:` and `columns:`, or `sql:`")
    unknown = [key for key in entry if key not in TABLE_KEYS]
    if unknown:
        raise SourceError(
            f"{where}.{unknown[0]}: unknown key; a table takes {', '.join(TABLE_KEYS)}"
        )
    has_from, has_sql = "from" in entry, "sql" in entry
    if has_from == has_sql:
        raise SourceError(f"{where}: give either `from:` (with `columns:`) or `sql:`, not both")
    if has_sql and source == "files":
        raise SourceError(
            f"{where}.sql: the files importer reads `from:` a CSV or Parquet path or glob"
        )
    if has_sql and "columns" in entry:
        raise SourceError(
            f"{where}.columns: with `sql:` the select names its columns as the contract does"
        )
    text_key = "from" if has_from else "sql"
    text = entry[text_key]
    if not isinstance(text, str) or not text.strip():
        raise SourceError(f"{where}.{text_key}: expected a non-empty text")
    incremental = entry.get("incremental")
    if incremental is not None and (not isinstance(incremental, str) or not incremental.strip()):
        raise SourceError(f"{where}.incremental: expected a column or SQL expression")
    columns = {}
    if has_from:
        given = entry.get("columns")
        if not isinstance(given, dict) or not given:
            raise SourceError(
                f"{where}.columns: expected `contract_column: source column or SQL expression`"
            )
        contract = ARROW_SCHEMAS[name].names
        for column, expression in given.items():
            if column not in contract:
                raise SourceError(
                    f"{where}.columns.{column}: not a column of {name} ({', '.join(contract)})"
                )
            columns[column] = _expression(f"{where}.columns.{column}", expression)
        for column in required_columns(name):
            if columns.get(column) == "null":
                raise SourceError(f"{where}.columns.{column}: null, but the contract needs a value")
        missing = [column for column in required_columns(name) if column not in columns]
        if missing:
            raise SourceError(
                f"{where}.columns: {missing[0]} is not mapped and the contract needs a value: "
                "map it to a source column, a SQL expression or a constant such as \"'desktop'\""
            )
    return TableMapping(
        path=path,
        name=name,
        source=text.strip() if has_from else None,
        sql=text.strip().rstrip(";") if has_sql else None,
        columns=columns,
        incremental=incremental.strip() if incremental else None,
    )


def _expression(where: str, value: object) -> str:
    """A column's SQL expression; YAML numbers, booleans, dates and null become SQL constants."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return repr(value)
    if isinstance(value, datetime | date):
        return (
            "'" + value.isoformat(sep=" ") + "'"
            if isinstance(value, datetime)
            else ("'" + value.isoformat() + "'")
        )
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise SourceError(
        f"{where}: expected a source column, a SQL expression or a constant, got {value!r}"
    )


@cache
def required_columns(table: str) -> tuple[str, ...]:
    """The table's columns the contract needs a value in (its not_null checks)."""
    return tuple(rule.column for rule in rules() if rule.table == table and rule.kind == "not_null")


# ---- planning the select --------------------------------------------------------------------

KINDS = ("int", "float", "numeric", "text", "bool", "timestamp", "timestamptz", "date", "other")
"""What a source column is, whatever the engine calls it; each importer maps its type names."""


@dataclass(frozen=True)
class Column:
    """One column of the select an importer runs: SQL, and the Arrow type its values arrive in."""

    name: str
    sql: str
    arrow: pa.DataType


def plan_column(table: str, column: str, expression: str, kind: str) -> Column:
    """The expression wrapped so its values arrive in one Arrow type the writer can cast to the
    contract's: integer ids as int64 and text / uuid ids as text (IdMap turns them into integers),
    timestamps as UTC without time zone, money as its exact decimal text."""
    target = ARROW_SCHEMAS[table].field(column).type
    value = f"({expression})"
    if pa.types.is_integer(target):
        if kind == "int":
            return Column(column, f"{value}::bigint", pa.int64())
        if kind in ("float", "numeric"):  # 1234.0 converts, 1234.5 is refused by the writer
            return Column(column, f"{value}::float8", pa.float64())
        return Column(column, f"{value}::text", pa.string())
    if pa.types.is_timestamp(target) or pa.types.is_date(target):
        if kind == "timestamptz":
            value = f"({value} at time zone 'UTC')"
        elif kind not in ("timestamp", "date"):
            return Column(column, f"{value}::text", pa.string())
        if pa.types.is_date(target):
            return Column(column, f"{value}::date", pa.date32())
        return Column(column, f"{value}::timestamp", pa.timestamp("us"))
    if pa.types.is_floating(target) and kind in ("int", "float", "numeric"):
        return Column(column, f"{value}::float8", pa.float64())
    # text, and money kept exact as text (the writer casts it, refusing values it would round)
    return Column(column, f"{value}::text", pa.string())


def plan_select(
    mapping: TableMapping, kinds: dict[str, str], where: str = ""
) -> tuple[str, list[Column]]:
    """The select reading the table's rows (`where`: an incremental_filter) and the columns it
    returns. `kinds` is the kind of each mapped expression."""
    columns = [
        plan_column(mapping.name, column, expression, kinds[column])
        for column, expression in mapping.columns.items()
    ]
    select = ", ".join(f'{column.sql} as "{column.name}"' for column in columns)
    return f"select {select} from {relation(mapping)}{where}", columns


def relation(mapping: TableMapping) -> str:
    """The FROM item: the `from:` relation, or the `sql:` select as a subquery."""
    return f"({mapping.sql}) as src" if mapping.sql is not None else mapping.source


def incremental_filter(mapping: TableMapping, after: str | None) -> str:
    """` where <incremental> >= <after>`, `after` being the saved largest value as a SQL constant.

    `>=`, not `>`: rows sharing the last saved value that arrived after the last import are read
    too; rows read twice replace themselves (--append merges by key)."""
    if after is None or mapping.incremental is None:
        return ""
    return f" where ({mapping.incremental}) >= {after}"


def _and_until(where: str, mapping: TableMapping, until: date | None) -> str:
    """`where` extended to the rows whose event happened by the end of `until` (UTC); the same
    filter bounds the incremental state, so rows after it are read by the next import."""
    if until is None:
        return where
    cutoff = f"{until + timedelta(days=1):%Y-%m-%d} 00:00:00+00"
    conditions = [
        f"cast(({mapping.columns[column]}) as timestamptz) < cast('{cutoff}' as timestamptz)"
        for column in EVENT_DAYS[mapping.name]
        if column in mapping.columns
    ]
    if not conditions:
        return where
    joined = " and ".join(conditions)
    return f"{where} and {joined}" if where else f" where {joined}"


def with_sql_columns(mapping: TableMapping, names: list[str]) -> TableMapping:
    """A `sql:` table's columns: the contract columns its select returns, under their names."""
    contract = ARROW_SCHEMAS[mapping.name].names
    columns = {name: f'src."{name}"' for name in contract if name in names}
    missing = [column for column in required_columns(mapping.name) if column not in columns]
    if missing:
        raise SourceError(
            f"{mapping.where('sql')}: the select returns no column {missing[0]} and the contract "
            f"needs a value (name a column `{missing[0]}`); it returns {', '.join(names)}"
        )
    return TableMapping(mapping.path, mapping.name, None, mapping.sql, columns, mapping.incremental)


class Engine(Protocol):
    """What read_table needs from a SQL engine: PostgreSQL on the server, DuckDB over files."""

    name: str  # in messages: "PostgreSQL", "DuckDB"
    errors: tuple[type[Exception], ...]  # the engine's SQL errors

    def describe(self, select: str) -> list[tuple[str, str]]:
        """(name, kind) of each column the select returns, without reading rows."""

    def batches(self, select: str, columns: list[Column]) -> Iterator[pa.RecordBatch]:
        """The select's rows, ROWS_PER_BATCH at a time, in the columns' Arrow types."""

    def one(self, select: str) -> tuple:
        """The select's single row."""

    def largest(self, expression: str) -> str:
        """A select list: the expression's max as text, and the name of its type."""

    def constant(self, value: str, type_name: str) -> str:
        """A value saved by largest() as a SQL constant of its type."""

    def fails(self, select: str) -> str | None:
        """The first line of the engine's error when the select fails, else None."""


def read_table(
    engine: Engine,
    mapping: TableMapping,
    state: dict | None,
    step: Callable[[str], None],
    until: date | None = None,
) -> tuple[pa.Table, dict | None]:
    """The table's rows as a contract table (text ids not yet mapped), and its incremental state
    after this read: the largest value read, or the saved one when no row was new. With `until`,
    only rows whose event time (EVENT_DAYS) falls on or before that day, UTC."""
    step(mapping.name)
    source = relation(mapping)
    try:
        if mapping.sql is not None:
            names = [name for name, _ in engine.describe(f"select * from {source}")]
            mapping = with_sql_columns(mapping, names)
        described = engine.describe(f"select {', '.join(mapping.columns.values())} from {source}")
        if len(described) != len(mapping.columns):
            raise _several_columns(engine, mapping)
        kinds = {column: kind for column, (_, kind) in zip(mapping.columns, described, strict=True)}
        after = saved_after(state, mapping)
        where = incremental_filter(mapping, after and engine.constant(*after))
        where = _and_until(where, mapping, until)
        query, columns = plan_select(mapping, kinds, where)
        pieces, rows = [], 0
        for batch in engine.batches(query, columns):
            pieces.append(batch)
            rows += batch.num_rows
            step(f"{mapping.name}: {rows:,} rows")
        largest = None
        if mapping.incremental is not None:
            largest = engine.one(
                f"select {engine.largest(mapping.incremental)} from {source}{where}"
            )
    except engine.errors as error:
        raise located_error(engine, mapping, error) from None
    if largest is None:
        state_after = None
    elif largest[0] is None and after:
        state_after = table_state(mapping, *after)
    else:
        state_after = table_state(mapping, *largest)
    return to_contract(mapping, pieces, columns), state_after


def read_tables(
    engine: Engine,
    plan: Mapping,
    state: dict | None,
    step: Callable[[str], None],
    until: date | None = None,
) -> tuple[dict[str, pa.Table], dict]:
    """Every mapped table read through the engine, and the incremental state to save (the
    previous import's, updated for the tables read)."""
    saved = dict((state or {}).get("tables") or {})
    tables = {}
    for mapping in plan.tables.values():
        tables[mapping.name], saved[mapping.name] = read_table(engine, mapping, state, step, until)
    return tables, {"tables": saved}


def write_tables(
    out: Path,
    source: str,
    tables: dict[str, pa.Table],
    state: dict,
    *,
    append: bool,
    step: Callable[[str], None],
    until: date | None = None,
) -> dict:
    """Text ids mapped to integers, then the raw folder written (raw_folder.write_import)."""
    tables, id_maps = assign_ids(out, tables)
    step("checking and writing the raw folder")
    return write_import(
        out, source, tables, append=append, state=state, id_maps=id_maps, data_end=until
    )


def located_error(engine: Engine, mapping: TableMapping, error: Exception) -> SourceError:
    """The engine's error as one line naming the mapping key whose SQL it rejects, found by
    running each part alone; the table alone when every part runs (an error while reading)."""
    probes = [(mapping.source_key, "1")]
    probes += [(f"columns.{column}", expression) for column, expression in mapping.columns.items()]
    if mapping.incremental:
        probes.append(("incremental", mapping.incremental))
    for key, expression in probes:
        message = engine.fails(f"select {expression} from {relation(mapping)} limit 0")
        if message is not None:
            return SourceError(f"{mapping.where(key)}: {engine.name}: {message}")
    return SourceError(f"{mapping.path}: {mapping.name}: {engine.name}: {first_line(error)}")


def _several_columns(engine: Engine, mapping: TableMapping) -> SourceError:
    """The error naming the mapped expression that gives more than one column (a comma outside
    parentheses, or a `*`)."""
    for column, expression in mapping.columns.items():
        count = len(engine.describe(f"select {expression} from {relation(mapping)}"))
        if count != 1:
            return SourceError(
                f"{mapping.where(f'columns.{column}')}: {expression!r} gives {count} columns, "
                "not one (a comma outside parentheses?)"
            )
    return SourceError(f"{mapping.path}: {mapping.name}: the columns do not match the mapping")


def first_line(error: BaseException) -> str:
    """The first line of an engine's error message, its runs of spaces made one."""
    lines = str(error).strip().splitlines()
    return " ".join(lines[0].split()) if lines else type(error).__name__


# ---- contract tables ------------------------------------------------------------------------


def to_contract(
    mapping: TableMapping, pieces: list[pa.RecordBatch | pa.Table], columns: list[Column]
) -> pa.Table:
    """The rows read as one table with every contract column (unmapped ones are NULL)."""
    schema = pa.schema([(column.name, column.arrow) for column in columns])
    read = pa.Table.from_batches(
        [batch for piece in pieces for batch in _batches(piece, schema)], schema=schema
    )
    arrays = {}
    for contract_field in ARROW_SCHEMAS[mapping.name]:
        if contract_field.name in read.column_names:
            arrays[contract_field.name] = read[contract_field.name]
        else:  # not mapped: personal data (email, full_name) stays out unless mapped
            arrays[contract_field.name] = pa.nulls(read.num_rows, contract_field.type)
    return pa.table(arrays)


def _batches(piece: pa.RecordBatch | pa.Table, schema: pa.Schema) -> list[pa.RecordBatch]:
    table = pa.Table.from_batches([piece]) if isinstance(piece, pa.RecordBatch) else piece
    return table.select(schema.names).cast(schema).to_batches()


def assign_ids(out: Path, tables: dict[str, pa.Table]) -> tuple[dict, list]:
    """Text ids replaced by stable integers (one IdMap per entity, starting from the ids an
    earlier import into `out` gave); a table whose own key was text keeps it as SOURCE_ID for
    messages. Returns (tables, the IdMaps used)."""
    maps: dict[str, IdMap] = {}
    result = {}
    for name, table in tables.items():
        key = ARROW_SCHEMAS[name].names[0]
        for column in ID_COLUMNS:
            if column not in table.column_names or not pa.types.is_string(table[column].type):
                continue
            kind = f"{ID_KIND_PREFIX}_{column.removesuffix('_id')}"
            if kind not in maps:
                maps[kind] = IdMap.load(out, kind)
            original = table[column]
            table = table.set_column(
                table.column_names.index(column), column, _mapped(maps[kind], original)
            )
            if column == key:
                table = table.append_column(SOURCE_ID, original.cast(pa.string()))
        result[name] = table
    return result, list(maps.values())


def _mapped(ids: IdMap, values: pa.ChunkedArray) -> pa.Array:
    """Each text id as its integer; NULL stays NULL (the writer reports it)."""
    distinct = pc.unique(values.drop_null())
    if len(distinct) == 0:
        return pa.nulls(len(values), pa.int64())
    numbers = pa.array(ids.assign(distinct.to_pylist()), pa.int64())
    return pc.take(numbers, pc.index_in(values, value_set=distinct))


# ---- incremental state ----------------------------------------------------------------------


def saved_after(state: dict | None, mapping: TableMapping) -> tuple[str, str] | None:
    """(value, type) to read the table from on --append: the max saved by the last import, if
    it used the same incremental expression."""
    saved = ((state or {}).get("tables") or {}).get(mapping.name)
    if not saved or mapping.incremental is None or saved.get("incremental") != mapping.incremental:
        return None
    if saved.get("max") is None:
        return None
    return saved["max"], saved["type"]


def table_state(mapping: TableMapping, maximum: str | None, type_name: str | None) -> dict:
    return {"incremental": mapping.incremental, "max": maximum, "type": type_name}
