"""Writing a data set atomically: Parquet files and the manifest go to a temporary folder
beside the target, which replaces the target only once everything is written."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jobmetrics.core import locks
from jobmetrics.core.atomic import replace_folder
from jobmetrics.core.contract import MANIFEST_NAME
from jobmetrics.core.contract_arrow import ARROW_SCHEMAS
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
    """A temporary folder beside out_dir, made under the raw folder's exclusive lock: replaces
    out_dir on success, removed on failure or interruption.

    The folder is made inside the block that removes it: SIGTERM and Ctrl-C raise in whatever
    line runs when they arrive, the one right after the folder is made included.
    """
    staging = out_dir.parent / f".{out_dir.name}.tmp-{secrets.token_hex(6)}"
    with contextlib.ExitStack() as held:
        try:
            try:
                held.enter_context(_write_lock(out_dir))
                staging.mkdir()  # honours the umask, unlike mkdtemp's private 0700
            except OSError as error:
                raise GeneratorError(
                    f"cannot write to {out_dir.parent}: {error.strerror}"
                ) from None
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
            f"{out_dir} is in use by a build, `jobmetrics generate` or `jobmetrics import` "
            f"(pid {holder}): "
            "wait for it to finish and run the command again; the folder is unchanged"
        ),
    )


def write_table(folder: Path, name: str, table: pa.Table) -> int:
    """Write one raw table with the contract schema; the bytes depend only on the data."""
    with TableFile(folder, name) as file:
        file.write(table)
    return file.rows


class TableFile:
    """One raw table written piece by piece: the same bytes as writing all its rows at once.

    Pieces are gathered into row groups of exactly ROW_GROUP_SIZE rows, each made contiguous
    before it is written, as pq.write_table would cut one table; so how the rows arrived (in
    one table or in many) never shows in the file.
    """

    def __init__(self, folder: Path, name: str) -> None:
        self.path = folder / f"{name}.parquet"
        self.name = name
        self.rows = 0
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> TableFile:
        return self

    def __exit__(self, exc_type: object, *_exc: object) -> None:
        if exc_type is None:
            self.close()
        elif self._writer is not None:
            self._writer.close()

    def close(self) -> None:
        """Write the last rows and the footer."""
        self._flush(final=True)
        if self._writer is not None:
            self._writer.close()

    def write(self, table: pa.Table) -> None:
        """Add rows (in contract column order once selected) to the table."""
        table = table.select(ARROW_SCHEMAS[self.name].names)
        _check_schema(self.name, table.schema)
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= ROW_GROUP_SIZE:
            self._flush(final=False)

    def _flush(self, *, final: bool) -> None:
        if not self._pending:
            return
        rows = pa.concat_tables(self._pending)
        self._pending, self._pending_rows = [], 0
        whole = rows.num_rows - rows.num_rows % ROW_GROUP_SIZE
        if not final and whole < rows.num_rows:
            self._pending, self._pending_rows = [rows.slice(whole)], rows.num_rows - whole
            rows = rows.slice(0, whole)
        if self._writer is None:
            contract = ARROW_SCHEMAS[self.name]
            text_columns = [f.name for f in contract if pa.types.is_string(f.type)]
            self._writer = pq.ParquetWriter(
                self.path,
                rows.schema,
                compression=COMPRESSION,
                use_dictionary=text_columns,
                write_statistics=True,
            )
        for start in range(0, max(rows.num_rows, 1), ROW_GROUP_SIZE):
            group = rows.slice(start, ROW_GROUP_SIZE).combine_chunks()
            self._writer.write_table(group, row_group_size=ROW_GROUP_SIZE)


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
    """Writes tables on one background thread, so compressing one piece overlaps computing
    the next (Arrow releases the GIL while it writes). At most MAX_QUEUED pieces wait, so
    a table given as pieces is never all in memory at once."""

    MAX_QUEUED = 2

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
        self._files: dict[str, TableFile] = {}
        self._queued: deque[Future[None]] = deque()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def write(self, name: str, table: pa.Table | Iterable[pa.Table]) -> None:
        """Write a table, whole or as pieces in row order (computed as the writer takes them)."""
        file = TableFile(self.folder, name)
        self._files[name] = file
        for piece in [table] if isinstance(table, pa.Table) else table:
            self._submit(file.write, piece)
        self._submit(file.close)

    def _submit(self, job: Callable[..., None], *args: object) -> None:
        while len(self._queued) >= self.MAX_QUEUED:
            self._queued.popleft().result()
        self._queued.append(self._pool.submit(job, *args))

    def row_counts(self) -> dict[str, int]:
        """Wait for every write; row count per table (raises the first write error)."""
        while self._queued:
            self._queued.popleft().result()
        return {name: file.rows for name, file in self._files.items()}


def write_manifest(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
