"""Stripe billing as raw_users, raw_subscriptions and raw_invoices (`jobmetrics import stripe`).

What the rows mean is what the generator's rows mean (jobmetrics/generator/subscriptions.py,
payments.py):

- A customer is a user (raw_users). Its user_id is a metadata key (default `user_id`) or, with
  `user_id: stripe`, a number the import gives (kept across --append in the folder's id map).
  Emails and names are copied only when the mapping names where they are.
- raw_subscriptions rows are continuous periods on one plan, billing cycle and price. They are
  rebuilt from the subscription's invoice lines (the subscription itself only shows its current
  price): the periods billed, in order; a line with another plan or price closes the row at its
  period start and opens the next one there, ended `upgraded` or `downgraded` by the plans
  seed's plan_rank, then by the monthly price. price_usd is the line amount after its discounts
  (the documented price after discount). The last row ends at the subscription's ended_at, as
  `payment_failed` when Stripe's cancellation_details.reason says so, else `canceled`; a
  subscription set to cancel_at_period_end is still active, so its row runs (ended_at NULL)
  until Stripe ends it. A change Stripe charges as prorations (its default: the new price's
  own line starts only at the next renewal) starts the new row at the prorations' period
  start, when it happened; credits for unused time open nothing.
- Trials: the contract has paid periods only (the generator has no trials), so a trial is not
  a row. A subscription's row starts at its first paid period (trial_end); a subscription that
  is still in, or ended during, its trial is skipped, as are its $0 trial invoices.
- raw_invoices: paid (status_transitions.paid_at), refunded (paid, then credited in full by
  credit notes after payment, or its charge refunded), open (a declined charge Stripe is still
  retrying: attempt_count >= 1 and a next attempt scheduled), failed (uncollectible, or open
  with every retry used up); void and draft invoices are skipped, as are invoices nobody tried
  to charge yet. issued_at is when the invoice was finalized; the billing period is its
  subscription line's.
- Money: every amount in USD through the mapping's currency_rates (minor units per Stripe's
  zero- and three-decimal currency lists); an amount in a currency without a rate is refused.

Everything left out is reported as skipped, with its id and the reason.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa
import yaml

from jobmetrics.core.contract_arrow import ARROW_SCHEMAS
from jobmetrics.core.settings import PROJECT_ROOT
from jobmetrics.importers.errors import SourceError
from jobmetrics.importers.raw_folder import (
    SOURCE_ID,
    IdMap,
    read_import_manifest,
    read_import_state,
    write_import,
)
from jobmetrics.importers.stripe_api import (
    StripeObjects,
    StripeReader,
    Window,
    read_json_dir,
)

SOURCE = "stripe"
PLANS_SEED = PROJECT_ROOT / "seeds" / "plans.csv"
EXAMPLE_MAPPING = Path(__file__).with_name("stripe.example.yml")

ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
"""Currencies Stripe counts in whole units (ISK and UGX are zero-decimal too, but Stripe's API
takes them with two decimals, so they are not here)."""
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
INTERVALS = {("month", 1): "monthly", ("year", 1): "annual"}
ENDED = frozenset({"canceled", "incomplete_expired"})
CUSTOMER_FIELDS = {
    "user_id": "metadata.user_id",
    "signed_up_at": "created",
    "country": "address.country",
    "segment": "metadata.segment",
    "acquisition_channel": "metadata.acquisition_channel",
    "device": "metadata.device",
    "email": None,
    "full_name": None,
}
"""raw_users column -> where it comes from when the mapping does not say (None: not copied)."""


# --------------------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class Source:
    """Where a raw_users column comes from: a dotted path into the customer, a constant, or
    nothing (personal data not mapped)."""

    path: str | None = None
    value: object = None
    default: object = None

    def read(self, customer: dict) -> object:
        if self.path is None:
            return self.value
        found = _dig(customer, self.path)
        return self.default if found in (None, "") else found


@dataclass(frozen=True)
class PriceRule:
    key: str
    plan: str | None  # None: lines of this price are ignored (`skip`)
    billing_cycle: str | None


@dataclass(frozen=True)
class Mapping:
    path: Path
    prices: dict[str, PriceRule]
    customers: dict[str, Source]
    number_users: bool  # user_id: stripe
    rates: dict[str, Decimal]
    plan_rank: dict[str, int]
    write_users: bool = True  # raw_users: false leaves users to the product database import

    def rule(self, price: dict, where: str) -> PriceRule:
        """The rule of a price, by id, then lookup_key, then product; SourceError if none."""
        product = price.get("product")
        product = product.get("id") if isinstance(product, dict) else product
        for key in (price.get("id"), price.get("lookup_key"), product):
            if key and key in self.prices:
                return self.prices[key]
        raise SourceError(
            f"stripe: price {price.get('id')} (lookup_key {price.get('lookup_key')}, product "
            f"{product}) on {where} is not in the mapping {self.path}: add it under prices: "
            "(plan, or skip)"
        )

    def usd(self, amount: int, currency: str, what: str) -> Decimal:
        """Minor units of `currency` in US dollars, to the cent."""
        currency = (currency or "").lower()
        rate = Decimal(1) if currency == "usd" else self.rates.get(currency)
        if rate is None:
            raise SourceError(
                f"stripe: {what} is in {currency} and the mapping has no rate for {currency} "
                f"(add currency_rates: {{{currency}: <US dollars per 1 {currency.upper()}>}} to "
                f"{self.path})"
            )
        digits = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
        major = Decimal(int(amount)).scaleb(-digits)
        return (major * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def load_mapping(path: Path) -> Mapping:
    """The mapping YAML (stripe.example.yml documents it); SourceError naming file and key."""
    path = Path(path)

    def bad(key: str, problem: str) -> SourceError:
        return SourceError(f"stripe: mapping {path}: {key}: {problem}")

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SourceError(f"stripe: cannot read the mapping {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise SourceError(
            f"stripe: mapping {path} is not valid YAML ({error})".replace("\n", " ")
        ) from None
    if not isinstance(document, dict):
        raise SourceError(
            f"stripe: mapping {path} must be a YAML mapping (prices:, customers:, ...)"
        )
    unknown = sorted(set(document) - {"prices", "customers", "currency_rates", "raw_users"})
    if unknown:
        raise bad(
            unknown[0], "not a key of the mapping (prices, customers, currency_rates, raw_users)"
        )
    write_users = document.get("raw_users", True)
    if not isinstance(write_users, bool):
        raise bad("raw_users", f"{write_users!r} is not true or false")
    plan_rank = _plan_ranks()
    prices = {}
    raw_prices = document.get("prices")
    if not isinstance(raw_prices, dict) or not raw_prices:
        raise bad("prices", "map at least one Stripe price, lookup_key or product to a plan")
    for key, spec in raw_prices.items():
        prices[str(key)] = _price_rule(str(key), spec, plan_rank, bad)
    customers_spec = document.get("customers") or {}
    if not isinstance(customers_spec, dict):
        raise bad("customers", "must map raw_users columns to customer fields")
    unknown = sorted(set(customers_spec) - set(CUSTOMER_FIELDS))
    if unknown:
        raise bad(f"customers.{unknown[0]}", f"not a column ({', '.join(CUSTOMER_FIELDS)})")
    customers = {}
    number_users = False
    for column, default in CUSTOMER_FIELDS.items():
        spec = customers_spec.get(column, default)
        if column == "user_id" and spec == "stripe":
            number_users, spec = True, None
        customers[column] = _source(f"customers.{column}", spec, bad)
        if spec is None and column not in ("email", "full_name", "user_id"):
            raise bad(f"customers.{column}", "the contract needs this column: map it")
    rates = {}
    raw_rates = document.get("currency_rates") or {}
    if not isinstance(raw_rates, dict):
        raise bad("currency_rates", "must map currency codes to US dollars per unit")
    for currency, rate in raw_rates.items():
        try:
            value = Decimal(str(rate))
        except InvalidOperation:
            value = Decimal(-1)
        if not value > 0 or isinstance(rate, bool):
            raise bad(f"currency_rates.{currency}", f"{rate!r} is not a positive number")
        rates[str(currency).lower()] = value
    return Mapping(path, prices, customers, number_users, rates, plan_rank, write_users)


def _price_rule(key: str, spec, plan_rank: dict[str, int], bad) -> PriceRule:
    if spec == "skip":
        return PriceRule(key, None, None)
    if isinstance(spec, str):
        spec = {"plan": spec}
    if not isinstance(spec, dict):
        raise bad(f"prices.{key}", "give {plan: ..., billing_cycle: ...} or skip")
    unknown = sorted(set(spec) - {"plan", "billing_cycle"})
    if unknown:
        raise bad(f"prices.{key}.{unknown[0]}", "not a key (plan, billing_cycle)")
    plan, cycle = spec.get("plan"), spec.get("billing_cycle")
    if plan not in plan_rank:
        raise bad(
            f"prices.{key}.plan",
            f"{plan!r} is not a plan of seeds/plans.csv ({', '.join(plan_rank)})",
        )
    if cycle is not None and cycle not in INTERVALS.values():
        raise bad(f"prices.{key}.billing_cycle", f"{cycle!r} is not monthly or annual")
    return PriceRule(key, plan, cycle)


def _source(key: str, spec, bad) -> Source:
    if spec is None or isinstance(spec, str):
        return Source(path=spec) if spec else Source()
    if isinstance(spec, dict) and set(spec) == {"value"}:
        return Source(value=spec["value"])
    if isinstance(spec, dict) and "from" in spec and set(spec) <= {"from", "default"}:
        return Source(path=str(spec["from"]), default=spec.get("default"))
    raise bad(
        key,
        "give a customer field (metadata.<key>, address.country, ...), "
        "{value: <constant>} or {from: <field>, default: <constant>}",
    )


def _plan_ranks() -> dict[str, int]:
    with PLANS_SEED.open(newline="") as handle:
        return {row["plan"]: int(row["plan_rank"]) for row in csv.DictReader(handle)}


def _dig(item: dict, path: str) -> object:
    for part in path.split("."):
        if not isinstance(item, dict):
            return None
        item = item.get(part)
    return item


# ------------------------------------------------------------------------------ conversion


PRODUCT_USERS = "product_user"
"""The IdMap kind of the product database's user ids (jobmetrics/importers/mapping.py)."""


@dataclass
class Ids:
    """The id maps of an import folder: customers (with user_id: stripe), subscription periods
    (`sub_..@<start>`), invoices."""

    users: IdMap
    periods: IdMap
    invoices: IdMap
    product_users: IdMap = field(default_factory=lambda: IdMap(PRODUCT_USERS, {}))
    """The numbers the product database import gave its text user ids (uuids): a customer's
    metadata user_id in that form finds its user through them. Read only."""

    KINDS = ("stripe_customer", "stripe_period", "stripe_invoice")

    @classmethod
    def load(cls, out: Path) -> Ids:
        """The ids an earlier import into `out` gave (for --append)."""
        return cls(*(IdMap.load(out, kind) for kind in cls.KINDS), IdMap.load(out, PRODUCT_USERS))

    @classmethod
    def fresh(cls) -> Ids:
        return cls(*(IdMap(kind, {}) for kind in cls.KINDS))


@dataclass
class Converted:
    tables: dict[str, pa.Table]
    skipped: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Line:
    """A paid billing period of a subscription, from an invoice line."""

    start: int
    end: int
    plan: str
    cycle: str
    price_usd: Decimal | None
    invoice: str
    price_id: str = ""
    proration: bool = False

    @property
    def key(self) -> tuple:
        return (self.plan, self.cycle, self.price_usd)


@dataclass
class Period:
    """A raw_subscriptions row being built."""

    id: int
    user_id: int
    source: str
    plan: str
    cycle: str
    price_usd: Decimal
    start: int
    end: int | None = None
    reason: str | None = None


def convert(objects: StripeObjects, mapping: Mapping, ids: Ids) -> Converted:
    """The raw tables of the Stripe objects, and what was skipped and why."""
    skipped: list[dict] = list(objects.ignored)
    users, user_of = _users(objects, mapping, ids, skipped)
    invoices_of = _invoices_by_subscription(objects, skipped)
    periods: list[Period] = []
    periods_of: dict[str, list[Period]] = {}
    for sub in sorted(
        objects.subscriptions.values(), key=lambda s: (s.get("created") or 0, s["id"])
    ):
        built = _periods(sub, invoices_of.get(sub["id"], []), objects, mapping, user_of, skipped)
        if built:
            periods_of[sub["id"]] = built
            periods += built
    keys = [f"{period.source}@{period.start}" for period in periods]
    for period, number in zip(periods, ids.periods.assign(keys), strict=True):
        period.id = number
    invoices = []
    for sub_id, sub_invoices in invoices_of.items():
        for invoice in sub_invoices:
            if sub_id not in periods_of:
                if invoice["id"] in ids.invoices.known and sub_id not in objects.subscriptions:
                    continue  # --append: an ended subscription's invoice, kept as imported
                skipped.append(_skip(invoice, "its subscription is not imported", sub_id))
                continue
            row = _invoice_row(
                invoice, objects.subscriptions[sub_id], periods_of[sub_id], objects, mapping
            )
            if isinstance(row, str):
                skipped.append(_skip(invoice, row))
            else:
                invoices.append(row)
    numbers = ids.invoices.assign([row[SOURCE_ID] for row in invoices])
    for row, number in zip(invoices, numbers, strict=True):
        row["invoice_id"] = number
    tables = {
        "raw_users": _table("raw_users", users),
        "raw_subscriptions": _table("raw_subscriptions", [_period_row(p) for p in periods]),
        "raw_invoices": _table("raw_invoices", invoices),
    }
    return Converted(tables, skipped)


def _skip(item: dict, reason: str, detail: str | None = None) -> dict:
    """What was left out and why; the reason is shared by every object left out for it (the
    import counts objects per reason), the detail is this object's own."""
    skipped = {"object": item.get("object", "?"), "id": item.get("id", "?"), "reason": reason}
    return skipped | ({"detail": detail} if detail else {})


def _users(objects: StripeObjects, mapping: Mapping, ids: Ids, skipped: list[dict]):
    """raw_users rows, and customer id -> user_id of every usable customer."""
    rows, user_of, first_of = [], {}, {}
    customers = sorted(objects.customers.values(), key=lambda c: (c.get("created") or 0, c["id"]))
    for customer in customers:
        if customer.get("deleted"):
            skipped.append(_skip(customer, "deleted in Stripe"))
    customers = [customer for customer in customers if not customer.get("deleted")]
    numbered = {}
    if mapping.number_users:  # one call: ids in creation order
        keys = [customer["id"] for customer in customers]
        numbered = dict(zip(keys, ids.users.assign(keys), strict=True))
    for customer in customers:
        if mapping.number_users:
            user_id = numbered[customer["id"]]
        else:
            source = mapping.customers["user_id"]
            value = source.read(customer)
            try:
                user_id = int(str(value)) if value is not None else None
            except ValueError:  # a text id (uuid) the product database import numbered
                user_id = ids.product_users.known.get(str(value))
            if user_id is None:
                skipped.append(
                    _skip(
                        customer,
                        f"no whole-number {source.path or 'user_id'}, nor one of the product "
                        "database's text user ids (the mapping's customers.user_id; "
                        "`user_id: stripe` numbers customers instead)",
                    )
                )
                continue
        user_of[customer["id"]] = user_id
        if user_id in first_of:
            skipped.append(
                _skip(
                    customer,
                    "the same user_id as an earlier customer: its subscriptions count for that "
                    "user, whose details come from the first customer",
                    f"user_id {user_id}, first customer {first_of[user_id]}",
                )
            )
            continue
        first_of[user_id] = customer["id"]
        row = {column: source.read(customer) for column, source in mapping.customers.items()}
        row["user_id"] = user_id
        row["signed_up_at"] = _instant(row["signed_up_at"])
        if isinstance(row["country"], str):
            row["country"] = row["country"].upper()
        row[SOURCE_ID] = customer["id"]
        rows.append(row)
    return rows, user_of


def _instant(value: object) -> datetime | None:
    """Unix seconds (Stripe's times) or ISO text as a UTC time without zone."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(int(value), UTC).replace(tzinfo=None)
    text = str(value).strip()
    if text.isdigit():
        return _instant(int(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return value  # the writer names the row and column that does not convert
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _ref(value: object) -> str | None:
    """The id of an expandable field (an id or the expanded object)."""
    return value.get("id") if isinstance(value, dict) else value


def _invoice_subscription(invoice: dict) -> str | None:
    """The subscription an invoice bills: `parent` (API 2025-03-31 and later) or the older
    top-level `subscription`."""
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _ref(parent.get("subscription")) or _ref(invoice.get("subscription"))


def _invoices_by_subscription(objects: StripeObjects, skipped: list[dict]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = defaultdict(list)
    for invoice in sorted(
        objects.invoices.values(), key=lambda i: (i.get("created") or 0, i["id"])
    ):
        sub_id = _invoice_subscription(invoice)
        if sub_id is None:
            skipped.append(_skip(invoice, "not a subscription invoice (one-off)"))
        elif invoice.get("status") == "draft":
            skipped.append(_skip(invoice, "draft: not issued yet"))
        elif invoice.get("status") == "void":
            skipped.append(_skip(invoice, "void: nothing is owed"))
        else:
            found[sub_id].append(invoice)
    return found


def _line_price(line: dict, objects: StripeObjects) -> dict | None:
    """The price object of an invoice line (pricing.price_details in newer API versions,
    line.price in older ones)."""
    details = (line.get("pricing") or {}).get("price_details") or {}
    price = details.get("price") or line.get("price") or line.get("plan")
    if isinstance(price, dict):
        objects.prices.setdefault(price["id"], price)
        return objects.prices[price["id"]]
    return objects.prices.get(price) if price else None


def _is_subscription_line(line: dict) -> bool:
    parent = line.get("parent") or {}
    return parent.get("type") == "subscription_item_details" or line.get("type") == "subscription"


def _is_proration(line: dict) -> bool:
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or parent.get("invoice_item_details") or {}
    return bool(line.get("proration") or details.get("proration"))


def _paid_lines(
    invoice: dict, sub: dict, objects: StripeObjects, mapping: Mapping
) -> tuple[list[Line], tuple[str, str] | None]:
    """(lines, problem) of an invoice: its subscription lines of mapped plan prices outside
    the trial, as paid periods (and, for a proration charging a new price, the change to it);
    problem (reason, detail) names an interval the contract does not have."""
    found, trial_end = [], sub.get("trial_end") or 0
    for line in (invoice.get("lines") or {}).get("data") or []:
        proration = _is_proration(line)
        if not _is_subscription_line(line) or (proration and (line.get("amount") or 0) <= 0):
            continue  # one-off items; credits for unused time on the old price
        price = _line_price(line, objects)
        if price is None:
            raise SourceError(
                f"stripe: line {line.get('id')} of invoice {invoice['id']} names a price that is "
                "not among the prices read (list /v1/prices, or save them in the JSON folder)"
            )
        rule = mapping.rule(price, f"invoice {invoice['id']}")
        if rule.plan is None:
            continue
        recurring = price.get("recurring") or {}
        interval = (recurring.get("interval"), recurring.get("interval_count") or 1)
        cycle = INTERVALS.get(interval)
        if cycle is None:
            return [], (
                "bills at an interval the contract does not have (monthly and annual only)",
                f"every {interval[1]} {interval[0]}, price {price['id']}",
            )
        if rule.billing_cycle and rule.billing_cycle != cycle:
            raise SourceError(
                f"stripe: mapping {mapping.path}: prices.{rule.key}.billing_cycle: "
                f"{rule.billing_cycle}, but price {price['id']} bills {cycle}"
            )
        period = line.get("period") or {}
        start, end = period.get("start"), period.get("end")
        if start is None or end is None or start < trial_end:
            continue  # a trial period (or a line without a period) is not a paid period
        amount = line.get("amount") or 0
        discount = sum(d.get("amount") or 0 for d in line.get("discount_amounts") or [])
        currency = line.get("currency") or invoice.get("currency")
        what = f"invoice {invoice['id']}"
        if proration:
            # The price per period, not the prorated amount: the unit price times the
            # quantity, less the share the line's discounts take (None: from a later line).
            unit = price.get("unit_amount")
            full = None
            if unit is not None:
                share = Decimal(amount - discount) / Decimal(amount)
                minor = (Decimal(unit) * (line.get("quantity") or 1) * share).to_integral_value(
                    rounding=ROUND_HALF_UP
                )
                full = mapping.usd(int(minor), currency, what)
            found.append(Line(start, end, rule.plan, cycle, full, invoice["id"], price["id"], True))
        else:
            usd = mapping.usd(amount - discount, currency, what)
            found.append(Line(start, end, rule.plan, cycle, usd, invoice["id"], price["id"]))
    return found, None


def _timeline(lines: list[Line], ended_at: int | None) -> list[Line] | None:
    """The subscription's billed periods in order, with the plan changes prorations show
    (Stripe's default: a change mid-period is charged as a proration on a later invoice, and the
    new price's own line starts only at the next renewal); None when two plan prices are billed
    for the same period."""
    regular = {(line.start, line.key): line for line in lines if not line.proration}
    starts = {line.start for line in regular.values()}
    changes = {}
    for point in sorted((line for line in lines if line.proration), key=lambda line: line.start):
        if point.start in starts:
            continue
        later = min(
            (
                line
                for line in regular.values()
                if line.price_id == point.price_id and line.start >= point.start
            ),
            key=lambda line: line.start,
            default=None,
        )
        price_usd = later.price_usd if later is not None else point.price_usd
        if price_usd is not None:
            change = replace(point, price_usd=price_usd)
            changes[(change.start, change.key)] = change
    ordered = sorted(
        (
            line
            for line in [*regular.values(), *changes.values()]
            if ended_at is None or line.start < ended_at
        ),
        key=lambda line: line.start,
    )
    if len({line.start for line in ordered}) < len(ordered):
        return None
    return ordered


def _ended_at(sub: dict) -> int | None:
    if sub.get("ended_at"):
        return sub["ended_at"]
    if sub.get("status") in ENDED:
        return sub.get("canceled_at") or sub.get("cancel_at")
    return None


def _end_reason(sub: dict) -> str:
    reason = (sub.get("cancellation_details") or {}).get("reason")
    return "payment_failed" if reason == "payment_failed" else "canceled"


def _change_reason(before: Period, after: Line, mapping: Mapping) -> str:
    """upgraded or downgraded: by plan_rank, then by the monthly price; an equal one by cycle
    (a move to annual billing counts as an upgrade)."""

    def monthly(price: Decimal, cycle: str) -> Decimal:
        return price / 12 if cycle == "annual" else price

    old = (
        mapping.plan_rank[before.plan],
        monthly(before.price_usd, before.cycle),
        before.cycle == "annual",
    )
    new = (
        mapping.plan_rank[after.plan],
        monthly(after.price_usd, after.cycle),
        after.cycle == "annual",
    )
    return "upgraded" if new > old else "downgraded"


def _periods(
    sub: dict,
    invoices: list[dict],
    objects: StripeObjects,
    mapping: Mapping,
    user_of: dict[str, int],
    skipped: list[dict],
) -> list[Period]:
    """The raw_subscriptions rows of one Stripe subscription (empty when it is skipped)."""
    customer = _ref(sub.get("customer"))
    status = sub.get("status")
    ended_at = _ended_at(sub)
    if customer not in user_of:
        skipped.append(_skip(sub, "its customer is not imported", customer))
        return []
    if status in ("incomplete", "incomplete_expired"):
        skipped.append(_skip(sub, f"{status}: its first payment never succeeded"))
        return []
    lines: list[Line] = []
    for invoice in invoices:
        paid, problem = _paid_lines(invoice, sub, objects, mapping)
        if problem:
            skipped.append(_skip(sub, *problem))
            return []
        lines += paid
    ordered = _timeline(lines, ended_at)
    if ordered is None:
        skipped.append(
            _skip(
                sub,
                "bills two plan prices for the same period: the contract has one plan "
                "per subscription period",
            )
        )
        return []
    if not ordered:
        in_trial = (sub.get("trial_end") or 0) > (ended_at or 0) or status == "trialing"
        reason = (
            ("ended during its trial, never paid" if ended_at else "still in its trial")
            if sub.get("trial_end") and in_trial
            else "no paid billing period (no invoice line of a mapped plan price)"
        )
        skipped.append(_skip(sub, reason))
        return []
    built: list[Period] = []
    for line in ordered:
        if (
            built
            and built[-1].plan == line.plan
            and built[-1].cycle == line.cycle
            and (built[-1].price_usd == line.price_usd)
        ):
            continue
        if built:
            built[-1].end = line.start
            built[-1].reason = _change_reason(built[-1], line, mapping)
        built.append(
            Period(
                id=0,  # given by convert, for all periods at once
                user_id=user_of[customer],
                source=sub["id"],
                plan=line.plan,
                cycle=line.cycle,
                price_usd=line.price_usd,
                start=line.start,
            )
        )
    if ended_at is not None:
        built[-1].end, built[-1].reason = ended_at, _end_reason(sub)
    return built


def _invoice_row(
    invoice: dict,
    sub: dict,
    periods: list[Period],
    objects: StripeObjects,
    mapping: Mapping,
) -> dict | str:
    """The raw_invoices row of an invoice, or why it is skipped."""
    paid = [line for line in _paid_lines(invoice, sub, objects, mapping)[0] if not line.proration]
    transitions = invoice.get("status_transitions") or {}
    issued = transitions.get("finalized_at") or invoice.get("created")
    if paid:
        main = max(paid, key=lambda line: line.start)
        at, period_start, period_end = main.start, main.start, main.end
    else:
        lines = [
            line
            for line in (invoice.get("lines") or {}).get("data") or []
            if _is_subscription_line(line) and _is_proration(line) and line.get("period")
        ]
        if not lines:
            return "bills no paid period of a plan (a trial, or only prices mapped to skip)"
        at = issued
        period_start = min(line["period"]["start"] for line in lines)
        period_end = max(line["period"]["end"] for line in lines)
    period = next((p for p in periods if p.start <= at and (p.end is None or at < p.end)), None)
    if period is None:
        return "bills a period outside the subscription's paid periods"
    total = invoice.get("total_excluding_tax")
    total = invoice.get("total") if total is None else total
    amount = mapping.usd(total or 0, invoice.get("currency"), f"invoice {invoice['id']}")
    if amount < 0:
        return f"a credit ({amount} USD): the contract has no negative invoices"
    attempts = int(invoice.get("attempt_count") or 0)
    state = invoice.get("status")
    paid_at = None
    if state == "paid":
        status = "refunded" if _refunded(invoice) else "paid"
        paid_at = transitions.get("paid_at") or issued
        attempts = max(attempts, 1)  # a $0 or out-of-band invoice is paid without a charge
    elif state == "uncollectible":
        status = "failed"
    elif state == "open":
        if attempts == 0:
            return (
                "open and not charged yet: the contract's open is a declined charge being retried"
            )
        status = "open" if invoice.get("next_payment_attempt") else "failed"
    else:
        return "a status Stripe does not document for a finalized invoice"
    return {
        "invoice_id": None,  # given by convert, for all invoices at once
        "subscription_id": period.id,
        "user_id": period.user_id,
        "issued_at": _instant(issued),
        "period_start": _instant(period_start),
        "period_end": _instant(period_end),
        "amount_usd": amount,
        "status": status,
        "attempt_count": attempts,
        "paid_at": _instant(paid_at),
        SOURCE_ID: invoice["id"],
    }


def _refunded(invoice: dict) -> bool:
    """Paid and then returned in full: credit notes after payment cover what was paid, or the
    (expanded) charge is refunded. A partial refund leaves the invoice paid."""
    paid = invoice.get("amount_paid") or 0
    credited = invoice.get("post_payment_credit_notes_amount") or 0
    charge = invoice.get("charge")
    return (paid > 0 and credited >= paid) or (
        isinstance(charge, dict) and bool(charge.get("refunded"))
    )


def _period_row(period: Period) -> dict:
    return {
        "subscription_id": period.id,
        "user_id": period.user_id,
        "plan": period.plan,
        "billing_cycle": period.cycle,
        "price_usd": period.price_usd,
        "started_at": _instant(period.start),
        "ended_at": _instant(period.end),
        "end_reason": period.reason,
        SOURCE_ID: period.source,
    }


def _table(name: str, rows: list[dict]) -> pa.Table:
    """Rows as a table in the contract's types (text where a value may not convert, so the
    writer names the row), with the source's ids."""
    schema = ARROW_SCHEMAS[name]
    columns = {}
    for column in schema:
        values = [row[column.name] for row in rows]
        try:
            columns[column.name] = pa.array(values, column.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            columns[column.name] = pa.array(
                [None if v is None else str(v) for v in values], pa.string()
            )
    columns[SOURCE_ID] = pa.array([row[SOURCE_ID] for row in rows], pa.string())
    return pa.table(columns)


# ------------------------------------------------------------------------------ the import


@dataclass
class StripeImport:
    """What an import wrote (the manifest) and what it left out."""

    manifest: dict
    skipped: list[dict]


def next_window(state: dict | None) -> Window:
    """What an --append reads after an import that saved `state`: customers created since,
    and every subscription and invoice created since the oldest subscription that could still
    change (not ended, or with an invoice still open) — or since the newest one read."""
    if not state:
        return Window()
    newest = max(state.get("subscriptions_created") or 0, state.get("invoices_created") or 0)
    reread = state.get("reread_from")
    return Window(
        customers_after=state.get("customers_created"),
        reread_from=reread if reread is not None else newest + 1,
    )


def window_of(objects: StripeObjects, window: Window) -> StripeObjects:
    """The objects an API read with `window` would have returned (for a JSON folder)."""
    if window == Window():
        return objects
    subscriptions = {
        key: sub
        for key, sub in objects.subscriptions.items()
        if (sub.get("created") or 0) >= window.reread_from
    }
    customers = {
        key: c
        for key, c in objects.customers.items()
        if (c.get("created") or 0) >= (window.customers_after or -1)
    }
    for sub in subscriptions.values():
        customer = _ref(sub.get("customer"))
        if customer in objects.customers:
            customers[customer] = objects.customers[customer]
    invoices = {
        key: inv
        for key, inv in objects.invoices.items()
        if (inv.get("created") or 0) >= window.reread_from
    }
    return StripeObjects(
        customers, dict(objects.prices), subscriptions, invoices, list(objects.ignored)
    )


def as_of(objects: StripeObjects, until: date) -> tuple[StripeObjects, list[dict]]:
    """The objects as they were at the end of the day `until` (UTC), and those created later
    (skipped): a subscription that ended later was still running. Invoice statuses stay as
    Stripe shows them now (Stripe keeps no history of them)."""
    cutoff = int(datetime(until.year, until.month, until.day, tzinfo=UTC).timestamp()) + 86_400
    later: list[dict] = []

    def kept(items: dict[str, dict]) -> dict[str, dict]:
        found = {}
        for key, item in items.items():
            if (item.get("created") or 0) >= cutoff:
                later.append(_skip(item, f"created after --until {until}"))
            else:
                found[key] = item
        return found

    subscriptions = kept(objects.subscriptions)
    for key, sub in subscriptions.items():
        if (_ended_at(sub) or 0) >= cutoff:
            subscriptions[key] = {
                **sub,
                "status": "active",
                "ended_at": None,
                "canceled_at": None,
                "cancel_at": None,
                "cancellation_details": None,
            }
    found = StripeObjects(
        kept(objects.customers),
        dict(objects.prices),
        subscriptions,
        kept(objects.invoices),
        list(objects.ignored),
    )
    return found, later


def state_after(objects: StripeObjects, previous: dict | None) -> dict:
    """The cursors saved for the next --append (see next_window)."""
    previous = previous or {}

    def newest(items: dict[str, dict], key: str) -> int | None:
        created = [item.get("created") or 0 for item in items.values()]
        return max([*created, *([previous[key]] if previous.get(key) else [])], default=None)

    open_subs = {
        _invoice_subscription(i)
        for i in objects.invoices.values()
        if i.get("status") in ("open", "draft")
    }
    live = [
        sub.get("created") or 0
        for sub in objects.subscriptions.values()
        if sub.get("status") not in ENDED or sub["id"] in open_subs
    ]
    return {
        "customers_created": newest(objects.customers, "customers_created"),
        "subscriptions_created": newest(objects.subscriptions, "subscriptions_created"),
        "invoices_created": newest(objects.invoices, "invoices_created"),
        "reread_from": min(live, default=None),
    }


def import_stripe(
    out: Path,
    *,
    mapping: Path,
    api_key: str | None = None,
    json_dir: Path | None = None,
    append: bool = False,
    api_base: str | None = None,
    until: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> StripeImport:
    """Import Stripe billing into the raw folder `out` (from the API with api_key, or from the
    JSON pages in json_dir); with append, only what is new or can have changed since the
    folder's last Stripe import. With `until` (the last complete day, the manifest's data_end)
    the rows are as of the end of that day (see as_of)."""
    if (api_key is None) == (json_dir is None):
        raise SourceError(
            "stripe: read from the API (STRIPE_API_KEY) or from --json-dir: one of them"
        )
    out = Path(out)
    rules = load_mapping(mapping)
    if append:  # before reading a whole account
        _check_users_source(out, rules)
    step = progress or (lambda _message: None)
    previous = read_import_state(out, SOURCE) if append else None
    window = next_window(previous) if append else Window()
    if json_dir is not None:
        step(f"stripe: reading {json_dir}")
        objects = window_of(read_json_dir(Path(json_dir)), window)
    else:
        objects = StripeReader(api_key, api_base=api_base, progress=step).read(window)
    later: list[dict] = []
    if until is not None:
        objects, later = as_of(objects, until)
    ids = Ids.load(out) if append else Ids.fresh()
    step("stripe: converting")
    converted = convert(objects, rules, ids)
    converted.skipped += later
    if not rules.write_users:
        del converted.tables["raw_users"]  # the folder's users (product import) are kept
    state = state_after(objects, previous)
    removed = _no_longer_there(objects, converted, ids) if append else {}
    manifest = write_import(
        out,
        SOURCE,
        converted.tables,
        append=append,
        state=state,
        skipped=converted.skipped,
        data_end=until,
        id_maps=[ids.users, ids.periods, ids.invoices],
        removed=removed,
    )
    return StripeImport(manifest, converted.skipped)


def _check_users_source(out: Path, rules: Mapping) -> None:
    """Refuse an --append that would overwrite or collide with users another source wrote:
    Stripe's own rows would replace the product database's, and numbered customers would take
    the product users' ids."""
    manifest = read_import_manifest(out)
    if manifest is None:
        raise SourceError(
            f"--append needs an import folder at {out}: run the import once without --append"
        )
    others = sorted(
        source
        for source, facts in manifest.get("sources", {}).items()
        if source != SOURCE and "raw_users" in (facts.get("tables") or [])
    )
    if not others:
        return
    if rules.number_users:
        raise SourceError(
            f"stripe: mapping {rules.path}: customers.user_id: stripe numbers customers, but the "
            f"users of {out} come from {', '.join(others)}: map the customer field that holds "
            "their product user id instead (e.g. metadata.user_id)"
        )
    if rules.write_users:
        raise SourceError(
            f"stripe: mapping {rules.path}: the users of {out} come from {', '.join(others)}: "
            "set `raw_users: false` so Stripe adds subscriptions and invoices to them instead of "
            "replacing them"
        )


def _no_longer_there(objects: StripeObjects, converted: Converted, ids: Ids) -> dict[str, set]:
    """Rows an earlier import wrote for objects read again that now give no row: an invoice
    voided (or otherwise skipped) since, a subscription period its invoice lines no longer
    show. Their ids are dropped from the folder, so an --append ends as a full import would."""
    kept_invoices = set(converted.tables["raw_invoices"]["invoice_id"].to_pylist())
    gone_invoices = {
        ids.invoices.known[invoice_id]
        for invoice_id, invoice in objects.invoices.items()
        if invoice_id in ids.invoices.known
        and ids.invoices.known[invoice_id] not in kept_invoices
        # the invoices of a subscription not read again (ended) keep their rows
        and _invoice_subscription(invoice) in objects.subscriptions
    }
    kept_periods = set(converted.tables["raw_subscriptions"]["subscription_id"].to_pylist())
    gone_periods = {
        number
        for key, number in ids.periods.known.items()
        if key.rsplit("@", 1)[0] in objects.subscriptions and number not in kept_periods
    }
    return {"raw_invoices": gone_invoices, "raw_subscriptions": gone_periods}
