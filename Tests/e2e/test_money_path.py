"""The money path over HTTP against the real `souk` binary and a local fake of Stripe's API
(`fake_stripe.py`): carts become orders and Stripe Checkout sessions, signed webhooks pay them
exactly once, limited stock is never oversold, and refunds, dashboard refunds and disputes move
the order's money the way the seller, the buyer and Stripe each see it.

Webhook bodies are Stripe's own example objects (`/work/shared/fixtures/stripe/`) with ids,
amounts and metadata set, signed with `stripe.WebhookSignature.generate_signature_header`.
"""
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import assert_problem
from fake_stripe import (  # noqa: F401  (fake_stripe is a fixture)
    WEBHOOK_SECRET, charge, deliver, dispute, event, fake_stripe, refund_object, signature_header, start_store,
)
from shop_helpers import add_to_cart, checkout, get_order, outcome, placed, stock, wait_for, wait_status  # noqa: F401
from test_catalog_api import api_account, cli_account

PAID = {"paid", "fulfilled", "completed"}


# --- helpers -----------------------------------------------------------------------------------------

def clone(session: requests.Session) -> requests.Session:
    """A session with the same cookies, for use in another thread."""
    copy = requests.Session()
    copy.cookies.update(session.cookies)
    return copy


def pay(souk, fake, order_id: str) -> str:
    """The buyer pays on Stripe's page and Stripe sends `checkout.session.completed`."""
    session = fake.session_for_order(order_id)
    return outcome(deliver(souk, event("checkout.session.completed", fake.mark_paid(session["id"]))))


def split(amount: int, percent: int = 10) -> tuple[int, int]:
    """The platform fee (rounded half up) and the seller's rest."""
    fee = (amount * percent * 100 + 5_000) // 10_000
    return fee, amount - fee


def jobs(souk) -> list[dict]:
    return json.loads(souk.cli("jobs", "list", "--json", "--limit", "1000").stdout)


def run_concurrently(functions, workers: int | None = None) -> list:
    """Runs every function at once (released together by a barrier); returns results in order."""
    barrier = threading.Barrier(len(functions))

    def run(function):
        barrier.wait(timeout=30)
        return function()

    with ThreadPoolExecutor(max_workers=workers or len(functions)) as pool:
        return list(pool.map(run, functions))


class Shop:
    """A Stripe-taking marketplace store wired to the fake, with two verified sellers, an admin
    and helpers to buy."""

    def __init__(self, make_souk, fake, **env):
        self.fake = fake
        self.souk = start_store(make_souk, fake, **env)
        self.alice = cli_account(self.souk, "seller", "alice@example.com")
        self.bob = cli_account(self.souk, "seller", "bob@example.com")
        self.admin = cli_account(self.souk, "admin", "admin@example.com")

    def buy(self, buyer, *products, quantity: int = 1) -> dict:
        for product in products:
            add_to_cart(self.souk, buyer.session, product["id"], quantity)
        return placed(checkout(self.souk, buyer.session, key=str(uuid.uuid4())))

    def paid_order(self, buyer, *products, quantity: int = 1) -> tuple[dict, str]:
        """An order paid through a webhook and fulfilled; returns it and its payment intent."""
        order = self.buy(buyer, *products, quantity=quantity)
        assert pay(self.souk, self.fake, order["id"]) == "applied"
        order = wait_status(self.souk, buyer.session, order["id"], {"completed"})
        return order, self.fake.session_for_order(order["id"])["payment_intent"]


# --- acceptance 1: one checkout for two sellers, paid by a signed webhook ----------------------------

def test_two_sellers_one_checkout_one_session_paid_by_webhook_with_fee_split(make_souk, fake_stripe):
    shop = Shop(make_souk, fake_stripe)
    souk, fake = shop.souk, fake_stripe
    ferns = shop.alice.create("Field Guide to Ferns", publish=True, price=1999)
    grotesk = shop.bob.create("Grotesk Sans Family", publish=True, price=4550)
    buyer = api_account(souk, "buyer")
    add_to_cart(souk, buyer.session, ferns["id"])
    cart = add_to_cart(souk, buyer.session, grotesk["id"], 2)
    assert cart["total"] == 1999 + 2 * 4550

    response = checkout(souk, buyer.session, key=str(uuid.uuid4()))
    order = placed(response)
    order_id = order["id"]
    assert order["status"] == "created" and order["provider"] == "stripe"
    assert order["total"] == 1999 + 2 * 4550 and order["currency"] == "USD"
    assert order["buyer_email"] == buyer.email and order["paid_at"] is None

    # Exactly one session, with both lines, the order id and the secret key.
    creates = fake.session_creates()
    assert len(creates) == 1, [c.form for c in creates]
    sent = creates[0]
    assert sent.headers["authorization"] == f"Bearer {fake.secret_key}"
    assert sent.headers["idempotency-key"] == f"souk-checkout-{order_id}"
    assert sent.one("mode") == "payment"
    assert sent.one("client_reference_id") == order_id
    assert sent.one("metadata[order_id]") == order_id
    assert sent.one("payment_intent_data[metadata][order_id]") == order_id
    assert sent.one("customer_email") == buyer.email
    assert "{CHECKOUT_SESSION_ID}" in sent.one("success_url") and order_id in sent.one("success_url")
    assert order_id in sent.one("cancel_url")
    lines = {
        (sent.one(f"line_items[{i}][price_data][product_data][name]"),
         sent.one(f"line_items[{i}][price_data][unit_amount]"),
         sent.one(f"line_items[{i}][quantity]"),
         sent.one(f"line_items[{i}][price_data][currency]"))
        for i in range(2)
    }
    assert lines == {("Field Guide to Ferns", "1999", "1", "usd"), ("Grotesk Sans Family", "4550", "2", "usd")}
    assert not any(name.startswith("line_items[2]") for name in sent.form), sent.form
    session = fake.session_for_order(order_id)
    assert response.json()["redirect_url"] == session["url"] == order["payment_url"]

    # The money split, per line: 10 % to the platform (rounded half up), the rest to the seller.
    by_product = {item["product_id"]: item for item in order["items"]}
    for product, seller, quantity in ((ferns, shop.alice, 1), (grotesk, shop.bob, 2)):
        item = by_product[product["id"]]
        assert item["seller_id"] == seller.id and item["quantity"] == quantity
        assert item["unit_amount"] == product["price"] and item["amount"] == product["price"] * quantity
        assert (item["fee_amount"], item["seller_amount"]) == split(item["amount"]), item
    assert (by_product[ferns["id"]]["fee_amount"], by_product[grotesk["id"]]["fee_amount"]) == (200, 910)

    # Stripe says paid: the order is paid once, then fulfilled by the job; the cart is emptied.
    assert get_order(souk, buyer.session, order_id)["status"] == "created"
    assert pay(souk, fake, order_id) == "applied"
    order = wait_status(souk, buyer.session, order_id, {"completed"})
    assert order["paid_at"] and order["payment_url"] is None and order["refunded_amount"] == 0
    assert buyer.session.get(souk.url("/api/v1/cart")).json()["items"] == []
    assert [o["id"] for o in buyer.session.get(souk.url("/api/v1/orders")).json()["data"]] == [order_id]

    # Each seller sees the order with only their own line; admins see it all; others nothing.
    for seller, product in ((shop.alice, ferns), (shop.bob, grotesk)):
        listed = seller.session.get(souk.url("/api/v1/orders")).json()["data"]
        assert [o["id"] for o in listed] == [order_id]
        for view in (listed[0], get_order(souk, seller.session, order_id)):
            assert [i["product_id"] for i in view["items"]] == [product["id"]], view
            assert view["total"] == by_product[product["id"]]["amount"], view
            assert view["status"] == "completed"
    assert len(get_order(souk, shop.admin.session, order_id)["items"]) == 2
    stranger = api_account(souk, "buyer")
    assert_problem(stranger.session.get(souk.url(f"/api/v1/orders/{order_id}")), 404, "not_found")
    assert stranger.session.get(souk.url("/api/v1/orders")).json()["data"] == []

    # A seller of only some of the lines may not refund it; an admin may.
    assert_problem(shop.alice.session.post(souk.url(f"/api/v1/orders/{order_id}/refund"), json={}), 403, "forbidden")
    assert fake.refund_calls() == []
    refunded = shop.admin.session.post(souk.url(f"/api/v1/orders/{order_id}/refund"), json={"reason": "test"})
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded" and refunded.json()["refunded_amount"] == order["total"]
    [call] = fake.refund_calls()
    assert call.one("payment_intent") == session["payment_intent"] and call.one("amount") == str(order["total"])
    assert call.one("metadata[order_id]") == order_id and call.headers.get("idempotency-key")


# --- acceptance 2: one order and one session however often checkout is sent -------------------------

def test_repeated_and_concurrent_checkouts_make_one_order_and_one_session(make_souk, fake_stripe):
    shop = Shop(make_souk, fake_stripe)
    souk, fake = shop.souk, fake_stripe
    product = shop.alice.create("Sample Pack", publish=True, price=1200)

    first = api_account(souk, "buyer")
    add_to_cart(souk, first.session, product["id"])
    key = str(uuid.uuid4())
    one, two = checkout(souk, first.session, key=key), checkout(souk, first.session, key=key)
    assert placed(one)["id"] == placed(two)["id"]
    assert one.json()["redirect_url"] == two.json()["redirect_url"]
    # The same unchanged cart awaiting payment, even with a new key, is the same order too.
    assert placed(checkout(souk, first.session, key=str(uuid.uuid4())))["id"] == placed(one)["id"]
    assert len(fake.session_creates()) == 1

    second = api_account(souk, "buyer")
    add_to_cart(souk, second.session, product["id"], 3)
    key = str(uuid.uuid4())
    responses = run_concurrently([lambda s=clone(second.session): checkout(souk, s, key=key) for _ in range(8)])
    orders = [placed(r) for r in responses]
    assert len({o["id"] for o in orders}) == 1, [o["id"] for o in orders]
    assert len({r.json()["redirect_url"] for r in responses}) == 1
    concurrent_id = orders[0]["id"]
    assert concurrent_id != placed(one)["id"] and orders[0]["total"] == 3600

    creates = fake.session_creates()
    keys = {c.headers["idempotency-key"] for c in creates}
    assert keys == {f"souk-checkout-{placed(one)['id']}", f"souk-checkout-{concurrent_id}"}, keys
    assert len(fake.sessions) == 2
    assert len(creates) == 2, f"{len(creates)} session creations for 2 orders"
    listed = second.session.get(souk.url("/api/v1/orders")).json()["data"]
    assert [o["id"] for o in listed] == [concurrent_id]


# --- acceptance 3: webhooks are verified, recorded once and never move an order backwards -----------

def test_webhooks_are_verified_applied_once_and_old_events_ignored(make_souk, fake_stripe):
    shop = Shop(make_souk, fake_stripe)
    souk, fake = shop.souk, fake_stripe
    product = shop.bob.create("Lo-fi Loops", publish=True, price=800)
    buyer = api_account(souk, "buyer")
    order_id = shop.buy(buyer, product)["id"]
    session = fake.mark_paid(fake.session_for_order(order_id)["id"])
    completed = event("checkout.session.completed", session)
    payload = json.dumps(completed)
    now = int(time.time())
    good = signature_header(payload)
    good_v1 = good.split("v1=")[1]

    forged = {
        "wrong secret": signature_header(payload, secret="whsec_not_the_store_secret"),
        "stale timestamp": signature_header(payload, timestamp=now - 600),
        "timestamp from the future": signature_header(payload, timestamp=now + 600),
        "no v1 signature": f"t={now}",
        "only a v0 signature": f"t={now},v0={good_v1}",
        "no timestamp": f"v1={good_v1}",
        "signature of another body": signature_header(payload.replace('"paid"', '"unpaid"')),
        "garbage": "nonsense",
    }
    for what, header in forged.items():
        assert_problem(deliver(souk, payload, header=header), 400, "bad_request")
    assert_problem(deliver(souk, payload, header=None), 400, "bad_request")
    # A valid signature over a body that is then changed.
    assert '"amount_total": 800' in payload
    tampered = requests.post(souk.url("/webhooks/stripe"), data=payload.replace("800", "1").encode(),
                             headers={"Content-Type": "application/json", "Stripe-Signature": good})
    assert_problem(tampered, 400, "bad_request")
    order = get_order(souk, buyer.session, order_id)
    assert order["status"] == "created" and order["paid_at"] is None, order

    # The same (correctly signed) delivery three times at once: applied once.
    results = run_concurrently([lambda: deliver(souk, payload, header=good) for _ in range(3)])
    assert sorted(outcome(r) for r in results) == ["applied", "duplicate", "duplicate"]
    paid = wait_status(souk, buyer.session, order_id, {"completed"})
    # A retry by Stripe, signed anew while the secret rotates (an old and a new v1): verified, a duplicate.
    rotated = signature_header(payload, secret="whsec_the_previous_secret") + "," + signature_header(payload).split(",")[1]
    assert outcome(deliver(souk, payload, header=rotated)) == "duplicate"
    fulfil_jobs = [j for j in jobs(souk) if j["kind"] == "fulfil" and order_id in (j["dedupe_key"] or "")]
    assert len(fulfil_jobs) == 1, fulfil_jobs

    # Older news arriving after the payment: recorded, ignored, nothing moves.
    expired = dict(session, status="expired", payment_status="unpaid")
    assert outcome(deliver(souk, event("checkout.session.expired", expired))) == "ignored"
    assert outcome(deliver(souk, event("checkout.session.async_payment_failed", session))) == "ignored"
    unpaid_again = dict(session, payment_status="unpaid", status="complete")
    assert outcome(deliver(souk, event("checkout.session.completed", unpaid_again))) == "ignored"
    after = get_order(souk, buyer.session, order_id)
    assert (after["status"], after["paid_at"], after["refunded_amount"]) == ("completed", paid["paid_at"], 0)
    assert stock(souk, product["id"]) is None
    # Events Souk does not act on, or for no order of this store, are acknowledged.
    assert outcome(deliver(souk, event("plan.created", {"id": "price_1", "object": "plan"}))) == "ignored"
    stranger = dict(session, id="cs_test_other", client_reference_id="ord_unknown", metadata={"order_id": "ord_unknown"})
    assert outcome(deliver(souk, event("checkout.session.completed", stranger))) == "ignored"


def test_a_delayed_payment_waits_for_async_payment_succeeded(make_souk, fake_stripe):
    shop = Shop(make_souk, fake_stripe)
    souk, fake = shop.souk, fake_stripe
    product = shop.alice.create("Bank Transfer Course", publish=True, price=15000, stock=5)
    buyer = api_account(souk, "buyer")
    order_id = shop.buy(buyer, product)["id"]
    session = fake.session_for_order(order_id)
    # A bank debit: the session completes unpaid; only async_payment_succeeded pays it.
    completed_unpaid = dict(session, status="complete", payment_status="unpaid")
    assert outcome(deliver(souk, event("checkout.session.completed", completed_unpaid))) == "applied"
    assert get_order(souk, buyer.session, order_id)["status"] == "created"
    assert stock(souk, product["id"]) == 4
    succeeded = dict(session, status="complete", payment_status="paid")
    assert outcome(deliver(souk, event("checkout.session.async_payment_succeeded", succeeded))) == "applied"
    wait_status(souk, buyer.session, order_id, PAID)
    assert stock(souk, product["id"]) == 4

    # A failed debit on another order puts its stock back.
    other = api_account(souk, "buyer")
    failed_id = shop.buy(other, product, quantity=2)["id"]
    assert stock(souk, product["id"]) == 2
    failed_session = fake.session_for_order(failed_id)
    assert outcome(deliver(souk, event("checkout.session.async_payment_failed", failed_session))) == "applied"
    assert get_order(souk, other.session, failed_id)["status"] == "payment_failed"
    assert stock(souk, product["id"]) == 4

    # A session that expired here but was paid at Stripe just before, while the stock is still
    # there: the payment is taken and the stock held again.
    third = api_account(souk, "buyer")
    late_id = shop.buy(third, product)["id"]
    assert stock(souk, product["id"]) == 3
    late_session = fake.session_for_order(late_id)
    expired = dict(late_session, status="expired")
    assert outcome(deliver(souk, event("checkout.session.expired", expired))) == "applied"
    assert get_order(souk, third.session, late_id)["status"] == "expired"
    assert stock(souk, product["id"]) == 4
    assert pay(souk, fake, late_id) == "applied"
    wait_status(souk, third.session, late_id, PAID)
    assert stock(souk, product["id"]) == 3
    assert fake.refund_calls() == []


# --- acceptance 4: limited stock under 50 concurrent buyers --------------------------------------------

def test_fifty_buyers_for_ten_units_never_oversell_and_late_payments_are_refunded(make_souk, fake_stripe):
    shop = Shop(make_souk, fake_stripe)
    souk, fake = shop.souk, fake_stripe
    product = shop.alice.create("Numbered Print Edition", publish=True, price=2500, stock=10)
    product_id = product["id"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        buyers = list(pool.map(lambda i: api_account(souk, "buyer", f"buyer{i:02d}@example.com"), range(50)))
        list(pool.map(lambda b: add_to_cart(souk, b.session, product_id), buyers))

    # Watch the stock the whole time: it must never go below zero.
    seen: list[int] = []
    watching = threading.Event()

    def watch():
        while not watching.is_set():
            seen.append(stock(souk, product_id))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        keys = [str(uuid.uuid4()) for _ in buyers]
        responses = run_concurrently(
            [lambda b=b, k=k: checkout(souk, clone(b.session), key=k) for b, k in zip(buyers, keys)])
        winners = [(b, placed(r)) for b, r in zip(buyers, responses) if r.status_code == 201]
        losers = [b for b, r in zip(buyers, responses) if r.status_code != 201]
        assert len(winners) == 10, [r.status_code for r in responses]
        for b, r in zip(buyers, responses):
            if r.status_code != 201:
                assert_problem(r, 409, "conflict")
        assert len({o["id"] for _, o in winners}) == 10
        assert stock(souk, product_id) == 0
        assert len(fake.session_creates()) == 10 and len(fake.sessions) == 10

        # Three sessions expire: their stock is back on sale...
        expired = winners[:3]
        for _, order in expired:
            session = fake.mark_expired(fake.session_for_order(order["id"])["id"])
            assert outcome(deliver(souk, event("checkout.session.expired", session))) == "applied"
        for b, order in expired:
            assert get_order(souk, b.session, order["id"])["status"] == "expired"
        assert stock(souk, product_id) == 3

        # ...and three buyers who missed out buy it; a fourth finds it sold out again.
        late = [(b, placed(checkout(souk, b.session, key=str(uuid.uuid4())))) for b in losers[:3]]
        assert stock(souk, product_id) == 0
        assert_problem(checkout(souk, losers[3].session, key=str(uuid.uuid4())), 409, "conflict")

        # Stripe reports all 13 sessions paid (the three expired ones too, paid just before expiry).
        everyone = winners + late
        results = run_concurrently(
            [lambda o=o: pay(souk, fake, o["id"]) for _, o in everyone])
        by_order = {o["id"]: r for (_, o), r in zip(everyone, results)}
        expired_ids = {o["id"] for _, o in expired}
        assert {i: r for i, r in by_order.items() if i in expired_ids} == {i: "refund_queued" for i in expired_ids}
        assert sorted(r for i, r in by_order.items() if i not in expired_ids) == ["applied"] * 10

        for b, order in everyone:
            if order["id"] in expired_ids:
                refunded = wait_status(souk, b.session, order["id"], {"refunded"})
                assert refunded["refunded_amount"] == 2500
                intent = fake.session_for_order(order["id"])["payment_intent"]
                [call] = fake.refund_calls(intent)
                assert call.one("amount") == "2500" and call.one("metadata[order_id]") == order["id"]
            else:
                wait_status(souk, b.session, order["id"], PAID)
        assert len(fake.refund_calls()) == 3
        statuses = [get_order(souk, b.session, o["id"])["status"] for b, o in everyone]
        assert sum(s in PAID for s in statuses) == 10 and statuses.count("refunded") == 3
        assert stock(souk, product_id) == 0
        sold = shop.alice.session.get(souk.url("/api/v1/orders"), params={"limit": 100}).json()["data"]
        assert sum(o["status"] in PAID for o in sold) == 10
    finally:
        watching.set()
        watcher.join(timeout=5)
    assert seen and min(seen) >= 0, f"stock went negative: {min(seen)}"


# --- acceptance 5: refunds, dashboard refunds and disputes ---------------------------------------------

def test_refunds_by_the_seller_go_through_stripe_and_only_the_seller_may_ask(make_souk, fake_stripe):
    shop = Shop(make_souk, fake_stripe)
    souk, fake = shop.souk, fake_stripe
    album = shop.alice.create("Live at the Souk", publish=True, price=3000)
    buyer = api_account(souk, "buyer")

    # A full refund by the seller.
    order, intent = shop.paid_order(buyer, album)
    response = shop.alice.session.post(souk.url(f"/api/v1/orders/{order['id']}/refund"), json={"reason": "wrong file"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "refunded" and response.json()["refunded_amount"] == 3000
    [call] = fake.refund_calls(intent)
    assert call.headers["authorization"] == f"Bearer {fake.secret_key}" and call.headers.get("idempotency-key")
    assert (call.one("payment_intent"), call.one("amount"), call.one("metadata[order_id]")) == (intent, "3000", order["id"])
    assert get_order(souk, buyer.session, order["id"])["status"] == "refunded"
    assert_problem(shop.alice.session.post(souk.url(f"/api/v1/orders/{order['id']}/refund"), json={}), 409, "conflict")
    assert len(fake.refund_calls(intent)) == 1

    # Partial, then the rest.
    order, intent = shop.paid_order(buyer, album)
    url = souk.url(f"/api/v1/orders/{order['id']}/refund")

    def unchanged(expected_status: str, expected_refunded: int):
        now = get_order(souk, buyer.session, order["id"])
        assert (now["status"], now["refunded_amount"]) == (expected_status, expected_refunded), now

    # Who may not: the buyer (403), a seller with no line in it (cannot see it: 404, or 403).
    assert_problem(buyer.session.post(url, json={"amount": 100}), 403, "forbidden")
    other_seller = shop.bob.session.post(url, json={"amount": 100})
    assert other_seller.status_code in (403, 404), other_seller.text
    assert_problem(other_seller, other_seller.status_code)
    assert fake.refund_calls(intent) == []
    unchanged("completed", 0)

    partial = shop.alice.session.post(url, json={"amount": 1000, "reason": "one track missing"})
    assert partial.status_code == 200, partial.text
    assert (partial.json()["status"], partial.json()["refunded_amount"]) == ("partially_refunded", 1000)
    [call] = fake.refund_calls(intent)
    assert (call.one("payment_intent"), call.one("amount")) == (intent, "1000")

    # More than is left: refused before Stripe is asked.
    assert_problem(shop.alice.session.post(url, json={"amount": 2001}), 422, "validation_failed")
    for bad in (0, -5):
        assert_problem(shop.alice.session.post(url, json={"amount": bad}), 422, "validation_failed")
    assert len(fake.refund_calls(intent)) == 1
    unchanged("partially_refunded", 1000)

    # Stripe refuses: 502, nothing recorded, and no address of the API in what the seller reads.
    fake.fail_refunds(402, "This charge cannot be refunded right now.")
    refused = shop.alice.session.post(url, json={"amount": 500})
    assert_problem(refused, 502, "payment_provider_error")
    assert "cannot be refunded right now" in refused.json()["detail"]
    assert "127.0.0.1" not in refused.json()["detail"]
    unchanged("partially_refunded", 1000)
    fake.fail_refunds(None)

    # Once Stripe would accept it, the same amount goes through: the refused attempt's key (whose
    # refusal Stripe replays for a day) is not reused.
    retried = shop.alice.session.post(url, json={"amount": 500})
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["refunded_amount"]) == ("partially_refunded", 1500)
    refused_call, accepted_call = [c for c in fake.refund_calls(intent) if c.one("amount") == "500"]
    assert refused_call.headers["idempotency-key"] != accepted_call.headers["idempotency-key"]

    # Stripe's own charge.refunded for the refund the seller made: already counted.
    first_refund = fake.refunds_by_intent[intent][0]
    echo = charge(intent, 3000, 1000, [refund_object(intent, 1000, first_refund)])
    assert outcome(deliver(souk, event("charge.refunded", echo))) == "ignored"
    unchanged("partially_refunded", 1500)

    rest = shop.alice.session.post(url, json={})
    assert rest.status_code == 200, rest.text
    assert (rest.json()["status"], rest.json()["refunded_amount"]) == ("refunded", 3000)
    amounts = [c.one("amount") for c in fake.refund_calls(intent) if c.status == 200]
    assert amounts == ["1000", "500", "1500"], amounts
    unchanged("refunded", 3000)


def test_dashboard_refunds_and_disputes_reach_the_order_through_webhooks(make_souk, fake_stripe):
    shop = Shop(make_souk, fake_stripe)
    souk, fake = shop.souk, fake_stripe
    course = shop.bob.create("Pottery Course", publish=True, price=4000)
    buyer = api_account(souk, "buyer")

    # Refunds made in Stripe's dashboard: charge.refunded with the cumulative amount.
    order, intent = shop.paid_order(buyer, course)
    first = refund_object(intent, 1500)
    partial = event("charge.refunded", charge(intent, 4000, 1500, [first]))
    assert outcome(deliver(souk, partial)) == "applied"
    now = get_order(souk, buyer.session, order["id"])
    assert (now["status"], now["refunded_amount"]) == ("partially_refunded", 1500)
    assert outcome(deliver(souk, partial)) == "duplicate"
    full = event("charge.refunded", charge(intent, 4000, 4000, [refund_object(intent, 2500), first]))
    assert outcome(deliver(souk, full)) == "applied"
    now = get_order(souk, buyer.session, order["id"])
    assert (now["status"], now["refunded_amount"]) == ("refunded", 4000)
    # The older partial event, redelivered under a new id, changes nothing.
    assert outcome(deliver(souk, event("charge.refunded", partial["data"]["object"]))) == "ignored"
    assert get_order(souk, buyer.session, order["id"])["refunded_amount"] == 4000
    assert fake.refund_calls() == [], "a dashboard refund must not be refunded again through the API"

    # A dispute lost: the money is gone, the order refunded.
    order, intent = shop.paid_order(buyer, course)
    opened = dispute(intent, 4000, "needs_response")
    assert outcome(deliver(souk, event("charge.dispute.created", opened))) == "applied"
    assert get_order(souk, buyer.session, order["id"])["status"] == "disputed"
    lost = dict(opened, status="lost")
    assert outcome(deliver(souk, event("charge.dispute.closed", lost))) == "applied"
    now = get_order(souk, buyer.session, order["id"])
    assert (now["status"], now["refunded_amount"]) == ("refunded", 4000)

    # A dispute won: the order is back where it was.
    order, intent = shop.paid_order(buyer, course)
    opened = dispute(intent, 4000, "warning_needs_response")
    assert outcome(deliver(souk, event("charge.dispute.created", opened))) == "applied"
    assert outcome(deliver(souk, event("charge.dispute.closed", dict(opened, status="won")))) == "applied"
    now = get_order(souk, buyer.session, order["id"])
    assert (now["status"], now["refunded_amount"]) == ("completed", 0)
    assert fake.refund_calls() == []


# --- provider failures ------------------------------------------------------------------------------

def test_a_checkout_retried_after_a_lost_answer_gets_the_session_stripe_made(make_souk, fake_stripe):
    shop = Shop(make_souk, fake_stripe)
    souk, fake = shop.souk, fake_stripe
    product = shop.alice.create("Flaky Network Edition", publish=True, price=900)
    buyer = api_account(souk, "buyer")
    add_to_cart(souk, buyer.session, product["id"])
    key = str(uuid.uuid4())

    # Stripe makes the session but its answer is lost on the way back.
    fake.drop_next("POST", "/v1/checkout/sessions")
    lost = checkout(souk, buyer.session, key=key)
    assert_problem(lost, 502, "payment_provider_error")
    assert "could not be reached" in lost.json()["detail"] and souk.base_url not in lost.json()["detail"]
    assert "127.0.0.1" not in lost.json()["detail"]
    assert len(fake.sessions) == 1
    made = next(iter(fake.sessions.values()))
    started = int(time.time())
    wait_for(lambda: int(time.time()) > started, "the next second", timeout=3)

    # The buyer tries again with the same key: the order resumes with the session Stripe made.
    retried = checkout(souk, buyer.session, key=key)
    assert retried.status_code == 201, retried.text
    assert retried.json()["redirect_url"] == made["url"]
    assert retried.json()["order"]["id"] == made["metadata"]["order_id"]
    assert len(fake.sessions) == 1
    assert [c.status for c in fake.session_creates()] == [-1, 200]


# --- guests ------------------------------------------------------------------------------------------

def test_guest_checkout_with_an_email_and_the_success_page(make_souk, fake_stripe):
    shop = Shop(make_souk, fake_stripe)
    souk, fake = shop.souk, fake_stripe
    zine = shop.alice.create("Guest Zine", publish=True, price=700)
    guest = requests.Session()
    add_to_cart(souk, guest, zine["id"], 2)
    assert "souk_cart" in guest.cookies

    assert_problem(checkout(souk, guest, key=str(uuid.uuid4())), 422, "validation_failed")
    assert fake.session_creates() == []
    order = placed(checkout(souk, guest, key=str(uuid.uuid4()), email="guest.buyer@example.com"))
    assert (order["buyer_email"], order["total"], order["status"]) == ("guest.buyer@example.com", 1400, "created")
    [sent] = fake.session_creates()
    assert sent.one("customer_email") == "guest.buyer@example.com"
    assert sent.one("client_reference_id") == order["id"]
    session_id = fake.session_for_order(order["id"])["id"]
    success_url = sent.one("success_url").replace("{CHECKOUT_SESSION_ID}", session_id)
    assert success_url.startswith(souk.base_url), success_url

    # Back from Stripe before paying: the page waits. Without the link's key: nothing to see.
    waiting = requests.get(success_url)
    assert waiting.status_code == 200 and order["id"] in waiting.text
    assert "Thank you" not in waiting.text and 'data-status="created"' in waiting.text
    assert fake.calls("GET", f"/v1/checkout/sessions/{session_id}")
    assert requests.get(souk.url(f"/orders/{order['id']}")).status_code == 404

    # Paid on Stripe's page: the success page asks Stripe and thanks the buyer.
    fake.mark_paid(session_id)
    thanks = requests.get(success_url)
    assert thanks.status_code == 200, thanks.text[:500]
    assert order["id"] in thanks.text and "Thank you" in thanks.text
    assert any(f'data-status="{s}"' in thanks.text for s in ("paid", "fulfilled", "completed"))
    wait_status(souk, shop.admin.session, order["id"], {"completed"})

    # Stripe's webhook for the same payment arrives afterwards: nothing more happens.
    late = event("checkout.session.completed", fake.session(session_id))
    assert outcome(deliver(souk, late)) in ("ignored", "duplicate")
    admin_view = get_order(souk, shop.admin.session, order["id"])
    assert (admin_view["status"], admin_view["buyer_email"]) == ("completed", "guest.buyer@example.com")
    assert guest.get(souk.url("/api/v1/cart")).json()["items"] == []


def test_a_guest_using_a_members_email_never_gets_the_members_open_order(make_souk, fake_stripe):
    """The same cart checked out again finds its own open order, never another cart's: a guest who
    types a member's e-mail gets a new order, not the member's order and its payment page."""
    shop = Shop(make_souk, fake_stripe)
    souk = shop.souk
    zine = shop.alice.create("Members Zine", publish=True, price=700)
    member = api_account(souk, "buyer", "member@example.com")
    add_to_cart(souk, member.session, zine["id"])
    members_order = placed(checkout(souk, member.session, key=str(uuid.uuid4())))
    again = placed(checkout(souk, member.session, key=str(uuid.uuid4())))
    assert again["id"] == members_order["id"]  # the member's own unchanged cart: same order

    guest = requests.Session()
    add_to_cart(souk, guest, zine["id"])
    guests_order = placed(checkout(souk, guest, key=str(uuid.uuid4()), email="member@example.com"))
    assert guests_order["id"] != members_order["id"]
    assert guests_order["payment_url"] != members_order["payment_url"]
