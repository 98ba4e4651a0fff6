"""raw_users: who signs up, when, through which channel (signup volumes drive everything else)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker

from jobmetrics.generator import assumptions as a
from jobmetrics.generator.anomalies import SIGNUP_DROP_CHANNEL, SIGNUP_DROP_KEEP, Anomaly, find
from jobmetrics.generator.arrow import categorical, timestamps
from jobmetrics.generator.chunks import spans
from jobmetrics.generator.reference import Channels
from jobmetrics.generator.timeline import (
    DAY_S,
    Window,
    allocate,
    draw,
    growth_factor,
    seasonal_factor,
    time_of_day,
)

NAME_POOL_SIZE = 1500


@dataclass
class Users:
    """Signed-up users in signup order; user_id = index + 1."""

    signup_s: np.ndarray
    channel: np.ndarray
    device: np.ndarray
    segment: np.ndarray
    expected_signups: np.ndarray
    """Expected signups per [day, channel] before any injected drop (drives visits and spend)."""
    first_id: int = 1

    @property
    def count(self) -> int:
        return int(self.signup_s.shape[0])

    @property
    def user_id(self) -> np.ndarray:
        return np.arange(self.first_id, self.first_id + self.count, dtype=np.int64)


def channel_profiles(channels: Channels) -> list[a.ChannelProfile]:
    """The behaviour profile of every seed channel, in seed order."""
    return [a.CHANNELS.get(name, a.DEFAULT_CHANNEL) for name in channels.names]


def channel_rate(channels: Channels, field: str) -> np.ndarray:
    """One ChannelProfile field for every seed channel, in seed order."""
    return np.array([getattr(p, field) for p in channel_profiles(channels)], dtype=np.float64)


def signup_volumes(
    window: Window,
    channels: Channels,
    anomalies: list[Anomaly],
    total: int,
    rng: np.random.Generator,
    growth: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Signups per [day, channel] (integers summing to total) and the undisturbed expectation.

    `growth` (one factor per day) defaults to the growth of a data set starting with window.
    """
    shares = channel_rate(channels, "signup_share")
    trend = growth_factor(window) if growth is None else growth
    shape = trend * seasonal_factor(window.day_numbers())
    noise = rng.lognormal(0.0, a.SIGNUP_NOISE_SIGMA, size=(window.days, shares.shape[0]))
    expected = shape[:, None] * shares[None, :] * noise
    observed = expected.copy()
    drop = find(anomalies, "signup_drop")
    if drop is not None and SIGNUP_DROP_CHANNEL in channels.names:
        observed[drop.day_index(window), channels.names.index(SIGNUP_DROP_CHANNEL)] *= (
            SIGNUP_DROP_KEEP
        )
    counts = allocate(observed, total, rng)
    return counts, expected * (total / observed.sum())


def make_users(
    window: Window,
    channels: Channels,
    anomalies: list[Anomaly],
    total: int,
    rng: np.random.Generator,
    growth: np.ndarray | None = None,
    first_id: int = 1,
) -> Users:
    """Draw every user's signup time, channel, device and segment; ids start at first_id."""
    counts, expected = signup_volumes(window, channels, anomalies, total, rng, growth)
    n_channels = len(channels.names)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    day, channel = np.divmod(cell, n_channels)
    # At least two minutes after midnight, so the visit before signing up is inside the window.
    clock = np.maximum(time_of_day(rng, total), 120)
    signup_s = window.start_s + day * DAY_S + clock
    order = np.argsort(signup_s, kind="stable")
    signup_s, channel = signup_s[order], channel[order].astype(np.int8)
    mobile = channel_rate(channels, "mobile_share")
    device = (rng.random(total) < mobile[channel]).astype(np.int8)
    segment = draw(rng, a.SEGMENT_SHARE, total).astype(np.int8)
    return Users(signup_s, channel, device, segment, expected, first_id)


def _name_pool(faker: Faker, method: str) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for _ in range(NAME_POOL_SIZE * 3):
        name = getattr(faker, method)()
        if name not in seen and re.sub(r"[^a-z]", "", name.lower()):
            seen.add(name)
            names.append(name)
        if len(names) == NAME_POOL_SIZE:
            break
    return names


def users_table(
    users: Users, channels: Channels, seed: int, rng: np.random.Generator
) -> Iterator[pa.Table]:
    """raw_users as Arrow tables of consecutive users; names combine a Faker vocabulary drawn
    once per data set."""
    faker = Faker("en_US")
    faker.seed_instance(seed)
    first = _name_pool(faker, "first_name")
    last = _name_pool(faker, "last_name")
    n = users.count
    first_i, last_i = (_integers(rng, len(pool), n) for pool in (first, last))
    first_arr, last_arr = pa.array(first), pa.array(last)
    first_local = pa.array([re.sub(r"[^a-z]", "", s.lower()) for s in first])
    last_local = pa.array([re.sub(r"[^a-z]", "", s.lower()) for s in last])
    domain_i = draw(rng, a.EMAIL_DOMAIN_WEIGHT, n)
    domains = pa.array(a.EMAIL_DOMAINS)
    country = draw(rng, a.COUNTRY_WEIGHT, n)
    for start, stop in spans(n):
        user_id = users.user_id[start:stop]
        first_k, last_k = pa.array(first_i[start:stop]), pa.array(last_i[start:stop])
        # The user_id in the local part makes every address unique.
        email = pc.binary_join_element_wise(
            first_local.take(first_k),
            ".",
            last_local.take(last_k),
            pc.cast(pa.array(user_id), pa.string()),
            "@",
            domains.take(pa.array(domain_i[start:stop])),
            "",
        )
        full_name = pc.binary_join_element_wise(first_arr.take(first_k), last_arr.take(last_k), " ")
        yield pa.table(
            {
                "user_id": pa.array(user_id),
                "email": email,
                "full_name": full_name,
                "country": categorical(country[start:stop], a.COUNTRIES),
                "segment": categorical(users.segment[start:stop], a.SEGMENTS),
                "acquisition_channel": categorical(users.channel[start:stop], channels.names),
                "device": categorical(users.device[start:stop], a.DEVICES),
                "signed_up_at": timestamps(users.signup_s[start:stop]),
            }
        )


def _integers(rng: np.random.Generator, high: int, n: int) -> np.ndarray:
    """rng.integers(0, high, size=n) (high ≤ 32,767), drawn a chunk at a time."""
    out = np.empty(n, dtype=np.int16)
    for start, stop in spans(n):
        out[start:stop] = rng.integers(0, high, size=stop - start)
    return out
