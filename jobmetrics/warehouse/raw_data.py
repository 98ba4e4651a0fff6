"""Checks a raw data folder before a build, so bad input fails with one line naming the file."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from jobmetrics.core import sql
from jobmetrics.core.contract import MANIFEST_NAME, RAW_COLUMNS, RAW_TABLES
from jobmetrics.core.errors import UserError
from jobmetrics.generator.version import GENERATOR_MAJOR, is_compatible


def read_manifest(raw_dir: Path) -> dict:
    """The manifest of a raw folder (the generator's or an import's), checked for presence and
    the raw contract's major version."""
    if not raw_dir.is_dir():
        raise UserError(
            f"no raw data folder at {raw_dir}: run `jobmetrics generate` or set JOBMETRICS_RAW_DIR"
        )
    path = raw_dir / MANIFEST_NAME
    if not path.is_file():
        if not any(raw_dir.iterdir()):
            raise UserError(
                f"the raw data folder {raw_dir} is empty: run `jobmetrics generate --out {raw_dir}`"
            )
        raise UserError(
            f"{path} is missing: the raw folder was not written by `jobmetrics generate` "
            "or `jobmetrics import`"
        )
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UserError(f"{path} is not valid JSON ({error})") from error
    if "raw_contract_version" in manifest:  # written by `jobmetrics import`
        found = str(manifest["raw_contract_version"])
        if not is_compatible(found):
            raise UserError(
                f"{raw_dir} was imported for raw contract version {found}, this build needs "
                f"{GENERATOR_MAJOR}.x: import it again with `jobmetrics import ... --out {raw_dir}`"
            )
        return manifest
    found = str(manifest.get("generator_version", "unknown"))
    if not is_compatible(found):
        raise UserError(
            f"{raw_dir} was written by generator version {found}, this build needs "
            f"{GENERATOR_MAJOR}.x: regenerate it with "
            f"`jobmetrics generate --out {raw_dir}`"
        )
    return manifest


def parquet_columns(path: Path) -> dict[str, str]:
    """Column name → DuckDB type of a Parquet file, or UserError when it cannot be read."""
    connection = duckdb.connect()
    try:
        rows = connection.execute(
            "select column_name, column_type from"
            f" (describe select * from read_parquet({sql.literal(path)}))"
        ).fetchall()
    except duckdb.Error as error:
        first = str(error).strip().splitlines()[0]
        raise UserError(f"{path} is not a readable Parquet file: {first}") from error
    finally:
        connection.close()
    return dict(rows)


EVENT_TIMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "raw_users": ("user_id", ("signed_up_at",)),
    "raw_subscriptions": ("subscription_id", ("started_at", "ended_at")),
    "raw_invoices": ("invoice_id", ("issued_at",)),
    "raw_scans": ("scan_id", ("scanned_at",)),
    "raw_sessions": ("session_id", ("started_at",)),
    "raw_marketing_spend": ("channel", ("spend_date",)),
}
"""Per raw table: the column naming a row, and the columns holding when something happened.

Invoices' period_start / period_end are not events: an annual plan's period ends a year ahead.
"""


def event_window(
    raw_dir: Path,
    manifest: dict,
    *,
    events_from: date | None = None,
    events_until: date | None = None,
    margin_days: int = 31,
    now: datetime | None = None,
) -> tuple[datetime, datetime, str]:
    """The earliest and latest event time a raw folder may hold, and where they come from.

    By default from the first signup (the manifest's data_start, else the earliest
    signed_up_at) minus margin_days, to the build time plus a day; JOBMETRICS_EVENTS_FROM and
    JOBMETRICS_EVENTS_UNTIL (whole days) replace either end.
    """
    if events_from is not None:
        earliest, why_from = (
            datetime.combine(events_from, datetime.min.time()),
            "JOBMETRICS_EVENTS_FROM",
        )
    else:
        first = str(manifest.get("data_start") or "")
        try:
            first_day = date.fromisoformat(first)
        except ValueError:
            first = _first_signup(raw_dir)
            first_day = date.fromisoformat(first)
        earliest = datetime.combine(first_day - timedelta(days=margin_days), datetime.min.time())
        why_from = f"first signup {first} minus JOBMETRICS_EVENT_MARGIN_DAYS={margin_days}"
    if events_until is not None:
        latest = datetime.combine(events_until + timedelta(days=1), datetime.min.time())
        why_until = "JOBMETRICS_EVENTS_UNTIL"
    else:
        now = now or datetime.now(UTC).replace(tzinfo=None)
        latest, why_until = now + timedelta(days=1), "the build time plus a day"
    return earliest, latest, f"{why_from} .. {why_until}"


def _first_signup(raw_dir: Path) -> str:
    users = sql.literal(raw_dir / "raw_users.parquet")
    connection = duckdb.connect()
    try:
        query = f"select min(signed_up_at) from read_parquet({users})"
        first = connection.execute(query).fetchone()[0]
    finally:
        connection.close()
    return str(first.date()) if first is not None else str(date.today())


def check_event_times(raw_dir: Path, earliest: datetime, latest: datetime, why: str) -> None:
    """Raise UserError naming the table, column, row and value of the first event outside
    [earliest, latest]: one event dated 2999 or 1970 would make every monthly model span
    centuries (slow builds, months of zero MRR that passed every test)."""
    connection = duckdb.connect()
    try:
        for table, (row_id, columns) in EVENT_TIMES.items():
            path = raw_dir / f"{table}.parquet"
            for column in columns:
                found = connection.execute(
                    f"select {row_id}, {column} from read_parquet({sql.literal(path)})"
                    f" where cast({column} as timestamp) not between"
                    f" cast({sql.literal(earliest)} as timestamp)"
                    f" and cast({sql.literal(latest)} as timestamp)"
                    f" order by {column} limit 1"
                ).fetchone()
                if found is not None:
                    raise UserError(
                        f"{path}: {column} of row {row_id}={found[0]!r} is {found[1]}, outside "
                        f"{earliest:%Y-%m-%d %H:%M} .. {latest:%Y-%m-%d %H:%M} ({why}): fix the "
                        "row, or widen the window with JOBMETRICS_EVENTS_FROM / "
                        "JOBMETRICS_EVENTS_UNTIL"
                    )
    finally:
        connection.close()


def check_raw_dir(
    raw_dir: Path,
    *,
    events_from: date | None = None,
    events_until: date | None = None,
    margin_days: int = 31,
) -> dict:
    """Raise UserError unless every raw table exists, reads, has exactly the contract columns
    and holds event times inside the plausible window (see event_window)."""
    manifest = read_manifest(raw_dir)
    for table in RAW_TABLES:
        path = raw_dir / f"{table}.parquet"
        if not path.is_file():
            raise UserError(f"{path} is missing: every raw table must be present")
        found = parquet_columns(path)
        expected = RAW_COLUMNS[table]
        missing = [name for name in expected if name not in found]
        extra = [name for name in found if name not in expected]
        if missing:
            raise UserError(f"{path} is missing column(s) {', '.join(missing)}")
        if extra:
            raise UserError(f"{path} has unexpected column(s) {', '.join(extra)}")
        wrong = [
            f"{name} is {found[name]}, expected {kind}"
            for name, kind in expected.items()
            if found[name] != kind
        ]
        if wrong:
            raise UserError(f"{path}: {'; '.join(wrong)}")
    window = event_window(
        raw_dir,
        manifest,
        events_from=events_from,
        events_until=events_until,
        margin_days=margin_days,
    )
    check_event_times(raw_dir, *window)
    return manifest
