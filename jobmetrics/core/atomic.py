"""Publishing a file or a folder built beside its target in one step, so that a reader (or a
process killed midway) sees either the old or the new one, never neither or half of one.

Used by the generator (the raw folder), the warehouse build (the DuckDB file) and the report site
(its link to the current version); `write_file` by the caches dbt's runs keep (compiled templates
and generated code) and dbt's docs page.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import threading
import time
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def exchange(first: Path, second: Path) -> None:
    """Swap two paths in one step (Linux renameat2 with RENAME_EXCHANGE); OSError with ENOSYS,
    EINVAL or ENOTSUP where the system or file system cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available", str(first))
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(first))


def replace_file(new: Path, target: Path) -> None:
    """Put `new` (a file or a symbolic link) in place of `target` with one rename(2)."""
    os.replace(new, target)
    sync_folder(target.parent)


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` in one step: into `<name>.<pid>.<thread>.tmp` beside it (each
    writer its own, when processes or threads write the same file at once), then renamed into
    place. Not flushed to disk: for caches, which a lost write only makes slower. A killed
    writer leaves its partial file: `remove_partials`."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, path)


def remove_partials(folder: Path, pattern: str, older_than_s: float = 3600.0) -> None:
    """Remove the partial files of `write_file` matching `pattern` in `folder` that nobody has
    written to for `older_than_s` (their writer was killed)."""
    before = time.time() - older_than_s
    for partial in folder.glob(pattern):
        if partial.stat().st_mtime < before:
            partial.unlink(missing_ok=True)


def previous_name(target: Path) -> Path:
    """Where the fallback of `replace_folder` parks the old folder (removed right after, or by
    the next run if this one is killed first)."""
    return target.parent / f".{target.name}.previous-{os.getpid()}"


def replace_folder(new: Path, target: Path) -> None:
    """Put the folder `new` in place of the folder `target` in one step and remove the old one.

    With renameat2's exchange the old folder lands at `new`'s path and is removed; on a file system
    without it, two renames (old aside, new in) are the fallback.
    """
    if not target.exists():
        os.rename(new, target)
        sync_folder(target.parent)
        return
    try:
        exchange(new, target)
    except OSError as error:
        if error.errno not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise
        aside = previous_name(target)
        os.rename(target, aside)
        try:
            os.rename(new, target)
        except OSError:
            os.rename(aside, target)
            raise
        sync_folder(target.parent)
        shutil.rmtree(aside, ignore_errors=True)
        return
    sync_folder(target.parent)
    shutil.rmtree(new, ignore_errors=True)  # the old folder, now under the new one's name
