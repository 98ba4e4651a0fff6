"""raw_subscriptions and raw_invoices: paid plans over time, simulated period by period.

Each subscription row runs until its first event: a cancellation at the end of a period, a
renewal payment that every retry failed to collect (payments.py), an upgrade in the middle of a
period, a downgrade at a renewal, or a cancellation with a refund just after a renewal. The
number of periods until that event is geometric, so one vectorised step handles a whole
generation of rows; plan changes and reactivations produce the next generation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from jobmetrics.generator import assumptions as a
from jobmetrics.generator.anomalies import CHURN_SPIKE_SHARE, Anomaly, find
from jobmetrics.generator.arrow import categorical, money, timestamps
from jobmetrics.generator.payments import INVOICE_STATUSES, NOT_PAID, InvoiceFacts, Payments
from jobmetrics.generator.reference import BILLING_CYCLES, PlanCatalogue
from jobmetrics.generator.timeline import (
    DAY_S,
    Window,
    add_months,
    periods_before,
    ragged_index,
    time_of_day,
)
from jobmetrics.generator.users import Users

END_REASONS = ("canceled", "payment_failed", "upgraded", "downgraded")
CANCEL, FAIL, UPGRADE, DOWNGRADE, REFUND = range(5)
NO_PERIOD = -1


@dataclass
class Subscriptions:
    """Subscription rows in subscription_id order (id = index + 1)."""

    user: np.ndarray  # user index (user_id - 1)
    plan: np.ndarray
    cycle: np.ndarray
    price_cents: np.ndarray
    start: np.ndarray
    end: np.ndarray  # exclusive end; window end when still running
    running: np.ndarray  # still active at the end of the data (ended_at NULL)
    reason: np.ndarray  # END_REASONS index, -1 while running
    failed_period: np.ndarray  # period whose invoice failed, or NO_PERIOD
    refunded_period: np.ndarray  # period whose invoice was refunded, or NO_PERIOD
    spiked: np.ndarray  # canceled by the injected churn spike

    @property
    def months_per_period(self) -> np.ndarray:
        return np.where(self.cycle == 1, 12, 1)


@dataclass
class Starts:
    """A generation of subscription rows that begin at known instants."""

    user: np.ndarray
    plan: np.ndarray
    cycle: np.ndarray
    discounted: np.ndarray
    start: np.ndarray

    def take(self, mask: np.ndarray) -> Starts:
        return Starts(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def choose_plan(segment: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Plan rank index and billing cycle of a new subscription, by the user's segment."""
    cumulative = np.cumsum(np.array(a.SEGMENT_PLAN_SHARE), axis=1)[segment]
    plan = (rng.random(segment.shape[0])[:, None] >= cumulative[:, :-1]).sum(axis=1)
    annual = rng.random(segment.shape[0]) < np.array(a.SEGMENT_ANNUAL_SHARE)[segment]
    return plan.astype(np.int8), annual.astype(np.int8)


def first_starts(users: Users, paid_rate: np.ndarray, window: Window, rng) -> Starts:
    """The first subscription of every user who ever pays, if it starts inside the window."""
    chance = paid_rate[users.channel] * np.array(a.SEGMENT_PAID_MULTIPLIER)[users.segment]
    payer = np.flatnonzero(rng.random(users.count) < chance)
    same_day = rng.random(payer.shape[0]) < a.PAID_SAME_DAY_SHARE
    delay = np.where(
        same_day,
        rng.integers(600, 6 * 3600, size=payer.shape[0]),
        rng.exponential(a.PAID_DELAY_MEAN_DAYS * DAY_S, size=payer.shape[0]).astype(np.int64),
    )
    start = users.signup_s[payer] + delay
    inside = start < window.end_s
    payer, start = payer[inside], start[inside]
    plan, cycle = choose_plan(users.segment[payer], rng)
    discounted = rng.random(payer.shape[0]) < a.DISCOUNT_SHARE
    return Starts(payer, plan, cycle, discounted, start)


def _hazards(rows: Starts, top_plan: int) -> np.ndarray:
    """Per-period probability of each event (columns CANCEL..REFUND) for every row."""
    cycle = rows.cycle
    table = np.stack(
        [
            np.array(a.CANCEL)[cycle],
            np.array(a.PAYMENT_FAIL)[cycle],
            np.array(a.UPGRADE)[cycle] * (rows.plan < top_plan),
            np.array(a.DOWNGRADE)[cycle] * (rows.plan > 0),
            np.array(a.REFUND_CANCEL)[cycle],
        ],
        axis=1,
    )
    return table


@dataclass(frozen=True)
class Carried:
    """Rows of the first generation that were already running before the window began.

    Their next event is drawn afresh (periods are memoryless) from the period in progress at
    the window start; a row whose last invoice is still being retried and will not be recovered
    ends at `failed_end` (its last retry).
    """

    first_period: np.ndarray
    """Periods begun before the window (1 for rows that start inside it)."""
    failed_end: np.ndarray
    """End of a row in payment retries that will not be recovered, else 0."""


def _run_generation(
    rows: Starts,
    window: Window,
    top_plan: int,
    spike_s: int | None,
    rng: np.random.Generator,
    payments: Payments,
    carried: Carried | None = None,
) -> dict[str, np.ndarray]:
    """Each row's end (natural event or the churn spike), reason and invoice markers."""
    n = rows.start.shape[0]
    months = np.where(rows.cycle == 1, 12, 1).astype(np.int64)
    hazards = _hazards(rows, top_plan)
    total = hazards.sum(axis=1)
    periods = np.minimum(rng.geometric(total), 1200).astype(np.int64)
    draw = rng.random(n) * total
    event = (draw[:, None] >= np.cumsum(hazards, axis=1)[:, :-1]).sum(axis=1)
    if carried is not None:
        periods += carried.first_period - 1
        # A refund would concern an invoice from before the window: cancel at renewal instead.
        old_refund = (event == REFUND) & (periods == carried.first_period)
        event = np.where(old_refund, CANCEL, event)
    fraction = rng.uniform(0.05, 0.95, size=n)
    refund_days = np.array(a.REFUND_WINDOW_DAYS)[rows.cycle]
    refund_after = (rng.random(n) * (refund_days - 1) * DAY_S).astype(np.int64) + DAY_S

    def event_end(periods: np.ndarray, event: np.ndarray) -> np.ndarray:
        renewal = add_months(rows.start, periods * months)
        previous = add_months(rows.start, (periods - 1) * months)
        return np.select(
            [event == FAIL, event == UPGRADE, event == REFUND],
            [
                payments.lost_end(rows.user, rows.start, periods, renewal),
                previous + (fraction * (renewal - previous)).astype(np.int64),
                previous + refund_after,
            ],
            default=renewal,
        )

    end = event_end(periods, event)
    if carried is not None:
        # An upgrade drawn in the elapsed part of the period in progress did not happen (the
        # row was still running): draw again from the next period on.
        early = end < window.start_s
        later = carried.first_period + rng.geometric(total)
        periods = np.where(early, later, periods)
        redraw = (rng.random(n) * total)[:, None] >= np.cumsum(hazards, axis=1)[:, :-1]
        event = np.where(early, redraw.sum(axis=1), event)
        end = event_end(periods, event)
        retrying = carried.failed_end > 0
        event = np.where(retrying, FAIL, event)
        end = np.where(retrying, carried.failed_end, end)
        periods = np.where(retrying, carried.first_period - 1, periods)
    end = _after_recovery(rows, event, periods, end, months, payments)
    reason = np.array([0, 1, 2, 3, 0])[event]
    failed_period = np.where(event == FAIL, periods, NO_PERIOD)
    refunded_period = np.where(event == REFUND, periods - 1, NO_PERIOD)
    hit = np.zeros(n, dtype=bool)
    if spike_s is not None:
        hit = (
            (rows.cycle == 0)
            & (rows.start < spike_s)
            & (end > spike_s)
            & (rng.random(n) < CHURN_SPIKE_SHARE)
        )
        spike_end = np.minimum(spike_s + time_of_day(rng, n), end - 1)
        end = np.where(hit, spike_end, end)
        reason = np.where(hit, 0, reason)
        failed_period = np.where(hit, NO_PERIOD, failed_period)
        refunded_period = np.where(hit, NO_PERIOD, refunded_period)
    running = end >= window.end_s
    refunded_period = np.where(running, NO_PERIOD, refunded_period)
    return {
        "end": np.minimum(end, window.end_s),
        "running": running,
        "reason": np.where(running, -1, reason).astype(np.int8),
        "failed_period": failed_period,
        "refunded_period": refunded_period,
        "spiked": hit,
    }


def _after_recovery(
    rows: Starts,
    event: np.ndarray,
    periods: np.ndarray,
    end: np.ndarray,
    months: np.ndarray,
    payments: Payments,
) -> np.ndarray:
    """An upgrade drawn while the period's invoice is still being retried waits until the
    invoice is recovered (an hour later): a customer fixes the card, then upgrades."""
    up = np.flatnonzero(event == UPGRADE)
    period = periods[up] - 1
    issued = add_months(rows.start[up], period * months[up])
    paid = payments.recovered_at(rows.user[up], rows.start[up], period, issued, rows.cycle[up])
    waits = (paid != NOT_PAID) & (paid >= end[up])
    end = end.copy()
    end[up[waits]] = paid[waits] + 3600
    return end


def _next_generation(
    rows: Starts, result: dict[str, np.ndarray], users: Users, window: Window, top_plan: int, rng
) -> Starts:
    """Plan changes continue at the same instant; some canceled users come back after a gap."""
    ended = ~result["running"]
    reason = result["reason"]
    change = ended & ((reason == 2) | (reason == 3))
    changed = rows.take(change)
    step = np.where(reason[change] == 2, 1, -1).astype(np.int8)
    changed.plan = np.clip(changed.plan + step, 0, top_plan).astype(np.int8)
    to_annual = (
        (step == 1) & (changed.cycle == 0) & (rng.random(step.shape[0]) < a.UPGRADE_TO_ANNUAL)
    )
    changed.cycle = np.where(to_annual, 1, changed.cycle).astype(np.int8)
    changed.start = result["end"][change]

    lost = ended & ((reason == 0) | (reason == 1))
    back = lost & (rng.random(lost.shape[0]) < a.REACTIVATION)
    gap_days = a.REACTIVATION_MIN_GAP_DAYS + rng.exponential(
        a.REACTIVATION_MEAN_EXTRA_DAYS, size=lost.shape[0]
    )
    returning = rows.take(back)
    returning.start = result["end"][back] + (gap_days[back] * DAY_S).astype(np.int64)
    returning.plan, returning.cycle = choose_plan(users.segment[returning.user], rng)
    returning.discounted = rng.random(returning.user.shape[0]) < a.DISCOUNT_SHARE
    inside = returning.start < window.end_s
    returning = returning.take(inside)
    return Starts(
        *(
            np.concatenate([getattr(changed, f), getattr(returning, f)])
            for f in Starts.__dataclass_fields__
        )
    )


Generation = tuple[Starts, dict[str, np.ndarray]]


def simulate(
    rows: Starts,
    users: Users,
    window: Window,
    top_plan: int,
    spike_s: int | None,
    rng: np.random.Generator,
    payments: Payments,
    carried: Carried | None = None,
) -> list[Generation]:
    """Run rows and every plan change and reactivation they lead to, until the window ends."""
    generations: list[Generation] = []
    while True:  # at least one (possibly empty) generation, so every array has its dtype
        result = _run_generation(rows, window, top_plan, spike_s, rng, payments, carried)
        generations.append((rows, result))
        carried = None  # only the first generation can hold rows carried over
        rows = _next_generation(rows, result, users, window, top_plan, rng)
        if not rows.start.shape[0]:
            break
    return generations


def assemble(generations: list[Generation], plans: PlanCatalogue) -> Subscriptions:
    """All simulated rows as Subscriptions, ordered by start then user."""

    def gather(source: str, field: str) -> np.ndarray:
        parts = [getattr(r, field) if source == "rows" else res[field] for r, res in generations]
        return np.concatenate(parts)

    user, start = gather("rows", "user"), gather("rows", "start")
    order = np.lexsort((user, start))
    plan, cycle = gather("rows", "plan")[order], gather("rows", "cycle")[order]
    list_cents = np.array(plans.list_price_cents, dtype=np.int64)[plan, cycle]
    discounted = gather("rows", "discounted")[order]
    price = np.where(discounted, (list_cents * (100 - a.DISCOUNT_PCT) + 50) // 100, list_cents)
    return Subscriptions(
        user=user[order],
        plan=plan,
        cycle=cycle,
        price_cents=price,
        start=start[order],
        end=gather("results", "end")[order],
        running=gather("results", "running")[order],
        reason=gather("results", "reason")[order],
        failed_period=gather("results", "failed_period")[order],
        refunded_period=gather("results", "refunded_period")[order],
        spiked=gather("results", "spiked")[order],
    )


def make_subscriptions(
    users: Users,
    paid_rate: np.ndarray,
    plans: PlanCatalogue,
    window: Window,
    anomalies: list[Anomaly],
    rng: np.random.Generator,
    payments: Payments,
) -> Subscriptions:
    """Simulate every subscription row; paid_rate is each channel's signup → paid probability."""
    spike = find(anomalies, "churn_spike")
    spike_s = None if spike is None else window.start_s + spike.day_index(window) * DAY_S
    rows = first_starts(users, paid_rate, window, rng)
    top_plan = len(plans.plans) - 1
    return assemble(simulate(rows, users, window, top_plan, spike_s, rng, payments), plans)


def subscriptions_table(subs: Subscriptions, plans: PlanCatalogue) -> pa.Table:
    """raw_subscriptions as an Arrow table."""
    n = subs.start.shape[0]
    return pa.table(
        {
            "subscription_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "user_id": pa.array(subs.user.astype(np.int64) + 1),
            "plan": categorical(subs.plan, plans.plans),
            "billing_cycle": categorical(subs.cycle, BILLING_CYCLES),
            "price_usd": money(subs.price_cents),
            "started_at": timestamps(subs.start),
            "ended_at": timestamps(subs.end, null=subs.running),
            "end_reason": categorical(np.maximum(subs.reason, 0), END_REASONS, null=subs.running),
        }
    )


def invoice_facts(subs: Subscriptions, row: np.ndarray, period: np.ndarray) -> InvoiceFacts:
    """What settling the invoice of each (row, period) needs."""
    months = subs.months_per_period[row].astype(np.int64)
    return InvoiceFacts(
        user=subs.user[row],
        start=subs.start[row],
        cycle=subs.cycle[row],
        period=period,
        issued=add_months(subs.start[row], period * months),
        row_end=subs.end[row],
        running=subs.running[row],
        lost=period == subs.failed_period[row],
        refunded=period == subs.refunded_period[row],
    )


def invoices_table(
    subs: Subscriptions,
    window: Window,
    payments: Payments,
    first_id: int = 1,
    first_subscription_id: int = 1,
    not_before: int | None = None,
) -> pa.Table:
    """raw_invoices: one invoice per billing period that began before the row ended, settled
    as of the data end (payments.Payments.settle).

    Subscription ids run from first_subscription_id in row order; invoice ids from first_id.
    With not_before, only periods beginning at or after that instant are invoiced (the rest
    exist already in an extended data set).
    """
    months = subs.months_per_period.astype(np.int64)
    counts = periods_before(subs.start, months, subs.end)
    row, period = ragged_index(counts)
    period_start = add_months(subs.start[row], period * months[row])
    if not_before is not None:
        keep = period_start >= not_before
        row, period, period_start = row[keep], period[keep], period_start[keep]
    period_end = add_months(subs.start[row], (period + 1) * months[row])
    status, attempts, paid_at = payments.settle(invoice_facts(subs, row, period), window.end_s)
    order = np.lexsort((row, period_start))
    row, period_start, period_end, status, attempts, paid_at = (
        row[order],
        period_start[order],
        period_end[order],
        status[order],
        attempts[order],
        paid_at[order],
    )
    n = row.shape[0]
    return pa.table(
        {
            "invoice_id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            "subscription_id": pa.array(row.astype(np.int64) + first_subscription_id),
            "user_id": pa.array(subs.user[row].astype(np.int64) + 1),
            "issued_at": timestamps(period_start),
            "period_start": timestamps(period_start),
            "period_end": timestamps(period_end),
            "amount_usd": money(subs.price_cents[row]),
            "status": categorical(status, INVOICE_STATUSES),
            "attempt_count": pa.array(attempts, type=pa.int32()),
            "paid_at": timestamps(paid_at, null=paid_at == NOT_PAID),
        }
    )
