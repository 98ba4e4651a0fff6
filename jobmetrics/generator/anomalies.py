"""The injected anomalies: where they fall in the window and how the manifest records them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from jobmetrics.generator.timeline import Window

MIN_DAYS_FOR_ANOMALIES = 120
"""Shorter windows get no anomalies: a detector needs weeks of history before the first one."""

PROCESSING_SLOWDOWN = 5.0
"""Processing times on the incident day are this many times their usual value."""
CHURN_SPIKE_SHARE = 0.04
"""Share of the monthly subscriptions running on the churn-spike day that are canceled that day."""
SIGNUP_DROP_KEEP = 0.10
"""Share of the usual signups from the affected channel that still happen on the drop day."""
SIGNUP_DROP_CHANNEL = "organic_search"


@dataclass(frozen=True)
class Anomaly:
    """One injected anomaly on one day, in the terms of fct_metric_daily."""

    name: str
    metric: str
    day: date
    direction: str
    dimension: dict[str, str] | None
    description: str
    also_affects: tuple[str, ...] = ()

    def day_index(self, window: Window) -> int:
        return (self.day - window.start).days

    def to_manifest(self, effect: dict | None = None) -> dict:
        """The manifest entry; `effect` says how much was injected at this data set's scale."""
        return {
            "name": self.name,
            "metric": self.metric,
            "date": self.day.isoformat(),
            "direction": self.direction,
            "dimension": self.dimension,
            "description": self.description,
            "also_affects": list(self.also_affects),
            "effect": effect or {},
        }


def _midweek_day(window: Window, fraction: float) -> date:
    """The first Tuesday–Thursday on or after the given fraction of the window."""
    day = window.start + timedelta(days=int(fraction * window.days))
    while day.weekday() not in (1, 2, 3):
        day += timedelta(days=1)
    return day


def plan_anomalies(window: Window) -> list[Anomaly]:
    """The three anomalies at fixed fractions of the window (none when it is too short).

    Fractions 0.55, 0.72, 0.88 of a window of at least 120 days put the first anomaly after
    day 66 and keep them at least two weeks apart and clear of the last days.
    """
    if window.days < MIN_DAYS_FOR_ANOMALIES:
        return []
    slowdown = int(PROCESSING_SLOWDOWN)
    return [
        Anomaly(
            name="processing_incident",
            metric="p95_processing_ms",
            day=_midweek_day(window, 0.55),
            direction="up",
            dimension=None,
            description=(
                f"A degraded parser node made every scan of the day about {slowdown}x slower."
            ),
        ),
        Anomaly(
            name="churn_spike",
            metric="churned_mrr",
            day=_midweek_day(window, 0.72),
            direction="up",
            dimension=None,
            description=(
                f"A billing-migration bug canceled {CHURN_SPIKE_SHARE:.0%} of the running monthly "
                "subscriptions in one day."
            ),
            also_affects=("churned_customers",),
        ),
        Anomaly(
            name="signup_drop",
            metric=f"signups__{SIGNUP_DROP_CHANNEL}",
            day=_midweek_day(window, 0.88),
            direction="down",
            dimension={"acquisition_channel": SIGNUP_DROP_CHANNEL},
            description=(
                f"The signup form on the {SIGNUP_DROP_CHANNEL} landing pages broke for a day: "
                f"about {1 - SIGNUP_DROP_KEEP:.0%} fewer signups from that channel while "
                "visits stayed normal."
            ),
        ),
    ]


def find(anomalies: list[Anomaly], name: str) -> Anomaly | None:
    """The planned anomaly with this name, if the window has one."""
    return next((a for a in anomalies if a.name == name), None)


def measure_effects(
    anomalies: list[Anomaly],
    window: Window,
    expected_signups: np.ndarray,
    signup_counts: np.ndarray,
    channel_names: tuple[str, ...],
    spiked_mrr_cents: np.ndarray,
    scans_per_day: np.ndarray,
) -> dict[str, dict]:
    """How big each injected anomaly is in this data set, so a scorer can judge detectability.

    Tiny data sets (a few thousand users) give effects of a handful of events, which no
    detector can tell from noise; the scale is in the manifest so scoring can account for it.
    """
    effects: dict[str, dict] = {}
    for anomaly in anomalies:
        day = anomaly.day_index(window)
        if anomaly.name == "processing_incident":
            effects[anomaly.name] = {
                "processing_time_factor": PROCESSING_SLOWDOWN,
                "scans_affected": int(scans_per_day[day]),
            }
        elif anomaly.name == "churn_spike":
            effects[anomaly.name] = {
                "subscriptions_canceled": int(spiked_mrr_cents.shape[0]),
                "mrr_usd": round(float(spiked_mrr_cents.sum()) / 100, 2),
            }
        elif anomaly.name == "signup_drop":
            channel = channel_names.index(SIGNUP_DROP_CHANNEL)
            effects[anomaly.name] = {
                "expected_signups": round(float(expected_signups[day, channel]), 2),
                "actual_signups": int(signup_counts[day, channel]),
            }
    return effects
