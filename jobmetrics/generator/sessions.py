"""raw_sessions: anonymous visits (the top of the funnel), visits before and after signing up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from jobmetrics.generator import assumptions as a
from jobmetrics.generator.arrow import categorical, timestamps
from jobmetrics.generator.chunks import day_runs, group_by_day, spans
from jobmetrics.generator.reference import Channels
from jobmetrics.generator.scans import Visits
from jobmetrics.generator.timeline import (
    DAY_S,
    HOUR_SHARE,
    Window,
    draw,
    ragged_index,
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
    """A landing page of each visit's channel (int8 page indexes), drawn a chunk at a time."""
    page = np.empty(channel.shape[0], dtype=np.int8)
    for start, stop in spans(channel.shape[0]):
        choice = rng.random(stop - start)
        mine_all = channel[start:stop]
        for c, indexes in enumerate(per_channel):
            mine = mine_all == c
            page[start:stop][mine] = indexes[(choice[mine] * indexes.shape[0]).astype(np.int64)]
    return page


def _id_type(last_id: int) -> type[np.signedinteger]:
    """The narrowest of int32 and int64 that holds ids up to last_id."""
    return np.int32 if last_id < np.iinfo(np.int32).max else np.int64


def sessions_table(
    users: Users,
    visits: Visits,
    channels: Channels,
    window: Window,
    rng: np.random.Generator,
    continuation: Continuation | None = None,
) -> Iterator[pa.Table]:
    """Every session in the window, as tables of consecutive sessions in time order; new
    visitor ids follow the order of first visits.

    For an extended data set, `continuation` says which users signed up earlier (they have no
    visits before signup in this window), their known visitor ids, and where ids go on.
    Sessions come from four sources (anonymous first visits, their repeats, visits before
    signing up, visits after); each source's columns are drawn in full, in that order, and
    the rows are put in time order one run of days at a time.
    """
    n_users = users.count
    carry = continuation or Continuation()
    new_from = carry.new_users_from
    n_channels = len(channels.names)
    mobile = channel_rate(channels, "mobile_share")
    pages, per_channel = _landing_pages(channels)
    if len(pages) > np.iinfo(np.int8).max:  # page codes are kept as int8, one per session
        raise ValueError(f"{len(pages)} landing pages: at most 127 are supported")
    app_pages = np.array([pages.index(p) for p in a.APP_LANDING_PAGES], dtype=np.int8)

    # Anonymous visitors who never sign up, in order of (day, channel); offsets from the
    # window start fit 32 bits.
    conversion = channel_rate(channels, "visit_to_signup")
    anonymous = rng.poisson(users.expected_signups * ((1 - conversion) / conversion)[None, :])
    cell = np.repeat(np.arange(anonymous.size, dtype=np.int32), anonymous.ravel())
    n_anon = cell.shape[0]
    anon_per_day = anonymous.sum(axis=1)
    anon_channel = (cell % n_channels).astype(np.int8)
    hour = draw(rng, HOUR_SHARE, n_anon)
    anon_first = np.empty(n_anon, dtype=np.int32)  # seconds after the window start
    for start, stop in spans(n_anon):
        at = (cell[start:stop] // n_channels) * DAY_S + hour[start:stop].astype(np.int32) * 3600
        anon_first[start:stop] = at + rng.integers(0, 3600, size=stop - start)
    del cell, hour
    anon_device = np.empty(n_anon, dtype=np.int8)
    extra = np.empty(n_anon, dtype=np.int8)
    for start, stop in spans(n_anon):
        anon_device[start:stop] = rng.random(stop - start) < mobile[anon_channel[start:stop]]
    for start, stop in spans(n_anon):
        extra[start:stop] = rng.poisson(a.EXTRA_ANONYMOUS_SESSIONS, size=stop - start)
    repeat_of = np.repeat(np.arange(n_anon, dtype=np.int32), extra)
    del extra
    repeat_at = np.empty(repeat_of.shape[0], dtype=np.int64)
    for start, stop in spans(repeat_of.shape[0]):
        later = rng.exponential(3 * DAY_S, size=stop - start).astype(np.int64)
        first = anon_first[repeat_of[start:stop]].astype(np.int64) + window.start_s
        repeat_at[start:stop] = first + later
    inside = repeat_at < window.end_s
    repeat_of, repeat_at = repeat_of[inside], repeat_at[inside]
    del inside

    # Visits of future users before they sign up: the last one is the signup visit.
    before = np.zeros(n_users, dtype=np.int64)
    before[new_from:] = 1 + rng.poisson(a.EXTRA_PRESIGNUP_SESSIONS, size=n_users - new_from)
    pre_user, position = ragged_index(before)
    is_last = position == before[pre_user] - 1
    del position, before
    lead = np.where(
        is_last,
        rng.integers(60, 1800, size=pre_user.shape[0]),
        rng.exponential(a.PRESIGNUP_LEAD_DAYS * DAY_S, size=pre_user.shape[0]).astype(np.int64)
        + 1800,
    )
    pre_at = users.signup_s[pre_user] - lead
    keep = is_last | (pre_at >= window.start_s)
    pre_user, pre_at = pre_user[keep], np.maximum(pre_at[keep], window.start_s)
    del lead, keep, is_last

    # Visits after signing up (each scan happens in one of them).
    post_user = visits.user
    post_at = visits.at
    return_channel = _return_channels(users.channel, post_user, channels, rng)

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
    visitor_of_user = known
    anon_visitor = _first_visit_ids(
        window,
        carry.first_visitor_id,
        user_first,
        anon_first,
        anon_per_day,
        post_at[first_visit],
        visitor_of_user,
        np.arange(new_from, n_users),
        returning,
    )

    # Landing pages: drawn for anonymous, repeat and pre-signup visits in that order, then
    # for visits after signing up.
    front_channel = np.concatenate([anon_channel, anon_channel[repeat_of], users.channel[pre_user]])
    front_page = _pick_pages(front_channel, per_channel, rng)
    del front_channel
    post_page = np.empty(post_user.shape[0], dtype=np.int8)
    for start, stop in spans(post_user.shape[0]):
        post_page[start:stop] = app_pages[rng.integers(0, app_pages.shape[0], size=stop - start)]

    # Rows in time order, one run of days at a time; within a run, rows of the same instant
    # keep source order (anonymous, repeat, pre-signup, post-signup), as one stable sort of
    # all sessions would.
    boundaries = window.start_s + np.arange(window.days + 1, dtype=np.int64) * DAY_S
    anon_rows = np.concatenate([[0], np.cumsum(anon_per_day)])
    post_rows = np.searchsorted(post_at, boundaries)
    repeat_order, repeat_rows = group_by_day(window.day_of(repeat_at), window.days)
    pre_order, pre_rows = group_by_day(window.day_of(pre_at), window.days)
    per_day = np.diff(anon_rows) + np.diff(repeat_rows) + np.diff(pre_rows) + np.diff(post_rows)
    n_anon_repeat = n_anon + repeat_of.shape[0]
    next_id = carry.first_session_id
    for first, stop in day_runs(per_day):
        a_rows = slice(int(anon_rows[first]), int(anon_rows[stop]))
        # Grouped by day: rows of the same instant (the same day) keep their order.
        r_rows = repeat_order[repeat_rows[first] : repeat_rows[stop]]
        p_rows = pre_order[pre_rows[first] : pre_rows[stop]]
        v_rows = slice(int(post_rows[first]), int(post_rows[stop]))
        r_anon, p_user, v_user = repeat_of[r_rows], pre_user[p_rows], post_user[v_rows]
        started = np.concatenate(
            [
                anon_first[a_rows].astype(np.int64) + window.start_s,
                repeat_at[r_rows],
                pre_at[p_rows],
                post_at[v_rows],
            ]
        )
        visitor = np.concatenate(
            [
                anon_visitor[a_rows].astype(np.int64),
                anon_visitor[r_anon],
                visitor_of_user[p_user],
                visitor_of_user[v_user],
            ]
        )
        user_id = np.concatenate(
            [np.zeros(started.shape[0] - v_user.shape[0], dtype=np.int64), v_user + 1]
        )
        channel = np.concatenate(
            [
                anon_channel[a_rows],
                anon_channel[r_anon],
                users.channel[p_user],
                return_channel[v_rows],
            ]
        )
        device = np.concatenate(
            [anon_device[a_rows], anon_device[r_anon], users.device[p_user], users.device[v_user]]
        )
        page = np.concatenate(
            [
                front_page[a_rows],
                front_page[n_anon + r_rows],
                front_page[n_anon_repeat + p_rows],
                post_page[v_rows],
            ]
        )
        order = np.argsort(started, kind="stable")
        n = started.shape[0]
        yield pa.table(
            {
                "session_id": pa.array(np.arange(next_id, next_id + n, dtype=np.int64)),
                "visitor_id": pa.array(visitor[order]),
                "user_id": pa.array(user_id[order], mask=user_id[order] == 0),
                "started_at": timestamps(started[order]),
                "channel": categorical(channel[order], channels.names),
                "device": categorical(device[order], a.DEVICES),
                "landing_page": categorical(page[order], pages),
            }
        )
        next_id += n


def _first_visit_ids(
    window: Window,
    first_id: int,
    user_first: np.ndarray,
    anon_first: np.ndarray,
    anon_per_day: np.ndarray,
    returning_first: np.ndarray,
    visitor_of_user: np.ndarray,
    new_users: np.ndarray,
    returning: np.ndarray,
) -> np.ndarray:
    """Number visitors from first_id in order of their first visit (ties: new users, then
    anonymous visitors, then returning users, each in their order): fill visitor_of_user for
    new and returning users, return the anonymous visitors' ids (anon_first is in seconds
    after the window start, grouped by day)."""
    user_order, user_rows = group_by_day(window.day_of(user_first), window.days)
    returning_order, returning_rows = group_by_day(window.day_of(returning_first), window.days)
    anon_rows = np.concatenate([[0], np.cumsum(anon_per_day)])
    per_day = np.diff(user_rows) + anon_per_day + np.diff(returning_rows)
    last_id = first_id + int(per_day.sum())
    anon_visitor = np.empty(anon_first.shape[0], dtype=_id_type(last_id))
    next_id = first_id
    for first, stop in day_runs(per_day):
        u_rows = user_order[user_rows[first] : user_rows[stop]]
        a_rows = slice(int(anon_rows[first]), int(anon_rows[stop]))
        r_rows = returning_order[returning_rows[first] : returning_rows[stop]]
        seen = np.concatenate(
            [
                user_first[u_rows],
                anon_first[a_rows].astype(np.int64) + window.start_s,
                returning_first[r_rows],
            ]
        )
        ids = np.empty(seen.shape[0], dtype=np.int64)
        ids[np.argsort(seen, kind="stable")] = np.arange(next_id, next_id + seen.shape[0])
        next_id += seen.shape[0]
        n_u, n_a = u_rows.shape[0], a_rows.stop - a_rows.start
        visitor_of_user[new_users[u_rows]] = ids[:n_u]
        anon_visitor[a_rows] = ids[n_u : n_u + n_a]
        visitor_of_user[returning[r_rows]] = ids[n_u + n_a :]
    return anon_visitor


def _return_channels(
    own_channel: np.ndarray, user: np.ndarray, channels: Channels, rng
) -> np.ndarray:
    """Channel of a signed-up user's later visit: mostly direct, else search or their own."""
    result = np.empty(user.shape[0], dtype=np.int8)
    for start, stop in spans(user.shape[0]):
        chunk = own_channel[user[start:stop]].astype(np.int8)
        draw = rng.random(stop - start)
        floor = 0.0
        for name, share in a.RETURN_CHANNEL_SHARE.items():
            if name in channels.names:
                hit = (draw >= floor) & (draw < floor + share)
                chunk[hit] = channels.names.index(name)
            floor += share
        result[start:stop] = chunk
    return result
