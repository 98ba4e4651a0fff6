"""raw_marketing_spend: daily spend of the paid channels, proportional to the visits they buy."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from jobmetrics.generator import assumptions as a
from jobmetrics.generator.arrow import categorical, money
from jobmetrics.generator.reference import Channels
from jobmetrics.generator.timeline import Window
from jobmetrics.generator.users import channel_rate


def marketing_spend_table(
    visitors: np.ndarray, channels: Channels, window: Window, rng: np.random.Generator
) -> pa.Table:
    """One row per day and paid channel: expected visitors × cost per visit, with some noise."""
    paid = np.flatnonzero(np.array(channels.is_paid, dtype=bool))
    cost = channel_rate(channels, "cost_per_visit_usd")[paid]
    noise = rng.lognormal(0.0, a.SPEND_NOISE_SIGMA, size=(window.days, paid.shape[0]))
    cents = np.rint(visitors[:, paid] * cost[None, :] * noise * 100).astype(np.int64)
    day = np.repeat(window.day_numbers(), paid.shape[0]).astype(np.int32)
    channel = np.tile(paid, window.days)
    return pa.table(
        {
            "spend_date": pa.array(day, type=pa.int32()).cast(pa.date32()),
            "channel": categorical(channel, channels.names),
            "spend_usd": money(cents.ravel()),
        }
    )
