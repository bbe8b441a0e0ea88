"""PayPal payments over HTTP against the real `souk` binary and a local fake of PayPal's REST API
(`fake_paypal.py`): checkout creates one PayPal order, the buyer's return captures it, signed
webhooks (verified offline against a certificate the fake serves) pay, refund and dispute
orders exactly once, and forged webhooks change nothing. Amounts are checked as the decimal
strings PayPal takes ("12.50", and "500" for yen).
"""
import base64
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import requests

from conftest import assert_problem
from fake_paypal import (  # noqa: F401  (fake_paypal is a fixture)
    CLIENT_ID, CLIENT_SECRET, FakePayPal, deliver, dispute_resource, event, fake_paypal, iso_now,
    paypal_env, refund_resource, webhook_headers,
)
from shop_helpers import add_to_cart, get_order, outcome, placed, stock, wait_for, wait_status  # noqa: F401
from test_catalog_api import api_account, cli_account

PAID = {"paid", "fulfilled", "completed"}
PRICE = 1250  # $12.50: a price whose decimal string has a non-zero last digit


# --- helpers -----------------------------------------------------------------------------------------

def checkout(souk, session, key: str | None = None, provider: str = "paypal") -> requests.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return session.post(souk.url("/api/v1/checkout"), json={"provider": provider}, headers=headers, timeout=60)


def log_tail(souk, lines: int = 40) -> str:
    return "\n".join(souk.log_path.read_text(errors="replace").splitlines()[-lines:])


class Shop:
    """A PayPal-taking store wired to the fake, with one verified seller."""

    def __init__(self, make_souk, fake: FakePayPal, **env):
        self.fake = fake
        self.souk = make_souk(env=paypal_env(fake, **env))
        self.seller = cli_account(self.souk, "seller", "seller@example.com")

    def buy(self, buyer, product: dict, quantity: int = 1) -> dict:
        add_to_cart(self.souk, buyer.session, product["id"], quantity)
        return placed(checkout(self.souk, buyer.session, key=str(uuid.uuid4())))

    def come_back(self, buyer, order: dict) -> requests.Response:
        """The buyer's browser follows the payer-action link: the fake approves and redirects to
        the store's success page (`&token=…&PayerID=…` appended), which captures."""
        page = buyer.session.get(order["payment_url"], timeout=60)
        assert page.status_code == 200, page.text[:500]
        assert page.url.startswith(self.souk.url("/checkout/success?")), page.url
        return page

    def paid_order(self, buyer, product: dict, quantity: int = 1) -> tuple[dict, str]:
        """An order paid by the buyer coming back from PayPal, then fulfilled; with its capture id."""
        order = self.buy(buyer, product, quantity)
        self.come_back(buyer, order)
        order = wait_status(self.souk, buyer.session, order["id"], {"completed"})
        return order, self.fake.capture_of(order["id"])["id"]

    def refund(self, order_id: str, **body) -> requests.Response:
        return self.seller.session.post(self.souk.url(f"/api/v1/orders/{order_id}/refund"), json=body)


def assert_amount(money: dict, value: str, currency: str = "USD"):
    assert money == {"currency_code": currency, "value": value}, money


# --- the whole purchase: checkout, PayPal order, the buyer's return, capture --------------------------

def test_checkout_creates_a_paypal_order_and_the_return_captures_it(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Field Recordings Vol. 2", publish=True, price=PRICE, stock=5)
    buyer = api_account(souk, "buyer")
    assert add_to_cart(souk, buyer.session, product["id"], 2)["total"] == 2 * PRICE

    response = checkout(souk, buyer.session, key=str(uuid.uuid4()))
    order = placed(response)
    order_id = order["id"]
    assert (order["status"], order["provider"], order["total"], order["currency"]) == ("created", "paypal", 2500, "USD")
    assert stock(souk, product["id"]) == 3

    # Signed in once with the client credentials.
    [token_call] = fake.token_calls()
    expected_basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_call.headers["authorization"] == expected_basic
    assert token_call.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert parse_qs(token_call.body.decode()) == {"grant_type": ["client_credentials"]}

    # One PayPal order with our order id, the amounts as decimal strings and our return URLs.
    [create] = fake.order_creates()
    assert create.status == 200
    assert create.headers["authorization"].startswith("Bearer ") and create.headers["authorization"][7:] in fake.tokens
    assert create.headers["paypal-request-id"] == f"souk-checkout-{order_id}"
    assert create.headers["content-type"].startswith("application/json")
    sent = create.json
    assert sent["intent"] == "CAPTURE"
    [unit] = sent["purchase_units"]
    assert unit["custom_id"] == unit["reference_id"] == unit["invoice_id"] == order_id
    assert unit["amount"] == {"currency_code": "USD", "value": "25.00",
                              "breakdown": {"item_total": {"currency_code": "USD", "value": "25.00"}}}, unit["amount"]
    [item] = unit["items"]
    assert (item["name"], item["quantity"]) == ("Field Recordings Vol. 2", "2")
    assert_amount(item["unit_amount"], "12.50")
    context = sent["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"].startswith(souk.url(f"/checkout/success?order={order_id}&key=")), context
    assert "{CHECKOUT_SESSION_ID}" not in context["return_url"]
    assert context["cancel_url"].startswith(souk.url(f"/checkout/cancel?order={order_id}&key=")), context
    paypal_order = fake.order_for(order_id)
    [approve_link] = [link["href"] for link in paypal_order["links"] if link["rel"] == "payer-action"]
    assert response.json()["redirect_url"] == approve_link == order["payment_url"]
    assert fake.capture_calls() == []

    # The buyer approves on PayPal and comes back: the success page captures and thanks them.
    page = shop.come_back(buyer, order)
    query = parse_qs(urlsplit(page.url).query)
    assert query["token"] == [paypal_order["id"]] and query["PayerID"][0].startswith("BUYER"), page.url
    assert "Thank you" in page.text and order_id in page.text, page.text[:1000]
    assert any(f'data-status="{s}"' in page.text for s in ("paid", "fulfilled", "completed"))
    [capture_call] = fake.capture_calls()
    assert capture_call.path == f"/v2/checkout/orders/{paypal_order['id']}/capture"
    assert capture_call.headers["paypal-request-id"] == f"souk-capture-{order_id}"
    assert capture_call.headers["authorization"][7:] in fake.tokens and capture_call.status == 201
    capture = fake.capture_of(order_id)
    assert capture["status"] == "COMPLETED"

    paid = wait_status(souk, buyer.session, order_id, {"completed"})
    assert paid["paid_at"] and paid["payment_url"] is None and paid["refunded_amount"] == 0
    assert buyer.session.get(souk.url("/api/v1/cart")).json()["items"] == []
    assert stock(souk, product["id"]) == 3

    # Back on the page again (a reload): no second capture.
    again = buyer.session.get(page.url)
    assert again.status_code == 200 and "Thank you" in again.text
    assert len(fake.capture_calls()) == 1
    # PayPal's own PAYMENT.CAPTURE.COMPLETED for the same capture arrives later: nothing more happens.
    late = event("PAYMENT.CAPTURE.COMPLETED", capture, resource_type="capture")
    assert outcome(deliver(souk, fake, late)) in ("ignored", "duplicate")
    after = get_order(souk, buyer.session, order_id)
    assert (after["status"], after["paid_at"]) == ("completed", paid["paid_at"])
    # The access token was reused for every call.
    assert len(fake.token_calls()) == 1


def test_the_same_idempotency_key_makes_one_paypal_order(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Sample Pack", publish=True, price=PRICE)

    buyer = api_account(souk, "buyer")
    add_to_cart(souk, buyer.session, product["id"])
    key = str(uuid.uuid4())
    one, two = checkout(souk, buyer.session, key=key), checkout(souk, buyer.session, key=key)
    assert placed(one)["id"] == placed(two)["id"]
    assert one.json()["redirect_url"] == two.json()["redirect_url"]
    assert len(fake.order_creates()) == 1 and len(fake.orders) == 1

    # The same key sent by several tabs at once: still one order, one PayPal order.
    other = api_account(souk, "buyer")
    add_to_cart(souk, other.session, product["id"], 3)
    key = str(uuid.uuid4())
    barrier = threading.Barrier(6)

    def send():
        session = requests.Session()
        session.cookies.update(other.session.cookies)
        barrier.wait(timeout=30)
        return checkout(souk, session, key=key)

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: send(), range(6)))
    ids = {placed(r)["id"] for r in responses}
    assert len(ids) == 1, ids
    assert len({r.json()["redirect_url"] for r in responses}) == 1
    creates = fake.order_creates()
    assert sorted(c.headers["paypal-request-id"] for c in creates) == sorted(
        [f"souk-checkout-{placed(one)['id']}", f"souk-checkout-{ids.pop()}"]), [c.headers for c in creates]
    assert len(fake.orders) == 2


# --- webhooks that pay --------------------------------------------------------------------------------

def test_a_capture_completed_webhook_alone_pays_the_order_once(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Type Specimen", publish=True, price=PRICE, stock=2)
    buyer = api_account(souk, "buyer")
    order = shop.buy(buyer, product)
    paypal_order = fake.order_for(order["id"])

    # The buyer pays on PayPal (the payment is captured there) but never comes back to the store.
    fake.approve(paypal_order["id"])
    capture = fake.capture_now(paypal_order["id"])
    completed = event("PAYMENT.CAPTURE.COMPLETED", capture, resource_type="capture")
    assert outcome(deliver(souk, fake, completed)) == "applied"
    paid = wait_status(souk, buyer.session, order["id"], {"completed"})
    assert paid["paid_at"] and paid["refunded_amount"] == 0
    # PayPal retries the same event (a new transmission, same event id): recorded once.
    assert outcome(deliver(souk, fake, completed)) == "duplicate"
    assert fake.capture_calls() == []
    assert stock(souk, product["id"]) == 1
    # The capture id is what refunds go to.
    assert shop.refund(order["id"]).status_code == 200
    [refund_call] = fake.refund_calls()
    assert refund_call.path == f"/v2/payments/captures/{capture['id']}/refund"


def test_a_pending_capture_waits_for_the_completed_webhook(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("eCheck Course", publish=True, price=PRICE)
    buyer = api_account(souk, "buyer")
    order = shop.buy(buyer, product)

    # An eCheck: the capture on return is PENDING; the page keeps waiting.
    fake.capture_outcome = "pending"
    page = shop.come_back(buyer, order)
    assert len(fake.capture_calls()) == 1
    assert 'data-status="created"' in page.text and "Thank you" not in page.text, page.text[:1000]
    assert get_order(souk, buyer.session, order["id"])["status"] == "created"

    capture = dict(fake.capture_of(order["id"]), status="COMPLETED")
    assert outcome(deliver(souk, fake, event("PAYMENT.CAPTURE.COMPLETED", capture))) == "applied"
    wait_status(souk, buyer.session, order["id"], {"completed"})


def test_an_approved_order_webhook_makes_the_store_capture(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Brush Set", publish=True, price=PRICE)
    buyer = api_account(souk, "buyer")
    order = shop.buy(buyer, product)
    paypal_order_id = fake.order_for(order["id"])["id"]

    # The buyer approved but closed the tab: PayPal sends CHECKOUT.ORDER.APPROVED.
    approved = event("CHECKOUT.ORDER.APPROVED", fake.approve(paypal_order_id), resource_type="checkout-order")
    # The store answers at once and captures from its job queue.
    assert outcome(deliver(souk, fake, approved)) == "applied"
    wait_for(lambda: fake.capture_calls(paypal_order_id), "the store's capture call")
    [capture_call] = fake.capture_calls(paypal_order_id)
    assert capture_call.headers["paypal-request-id"] == f"souk-capture-{order['id']}"
    assert capture_call.status == 201
    assert fake.capture_of(order["id"])["status"] == "COMPLETED"
    paid = wait_status(souk, buyer.session, order["id"], {"completed"})
    assert paid["paid_at"]

    # Redelivered: a duplicate, no new capture. The buyer's late return captures nothing either.
    assert outcome(deliver(souk, fake, approved)) == "duplicate"
    page = requests.get(fake.order(paypal_order_id)["links"][1]["href"], timeout=60)
    assert page.status_code == 200 and "Thank you" in page.text, page.text[:500]
    assert len(fake.capture_calls()) == 1


def test_an_approved_order_is_captured_even_when_the_first_capture_fails(make_souk, fake_paypal):
    """CHECKOUT.ORDER.APPROVED is the only signal when the buyer never comes back. If PayPal's
    capture fails for a moment, the store must still capture: by answering the webhook with an
    error (PayPal then redelivers it) or by trying again itself."""
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Brush Set", publish=True, price=PRICE)
    buyer = api_account(souk, "buyer")
    order = shop.buy(buyer, product)
    paypal_order_id = fake.order_for(order["id"])["id"]
    approved = event("CHECKOUT.ORDER.APPROVED", fake.approve(paypal_order_id), resource_type="checkout-order")

    fake.fail_next_captures(503)
    first = deliver(souk, fake, approved)
    wait_for(lambda: fake.capture_calls(), "the store's first capture call")
    assert fake.capture_calls()[0].status == 503
    if first.status_code == 200:
        # PayPal does not redeliver an event answered 2xx: the store has to capture on its own.
        redelivered = deliver(souk, fake, approved)  # as if PayPal had sent it again anyway
        try:
            wait_status(souk, buyer.session, order["id"], PAID, timeout=10)
        except AssertionError as error:
            raise AssertionError(
                f"the first CHECKOUT.ORDER.APPROVED was answered {first.status_code} {first.text} while the capture "
                f"failed (503); a redelivery answered {redelivered.status_code} {redelivered.text}; capture calls: "
                f"{[c.status for c in fake.capture_calls()]}; {error}\n" + log_tail(souk, 8)) from None
    else:
        assert first.status_code >= 500 or first.status_code == 400, first.text
        assert outcome(deliver(souk, fake, approved)) == "applied"
        wait_status(souk, buyer.session, order["id"], PAID)
    assert fake.capture_of(order["id"])["status"] == "COMPLETED"


# --- forged webhooks ---------------------------------------------------------------------------------

def test_forged_or_stale_webhooks_are_refused_and_change_nothing(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Limited Print", publish=True, price=PRICE, stock=3)
    buyer = api_account(souk, "buyer")
    order = shop.buy(buyer, product)
    paypal_order_id = fake.order_for(order["id"])["id"]
    fake.approve(paypal_order_id)
    capture = fake.capture_now(paypal_order_id)
    completed = event("PAYMENT.CAPTURE.COMPLETED", capture, resource_type="capture")

    # The same certificate served by a second fake on another port of the same host.
    other_port = FakePayPal().start()
    fake.redirect_certificates_to = other_port.cert_url.replace("127.0.0.1", "localhost")
    try:
        cases = {
            "signed for another webhook id": dict(webhook_id="WH-SOMEONE-ELSE"),
            "signature of other bytes": dict(tamper=lambda body: body.replace(b'"COMPLETED"', b'"COMPLETED" ')),
            "transmission time 10 minutes ago": dict(transmission_time=iso_now(-600)),
            "transmission time 10 minutes ahead": dict(transmission_time=iso_now(600)),
            "stale time with fractional seconds": dict(transmission_time="2020-01-01T00:00:00.000Z"),
            "stale time with an offset": dict(transmission_time="2020-01-01T00:00:00+00:00"),
            "certificate on another host": dict(cert_url="https://evil.example.com/cert.pem"),
            "certificate on a look-alike host": dict(cert_url="https://api.paypal.com.evil.example.com/cert.pem"),
            "certificate over http from paypal.com": dict(cert_url="http://api.paypal.com/cert.pem"),
            "certificate on another port of the API host": dict(cert_url=other_port.cert_url),
            "expired certificate": dict(cert_url=fake.base_url + "/certs/expired.pem"),
            "PayPal's name from an untrusted CA": dict(cert_url=fake.base_url + "/certs/untrusted.pem"),
            "the trusted CA, another name": dict(cert_url=fake.base_url + "/certs/wrong-subject.pem"),
            "self-signed with PayPal's name": dict(cert_url=fake.base_url + "/certs/self-signed.pem"),
            # Following it would reach a good certificate (on a host the store does not trust).
            "certificate URL redirecting to another host": dict(cert_url=fake.base_url + "/certs/moved.pem"),
            "certificate URL that serves no certificate": dict(cert_url=fake.base_url + "/v1/oauth2/token"),
        }
        for header in ("PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME", "PAYPAL-TRANSMISSION-SIG",
                       "PAYPAL-CERT-URL"):
            cases[f"no {header}"] = dict(drop=header)
        failures = []

        def refused(what: str, response: requests.Response):
            try:
                assert_problem(response, 400, "bad_request")
            except AssertionError as error:
                failures.append(f"{what}: {error}")

        for what, options in cases.items():
            refused(what, deliver(souk, fake, completed, **options))

        # Headers PayPal would never send.
        body = json.dumps(completed).encode()
        for what, change in {
            "signature not base64": {"PAYPAL-TRANSMISSION-SIG": "not base64 at all!"},
            "signature of nothing": {"PAYPAL-TRANSMISSION-SIG": base64.b64encode(b"\0" * 256).decode()},
            "another algorithm": {"PAYPAL-AUTH-ALGO": "SHA1withRSA"},
        }.items():
            headers = {**webhook_headers(body, fake.cert_url), **change}
            refused(what, requests.post(souk.url("/webhooks/paypal"), data=body, headers=headers, timeout=30))
        refused("no headers at all", requests.post(souk.url("/webhooks/paypal"), data=body,
                                                    headers={"Content-Type": "application/json"}, timeout=30))
    finally:
        other_port.stop()

    assert not failures, "accepted forged webhooks:\n" + "\n".join(failures) + "\n--- log:\n" + log_tail(souk)
    now = get_order(souk, buyer.session, order["id"])
    assert (now["status"], now["paid_at"]) == ("created", None), now
    assert stock(souk, product["id"]) == 2

    # Nothing was recorded: the genuine delivery of the same event id still applies.
    assert outcome(deliver(souk, fake, completed)) == "applied"
    wait_status(souk, buyer.session, order["id"], PAID)


def test_a_webhook_whose_transmission_time_cannot_be_read_is_refused(make_souk, fake_paypal):
    """The 300-second window must fail closed: a time that is not ISO 8601 cannot be checked."""
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Limited Print", publish=True, price=PRICE)
    buyer = api_account(souk, "buyer")
    order = shop.buy(buyer, product)
    paypal_order_id = fake.order_for(order["id"])["id"]
    fake.approve(paypal_order_id)
    completed = event("PAYMENT.CAPTURE.COMPLETED", fake.capture_now(paypal_order_id))
    for unreadable in ("yesterday", "Mon, 01 Jan 2018 00:00:00 GMT", "1514764800"):
        response = deliver(souk, fake, completed, transmission_time=unreadable)
        assert response.status_code == 400, (
            f"PAYPAL-TRANSMISSION-TIME {unreadable!r} (correctly signed) answered {response.status_code} "
            f"{response.text}; the order is now {get_order(souk, buyer.session, order['id'])['status']}\n"
            + log_tail(souk, 6))
        assert_problem(response, 400, "bad_request")
    assert get_order(souk, buyer.session, order["id"])["status"] == "created"


# --- refunds -------------------------------------------------------------------------------------------

def test_a_seller_refund_goes_through_paypal_with_the_decimal_amount(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Live at the Souk", publish=True, price=PRICE)
    buyer = api_account(souk, "buyer")
    order, capture_id = shop.paid_order(buyer, product)

    response = shop.refund(order["id"], reason="wrong file")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["refunded_amount"]) == ("refunded", PRICE)
    [call] = fake.refund_calls(capture_id)
    assert call.status == 201
    assert call.json == {"amount": {"currency_code": "USD", "value": "12.50"}, "custom_id": order["id"]}, call.json
    assert call.headers["paypal-request-id"] and call.headers["authorization"][7:] in fake.tokens
    assert fake.captures[capture_id]["status"] == "REFUNDED"
    assert get_order(souk, buyer.session, order["id"])["status"] == "refunded"

    # PayPal's PAYMENT.CAPTURE.REFUNDED for this very refund: already counted.
    [refund_id] = fake.refunds
    echo = event("PAYMENT.CAPTURE.REFUNDED", refund_resource(refund_id, order["id"], PRICE, PRICE))
    assert outcome(deliver(souk, fake, echo)) == "ignored"
    after = get_order(souk, buyer.session, order["id"])
    assert (after["status"], after["refunded_amount"]) == ("refunded", PRICE)
    # Nothing left to refund.
    assert_problem(shop.refund(order["id"]), 409, "conflict")
    assert len(fake.refund_calls()) == 1


def test_partial_refunds_and_a_refused_refund(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Pottery Course", publish=True, price=PRICE)
    buyer = api_account(souk, "buyer")
    order, capture_id = shop.paid_order(buyer, product)

    def state():
        now = get_order(souk, buyer.session, order["id"])
        return now["status"], now["refunded_amount"]

    partial = shop.refund(order["id"], amount=475)
    assert partial.status_code == 200, partial.text
    assert (partial.json()["status"], partial.json()["refunded_amount"]) == ("partially_refunded", 475)
    assert state() == ("partially_refunded", 475)

    # PayPal refuses (422): 502, nothing recorded.
    fake.fail_refunds(422)
    refused = shop.refund(order["id"], amount=100)
    assert_problem(refused, 502, "payment_provider_error")
    assert "REFUND_NOT_ALLOWED" in refused.json()["detail"] or "refund" in refused.json()["detail"].lower()
    assert state() == ("partially_refunded", 475)
    fake.fail_refunds(None)

    rest = shop.refund(order["id"])
    assert rest.status_code == 200, rest.text
    assert (rest.json()["status"], rest.json()["refunded_amount"]) == ("refunded", PRICE)
    accepted = [c for c in fake.refund_calls(capture_id) if c.status == 201]
    assert [c.json["amount"]["value"] for c in accepted] == ["4.75", "7.75"]
    assert len({c.headers["paypal-request-id"] for c in accepted}) == 2
    assert state() == ("refunded", PRICE)


def test_refunds_made_at_paypal_reach_the_order_through_webhooks(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Lo-fi Loops", publish=True, price=PRICE)
    buyer = api_account(souk, "buyer")
    order, _ = shop.paid_order(buyer, product)

    first = event("PAYMENT.CAPTURE.REFUNDED", refund_resource("RF1" + uuid.uuid4().hex[:10].upper(), order["id"], 500, 500))
    assert outcome(deliver(souk, fake, first)) == "applied"
    now = get_order(souk, buyer.session, order["id"])
    assert (now["status"], now["refunded_amount"]) == ("partially_refunded", 500)
    assert outcome(deliver(souk, fake, first)) == "duplicate"

    rest = event("PAYMENT.CAPTURE.REFUNDED", refund_resource("RF2" + uuid.uuid4().hex[:10].upper(), order["id"], 750, PRICE))
    assert outcome(deliver(souk, fake, rest)) == "applied"
    now = get_order(souk, buyer.session, order["id"])
    assert (now["status"], now["refunded_amount"]) == ("refunded", PRICE)
    assert fake.refund_calls() == [], "a refund made at PayPal must not be refunded again through the API"


def test_disputes_lost_refund_the_order_and_won_restore_it(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Grotesk Sans Family", publish=True, price=PRICE)
    buyer = api_account(souk, "buyer")

    order, capture_id = shop.paid_order(buyer, product)
    opened = dispute_resource(capture_id, PRICE)
    assert outcome(deliver(souk, fake, event("CUSTOMER.DISPUTE.CREATED", opened))) == "applied"
    assert get_order(souk, buyer.session, order["id"])["status"] == "disputed"
    lost = dict(opened, status="RESOLVED", dispute_outcome={"outcome_code": "RESOLVED_BUYER_FAVOUR"})
    assert outcome(deliver(souk, fake, event("CUSTOMER.DISPUTE.RESOLVED", lost))) == "applied"
    now = get_order(souk, buyer.session, order["id"])
    assert (now["status"], now["refunded_amount"]) == ("refunded", PRICE)

    order, capture_id = shop.paid_order(buyer, product)
    opened = dispute_resource(capture_id, PRICE)
    assert outcome(deliver(souk, fake, event("CUSTOMER.DISPUTE.CREATED", opened))) == "applied"
    won = dict(opened, status="RESOLVED", dispute_outcome={"outcome_code": "RESOLVED_SELLER_FAVOUR"})
    assert outcome(deliver(souk, fake, event("CUSTOMER.DISPUTE.RESOLVED", won))) == "applied"
    now = get_order(souk, buyer.session, order["id"])
    assert (now["status"], now["refunded_amount"]) == ("completed", 0)
    assert fake.refund_calls() == []


# --- amounts in a currency without minor units -------------------------------------------------------

def test_yen_amounts_have_no_decimals(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Tokyo Street Photos", publish=True, price=500, currency="JPY")
    assert (product["price"], product["currency"]) == (500, "JPY"), product
    buyer = api_account(souk, "buyer")
    order, capture_id = shop.paid_order(buyer, product)
    assert (order["currency"], order["total"]) == ("JPY", 500)

    [create] = fake.order_creates()
    [unit] = create.json["purchase_units"]
    assert unit["amount"] == {"currency_code": "JPY", "value": "500",
                              "breakdown": {"item_total": {"currency_code": "JPY", "value": "500"}}}, unit["amount"]
    assert_amount(unit["items"][0]["unit_amount"], "500", "JPY")

    partial = shop.refund(order["id"], amount=123)
    assert partial.status_code == 200, partial.text
    [call] = fake.refund_calls(capture_id)
    assert_amount(call.json["amount"], "123", "JPY")
    assert (partial.json()["status"], partial.json()["refunded_amount"]) == ("partially_refunded", 123)

    # The rest refunded at PayPal: the webhook's "500" total is 500 yen, not 5.
    rest = event("PAYMENT.CAPTURE.REFUNDED",
                 refund_resource("RF" + uuid.uuid4().hex[:12].upper(), order["id"], 377, 500, currency="JPY"))
    assert outcome(deliver(souk, fake, rest)) == "applied"
    now = get_order(souk, buyer.session, order["id"])
    assert (now["status"], now["refunded_amount"]) == ("refunded", 500)


# --- captures that do not simply complete ------------------------------------------------------------

def test_a_declined_capture_fails_the_order_and_releases_its_stock(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Numbered Edition", publish=True, price=PRICE, stock=1)
    buyer = api_account(souk, "buyer")
    order = shop.buy(buyer, product)
    assert stock(souk, product["id"]) == 0

    fake.capture_outcome = "declined"
    page = shop.come_back(buyer, order)
    assert len(fake.capture_calls()) == 1 and fake.capture_of(order["id"])["status"] == "DECLINED"
    now = get_order(souk, buyer.session, order["id"])
    assert (now["status"], now["paid_at"]) == ("payment_failed", None), now
    assert stock(souk, product["id"]) == 1
    assert 'data-status="payment_failed"' in page.text and 'id="order-paid"' not in page.text, page.text[:1500]


def test_the_return_page_of_a_declined_payment_does_not_thank_the_buyer(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Numbered Edition", publish=True, price=PRICE)
    buyer = api_account(souk, "buyer")
    order = shop.buy(buyer, product)
    fake.capture_outcome = "declined"
    page = shop.come_back(buyer, order)
    assert 'data-status="payment_failed"' in page.text, page.text[:1500]
    heading = page.text.split("<h1>", 1)[1].split("</h1>", 1)[0]
    title = page.text.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "Thank you" not in heading, (
        f"GET {page.url} for a payment_failed order is headed {heading!r} (title {title!r})")


def test_an_order_captured_already_is_looked_up(make_souk, fake_paypal):
    shop = Shop(make_souk, fake_paypal)
    souk, fake = shop.souk, fake_paypal
    product = shop.seller.create("Sound Kit", publish=True, price=PRICE)
    buyer = api_account(souk, "buyer")
    order = shop.buy(buyer, product)
    paypal_order_id = fake.order_for(order["id"])["id"]

    # The capture happens at PayPal but the answer is ORDER_ALREADY_CAPTURED: the store GETs the order.
    fake.capture_outcome = "already_captured"
    page = shop.come_back(buyer, order)
    [capture_call] = fake.capture_calls()
    assert capture_call.status == 422
    assert fake.calls("GET", f"/v2/checkout/orders/{paypal_order_id}"), [r.path for r in fake.calls()]
    assert "Thank you" in page.text, page.text[:1000]
    wait_status(souk, buyer.session, order["id"], {"completed"})
    # The capture found is the one refunds go to.
    assert shop.refund(order["id"]).status_code == 200
    [refund_call] = fake.refund_calls()
    assert refund_call.path == f"/v2/payments/captures/{fake.capture_of(order['id'])['id']}/refund"
