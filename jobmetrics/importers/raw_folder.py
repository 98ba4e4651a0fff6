"""Writing imported rows as a raw folder `jobmetrics build` accepts: cast to the contract's
types, checked against its rules, merged with the folder's rows on --append, and written
atomically with a manifest (the generator's staging folder and swap), so a failed or killed
import leaves the previous folder as it was."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jobmetrics.core.contract import MANIFEST_NAME, RAW_CONTRACT_VERSION, RAW_KEYS, RAW_TABLES
from jobmetrics.core.contract_arrow import ARROW_SCHEMAS
from jobmetrics.generator import output
from jobmetrics.importers import contract_checks
from jobmetrics.importers.contract_checks import SOURCE_ID
from jobmetrics.importers.errors import SourceError

__all__ = ["SOURCE_ID", "IdMap", "read_import_state", "read_table", "write_import"]

EVENT_DAYS: dict[str, tuple[str, ...]] = {
    "raw_users": ("signed_up_at",),
    "raw_subscriptions": ("started_at",),
    "raw_invoices": ("issued_at",),
    "raw_scans": ("scanned_at",),
    "raw_sessions": ("started_at",),
    "raw_marketing_spend": ("spend_date",),
}
"""The columns dating each table's events: the data's first and last day come from them."""

ID_MAP_PREFIX = "_ids_"

ZONED_TIME = r"\d\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|[+-]\d\d(:?\d\d)?)$"
"""A time of day followed by a UTC offset (Z, +02:00, -0500), as text sources write them."""


class IdMap:
    """Stable BIGINT ids for a source's text ids (Stripe's cus_.., uuids), kept in the raw
    folder (`_ids_<kind>.parquet`) so an --append gives a known object the id it had."""

    def __init__(self, kind: str, known: dict[str, int]) -> None:
        self.kind = kind
        self.known = known

    @classmethod
    def load(cls, out: Path, kind: str) -> IdMap:
        """The ids an earlier import into `out` gave (none for a new folder)."""
        path = Path(out) / f"{ID_MAP_PREFIX}{kind}.parquet"
        if not path.is_file():
            return cls(kind, {})
        table = pq.read_table(path)
        return cls(
            kind, dict(zip(table["source_id"].to_pylist(), table["id"].to_pylist(), strict=True))
        )

    def assign(self, source_ids: Iterable[str]) -> list[int]:
        """The id of each source id; an unknown one gets the next id after the largest."""
        ids, top = [], max(self.known.values(), default=0)
        for source_id in source_ids:
            key = str(source_id)
            if key not in self.known:
                top += 1
                self.known[key] = top
            ids.append(self.known[key])
        return ids

    def save(self, folder: Path) -> None:
        table = pa.table(
            {
                "source_id": pa.array(list(self.known), pa.string()),
                "id": pa.array(list(self.known.values()), pa.int64()),
            }
        )
        pq.write_table(table, folder / f"{ID_MAP_PREFIX}{self.kind}.parquet")


def read_import_manifest(out: Path) -> dict | None:
    """The manifest of an import folder, None when `out` holds none; SourceError when it holds
    generated data or an unreadable manifest."""
    path = Path(out) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SourceError(f"{path} is not valid JSON ({error})") from None
    if "raw_contract_version" not in manifest:
        raise SourceError(
            f"{out} holds a generated data set: import into another folder (--out), "
            "or without --append to replace it"
        )
    return manifest


def read_import_state(out: Path, source: str) -> dict | None:
    """The state (e.g. cursors) the last import of `source` into `out` saved, or None."""
    manifest = read_import_manifest(out) if Path(out).is_dir() else None
    return ((manifest or {}).get("sources", {}).get(source) or {}).get("state")


def read_table(out: Path, table: str) -> pa.Table | None:
    """A raw table of an existing import folder (None when the folder or table is absent)."""
    path = Path(out) / f"{table}.parquet"
    return pq.read_table(path) if path.is_file() else None


def write_import(
    out: Path,
    source: str,
    tables: dict[str, pa.Table],
    *,
    append: bool,
    state: dict | None = None,
    skipped: Sequence[dict] = (),
    data_end: date | None = None,
    id_maps: Sequence[IdMap] = (),
    removed: Mapping[str, Collection[int]] | None = None,
) -> dict:
    """Write `tables` (contract table → rows) as the raw folder `out`; return its manifest.

    Without append the folder is new: tables not given are written empty and listed as absent.
    With append, `out` must be an import folder: the given tables' rows replace the rows with
    the same key (RAW_KEYS) and add the others; tables not given are kept. `removed` names
    rows (table → ids of its one-column key) the source no longer has (an invoice voided since
    the last import): they are dropped from the earlier rows.
    """
    out = Path(out)
    unknown = sorted(set(tables) - set(RAW_TABLES))
    if unknown:
        raise SourceError(f"{source}: {', '.join(unknown)} is not a table of the raw contract")
    _check_target(out, append=append)
    conformed = {name: conform(source, name, table) for name, table in tables.items()}
    with output.staging_folder(out) as folder:
        previous = read_import_manifest(out) if append else None
        merged: dict[str, pa.Table] = {}
        for name in RAW_TABLES:
            earlier = read_table(out, name) if append else None
            if earlier is not None and (removed or {}).get(name):
                (key,) = RAW_KEYS[name]
                gone = pa.array(sorted(removed[name]), earlier.schema.field(key).type)
                earlier = earlier.filter(pc.invert(pc.is_in(earlier[key], value_set=gone)))
            if name in conformed:
                merged[name] = _merge(name, earlier, conformed[name])
            else:
                merged[name] = earlier if earlier is not None else ARROW_SCHEMAS[name].empty_table()
        contract_checks.check(source, merged)
        for name, table in merged.items():
            output.write_table(
                folder,
                name,
                table.drop_columns([SOURCE_ID]) if SOURCE_ID in table.column_names else table,
            )
        saved = {id_map.kind for id_map in id_maps}
        for id_map in id_maps:
            id_map.save(folder)
        if append:
            for path in out.glob(f"{ID_MAP_PREFIX}*.parquet"):
                if path.stem.removeprefix(ID_MAP_PREFIX) not in saved:
                    shutil.copy2(path, folder / path.name)
        manifest = _manifest(
            previous,
            source,
            merged,
            given=sorted(tables),
            state=state,
            skipped=skipped,
            data_end=data_end,
        )
        output.write_manifest(folder, manifest)
        if skipped:
            (folder / skipped_file(source)).write_text(json.dumps(list(skipped), indent=1) + "\n")
        if append:  # the other sources' lists of what they skipped stay
            for path in out.glob(skipped_file("*")):
                if not (folder / path.name).exists() and path.name != skipped_file(source):
                    shutil.copy2(path, folder / path.name)
    return manifest


def skipped_file(source: str) -> str:
    """The file in an import folder listing every object `source` left out, with its reason."""
    return f"_skipped_{source}.json"


def _check_target(out: Path, *, append: bool) -> None:
    if out.exists() and not out.is_dir():
        raise SourceError(f"--out {out} exists and is not a folder")
    if append:
        if not out.is_dir() or read_import_manifest(out) is None:
            raise SourceError(
                f"--append needs an import folder at {out}: run the import once without --append"
            )
        return
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST_NAME).is_file():
        raise SourceError(
            f"--out {out} is not empty and holds no {MANIFEST_NAME}: refusing to replace a folder "
            "JobMetrics did not write"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SourceError(f"cannot create --out {out}: {error.strerror}") from None


def conform(source: str, name: str, table: pa.Table) -> pa.Table:
    """The table with exactly the contract's columns in its types (plus SOURCE_ID when given);
    SourceError naming the column (and the first row) that is missing or does not convert."""
    schema = ARROW_SCHEMAS[name]
    missing = [field.name for field in schema if field.name not in table.column_names]
    if missing:
        raise SourceError(
            f"{source}: {name} has no column {', '.join(missing)} (map every contract column)"
        )
    columns = {field.name: _cast(source, name, table, field) for field in schema}
    if SOURCE_ID in table.column_names:
        columns[SOURCE_ID] = pc.cast(table[SOURCE_ID], pa.string())
    return pa.table(columns)


def _cast(source: str, name: str, table: pa.Table, field: pa.Field) -> pa.ChunkedArray:
    values = table[field.name]
    if values.type == field.type:
        return values
    try:
        return _convert(values, field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
        row = _first_bad_row(values, field.type)
        if row is None:
            raise SourceError(
                f"{source}: {name}.{field.name} is {values.type}, which does not convert to "
                f"{field.type} ({str(error).splitlines()[0]})"
            ) from None
        keys = RAW_KEYS[name]
        shown = ", ".join(
            f"{key}={table[key][row].as_py()}" for key in keys if key in table.column_names
        )
        if SOURCE_ID in table.column_names:
            shown += f" ({table[SOURCE_ID][row].as_py()})"
        raise SourceError(
            f"{source}: {name} row {shown or row + 1}: {field.name} "
            f"{values[row].as_py()!r} is not a {_type_name(field.type)}"
        ) from None


def _convert(values: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """Cast without losing information; money is rounded to the cent first, and text or
    zoned times become UTC times without a zone, as the contract keeps them."""
    if pa.types.is_decimal(target) and pa.types.is_floating(values.type):
        values = pc.round(values, 2)
    if pa.types.is_timestamp(target):
        if pa.types.is_timestamp(values.type) and values.type.tz is not None:
            values = pc.cast(values, pa.timestamp(values.type.unit, tz="UTC"))
            return pc.cast(pc.cast(values, pa.timestamp(values.type.unit)), target)
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            # Text with an offset (Z, +02:00) is converted to UTC; text without one is UTC.
            zoned = pc.match_substring_regex(values, ZONED_TIME)
            with_zone = pc.if_else(zoned, values, pa.scalar(None, values.type))
            without = pc.if_else(zoned, pa.scalar(None, values.type), values)
            utc = pc.cast(pc.cast(with_zone, pa.timestamp("us", tz="UTC")), target)
            return pc.coalesce(utc, pc.cast(without, target))
    return pc.cast(values, target)


def _first_bad_row(values: pa.ChunkedArray, target: pa.DataType) -> int | None:
    """The index of the first value that does not convert (halving the range each step)."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    start, stop = 0, len(values)

    def converts(begin: int, end: int) -> bool:
        try:
            _convert(pa.chunked_array([values.slice(begin, end - begin)]), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return False
        return True

    if converts(start, stop):
        return None
    while stop - start > 1:
        middle = (start + stop) // 2
        if not converts(start, middle):
            stop = middle
        else:
            start = middle
    return start


def _type_name(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind):
        return "timestamp (YYYY-MM-DD HH:MM:SS, UTC or with an offset)"
    if pa.types.is_date(kind):
        return "date (YYYY-MM-DD)"
    if pa.types.is_decimal(kind):
        return f"number with at most {kind.precision - kind.scale} digits before the point"
    if pa.types.is_integer(kind):
        return "whole number"
    if pa.types.is_floating(kind):
        return "number"
    return str(kind)


def _merge(name: str, earlier: pa.Table | None, new: pa.Table) -> pa.Table:
    """The new rows, plus the earlier rows whose key the new rows do not have, in key order."""
    keys = ", ".join(RAW_KEYS[name])
    connection = duckdb.connect()
    try:
        connection.register("new_rows", new)
        if earlier is None:
            query = f"select * from new_rows order by {keys}"
        else:
            if SOURCE_ID in new.column_names and SOURCE_ID not in earlier.column_names:
                earlier = earlier.append_column(SOURCE_ID, pa.nulls(earlier.num_rows, pa.string()))
            connection.register("earlier_rows", earlier.select(new.column_names))
            query = (
                f"select * from (select * from earlier_rows anti join new_rows using ({keys})"
                f" union all by name select * from new_rows) order by {keys}"
            )
        merged = connection.execute(query).arrow()
    finally:
        connection.close()
    merged = merged.read_all() if hasattr(merged, "read_all") else merged
    return merged.cast(
        pa.schema(
            [
                *ARROW_SCHEMAS[name],
                *([pa.field(SOURCE_ID, pa.string())] if SOURCE_ID in new.column_names else []),
            ]
        )
    )


def _manifest(
    previous: dict | None,
    source: str,
    tables: dict[str, pa.Table],
    *,
    given: list[str],
    state: dict | None,
    skipped: Sequence[dict],
    data_end: date | None,
) -> dict:
    first, last = _event_days(tables)
    now = datetime.now(UTC).replace(microsecond=0)
    sources = dict((previous or {}).get("sources", {}))
    reasons: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    for item in skipped:
        reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
        if len(examples.setdefault(item["reason"], [])) < 3:
            examples[item["reason"]].append(str(item.get("id")))
    sources[source] = {
        "imported_at": now.isoformat(),
        "tables": given,
        "state": state,
        "skipped": len(skipped),
        "skipped_by_reason": reasons,
        "skipped_examples": examples,
        "skipped_list": skipped_file(source) if skipped else None,
    }
    return {
        "raw_contract_version": RAW_CONTRACT_VERSION,
        # A new id per import: a build never extends a warehouse built from earlier rows,
        # since an import may change old rows (a subscription canceled since).
        "import_id": f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}",
        "data_start": first,
        "data_end": str(data_end) if data_end else last,
        "row_counts": {name: table.num_rows for name, table in tables.items()},
        "absent_tables": [name for name, table in tables.items() if table.num_rows == 0],
        "sources": sources,
    }


def _event_days(tables: dict[str, pa.Table]) -> tuple[str | None, str | None]:
    """The first and last day any event of the tables happened on."""
    days = []
    for name, columns in EVENT_DAYS.items():
        for column in columns:
            values = tables[name][column]
            if len(values) and values.null_count < len(values):
                low, high = pc.min_max(values).values()
                days += [low.as_py(), high.as_py()]
    days = [day.date() if isinstance(day, datetime) else day for day in days]
    return (str(min(days)), str(max(days))) if days else (None, None)
