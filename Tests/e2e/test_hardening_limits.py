"""Security review (issue 10), items 6, 7 and 9, attacked over HTTP against the real binary.

6. The rate limiter: one e-mail normaliser before any limit (spellings of an address share its
   counter; a huge or malformed address is a cheap 422), bounded memory, IPv6 clients per /64,
   guest checkouts per address and per e-mail.
7. CSRF tokens bound to the session and retired at sign-in; `__Host-` cookies over https.
9. The server log never holds a sign-in link's token, whatever path or query it arrives in.
"""
import http.client
import re
import threading
import time
import uuid
from email import policy
from email.parser import BytesParser

import requests

from conftest import assert_problem, csrf_from
from shop_helpers import add_to_cart, checkout, placed, wait_for
from test_catalog_api import Account, cli_account, rss_kb

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"


# --- 6. Rate limiter ---------------------------------------------------------------------------------

def test_ten_thousand_sign_ins_with_huge_distinct_emails_leave_memory_flat(make_souk):
    # No per-address limits: every attempt reaches the per-account limiter, the one an attacker
    # would fill with a fresh megabyte-sized "e-mail" per request.
    souk = make_souk(env={"SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0", "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "0"})
    padding = "a" * (100 * 1024)
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    huge_email = lambda index: "%08d%s@example.com" % (index, padding)  # noqa: E731
    email_of = {"make": huge_email}

    def attack(start: int, count: int):
        session = requests.Session()  # keep-alive: one connection per thread
        seen: dict[int, int] = {}
        for index in range(start, start + count):
            body = '{"email": "%s", "password": "guess guess"}' % email_of["make"](index)
            response = session.post(souk.url(LOGIN), data=body, headers={"Content-Type": "application/json"})
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
        with lock:
            for status, number in seen.items():
                statuses[status] = statuses.get(status, 0) + number

    def run(start: int, total: int, threads: int = 4):
        workers = [threading.Thread(target=attack, args=(start + n * (total // threads), total // threads))
                   for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    run(0, 400)  # warm up the allocator and the connections before the baseline
    before = rss_kb(souk.process.pid)
    started = time.monotonic()
    run(1_000_000, 10_000)
    elapsed = time.monotonic() - started
    after = rss_kb(souk.process.pid)

    assert statuses == {422: 10_400}, f"every attempt is refused as a malformed e-mail: {statuses}"
    assert elapsed < 100, f"10,000 attempts took {elapsed:.0f} s: each must be refused cheaply"
    assert after - before < 20 * 1024, f"RSS grew from {before} KiB to {after} KiB"
    huge = requests.post(souk.url(LOGIN), json={"email": "x" * 300 + "@example.com", "password": "guess guess"})
    assert assert_problem(huge, 422, "validation_failed")["field"] == "email"

    # Valid, distinct addresses as long as allowed do reach the per-account limiter (each is a
    # failed sign-in of an unknown account): its memory stays bounded as well.
    email_of["make"] = lambda index: "%08d%s@%s.example.com" % (index, "b" * 56, "c" * 60)
    assert len(email_of["make"](0)) <= 254
    statuses.clear()
    before = rss_kb(souk.process.pid)
    run(2_000_000, 10_000)
    after = rss_kb(souk.process.pid)
    assert statuses == {401: 10_000}, f"every attempt is a failed sign-in counted per account: {statuses}"
    assert after - before < 20 * 1024, f"RSS grew from {before} KiB to {after} KiB with 10,000 limiter keys"


def test_spellings_of_an_email_share_the_victims_lockout(souk):
    souk.register("victim@x.com", password="the right one")
    spellings = ["victim@x.com\n", " VICTIM@x.com ", "Victim@X.Com", "\tvictim@x.com", "victim@x.com\r\n"]
    for spelling in spellings:
        wrong = requests.post(souk.url(LOGIN), json={"email": spelling, "password": "wrong guess"})
        assert_problem(wrong, 401, "invalid_credentials")
    # The 6th try, even with the right password and the plain spelling, waits out the lockout.
    locked = requests.post(souk.url(LOGIN), json={"email": "victim@x.com", "password": "the right one"})
    assert_problem(locked, 429, "rate_limited")
    assert int(locked.headers["Retry-After"]) > 0


def test_malformed_emails_are_422_before_any_limit_or_password_work(make_souk):
    souk = make_souk(env={"SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "3", "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "2"})
    for bad in ["a" * 255 + "@example.com", "a@b", "a\u0000b@example.com", "a@example.com\nBcc: c@example.com"]:
        login = requests.post(souk.url(LOGIN), json={"email": bad, "password": "whatever1"})
        assert assert_problem(login, 422, "validation_failed")["field"] == "email"
        signup = requests.post(souk.url(REGISTER), json={"email": bad, "password": "whatever1", "name": "X"})
        assert assert_problem(signup, 422, "validation_failed")["field"] == "email"
    # None of them counted: the address still has all its sign-in and sign-up attempts.
    for index in range(2):
        assert requests.post(souk.url(REGISTER), json={"email": f"ok{index}@example.com", "password": "whatever1",
                                                       "name": "Ok"}).status_code == 201
    for _ in range(3):
        assert requests.post(souk.url(LOGIN), json={"email": "ok0@example.com", "password": "nope nope"}).status_code == 401
    assert_problem(requests.post(souk.url(LOGIN), json={"email": "ok0@example.com", "password": "whatever1"}), 429)
    # The HTML form says so on the page, with the same status.
    web = requests.Session()
    page = web.get(souk.url("/signin"))
    form = web.post(souk.url("/signin"), data={"_csrf": csrf_from(page.text), "email": "x" * 300 + "@example.com",
                                               "password": "whatever1"}, allow_redirects=False)
    assert form.status_code == 422 and "valid e-mail address" in form.text


def test_ipv6_clients_are_limited_per_64_and_ipv4_mapped_addresses_as_ipv4(make_souk):
    souk = make_souk(env={"SOUK_SERVER_TRUST_FORWARDED_FOR": "true", "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "3"})

    def attempt(address: str):
        # A fresh account each time: only the per-address limit is in play.
        return requests.post(souk.url(LOGIN), json={"email": f"{uuid.uuid4().hex}@example.com", "password": "guess"},
                             headers={"X-Forwarded-For": address})

    for address in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:aaaa:bbbb:cccc:dddd"):
        assert attempt(address).status_code == 401
    assert_problem(attempt("2001:db8:1:2::ffff"), 429, "rate_limited")  # same /64: a new address does not help
    assert attempt("2001:db8:1:3::1").status_code == 401  # the next /64 is someone else

    for _ in range(3):
        assert attempt("::ffff:192.0.2.7").status_code == 401
    assert_problem(attempt("192.0.2.7"), 429, "rate_limited")  # the mapped form is the same IPv4 client
    assert attempt("192.0.2.8").status_code == 401


def test_guest_checkouts_are_limited_per_email_and_per_address(make_souk):
    souk = make_souk(env={"SOUK_LIMITS_GUEST_CHECKOUTS_PER_EMAIL_PER_HOUR": "2",
                          "SOUK_LIMITS_GUEST_CHECKOUTS_PER_IP_PER_HOUR": "4"})
    seller = cli_account(souk, "seller")
    product = seller.create("Guest Edition", publish=True, price=500)

    def guest_checkout(email: str):
        guest = requests.Session()
        add_to_cart(souk, guest, product["id"])
        return checkout(souk, guest, key=str(uuid.uuid4()), email=email, provider="test")

    placed(guest_checkout("guest@example.com"))
    placed(guest_checkout(" Guest@Example.com\n"))  # the same address, spelled otherwise
    refused = guest_checkout("GUEST@example.com")
    assert_problem(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) > 0 and "e-mail" in refused.json()["detail"]
    assert_problem(guest_checkout("x" * 300 + "@example.com"), 422, "validation_failed")

    placed(guest_checkout("other@example.com"))  # 4th guest checkout from this address
    from_address = guest_checkout("third@example.com")
    assert_problem(from_address, 429, "rate_limited")
    assert "address" in from_address.json()["detail"]

    # A signed-in buyer is not a guest: no guest limit applies.
    buyer = souk.register("member@example.com")
    add_to_cart(souk, buyer, product["id"])
    placed(checkout(souk, buyer, key=str(uuid.uuid4()), provider="test"))

    # The checkout page answers the same limit with an HTML page and Retry-After.
    guest = requests.Session()
    add_to_cart(souk, guest, product["id"])
    page = guest.get(souk.url("/checkout"))
    form = guest.post(souk.url("/checkout"), data={"_csrf": csrf_from(page.text), "provider": "test",
                                                   "email": "fourth@example.com", "idempotency_key": "k" * 24},
                      headers={"Accept": "text/html"}, allow_redirects=False)
    assert form.status_code == 429 and "text/html" in form.headers["Content-Type"] and form.headers["Retry-After"]


# --- 7. CSRF and cookies -----------------------------------------------------------------------------

def create_token_form(session, token: str):
    return session.post(session.souk.url("/account/tokens"), data={"_csrf": token, "name": "ci", "scope": "read"},
                        allow_redirects=False, headers={"Accept": "application/json"})


def signed_in_browser(souk, email: str):
    browser = souk.register(email)
    browser.souk = souk
    token = csrf_from(browser.get(souk.url("/account")).text)
    return browser, token


def test_a_csrf_token_from_another_session_is_refused(souk):
    alice, alice_token = signed_in_browser(souk, "alice@example.com")
    mallory, mallory_token = signed_in_browser(souk, "mallory@example.com")
    assert create_token_form(alice, alice_token).status_code == 201

    # Mallory plants her CSRF cookie in Alice's browser (e.g. from a sibling subdomain) and makes
    # it post her own, valid-for-her token: it does not fit Alice's session.
    planted = requests.Session()
    planted.souk = souk
    planted.cookies.set("souk_session", alice.cookies.get("souk_session"))
    planted.cookies.set("souk_csrf", mallory.cookies.get("souk_csrf"))
    assert_problem(create_token_form(planted, mallory_token), 403, "csrf_failed")
    # Nor does a signed-out visitor's token for that cookie.
    visitor = requests.Session()
    visitor.cookies.set("souk_csrf", mallory.cookies.get("souk_csrf"))
    signed_out_token = csrf_from(visitor.get(souk.url("/signin")).text)
    assert_problem(create_token_form(planted, signed_out_token), 403, "csrf_failed")
    # Alice's own token still works in her browser.
    assert create_token_form(alice, alice_token).status_code == 201


def test_signing_in_retires_the_csrf_token_from_before(souk):
    souk.register("bob@example.com", password="bob password")
    browser = requests.Session()
    browser.souk = souk
    before = csrf_from(browser.get(souk.url("/signin")).text)
    cookie_before = browser.cookies.get("souk_csrf")
    signed_in = browser.post(souk.url("/signin"), data={"_csrf": before, "email": "bob@example.com",
                                                        "password": "bob password"}, allow_redirects=False)
    assert signed_in.status_code == 303
    assert browser.cookies.get("souk_csrf") not in (None, cookie_before), "sign-in issues a fresh CSRF cookie"

    assert_problem(create_token_form(browser, before), 403, "csrf_failed")
    # Putting the old cookie back does not revive the old token either: it is bound to no session.
    browser.cookies.set("souk_csrf", cookie_before)
    assert_problem(create_token_form(browser, before), 403, "csrf_failed")
    fresh = csrf_from(browser.get(souk.url("/account")).text)
    assert fresh != before
    assert create_token_form(browser, fresh).status_code == 201


def set_cookies(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name (requests would not keep `Secure` cookies over http)."""
    return {header.split("=", 1)[0]: header for header in response.raw.headers.getlist("Set-Cookie")}


def cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def test_cookies_over_https_carry_the_host_prefix(make_souk):
    souk = make_souk(env={"SOUK_SERVER_BASE_URL": "https://shop.example"})
    souk.cli("user", "create", "--role", "seller", "--email", "s@example.com", input="correct horse battery\n")
    login = requests.post(souk.url(LOGIN), json={"email": "s@example.com", "password": "correct horse battery"})
    seller_session = requests.Session()  # a jar that sends the Secure cookie over the test's plain http
    seller_session.cookies.set("__Host-souk_session", cookie_value(set_cookies(login)["__Host-souk_session"]))
    product = Account(souk, "s@example.com", seller_session).create("Secure Edition", publish=True, price=500)

    registered = requests.post(souk.url(REGISTER), json={"email": "h@example.com", "password": "host password",
                                                         "name": "H"})
    assert registered.status_code == 201
    session = set_cookies(registered)["__Host-souk_session"]
    for attribute in ("Secure", "HttpOnly", "Path=/"):
        assert attribute in session, session
    assert "domain" not in session.lower()
    token = cookie_value(session)
    me = requests.get(souk.url("/api/v1/me"), headers={"Cookie": f"__Host-souk_session={token}"})
    assert me.status_code == 200 and me.json()["email"] == "h@example.com"
    # The unprefixed name, which a sibling subdomain could set, is not a session over https.
    assert requests.get(souk.url("/api/v1/me"), headers={"Cookie": f"souk_session={token}"}).status_code == 401

    page = requests.get(souk.url("/signin"))
    csrf = set_cookies(page)["__Host-souk_csrf"]
    assert "Secure" in csrf and "Path=/" in csrf and "domain" not in csrf.lower()
    signed_in = requests.post(
        souk.url("/signin"), data={"_csrf": csrf_from(page.text), "email": "h@example.com", "password": "host password"},
        headers={"Cookie": f"__Host-souk_csrf={cookie_value(csrf)}"}, allow_redirects=False)
    assert signed_in.status_code == 303
    assert {"__Host-souk_session", "__Host-souk_csrf"} <= set(set_cookies(signed_in))

    cart = requests.post(souk.url("/api/v1/cart/items"), json={"product_id": product["id"]})
    assert cart.status_code in (200, 201)
    assert "Secure" in set_cookies(cart)["__Host-souk_cart"]


# --- 9. Logs -----------------------------------------------------------------------------------------

def raw_request(souk, method: str, path: str, body: str | None = None, headers: dict | None = None) -> int:
    """Sends `path` byte for byte (requests would normalise `%6D` and the like)."""
    connection = http.client.HTTPConnection("127.0.0.1", souk.port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    status = connection.getresponse().status
    connection.close()
    return status


def magic_link_from_the_outbox(souk) -> str:
    def find():
        for path in (souk.data_dir / "outbox").glob("*.eml"):
            message = BytesParser(policy=policy.default).parse(path.open("rb"))
            match = re.search(r"/magic/([A-Za-z0-9]{43})", message.get_body(("plain",)).get_content())
            if match:
                return match.group(1)
        return None

    return wait_for(find, "the receipt with a sign-in link in the outbox", timeout=20)


def test_the_log_never_holds_a_sign_in_link_token(make_souk):
    souk = make_souk(env={"SOUK_JOBS_POLL_MILLISECONDS": "50"})
    seller = cli_account(souk, "seller")
    product = seller.create("Logged Edition", publish=True, price=500)
    guest = requests.Session()
    add_to_cart(souk, guest, product["id"])
    response = checkout(souk, guest, key=str(uuid.uuid4()), email="quiet@example.com", provider="test")
    placed(response)
    hosted = guest.get(response.json()["redirect_url"])
    session_id = response.json()["redirect_url"].rsplit("/", 1)[1]
    paid = guest.post(souk.url(f"/test-checkout/{session_id}/pay"), data={"_csrf": csrf_from(hosted.text)},
                      allow_redirects=False)
    assert paid.status_code == 303
    token = magic_link_from_the_outbox(souk)
    unknown = "Zz" + token[2:]

    # A valid link, used, used again; an unknown one; the token in unknown paths and queries.
    browser = requests.Session()
    page = browser.get(souk.url(f"/magic/{token}"))
    assert page.status_code == 200
    assert browser.post(souk.url(f"/magic/{token}"), data={"_csrf": csrf_from(page.text)},
                        allow_redirects=False).status_code == 303
    again = requests.Session()
    page = again.get(souk.url(f"/magic/{token}"))
    assert again.post(souk.url(f"/magic/{token}"), data={"_csrf": csrf_from(page.text)}).status_code == 404
    assert again.get(souk.url(f"/magic/{unknown}")).status_code == 200  # the button page; the POST says 404
    assert again.post(souk.url(f"/magic/{unknown}"), data={"_csrf": csrf_from(page.text)}).status_code == 404
    for path in (f"/magic/{token}/x", f"/MAGIC/{token}", f"/%6Dagic/{token}", f"/magic%2F{token}",
                 f"//magic/{token}", f"/{token}", f"/api/v1/nope?token={token}", f"/reset/{token}",
                 f"/download/grant_x/file_y?expires=1&sig={token}", f"/signin?next=/magic/{token}"):
        assert raw_request(souk, "GET", path) in (200, 403, 404), path
    assert raw_request(souk, "POST", f"/magic/{token}/x", body="{}", headers={"Content-Type": "application/json"}) in (
        403, 404, 415)

    time.sleep(0.5)  # the log is written as requests finish
    log = souk.log_path.read_text()
    assert "/magic/<redacted>" in log, "the requests were logged, without their token"
    assert token not in log and unknown not in log
    assert token[:20] not in log, "not even part of it"
