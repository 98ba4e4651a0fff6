"""append_days(): extend a generated data set by more days, consistently.

Rows about the past stay as they are; the same users continue (visits, scans, renewals,
cancellations, upgrades, reactivations, late first payments) and new users keep arriving on
the same growth trend. The only rows that change are subscriptions that were running at the
old end: they may now end (ended_at and end_reason filled in), and invoices still in payment
retries at the old end (status open), which are settled as a one-shot run would (payments.py).
Ids continue after the existing ones, so event tables only gain rows, which is what
incremental models expect (invoices are not read incrementally).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jobmetrics.core.contract import MANIFEST_NAME, RAW_TABLES
from jobmetrics.generator import assumptions as a
from jobmetrics.generator import output
from jobmetrics.generator.core import MAX_DAYS, check_window, positive_int, random_streams
from jobmetrics.generator.errors import GeneratorError
from jobmetrics.generator.marketing import marketing_spend_table
from jobmetrics.generator.payments import INVOICE_STATUSES, NOT_PAID, Payments
from jobmetrics.generator.reference import BILLING_CYCLES, load_channels, load_plans
from jobmetrics.generator.scans import make_scans, make_visits, scans_table
from jobmetrics.generator.sessions import Continuation, expected_visitors, sessions_table
from jobmetrics.generator.subscriptions import (
    END_REASONS,
    Carried,
    Starts,
    Subscriptions,
    assemble,
    choose_plan,
    first_starts,
    invoice_facts,
    invoices_table,
    simulate,
    subscriptions_table,
)
from jobmetrics.generator.timeline import (
    DAY_S,
    Window,
    add_months,
    growth_factor,
    periods_before,
    seasonal_factor,
)
from jobmetrics.generator.users import Users, channel_rate, make_users, users_table
from jobmetrics.generator.version import GENERATOR_MAJOR, is_compatible


def _read_manifest(out_dir: Path) -> dict:
    path = out_dir / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise GeneratorError(
            f"{out_dir} holds no {MANIFEST_NAME}: generate a data set first"
        ) from None
    except (OSError, ValueError) as error:
        raise GeneratorError(f"cannot read {path}: {error}") from None
    if "raw_contract_version" in manifest:
        raise GeneratorError(
            f"{out_dir} holds imported data (`jobmetrics import`): only generated data sets can "
            "be extended with --append-days; import again with --append"
        )
    if not is_compatible(manifest.get("generator_version", "?")):
        raise GeneratorError(
            f"{out_dir} was written by generator {manifest.get('generator_version')}; "
            f"appending needs {GENERATOR_MAJOR}.x: regenerate it"
        )
    for table in RAW_TABLES:
        if not (out_dir / f"{table}.parquet").is_file():
            raise GeneratorError(
                f"{out_dir / f'{table}.parquet'} is missing: regenerate the data set"
            )
    return manifest


def _row_count(folder: Path, table: str) -> int:
    return pq.ParquetFile(folder / f"{table}.parquet").metadata.num_rows


def _seconds(column: pa.ChunkedArray) -> np.ndarray:
    """Epoch seconds of a TIMESTAMP column; NULL becomes -1."""
    micros = pc.fill_null(column.cast(pa.int64()), -1_000_000).to_numpy()
    return micros // 1_000_000


def _codes(column: pa.ChunkedArray, labels: tuple[str, ...], what: str) -> np.ndarray:
    """Index of each value in labels; an unknown value is an error naming it."""
    index = pc.index_in(column.cast(pa.string()), value_set=pa.array(list(labels)))
    if index.null_count > column.null_count:
        unknown = pc.filter(column.cast(pa.string()), pc.is_null(index)).unique()[0].as_py()
        raise GeneratorError(f"{what} {unknown!r} is not in the seeds; cannot extend the data set")
    return pc.fill_null(index, -1).to_numpy().astype(np.int16)


def _old_users(folder: Path, channels, expected: np.ndarray) -> Users:
    table = pq.read_table(
        folder / "raw_users.parquet",
        columns=["user_id", "signed_up_at", "acquisition_channel", "device", "segment"],
    )
    ids = table["user_id"].to_numpy()
    if not np.array_equal(ids, np.arange(1, ids.shape[0] + 1)):
        raise GeneratorError("raw_users.user_id is not 1..N in order: regenerate the data set")
    return Users(
        signup_s=_seconds(table["signed_up_at"]),
        channel=_codes(table["acquisition_channel"], channels.names, "channel").astype(np.int8),
        device=_codes(table["device"], a.DEVICES, "device").astype(np.int8),
        segment=_codes(table["segment"], a.SEGMENTS, "segment").astype(np.int8),
        expected_signups=expected,
    )


def _join_users(old: Users, new: Users) -> Users:
    return Users(
        signup_s=np.concatenate([old.signup_s, new.signup_s]),
        channel=np.concatenate([old.channel, new.channel]),
        device=np.concatenate([old.device, new.device]),
        segment=np.concatenate([old.segment, new.segment]),
        expected_signups=new.expected_signups,
    )


def _old_subscriptions(folder: Path, plans) -> Subscriptions:
    table = pq.read_table(folder / "raw_subscriptions.parquet")
    price = pc.multiply(table["price_usd"], pa.scalar(100)).cast(pa.int64()).to_numpy()
    ended = _seconds(table["ended_at"])
    running = table["ended_at"].is_null().to_numpy(zero_copy_only=False)
    reason = _codes(table["end_reason"], END_REASONS, "end_reason").astype(np.int8)
    n = table.num_rows
    invoices = pq.read_table(folder / "raw_invoices.parquet", columns=["subscription_id", "status"])
    open_ids = pc.filter(
        invoices["subscription_id"], pc.equal(invoices["status"].cast(pa.string()), "open")
    )
    in_retries = np.isin(np.arange(1, n + 1), open_ids.to_numpy())
    return Subscriptions(
        user=table["user_id"].to_numpy() - 1,
        plan=_codes(table["plan"], plans.plans, "plan").astype(np.int8),
        cycle=_codes(table["billing_cycle"], BILLING_CYCLES, "billing_cycle").astype(np.int8),
        price_cents=price,
        start=_seconds(table["started_at"]),
        end=ended,
        running=running,
        reason=reason,
        failed_period=np.where(in_retries, 0, -1),  # only "has an open invoice" is used here
        refunded_period=np.full(n, -1),
        spiked=np.zeros(n, dtype=bool),
    )


def _carried_rows(
    old: Subscriptions, plans, window: Window, payments: Payments
) -> tuple[Starts, Carried, np.ndarray]:
    """Running subscriptions continue; those in payment retries that no retry recovers end at
    their last retry (the open invoice is the one of the period in progress)."""
    rows = np.flatnonzero(old.running)
    months = old.months_per_period[rows].astype(np.int64)
    start, user = old.start[rows], old.user[rows]
    begun = periods_before(start, months, np.full(rows.shape[0], window.start_s))
    issued = add_months(start, (begun - 1) * months)
    recovered = payments.recovered_at(user, start, begun - 1, issued, old.cycle[rows])
    lost = (old.failed_period[rows] >= 0) & (recovered < window.start_s)
    failed_end = np.where(lost, payments.lost_end(user, start, begun - 1, issued), 0)
    list_cents = np.array(plans.list_price_cents, dtype=np.int64)[old.plan[rows], old.cycle[rows]]
    starts = Starts(
        user=old.user[rows],
        plan=old.plan[rows],
        cycle=old.cycle[rows],
        discounted=old.price_cents[rows] != list_cents,
        start=start,
    )
    return starts, Carried(first_period=begun, failed_end=failed_end), rows


def _late_first_payments(
    users: Users, old: Subscriptions, paid_rate, window: Window, rng
) -> Starts:
    """Earlier users who never paid may still: the chance their first payment falls after the
    old end, given it has not happened yet (the delay's exponential tail is memoryless)."""
    never = np.ones(users.count, dtype=bool)
    never[old.user] = False
    who = np.flatnonzero(never)
    waited = (window.start_s - users.signup_s[who]) / DAY_S
    chance = paid_rate[users.channel[who]] * np.array(a.SEGMENT_PAID_MULTIPLIER)[users.segment[who]]
    late = chance * (1 - a.PAID_SAME_DAY_SHARE) * np.exp(-waited / a.PAID_DELAY_MEAN_DAYS)
    conditional = late / (1 - chance + late)
    who = who[rng.random(who.shape[0]) < conditional]
    start = window.start_s + rng.exponential(
        a.PAID_DELAY_MEAN_DAYS * DAY_S, size=who.shape[0]
    ).astype(np.int64)
    return _new_starts(who, start, users, rng)


def _late_reactivations(users: Users, old: Subscriptions, window: Window, rng) -> Starts:
    """Users whose last subscription was canceled or failed may come back after the old end."""
    by_user = np.lexsort((old.start, old.user))
    sorted_user = old.user[by_user]
    is_last = np.ones(by_user.shape[0], dtype=bool)
    is_last[:-1] = sorted_user[1:] != sorted_user[:-1]
    rows = by_user[is_last]
    lapsed = rows[~old.running[rows] & np.isin(old.reason[rows], (0, 1))]
    away = (window.start_s - old.end[lapsed]) / DAY_S
    past_gap = np.maximum(away - a.REACTIVATION_MIN_GAP_DAYS, 0)
    still = a.REACTIVATION * np.exp(-past_gap / a.REACTIVATION_MEAN_EXTRA_DAYS)
    conditional = still / (1 - a.REACTIVATION + still)
    back = lapsed[rng.random(lapsed.shape[0]) < conditional]
    earliest = np.maximum(old.end[back] + int(a.REACTIVATION_MIN_GAP_DAYS * DAY_S), window.start_s)
    start = earliest + rng.exponential(
        a.REACTIVATION_MEAN_EXTRA_DAYS * DAY_S, size=back.shape[0]
    ).astype(np.int64)
    return _new_starts(old.user[back], start, users, rng)


def _new_starts(user: np.ndarray, start: np.ndarray, users: Users, rng) -> Starts:
    plan, cycle = choose_plan(users.segment[user], rng)
    discounted = rng.random(user.shape[0]) < a.DISCOUNT_SHARE
    return Starts(user.astype(np.int64), plan, cycle, discounted, start)


def _concat_starts(parts: list[Starts]) -> Starts:
    return Starts(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in Starts.__dataclass_fields__)
    )


def _subset(subs: Subscriptions, rows: np.ndarray) -> Subscriptions:
    return Subscriptions(*(getattr(subs, f)[rows] for f in Subscriptions.__dataclass_fields__))


def _concat_subs(parts: list[Subscriptions]) -> Subscriptions:
    return Subscriptions(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in Subscriptions.__dataclass_fields__
        )
    )


def _append_table(folder: Path, name: str, new: pa.Table, old: pa.Table | None = None) -> pa.Table:
    """The existing rows of a table (or `old`, an updated copy of them) followed by `new`."""
    old = pq.read_table(folder / f"{name}.parquet") if old is None else old
    return pa.concat_tables([old, new.select(old.schema.names).cast(old.schema)])


@dataclass
class _Extension:
    """Subscriptions after extending: every old row (running ones possibly ended) and new rows."""

    updated: Subscriptions
    carried_index: np.ndarray
    """Old rows that were running at the old end (0-based; subscription_id - 1)."""
    added: Subscriptions


def _extend_subscriptions(
    old: Subscriptions,
    old_users: Users,
    fresh: Users,
    people: Users,
    plans,
    paid_rate: np.ndarray,
    window: Window,
    rng: np.random.Generator,
    payments: Payments,
) -> _Extension:
    """Continue running rows; start late first payments, comebacks and newcomers' plans."""
    carried_rows, carried, carried_index = _carried_rows(old, plans, window, payments)
    newcomers = first_starts(
        Users(fresh.signup_s, fresh.channel, fresh.device, fresh.segment, fresh.expected_signups),
        paid_rate,
        window,
        rng,
    )
    newcomers.user = newcomers.user + old_users.count
    late = _late_first_payments(old_users, old, paid_rate, window, rng)
    back = _late_reactivations(old_users, old, window, rng)
    starting = _concat_starts([late, back, newcomers])
    starting = starting.take(starting.start < window.end_s)
    ones = np.ones(starting.start.shape[0], dtype=np.int64)
    first_generation = Carried(
        first_period=np.concatenate([carried.first_period, ones]),
        failed_end=np.concatenate([carried.failed_end, 0 * ones]),
    )
    generations = simulate(
        _concat_starts([carried_rows, starting]),
        people,
        window,
        len(plans.plans) - 1,
        None,
        rng,
        payments,
        first_generation,
    )
    n_carried = carried_index.shape[0]
    rows0, result0 = generations[0]
    updated = _subset(old, np.arange(old.start.shape[0]))  # copies
    for field in ("end", "running", "reason", "failed_period", "refunded_period"):
        getattr(updated, field)[carried_index] = result0[field][:n_carried]
    updated.end = np.where(updated.running, window.end_s, updated.end)
    rest0 = (
        rows0.take(np.arange(rows0.start.shape[0]) >= n_carried),
        {key: values[n_carried:] for key, values in result0.items()},
    )
    return _Extension(updated, carried_index, assemble([rest0, *generations[1:]], plans))


def _new_invoices(ext: _Extension, window: Window, first_id: int, payments: Payments) -> pa.Table:
    """Invoices of periods that begin inside the window, old subscriptions' first."""
    carried = _subset(ext.updated, ext.carried_index)
    more = invoices_table(carried, window, payments, first_id, 1, window.start_s)
    # invoices_table numbers subscriptions by position; give carried rows their own ids.
    carried_ids = pa.array(ext.carried_index.astype(np.int64) + 1)
    position = pc.subtract(more["subscription_id"], 1)
    more = more.set_column(1, "subscription_id", pc.take(carried_ids, position))
    newer = invoices_table(ext.added, window, payments, 1, ext.updated.start.shape[0] + 1)
    invoices = pa.concat_tables([more, newer])
    order = pc.sort_indices(
        invoices, [("issued_at", "ascending"), ("subscription_id", "ascending")]
    )
    ids = np.arange(first_id, first_id + invoices.num_rows, dtype=np.int64)
    return invoices.take(order).set_column(0, "invoice_id", pa.array(ids))


def _settled_old_invoices(folder: Path, ext: _Extension, window: Window, payments) -> pa.Table:
    """The existing invoices, those still being retried at the old end settled as of the new
    end: paid at a retry, failed after the last one, or still open."""
    table = pq.read_table(folder / "raw_invoices.parquet")
    status = table["status"].cast(pa.string())
    rows = np.flatnonzero(pc.equal(status, "open").to_numpy(zero_copy_only=False))
    if not rows.shape[0]:
        return table
    sub = table["subscription_id"].to_numpy()[rows] - 1
    issued = _seconds(table["issued_at"])[rows]
    subs = ext.updated
    period = periods_before(subs.start[sub], subs.months_per_period[sub], issued + 1) - 1
    code, attempts, paid_at = payments.settle(invoice_facts(subs, sub, period), window.end_s)
    labels = np.array(INVOICE_STATUSES, dtype=object)[code]
    new_status = np.array(status.to_numpy(zero_copy_only=False), dtype=object)
    new_status[rows] = labels
    new_attempts = table["attempt_count"].to_numpy().copy()
    new_attempts[rows] = attempts
    new_paid = pc.fill_null(table["paid_at"].cast(pa.int64()), NOT_PAID).to_numpy().copy()
    new_paid[rows] = np.where(paid_at == NOT_PAID, NOT_PAID, paid_at * 1_000_000)
    columns = {
        "status": pa.array(new_status, type=pa.string()),
        "attempt_count": pa.array(new_attempts, type=pa.int32()),
        "paid_at": pa.array(new_paid, type=pa.timestamp("us"), mask=new_paid == NOT_PAID),
    }
    for name, column in columns.items():
        table = table.set_column(table.schema.get_field_index(name), name, column)
    return table


def _continuation(folder: Path, n_old_users: int) -> Continuation:
    """Known visitor of each earlier user and the next visitor and session ids."""
    sessions = pq.read_table(folder / "raw_sessions.parquet", columns=["visitor_id", "user_id"])
    known = np.zeros(n_old_users, dtype=np.int64)
    signed_in = pc.filter(sessions, pc.is_valid(sessions["user_id"]))
    known[signed_in["user_id"].to_numpy() - 1] = signed_in["visitor_id"].to_numpy()
    return Continuation(
        new_users_from=n_old_users,
        known_visitor=known,
        first_visitor_id=int(pc.max(sessions["visitor_id"]).as_py() or 0) + 1,
        first_session_id=sessions.num_rows + 1,
    )


def append_days(
    out_dir: Path | str, days: int, *, progress: Callable[[str], None] | None = None
) -> dict:
    """Extend the data set in out_dir by `days` days; return the updated manifest.

    The result is written beside out_dir and replaces it only when complete. Appending the
    same number of days to the same data set always gives the same files.
    """
    out_dir = Path(out_dir).expanduser().absolute()
    extra = positive_int("days", days, MAX_DAYS)
    manifest = _read_manifest(out_dir)
    step = progress or (lambda _message: None)
    params = manifest["parameters"]
    start = date.fromisoformat(manifest["data_start"])
    old_days = (date.fromisoformat(manifest["data_end"]) - start).days + 1
    if old_days + extra > MAX_DAYS:
        raise GeneratorError(
            f"days: the data set would span {old_days + extra:,} days, more than {MAX_DAYS:,}"
        )
    original = Window(start, int(params["days"]))
    window = check_window(Window(start + timedelta(days=old_days), extra))
    plans, channels = load_plans(), load_channels()
    rngs = random_streams(int(params["seed"]), old_days, extra)

    step("users")
    # New signups continue the original trend: same users per unit of growth × season.
    shape_old = growth_factor(original) * seasonal_factor(original.day_numbers())
    growth = growth_factor(window, original)
    shape_new = growth * seasonal_factor(window.day_numbers())
    new_total = int(round(int(params["users"]) * shape_new.sum() / shape_old.sum()))
    n_old = _row_count(out_dir, "raw_users")
    fresh = make_users(window, channels, [], new_total, rngs["users"], growth, n_old + 1)
    old_users = _old_users(out_dir, channels, fresh.expected_signups)
    people = _join_users(old_users, fresh)

    with output.staging_folder(out_dir) as folder, output.TableWriter(folder) as writer:
        seed = int(params["seed"])
        new_users = pa.concat_tables(list(users_table(fresh, channels, seed, rngs["user_details"])))
        writer.write("raw_users", _append_table(out_dir, "raw_users", new_users))

        step("subscriptions")
        paid_rate = channel_rate(channels, "signup_to_paid")
        old = _old_subscriptions(out_dir, plans)
        payments = Payments(seed)
        ext = _extend_subscriptions(
            old,
            old_users,
            fresh,
            people,
            plans,
            paid_rate,
            window,
            rngs["subscriptions"],
            payments,
        )
        all_subscriptions = _concat_subs([ext.updated, ext.added])
        writer.write("raw_subscriptions", subscriptions_table(all_subscriptions, plans))
        step("invoices")
        invoices = _new_invoices(ext, window, _row_count(out_dir, "raw_invoices") + 1, payments)
        settled = _settled_old_invoices(out_dir, ext, window, payments)
        writer.write("raw_invoices", _append_table(out_dir, "raw_invoices", invoices, settled))

        step("scans")
        running = _concat_subs([_subset(ext.updated, ext.carried_index), ext.added])
        visits = make_visits(people, running, window, rngs["scans"], new_users_from=n_old)
        first_scan = _row_count(out_dir, "raw_scans") + 1
        scans = make_scans(visits, window, rngs["scans"])
        new_scans = pa.concat_tables(
            list(scans_table(scans, window, [], rngs["scan_details"], first_scan))
        )
        writer.write("raw_scans", _append_table(out_dir, "raw_scans", new_scans))

        step("sessions")
        carry = _continuation(out_dir, n_old)
        sessions = pa.concat_tables(
            list(sessions_table(people, visits, channels, window, rngs["sessions"], carry))
        )
        writer.write("raw_sessions", _append_table(out_dir, "raw_sessions", sessions))

        step("marketing spend")
        visitors = expected_visitors(people, channels)
        spend = marketing_spend_table(visitors, channels, window, rngs["spend"])
        writer.write("raw_marketing_spend", _append_table(out_dir, "raw_marketing_spend", spend))
        step("writing files")
        updated_manifest = {
            **manifest,
            "data_end": window.end.isoformat(),
            "row_counts": writer.row_counts(),
            "appended_days": [*manifest.get("appended_days", []), extra],
        }
        step("manifest")
        output.write_manifest(folder, updated_manifest)
    return updated_manifest
