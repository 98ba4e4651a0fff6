"""Stripe-shaped JSON built from a generated raw folder, in the shapes of Stripe's API
reference (API version 2025-03-31 and later: invoice.parent.subscription_details, line
pricing.price_details and parent.subscription_item_details).

Every user who ever paid is a customer (metadata user_id, segment, acquisition_channel,
device; address.country; created = signed_up_at). Each plan and billing cycle is a price
(price_<plan>_<cycle>, lookup_key <plan>_<cycle>, product prod_<plan>, the seed's list price).
One Stripe subscription holds a user's continuous run of rows (an upgrade or downgrade starts
the next row at the instant the previous one ends); a reactivation after a gap is a new one.
Each raw invoice is an invoice with one line: the list price, a 20 % discount as
discount_amounts where the row's price is below the list price, the billing period.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from jobmetrics.core.settings import PROJECT_ROOT

INTERVAL = {"monthly": "month", "annual": "year"}
CANCELLATION = {"payment_failed": "payment_failed", "canceled": "cancellation_requested"}


def epoch(value: datetime | None) -> int | None:
    """A raw timestamp (UTC without zone) as Stripe's Unix seconds."""
    return None if value is None else int(value.replace(tzinfo=UTC).timestamp())


def cents(value: Decimal) -> int:
    return int((Decimal(value) * 100).to_integral_value())


def read_rows(raw_dir: Path, table: str) -> list[dict]:
    return pq.read_table(Path(raw_dir) / f"{table}.parquet").to_pylist()


def list_prices_cents() -> dict[tuple[str, str], int]:
    """(plan, cycle) -> list price in cents, from seeds/plans.csv."""
    with (PROJECT_ROOT / "seeds" / "plans.csv").open(newline="") as handle:
        return {
            (row["plan"], row["billing_cycle"]): cents(Decimal(row["list_price_usd"]))
            for row in csv.DictReader(handle)
        }


def price_id(plan: str, cycle: str) -> str:
    return f"price_{plan}_{cycle}"


def price(plan: str, cycle: str, unit_amount: int, currency: str = "usd") -> dict:
    return {
        "id": price_id(plan, cycle),
        "object": "price",
        "active": True,
        "created": 1_600_000_000,
        "currency": currency,
        "lookup_key": f"{plan}_{cycle}",
        "product": f"prod_{plan}",
        "recurring": {"interval": INTERVAL[cycle], "interval_count": 1, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def customer_id(user_id: int) -> str:
    return f"cus_{user_id:07d}"


def customer(user: dict) -> dict:
    return {
        "id": customer_id(user["user_id"]),
        "object": "customer",
        "created": epoch(user["signed_up_at"]),
        "email": user["email"],
        "name": user["full_name"],
        "address": {"country": user["country"], "city": None, "line1": None},
        "currency": "usd",
        "deleted": None,
        "metadata": {
            "user_id": str(user["user_id"]),
            "segment": user["segment"],
            "acquisition_channel": user["acquisition_channel"],
            "device": user["device"],
        },
    }


def chains(subscriptions: list[dict]) -> list[list[dict]]:
    """Each user's rows grouped into continuous runs: a row ended by a plan change continues
    in the row starting at its end."""
    by_user: dict[int, list[dict]] = defaultdict(list)
    for row in sorted(subscriptions, key=lambda r: (r["user_id"], r["started_at"])):
        by_user[row["user_id"]].append(row)
    runs = []
    for rows in by_user.values():
        run = [rows[0]]
        for row in rows[1:]:
            last = run[-1]
            if (
                last["end_reason"] in ("upgraded", "downgraded")
                and last["ended_at"] == row["started_at"]
            ):
                run.append(row)
            else:
                runs.append(run)
                run = [row]
        runs.append(run)
    return runs


def subscription_id(run: list[dict]) -> str:
    return f"sub_{run[0]['subscription_id']:07d}"


def subscription(run: list[dict], price_objects: dict[str, dict], past_due: bool = False) -> dict:
    """The Stripe subscription of a run of rows: its current (last) price, ended or not."""
    last = run[-1]
    sub_id = subscription_id(run)
    ended = epoch(last["ended_at"])
    status = "canceled" if ended else "past_due" if past_due else "active"
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer_id(last["user_id"]),
        "created": epoch(run[0]["started_at"]),
        "start_date": epoch(run[0]["started_at"]),
        "status": status,
        "canceled_at": ended,
        "ended_at": ended,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "cancellation_details": {
            "reason": CANCELLATION[last["end_reason"]] if ended else None,
            "feedback": None,
            "comment": None,
        },
        "trial_start": None,
        "trial_end": None,
        "discounts": [],
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{last['subscription_id']:07d}",
                    "object": "subscription_item",
                    "price": price_objects[price_id(last["plan"], last["billing_cycle"])],
                    "quantity": 1,
                }
            ],
            "has_more": False,
        },
        "metadata": {},
    }


def line(invoice: dict, row: dict, sub_id: str, list_cents: int) -> dict:
    """The one subscription line of a generated invoice: list price less the discount."""
    discount = list_cents - cents(invoice["amount_usd"])
    return {
        "id": f"il_{invoice['invoice_id']:08d}",
        "object": "line_item",
        "invoice": f"in_{invoice['invoice_id']:08d}",
        "amount": list_cents,
        "currency": "usd",
        "description": f"1 x {row['plan']} ({row['billing_cycle']})",
        "discount_amounts": (
            [{"amount": discount, "discount": f"di_{sub_id}"}] if discount else []
        ),
        "discountable": True,
        "parent": {
            "type": "subscription_item_details",
            "subscription_item_details": {
                "subscription": sub_id,
                "subscription_item": f"si_{row['subscription_id']:07d}",
                "proration": False,
                "invoice_item": None,
            },
            "invoice_item_details": None,
        },
        "period": {"start": epoch(invoice["period_start"]), "end": epoch(invoice["period_end"])},
        "pricing": {
            "type": "price_details",
            "price_details": {
                "price": price_id(row["plan"], row["billing_cycle"]),
                "product": f"prod_{row['plan']}",
            },
            "unit_amount_decimal": str(list_cents),
        },
        "quantity": 1,
    }


STATUS = {"paid": "paid", "refunded": "paid", "failed": "uncollectible", "open": "open"}


def invoice(raw: dict, row: dict, sub_id: str, list_cents: int) -> dict:
    """A generated invoice as Stripe's: refunded is paid and credited in full afterwards,
    failed is uncollectible, open has its next retry scheduled."""
    total = cents(raw["amount_usd"])
    issued = epoch(raw["issued_at"])
    paid = raw["status"] in ("paid", "refunded")
    item = line(raw, row, sub_id, list_cents)
    return {
        "id": f"in_{raw['invoice_id']:08d}",
        "object": "invoice",
        "customer": customer_id(raw["user_id"]),
        "created": issued,
        "currency": "usd",
        "status": STATUS[raw["status"]],
        "attempt_count": raw["attempt_count"],
        "attempted": True,
        "next_payment_attempt": issued + 30 * 86_400 if raw["status"] == "open" else None,
        "amount_due": total,
        "amount_paid": total if paid else 0,
        "amount_remaining": 0 if paid else total,
        "subtotal": list_cents,
        "total": total,
        "total_excluding_tax": total,
        "post_payment_credit_notes_amount": total if raw["status"] == "refunded" else 0,
        "pre_payment_credit_notes_amount": 0,
        "period_start": issued,
        "period_end": issued,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub_id, "metadata": {}},
            "quote_details": None,
        },
        "status_transitions": {
            "finalized_at": issued,
            "paid_at": epoch(raw["paid_at"]),
            "voided_at": None,
            "marked_uncollectible_at": issued if raw["status"] == "failed" else None,
        },
        "lines": {
            "object": "list",
            "data": [item],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/invoices/in_{raw['invoice_id']:08d}/lines",
        },
    }


def stripe_objects(raw_dir: Path) -> dict[str, list[dict]]:
    """customers, prices, subscriptions and invoices of a generated raw folder."""
    list_cents = list_prices_cents()
    prices = {price_id(p, c): price(p, c, amount) for (p, c), amount in list_cents.items()}
    subs = read_rows(raw_dir, "raw_subscriptions")
    invoices = read_rows(raw_dir, "raw_invoices")
    runs = chains(subs)
    run_of = {row["subscription_id"]: run for run in runs for row in run}
    row_of = {row["subscription_id"]: row for row in subs}
    open_runs = {
        subscription_id(run_of[i["subscription_id"]]) for i in invoices if i["status"] == "open"
    }
    payers = {row["user_id"] for row in subs}
    return {
        "prices": list(prices.values()),
        "customers": [
            customer(u) for u in read_rows(raw_dir, "raw_users") if u["user_id"] in payers
        ],
        "subscriptions": [
            subscription(run, prices, past_due=subscription_id(run) in open_runs) for run in runs
        ],
        "invoices": [
            invoice(
                raw,
                row_of[raw["subscription_id"]],
                subscription_id(run_of[raw["subscription_id"]]),
                list_cents[
                    (
                        row_of[raw["subscription_id"]]["plan"],
                        row_of[raw["subscription_id"]]["billing_cycle"],
                    )
                ],
            )
            for raw in invoices
        ],
    }


def mapping_yaml(path: Path, **extra: str) -> Path:
    """A mapping for these shapes: basic by price id, professional by lookup_key, premium by
    product; `extra` adds top-level YAML blocks (e.g. currency_rates="{eur: 1.08}")."""
    lines = [
        "prices:",
        "  price_basic_monthly: {plan: basic, billing_cycle: monthly}",
        "  price_basic_annual: {plan: basic}",
        "  professional_monthly: {plan: professional}",
        "  professional_annual: {plan: professional, billing_cycle: annual}",
        "  prod_premium: {plan: premium}",
        "customers:",
        "  email: email",
        "  full_name: name",
        *(f"{key}: {value}" for key, value in extra.items()),
    ]
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def list_page(items: list[dict], has_more: bool, url: str) -> dict:
    return {"object": "list", "data": items, "has_more": has_more, "url": url}


def write_json_dir(objects: dict[str, list[dict]], folder: Path, page_size: int = 100) -> Path:
    """The objects as list pages saved from the API, newest first as the API lists them:
    <kind>/page_0001.json, ..."""
    folder = Path(folder)
    for kind, items in objects.items():
        ordered = sorted(items, key=lambda item: (-(item.get("created") or 0), item["id"]))
        (folder / kind).mkdir(parents=True, exist_ok=True)
        for number, begin in enumerate(range(0, max(len(ordered), 1), page_size), start=1):
            page = list_page(
                ordered[begin : begin + page_size], begin + page_size < len(ordered), f"/v1/{kind}"
            )
            (folder / kind / f"page_{number:04d}.json").write_text(json.dumps(page))
    return folder
