"""Charge attempts of renewal invoices: retries, recovery and involuntary churn.

A renewal invoice is charged when it is issued. When that first attempt fails the charge is
retried PAYMENT_RETRY_DAYS after it (each retry at its own time of day, as smart retries pick
one). Most failures are recovered by a retry: the invoice ends paid and the subscription goes
on. The others are the subscription rows that end with 'payment_failed' (subscriptions.py draws
them as a per-period hazard): their last retry fails and the subscription ends at that instant.

Whether a renewal invoice is a recovered failure, and at which retry, is a pure function of the
seed, the subscription row (user, start) and the period, not of a random stream: append_days
settles an invoice that was still being retried at the old data end exactly as a one-shot run
of the longer window would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jobmetrics.generator import assumptions as a
from jobmetrics.generator.timeline import DAY_S

PAID, FAILED, REFUNDED, OPEN = range(4)
INVOICE_STATUSES = ("paid", "failed", "refunded", "open")
NOT_PAID = -1
"""paid_at of an invoice that was never collected."""

RETRIES = len(a.PAYMENT_RETRY_DAYS)
_RECOVERED_CHANCE = tuple(
    fail * a.PAYMENT_RECOVERY / (1 - cancel - downgrade - lost)
    for fail, cancel, downgrade, lost in zip(
        a.PAYMENT_FIRST_ATTEMPT_FAIL, a.CANCEL, a.DOWNGRADE, a.PAYMENT_FAIL, strict=True
    )
)
"""Chance that an invoiced renewal is a recovered failure, by billing cycle: the renewals
invoiced are those not canceled, downgraded or lost at the renewal."""
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a well-spread 64-bit hash of each value."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@dataclass(frozen=True)
class Payments:
    """The charge attempts of a data set's renewal invoices (seeded by the generator's seed)."""

    seed: int

    def _uniform(self, user, start, period, salt: int) -> np.ndarray:
        """A uniform [0, 1) number per invoice, the same wherever that invoice is computed."""
        with np.errstate(over="ignore"):
            key = _mix(np.uint64(self.seed) * _GOLDEN + np.uint64(salt))
            for part in (user, start, period):
                key = _mix(key ^ np.asarray(part).astype(np.int64).view(np.uint64))
        return (key >> np.uint64(11)).astype(np.float64) / float(1 << 53)

    def retry_times(self, user, start, period, issued) -> np.ndarray:
        """Instants of the retries of each invoice (one column per retry), all before the
        next renewal: the last retry is less than PAYMENT_RETRY_DAYS[-1] + 1 days after issue."""
        return np.stack(
            [self._retry_time(user, start, period, issued, k) for k in range(RETRIES)], axis=1
        )

    def _retry_time(self, user, start, period, issued, k: int) -> np.ndarray:
        """Instant of retry k: PAYMENT_RETRY_DAYS[k] days and up to 20 hours after issue."""
        hours = self._uniform(user, start, period, 10 + k)
        return issued + a.PAYMENT_RETRY_DAYS[k] * DAY_S + (hours * 20 * 3600).astype(np.int64)

    def lost_end(self, user, start, period, issued) -> np.ndarray:
        """When the subscription of an unrecovered failed invoice ends: at its last retry."""
        return self._retry_time(user, start, period, issued, RETRIES - 1)

    def recovered_at(self, user, start, period, issued, cycle) -> np.ndarray:
        """When a renewal invoice whose first attempt failed was recovered, else NOT_PAID.

        A renewal is a recovered failure with probability PAYMENT_FIRST_ATTEMPT_FAIL ×
        PAYMENT_RECOVERY among the renewals that happen (not canceled, downgraded or lost at
        that renewal), recovered at retry k with PAYMENT_RECOVERED_AT_RETRY.
        """
        chance = np.array(_RECOVERED_CHANCE)[cycle]
        hit = (period >= 1) & (self._uniform(user, start, period, 1) < chance)
        out = np.full(np.shape(period), NOT_PAID, dtype=np.int64)
        rows = np.flatnonzero(hit)
        if rows.shape[0]:
            user, start, period = user[rows], start[rows], period[rows]
            share = np.cumsum(a.PAYMENT_RECOVERED_AT_RETRY) / np.sum(a.PAYMENT_RECOVERED_AT_RETRY)
            which = np.searchsorted(share, self._uniform(user, start, period, 2), side="right")
            times = self.retry_times(user, start, period, issued[rows])
            out[rows] = times[np.arange(rows.shape[0]), np.minimum(which, RETRIES - 1)]
        return out

    def settle(
        self,
        invoice: InvoiceFacts,
        window_end: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Status code, attempt_count and paid_at (NOT_PAID when NULL) of each invoice at the
        data end window_end.

        refunded: paid at issue, refunded later. The row's failed period: every retry fails
        ('failed'), or the data ends during the retries ('open'). A recovered failure: paid at
        its retry, or 'open' when that retry is after the data end; it counts only while its
        row runs (a row ended by the churn spike before the retry was simply paid). Anything
        else: paid at the first attempt.
        """
        n = invoice.period.shape[0]
        status = np.full(n, PAID, dtype=np.int8)
        attempts = np.ones(n, dtype=np.int32)
        paid_at = invoice.issued.copy()
        recovered = self.recovered_at(
            invoice.user, invoice.start, invoice.period, invoice.issued, invoice.cycle
        )
        recovering = (
            (recovered != NOT_PAID)
            & ~invoice.lost
            & ~invoice.refunded
            & (invoice.running | (recovered < invoice.row_end))
        )
        retried = np.flatnonzero(invoice.lost | recovering)
        if retried.shape[0]:
            times = self.retry_times(
                invoice.user[retried],
                invoice.start[retried],
                invoice.period[retried],
                invoice.issued[retried],
            )
            done = np.where(
                recovering[retried], recovered[retried], np.iinfo(np.int64).max
            )  # a lost invoice is retried to the end
            made = 1 + ((times < window_end) & (times <= done[:, None])).sum(axis=1)
            is_paid = recovering[retried] & (recovered[retried] < window_end)
            is_failed = invoice.lost[retried] & (made == 1 + RETRIES)
            status[retried] = np.select([is_paid, is_failed], [PAID, FAILED], OPEN)
            attempts[retried] = made
            paid_at[retried] = np.where(is_paid, recovered[retried], NOT_PAID)
        status = np.where(invoice.refunded, REFUNDED, status).astype(np.int8)
        return status, attempts, paid_at


@dataclass(frozen=True)
class InvoiceFacts:
    """What settling an invoice needs: its subscription row and billing period."""

    user: np.ndarray
    start: np.ndarray
    cycle: np.ndarray
    period: np.ndarray
    issued: np.ndarray
    row_end: np.ndarray
    """The row's end (the data end while it runs)."""
    running: np.ndarray
    lost: np.ndarray
    """The row's failed period: every retry of this invoice fails (or still may)."""
    refunded: np.ndarray
