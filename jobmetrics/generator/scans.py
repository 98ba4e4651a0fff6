"""raw_scans and the visits of signed-up users: every scan happens during a visit (session).

Visits come from three sources: onboarding (the days after signing up), occasional free use
over the rest of the window, and paid use while subscribed (more on higher plans). Visits
follow the weekday and January shapes; each visit holds a Poisson number of scans.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from jobmetrics.generator import assumptions as a
from jobmetrics.generator.anomalies import PROCESSING_SLOWDOWN, Anomaly, find
from jobmetrics.generator.arrow import categorical, timestamps
from jobmetrics.generator.chunks import spans, stable_time_order
from jobmetrics.generator.subscriptions import Subscriptions
from jobmetrics.generator.timeline import (
    DAY_S,
    HOUR_SHARE,
    Window,
    draw,
    jumped,
    ragged_index,
    seasonal_factor,
    thin_by_season,
)
from jobmetrics.generator.users import Users

MONTH_S = 30.44 * DAY_S
SCAN_STATUSES = ("completed", "failed")


@dataclass
class Visits:
    """Visits of signed-up users in chronological order (ties keep the order they were drawn)."""

    user: np.ndarray  # user index (user_id - 1), int32
    at: np.ndarray


@dataclass
class Scans:
    """Scans in chronological order; each happens during a visit."""

    user: np.ndarray  # user index (user_id - 1), int32
    at: np.ndarray


def _spread(
    user: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    per_month: np.ndarray,
    window: Window,
    acceptance: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Visits at a monthly rate over [low, high) ∩ window per row, shaped by weekday and season."""
    low = np.maximum(low, window.start_s)
    high = np.minimum(high, window.end_s)
    length = high - low
    months = np.maximum(length, 0) / MONTH_S
    counts = rng.poisson(per_month * months / acceptance.mean())
    row = np.repeat(np.arange(user.shape[0], dtype=np.int32), counts)
    del counts
    n = row.shape[0]
    at = np.empty(n, dtype=np.int64)
    for start, stop in spans(n):
        rows = row[start:stop]
        at[start:stop] = low[rows] + (rng.random(stop - start) * length[rows]).astype(np.int64)
    # The same instant's day at a time of day drawn as timeline.time_of_day draws it.
    hour = draw(rng, HOUR_SHARE, n)
    for start, stop in spans(n):
        rows = row[start:stop]
        moved = (at[start:stop] // DAY_S) * DAY_S + hour[start:stop].astype(np.int64) * 3600
        moved += rng.integers(0, 3600, size=stop - start)
        at[start:stop] = np.clip(moved, low[rows], high[rows] - 1)
    del hour
    keep = thin_by_season(rng, at, acceptance, window)
    return user[row[keep]], at[keep]


def make_visits(
    users: Users,
    subs: Subscriptions,
    window: Window,
    rng: np.random.Generator,
    new_users_from: int = 0,
) -> Visits:
    """Draw every visit inside the window: onboarding, free use and paid use.

    Only users from index new_users_from on signed up inside the window and get onboarding
    visits; earlier users (an extended data set) continue with free and paid visits.
    """
    season = seasonal_factor(window.day_numbers())
    acceptance = season / season.max()
    user_index = np.arange(users.count, dtype=np.int32)

    onboarding = rng.poisson(a.ONBOARDING_VISITS, size=users.count - new_users_from)
    onboard_user = np.repeat(user_index[new_users_from:], onboarding)
    del onboarding
    onboard_at = np.empty(onboard_user.shape[0], dtype=np.int64)
    for start, stop in spans(onboard_user.shape[0]):
        delay = rng.exponential(a.ONBOARDING_MEAN_DAYS * DAY_S, size=stop - start)
        onboard_at[start:stop] = users.signup_s[onboard_user[start:stop]] + 60
        onboard_at[start:stop] += delay.astype(np.int64)

    free = _spread(
        user_index,
        users.signup_s + 60,
        np.full(users.count, window.end_s, dtype=np.int64),
        np.full(users.count, a.FREE_VISITS_PER_MONTH),
        window,
        acceptance,
        rng,
    )
    paid = _spread(
        subs.user.astype(np.int32),
        subs.start,
        subs.end,
        np.array(a.PAID_VISITS_PER_MONTH)[subs.plan],
        window,
        acceptance,
        rng,
    )
    parts = []
    for user, at in [(onboard_user, onboard_at), free, paid]:
        inside = at < window.end_s
        parts.append((user[inside], at[inside]))
    del onboard_user, onboard_at, free, paid
    return Visits(*_in_time_order(parts, window))


def _in_time_order(
    parts: list[tuple[np.ndarray, np.ndarray]], window: Window
) -> tuple[np.ndarray, np.ndarray]:
    """(user, at) of all parts, stably sorted by at (ties: part order, then order within)."""
    days = [window.day_of(at).astype(np.int16) for _, at in parts]
    day = np.concatenate(days)
    del days
    at = np.concatenate([at for _, at in parts])
    user = np.concatenate([user for user, _ in parts])
    parts.clear()
    out_user = np.empty_like(user)
    out_at = np.empty_like(at)
    filled = 0
    for order in stable_time_order(at, day, window.days):
        out_user[filled : filled + order.shape[0]] = user[order]
        out_at[filled : filled + order.shape[0]] = at[order]
        filled += order.shape[0]
    return out_user, out_at


def make_scans(visits: Visits, window: Window, rng: np.random.Generator) -> Scans:
    """The scans made during each visit (drawn from the stream that drew the visits, after them).

    Scans are sorted a piece of visits at a time: a scan is at least 80 s after its visit
    starts, so the scans of later visits are all later than the next visit start + 20 s, and
    only the scans after that wait for the next piece.
    """
    n_visits = visits.at.shape[0]
    per_visit = np.empty(n_visits, dtype=np.int16)
    for start, stop in spans(n_visits):
        per_visit[start:stop] = rng.poisson(a.SCANS_PER_VISIT, size=stop - start)
    most = int(per_visit.sum(dtype=np.int64))
    scan_user = np.empty(most, dtype=np.int32)
    scan_at = np.empty(most, dtype=np.int64)
    held_user = np.empty(0, dtype=np.int32)
    held_at = np.empty(0, dtype=np.int64)
    filled = 0
    for start, stop in spans(n_visits):
        visit, position = ragged_index(per_visit[start:stop])
        gap = rng.integers(*a.SECONDS_BETWEEN_SCANS, size=visit.shape[0])
        at = visits.at[start:stop][visit] + 20 + position * a.SECONDS_BETWEEN_SCANS[1] + gap
        inside = at < window.end_s
        user = np.concatenate([held_user, visits.user[start:stop][visit[inside]]])
        at = np.concatenate([held_at, at[inside]])
        order = np.argsort(at, kind="stable")  # nearly sorted already: timsort is quick
        user, at = user[order], at[order]
        later = int(visits.at[stop]) + 20 if stop < n_visits else window.end_s
        ready = int(np.searchsorted(at, later, side="left"))
        scan_user[filled : filled + ready] = user[:ready]
        scan_at[filled : filled + ready] = at[:ready]
        filled += ready
        held_user, held_at = user[ready:], at[ready:]
    return Scans(scan_user[:filled], scan_at[:filled])


def scans_table(
    scans: Scans,
    window: Window,
    anomalies: list[Anomaly],
    rng: np.random.Generator,
    first_id: int = 1,
) -> Iterator[pa.Table]:
    """raw_scans (scan ids from first_id) as tables of consecutive scans: failed scans have no
    match rate and no keywords.

    The stream holds, one after another, every scan's format, category and failure (one
    64-bit draw each), match rate, keyword count and processing time. The first three are
    read from copies of the stream moved to where they begin, the match rates and keyword
    counts are kept (2 bytes each), the processing times are drawn as the tables are built.
    """
    n = scans.at.shape[0]
    fmt_rng, category_rng, failed_rng = (jumped(rng, k * n) for k in range(3))
    rng.bit_generator.state = jumped(rng, 3 * n).bit_generator.state
    match_tenths = np.empty(n, dtype=np.int16)
    for start, stop in spans(n):
        rate = 100.0 * rng.beta(*a.MATCH_RATE_BETA, size=stop - start)
        match_tenths[start:stop] = np.rint(rate * 10)  # np.round(rate, 1) is this / 10
    keywords = np.empty(n, dtype=np.int16)
    lookahead = jumped(category_rng, 0)
    mean_keywords = np.array(a.JOB_CATEGORY_KEYWORDS, dtype=np.float64)
    for start, stop in spans(n):
        category = draw(lookahead, a.JOB_CATEGORY_WEIGHT, stop - start)
        keywords[start:stop] = rng.poisson(mean_keywords[category])
    incident = find(anomalies, "processing_incident")
    format_speed = np.array(a.RESUME_FORMAT_SPEED)
    for start, stop in spans(n):
        size = stop - start
        fmt = draw(fmt_rng, a.RESUME_FORMAT_SHARE, size)
        category = draw(category_rng, a.JOB_CATEGORY_WEIGHT, size)
        failed = failed_rng.random(size) < a.SCAN_FAILURE_RATE
        median = a.PROCESSING_MEDIAN_MS * format_speed[fmt]
        processing = median * rng.lognormal(0.0, a.PROCESSING_SIGMA, size=size)
        scan_at = scans.at[start:stop]
        if incident is not None:
            on_day = window.day_of(scan_at) == incident.day_index(window)
            processing[on_day] *= PROCESSING_SLOWDOWN
        processing_ms = np.clip(np.rint(processing), 1, 2_000_000_000).astype(np.int32)
        yield pa.table(
            {
                "scan_id": pa.array(np.arange(first_id + start, first_id + stop, dtype=np.int64)),
                "user_id": pa.array(scans.user[start:stop].astype(np.int64) + 1),
                "scanned_at": timestamps(scan_at),
                "match_rate": pa.array(match_tenths[start:stop] / 10.0, mask=failed),
                "processing_ms": pa.array(processing_ms),
                "keywords_extracted": pa.array(keywords[start:stop].astype(np.int32), mask=failed),
                "resume_format": categorical(fmt, a.RESUME_FORMATS),
                "job_category": categorical(category, a.JOB_CATEGORIES),
                "status": categorical(failed.astype(np.int8), SCAN_STATUSES),
            }
        )


def scans_per_day(scans: Scans, window: Window) -> np.ndarray:
    """How many scans each day of the window holds."""
    counts = np.zeros(window.days, dtype=np.int64)
    for start, stop in spans(scans.at.shape[0]):
        counts += np.bincount(window.day_of(scans.at[start:stop]), minlength=window.days)
    return counts
