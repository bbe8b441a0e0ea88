"""Access rules of the security review (issue 10, items 3 to 5), attacked over HTTP against the real binary:

3. Only a verified seller (or an admin) acts as a seller: a suspended, rejected or pending seller gets
   403 with the reason on every seller action, through the API (cookie or token) and the pages.
4. Credentials end together: `souk user reset-password` / `disable` and "Sign out everywhere" end the
   user's sessions, personal access tokens and unused sign-in links at once.
5. Sign-in links: an admin never signs in by link; a link session lasts at most a day.
"""
import email
import email.policy
import hashlib
import re
import secrets
import sqlite3
import string
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import assert_problem, csrf_from
from shop_helpers import wait_for
from test_catalog_api import api_account, cli_account

STORE = {
    "SOUK_STORE_MARKETPLACE": "true",
    "SOUK_JOBS_POLL_MILLISECONDS": "50",
    "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "0",
    "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "0",
    "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
}
HTML = {"Accept": "text/html"}


# --- helpers ---------------------------------------------------------------------------------------

def pay_with_test_provider(souk, session, product_id: str, guest_email: str | None = None) -> str:
    """Cart, checkout (as the session's user, or as a guest with an e-mail) and the test provider's
    Pay button, as a browser would; returns the order id."""
    added = session.post(souk.url("/api/v1/cart/items"), json={"product_id": product_id})
    assert added.status_code == 200, added.text
    body = {"provider": "test", **({"email": guest_email} if guest_email else {})}
    checkout = session.post(souk.url("/api/v1/checkout"), json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert checkout.status_code == 201, checkout.text
    redirect = checkout.json()["redirect_url"]
    hosted = session.get(redirect)
    paid = session.post(souk.url(f"/test-checkout/{redirect.rsplit('/', 1)[1]}/pay"),
                        data={"_csrf": csrf_from(hosted.text)}, allow_redirects=False)
    assert paid.status_code == 303, paid.text
    return checkout.json()["order"]["id"]


def mails_to(souk, address: str, subject: str = "") -> list[str]:
    """The text of every e-mail written to the outbox for `address` (no SMTP is configured), with
    `subject` in its subject line."""
    outbox = souk.data_dir / "outbox"
    texts = []
    for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in (message["To"] or "") and subject in (message["Subject"] or ""):
            part = message.get_body(preferencelist=("plain",)) or message
            texts.append(part.get_content())
    return texts


def sign_in_link(souk, address: str) -> str:
    """The sign-in link of the latest receipt mailed to `address`."""
    def found():
        links = [m.group(1) for text in mails_to(souk, address) for m in re.finditer(r"(http://\S+/magic/[A-Za-z0-9]+)", text)]
        return links[-1] if links else None
    return wait_for(found, f"a receipt with a sign-in link for {address}", timeout=20)


def planted_sign_in_link(souk, user_id: str) -> str:
    """A valid unused sign-in link for `user_id`, written straight into the database (only its
    SHA-256 is stored, as the store does)."""
    token = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))
    now = datetime.now(timezone.utc)
    stamp = lambda t: t.strftime("%Y-%m-%d %H:%M:%S.000")  # noqa: E731  (GRDB's date format, UTC)
    with sqlite3.connect(souk.data_dir / "souk.db") as db:
        db.execute(
            "INSERT INTO magic_links (token_hash, user_id, redirect, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (hashlib.sha256(token.encode()).hexdigest(), user_id, "/library", stamp(now), stamp(now + timedelta(days=7))))
    return souk.url(f"/magic/{token}")


def use_link(link: str, browser: requests.Session | None = None) -> requests.Response:
    """Opens the link and presses its button, as a fresh browser would."""
    browser = browser or requests.Session()
    page = browser.get(link, headers=HTML)
    assert page.status_code == 200, page.text
    return browser.post(link, data={"_csrf": csrf_from(page.text)}, headers=HTML, allow_redirects=False)


def csrf_of(souk, session) -> str:
    """The CSRF token of the signed-in user's pages (the account page has forms for everyone)."""
    page = session.get(souk.url("/account"), headers=HTML)
    assert page.status_code == 200, page.text
    return csrf_from(page.text)


def sessions_of(souk, user_id: str) -> list[tuple[str, datetime, datetime]]:
    """(origin, created_at, expires_at) of the user's stored sessions, read from the database."""
    with sqlite3.connect(souk.data_dir / "souk.db") as db:
        rows = db.execute(
            "SELECT origin, created_at, expires_at FROM sessions WHERE user_id = ? ORDER BY created_at", (user_id,)
        ).fetchall()
    return [(origin, datetime.fromisoformat(created), datetime.fromisoformat(expires)) for origin, created, expires in rows]


@pytest.fixture
def shop(make_souk):
    """A marketplace with a verified seller selling a license product with a file, a buyer who bought
    it (so there are a key, an order and a download log), then the seller's standing is up to the test."""
    souk = make_souk(env=STORE)
    seller = api_account(souk, "seller", "maker@example.com")
    souk.cli("seller", "verify", "maker@example.com")
    product = seller.create("Pixel Tool", publish=True, kind="license", price=1500, activation_limit=2)
    uploaded = requests.post(souk.url(f"/api/v1/products/{product['id']}/files"), params={"filename": "tool.zip"},
                             data=b"tool bytes", headers={**seller.bearer, "Content-Type": "application/octet-stream"})
    assert uploaded.status_code == 201, uploaded.text
    buyer = api_account(souk, "buyer", "reader@example.com")
    order_id = pay_with_test_provider(souk, buyer.session, product["id"])

    def issued_key():
        for entry in buyer.session.get(souk.url("/api/v1/library")).json()["data"]:
            if entry["product_id"] == product["id"] and entry["license_keys"]:
                return entry["license_keys"][0]["key"]
    key = wait_for(issued_key, "the fulfil job to issue the license key", timeout=20)
    return souk, seller, product, order_id, key


def seller_api_actions(souk, product_id: str, order_id: str, key: str):
    """Every seller action of the JSON API on the seller's own things: (name, method, path, json)."""
    return [
        ("create a product", "POST", "/api/v1/products", {"title": "New", "kind": "download", "category": "Books", "price": 100}),
        ("edit the product", "PATCH", f"/api/v1/products/{product_id}", {"title": "Renamed"}),
        ("unpublish the product", "PATCH", f"/api/v1/products/{product_id}", {"status": "draft"}),
        ("archive the product", "DELETE", f"/api/v1/products/{product_id}", None),
        ("disable a license key", "POST", f"/api/v1/licenses/{key}/disable", {}),
        ("enable a license key", "POST", f"/api/v1/licenses/{key}/enable", {}),
        ("read the download log", "GET", f"/api/v1/products/{product_id}/downloads", None),
        ("list their sales", "GET", "/api/v1/orders", None),
        ("list their sales explicitly", "GET", "/api/v1/orders?role=seller", None),
        ("read one sale", "GET", f"/api/v1/orders/{order_id}", None),
        ("refund a sale", "POST", f"/api/v1/orders/{order_id}/refund", {}),
    ]


def seller_page_actions(product_id: str, order_id: str, key: str):
    """Every seller page and form of the dashboard: (name, method, path, form fields)."""
    base = f"/dashboard/products/{product_id}"
    return [
        ("open the new product form", "GET", "/dashboard/new", None),
        ("create a product", "POST", "/dashboard/products", {"title": "New", "kind": "download", "category": "Books", "price": "1"}),
        ("open the product", "GET", base, None),
        ("edit the product", "POST", base, {"title": "Renamed", "kind": "license", "category": "Books", "price": "15"}),
        ("unpublish the product", "POST", f"{base}/status", {"status": "draft"}),
        ("archive the product", "POST", f"{base}/status", {"status": "archived"}),
        ("see the license keys", "GET", f"{base}/licenses", None),
        ("disable a license key", "POST", f"{base}/licenses/{key}/disable", {}),
        ("enable a license key", "POST", f"{base}/licenses/{key}/enable", {}),
        ("read the download log", "GET", f"{base}/downloads", None),
        ("list their sales", "GET", "/dashboard/sales", None),
        ("refund a sale", "POST", f"/dashboard/sales/{order_id}/refund", {}),
        ("open the export page", "GET", "/dashboard/export", None),
        ("download their orders", "GET", "/dashboard/export/orders.csv", None),
        ("download their customers as JSON", "GET", "/dashboard/export/customers.json", None),
        ("read one sale", "GET", f"/orders/{order_id}", None),
    ]


def assert_refused_everywhere(souk, seller, product_id, order_id, key, reason: str):
    """Every seller action answers 403 with the reason: API by cookie and by token, and the pages."""
    for name, method, path, body in seller_api_actions(souk, product_id, order_id, key):
        for how, call in (("cookie", lambda: seller.session.request(method, souk.url(path), json=body)),
                          ("token", lambda: requests.request(method, souk.url(path), json=body, headers=seller.bearer))):
            response = call()
            assert response.status_code == 403, f"{how}: {name} ({method} {path}) answered {response.status_code}"
            problem = assert_problem(response, 403, "forbidden")
            assert reason in problem["detail"], f"{name}: {problem['detail']}"
    # Uploads (raw body) and private pages, by token as a script would.
    upload = requests.post(souk.url(f"/api/v1/products/{product_id}/files"), params={"filename": "v2.zip"},
                           data=b"new bytes", headers={**seller.bearer, "Content-Type": "application/octet-stream"})
    assert reason in assert_problem(upload, 403, "forbidden")["detail"]
    page = requests.put(souk.url(f"/api/v1/products/{product_id}/pages/intro"), json={"title": "T", "body": "B"},
                        headers=seller.bearer)
    assert reason in assert_problem(page, 403, "forbidden")["detail"]
    csrf = csrf_of(souk, seller.session)
    for name, method, path, fields in seller_page_actions(product_id, order_id, key):
        data = None if fields is None else {**fields, "_csrf": csrf}
        response = seller.session.request(method, souk.url(path), data=data, headers=HTML, allow_redirects=False)
        assert response.status_code == 403, f"page: {name} ({method} {path}) answered {response.status_code}"
        assert response.headers["Content-Type"].startswith("text/html"), f"{name}: {response.headers}"
        assert reason in response.text, f"page: {name} does not say why"


def assert_untouched(souk, product_id: str, key: str):
    """Nothing the refused calls tried happened (read from the database: a product of a seller who is
    not in good standing is not listed)."""
    with sqlite3.connect(souk.data_dir / "souk.db") as db:
        assert db.execute("SELECT title, status FROM products WHERE id = ?", (product_id,)).fetchall() == \
            [("Pixel Tool", "published")]
        assert db.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 1, "a product was created"
        assert db.execute("SELECT COUNT(*) FROM product_files").fetchone()[0] == 1, "a file was added"
        assert db.execute("SELECT status FROM orders").fetchall() != [("refunded",)]
        assert db.execute("SELECT status FROM license_keys WHERE key = ?", (key,)).fetchall() == [("active",)]


# --- item 3: seller standing on every seller action -------------------------------------------------

def test_a_suspended_seller_gets_403_on_every_seller_action_through_the_api_and_the_pages(shop):
    souk, seller, product, order_id, key = shop
    # In good standing first: the same calls work (so the 403s below are the standing, nothing else).
    assert seller.session.get(souk.url(f"/api/v1/products/{product['id']}/downloads")).status_code == 200
    assert seller.session.get(souk.url("/dashboard/sales"), headers=HTML).status_code == 200
    assert order_id in seller.session.get(souk.url("/api/v1/orders")).text

    souk.cli("seller", "suspend", "maker@example.com")
    assert_refused_everywhere(souk, seller, product["id"], order_id, key,
                              "Your seller account is suspended; contact the store operator.")
    assert_untouched(souk, product["id"], key)

    # The dashboard tells them why, with nothing to act on.
    dashboard = seller.session.get(souk.url("/dashboard"), headers=HTML)
    assert dashboard.status_code == 403
    assert 'id="seller-standing"' in dashboard.text and "suspended" in dashboard.text
    assert "/dashboard/new" not in dashboard.text and 'action="/dashboard' not in dashboard.text
    # Their own purchases stay theirs to see.
    assert seller.session.get(souk.url("/api/v1/orders?role=buyer")).status_code == 200

    # Verified again, they act again.
    souk.cli("seller", "verify", "maker@example.com")
    assert seller.patch(product["id"], title="Pixel Tool 2")["title"] == "Pixel Tool 2"
    assert seller.session.post(souk.url(f"/api/v1/licenses/{key}/disable"), json={}).status_code == 200


def test_a_rejected_seller_gets_403_on_every_seller_action(shop):
    souk, seller, product, order_id, key = shop
    souk.cli("seller", "reject", "maker@example.com")
    assert_refused_everywhere(souk, seller, product["id"], order_id, key, "rejected; contact the store operator")
    assert_untouched(souk, product["id"], key)


def test_a_pending_seller_sees_only_a_notice_and_cannot_create_even_a_draft(make_souk):
    souk = make_souk(env=STORE)
    pending = api_account(souk, "seller", "new@example.com")
    dashboard = pending.session.get(souk.url("/dashboard"), headers=HTML)
    assert dashboard.status_code == 403
    assert "waiting for the operator&#39;s verification" in dashboard.text or "waiting for the operator's verification" in dashboard.text
    assert "/dashboard/new" not in dashboard.text
    draft = {"title": "Too Soon", "kind": "download", "category": "Books", "price": 100}
    assert "verification" in assert_problem(pending.session.post(souk.url("/api/v1/products"), json=draft), 403, "forbidden")["detail"]
    form = pending.session.post(souk.url("/dashboard/products"), headers=HTML, allow_redirects=False,
                                data={"title": "Too Soon", "kind": "download", "category": "Books", "price": "1",
                                      "_csrf": csrf_of(souk, pending.session)})
    assert form.status_code == 403 and "verification" in form.text
    assert pending.session.get(souk.url("/api/v1/orders")).status_code == 403
    # The account page says the same.
    assert 'id="seller-standing"' in pending.session.get(souk.url("/account"), headers=HTML).text


def test_buyers_still_learn_nothing_about_other_sellers_products(shop):
    souk, _, product, _, key = shop
    stranger = api_account(souk, "buyer")
    assert_problem(stranger.session.get(souk.url(f"/api/v1/products/{product['id']}/downloads")), 404, "not_found")
    assert_problem(stranger.session.post(souk.url(f"/api/v1/licenses/{key}/disable"), json={}), 404, "not_found")


# --- item 4: credentials end together ---------------------------------------------------------------

def buyer_with_all_credentials(souk, address: str):
    """A buyer holding a session, a personal access token and an unused sign-in link (from a receipt)."""
    seller = cli_account(souk, "seller")
    product = seller.create("Field Guide", publish=True, price=900)
    buyer = api_account(souk, "buyer", address)
    pay_with_test_provider(souk, buyer.session, product["id"])
    return buyer, sign_in_link(souk, address)


def assert_all_credentials_ended(souk, buyer, link: str):
    assert_problem(buyer.session.get(souk.url("/api/v1/me")), 401, "unauthenticated")  # the old session
    assert_problem(requests.get(souk.url("/api/v1/me"), headers=buyer.bearer), 401, "unauthenticated")  # the token
    used = use_link(link)  # the unused link
    assert used.status_code == 403, used.status_code
    assert "voided" in used.text and "session" not in used.headers.get("Set-Cookie", "").lower()


def test_reset_password_ends_the_session_the_token_and_the_unused_sign_in_link(make_souk):
    souk = make_souk(env=STORE)
    buyer, link = buyer_with_all_credentials(souk, "reader@example.com")
    assert buyer.session.get(souk.url("/api/v1/me")).status_code == 200
    assert requests.get(souk.url("/api/v1/me"), headers=buyer.bearer).status_code == 200

    result = souk.cli("user", "reset-password", "reader@example.com", input="a brand new password\n")
    assert "access tokens" in result.stdout
    assert_all_credentials_ended(souk, buyer, link)
    # The new password works, and gives a working session.
    fresh = requests.Session()
    assert fresh.post(souk.url("/api/v1/auth/login"),
                      json={"email": "reader@example.com", "password": "a brand new password"}).status_code == 200
    assert fresh.get(souk.url("/api/v1/me")).status_code == 200


def test_disable_ends_every_credential_and_enabling_brings_none_back(make_souk):
    souk = make_souk(env=STORE)
    buyer, link = buyer_with_all_credentials(souk, "reader@example.com")
    souk.cli("user", "disable", "reader@example.com")
    souk.cli("user", "enable", "reader@example.com")
    assert_all_credentials_ended(souk, buyer, link)


def test_sign_out_everywhere_ends_every_session_token_and_link_and_needs_the_csrf_token(make_souk):
    souk = make_souk(env=STORE)
    buyer, link = buyer_with_all_credentials(souk, "reader@example.com")
    laptop = requests.Session()
    assert laptop.post(souk.url("/api/v1/auth/login"),
                       json={"email": "reader@example.com", "password": "correct horse"}).status_code == 200
    account = buyer.session.get(souk.url("/account"), headers=HTML).text
    assert 'action="/account/signout-everywhere"' in account
    assert "revokes all your personal access tokens" in " ".join(account.split())  # the page says tokens end too

    # Another site's form cannot do it: without the page's token nothing ends.
    for fields in ({}, {"_csrf": "forged"}):
        forged = buyer.session.post(souk.url("/account/signout-everywhere"), data={"go": "1", **fields}, headers=HTML,
                                    allow_redirects=False)
        assert forged.status_code == 403, forged.status_code
    assert buyer.session.get(souk.url("/api/v1/me")).status_code == 200

    done = buyer.session.post(souk.url("/account/signout-everywhere"), data={"_csrf": csrf_from(account)},
                              headers=HTML, allow_redirects=False)
    assert done.status_code == 303 and done.headers["Location"].startswith("/signin")
    assert laptop.get(souk.url("/api/v1/me")).status_code == 401  # the other device
    assert_all_credentials_ended(souk, buyer, link)


# --- item 5: sign-in links and admins ---------------------------------------------------------------

def test_an_admin_never_signs_in_with_a_link_and_the_link_is_used_up(make_souk):
    souk = make_souk(env=STORE)
    admin = cli_account(souk, "admin", "boss@example.com")
    product = admin.create("Operator Pack", publish=True, price=500)
    # A guest checkout with the admin's e-mail: the receipt carries no sign-in link for the admin account.
    pay_with_test_provider(souk, requests.Session(), product["id"], guest_email="boss@example.com")
    [receipt] = wait_for(lambda: mails_to(souk, "boss@example.com", "receipt"), "the admin's receipt", timeout=20)
    assert "/magic/" not in receipt and "Sign in with your password" in receipt, receipt
    # A link for the admin made anyway (issued before this rule, or by a bug elsewhere) is refused.
    link = planted_sign_in_link(souk, admin.id)

    attacker = requests.Session()
    refused = use_link(link, attacker)
    assert refused.status_code == 403
    assert "sign in with their password" in refused.text and 'href="/signin"' in refused.text
    assert "session" not in refused.headers.get("Set-Cookie", "").lower()  # no session cookie handed out
    assert attacker.get(souk.url("/api/v1/me")).status_code == 401
    assert [origin for origin, _, _ in sessions_of(souk, admin.id)] == ["password"]  # only the CLI account's login
    # Used up: it does not work a second time either.
    assert use_link(link).status_code == 404


def test_a_link_session_lasts_at_most_a_day_and_a_password_sign_in_gives_a_normal_one(make_souk):
    souk = make_souk(env=STORE)  # default session lifetime: 720 hours
    seller = cli_account(souk, "seller")
    product = seller.create("Field Guide", publish=True, price=900)
    guest = requests.Session()
    pay_with_test_provider(souk, guest, product["id"], guest_email="guest@example.com")
    link = sign_in_link(souk, "guest@example.com")

    browser = requests.Session()
    signed_in = use_link(link, browser)
    assert signed_in.status_code == 303 and signed_in.headers["Location"].startswith("/library")
    # The browser is told the same: the cookie lasts a day, not the configured 30.
    max_age = re.search(r"souk_session=[^;]+;[^,]*?Max-Age=(\d+)", signed_in.headers.get("Set-Cookie", ""))
    assert max_age and max_age.group(1) == "86400", signed_in.headers.get("Set-Cookie")
    me = browser.get(souk.url("/api/v1/me")).json()
    assert me["email"] == "guest@example.com"
    [(origin, created, expires)] = sessions_of(souk, me["id"])
    assert origin == "link"
    assert (expires - created).total_seconds() <= 24 * 3600, expires - created

    # A link session cannot mint a personal access token, which would outlive its day: not
    # through the API and not through the account page's form.
    refused = browser.post(souk.url("/api/v1/tokens"), json={"name": "forever"})
    assert refused.status_code == 403, refused.text
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert "password" in refused.json()["detail"]
    account = browser.get(souk.url("/account"), headers=HTML)
    form = browser.post(souk.url("/account/tokens"), data={"_csrf": csrf_from(account.text), "name": "forever"},
                        headers=HTML, allow_redirects=False)
    assert form.status_code == 403 and "Sign in with your password to create access tokens" in form.text
    with sqlite3.connect(souk.data_dir / "souk.db") as db:
        assert db.execute("SELECT COUNT(*) FROM api_tokens WHERE user_id = ?", (me["id"],)).fetchone() == (0,)

    # The buyer sets a password (the operator resets it) and signs in with it: a normal session.
    souk.cli("user", "reset-password", "guest@example.com", input="my own password\n")
    assert browser.get(souk.url("/api/v1/me")).status_code == 401  # the link session ended with the reset
    assert browser.post(souk.url("/api/v1/auth/login"),
                        json={"email": "guest@example.com", "password": "my own password"}).status_code == 200
    [(origin, created, expires)] = sessions_of(souk, me["id"])
    assert origin == "password" and (expires - created).total_seconds() > 700 * 3600
    # A password session may.
    assert browser.post(souk.url("/api/v1/tokens"), json={"name": "laptop"}).status_code == 201
