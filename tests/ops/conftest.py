"""Fixtures of the operations tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def live(warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the built warehouse, standing for the live file of a deployment."""
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / warehouse.name
    shutil.copyfile(warehouse, path)
    return path
