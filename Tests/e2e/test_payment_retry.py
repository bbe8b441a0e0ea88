"""A declined payment (issue 13): the order page offers "Try again", which puts the products back in
the cart for a new checkout; the declined order never shows in the seller's sales, nor counts in
their numbers. A guest retries with the order's view key; nobody else can."""
import time
import uuid
from urllib.parse import parse_qs, urlparse

import requests

from conftest import csrf_from
from shop_helpers import wait_status
from test_catalog_api import STORE, api_account, cli_account

FAST = {**STORE, "SOUK_JOBS_POLL_MILLISECONDS": "50"}


def check_out(souk, session, product_id, choice, amount=None, email=None):
    """Cart and checkout with the test provider, then `choice` (pay / decline) on its page, as a
    browser would; returns (order id, the order page's address from the checkout links)."""
    body = {"product_id": product_id, **({"amount": amount} if amount else {})}
    assert session.post(souk.url("/api/v1/cart/items"), json=body).status_code == 200
    checkout = session.post(souk.url("/api/v1/checkout"), json={"provider": "test", **({"email": email} if email else {})},
                            headers={"Idempotency-Key": str(uuid.uuid4())})
    assert checkout.status_code == 201, checkout.text
    redirect = checkout.json()["redirect_url"]
    hosted = session.get(redirect)
    done = session.post(souk.url(f"/test-checkout/{redirect.rsplit('/', 1)[1]}/{choice}"),
                        data={"_csrf": csrf_from(hosted.text)})
    assert done.status_code == 200, done.text[:300]
    # The provider sends the buyer back to /checkout/success or /checkout/cancel?order=…&key=….
    query = parse_qs(urlparse(done.url).query)
    order = checkout.json()["order"]["id"]
    assert query.get("order") == [order], done.url
    return order, f"/orders/{order}?key={query['key'][0]}" if "key" in query else None


def test_a_declined_payment_can_be_tried_again_and_never_counts_as_a_sale(make_souk):
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    product = seller.create("Tern Sketches", publish=True, price=2900)
    pwyw = seller.create("Tip Jar Zine", publish=True, price=800, min_price=500)
    buyer = api_account(souk, "buyer")

    declined, _ = check_out(souk, buyer.session, product["id"], "decline")
    wait_status(souk, buyer.session, declined, {"payment_failed"})
    # The seller's sales page lists no sale for it, and no share of it.
    sales = seller.session.get(souk.url("/dashboard/sales")).text
    assert declined not in sales and "$29.00" not in sales and "$26.10" not in sales

    page = buyer.session.get(souk.url(f"/orders/{declined}")).text
    assert 'id="order-retry"' in page and "Try again" in page
    csrf = csrf_from(page)
    retried = buyer.session.post(souk.url(f"/orders/{declined}/retry"), data={"_csrf": csrf}, allow_redirects=False)
    assert retried.status_code == 303 and retried.headers["Location"].startswith("/cart")
    cart = buyer.session.get(souk.url("/api/v1/cart")).json()
    assert [item["product_id"] for item in cart["items"]] == [product["id"]]
    checkout = buyer.session.post(souk.url("/api/v1/checkout"), json={"provider": "test"},
                                  headers={"Idempotency-Key": str(uuid.uuid4())})
    assert checkout.status_code == 201, checkout.text
    redirect = checkout.json()["redirect_url"]
    paid = buyer.session.post(souk.url(f"/test-checkout/{redirect.rsplit('/', 1)[1]}/pay"),
                              data={"_csrf": csrf_from(buyer.session.get(redirect).text)})
    assert paid.status_code == 200
    new_order = checkout.json()["order"]["id"]
    wait_status(souk, buyer.session, new_order, {"fulfilled", "completed"})
    sales = seller.session.get(souk.url("/dashboard/sales")).text
    assert new_order in sales and declined not in sales

    # A paid order has nothing to retry; someone else's order is not theirs to retry.
    page = buyer.session.get(souk.url(f"/orders/{new_order}")).text
    assert 'id="order-retry"' not in page
    refused = buyer.session.post(souk.url(f"/orders/{new_order}/retry"), data={"_csrf": csrf_from(page)})
    assert refused.status_code == 409 and "no payment to try again" in refused.text
    stranger = api_account(souk, "buyer")
    other_csrf = csrf_from(stranger.session.get(souk.url("/cart")).text)
    assert stranger.session.post(souk.url(f"/orders/{declined}/retry"), data={"_csrf": other_csrf}).status_code == 404
    seller_csrf = csrf_from(seller.session.get(souk.url("/cart")).text)
    assert seller.session.post(souk.url(f"/orders/{declined}/retry"), data={"_csrf": seller_csrf}).status_code == 404

    # A pay-what-you-want product comes back at the amount chosen before.
    tipped, _ = check_out(souk, buyer.session, pwyw["id"], "decline", amount=1200)
    wait_status(souk, buyer.session, tipped, {"payment_failed"})
    page = buyer.session.get(souk.url(f"/orders/{tipped}")).text
    buyer.session.post(souk.url(f"/orders/{tipped}/retry"), data={"_csrf": csrf_from(page)}, allow_redirects=False)
    items = buyer.session.get(souk.url("/api/v1/cart")).json()["items"]
    assert [(i["product_id"], i["unit_amount"]) for i in items] == [(pwyw["id"], 1200)], items


def test_a_guest_retries_with_the_order_link(make_souk):
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    product = seller.create("Gull Prints", publish=True, price=1500)
    guest = requests.Session()
    order, link = check_out(souk, guest, product["id"], "decline", email="guest@example.com")
    assert link, "the test provider's cancel page links to the order"
    deadline = time.time() + 10
    while time.time() < deadline and "Payment failed" not in guest.get(souk.url(link)).text:
        time.sleep(0.1)
    page = guest.get(souk.url(link)).text
    assert 'id="order-retry"' in page and 'name="key"' in page
    retried = guest.post(souk.url(f"/orders/{order}/retry"), data={"_csrf": csrf_from(page), "key": link.split("key=")[1]},
                         allow_redirects=False)
    assert retried.status_code == 303
    assert [i["product_id"] for i in guest.get(souk.url("/api/v1/cart")).json()["items"]] == [product["id"]]
    # Without the key, a stranger's browser gets nothing.
    stranger = requests.Session()
    csrf = csrf_from(stranger.get(souk.url("/signin")).text)
    assert stranger.post(souk.url(f"/orders/{order}/retry"), data={"_csrf": csrf, "key": "forged"}).status_code == 404
