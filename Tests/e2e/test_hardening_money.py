"""Hardening of the money path, attacked over HTTP against the real binary:

- the test provider is explicit: a store with Stripe keys and nothing else set refuses test
  payments and has no test checkout pages; with `payments.test_enabled = true` they work, every
  page says TEST MODE, `souk config check` warns, and each test order is marked as one in the API,
  the pages and the CLI, and never counted as money owed;
- a payment must match its order: correctly signed `checkout.session.completed` events paying the
  wrong amount, in the wrong currency or through another checkout session grant nothing, are shown
  to the operator and are refunded through the provider.
"""
import json
import re
import subprocess
import uuid

import requests

from conftest import SOUK_BIN, assert_problem, csrf_from
from fake_stripe import WEBHOOK_SECRET, deliver, event, fake_stripe  # noqa: F401  (fake_stripe is a fixture)
from shop_helpers import add_to_cart, checkout, get_order, outcome, placed, wait_for, wait_status
from test_catalog_api import api_account, cli_account

QUIET_LIMITS = {
    "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
    "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "0",
    "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "0",
}


def stripe_only_env(fake, **extra) -> dict:
    """Stripe's keys and nothing else about payments: no `payments.default`, no test setting."""
    return {
        "SOUK_PAYMENTS_STRIPE_SECRET_KEY": fake.secret_key,
        "SOUK_PAYMENTS_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SOUK_PAYMENTS_STRIPE_API_BASE": fake.base_url,
        "SOUK_STORE_MARKETPLACE": "true",
        "SOUK_JOBS_POLL_MILLISECONDS": "100",
        **QUIET_LIMITS,
        **extra,
    }


def pay_on_test_page(souk, session: requests.Session, redirect_url: str):
    """Presses Pay on the test provider's hosted page, as a browser would."""
    hosted = session.get(redirect_url)
    assert hosted.status_code == 200 and "TEST MODE" in hosted.text
    session_id = redirect_url.rsplit("/", 1)[1]
    paid = session.post(souk.url(f"/test-checkout/{session_id}/pay"), data={"_csrf": csrf_from(hosted.text)},
                        allow_redirects=False)
    assert paid.status_code == 303, paid.text


# --- 1. the test provider is explicit ---------------------------------------------------------------

def test_with_stripe_configured_test_payments_do_not_exist(make_souk, fake_stripe):
    souk = make_souk(env=stripe_only_env(fake_stripe))
    seller = cli_account(souk, "seller")
    product = seller.create("Real Goods", publish=True, price=2500)
    buyer = api_account(souk, "buyer")
    add_to_cart(souk, buyer.session, product["id"])

    # The attack: pick the test provider, then press Pay on its page.
    refused = checkout(souk, buyer.session, key=str(uuid.uuid4()), provider="test")
    body = assert_problem(refused, 422, "validation_failed")
    assert body.get("field") == "provider" and "test" in body["detail"], body
    assert buyer.session.get(souk.url("/api/v1/orders")).json()["data"] == [], "no order was placed"
    assert requests.get(souk.url("/test-checkout/cs_test_anything")).status_code == 404
    forged = requests.post(souk.url("/webhooks/test"), data=b"{}",
                           headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"})
    assert forged.status_code == 404

    # Nothing says TEST MODE, and checkout without a provider takes Stripe, the only one offered.
    for path in ("/", "/cart", "/signin", f"/products/{product['slug']}"):
        page = buyer.session.get(souk.url(path))
        assert page.status_code == 200 and "TEST MODE" not in page.text, path
    checkout_page = buyer.session.get(souk.url("/checkout"))
    assert re.findall(r'name="provider" value="([^"]+)"', checkout_page.text) == ["stripe"], checkout_page.text
    order = placed(buyer.session.post(souk.url("/api/v1/checkout"), json={}, headers={"Idempotency-Key": "k1"}))
    assert order["provider"] == "stripe" and order["test"] is False
    assert fake_stripe.session_for_order(order["id"])

    check = souk.cli("config", "check")
    assert "test_enabled" not in check.stderr, check.stderr


def test_test_payments_switched_on_beside_stripe_are_marked_everywhere(make_souk, fake_stripe):
    souk = make_souk(env=stripe_only_env(fake_stripe, SOUK_PAYMENTS_TEST_ENABLED="true"))
    check = souk.cli("config", "check")
    assert "warning: payments.test_enabled" in check.stderr and "without paying" in check.stderr, check.stderr
    assert "test payments are offered beside Stripe" in souk.log_path.read_text()

    seller = cli_account(souk, "seller", "seller@example.com")
    admin = cli_account(souk, "admin", "admin@example.com")
    product = seller.create("Rehearsal Goods", publish=True, price=2500)
    buyer = api_account(souk, "buyer", "buyer@example.com")

    # Every page says TEST MODE: signed out, as the buyer, the seller and the admin, and errors too.
    anonymous = requests.Session()
    pages = {
        anonymous: ["/", "/search?q=goods", f"/products/{product['slug']}", "/signin", "/signup", "/cart",
                    "/checkout", "/no/such/page"],
        buyer.session: ["/", "/account", "/orders", "/library", "/notifications", "/cart"],
        seller.session: ["/dashboard", "/dashboard/sales", "/dashboard/new"],
        admin.session: ["/", "/account"],
    }
    for session, paths in pages.items():
        for path in paths:
            page = session.get(souk.url(path), headers={"Accept": "text/html,application/xhtml+xml"})
            assert "text/html" in page.headers.get("Content-Type", ""), (path, page.headers)
            assert "TEST MODE" in page.text, f"{path} ({page.status_code}) has no TEST MODE banner"

    # A test order, paid on the test page, and a real one paid through Stripe.
    add_to_cart(souk, buyer.session, product["id"])
    test_checkout = checkout(souk, buyer.session, key=str(uuid.uuid4()), provider="test")
    test_order = placed(test_checkout)
    pay_on_test_page(souk, buyer.session, test_checkout.json()["redirect_url"])
    test_order = wait_status(souk, buyer.session, test_order["id"], {"paid", "fulfilled", "completed"})
    assert test_order["test"] is True and test_order["provider"] == "test"

    add_to_cart(souk, buyer.session, product["id"])
    real = placed(checkout(souk, buyer.session, key=str(uuid.uuid4()), provider="stripe"))
    session = fake_stripe.mark_paid(fake_stripe.session_for_order(real["id"])["id"])
    assert outcome(deliver(souk, event("checkout.session.completed", session))) == "applied"
    real = wait_status(souk, buyer.session, real["id"], {"paid", "fulfilled", "completed"})
    assert real["test"] is False

    # The pages: the order itself, the buyer's list, the seller's sales.
    order_page = buyer.session.get(souk.url(f"/orders/{test_order['id']}")).text
    assert 'id="order-test"' in order_page and "TEST ORDER" in order_page
    assert 'id="order-test"' not in buyer.session.get(souk.url(f"/orders/{real['id']}")).text
    orders_page = buyer.session.get(souk.url("/orders")).text
    row = re.search(rf'<tr data-order="{test_order["id"]}">.*?</tr>', orders_page, re.S).group(0)
    assert "TEST" in row
    real_row = re.search(rf'<tr data-order="{real["id"]}">.*?</tr>', orders_page, re.S).group(0)
    assert "TEST" not in real_row
    sales = seller.session.get(souk.url("/dashboard/sales")).text
    assert "TEST" in re.search(rf'<tr data-order="{test_order["id"]}">.*?</tr>', sales, re.S).group(0)
    # Only the real sale is owed: 25.00, once.
    balance = re.search(r'<table class="cart" id="balance">.*?</table>', sales, re.S).group(0)
    assert balance.count("$25.00") >= 1 and "$50.00" not in balance, balance

    # The API for the seller and the admin, and the CLI.
    seen_by_seller = {o["id"]: o["test"] for o in seller.session.get(souk.url("/api/v1/orders")).json()["data"]}
    assert seen_by_seller == {test_order["id"]: True, real["id"]: False}
    assert get_order(souk, admin.session, test_order["id"])["test"] is True
    listed = {o["id"]: o["test"] for o in json.loads(souk.cli("order", "list", "--json").stdout)}
    assert listed == {test_order["id"]: True, real["id"]: False}
    table = souk.cli("order", "list").stdout
    assert "TEST ORDER" in next(line for line in table.splitlines() if test_order["id"] in line)
    assert "TEST ORDER" not in next(line for line in table.splitlines() if real["id"] in line)
    assert "TEST ORDER" in souk.cli("order", "show", test_order["id"]).stdout
    payouts = json.loads(souk.cli("payouts", "--json").stdout)
    assert [(p["seller_email"], p["gross"], p["owed"]) for p in payouts] == [("seller@example.com", 2500, 2500)]
    assert "not counted" in souk.cli("payouts").stdout


def test_production_store_needs_a_real_provider_or_an_explicit_test_switch(cli_env):
    # Production mode with no provider at all cannot take payments: the configuration says so.
    env = {**cli_env, "SOUK_SERVER_PRODUCTION": "true"}
    refused = subprocess.run([SOUK_BIN, "config", "check"], env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "no payment provider is offered" in refused.stderr, refused.stderr
    off = subprocess.run([SOUK_BIN, "config", "check"], env={**cli_env, "SOUK_PAYMENTS_TEST_ENABLED": "false"},
                         capture_output=True, text=True)
    assert off.returncode == 2 and "no buyer could pay" in off.stderr, off.stderr


# --- 2. a payment must match its order ----------------------------------------------------------------

class MismatchShop:
    def __init__(self, make_souk, fake):
        self.fake = fake
        self.souk = make_souk(env={**stripe_only_env(fake), "SOUK_STORE_FEE_PERCENT": "10"})
        self.seller = cli_account(self.souk, "seller")
        self.admin = cli_account(self.souk, "admin")
        self.product = self.seller.create("Expensive Font", publish=True, price=19999)
        self.buyers = {}

    def order(self) -> dict:
        """A new buyer's order (one buyer's unchanged cart would answer the same order again)."""
        buyer = api_account(self.souk, "buyer")
        add_to_cart(self.souk, buyer.session, self.product["id"])
        order = placed(checkout(self.souk, buyer.session, key=str(uuid.uuid4())))
        self.buyers[order["id"]] = buyer
        return order

    def foreign_session(self, order_id: str, amount: int) -> dict:
        """A Checkout Session opened on the same Stripe account by someone else (another app, a
        hand-made API call) that names our order in its metadata, then paid."""
        made = requests.post(
            self.fake.base_url + "/v1/checkout/sessions",
            headers={"Authorization": f"Bearer {self.fake.secret_key}"},
            data={
                "mode": "payment", "success_url": "https://elsewhere.example/ok",
                "client_reference_id": order_id, "metadata[order_id]": order_id,
                "line_items[0][quantity]": "1", "line_items[0][price_data][currency]": "usd",
                "line_items[0][price_data][unit_amount]": str(amount),
                "line_items[0][price_data][product_data][name]": "Anything",
            })
        assert made.status_code == 200, made.text
        return self.fake.mark_paid(made.json()["id"])

    def assert_not_granted(self, order_id: str):
        buyer = self.buyers[order_id]
        order = get_order(self.souk, buyer.session, order_id)
        assert order["status"] == "created" and order["paid_at"] is None, order
        assert buyer.session.get(self.souk.url("/api/v1/library")).json()["data"] == []

    def refund_requested(self, payment_intent: str) -> list:
        return wait_for(lambda: self.fake.refund_calls(payment_intent), f"a refund of {payment_intent}", timeout=15)


def test_payments_that_do_not_match_their_order_grant_nothing_and_are_refunded(make_souk, fake_stripe):
    shop = MismatchShop(make_souk, fake_stripe)
    souk = shop.souk
    attacks = []

    # (a) One cent through the order's own session.
    cheap = shop.order()
    session = fake_stripe.mark_paid(fake_stripe.session_for_order(cheap["id"])["id"])
    session["amount_total"] = 1
    attacks.append((cheap["id"], session, "1", "paid $0.01, but the order's total is $199.99"))
    # (b) The right number in another currency.
    euro = shop.order()
    session = fake_stripe.mark_paid(fake_stripe.session_for_order(euro["id"])["id"])
    session["currency"] = "eur"
    attacks.append((euro["id"], session, "19999", "paid in EUR, but the order is in USD"))
    # (c) Another checkout session that names the order, for the full amount.
    elsewhere = shop.order()
    foreign = shop.foreign_session(elsewhere["id"], 19999)
    attacks.append((elsewhere["id"], foreign, "19999", f"paid through checkout {foreign['id']}"))

    for order_id, paid_session, refund_amount, reason in attacks:
        answer = deliver(souk, event("checkout.session.completed", paid_session))
        assert outcome(answer) == "mismatched", (order_id, answer.text)
        shop.assert_not_granted(order_id)
        refunds = shop.refund_requested(paid_session["payment_intent"])
        assert [r.one("amount") for r in refunds] == [refund_amount], [r.form for r in refunds]
        assert refunds[0].headers["idempotency-key"].startswith("souk-mismatch-pmm_")

        # The operator sees it: `souk order show`, its JSON, the log.
        shown = json.loads(souk.cli("order", "show", order_id, "--json").stdout)
        mismatch = shown["payment_mismatches"][0]
        assert mismatch["payment_id"] == paid_session["payment_intent"] and reason in mismatch["reason"], mismatch
        wait_for(lambda: json.loads(souk.cli("order", "show", order_id, "--json").stdout)
                 ["payment_mismatches"][0]["refund_state"] == "refunded", "the mismatch marked refunded")
        text = souk.cli("order", "show", order_id).stdout
        assert "DID NOT MATCH" in text and paid_session["payment_intent"] in text
        assert shown["grants"] == [] and shown["status"] == "created"
        # Delivered again (Stripe retries): nothing new.
        assert outcome(deliver(souk, event("checkout.session.completed", paid_session))) == "mismatched"
        assert len(fake_stripe.refund_calls(paid_session["payment_intent"])) == 1

    log = souk.log_path.read_text()
    assert log.count("payment does not match its order") >= 3
    # The admin is told, in the notifications API.
    notes = shop.admin.session.get(souk.url("/api/v1/notifications")).json()["data"]
    told = [n for n in notes if n["type"] == "payment.mismatch"]
    assert len(told) == 3 and all(any(a[0] in n["title"] for a in attacks) for n in told), told
    for buyer in shop.buyers.values():
        notes = buyer.session.get(souk.url("/api/v1/notifications")).json()["data"]
        assert all(n["type"] != "payment.mismatch" for n in notes), notes

    # The refused payment intent never pays later, whatever a later event says of it.
    again = fake_stripe.session_for_order(cheap["id"])
    assert outcome(deliver(souk, event("checkout.session.completed", again))) == "mismatched"
    shop.assert_not_granted(cheap["id"])
    assert get_order(souk, shop.buyers[elsewhere["id"]].session, elsewhere["id"])["status"] == "created"
    # A real payment of another order, through its own session, for its total, pays it as before.
    honest = shop.order()
    paid = fake_stripe.mark_paid(fake_stripe.session_for_order(honest["id"])["id"])
    assert outcome(deliver(souk, event("checkout.session.completed", paid))) == "applied"
    wait_status(souk, shop.buyers[honest["id"]].session, honest["id"], {"paid", "fulfilled", "completed"})


# --- receipts say what they are ---------------------------------------------------------------------

def test_receipts_mark_test_orders_and_never_carry_an_admin_sign_in_link(make_souk):
    from test_hardening_access import mails_to

    souk = make_souk(env={"SOUK_JOBS_POLL_MILLISECONDS": "100", "SOUK_STORE_MARKETPLACE": "true", **QUIET_LIMITS})
    seller = cli_account(souk, "seller")
    product = seller.create("Sample Pack", publish=True, price=700)
    buyer = api_account(souk, "buyer", "buyer@example.com")
    admin = cli_account(souk, "admin", "admin@example.com")
    for account in (buyer, admin):
        add_to_cart(souk, account.session, product["id"])
        response = checkout(souk, account.session, key=str(uuid.uuid4()), provider="test")
        pay_on_test_page(souk, account.session, response.json()["redirect_url"])
        wait_status(souk, account.session, placed(response)["id"], {"completed"}, timeout=20)

    [to_buyer] = wait_for(lambda: mails_to(souk, "buyer@example.com", "receipt"), "the buyer's receipt", timeout=20)
    assert "TEST ORDER" in to_buyer and "/magic/" in to_buyer
    [to_admin] = wait_for(lambda: mails_to(souk, "admin@example.com", "receipt"), "the admin's receipt", timeout=20)
    assert "TEST ORDER" in to_admin
    assert "/magic/" not in to_admin and "Sign in with your password" in to_admin, to_admin
    import email
    import email.policy
    subjects = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"]
                for p in (souk.data_dir / "outbox").glob("*.eml")]
    receipts = [s for s in subjects if "receipt" in s.lower()]
    assert len(receipts) == 2 and all(s.startswith("[TEST] Your receipt") for s in receipts), subjects
