"""The operator's view of the money: `souk order list|show|refund` and `souk payouts`, on orders
paid through the built-in test provider (test orders: shown as such, never owed; payouts of real
money are covered by test_money_path.py), and the order answers checked against the OpenAPI document."""
import json
import re
import time
from pathlib import Path

import requests
import schemathesis

from test_catalog_api import api_account, cli_account

DOCUMENT = Path(__file__).resolve().parents[2] / "Sources" / "SoukHTTP" / "Templates" / "openapi.json"
FAST = {"SOUK_JOBS_POLL_MILLISECONDS": "100", "SOUK_STORE_MARKETPLACE": "true", "SOUK_STORE_FEE_PERCENT": "10"}


def buy(souk, buyer, product_ids, key):
    """Puts the products in the buyer's cart, checks out with the test provider and presses Pay on
    its hosted page, as a browser would. Returns the paid order."""
    for product_id in product_ids:
        added = buyer.session.post(souk.url("/api/v1/cart/items"), json={"product_id": product_id})
        assert added.status_code == 200, added.text
    checkout = buyer.session.post(souk.url("/api/v1/checkout"), json={"provider": "test"},
                                  headers={"Idempotency-Key": key})
    assert checkout.status_code == 201, checkout.text
    hosted = buyer.session.get(checkout.json()["redirect_url"])
    assert hosted.status_code == 200 and "TEST MODE" in hosted.text
    csrf = re.search(r'name="_csrf" value="([^"]+)"', hosted.text).group(1)
    session_id = checkout.json()["redirect_url"].rsplit("/", 1)[1]
    paid = buyer.session.post(souk.url(f"/test-checkout/{session_id}/pay"), data={"_csrf": csrf}, allow_redirects=False)
    assert paid.status_code == 303
    return wait_for(souk, buyer, checkout.json()["order"]["id"], {"paid", "fulfilled", "completed"})


def wait_for(souk, account, order_id, statuses, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        order = account.session.get(souk.url(f"/api/v1/orders/{order_id}")).json()
        if order["status"] in statuses:
            return order
        time.sleep(0.1)
    raise AssertionError(f"order {order_id} stayed {order['status']}, expected one of {statuses}")


def test_operator_lists_shows_refunds_and_reports_payouts(make_souk):
    souk = make_souk(env=FAST)
    alice = cli_account(souk, "seller", "alice@example.com")
    bob = cli_account(souk, "seller", "bob@example.com")
    book = alice.create("Alice's Book", publish=True, price=2000)
    course = bob.create("Bob's Course", publish=True, price=5000)
    buyer = api_account(souk, "buyer", "buyer@example.com")
    both = buy(souk, buyer, [book["id"], course["id"]], "order-1")
    only_alice = buy(souk, buyer, [book["id"]], "order-2")

    listed = json.loads(souk.cli("order", "list", "--json").stdout)
    assert {o["id"] for o in listed} == {both["id"], only_alice["id"]}
    assert json.loads(souk.cli("order", "list", "--seller", "bob@example.com", "--json").stdout)[0]["id"] == both["id"]
    assert souk.cli("order", "list", "--buyer", "nobody@example.com", check=False).returncode != 0
    table = souk.cli("order", "list").stdout
    assert "ID" in table and both["id"] in table and "buyer@example.com" in table

    shown = json.loads(souk.cli("order", "show", both["id"], "--json").stdout)
    assert shown["total"] == 7000 and shown["status"] in {"paid", "fulfilled", "completed"}
    assert {(i["title"], i["fee_amount"], i["seller_amount"]) for i in shown["items"]} == {
        ("Alice's Book", 200, 1800), ("Bob's Course", 500, 4500)}
    assert [g["active"] for g in shown["grants"]] == [True, True]
    assert shown["provider_payment_id"].startswith("pi_test_")
    text = souk.cli("order", "show", both["id"]).stdout
    assert "2 active grant(s)" in text
    # Tables speak money ("$70.00"); --json keeps minor units (above).
    assert "total     $70.00" in text and "$45.00" in text, text
    assert "$70.00" in table, table
    missing = souk.cli("order", "show", "ord_nope", check=False)
    assert missing.returncode != 0 and "ord_nope" in missing.stderr

    # Paid with the test provider: test orders, marked as such, and never money owed.
    assert shown["test"] is True and "TEST ORDER" in text
    assert json.loads(souk.cli("payouts", "--json").stdout) == []
    assert "test orders are never counted" in souk.cli("payouts").stdout

    # The operator refunds part of Alice's own order, then the rest: the provider is called each time.
    partial = souk.cli("order", "refund", only_alice["id"], "--amount", "500", "--reason", "goodwill")
    assert "Refunded $5.00 of $20.00 on order #" in partial.stdout and "partially_refunded" in partial.stdout
    too_much = souk.cli("order", "refund", only_alice["id"], "--amount", "5000", check=False)
    assert too_much.returncode != 0 and "$15.00" in too_much.stderr
    souk.cli("order", "refund", only_alice["id"])
    refunded = wait_for(souk, buyer, only_alice["id"], {"refunded"})
    assert refunded["refunded_amount"] == 2000
    shown = json.loads(souk.cli("order", "show", only_alice["id"], "--json").stdout)
    assert [r["amount"] for r in shown["refunds"]] == [500, 1500]
    assert all(r["requested_by"] == "operator" and r["provider_refund_id"].startswith("re_test_") for r in shown["refunds"])
    assert [g["active"] for g in shown["grants"]] == [False]
    again = souk.cli("order", "refund", only_alice["id"], check=False)
    assert again.returncode != 0 and "nothing to refund" in again.stderr

    assert json.loads(souk.cli("payouts", "--json").stdout) == [], "refunded or not, test orders are never owed"


def test_order_answers_match_the_document(make_souk):
    """Answers fuzzing cannot reach (a real paid order, a seller's view, a refund) match openapi.json."""
    document = schemathesis.openapi.from_path(DOCUMENT)

    def conforms(method, path, response):
        operation = document[path][method]
        assert str(response.status_code) in operation.definition.raw["responses"], response.text
        operation.validate_response(response)

    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    product = seller.create("Documented", publish=True, price=1500, stock=5)
    buyer = api_account(souk, "buyer")
    added = buyer.session.post(souk.url("/api/v1/cart/items"), json={"product_id": product["id"]})
    assert added.status_code == 200
    checkout = buyer.session.post(souk.url("/api/v1/checkout"), json={"provider": "test"}, headers={"Idempotency-Key": "doc"})
    conforms("POST", "/api/v1/checkout", checkout)
    bad_key = buyer.session.post(souk.url("/api/v1/checkout"), json={}, headers={"Idempotency-Key": "has space"})
    assert bad_key.status_code == 400
    conforms("POST", "/api/v1/checkout", bad_key)
    unknown = buyer.session.post(souk.url("/api/v1/checkout"), json={"provider": "stripe"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "provider"
    conforms("POST", "/api/v1/checkout", unknown)

    order = buy(souk, buyer, [], "doc")
    conforms("GET", "/api/v1/orders/{id}", buyer.session.get(souk.url(f"/api/v1/orders/{order['id']}")))
    conforms("GET", "/api/v1/orders", buyer.session.get(souk.url("/api/v1/orders")))
    conforms("GET", "/api/v1/orders", seller.session.get(souk.url("/api/v1/orders")))
    by_buyer = buyer.session.post(souk.url(f"/api/v1/orders/{order['id']}/refund"), json={})
    assert by_buyer.status_code == 403
    conforms("POST", "/api/v1/orders/{id}/refund", by_buyer)
    refunded = seller.session.post(souk.url(f"/api/v1/orders/{order['id']}/refund"), json={"amount": 100})
    assert refunded.status_code == 200 and refunded.json()["status"] == "partially_refunded"
    conforms("POST", "/api/v1/orders/{id}/refund", refunded)
    stranger = api_account(souk, "buyer")
    hidden = stranger.session.get(souk.url(f"/api/v1/orders/{order['id']}"))
    assert hidden.status_code == 404
    conforms("GET", "/api/v1/orders/{id}", hidden)
    forged = requests.post(souk.url("/webhooks/test"), data=b"{}", headers={"Content-Type": "application/json",
                                                                            "Stripe-Signature": "t=1,v1=00"})
    assert forged.status_code == 400
    conforms("POST", "/webhooks/{provider}", forged)
