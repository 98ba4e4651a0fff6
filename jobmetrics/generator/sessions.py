"""raw_sessions: anonymous visits (the top of the funnel), visits before and after signing up."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from jobmetrics.generator import assumptions as a
from jobmetrics.generator.arrow import categorical, timestamps
from jobmetrics.generator.reference import Channels
from jobmetrics.generator.scans import Visits
from jobmetrics.generator.timeline import (
    DAY_S,
    Window,
    chronological_order,
    ragged_index,
    time_of_day,
)
from jobmetrics.generator.users import Users, channel_profiles, channel_rate


@dataclass(frozen=True)
class Continuation:
    """How sessions of an extended data set continue the existing ones."""

    new_users_from: int = 0
    """Index of the first user who signs up inside the window."""
    known_visitor: np.ndarray | None = None
    """Visitor id of each earlier user, 0 when unknown."""
    first_visitor_id: int = 1
    first_session_id: int = 1


def expected_visitors(users: Users, channels: Channels) -> np.ndarray:
    """Expected first-time visitors per [day, channel], from expected signups and conversion."""
    return users.expected_signups / channel_rate(channels, "visit_to_signup")[None, :]


def _landing_pages(channels: Channels) -> tuple[list[str], list[np.ndarray]]:
    """All landing pages (channel pages, then app pages) and each channel's page indexes."""
    pages: list[str] = []
    per_channel: list[np.ndarray] = []
    for profile in channel_profiles(channels):
        indexes = []
        for page in profile.landing_pages:
            if page not in pages:
                pages.append(page)
            indexes.append(pages.index(page))
        per_channel.append(np.array(indexes))
    for page in a.APP_LANDING_PAGES:
        if page not in pages:
            pages.append(page)
    return pages, per_channel


def _pick_pages(channel: np.ndarray, per_channel: list[np.ndarray], rng) -> np.ndarray:
    choice = rng.random(channel.shape[0])
    page = np.empty(channel.shape[0], dtype=np.int16)
    for c, indexes in enumerate(per_channel):
        mine = channel == c
        page[mine] = indexes[(choice[mine] * indexes.shape[0]).astype(np.int64)]
    return page


def sessions_table(
    users: Users,
    visits: Visits,
    channels: Channels,
    window: Window,
    rng: np.random.Generator,
    continuation: Continuation | None = None,
) -> pa.Table:
    """Every session in the window; new visitor ids follow the order of first visits.

    For an extended data set, `continuation` says which users signed up earlier (they have no
    visits before signup in this window), their known visitor ids, and where ids go on.
    """
    n_users = users.count
    carry = continuation or Continuation()
    new_from = carry.new_users_from
    mobile = channel_rate(channels, "mobile_share")
    pages, per_channel = _landing_pages(channels)
    app_pages = np.array([pages.index(p) for p in a.APP_LANDING_PAGES])

    # Anonymous visitors who never sign up.
    conversion = channel_rate(channels, "visit_to_signup")
    anonymous = rng.poisson(users.expected_signups * ((1 - conversion) / conversion)[None, :])
    cell = np.repeat(np.arange(anonymous.size), anonymous.ravel())
    anon_day, anon_channel = np.divmod(cell, len(channels.names))
    n_anon = cell.shape[0]
    anon_first = window.start_s + anon_day * DAY_S + time_of_day(rng, n_anon)
    anon_device = (rng.random(n_anon) < mobile[anon_channel]).astype(np.int8)
    extra = rng.poisson(a.EXTRA_ANONYMOUS_SESSIONS, size=n_anon)
    repeat_of, _ = ragged_index(extra)
    repeat_at = anon_first[repeat_of] + rng.exponential(3 * DAY_S, size=repeat_of.shape[0]).astype(
        np.int64
    )
    inside = repeat_at < window.end_s
    repeat_of, repeat_at = repeat_of[inside], repeat_at[inside]

    # Visits of future users before they sign up: the last one is the signup visit.
    before = np.zeros(n_users, dtype=np.int64)
    before[new_from:] = 1 + rng.poisson(a.EXTRA_PRESIGNUP_SESSIONS, size=n_users - new_from)
    pre_user, position = ragged_index(before)
    is_last = position == before[pre_user] - 1
    lead = np.where(
        is_last,
        rng.integers(60, 1800, size=pre_user.shape[0]),
        rng.exponential(a.PRESIGNUP_LEAD_DAYS * DAY_S, size=pre_user.shape[0]).astype(np.int64)
        + 1800,
    )
    pre_at = np.maximum(users.signup_s[pre_user] - lead, window.start_s)
    keep = is_last | (users.signup_s[pre_user] - lead >= window.start_s)
    pre_user, pre_at = pre_user[keep], pre_at[keep]

    # Visits after signing up (each scan happens in one of them).
    post_user = visits.user
    post_at = visits.at
    return_channel = _return_channels(users.channel[post_user], channels, rng)

    # Visitor ids in order of first visit; a user's visitor is their earliest visit. Earlier
    # users keep their visitor; one whose visitor is unknown (no visit after signing up yet)
    # comes back as a new visitor (another device or cleared cookies).
    user_first = np.minimum.reduceat(
        pre_at, np.searchsorted(pre_user, np.arange(new_from, n_users))
    )
    known = np.zeros(n_users, dtype=np.int64)
    if carry.known_visitor is not None:
        known[:new_from] = carry.known_visitor[:new_from]
    returning = first_visit = np.empty(0, dtype=np.int64)
    if new_from:
        returning, first_visit = np.unique(post_user, return_index=True)
        unknown = (returning < new_from) & (known[returning] == 0)
        returning, first_visit = returning[unknown], first_visit[unknown]
    first_seen = np.concatenate([user_first, anon_first, post_at[first_visit]])
    fresh = np.empty(first_seen.shape[0], dtype=np.int64)
    fresh[chronological_order(first_seen, window)] = np.arange(
        carry.first_visitor_id, carry.first_visitor_id + first_seen.shape[0]
    )
    visitor_of_user = known
    visitor_of_user[new_from:] = fresh[: n_users - new_from]
    visitor_of_user[returning] = fresh[n_users - new_from + n_anon :]
    anon_visitor = fresh[n_users - new_from : n_users - new_from + n_anon]

    anon_all = np.concatenate([np.arange(n_anon, dtype=np.int32), repeat_of])
    started = np.concatenate([anon_first, repeat_at, pre_at, post_at])
    visitor = np.concatenate(
        [anon_visitor[anon_all], visitor_of_user[pre_user], visitor_of_user[post_user]]
    )
    user_id = np.concatenate(
        [np.zeros(anon_all.shape[0] + pre_user.shape[0], dtype=np.int32), post_user + 1]
    )
    channel = np.concatenate([anon_channel[anon_all], users.channel[pre_user], return_channel])
    device = np.concatenate(
        [anon_device[anon_all], users.device[pre_user], users.device[post_user]]
    )
    page = np.concatenate(
        [
            _pick_pages(channel[: anon_all.shape[0] + pre_user.shape[0]], per_channel, rng),
            app_pages[rng.integers(0, app_pages.shape[0], size=post_user.shape[0])],
        ]
    )
    # One gather of the small codes packed together instead of three.
    packed = (page.astype(np.int32) << 8) | (device.astype(np.int32) << 7) | channel
    del page, device, channel
    # A few long sorted runs (visits by day, by signup, in time order): timsort merges them
    # faster than a radix sort would sort them.
    order = np.argsort(started, kind="stable")
    started, visitor, user_id, packed = (
        started[order],
        visitor[order],
        user_id[order],
        packed[order],
    )
    del order
    n = started.shape[0]
    return pa.table(
        {
            "session_id": pa.array(
                np.arange(carry.first_session_id, carry.first_session_id + n, dtype=np.int64)
            ),
            "visitor_id": pa.array(visitor),
            "user_id": pa.array(user_id.astype(np.int64), mask=user_id == 0),
            "started_at": timestamps(started),
            "channel": categorical(packed & 0x7F, channels.names),
            "device": categorical((packed >> 7) & 1, a.DEVICES),
            "landing_page": categorical(packed >> 8, pages),
        }
    )


def _return_channels(own: np.ndarray, channels: Channels, rng) -> np.ndarray:
    """Channel of a signed-up user's later visit: mostly direct, else search or their own."""
    result = own.astype(np.int8).copy()
    draw = rng.random(own.shape[0])
    floor = 0.0
    for name, share in a.RETURN_CHANNEL_SHARE.items():
        if name in channels.names:
            hit = (draw >= floor) & (draw < floor + share)
            result[hit] = channels.names.index(name)
        floor += share
    return result
