"""A store set up for the fault scenarios: a verified seller selling a license (one key per unit)
and an e-book with a file; buyers who check out through the fake Stripe; webhook events as Stripe
sends them, signed anew at each delivery attempt."""
import copy
import json
import os
import uuid

import requests

from fake_stripe import event, signature_header
from fault_helpers import parallel, thread_session
from shop_helpers import add_to_cart, checkout, placed
from test_catalog_api import api_account, cli_account


class Storefront:
    def __init__(self, souk):
        self.souk = souk
        self.seller = cli_account(souk, "seller")
        self.app = self.seller.create("Keyed App", publish=True, kind="license", price=700, activation_limit=2)
        self.book = self.seller.create("Field Guide", publish=True, price=900)
        uploaded = requests.post(souk.url(f"/api/v1/products/{self.book['id']}/files"),
                                 params={"filename": "guide.pdf"}, data=os.urandom(64 * 1024),
                                 headers={**self.seller.bearer, "Content-Type": "application/octet-stream"})
        assert uploaded.status_code == 201, uploaded.text
        self.product_ids = [self.app["id"], self.book["id"]]

    def place_stripe_order(self, _=None):
        """A new buyer puts both products in the cart and checks out with Stripe; returns
        (order id, buyer account)."""
        buyer = api_account(self.souk, "buyer")
        for product_id in self.product_ids:
            add_to_cart(self.souk, buyer.session, product_id)
        order = placed(checkout(self.souk, buyer.session, key=str(uuid.uuid4())))
        return order["id"], buyer

    def place_stripe_orders(self, count: int, workers: int = 6):
        return parallel(self.place_stripe_order, range(count), workers)

    def library_of(self, buyer) -> list[dict]:
        response = buyer.session.get(self.souk.url("/api/v1/library"))
        assert response.status_code == 200, response.text
        return response.json()["data"]


def paid_events(fake, order_id: str, delayed: bool = False) -> list[dict]:
    """The events Stripe sends when the buyer pays the order's checkout session: by card, one
    `checkout.session.completed` (paid); by a delayed method, `checkout.session.completed`
    (unpaid, still processing) then `checkout.session.async_payment_succeeded` (paid)."""
    session = fake.session_for_order(order_id)
    paid = fake.mark_paid(session["id"])
    if not delayed:
        return [event("checkout.session.completed", paid)]
    processing = copy.deepcopy(paid)
    processing["payment_status"] = "unpaid"
    return [event("checkout.session.completed", processing),
            event("checkout.session.async_payment_succeeded", paid)]


def post_webhook(souk, built: dict, timeout: float = 60) -> tuple[int | None, str]:
    """One delivery attempt of an event to `/webhooks/stripe`, signed now (as Stripe signs each
    attempt); returns (status, outcome), or (None, the error) when no answer came."""
    payload = json.dumps(built, indent=2)
    headers = {"Content-Type": "application/json; charset=utf-8",
               "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
               "Stripe-Signature": signature_header(payload)}
    try:
        response = thread_session().post(souk.url("/webhooks/stripe"), data=payload.encode(), headers=headers,
                                         timeout=timeout)
    except requests.RequestException as error:
        # A connection the server dropped: start the next attempt on a fresh one.
        thread_session().close()
        return None, f"{type(error).__name__}: {error}"
    try:
        outcome = response.json().get("outcome", "")
    except ValueError:
        outcome = response.text[:200]
    return response.status_code, outcome
