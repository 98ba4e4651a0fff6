"""Test data that every pytest-xdist worker reads but none changes, produced once per run."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def produced_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, produce: Callable[[Path], None]
) -> Path:
    """The folder `name`, filled by produce(folder) once per test run and shared by all workers.

    Under xdist the workers' temporary folders share a parent (pytest-N/popen-gw0, ...), which
    is this run's; without xdist it is the session's own folder. The first caller produces the
    folder while holding an exclusive lock; the others wait for it and reuse the result. A
    folder whose production failed is not marked done, so the next caller tries again (and
    reports the same error in its own tests).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    shared = root / "shared"
    shared.mkdir(exist_ok=True)
    folder = shared / name
    done = shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                if folder.exists():
                    shutil.rmtree(folder)
                folder.mkdir()
                produce(folder)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder
