"""A local HTTP server answering like Stripe's API for the objects a test gives it.

List endpoints (/v1/customers, /v1/prices, /v1/subscriptions, /v1/invoices and
/v1/invoices/{id}/lines) page newest first with limit (default 10, at most 100), starting_after
and has_more; they filter on created[gt|gte|lt|lte]; /v1/subscriptions leaves canceled ones out
unless status=all (as Stripe does) and expands data.customer; an invoice in a list carries its
first `line_page` lines, the rest through its lines endpoint. A wrong key gets Stripe's 401 body;
`faults` queues answers (e.g. 429 with Retry-After) for the next requests; `requests` logs every
request (path, query).

    with FakeStripe(objects) as fake:
        client = StripeReader(fake.api_key, api_base=fake.url)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API_KEY = "sk_test_fake_0123456789abcdef"
LISTS = {"customers", "prices", "subscriptions", "invoices"}
NOT_LISTED_BY_DEFAULT = {"canceled", "incomplete_expired"}


def error_body(kind: str, message: str, code: str | None = None) -> dict:
    return {"error": {"type": kind, "message": message, **({"code": code} if code else {})}}


def rate_limited(times: int = 1, retry_after: str = "0") -> list[tuple[int, dict, dict]]:
    """`times` answers 429 as Stripe sends them."""
    body = error_body(
        "invalid_request_error",
        "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
        "rate_limit",
    )
    return [(429, {"Retry-After": retry_after}, body)] * times


def server_error(times: int = 1) -> list[tuple[int, dict, dict]]:
    return [(500, {}, error_body("api_error", "An unknown error occurred"))] * times


class FakeStripe:
    """The server; objects is {"customers": [...], "prices": [...], "subscriptions": [...],
    "invoices": [...]} in the API's shapes (stripe_shapes.stripe_objects)."""

    def __init__(
        self, objects: dict[str, list[dict]], *, api_key: str = API_KEY, line_page: int = 10
    ) -> None:
        self.objects = {kind: list(objects.get(kind, [])) for kind in LISTS}
        self.api_key = api_key
        self.line_page = line_page
        self.faults: list[tuple[int, dict, dict]] = []
        self.requests: list[tuple[str, dict]] = []
        self.unlisted: set[str] = set()
        """Ids left out of list answers but retrievable by id (e.g. an archived price)."""
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeStripe:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def put(self, kind: str, items: Iterable[dict]) -> None:
        """Add objects, or replace those with the same id (a change in the account)."""
        with self._lock:
            known = {item["id"]: item for item in self.objects[kind]}
            for item in items:
                known[item["id"]] = item
            self.objects[kind] = list(known.values())

    def count(self, path: str) -> int:
        """Requests made to `path`."""
        return sum(1 for seen, _ in self.requests if seen == path)

    # ----------------------------------------------------------------- answering requests

    def answer(self, path: str, query: dict, authorization: str | None) -> tuple[int, dict, dict]:
        with self._lock:
            self.requests.append((path, query))
            if self.faults:
                return self.faults.pop(0)
            if authorization != f"Bearer {self.api_key}":
                given = (authorization or "").removeprefix("Bearer ")
                return (
                    401,
                    {},
                    error_body(
                        "invalid_request_error",
                        f"Invalid API Key provided: {_masked(given)}",
                    ),
                )
            parts = path.strip("/").split("/")
            if len(parts) == 2 and parts[1] in LISTS:
                return 200, {}, self._list(parts[1], query)
            if len(parts) == 4 and parts[1] == "invoices" and parts[3] == "lines":
                invoice = self._find("invoices", parts[2])
                if invoice is None:
                    return self._missing("invoice", parts[2])
                lines = invoice["lines"]["data"]
                return 200, {}, _page(lines, query, f"/v1/invoices/{parts[2]}/lines", newest=False)
            if len(parts) == 3 and parts[1] in LISTS:
                found = self._find(parts[1], parts[2])
                return (200, {}, found) if found else self._missing(parts[1][:-1], parts[2])
            return (
                404,
                {},
                error_body("invalid_request_error", f"Unrecognized request URL (GET: {path})"),
            )

    def _find(self, kind: str, object_id: str) -> dict | None:
        return next((item for item in self.objects[kind] if item["id"] == object_id), None)

    def _missing(self, kind: str, object_id: str) -> tuple[int, dict, dict]:
        return (
            404,
            {},
            error_body(
                "invalid_request_error", f"No such {kind}: '{object_id}'", "resource_missing"
            ),
        )

    def _list(self, kind: str, query: dict) -> dict:
        items = [
            item
            for item in self.objects[kind]
            if _created_matches(item, query) and item["id"] not in self.unlisted
        ]
        if kind == "subscriptions":
            status = query.get("status")
            if status is None:
                items = [i for i in items if i["status"] not in NOT_LISTED_BY_DEFAULT]
            elif status != "all":
                items = [i for i in items if i["status"] == status]
        page = _page(items, query, f"/v1/{kind}", newest=True)
        expand = {value for key, value in query.items() if key.startswith("expand")}
        page["data"] = [self._shown(kind, item, expand) for item in page["data"]]
        return page

    def _shown(self, kind: str, item: dict, expand: set[str]) -> dict:
        item = json.loads(json.dumps(item))
        if kind == "subscriptions" and "data.customer" in expand:
            item["customer"] = self._find("customers", item["customer"]) or {
                "id": item["customer"],
                "object": "customer",
                "deleted": True,
            }
        if kind == "invoices":
            lines = item["lines"]
            lines["has_more"] = len(lines["data"]) > self.line_page
            lines["total_count"] = len(lines["data"])
            lines["data"] = lines["data"][: self.line_page]
        return item


def _masked(key: str) -> str:
    """A key as Stripe shows it in errors: its start and last four characters."""
    return f"{key[:8]}{'*' * max(len(key) - 12, 0)}{key[-4:]}"


def _created_matches(item: dict, query: dict) -> bool:
    created = item.get("created") or 0
    tests = {
        "gt": created.__gt__,
        "gte": created.__ge__,
        "lt": created.__lt__,
        "lte": created.__le__,
    }
    return all(tests[op](int(query[f"created[{op}]"])) for op in tests if f"created[{op}]" in query)


def _page(items: list[dict], query: dict, url: str, *, newest: bool) -> dict:
    """One page: newest first (by created, then id) for objects, in order for lines."""
    if newest:
        items = sorted(items, key=lambda item: (-(item.get("created") or 0), item["id"]))
    limit = min(max(int(query.get("limit", 10)), 1), 100)
    begin = 0
    if "starting_after" in query:
        ids = [item["id"] for item in items]
        begin = (
            ids.index(query["starting_after"]) + 1 if query["starting_after"] in ids else len(ids)
        )
    chunk = items[begin : begin + limit]
    return {"object": "list", "data": chunk, "has_more": begin + limit < len(items), "url": url}


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            split = urlsplit(self.path)
            query = dict(parse_qsl(split.query))
            status, headers, body = fake.answer(
                split.path, query, self.headers.get("Authorization")
            )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", "req_fake")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    return Handler
