"""generate(): validate the parameters, simulate the business, write the raw data set."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from jobmetrics.core.contract import RAW_TABLES
from jobmetrics.generator import output
from jobmetrics.generator.anomalies import measure_effects, plan_anomalies
from jobmetrics.generator.errors import GeneratorError
from jobmetrics.generator.marketing import marketing_spend_table
from jobmetrics.generator.payments import Payments
from jobmetrics.generator.reference import load_channels, load_plans
from jobmetrics.generator.scans import make_scans, make_visits, scans_per_day, scans_table
from jobmetrics.generator.sessions import expected_visitors, sessions_table
from jobmetrics.generator.subscriptions import (
    invoices_table,
    make_subscriptions,
    subscriptions_table,
)
from jobmetrics.generator.timeline import Window
from jobmetrics.generator.users import channel_rate, make_users, users_table
from jobmetrics.generator.version import GENERATOR_VERSION

MAX_USERS = 20_000_000
MAX_DAYS = 3_660
# One independent random stream per component, so changing one table leaves the others alone.
STREAMS = ("users", "user_details", "subscriptions", "scans", "scan_details", "sessions", "spend")


def random_streams(*entropy: int) -> dict[str, np.random.Generator]:
    """One independent generator per component (STREAMS), all derived from entropy."""
    seeds = np.random.SeedSequence(list(entropy) if len(entropy) > 1 else entropy[0])
    return dict(
        zip(STREAMS, (np.random.default_rng(s) for s in seeds.spawn(len(STREAMS))), strict=True)
    )


def positive_int(name: str, value: object, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise GeneratorError(f"{name} must be a positive whole number, got {value!r}")
    if value > limit:
        raise GeneratorError(f"{name} must be at most {limit:,}, got {value:,}")
    return int(value)


def resolve_start(start_date: date | str | None, days: int) -> date:
    """The first day: the given date, or `days` days before today (UTC) so data ends yesterday."""
    if start_date is None:
        return datetime.now(UTC).date() - timedelta(days=days)
    if isinstance(start_date, datetime):
        return start_date.date()
    if isinstance(start_date, date):
        return start_date
    if isinstance(start_date, str):
        try:
            return datetime.strptime(start_date, "%Y-%m-%d").date()
        except ValueError:
            pass
    raise GeneratorError(f"start date {start_date!r} is not a date in YYYY-MM-DD form")


EARLIEST_START = date(1970, 1, 1)
LATEST_END = date(2199, 12, 31)


def check_window(window: Window) -> Window:
    if window.start < EARLIEST_START or window.end > LATEST_END:
        raise GeneratorError(
            f"the data window {window.start}..{window.end} must lie between "
            f"{EARLIEST_START} and {LATEST_END}"
        )
    return window


def _seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise GeneratorError(f"seed must be a whole number ≥ 0, got {value!r}")
    return int(value)


def generate(
    out_dir: Path | str,
    *,
    users: int = 10_000,
    days: int = 365,
    start_date: date | str | None = None,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write the six raw Parquet tables and _manifest.json to out_dir; return the manifest.

    Same parameters (with an explicit start_date) give byte-identical files. The data set is
    written to a temporary folder beside out_dir and replaces out_dir only when complete.
    """
    users = positive_int("users", users, MAX_USERS)
    days = positive_int("days", days, MAX_DAYS)
    seed = _seed(seed)
    window = check_window(Window(resolve_start(start_date, days), days))
    out_dir = Path(out_dir).expanduser().absolute()
    output.check_target(out_dir)
    step = progress or (lambda _message: None)

    plans = load_plans()
    channels = load_channels()
    anomalies = plan_anomalies(window)
    rngs = random_streams(seed)
    with output.staging_folder(out_dir) as folder, output.TableWriter(folder) as writer:
        step("users")
        people = make_users(window, channels, anomalies, users, rngs["users"])
        writer.write("raw_users", users_table(people, channels, seed, rngs["user_details"]))

        step("subscriptions")
        paid_rate = channel_rate(channels, "signup_to_paid")
        payments = Payments(seed)
        subs = make_subscriptions(
            people, paid_rate, plans, window, anomalies, rngs["subscriptions"], payments
        )
        writer.write("raw_subscriptions", subscriptions_table(subs, plans))
        step("invoices")
        writer.write("raw_invoices", invoices_table(subs, window, payments))

        step("visits")
        visits = make_visits(people, subs, window, rngs["scans"])
        step("sessions")
        writer.write(
            "raw_sessions", sessions_table(people, visits, channels, window, rngs["sessions"])
        )
        step("scans")
        scans = make_scans(visits, window, rngs["scans"])
        del visits
        per_day = scans_per_day(scans, window)
        writer.write("raw_scans", scans_table(scans, window, anomalies, rngs["scan_details"]))
        del scans

        step("marketing spend")
        visitors = expected_visitors(people, channels)
        writer.write(
            "raw_marketing_spend", marketing_spend_table(visitors, channels, window, rngs["spend"])
        )
        step("writing files")
        written = writer.row_counts()
        counts = {name: written[name] for name in RAW_TABLES}  # contract order, not write order

        n_channels = len(channels.names)
        signup_cell = window.day_of(people.signup_s) * n_channels + people.channel
        effects = measure_effects(
            anomalies,
            window,
            people.expected_signups,
            np.bincount(signup_cell, minlength=window.days * n_channels).reshape(
                window.days, n_channels
            ),
            channels.names,
            subs.price_cents[subs.spiked] // subs.months_per_period[subs.spiked],
            per_day,
        )
        manifest = {
            "generator_version": GENERATOR_VERSION,
            "parameters": {
                "users": users,
                "days": days,
                "start_date": window.start.isoformat(),
                "start_date_given": start_date is not None,
                "seed": seed,
            },
            "data_start": window.start.isoformat(),
            "data_end": window.end.isoformat(),
            "row_counts": counts,
            "anomalies": [anomaly.to_manifest(effects.get(anomaly.name)) for anomaly in anomalies],
        }
        step("manifest")
        output.write_manifest(folder, manifest)
    return manifest
