"""raw_scans and the visits of signed-up users: every scan happens during a visit (session).

Visits come from three sources: onboarding (the days after signing up), occasional free use
over the rest of the window, and paid use while subscribed (more on higher plans). Visits
follow the weekday and January shapes; each visit holds a Poisson number of scans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from jobmetrics.generator import assumptions as a
from jobmetrics.generator.anomalies import PROCESSING_SLOWDOWN, Anomaly, find
from jobmetrics.generator.arrow import categorical, timestamps
from jobmetrics.generator.subscriptions import Subscriptions
from jobmetrics.generator.timeline import (
    DAY_S,
    Window,
    chronological_order,
    draw,
    ragged_index,
    seasonal_factor,
    thin_by_season,
    time_of_day,
)
from jobmetrics.generator.users import Users

MONTH_S = 30.44 * DAY_S
SCAN_STATUSES = ("completed", "failed")


@dataclass
class Activity:
    """Visits of signed-up users and their scans, each in chronological order."""

    visit_user: np.ndarray  # user index (user_id - 1)
    visit_at: np.ndarray
    scan_user: np.ndarray
    scan_at: np.ndarray


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
    months = np.maximum(high - low, 0) / MONTH_S
    counts = rng.poisson(per_month * months / acceptance.mean())
    row = np.repeat(np.arange(user.shape[0], dtype=np.int32), counts)
    at = low[row] + (rng.random(row.shape[0]) * (high - low)[row]).astype(np.int64)
    at = (at // DAY_S) * DAY_S + time_of_day(rng, row.shape[0])
    at = np.clip(at, low[row], high[row] - 1)
    keep = thin_by_season(rng, at, acceptance, window)
    return user[row[keep]], at[keep]


def make_activity(
    users: Users,
    subs: Subscriptions,
    window: Window,
    rng: np.random.Generator,
    new_users_from: int = 0,
) -> Activity:
    """Draw every visit inside the window and the scans made in it.

    Only users from index new_users_from on signed up inside the window and get onboarding
    visits; earlier users (an extended data set) continue with free and paid visits.
    """
    season = seasonal_factor(window.day_numbers())
    acceptance = season / season.max()
    user_index = np.arange(users.count, dtype=np.int32)

    onboarding = rng.poisson(a.ONBOARDING_VISITS, size=users.count - new_users_from)
    onboard_user = np.repeat(user_index[new_users_from:], onboarding)
    delay = rng.exponential(a.ONBOARDING_MEAN_DAYS * DAY_S, size=onboard_user.shape[0])
    onboard_at = users.signup_s[onboard_user] + 60 + delay.astype(np.int64)

    free_user, free_at = _spread(
        user_index,
        users.signup_s + 60,
        np.full(users.count, window.end_s, dtype=np.int64),
        np.full(users.count, a.FREE_VISITS_PER_MONTH),
        window,
        acceptance,
        rng,
    )
    paid_user, paid_at = _spread(
        subs.user.astype(np.int32),
        subs.start,
        subs.end,
        np.array(a.PAID_VISITS_PER_MONTH)[subs.plan],
        window,
        acceptance,
        rng,
    )
    visit_user = np.concatenate([onboard_user, free_user, paid_user])
    visit_at = np.concatenate([onboard_at, free_at, paid_at])
    inside = visit_at < window.end_s
    visit_user, visit_at = visit_user[inside], visit_at[inside]
    order = chronological_order(visit_at, window)
    visit_user, visit_at = visit_user[order], visit_at[order]

    per_visit = rng.poisson(a.SCANS_PER_VISIT, size=visit_at.shape[0])
    visit, position = ragged_index(per_visit)
    gap = rng.integers(*a.SECONDS_BETWEEN_SCANS, size=visit.shape[0])
    scan_at = visit_at[visit] + 20 + position * a.SECONDS_BETWEEN_SCANS[1] + gap
    inside = scan_at < window.end_s
    scan_user, scan_at = visit_user[visit[inside]], scan_at[inside]
    order = np.argsort(scan_at, kind="stable")  # nearly sorted already: timsort is quick
    return Activity(visit_user, visit_at, scan_user[order], scan_at[order])


def scans_table(
    activity: Activity,
    window: Window,
    anomalies: list[Anomaly],
    rng: np.random.Generator,
    first_id: int = 1,
) -> pa.Table:
    """raw_scans (scan ids from first_id): failed scans have no match rate and no keywords."""
    n = activity.scan_at.shape[0]
    fmt = draw(rng, a.RESUME_FORMAT_SHARE, n)
    category = draw(rng, a.JOB_CATEGORY_WEIGHT, n)
    failed = rng.random(n) < a.SCAN_FAILURE_RATE
    match_rate = np.round(100.0 * rng.beta(*a.MATCH_RATE_BETA, size=n), 1)
    keywords = rng.poisson(np.array(a.JOB_CATEGORY_KEYWORDS, dtype=np.float64)[category])
    median = a.PROCESSING_MEDIAN_MS * np.array(a.RESUME_FORMAT_SPEED)[fmt]
    processing = median * rng.lognormal(0.0, a.PROCESSING_SIGMA, size=n)
    incident = find(anomalies, "processing_incident")
    if incident is not None:
        on_day = window.day_of(activity.scan_at) == incident.day_index(window)
        processing[on_day] *= PROCESSING_SLOWDOWN
    processing_ms = np.clip(np.rint(processing), 1, 2_000_000_000).astype(np.int32)
    return pa.table(
        {
            "scan_id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            "user_id": pa.array(activity.scan_user.astype(np.int64) + 1),
            "scanned_at": timestamps(activity.scan_at),
            "match_rate": pa.array(match_rate, mask=failed),
            "processing_ms": pa.array(processing_ms),
            "keywords_extracted": pa.array(keywords.astype(np.int32), mask=failed),
            "resume_format": categorical(fmt, a.RESUME_FORMATS),
            "job_category": categorical(category, a.JOB_CATEGORIES),
            "status": categorical(failed.astype(np.int8), SCAN_STATUSES),
        }
    )
