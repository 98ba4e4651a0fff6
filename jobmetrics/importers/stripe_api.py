"""Reading Stripe objects: from the API with the official `stripe` package, or from a folder of
the JSON list pages the API returns. Both give the same plain dicts (StripeObjects); what they
mean for the raw contract is stripe_billing.py's job.

The API is read with StripeClient.raw_request (the JSON as plain dicts: building
stripe-python's typed objects took 1.2 ms per invoice): list endpoints page by page (limit
100, starting_after), filtered by creation time (created[gte]) for incremental imports,
subscriptions with status=all (the default leaves canceled ones out) and their customer
expanded, invoice lines beyond the first page fetched from /v1/invoices/{id}/lines, prices the
lines name but the price list leaves out by id. stripe-python retries connection errors, 409
and 5xx itself (max_network_retries) but not 429: rate-limited requests are retried here,
after the Retry-After the API sends or an exponential backoff. Every other API error becomes
one SourceError line; the API key is never part of a message.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import stripe

from jobmetrics.importers.errors import SourceError

PAGE_SIZE = 100
NETWORK_RETRIES = 2
"""stripe-python's own retries of connection errors, 409 and 5xx (with its backoff)."""
RATE_LIMIT_RETRIES = 6
RATE_LIMIT_MAX_WAIT_S = 60.0
KINDS = ("customer", "price", "subscription", "invoice")
"""The Stripe objects an import reads, by their `object` field."""
_KEY = re.compile(r"\b(sk|rk|pk)_(test|live)_[A-Za-z0-9*]+")


@dataclass
class StripeObjects:
    """Stripe objects by kind, each a dict as the API returns it, keyed by id."""

    customers: dict[str, dict] = field(default_factory=dict)
    prices: dict[str, dict] = field(default_factory=dict)
    subscriptions: dict[str, dict] = field(default_factory=dict)
    invoices: dict[str, dict] = field(default_factory=dict)
    ignored: list[dict] = field(default_factory=list)
    """Objects of other kinds found in a JSON folder: {"object", "id", "reason"}."""

    def add(self, item: dict) -> None:
        kind = item.get("object")
        if kind in KINDS:
            getattr(self, f"{kind}s")[item["id"]] = item
        elif kind == "line_item":
            return  # lines are attached to their invoice by read_json_dir
        else:
            self.ignored.append(
                {"object": str(kind), "id": str(item.get("id")), "reason": "not a kind imported"}
            )


@dataclass(frozen=True)
class Window:
    """Which objects to read: customers created after `customers_after`, subscriptions and
    invoices created at or after `reread_from` (both Unix seconds; None reads everything)."""

    customers_after: int | None = None
    reread_from: int | None = None


def redact(text: str, api_key: str | None = None) -> str:
    """The text without the API key or anything shaped like a Stripe key."""
    if api_key:
        text = text.replace(api_key, "***")
    return _KEY.sub(lambda m: f"{m[1]}_{m[2]}_***", text)


class StripeReader:
    """Reads the objects an import needs through StripeClient (see the module docstring)."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        progress: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise SourceError("stripe: no API key: set STRIPE_API_KEY (or use --json-dir)")
        self._api_key = api_key
        self._api_base = api_base or stripe.DEFAULT_API_BASE
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": self._api_base},
            max_network_retries=NETWORK_RETRIES,
        )
        self._progress = progress or (lambda _message: None)
        self._sleep = sleep

    def read(self, window: Window = Window()) -> StripeObjects:
        """Customers, prices, subscriptions (with their customer) and invoices (every line)."""
        found = StripeObjects()
        for item in self._pages("/v1/prices", {}):
            found.add(item)
        # at or after the cursor: a customer created in the cursor's second after the last
        # import is read too; one read twice replaces itself (rows merge by key)
        for item in self._pages("/v1/customers", _created(window.customers_after)):
            found.add(item)
        params = {"status": "all", "expand": ["data.customer"], **_created(window.reread_from)}
        for item in self._pages("/v1/subscriptions", params):
            found.add(item)
            if isinstance(item.get("customer"), dict):
                found.customers.setdefault(item["customer"]["id"], item["customer"])
            for entry in (item.get("items") or {}).get("data") or []:
                price = entry.get("price")
                if isinstance(price, dict):
                    found.prices.setdefault(price["id"], price)
        for item in self._pages("/v1/invoices", _created(window.reread_from)):
            lines = item.get("lines") or {}
            if lines.get("has_more"):
                lines["data"] = list(self._pages(f"/v1/invoices/{item['id']}/lines", {}))
                lines["has_more"] = False
            found.add(item)
        for price_id in sorted(_line_prices(found.invoices.values()) - set(found.prices)):
            found.add(self._get(f"/v1/prices/{price_id}", {}))
        return found

    def _pages(self, path: str, params: dict) -> Iterator[dict]:
        """Every object of a list endpoint, page by page (starting_after the last id)."""
        after, count, number = None, 0, 0
        while True:
            query = {**params, "limit": PAGE_SIZE, **({"starting_after": after} if after else {})}
            page = self._get(path, query)
            number += 1
            count += len(page["data"])
            if not path.endswith("/lines"):
                self._progress(f"stripe: {path} page {number} ({count:,} so far)")
            yield from page["data"]
            if not page.get("has_more") or not page["data"]:
                return
            after = page["data"][-1]["id"]

    def _get(self, path: str, params: dict) -> dict:
        """The JSON answer to GET path (plain dicts: no typed objects are built); 429 retried;
        other errors as one SourceError line."""
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                return self._client.raw_request("get", path, **params).data
            except stripe.RateLimitError as error:
                if attempt == RATE_LIMIT_RETRIES:
                    raise SourceError(
                        f"stripe: still rate limited (429) on GET {path} after "
                        f"{RATE_LIMIT_RETRIES + 1} attempts; try again later"
                    ) from None
                wait = _retry_after(error.headers, attempt)
                self._progress(f"stripe: rate limited on GET {path}, waiting {wait:.1f} s")
                self._sleep(wait)
            except stripe.StripeError as error:
                raise SourceError(self._message(f"GET {path}", error)) from None
        raise AssertionError("unreachable")

    def _message(self, what: str, error: stripe.StripeError) -> str:
        status = error.http_status
        text = redact(
            str(getattr(error, "user_message", None) or error._message or ""), self._api_key
        )
        text = " ".join(text.split())  # stripe-python's connection messages span lines
        if isinstance(error, stripe.AuthenticationError):
            return f"stripe: the API refused the key (401) on {what}: {text} (check STRIPE_API_KEY)"
        if isinstance(error, stripe.PermissionError):
            return f"stripe: the key may not read this (403) on {what}: {text}"
        if isinstance(error, stripe.APIConnectionError):
            return f"stripe: cannot reach {self._api_base} on {what}: {text}"
        after = f" after {NETWORK_RETRIES + 1} attempts" if status and status >= 500 else ""
        return f"stripe: the API answered {status or 'an error'} on {what}{after}: {text}"


def _line_prices(invoices) -> set[str]:
    """Ids of the prices invoice lines name without embedding them (newer API versions)."""
    found = set()
    for invoice in invoices:
        for line in (invoice.get("lines") or {}).get("data") or []:
            details = (line.get("pricing") or {}).get("price_details") or {}
            if isinstance(details.get("price"), str):
                found.add(details["price"])
    return found


def _created(after: int | None) -> dict:
    """The created filter: at or after `after`."""
    if after is None:
        return {}
    return {"created": {"gte": int(after)}}


def _retry_after(headers: dict | None, attempt: int) -> float:
    """Seconds to wait before retrying a 429: the Retry-After header, else 1, 2, 4, ... s."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return min(max(float(value), 0.0), RATE_LIMIT_MAX_WAIT_S)
            except ValueError:
                break
    return min(2.0**attempt, RATE_LIMIT_MAX_WAIT_S)


def read_json_dir(folder: Path) -> StripeObjects:
    """The objects of every *.json file under `folder`: list pages ({"object": "list",
    "data": [...]}) or single objects, as saved from the API. Invoice lines beyond an invoice's
    first page may be saved as pages of /v1/invoices/{id}/lines (line_item objects)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"stripe: --json-dir {folder} is not a folder")
    files = sorted(folder.rglob("*.json"))
    if not files:
        raise SourceError(f"stripe: --json-dir {folder} holds no .json files")
    found = StripeObjects()
    extra_lines: dict[str, dict[str, dict]] = {}
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SourceError(f"stripe: {path} is not valid JSON ({error})") from None
        if isinstance(document, dict) and document.get("object") == "list":
            items = document.get("data")
        elif isinstance(document, dict) and "object" in document:
            items = [document]
        else:
            items = None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise SourceError(
                f"stripe: {path} is neither a Stripe list page "
                '({"object": "list", "data": [...]}) nor a Stripe object'
            )
        for item in items:
            if "id" not in item:
                raise SourceError(f"stripe: {path} holds a {item.get('object')} without an id")
            if item.get("object") == "line_item" and item.get("invoice"):
                extra_lines.setdefault(item["invoice"], {})[item["id"]] = item
            found.add(item)
    for invoice in found.invoices.values():
        _complete_lines(invoice, extra_lines.get(invoice["id"], {}), folder)
    for subscription in found.subscriptions.values():
        for entry in (subscription.get("items") or {}).get("data") or []:
            if isinstance(entry.get("price"), dict):
                found.prices.setdefault(entry["price"]["id"], entry["price"])
        if isinstance(subscription.get("customer"), dict):
            customer = subscription["customer"]
            found.customers.setdefault(customer["id"], customer)
    return found


def _complete_lines(invoice: dict, extra: dict[str, dict], folder: Path) -> None:
    """Add an invoice's separately saved lines; SourceError when some are still missing."""
    lines = invoice.setdefault("lines", {"object": "list", "data": [], "has_more": False})
    known = {line["id"]: line for line in lines.get("data") or []}
    known.update(extra)
    lines["data"] = list(known.values())
    total = lines.get("total_count")
    if lines.get("has_more") and not extra or (total is not None and len(known) < total):
        raise SourceError(
            f"stripe: invoice {invoice['id']} in {folder} has more lines than saved "
            f"({len(known)} of {total if total is not None else 'more'}): save the pages of "
            f"GET /v1/invoices/{invoice['id']}/lines in the folder too"
        )
    lines["has_more"] = False
