"""`jobmetrics import stripe`: generated rows → Stripe-shaped objects → fake Stripe API (or a
JSON folder) → import gives the generated rows back; plus the API's pagination, 429s and
errors, the mapping's refusals, what is skipped and why, trials, discounts, plan changes,
currencies and --append."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jobmetrics.importers.errors import SourceError
from jobmetrics.importers.raw_folder import read_import_state, read_table
from jobmetrics.importers.stripe_api import StripeObjects
from jobmetrics.importers.stripe_billing import (
    EXAMPLE_MAPPING,
    Ids,
    convert,
    import_stripe,
    load_mapping,
)
from tests.importers.fake_stripe import FakeStripe, rate_limited, server_error
from tests.importers.stripe_shapes import (
    customer,
    invoice,
    mapping_yaml,
    price,
    stripe_objects,
    subscription,
    write_json_dir,
)
from tests.once import produced_once

USERS, DAYS, START = 1_500, 120, "2025-01-01"
DAY = 86_400
T0 = 1_735_689_600  # 2025-01-01 00:00 UTC


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated raw folder (1,500 users × 120 days); read only."""
    from jobmetrics.generator import generate

    def produce(folder: Path) -> None:
        generate(folder / "raw", users=USERS, days=DAYS, start_date=START, seed=11)

    return produced_once(tmp_path_factory, "stripe-raw", produce) / "raw"


@pytest.fixture(scope="module")
def shapes(generated: Path) -> dict[str, list[dict]]:
    return stripe_objects(generated)


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    return mapping_yaml(tmp_path / "mapping.yml")


# ------------------------------------------------------------------ round trip (raw level)

NATURAL = {
    # generated rows of payers; imported rows; compared as multisets on natural keys
    "raw_users": "select user_id, email, full_name, country, segment, acquisition_channel, "
    "device, signed_up_at from {t} where user_id in (select user_id from {s})",
    "raw_subscriptions": "select user_id, plan, billing_cycle, price_usd, started_at, ended_at, "
    "end_reason from {s}",
    "raw_invoices": "select i.user_id, s.started_at as subscription_started_at, s.plan, "
    "i.issued_at, i.period_start, i.period_end, i.amount_usd, i.status, i.attempt_count, "
    "i.paid_at from {i} i join {s} s using (subscription_id)",
}


def differences(expected: Path, actual: Path) -> dict[str, tuple[int, int]]:
    """Per table: (generated rows missing from the import, imported rows not generated)."""
    found = {}
    connection = duckdb.connect()
    try:
        for table, query in NATURAL.items():

            def select(folder: Path, table: str = table, query: str = query) -> str:
                return query.format(
                    t=f"read_parquet('{folder}/{table}.parquet')",
                    s=f"read_parquet('{folder}/raw_subscriptions.parquet')",
                    i=f"read_parquet('{folder}/raw_invoices.parquet')",
                )

            a, b = select(expected), select(actual)
            missing = connection.sql(f"select count(*) from ({a} except all {b})").fetchone()[0]
            extra = connection.sql(f"select count(*) from ({b} except all {a})").fetchone()[0]
            found[table] = (missing, extra)
    finally:
        connection.close()
    return found


def test_api_import_gives_the_generated_rows_back(generated, shapes, mapping, tmp_path):
    out = tmp_path / "out"
    with FakeStripe(shapes) as fake:
        result = import_stripe(out, mapping=mapping, api_key=fake.api_key, api_base=fake.url)
    assert differences(generated, out) == {table: (0, 0) for table in NATURAL}
    assert result.skipped == []
    # every kind of row the contract knows is in the round trip
    subs = read_table(out, "raw_subscriptions").to_pylist()
    invoices = read_table(out, "raw_invoices").to_pylist()
    assert {"upgraded", "downgraded", "canceled", None} <= {s["end_reason"] for s in subs}
    assert {"paid", "refunded", "open", "failed"} <= {i["status"] for i in invoices}
    # list endpoints were read page by page (100 a page, newest first)
    for kind in ("customers", "subscriptions", "invoices"):
        assert fake.count(f"/v1/{kind}") == len(shapes[kind]) // 100 + 1
    listed = [q for p, q in fake.requests if p == "/v1/subscriptions"]
    assert all(q.get("status") == "all" and "data.customer" in q.values() for q in listed)


def test_json_folder_import_gives_the_generated_rows_back(generated, shapes, mapping, tmp_path):
    folder = write_json_dir(shapes, tmp_path / "json", page_size=40)
    assert len(list((folder / "invoices").glob("*.json"))) > 2
    out = tmp_path / "out"
    result = import_stripe(out, mapping=mapping, json_dir=folder)
    assert differences(generated, out) == {table: (0, 0) for table in NATURAL}
    assert result.manifest["sources"]["stripe"]["skipped"] == 0


def test_invoice_lines_beyond_the_first_page_are_fetched(shapes, mapping, tmp_path):
    with FakeStripe(shapes, line_page=0) as fake:
        import_stripe(tmp_path / "out", mapping=mapping, api_key=fake.api_key, api_base=fake.url)
    lines = [p for p, _ in fake.requests if p.endswith("/lines")]
    assert len(lines) == len(shapes["invoices"])
    assert read_table(tmp_path / "out", "raw_invoices").num_rows == len(shapes["invoices"])


# ------------------------------------------------------------------------ API behaviour


def test_rate_limited_requests_are_retried_after_retry_after(shapes, mapping, tmp_path):
    with FakeStripe(shapes) as fake:
        fake.faults = rate_limited(3)
        import_stripe(tmp_path / "out", mapping=mapping, api_key=fake.api_key, api_base=fake.url)
        retried = fake.requests[:4]
    assert [path for path, _ in retried] == ["/v1/prices"] * 4
    assert read_table(tmp_path / "out", "raw_invoices").num_rows == len(shapes["invoices"])


def test_a_refused_key_is_one_line_without_the_key(shapes, mapping, tmp_path):
    key = "sk_test_WRONGwrongWRONG1234"
    with FakeStripe(shapes) as fake, pytest.raises(SourceError) as error:
        import_stripe(tmp_path / "out", mapping=mapping, api_key=key, api_base=fake.url)
    message = str(error.value)
    assert "401" in message and "STRIPE_API_KEY" in message and "\n" not in message
    assert key not in message and "WRONGwrong" not in message
    assert not (tmp_path / "out").exists()


def test_an_unreachable_api_is_one_line(mapping, tmp_path):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceError) as error:
        import_stripe(tmp_path / "out", mapping=mapping, api_key="sk_test_x" * 3,
                      api_base=f"http://127.0.0.1:{port}")  # fmt: skip
    message = str(error.value)
    assert message.startswith(f"stripe: cannot reach http://127.0.0.1:{port}")
    assert "\n" not in message and "sk_test_x" not in message


def test_server_errors_after_the_clients_retries_are_one_line(shapes, mapping, tmp_path):
    with (
        FakeStripe(shapes) as fake,
        pytest.raises(SourceError, match="answered 500 on GET /v1/prices after 3 attempts"),
    ):
        fake.faults = server_error(3)
        import_stripe(tmp_path / "out", mapping=mapping, api_key=fake.api_key, api_base=fake.url)


# ------------------------------------------------------------------------------ mapping


def test_the_example_mapping_loads():
    rules = load_mapping(EXAMPLE_MAPPING)
    assert rules.prices["prod_PROFESSIONAL"].plan == "professional"
    assert rules.prices["price_EXTRA_SEATS"].plan is None
    assert rules.customers["email"].path is None  # personal data stays out unless mapped


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("prices:\n  p1: {plan: enterprise}\n", "prices.p1.plan"),
        ("prices:\n  p1: {plan: basic, billing_cycle: weekly}\n", "prices.p1.billing_cycle"),
        ("prices:\n  p1: basic\ncustomers:\n  segmnt: metadata.s\n", "customers.segmnt"),
        ("prices:\n  p1: basic\ncurrency_rates: {eur: -1}\n", "currency_rates.eur"),
        ("prices:\n  p1: basic\ncustomers:\n  device: {val: x}\n", "customers.device"),
        ("price:\n  p1: basic\n", "price"),
    ],
)
def test_a_bad_mapping_is_one_line_naming_file_and_key(tmp_path, text, key):
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(SourceError) as error:
        load_mapping(path)
    assert str(error.value).startswith(f"stripe: mapping {path}: {key}: ")
    assert "\n" not in str(error.value)


def test_a_price_not_in_the_mapping_is_named(shapes, tmp_path):
    path = tmp_path / "m.yml"
    path.write_text("prices:\n  price_basic_monthly: {plan: basic}\n")
    with pytest.raises(SourceError, match=r"price price_\w+ .* is not in the mapping") as error:
        convert(objects(shapes), load_mapping(path), Ids.fresh())
    assert str(path) in str(error.value)


# ------------------------------------------------------------- conversion, by hand-made objects


def seconds(value: datetime) -> int:
    """A raw timestamp (UTC without zone) as Unix seconds."""
    return int(value.replace(tzinfo=UTC).timestamp())


def objects(parts: dict[str, list[dict]]) -> StripeObjects:
    found = StripeObjects()
    for items in parts.values():
        for item in copy.deepcopy(items):
            found.add(item)
    return found


def a_customer(user_id: int, **changes) -> dict:
    user = {
        "user_id": user_id,
        "signed_up_at": None,
        "email": f"u{user_id}@example.com",
        "full_name": f"User {user_id}",
        "country": "de",
        "segment": "job_seeker",
        "acquisition_channel": "direct",
        "device": "desktop",
    }
    made = customer(user)
    made["created"] = T0
    made.update(changes)
    return made


def a_row(sub_number: int, user_id: int, plan: str, cycle: str = "monthly", **more) -> dict:
    return {
        "subscription_id": sub_number,
        "user_id": user_id,
        "plan": plan,
        "billing_cycle": cycle,
        "started_at": None,
        "ended_at": None,
        "end_reason": None,
        **more,
    }


def an_invoice(
    number: int,
    row: dict,
    sub_id: str,
    start: int,
    list_cents: int,
    paid_cents: int,
    status="paid",
    attempts=1,
    months=1,
):
    def at(seconds):
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)

    raw = {
        "invoice_id": number,
        "user_id": row["user_id"],
        "amount_usd": Decimal(paid_cents) / 100,
        "issued_at": at(start),
        "period_start": at(start),
        "period_end": at(start + months * 30 * DAY),
        "status": status,
        "attempt_count": attempts,
        "paid_at": at(start) if status in ("paid", "refunded") else None,
    }
    return invoice(raw, row, sub_id, list_cents)


PRICES = {
    "basic": price("basic", "monthly", 900),
    "professional": price("professional", "monthly", 2900),
    "premium": price("premium", "monthly", 7900),
}


def one_subscription(**changes) -> dict:
    """A subscription of customer 1 (user 1): basic for two months, professional after, with
    a 20 % discount on professional; still active."""
    row = a_row(1, 1, "basic")
    sub = subscription([row], {p["id"]: p for p in PRICES.values()})
    sub.update(created=T0, start_date=T0, **changes)
    pro = a_row(2, 1, "professional")
    invoices = [
        an_invoice(1, row, sub["id"], T0, 900, 900),
        an_invoice(2, row, sub["id"], T0 + 30 * DAY, 900, 900),
        an_invoice(3, pro, sub["id"], T0 + 45 * DAY, 2900, 2320),
        an_invoice(4, pro, sub["id"], T0 + 75 * DAY, 2900, 2320),
    ]
    return {
        "customers": [a_customer(1)],
        "prices": list(PRICES.values()),
        "subscriptions": [sub],
        "invoices": invoices,
    }


def converted(parts, mapping_path: Path):
    result = convert(objects(parts), load_mapping(mapping_path), Ids.fresh())
    return {name: table.to_pylist() for name, table in result.tables.items()}, result.skipped


def test_a_plan_change_closes_one_period_and_opens_the_next(mapping):
    tables, skipped = converted(one_subscription(), mapping)
    subs = tables["raw_subscriptions"]
    assert [(s["plan"], s["price_usd"], s["end_reason"]) for s in subs] == [
        ("basic", Decimal("9.00"), "upgraded"),
        ("professional", Decimal("23.20"), None),  # the price after the discount
    ]
    assert subs[0]["ended_at"] == subs[1]["started_at"]
    assert [i["subscription_id"] for i in tables["raw_invoices"]] == [1, 1, 2, 2]
    assert skipped == []


def test_a_lower_price_on_the_same_plan_is_a_downgrade(mapping):
    parts = one_subscription()
    later = parts["invoices"][3]
    later["lines"]["data"][0]["pricing"]["price_details"]["price"] = "price_premium_monthly"
    parts["invoices"][2]["lines"]["data"][0]["pricing"]["price_details"]["price"] = (
        "price_premium_monthly"
    )
    later["lines"]["data"][0]["discount_amounts"] = [{"amount": 7900 - 2000, "discount": "di_x"}]
    later["lines"]["data"][0]["amount"] = 7900
    tables, _ = converted(parts, mapping)
    assert [s["end_reason"] for s in tables["raw_subscriptions"]] == [
        "upgraded",
        "downgraded",
        None,
    ]


def test_cancellations_end_the_last_period_with_the_reason(mapping):
    end = T0 + 100 * DAY
    for reason, expected in (
        ("payment_failed", "payment_failed"),
        ("cancellation_requested", "canceled"),
    ):
        parts = one_subscription(
            status="canceled",
            ended_at=end,
            canceled_at=end,
            cancellation_details={"reason": reason},
        )
        subs = converted(parts, mapping)[0]["raw_subscriptions"]
        assert subs[-1]["end_reason"] == expected
        assert seconds(subs[-1]["ended_at"]) == end


def test_cancel_at_period_end_is_still_active(mapping):
    parts = one_subscription(
        cancel_at_period_end=True, cancel_at=T0 + 105 * DAY, canceled_at=T0 + 80 * DAY
    )
    subs = converted(parts, mapping)[0]["raw_subscriptions"]
    assert subs[-1]["ended_at"] is None and subs[-1]["end_reason"] is None


def test_a_trial_is_not_a_paid_period(mapping):
    parts = one_subscription(trial_start=T0 - 14 * DAY, trial_end=T0)
    row = a_row(1, 1, "basic")
    trial = an_invoice(9, row, parts["subscriptions"][0]["id"], T0 - 14 * DAY, 900, 0)
    trial["lines"]["data"][0]["discount_amounts"] = [{"amount": 900, "discount": "di_trial"}]
    parts["invoices"].append(trial)
    tables, skipped = converted(parts, mapping)
    assert seconds(tables["raw_subscriptions"][0]["started_at"]) == T0
    assert [s["id"] for s in skipped] == [trial["id"]]
    assert "trial" in skipped[0]["reason"]
    # a subscription still in its trial is left out, with the reason
    parts = one_subscription(status="trialing", trial_start=T0, trial_end=T0 + 200 * DAY)
    tables, skipped = converted(parts, mapping)
    assert tables["raw_subscriptions"] == []
    assert ("subscription", "still in its trial") in {(s["object"], s["reason"]) for s in skipped}


def test_objects_left_out_are_reported_with_id_and_reason(mapping):
    parts = one_subscription()
    weekly = price("basic", "monthly", 300)
    weekly.update(
        id="price_weekly",
        lookup_key=None,
        product="prod_premium",
        recurring={"interval": "week", "interval_count": 1},
    )
    other = copy.deepcopy(parts["subscriptions"][0])
    other.update(id="sub_weekly", customer="cus_0000002")
    weekly_invoice = an_invoice(20, a_row(5, 2, "basic"), "sub_weekly", T0, 300, 300)
    weekly_invoice["lines"]["data"][0]["pricing"]["price_details"]["price"] = "price_weekly"
    void = copy.deepcopy(parts["invoices"][1])
    void.update(id="in_void", status="void")
    draft = copy.deepcopy(parts["invoices"][1])
    draft.update(id="in_draft", status="draft")
    one_off = copy.deepcopy(parts["invoices"][1])
    one_off.update(id="in_oneoff", parent=None)
    no_user = a_customer(3)
    no_user.update(id="cus_nouser", metadata={})
    parts["customers"] += [a_customer(2), no_user]
    parts["prices"].append(weekly)
    parts["subscriptions"].append(other)
    parts["invoices"] += [weekly_invoice, void, draft, one_off]
    tables, skipped = converted(parts, mapping)
    reasons = {item["id"]: item["reason"] for item in skipped}
    assert set(reasons) == {
        "sub_weekly",
        weekly_invoice["id"],
        "in_void",
        "in_draft",
        "in_oneoff",
        "cus_nouser",
    }
    assert "interval" in reasons["sub_weekly"] and "void" in reasons["in_void"]
    details = {item["id"]: item.get("detail") for item in skipped}
    assert details["sub_weekly"] == "every 1 week, price price_weekly"
    # a reason names no object, so the import counts objects per reason
    assert not any(item["id"] in item["reason"] for item in skipped)
    assert "user_id" in reasons["cus_nouser"]
    assert len(tables["raw_users"]) == 2


def test_personal_data_is_copied_only_when_mapped(tmp_path):
    path = tmp_path / "m.yml"
    path.write_text("prices:\n  prod_basic: basic\n  prod_professional: professional\n")
    users = converted(one_subscription(), path)[0]["raw_users"]
    assert users[0]["email"] is None and users[0]["full_name"] is None
    assert users[0]["country"] == "DE"


# ----------------------------------------------------------------------------- currencies


def test_currencies_are_converted_or_refused(tmp_path):
    path = mapping_yaml(tmp_path / "m.yml", currency_rates="{eur: 1.08, jpy: 0.0067}")
    rules = load_mapping(path)
    assert rules.usd(1000, "eur", "x") == Decimal("10.80")
    assert rules.usd(1500, "jpy", "x") == Decimal("10.05")  # jpy has no minor unit
    assert rules.usd(1000, "usd", "x") == Decimal("10.00")
    parts = one_subscription()
    for item in parts["invoices"]:
        item["currency"] = "gbp"
        item["lines"]["data"][0]["currency"] = "gbp"
    with pytest.raises(
        SourceError,
        match=r"^stripe: invoice in_00000001 is in gbp and the mapping has no rate for gbp",
    ):
        converted(parts, path)
    for item in parts["invoices"]:
        item["currency"] = "eur"
        item["lines"]["data"][0]["currency"] = "eur"
    tables, _ = converted(parts, path)
    assert tables["raw_subscriptions"][0]["price_usd"] == Decimal("9.72")
    assert tables["raw_invoices"][0]["amount_usd"] == Decimal("9.72")


# -------------------------------------------------------------------------------- append


def test_append_reads_only_new_objects_and_updates_a_canceled_subscription(
    shapes, mapping, tmp_path
):
    out = tmp_path / "out"
    with FakeStripe(shapes) as fake:
        import_stripe(out, mapping=mapping, api_key=fake.api_key, api_base=fake.url)
        before = read_table(out, "raw_subscriptions").to_pylist()
        state = read_import_state(out, "stripe")
        running = next(s for s in fake.objects["subscriptions"] if s["status"] == "active")
        end = max(i["created"] for i in fake.objects["invoices"]) + DAY
        canceled = {
            **running,
            "status": "canceled",
            "ended_at": end,
            "canceled_at": end,
            "cancellation_details": {"reason": "cancellation_requested"},
        }
        new_customer = a_customer(99_999, created=end)
        new_sub = {
            **copy.deepcopy(running),
            "id": "sub_new",
            "customer": new_customer["id"],
            "created": end,
            "start_date": end,
        }
        row = a_row(10**6, 99_999, "basic")
        new_invoice = an_invoice(10**7, row, "sub_new", end, 900, 900)
        fake.put("subscriptions", [canceled, new_sub])
        fake.put("customers", [new_customer])
        fake.put("invoices", [new_invoice])
        fake.requests.clear()
        import_stripe(out, mapping=mapping, api_key=fake.api_key, api_base=fake.url, append=True)
        queries = dict((p, q) for p, q in fake.requests)
    assert queries["/v1/customers"]["created[gte]"] == str(state["customers_created"])
    assert queries["/v1/subscriptions"]["created[gte]"] == str(state["reread_from"])
    after = read_table(out, "raw_subscriptions").to_pylist()
    by_id = {s["subscription_id"]: s for s in after}
    assert all(by_id[s["subscription_id"]]["started_at"] == s["started_at"] for s in before)
    ended = [s for s in after if s["ended_at"] is not None and seconds(s["ended_at"]) == end]
    assert len(ended) == 1 and ended[0]["end_reason"] == "canceled"
    assert len(after) == len(before) + 1
    assert 99_999 in {u["user_id"] for u in read_table(out, "raw_users").to_pylist()}
    assert read_table(out, "raw_invoices").num_rows == len(shapes["invoices"]) + 1


def test_append_drops_the_row_of_an_invoice_voided_since(shapes, mapping, tmp_path):
    """An invoice imported while open and voided in Stripe since gives no row after --append,
    as a full import of the account as it is now gives none."""
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    with FakeStripe(shapes) as fake:
        import_stripe(out, mapping=mapping, api_key=fake.api_key, api_base=fake.url)
        before = read_table(out, "raw_invoices")
        still_open = next(i for i in fake.objects["invoices"] if i["status"] == "open")
        fake.put("invoices", [{**still_open, "status": "void"}])
        import_stripe(out, mapping=mapping, api_key=fake.api_key, api_base=fake.url, append=True)
        import_stripe(fresh, mapping=mapping, api_key=fake.api_key, api_base=fake.url)
    after = read_table(out, "raw_invoices")
    assert after.num_rows == before.num_rows - 1 == read_table(fresh, "raw_invoices").num_rows
    assert "open" in before["status"].to_pylist()
    natural = ["user_id", "issued_at", "period_start", "amount_usd", "status", "paid_at"]
    assert sorted(map(str, after.select(natural).to_pylist())) == sorted(
        map(str, read_table(fresh, "raw_invoices").select(natural).to_pylist())
    )


def test_a_prorated_change_starts_the_new_period_when_it_happened(mapping):
    """Stripe's default: an upgrade mid-period is charged as prorations on the next renewal
    invoice, whose own line for the new price starts only at that renewal."""
    parts = one_subscription()
    parts["invoices"] = parts["invoices"][:1]  # basic from T0, renewed at T0 + 30 days
    pro = a_row(2, 1, "professional")
    sub_id = parts["subscriptions"][0]["id"]
    renewal = an_invoice(2, pro, sub_id, T0 + 30 * DAY, 2900, 2900)
    regular = renewal["lines"]["data"][0]
    change = T0 + 10 * DAY
    credit = copy.deepcopy(regular)
    credit.update(id="il_credit", amount=-600, discount_amounts=[])
    credit["pricing"]["price_details"]["price"] = "price_basic_monthly"
    charge = copy.deepcopy(regular)
    charge.update(id="il_charge", amount=1933, discount_amounts=[])
    for line in (credit, charge):
        line["period"] = {"start": change, "end": T0 + 30 * DAY}
        line["parent"]["subscription_item_details"]["proration"] = True
    renewal["lines"]["data"] = [credit, charge, regular]
    renewal.update(total=4233, total_excluding_tax=4233, amount_paid=4233)
    parts["invoices"].append(renewal)
    tables, skipped = converted(parts, mapping)
    subs = tables["raw_subscriptions"]
    assert [(s["plan"], s["price_usd"], s["end_reason"]) for s in subs] == [
        ("basic", Decimal("9.00"), "upgraded"),
        ("professional", Decimal("29.00"), None),
    ]
    assert seconds(subs[1]["started_at"]) == change
    renewed = tables["raw_invoices"][1]
    assert renewed["subscription_id"] == subs[1]["subscription_id"]
    assert renewed["amount_usd"] == Decimal("42.33")  # what was charged, prorations included
    assert seconds(renewed["period_start"]) == T0 + 30 * DAY
    assert skipped == []


def test_older_api_versions_shapes_are_read_too(mapping):
    """Before API version 2025-03-31: invoice.subscription, line.price (an object),
    line.proration and line.type."""
    parts = one_subscription()
    for item in parts["invoices"]:
        item["subscription"] = item.pop("parent")["subscription_details"]["subscription"]
        for line in item["lines"]["data"]:
            price_id = line.pop("pricing")["price_details"]["price"]
            line.pop("parent")
            line.update(
                type="subscription",
                proration=False,
                price=next(p for p in PRICES.values() if p["id"] == price_id),
            )
    parts["prices"] = []
    new, _ = converted(parts, mapping)
    assert new == converted(one_subscription(), mapping)[0]


def test_until_gives_the_rows_as_of_the_end_of_that_day(mapping, tmp_path):
    from datetime import date

    end = T0 + 100 * DAY
    parts = one_subscription(status="canceled", ended_at=end, canceled_at=end)
    folder = write_json_dir(parts, tmp_path / "json")
    result = import_stripe(
        tmp_path / "out", mapping=mapping, json_dir=folder, until=date(2025, 3, 1)
    )  # day 59: the change to professional (day 45) happened, the cancellation did not
    subs = read_table(tmp_path / "out", "raw_subscriptions").to_pylist()
    assert [(s["plan"], s["end_reason"]) for s in subs] == [
        ("basic", "upgraded"),
        ("professional", None),
    ]
    assert {s["reason"] for s in result.skipped} == {"created after --until 2025-03-01"}
    assert [s["id"] for s in result.skipped] == ["in_00000004"]
    assert result.manifest["data_end"] == "2025-03-01"


def test_two_customers_of_one_user_are_one_user(mapping):
    parts = one_subscription()
    twin = a_customer(1)
    twin.update(id="cus_twin", created=T0 + DAY, email="other@example.com")
    parts["customers"].append(twin)
    tables, skipped = converted(parts, mapping)
    assert [u["email"] for u in tables["raw_users"]] == ["u1@example.com"]
    assert [s["id"] for s in skipped] == ["cus_twin"]


def test_a_price_missing_from_the_price_list_is_retrieved_by_id(shapes, mapping, tmp_path):
    parts = copy.deepcopy(shapes)
    for sub in parts["subscriptions"]:
        sub["items"]["data"] = []  # no embedded prices: lines name prices by id only
    with FakeStripe(parts) as fake:
        fake.unlisted = {"price_basic_monthly"}
        import_stripe(tmp_path / "out", mapping=mapping, api_key=fake.api_key, api_base=fake.url)
    assert fake.count("/v1/prices/price_basic_monthly") == 1
    assert read_table(tmp_path / "out", "raw_invoices").num_rows == len(shapes["invoices"])


def test_raw_users_false_keeps_the_folders_users(generated, shapes, tmp_path):
    """The product database writes raw_users; Stripe adds subscriptions and invoices."""
    import shutil

    from jobmetrics.importers.raw_folder import write_import

    out = tmp_path / "out"
    users = read_table(generated, "raw_users")
    write_import(out, "postgres", {"raw_users": users}, append=False)
    path = mapping_yaml(tmp_path / "m.yml", raw_users="false")
    folder = write_json_dir(shapes, tmp_path / "json")
    import_stripe(out, mapping=path, json_dir=folder, append=True)
    assert read_table(out, "raw_users").to_pylist() == users.to_pylist()
    assert differences(generated, out) == {table: (0, 0) for table in NATURAL}
    # a user the folder does not have stops the import, naming the row
    shutil.rmtree(out)
    write_import(out, "postgres", {"raw_users": users.slice(0, 10)}, append=False)
    with pytest.raises(SourceError, match=r"^stripe: raw_subscriptions row .*user_id"):
        import_stripe(out, mapping=path, json_dir=folder, append=True)


def test_append_to_a_folder_without_an_import_stops_before_reading(shapes, mapping, tmp_path):
    with FakeStripe(shapes) as fake, pytest.raises(SourceError, match="--append needs an import"):
        import_stripe(
            tmp_path / "none", mapping=mapping, api_key=fake.api_key, api_base=fake.url, append=True
        )
    assert fake.requests == []


def test_append_from_a_json_folder_takes_what_is_new_or_still_changing(mapping, tmp_path):
    out = tmp_path / "out"
    parts = one_subscription()
    import_stripe(out, mapping=mapping, json_dir=write_json_dir(parts, tmp_path / "v1"))
    end = T0 + 100 * DAY
    parts["subscriptions"][0].update(status="canceled", ended_at=end, canceled_at=end)
    parts["customers"].append(a_customer(2, created=end))
    old_customer = parts["customers"][0]
    old_customer["metadata"]["segment"] = "executive"
    result = import_stripe(
        out, mapping=mapping, json_dir=write_json_dir(parts, tmp_path / "v2"), append=True
    )
    subs = read_table(out, "raw_subscriptions").to_pylist()
    assert [(s["plan"], s["end_reason"]) for s in subs] == [
        ("basic", "upgraded"),
        ("professional", "canceled"),
    ]
    users = {u["user_id"]: u["segment"] for u in read_table(out, "raw_users").to_pylist()}
    # customer 1 is re-read as the customer of a subscription that could still change
    assert users == {1: "executive", 2: "job_seeker"}
    assert read_table(out, "raw_invoices").num_rows == 4
    assert result.manifest["sources"]["stripe"]["state"]["reread_from"] is None


def test_a_json_folder_needs_every_invoice_line(mapping, tmp_path):
    from tests.importers.stripe_shapes import list_page

    parts = one_subscription()
    first = parts["invoices"][0]
    line = first["lines"]["data"][0]
    first["lines"].update(data=[], has_more=True, total_count=1)
    folder = write_json_dir(parts, tmp_path / "json")
    with pytest.raises(SourceError, match=r"GET /v1/invoices/in_00000001/lines"):
        import_stripe(tmp_path / "out", mapping=mapping, json_dir=folder)
    # the lines saved as pages of the invoice's lines endpoint complete it
    page = list_page([line], False, "/v1/invoices/in_00000001/lines")
    (folder / "lines.json").write_text(json.dumps(page))
    import_stripe(tmp_path / "out", mapping=mapping, json_dir=folder)
    assert read_table(tmp_path / "out", "raw_invoices").num_rows == 4


def test_a_json_folder_of_something_else_is_one_line(mapping, tmp_path):
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "x.json").write_text('{"hello": 1}')
    with pytest.raises(SourceError, match=r"x.json is neither a Stripe list page"):
        import_stripe(tmp_path / "out", mapping=mapping, json_dir=tmp_path / "json")


def test_an_import_until_a_day_then_an_append_equals_one_full_import(
    generated, shapes, mapping, tmp_path
):
    """Nightly imports add up: the rows after importing up to a day and then appending the rest
    equal those of one import of everything (nothing lost, nothing twice). The account is
    chosen so that the append's re-read window (from the oldest subscription that could still
    change) starts after an ended subscription that still has invoices inside the window."""
    from jobmetrics.importers.stripe_billing import _ended_at, _invoice_subscription

    middle = date.fromisoformat(START) + timedelta(days=DAYS - 20)
    cut = int(datetime(middle.year, middle.month, middle.day, tzinfo=UTC).timestamp()) + DAY
    objects = copy.deepcopy(shapes)
    invoices_of: dict[str, list[dict]] = {}
    for item in objects["invoices"]:
        invoices_of.setdefault(_invoice_subscription(item), []).append(item)
    started = [s for s in objects["subscriptions"] if s["created"] < cut]
    ended = [s for s in started if _ended_at(s) and _ended_at(s) < cut]
    live = sorted((s for s in started if s not in ended), key=lambda s: s["created"])
    window_start = next(
        sub["created"]
        for sub in live
        if any(
            s["created"] < sub["created"]
            and any(i["created"] >= sub["created"] for i in invoices_of.get(s["id"], []))
            for s in ended
        )
    )
    older_live = {s["id"] for s in live if s["created"] < window_start}
    objects["subscriptions"] = [s for s in objects["subscriptions"] if s["id"] not in older_live]
    objects["invoices"] = [
        i for i in objects["invoices"] if _invoice_subscription(i) not in older_live
    ]
    staged, whole = tmp_path / "staged", tmp_path / "whole"
    with FakeStripe(objects) as fake:
        import_stripe(staged, mapping=mapping, api_key=fake.api_key, api_base=fake.url,
                      until=middle)  # fmt: skip
        halfway = read_table(staged, "raw_invoices").num_rows
        appended = import_stripe(staged, mapping=mapping, api_key=fake.api_key,
                                 api_base=fake.url, append=True)  # fmt: skip
        import_stripe(whole, mapping=mapping, api_key=fake.api_key, api_base=fake.url)
    assert 0 < halfway < read_table(whole, "raw_invoices").num_rows
    for table in ("raw_users", "raw_subscriptions", "raw_invoices"):
        assert read_table(staged, table).num_rows == read_table(whole, table).num_rows, table
    assert [s for s in appended.skipped if "not imported" in s["reason"]] == []
    # the same rows, compared on what they say (the ids differ: numbered in another order)
    for table, columns in (
        ("raw_subscriptions", ["user_id", "plan", "price_usd", "started_at", "ended_at"]),
        ("raw_invoices", ["user_id", "issued_at", "amount_usd", "status", "paid_at"]),
    ):
        assert sorted(map(str, read_table(staged, table).select(columns).to_pylist())) == sorted(
            map(str, read_table(whole, table).select(columns).to_pylist())
        ), table


def test_append_refuses_to_replace_or_collide_with_another_sources_users(
    generated, shapes, tmp_path
):
    from jobmetrics.importers.raw_folder import write_import

    out = tmp_path / "out"
    write_import(out, "postgres", {"raw_users": read_table(generated, "raw_users")}, append=False)
    with FakeStripe(shapes) as fake:
        for extra, expected in (
            ({}, "set `raw_users: false`"),
            ({"customers": "{user_id: stripe}"}, "customers.user_id: stripe numbers customers"),
        ):
            path = mapping_yaml(tmp_path / "m.yml")
            if extra:  # replace the customers block
                path.write_text(
                    path.read_text().replace("customers:\n", "customers:\n  user_id: stripe\n")
                )
            before = read_table(out, "raw_users")
            with pytest.raises(SourceError, match=expected):
                import_stripe(out, mapping=path, api_key=fake.api_key, api_base=fake.url,
                              append=True)  # fmt: skip
            assert read_table(out, "raw_users").equals(before)
        with_users_kept = mapping_yaml(tmp_path / "kept.yml", raw_users="false")
        import_stripe(out, mapping=with_users_kept, api_key=fake.api_key, api_base=fake.url,
                      append=True)  # fmt: skip
    assert (
        read_table(out, "raw_users").to_pylist() == read_table(generated, "raw_users").to_pylist()
    )
    assert read_table(out, "raw_subscriptions").num_rows > 0


def test_customers_find_product_users_by_their_text_ids(generated, shapes, tmp_path):
    """A product database with uuid keys (numbered by its import): a customer whose
    metadata.user_id holds the uuid belongs to that user."""
    from jobmetrics.importers.raw_folder import IdMap, write_import

    def uuid(user_id: int) -> str:
        return f"00000000-0000-4000-8000-{user_id:012d}"

    out = tmp_path / "out"
    users = read_table(generated, "raw_users")
    numbers = IdMap("product_user", {uuid(i): i for i in users["user_id"].to_pylist()})
    write_import(out, "postgres", {"raw_users": users}, append=False, id_maps=[numbers])
    objects = copy.deepcopy(shapes)
    for item in objects["customers"]:
        item["metadata"]["user_id"] = uuid(int(item["metadata"]["user_id"]))
    mapping = mapping_yaml(tmp_path / "m.yml", raw_users="false")
    with FakeStripe(objects) as fake:
        result = import_stripe(out, mapping=mapping, api_key=fake.api_key, api_base=fake.url,
                               append=True)  # fmt: skip
    assert result.skipped == []
    assert differences(generated, out) == {table: (0, 0) for table in NATURAL}
