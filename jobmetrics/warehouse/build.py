"""Safe rebuilds: dbt builds into a fresh DuckDB file that replaces the live one only on success.

Readers never see a half-built database and never block a build: the live file is swapped with an
atomic rename, so a DuckDB CLI session that has the old file open keeps reading the old data (its
open file handle still points at the old file) until it reconnects.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import struct
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb

from jobmetrics.core import locks, sql
from jobmetrics.core.atomic import replace_file
from jobmetrics.core.errors import BuildFailed, BuildLocked, UserError, WarehouseInUse
from jobmetrics.core.settings import PROJECT_ROOT, Settings, duckdb_file_problem
from jobmetrics.warehouse.dbt_invoke import NodeCallback, run_dbt
from jobmetrics.warehouse.freshness import FreshnessError, check_freshness, freshness_dir
from jobmetrics.warehouse.raw_data import check_raw_dir
from jobmetrics.warehouse.targets_seed import check_metric_targets


@dataclass
class BuildReport:
    """What a successful build produced."""

    warehouse: Path
    seconds: float
    nodes: int
    warnings: list[str] = field(default_factory=list)
    incremental: bool = False
    full_build_reason: str | None = None
    kept: int = 0
    """Views and seeds not run because the project is unchanged since the copied warehouse was
    built (UNCHANGED_NODES): they are as that build made them."""
    up_to_date: bool = False
    """Nothing the build reads had changed since the live warehouse was built, so dbt did not
    run (only the sources' freshness was checked again)."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def staging_path(warehouse: Path) -> Path:
    """The file a build writes before it is swapped in.

    Always the same name (the build lock allows one build at a time), so the dbt profile's
    path does not change between builds and dbt can reuse its partial parse: a changed profile
    makes dbt parse the whole project again (about 10 s on 2 cores).
    """
    return warehouse.with_name(f".{warehouse.name}.building.duckdb")


def build_lock(warehouse: Path) -> AbstractContextManager[None]:
    """Hold the warehouse's build lock; a second build exits at once with BuildLocked."""
    return locks.hold(
        lock_path(warehouse),
        shared=False,
        refuse=lambda holder: BuildLocked(
            f"another build of {warehouse} is running (pid {holder}); "
            "wait for it to finish and run the command again"
        ),
    )


def raw_read_lock(raw_dir: Path) -> AbstractContextManager[None]:
    """A shared lock on the raw folder: `jobmetrics generate` cannot replace it meanwhile."""
    if not raw_dir.parent.is_dir():
        return nullcontext()  # no raw folder either: check_raw_dir says so
    return locks.hold(
        locks.raw_lock_path(raw_dir),
        shared=True,
        refuse=lambda holder: BuildLocked(
            f"{raw_dir} is being written by `jobmetrics generate` (pid {holder}): wait for it "
            "to finish and build again; the previous warehouse is unchanged"
        ),
    )


_FLOCK = "@hhqqi4x"
"""struct flock on 64-bit Linux: type, whence, start, length (0 = whole file), pid."""


def _process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() or "unknown"
    except OSError:
        return "unknown"


@contextmanager
def no_writers(warehouse: Path) -> Iterator[None]:
    """Refuse to build while another process has the live file open for writing, and keep one
    from opening it for writing until the new file is swapped in.

    A writable DuckDB session (which holds a write lock on the whole file) would otherwise write
    its log beside the new file, and every later reader would replay it into the new warehouse.
    A shared lock on the live file is what readers hold too, so read-only sessions (and this
    process's own read-only connections) are not affected; it is an open-file-description lock,
    so it survives this process opening and closing the file for the incremental copy.
    """
    if not warehouse.exists():
        yield
        return
    handle = os.open(warehouse, os.O_RDONLY)
    try:
        shared = struct.pack(_FLOCK, fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)
        try:
            fcntl.fcntl(handle, fcntl.F_OFD_SETLK, shared)
        except OSError:
            holder = struct.unpack(_FLOCK, fcntl.fcntl(handle, fcntl.F_OFD_GETLK, shared))[4]
            who = f"process {holder} ({_process_name(holder)})" if holder > 0 else "another process"
            raise WarehouseInUse(
                f"{who} has {warehouse} open for writing, and its changes would land in the "
                "new warehouse: close that session (or reopen it with -readonly) and build "
                "again; the previous warehouse is unchanged"
            ) from None
        yield
    finally:
        os.close(handle)


def wal_path(database: Path) -> Path:
    """DuckDB's write-ahead log beside a database file."""
    return database.with_name(database.name + ".wal")


def _remove_database(path: Path) -> None:
    for candidate in (path, wal_path(path)):
        candidate.unlink(missing_ok=True)


def _remove_stale_builds(warehouse: Path) -> None:
    """Delete files left by builds that were killed (we hold the lock, so none is running)."""
    # the glob also matches the per-process names (`.building-PID.duckdb`) older versions used
    for stale in warehouse.parent.glob(f".{warehouse.name}.building*"):
        stale.unlink(missing_ok=True)


def _check_warehouse_path(warehouse: Path) -> None:
    """The warehouse path must be a DuckDB file (or nothing yet) in an existing, writable folder."""
    problem = duckdb_file_problem(warehouse)
    if problem is not None:
        raise UserError(f"the warehouse {warehouse} {problem}: move it away and build again")
    if not warehouse.parent.is_dir():
        raise UserError(
            f"the warehouse folder {warehouse.parent} does not exist: create it or point "
            "JOBMETRICS_WAREHOUSE at a file in an existing folder"
        )
    if not os.access(warehouse.parent, os.W_OK):
        raise UserError(f"the warehouse folder {warehouse.parent} is not writable")


BUILD_INFO = "jobmetrics_build_info"
"""One-row table in each warehouse `jobmetrics build` writes: the raw data set it was built from."""


def raw_data_set(manifest: dict) -> str:
    """What names a raw data set across `generate --append-days`: generator version,
    parameters and first day (appending days changes only the last day). An import names a new
    data set each time (its import_id): it may have changed old rows."""
    keys = ("generator_version", "parameters", "data_start")
    if "import_id" in manifest:
        keys = ("raw_contract_version", "import_id", "data_start")
    return json.dumps({key: manifest.get(key) for key in keys}, sort_keys=True)


UNCHANGED_NODES = ("--exclude", "config.materialized:view", "resource_type:seed")
"""The nodes an incremental build of an unchanged project leaves as its copy holds them."""

PROJECT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt")
"""The files of the dbt project a build reads (besides the raw folder)."""


def project_inputs(settings: Settings) -> str:
    """A digest of what the project's SQL is rendered from: the dbt project's files (content),
    the raw folder's and the warehouse's paths (in the sources' and relations' names), the
    engine and the dbt version. Equal digests create the same views and load the same seeds."""
    digest = hashlib.sha256()
    digest.update(f"{settings.raw_dir.resolve()}\0{settings.warehouse.resolve()}\0".encode())
    digest.update(f"{version('dbt-core')}\0{version('dbt-duckdb')}\0".encode())
    digest.update(os.environ.get("JOBMETRICS_TARGET", "duckdb").encode())
    for name in PROJECT_INPUTS:
        root = PROJECT_ROOT / name
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file():
                digest.update(f"\0{path.relative_to(PROJECT_ROOT)}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def build_inputs(settings: Settings, project: str) -> str:
    """A digest of everything a build reads: the project (project_inputs) and the raw files
    (name, size, modification time, as make judges them). Equal digests build equal
    warehouses."""
    digest = hashlib.sha256(project.encode())
    for path in sorted(settings.raw_dir.iterdir()):
        if path.is_file():
            stat = path.stat()
            digest.update(f"\0{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _build_info(warehouse: Path) -> dict[str, Any]:
    """The row of BUILD_INFO in a warehouse, by column ({} when it has none)."""
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        cursor = connection.execute(f"select * from {BUILD_INFO}")
        row = cursor.fetchone()
        columns = [column[0] for column in cursor.description]
    except duckdb.CatalogException:
        return {}
    finally:
        connection.close()
    return dict(zip(columns, row, strict=True)) if row else {}


def _cannot_extend(recorded: dict[str, Any], manifest: dict) -> str | None:
    """Why a copy of the previous warehouse (its BUILD_INFO row: `recorded`) cannot be extended
    incrementally with this raw folder (its older days would come from other data), or None
    when it can."""
    if "raw_data_set" not in recorded:
        return "the previous warehouse does not record which raw data set it was built from"
    data_set, data_end = recorded["raw_data_set"], recorded["data_end"]
    if data_set != raw_data_set(manifest):
        return "the raw folder holds another data set than the previous build"
    if str(data_end) > str(manifest.get("data_end")):
        return (
            f"the raw data now ends {manifest.get('data_end')}, "
            f"before the previous build's {data_end}"
        )
    return None


def _finalise(path: Path, manifest: dict, inputs: str, project: str) -> None:
    """Record the raw data set and the build's inputs, fold the write-ahead log into the file
    and flush it to disk."""
    connection = duckdb.connect(str(path))
    try:
        connection.execute(
            f"create or replace table {BUILD_INFO} as"
            f" select cast({sql.literal(raw_data_set(manifest))} as varchar) as raw_data_set,"
            f" cast({sql.literal(manifest.get('data_end'))} as date) as data_end,"
            f" cast({sql.literal(inputs)} as varchar) as build_inputs,"
            f" cast({sql.literal(project)} as varchar) as project_inputs"
        )
        connection.execute("checkpoint")
    finally:
        connection.close()
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _swap_in(new: Path, warehouse: Path) -> None:
    wal_path(warehouse).unlink(missing_ok=True)
    replace_file(new, warehouse)


SCHEMA_CHANGED = "schemas on this incremental model are out of sync"
"""dbt's error when an incremental model's columns differ from its table (on_schema_change)."""


def _failure_message(error: str) -> str:
    """dbt's first error, or what to do when an upgrade changed an incremental model's columns."""
    if SCHEMA_CHANGED in error:
        model = error.split(":", 1)[0]
        return (
            f"{model} is incremental and its columns differ from the table in the warehouse "
            "(the project changed since the last build): run `jobmetrics build --full-refresh` once"
        )
    return error


def _count_views_and_seeds(manifest: Any) -> int:
    """The nodes UNCHANGED_NODES leaves out, counted in a parsed manifest."""
    return sum(
        node.resource_type == "seed" or node.config.materialized == "view"
        for node in manifest.nodes.values()
        if node.resource_type in ("model", "seed")
    )


def _write_site_artifacts(settings: Settings, env: dict[str, str], manifest: Any) -> list[str]:
    """dbt's docs page and the sources' freshness, left in the target folder for the site.

    They describe this build, so they are made from the new file before the swap; a failure is a
    warning of the build, never a reason to keep the old warehouse.
    """
    notes = []
    # --no-compile: the page shows each model's source SQL and lineage; recompiling 500+ nodes
    # only to show compiled SQL would double the time.
    docs = run_dbt(["docs", "generate", "--static", "--no-compile"], env=env, manifest=manifest)
    if not docs.success:
        notes.append(f"dbt docs generate failed: {docs.first_error()}")
    try:
        check_freshness(
            settings.raw_dir,
            freshness_dir(settings.dbt_target_dir),
            build_env=env,
            manifest=manifest,
        )
    except FreshnessError as error:
        notes.append(str(error))
    return notes


def _build_env(settings: Settings, new: Path) -> dict[str, str]:
    """The environment of every dbt command of a build: it writes `new`, never the live file."""
    return {
        "JOBMETRICS_BUILD_PATH": str(new),
        "JOBMETRICS_RAW_DIR": str(settings.raw_dir),
        "JOBMETRICS_WAREHOUSE": str(settings.warehouse),
        "JOBMETRICS_THREADS": str(settings.threads),
        "JOBMETRICS_DUCKDB_THREADS": str(settings.duckdb_threads),
        "JOBMETRICS_MEMORY_LIMIT": settings.memory_limit,
    }


def _is_up_to_date(settings: Settings, inputs: str) -> bool:
    """The live warehouse was built from exactly these inputs, and the dbt artifacts the site
    shows (docs, freshness) are still in the target folder."""
    target = settings.dbt_target_dir
    artifacts = [target / "manifest.json", target / "catalog.json"]
    return (
        settings.warehouse.exists()
        and all(path.is_file() for path in artifacts)
        and _build_info(settings.warehouse).get("build_inputs") == inputs
    )


def _recheck_freshness(settings: Settings, new: Path, started: float) -> BuildReport:
    """Nothing to build: only the sources' age changes with the clock, so check it again."""
    notes = []
    try:
        check_freshness(
            settings.raw_dir,
            freshness_dir(settings.dbt_target_dir),
            build_env=_build_env(settings, new),
        )
    except FreshnessError as error:
        notes.append(str(error))
    finally:
        if new.exists():
            _remove_database(new)
    return BuildReport(
        warehouse=settings.warehouse,
        seconds=time.monotonic() - started,
        nodes=0,
        warnings=notes,
        up_to_date=True,
    )


def build(
    settings: Settings,
    *,
    full_refresh: bool = False,
    on_node: NodeCallback | None = None,
) -> BuildReport:
    """Run `dbt build` into a new file and swap it in; on failure keep the old one, raise.

    The build is incremental (it starts from a copy of the live warehouse) unless full_refresh
    is asked for, there is no live warehouse, or the raw folder is not the data set the live
    warehouse was built from, or an extension of it (BuildReport.full_build_reason says why).
    When nothing it reads has changed since the live warehouse was built (build_inputs), dbt does
    not run: the warehouse is already what it would build; only the sources' freshness, which
    changes with the clock, is checked again (BuildReport.up_to_date).
    """
    with raw_read_lock(settings.raw_dir):
        return _build(settings, full_refresh=full_refresh, on_node=on_node)


def _build(settings: Settings, *, full_refresh: bool, on_node: NodeCallback | None) -> BuildReport:
    check_metric_targets(PROJECT_ROOT)  # a typo in the hand-edited targets: line and column
    manifest = check_raw_dir(
        settings.raw_dir,
        events_from=settings.events_from,
        events_until=settings.events_until,
        margin_days=settings.event_margin_days,
    )
    warehouse = settings.warehouse
    _check_warehouse_path(warehouse)
    started = time.monotonic()
    with build_lock(warehouse), no_writers(warehouse):
        _remove_stale_builds(warehouse)
        new = staging_path(warehouse)
        project = project_inputs(settings)
        inputs = build_inputs(settings, project)
        if not full_refresh and _is_up_to_date(settings, inputs):
            return _recheck_freshness(settings, new, started)
        reason = "--full-refresh was given" if full_refresh else None
        if reason is None and not warehouse.exists():
            reason = "there is no previous warehouse"
        try:
            recorded: dict[str, Any] = {}
            if reason is None:
                # Incremental models extend the previous tables, so the new file starts as a copy.
                shutil.copyfile(warehouse, new)
                recorded = _build_info(new)
                reason = _cannot_extend(recorded, manifest)
                if reason is not None:
                    _remove_database(new)
            incremental = reason is None
            nodes: list[str] = []

            def count(status: str, name: str) -> None:
                if status != "start":
                    nodes.append(name)
                if on_node is not None:
                    on_node(status, name)

            # Unit tests check the models' SQL against fixed rows, not the data: they run in
            # `make test` and in a plain `dbt build`, not in every data build (17 of them cost
            # about 5 s of dbt's time, a third of a default build).
            args = [
                "build",
                "--exclude-resource-type",
                "unit_test",
                *([] if incremental else ["--full-refresh"]),
            ]
            env = _build_env(settings, new)
            # One parse serves the build, the docs and the freshness check. --no-write-json: the
            # build writes manifest.json (and semantic_manifest.json) when it ends.
            parsed = run_dbt(["parse", "--no-write-json"], env=env)
            if not parsed.success:
                raise BuildFailed(
                    "the dbt project does not parse, the previous warehouse is unchanged: "
                    + parsed.first_error()
                )
            kept = 0
            if incremental and recorded.get("project_inputs") == project:
                # The copy already holds this project's views and seeds: the same SQL over the
                # same relations, the same CSV files. Their tests still run (`empty`: excluding
                # a node does not exclude the tests on it).
                args += [*UNCHANGED_NODES, "--indirect-selection", "empty"]
                kept = _count_views_and_seeds(parsed.result)
            outcome = run_dbt(args, env=env, on_node=count, manifest=parsed.result)
            if not outcome.success:
                raise BuildFailed(
                    "dbt build failed, the previous warehouse is unchanged: "
                    + _failure_message(outcome.first_error())
                )
            notes = _write_site_artifacts(settings, env, parsed.result)
            _finalise(new, manifest, inputs, project)
            _swap_in(new, warehouse)
        except OSError as error:
            raise BuildFailed(
                f"build stopped ({error.strerror or error} on "
                f"{error.filename or warehouse.parent}); the previous warehouse is unchanged"
            ) from error
        finally:
            if new.exists():
                _remove_database(new)
    return BuildReport(
        warehouse=warehouse,
        seconds=time.monotonic() - started,
        nodes=len(nodes),
        warnings=outcome.warnings + notes,
        incremental=incremental,
        full_build_reason=reason,
        kept=kept,
    )
