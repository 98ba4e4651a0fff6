"""The data window and the calendar shapes every activity shares: growth, weekdays, January."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from jobmetrics.generator.chunks import spans

DAY_S = 86_400
EPOCH = date(1970, 1, 1)

# Relative activity by weekday, Monday first: job hunting is a weekday activity.
WEEKDAY_FACTOR = np.array([1.04, 1.06, 1.05, 1.0, 0.93, 0.70, 0.66])
# The January job-hunt peak: +35 % at mid-January, fading over about a month either side.
JANUARY_PEAK = 0.35
JANUARY_PEAK_DAY = 14  # day of year, 0-based (15 January)
JANUARY_WIDTH_DAYS = 16.0
# Signups grow this much from the first to the last day of a 365-day window.
YEARLY_GROWTH = 2.2

# Share of activity by hour of day (UTC): quiet nights, busy office hours, an evening bump.
_HOURLY = np.array(
    [2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 6, 7, 7.5, 7.5, 7, 7, 7.5, 7, 6.5, 6, 5.5, 5.5, 6, 5.5, 4, 3]
)
HOUR_SHARE = _HOURLY / _HOURLY.sum()


@dataclass(frozen=True)
class Window:
    """The days [start, start + days) covered by the data; timestamps are epoch seconds (UTC)."""

    start: date
    days: int

    @property
    def end(self) -> date:
        """The last day with data (inclusive)."""
        return self.start + timedelta(days=self.days - 1)

    @property
    def start_s(self) -> int:
        return (self.start - EPOCH).days * DAY_S

    @property
    def end_s(self) -> int:
        """The first second after the data (exclusive end)."""
        return self.start_s + self.days * DAY_S

    def day_numbers(self) -> np.ndarray:
        """Days since the epoch of every day in the window."""
        first = (self.start - EPOCH).days
        return np.arange(first, first + self.days, dtype=np.int64)

    def day_of(self, seconds: np.ndarray) -> np.ndarray:
        """Index into the window (0 = first day) of each timestamp."""
        return (seconds - self.start_s) // DAY_S


def weekday_factor(day_numbers: np.ndarray) -> np.ndarray:
    """Activity multiplier of each day (epoch day numbers) by weekday; 1970-01-01 was a Thursday."""
    return WEEKDAY_FACTOR[(day_numbers + 3) % 7]


def january_factor(day_numbers: np.ndarray) -> np.ndarray:
    """Activity multiplier of the January job-hunt season."""
    days = day_numbers.astype("datetime64[D]")
    day_of_year = (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    distance = np.abs(day_of_year - JANUARY_PEAK_DAY)
    distance = np.minimum(distance, 365 - distance)
    return 1.0 + JANUARY_PEAK * np.exp(-0.5 * (distance / JANUARY_WIDTH_DAYS) ** 2)


def growth_factor(window: Window, original: Window | None = None) -> np.ndarray:
    """Exponential growth, 1.0 on the first day: YEARLY_GROWTH per 365 days for windows up to
    two years; longer windows grow YEARLY_GROWTH² in total (growth slows as a market matures).

    With `original` (the window a data set was generated for), the same trend continues into
    a later window that extends it.
    """
    base = original or window
    total = YEARLY_GROWTH ** min(base.days / 365.0, 2.0)
    offset = np.arange(window.days) + (window.start - base.start).days
    return np.exp(np.log(total) * offset / base.days)


def seasonal_factor(day_numbers: np.ndarray) -> np.ndarray:
    """Weekday × January multiplier of product usage on each day."""
    return weekday_factor(day_numbers) * january_factor(day_numbers)


def draw(rng: np.random.Generator, weights, n: int) -> np.ndarray:
    """n category indexes (int16) drawn with the given relative weights."""
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    bounds = cumulative / cumulative[-1]
    picks = np.empty(n, dtype=np.int16)
    for start, stop in spans(n):
        found = np.searchsorted(bounds, rng.random(stop - start), side="right")
        picks[start:stop] = np.minimum(found, cumulative.shape[0] - 1)
    return picks


def jumped(rng: np.random.Generator, draws: int) -> np.random.Generator:
    """A copy of rng as it will be after `draws` more 64-bit outputs (rng.random draws one per
    number); rng itself does not move."""
    bits = type(rng.bit_generator)()
    state = rng.bit_generator.state
    bits.state = state
    bits.advance(draws)  # forgets a buffered 32-bit half, which integers() would use next
    moved = bits.state
    moved["has_uint32"], moved["uinteger"] = state["has_uint32"], state["uinteger"]
    bits.state = moved
    return np.random.Generator(bits)


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight following the hourly activity curve."""
    seconds = draw(rng, HOUR_SHARE, n).astype(np.int64)
    seconds *= 3600
    for start, stop in spans(n):
        seconds[start:stop] += rng.integers(0, 3600, size=stop - start)
    return seconds


def allocate(expected: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Integer counts with the given total, each the floor or ceiling of its expected share.

    Systematic sampling: the noise in the counts is only what `expected` carries, so a
    planned shape (for example an injected anomaly) is not drowned by rounding noise.
    """
    flat = expected.ravel().astype(np.float64)
    cumulative = np.cumsum(flat / flat.sum() * total)
    cumulative[-1] = total
    offset = rng.random()
    edges = np.floor(np.concatenate(([0.0], cumulative)) + offset).astype(np.int64)
    return np.diff(edges).reshape(expected.shape)


def add_months(seconds: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Timestamps moved by whole calendar months, the day clamped to the target month's end."""
    days = (seconds // DAY_S).astype("datetime64[D]")
    clock = seconds % DAY_S
    month = days.astype("datetime64[M]")
    day_in_month = (days - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months.astype(np.int64)
    target_first = target.astype("datetime64[D]")
    month_length = ((target + 1).astype("datetime64[D]") - target_first).astype(np.int64)
    moved = target_first + np.minimum(day_in_month, month_length - 1)
    return moved.astype(np.int64) * DAY_S + clock


def periods_before(
    start: np.ndarray, months_per_period: np.ndarray, limit: np.ndarray
) -> np.ndarray:
    """How many billing periods (anchored at start) begin before limit; start < limit."""
    start_month = (start // DAY_S).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    limit_month = (limit // DAY_S).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    last = (limit_month - start_month) // months_per_period
    last_start = add_months(start, last * months_per_period)
    return np.where(last_start < limit, last + 1, last)


def thin_by_season(
    rng: np.random.Generator, seconds: np.ndarray, acceptance: np.ndarray, window: Window
) -> np.ndarray:
    """Mask keeping each timestamp with its day's acceptance probability (days in the window)."""
    keep = np.empty(seconds.shape[0], dtype=bool)
    for start, stop in spans(seconds.shape[0]):
        day = np.clip(window.day_of(seconds[start:stop]), 0, window.days - 1)
        keep[start:stop] = rng.random(stop - start) < acceptance[day]
    return keep


def ragged_index(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: the group of every item and its position within the group."""
    group = np.repeat(np.arange(counts.shape[0], dtype=np.int32), counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(group.shape[0]) - starts[group]
    return group, position
