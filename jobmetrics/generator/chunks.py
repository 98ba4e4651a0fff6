"""Bounded pieces: big arrays are drawn, transformed and written CHUNK_ROWS rows at a time, so
the generator's memory stays bounded at any size instead of holding every temporary of a
whole table. Chunks never show in the output: a random stream is drawn in the same order
whatever the chunk size (one distribution after another, each element after the previous),
and rows sorted by time are sorted one span of days at a time, which orders them exactly as
one stable sort of all of them would.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

CHUNK_ROWS = 1_000_000
"""Rows per piece. Any value gives the same bytes; the tests set a tiny one to prove it."""


def spans(n: int) -> Iterator[tuple[int, int]]:
    """[start, stop) ranges of at most CHUNK_ROWS that cover range(n), in order."""
    step = CHUNK_ROWS
    for start in range(0, n, step):
        yield start, min(start + step, n)


def day_runs(counts: np.ndarray, rows: int | None = None) -> list[tuple[int, int]]:
    """[first, stop) runs of consecutive days holding about `rows` (CHUNK_ROWS) items each (a
    single day may hold more), covering every day; counts[d] is the items of day d."""
    rows = CHUNK_ROWS if rows is None else rows
    runs: list[tuple[int, int]] = []
    first, held = 0, 0
    for d, count in enumerate(counts.tolist()):
        if held and held + count > rows:
            runs.append((first, d))
            first, held = d, 0
        held += count
    runs.append((first, counts.shape[0]))
    return runs


def stable_time_order(seconds: np.ndarray, day: np.ndarray, days: int) -> Iterator[np.ndarray]:
    """Indexes that order `seconds` stably (ties keep input order), one run of days at a time;
    `day` is each item's day number in [0, days), non-decreasing with its seconds.

    Each run is picked by a pass over `day`, so runs are 4 × CHUNK_ROWS long: fewer passes.
    """
    for first, stop in day_runs(np.bincount(day, minlength=days), 4 * CHUNK_ROWS):
        picked = np.flatnonzero((day >= first) & (day < stop))
        yield picked[np.argsort(seconds[picked], kind="stable")]


def group_by_day(day: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Item indexes grouped by day, in input order within a day, and where each day's group
    starts (bounds[d]:bounds[d + 1]); `day` is each item's day number in [0, days)."""
    order = np.argsort(day, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(day, minlength=days))])
    return order.astype(np.int32 if day.shape[0] < 2**31 else np.int64), bounds
