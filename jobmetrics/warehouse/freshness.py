"""Freshness of the raw sources: `dbt source freshness`, read back as one record per source.

The thresholds live on the sources in models/staging/raw/_sources.yml (warn after 1 day, error after
3 days since the newest `loaded_at_field` value). dbt runs in-process against the `lint` target
(an in-memory DuckDB reading the raw Parquet files), so a check never opens the warehouse file
and can run while a build or a DuckDB CLI session holds it.

Callers (the report site's footer, `python -m jobmetrics.warehouse.freshness` in the nightly
workflow):

    from jobmetrics.warehouse.freshness import check_freshness, overall_status
    sources = check_freshness(settings.raw_dir, settings.dbt_target_dir)
    for source in sources:  # SourceFreshness(name="raw.raw_users", status="pass", ...)
        print(source.name, source.status, source.max_loaded_at, source.age_hours)
    overall_status(sources)  # "pass" | "warn" | "error" | "runtime error" (the worst one)

check_freshness raises FreshnessError (a UserError) when it cannot run at all; catch it and show
"freshness unknown" in a footer. It takes ~5 s (one in-process dbt invocation).

`read_sources_json(path)` reads a sources.json that an earlier `dbt source freshness` wrote.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jobmetrics.core import settings as settings_module
from jobmetrics.core.errors import UserError
from jobmetrics.warehouse.dbt_invoke import run_dbt

STATUS_ORDER = ("pass", "warn", "error", "runtime error")
"""Statuses from best to worst, as dbt writes them."""

NO_ROWS = "no rows"
"""The status of a source table with no rows (e.g. no product events in imported billing data):
dbt calls it an error with a newest row in year 1; it is not stale, it holds nothing yet."""


class FreshnessError(UserError):
    """`dbt source freshness` could not run (the project does not parse, no sources.json)."""


@dataclass(frozen=True)
class SourceFreshness:
    """How fresh one raw source is, as `dbt source freshness` judged it."""

    name: str
    """source_name.table_name, e.g. raw.raw_users."""
    status: str
    """pass, warn, error, runtime error (the query failed: see message) or no rows."""
    max_loaded_at: datetime | None
    """Newest value of the source's loaded_at_field (UTC)."""
    snapshotted_at: datetime | None
    """When the check ran (UTC)."""
    age_hours: float | None
    """snapshotted_at - max_loaded_at, in hours."""
    warn_after: str
    """The warn threshold, e.g. '1 day' ('' when none)."""
    error_after: str
    """The error threshold, e.g. '3 days' ('' when none)."""
    message: str = ""
    """dbt's error text for a runtime error."""


def _timestamp(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _threshold(criteria: dict, key: str) -> str:
    rule = criteria.get(key) or {}
    count, period = rule.get("count"), rule.get("period")
    if not count or not period:
        return ""
    return f"{count} {period if count == 1 else period + 's'}"


def _record(
    unique_id: str,
    status: str,
    max_loaded_at: str | datetime | None,
    snapshotted_at: str | datetime | None,
    age_s: float | None,
    criteria: dict,
    message: str,
) -> SourceFreshness:
    newest = _timestamp(max_loaded_at)
    if newest is not None and newest.year == 1 and status != "runtime error":
        status, newest, age_s = NO_ROWS, None, None  # max() over no rows, as dbt reports it
    return SourceFreshness(
        # source.<project>.<source_name>.<table_name>
        name=".".join(unique_id.split(".")[2:]),
        status=status,
        max_loaded_at=newest,
        snapshotted_at=_timestamp(snapshotted_at),
        age_hours=None if age_s is None else round(age_s / 3600, 2),
        warn_after=_threshold(criteria, "warn_after"),
        error_after=_threshold(criteria, "error_after"),
        message=" ".join(message.split()),
    )


def _is_source(unique_id: str) -> bool:
    return unique_id.startswith("source.")


def read_sources_json(path: Path) -> list[SourceFreshness]:
    """The per-source results in a sources.json written by `dbt source freshness`.

    dbt leaves sources whose query failed (runtime errors) out of this file; check_freshness
    reports those too.
    """
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise FreshnessError(f"cannot read freshness results {path}: {error}") from error
    records = [
        _record(
            item["unique_id"],
            str(item.get("status", "runtime error")),
            item.get("max_loaded_at"),
            item.get("snapshotted_at"),
            item.get("max_loaded_at_time_ago_in_s"),
            item.get("criteria") or {},
            str(item.get("error") or ""),
        )
        for item in payload.get("results", [])
        if _is_source(item["unique_id"])
    ]
    return sorted(records, key=lambda record: record.name)


def check_freshness(
    raw_dir: Path,
    target_dir: Path,
    *,
    build_env: Mapping[str, str] | None = None,
    manifest: Any = None,
) -> list[SourceFreshness]:
    """Run `dbt source freshness` on the raw files in raw_dir (writes target_dir/sources.json).

    Standalone, dbt runs against the in-memory `lint` target with its own parse state in
    target_dir, so the warehouse is never opened. A build passes its own dbt environment
    (`build_env`: the file being built) to reuse the build's parse instead, and the manifest it
    parsed (`manifest`), so dbt does not load it again.

    Raises FreshnessError when the check cannot run at all (no raw folder, the project does not
    parse); a footer should then say the freshness is unknown rather than fail the site.
    """
    if not raw_dir.is_dir():
        raise FreshnessError(f"no raw data folder at {raw_dir}: freshness cannot be checked")
    target_dir.mkdir(parents=True, exist_ok=True)
    output = target_dir / "sources.json"
    args = ["source", "freshness", "--output", str(output)]
    if manifest is not None:
        # The build that parsed `manifest` has written manifest.json; only sources.json is new
        # here (dbt would serialise the whole manifest again, about 0.2 s).
        args.append("--no-write-json")
    if build_env is None:
        args += ["--target", "lint"]
        env = {"JOBMETRICS_RAW_DIR": str(raw_dir), "DBT_TARGET_PATH": str(target_dir)}
    else:
        env = dict(build_env)
    outcome = run_dbt(args, env=env, manifest=manifest)
    # A stale source makes dbt report failure but still returns every result; only a run
    # without results (the project does not parse) is an error here.
    results = getattr(outcome.result, "results", None)
    if results is None:
        raise FreshnessError(f"dbt source freshness did not run: {outcome.first_error()}")
    if manifest is not None:
        outcome.result.write(str(output))
    records = []
    for item in results:
        node = item.node
        if not _is_source(node.unique_id):
            continue  # on-run-start hooks report here too
        threshold = getattr(node, "freshness", None)
        records.append(
            _record(
                node.unique_id,
                str(item.status),
                getattr(item, "max_loaded_at", None),
                getattr(item, "snapshotted_at", None),
                getattr(item, "age", None),
                threshold.to_dict() if threshold is not None else {},
                str(item.message or "") if str(item.status) == "runtime error" else "",
            )
        )
    return sorted(records, key=lambda record: record.name)


def overall_status(sources: list[SourceFreshness]) -> str:
    """The worst status among the sources ('pass' when there are none)."""
    worst = max(
        (STATUS_ORDER.index(s.status) for s in sources if s.status in STATUS_ORDER), default=0
    )
    return STATUS_ORDER[worst]


FRESHNESS_FOLDER = "freshness"
"""Subfolder of the dbt target folder where builds leave sources.json (its own parse state)."""


def freshness_dir(target_dir: Path) -> Path:
    return target_dir / FRESHNESS_FOLDER


def summary_line(sources: list[SourceFreshness]) -> str:
    """One line for a page footer: the overall status, the newest data, the stale sources."""
    if not sources:
        return "not checked"
    newest = max((s.max_loaded_at for s in sources if s.max_loaded_at), default=None)
    newest_text = f", newest row {newest:%Y-%m-%d %H:%M} UTC" if newest else ""
    stale = [
        f"{s.name.rsplit('.', 1)[-1]} {s.status}"
        for s in sources
        if s.status not in ("pass", NO_ROWS)
    ]
    empty = [s.name.rsplit(".", 1)[-1] for s in sources if s.status == NO_ROWS]
    checked = max((s.snapshotted_at for s in sources if s.snapshotted_at), default=None)
    checked_text = f" (checked {checked:%Y-%m-%d %H:%M} UTC)" if checked else ""
    status = overall_status(sources)
    details = f": {', '.join(stale)}" if stale else ""
    empty_text = f"; no rows in {', '.join(empty)}" if empty else ""
    return f"{status}{details}{newest_text}{empty_text}{checked_text}"


def main() -> int:
    """Print one line per source; exit 1 when any source is past its error threshold."""
    current = settings_module.load()
    try:
        sources = check_freshness(current.raw_dir, current.dbt_target_dir)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for source in sources:
        loaded = source.max_loaded_at.isoformat() if source.max_loaded_at else "-"
        age = f"{source.age_hours:.1f} h" if source.age_hours is not None else "-"
        limits = f"warn after {source.warn_after or '-'}, error after {source.error_after or '-'}"
        print(f"{source.status:<13} {source.name:<28} newest {loaded} ({age} old; {limits})")
        if source.message:
            print(f"{'':<14}{source.message}")
    status = overall_status(sources)
    print(f"freshness: {status} ({len(sources)} sources)")
    return 1 if status in ("error", "runtime error") else 0


if __name__ == "__main__":
    sys.exit(main())
