"""File locks (flock) that fail at once instead of waiting, naming the process that holds them.

One writer or several readers: a build holds the warehouse lock alone and reads its raw folder
under a shared lock; `jobmetrics generate` writes a raw folder under an exclusive one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def hold(path: Path, *, shared: bool, refuse: Callable[[str], Exception]) -> Iterator[None]:
    """Hold an flock on `path` (created if missing) with this pid written in it; when another
    process holds a conflicting lock, raise `refuse(its pid)` at once."""
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise refuse(handle.read().strip() or "unknown") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


def raw_lock_path(raw_dir: Path) -> Path:
    """The lock of a raw folder: beside it, since `generate` replaces the folder itself."""
    return raw_dir.parent / f".{raw_dir.name}.lock"
