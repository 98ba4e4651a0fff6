"""Writing a data set atomically: Parquet files and the manifest go to a temporary folder
beside the target, which replaces the target only once everything is written."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jobmetrics.core import locks
from jobmetrics.core.atomic import replace_folder
from jobmetrics.core.contract import ARROW_SCHEMAS, MANIFEST_NAME
from jobmetrics.generator.errors import GeneratorError

ROW_GROUP_SIZE = 1_000_000
COMPRESSION = "zstd"


def check_target(out_dir: Path) -> None:
    """Raise GeneratorError unless out_dir can be (re)placed by a generated data set."""
    if out_dir.exists() and not out_dir.is_dir():
        raise GeneratorError(f"output folder {out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST_NAME).is_file():
        raise GeneratorError(
            f"output folder {out_dir} is not empty and holds no {MANIFEST_NAME}: "
            "refusing to replace a folder the generator did not write"
        )
    parent = out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise GeneratorError(f"cannot create output folder {out_dir}: {error.strerror}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise GeneratorError(
            f"output folder {out_dir} is not writable (no write access to {parent})"
        )


@contextlib.contextmanager
def staging_folder(out_dir: Path) -> Iterator[Path]:
    """A temporary folder beside out_dir: replaces out_dir on success, removed on failure."""
    staging = out_dir.parent / f".{out_dir.name}.tmp-{secrets.token_hex(6)}"
    try:
        staging.mkdir()  # honours the umask, unlike mkdtemp's private 0700
    except OSError as error:
        raise GeneratorError(f"cannot write to {out_dir.parent}: {error.strerror}") from None
    try:
        with _write_lock(out_dir):
            yield staging
            replace_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_lock(out_dir: Path) -> contextlib.AbstractContextManager[None]:
    """The raw folder's lock, exclusive: a build reading the folder holds it shared."""
    return locks.hold(
        locks.raw_lock_path(out_dir),
        shared=False,
        refuse=lambda holder: GeneratorError(
            f"{out_dir} is in use by a build or another `jobmetrics generate` (pid {holder}): "
            "wait for it to finish and run the command again; the folder is unchanged"
        ),
    )


def write_table(folder: Path, name: str, table: pa.Table) -> int:
    """Write one raw table with the contract schema; the bytes depend only on the data."""
    table = table.select(ARROW_SCHEMAS[name].names)
    schema = _check_schema(name, table.schema)
    text_columns = [f.name for f in schema if pa.types.is_string(f.type)]
    pq.write_table(
        table,
        folder / f"{name}.parquet",
        compression=COMPRESSION,
        row_group_size=ROW_GROUP_SIZE,
        use_dictionary=text_columns,
        write_statistics=True,
    )
    return table.num_rows


def _check_schema(name: str, schema: pa.Schema) -> pa.Schema:
    """The contract schema of a table, or an error naming the first column that breaks it."""
    for field, expected in zip(schema, ARROW_SCHEMAS[name], strict=True):
        found = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if found != expected.type:
            raise TypeError(
                f"{name}.{field.name} is {field.type}, the contract says {expected.type}"
            )
    return ARROW_SCHEMAS[name]


class TableWriter:
    """Writes tables on one background thread, so compressing one table overlaps simulating
    the next (Arrow releases the GIL while it writes)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
        self._jobs: dict[str, Future[int]] = {}

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def write(self, name: str, table: pa.Table) -> None:
        self._jobs[name] = self._pool.submit(write_table, self.folder, name, table)

    def row_counts(self) -> dict[str, int]:
        """Wait for every write; row count per table (raises the first write error)."""
        return {name: job.result() for name, job in self._jobs.items()}


def write_manifest(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
