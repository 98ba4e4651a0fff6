"""Which data areas the warehouse holds (dim_data_coverage), for everything that must leave out
what cannot be computed: report pages and their figures, narratives, `jobmetrics ask`.

A team that imports only its billing system has no scans, sessions or marketing spend, one that
imports only its product database no subscriptions or invoices (area `billing`); the models
then leave those figures out (no rows, or NULL), and readers of the warehouse say so with the
mart's own words ("the raw data holds no subscriptions or invoices") instead of showing 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb

COVERAGE_TABLE = "dim_data_coverage"
NOTE_PREFIX = "the raw data holds no "


@dataclass(frozen=True)
class DataArea:
    """One row of dim_data_coverage."""

    name: str
    label: str
    """What the area holds, in words: "scans or sessions"."""
    is_present: bool
    note: str
    """Said when it is absent: "the raw data holds no scans or sessions"."""


@dataclass(frozen=True)
class Coverage:
    """The data areas by name; an empty Coverage (an older warehouse) has every area present."""

    areas: dict[str, DataArea] = field(default_factory=dict)

    def unknown(self, names: Iterable[str]) -> list[str]:
        """The names that are no area of the warehouse (none when it records no areas)."""
        return [name for name in names if self.areas and name not in self.areas]

    def absent(self, names: Iterable[str]) -> list[DataArea]:
        """The named areas the raw data does not hold, in the order named."""
        return [
            self.areas[name]
            for name in names
            if name in self.areas and not self.areas[name].is_present
        ]

    def is_present(self, *names: str) -> bool:
        return not self.absent(names)

    def note(self, names: Iterable[str]) -> str | None:
        """Why figures needing these areas are left out ("the raw data holds no sessions or
        scans"), or None when every area is present."""
        absent = self.absent(names)
        if not absent:
            return None
        if len(absent) == 1:
            return absent[0].note
        return NOTE_PREFIX + " or ".join(area.label for area in absent)


def read_coverage(connection: duckdb.DuckDBPyConnection) -> Coverage:
    """The warehouse's data areas; an empty Coverage when it has no dim_data_coverage (built
    before the table existed: every area then counts as present, as it was then)."""
    cursor = connection.cursor()
    try:
        rows = cursor.execute(
            f"select data_area, data_label, is_present, absence_note from {COVERAGE_TABLE}"
        ).fetchall()
    except duckdb.CatalogException:
        return Coverage()
    finally:
        cursor.close()
    return Coverage(
        {name: DataArea(name, label, bool(present), note) for name, label, present, note in rows}
    )
