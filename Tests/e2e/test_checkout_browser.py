"""A full purchase in a real browser with the built-in test provider, on a fresh `souk serve` with no
payment configuration at all: a seller (made with the CLI) publishes a product; a buyer adds it to
the cart, checks out, sees the TEST MODE hosted page, pays and lands on "Thank you!"; the order is
paid, then delivered by the background job queue. Also: a guest checkout, a declined payment (its
held stock goes back on sale), a pay-later payment that arrives a few seconds after the buyer is
back, and production mode refusing the test provider."""
import json
import re
import time
import uuid
from contextlib import contextmanager
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import assert_problem, csrf_from
from test_catalog_api import cli_account

FAST_JOBS = {"SOUK_JOBS_POLL_MILLISECONDS": "200"}
PAID_LABELS = ("Paid", "Paid · delivered", "Complete")
PASSWORD = "buyer secret 1"


# --- helpers -------------------------------------------------------------------------------------


def wait_loaded(browser):
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def text_of(browser, by, selector) -> str:
    """The element's text, or "" while it is missing or the page is being replaced (auto-refresh).

    A refresh that lands between finding the element and reading it surfaces as a stale reference
    or, from Chromium's inspector, as a plain WebDriverException ("Node with given id does not belong
    to the document"); both mean "ask again", so callers poll until the new page answers."""
    try:
        return browser.find_element(by, selector).text
    except WebDriverException:
        return ""


def attribute_of(browser, by, selector, name) -> str:
    try:
        return browser.find_element(by, selector).get_attribute(name) or ""
    except WebDriverException:  # missing, stale or replaced mid-read: see text_of
        return ""


@contextmanager
def no_implicit_wait(browser):
    """Looks at the page as it is now, without the fixture's 5 s wait for missing elements."""
    browser.implicitly_wait(0)
    try:
        yield
    finally:
        browser.implicitly_wait(5)


def absent(browser, by, selector) -> bool:
    with no_implicit_wait(browser):
        return not browser.find_elements(by, selector)


def published_product(souk, title: str, price: int = 1250, stock: int | None = None) -> dict:
    """A seller made by the operator publishes `title`; returns the product as the API shows it."""
    seller = cli_account(souk, "seller")
    fields = {"price": price}
    if stock is not None:
        fields["stock"] = stock
    product = seller.create(title, publish=True, **fields)
    assert product["status"] == "published"
    return product


def stock_of(souk, product_id: str):
    response = requests.get(souk.url(f"/api/v1/products/{product_id}"))
    assert response.status_code == 200, response.text
    return response.json()["stock"]


def sign_up(souk, browser, email: str, name: str = "Brenda Buyer"):
    browser.get(souk.url("/signup"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signup"]')
    form.find_element(By.NAME, "name").send_keys(name)
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    WebDriverWait(browser, 10).until(EC.url_contains("/account"))
    assert browser.find_element(By.ID, "account-email").text == email


def browser_api(souk, browser) -> requests.Session:
    """A requests session holding the browser's sign-in cookie, for the JSON API."""
    cookie = browser.get_cookie("souk_session")
    assert cookie is not None, "the browser is not signed in"
    session = requests.Session()
    session.cookies.set("souk_session", cookie["value"])
    return session


def add_to_cart(souk, browser, product: dict):
    browser.get(souk.url(f"/products/{product['slug']}"))
    assert browser.find_element(By.ID, "product-title").text == product["title"]
    browser.find_element(By.CSS_SELECTOR, '#add-to-cart button[type="submit"]').click()
    WebDriverWait(browser, 10).until(EC.url_contains("/cart"))
    wait_loaded(browser)
    assert product["title"] in browser.find_element(By.ID, "cart-lines").text


def check_out(souk, browser, guest_email: str | None = None):
    """From the cart to the test provider's hosted page."""
    browser.find_element(By.ID, "checkout-link").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/checkout"))
    wait_loaded(browser)
    form = browser.find_element(By.ID, "checkout-form")
    # With no payment configuration the test provider is the only choice, and it is preselected.
    choices = form.find_elements(By.CSS_SELECTOR, 'input[type="radio"][name="provider"]')
    assert [c.get_attribute("value") for c in choices] == ["test"]
    assert choices[0].is_selected()
    if guest_email is None:
        assert absent(browser, By.CSS_SELECTOR, '#checkout-form [name="email"]'), "a signed-in buyer gives no e-mail"
    else:
        emails = form.find_elements(By.NAME, "email")
        assert len(emails) == 1, "a guest is asked for an e-mail"
        emails[0].send_keys(guest_email)
    browser.find_element(By.ID, "pay-button").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/test-checkout/"))
    wait_loaded(browser)
    assert "TEST MODE" in browser.find_element(By.CSS_SELECTOR, ".test-mode-badge").text
    for button in ("test-pay", "test-pay-later", "test-decline"):
        assert browser.find_element(By.ID, button).is_displayed()


def order_link(browser) -> tuple[str, str]:
    """(order id, view key) from the success or cancel page's URL."""
    query = parse_qs(urlparse(browser.current_url).query)
    return query["order"][0], query["key"][0]


def wait_thank_you(browser, timeout: float):
    with no_implicit_wait(browser):
        WebDriverWait(browser, timeout, poll_frequency=0.2).until(
            lambda d: text_of(d, By.TAG_NAME, "h1") == "Thank you!"
            and attribute_of(d, By.ID, "order", "data-status") in ("paid", "fulfilled", "completed")
        )
    wait_loaded(browser)
    assert browser.find_element(By.ID, "order-status").text in PAID_LABELS
    assert browser.find_element(By.ID, "order-paid").is_displayed()
    assert absent(browser, By.CSS_SELECTOR, 'meta[http-equiv="refresh"]'), "a paid order stops refreshing"


def wait_order_status(fetch, wanted: set, timeout: float = 15) -> dict:
    """Polls `fetch()` (an order body) until its status is in `wanted`."""
    deadline = time.time() + timeout
    order = fetch()
    while order["status"] not in wanted:
        assert time.time() < deadline, f"order still {order['status']} after {timeout}s, wanted {wanted}"
        time.sleep(0.1)
        order = fetch()
    return order


# --- tests ---------------------------------------------------------------------------------------


def test_buyer_pays_with_the_test_provider_on_a_fresh_store(make_souk, browser):
    # No environment and no config file: default job poll interval, test provider only.
    souk = make_souk()
    product = published_product(souk, "Atlas of Lichens", price=1250)
    email = f"buyer-{uuid.uuid4().hex[:6]}@example.com"

    sign_up(souk, browser, email)
    add_to_cart(souk, browser, product)
    assert browser.find_element(By.ID, "cart-total").text == "$12.50"
    check_out(souk, browser)
    assert browser.find_element(By.ID, "test-total").text == "$12.50"
    assert email in browser.find_element(By.CSS_SELECTOR, ".test-checkout .meta").text

    browser.find_element(By.ID, "test-pay").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/checkout/success"))
    wait_thank_you(browser, timeout=15)
    order_id, _ = order_link(browser)
    # People read the order's number; its id stays in the page for scripts.
    assert re.fullmatch(r"#\d{4,}", browser.find_element(By.ID, "order-number").text)
    assert browser.find_element(By.ID, "order").get_attribute("data-order-id") == order_id
    assert browser.find_element(By.ID, "order-total").text == "$12.50"
    assert "Atlas of Lichens" in browser.find_element(By.CSS_SELECTOR, "#order table").text

    # The hosted page cannot be used twice.
    session_id = parse_qs(urlparse(browser.current_url).query)["session_id"][0]
    browser.get(souk.url(f"/test-checkout/{session_id}"))
    assert "paid" in browser.find_element(By.ID, "test-settled").text
    assert absent(browser, By.ID, "test-pay")

    # /orders lists it as paid; the fulfil job (default poll interval) delivers it.
    browser.get(souk.url("/orders"))
    row = browser.find_element(By.CSS_SELECTOR, f'#orders tr[data-order="{order_id}"]')
    assert row.find_element(By.CSS_SELECTOR, ".order-status").text in PAID_LABELS
    assert "Atlas of Lichens" in row.text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#orders tr[data-order]")) == 1

    api = browser_api(souk, browser)
    order = wait_order_status(lambda: api.get(souk.url(f"/api/v1/orders/{order_id}")).json(), {"completed"})
    assert order["total"] == 1250
    assert order["provider"] == "test"
    assert order["buyer_email"] == email
    assert [(i["product_id"], i["quantity"], i["amount"]) for i in order["items"]] == [(product["id"], 1, 1250)]
    browser.refresh()
    row = browser.find_element(By.CSS_SELECTOR, f'#orders tr[data-order="{order_id}"]')
    assert row.find_element(By.CSS_SELECTOR, ".order-status").text == "Complete"

    # The test provider's signed webhook went through the job queue too (the success page had
    # already confirmed the payment, so it changed nothing), and each job ran once.
    deadline = time.time() + 15
    while True:
        jobs = json.loads(souk.cli("jobs", "list", "--json").stdout)
        kinds = {(job["kind"], job["state"], job["attempts"]) for job in jobs if job["kind"] != "order_expiry"}
        if kinds == {("test_webhook", "done", 1), ("fulfil", "done", 1), ("email", "done", 1)}:
            break
        assert time.time() < deadline, jobs
        time.sleep(0.2)
    assert [job["dedupe_key"] for job in jobs if job["kind"] == "fulfil"] == [f"fulfil:{order_id}"]

    # The cart was used up by the checkout.
    browser.get(souk.url("/cart"))
    assert browser.find_element(By.ID, "cart-empty").is_displayed()


def test_guest_checks_out_with_an_email(make_souk, browser):
    souk = make_souk(env=FAST_JOBS)
    product = published_product(souk, "Knots for Sailors", price=500)
    email = f"guest-{uuid.uuid4().hex[:6]}@example.com"

    add_to_cart(souk, browser, product)
    assert browser.get_cookie("souk_session") is None
    check_out(souk, browser, guest_email=email)
    assert email in browser.find_element(By.CSS_SELECTOR, ".test-checkout .meta").text
    browser.find_element(By.ID, "test-pay").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/checkout/success"))
    wait_thank_you(browser, timeout=15)
    assert email in browser.find_element(By.ID, "order-paid").text
    order_id, key = order_link(browser)

    # The order page opens with the key from the checkout link, and only with it.
    browser.get(souk.url(f"/orders/{order_id}?key={key}"))
    with no_implicit_wait(browser):
        WebDriverWait(browser, 15, poll_frequency=0.2).until(
            lambda d: attribute_of(d, By.ID, "order", "data-status") in ("fulfilled", "completed") or d.refresh()
        )
    assert browser.find_element(By.ID, "order-status").text in ("Paid · delivered", "Complete")
    assert browser.find_element(By.ID, "order-total").text == "$5.00"
    assert "Knots for Sailors" in browser.find_element(By.CSS_SELECTOR, "#order table").text
    assert requests.get(souk.url(f"/orders/{order_id}")).status_code == 404
    assert requests.get(souk.url(f"/orders/{order_id}?key={key[:-2]}xx")).status_code == 404
    # A guest has no order history to list.
    browser.get(souk.url("/orders"))
    assert "/signin" in browser.current_url


def test_declined_payment_releases_the_stock(make_souk, browser):
    souk = make_souk(env=FAST_JOBS)
    product = published_product(souk, "Limited Print", price=4000, stock=3)
    sign_up(souk, browser, f"decline-{uuid.uuid4().hex[:6]}@example.com")
    add_to_cart(souk, browser, product)
    check_out(souk, browser)
    assert stock_of(souk, product["id"]) == 2, "the checkout holds one"

    browser.find_element(By.ID, "test-decline").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/checkout/cancel"))
    wait_loaded(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Payment not completed"
    order_id, key = order_link(browser)

    api = browser_api(souk, browser)
    order = wait_order_status(lambda: api.get(souk.url(f"/api/v1/orders/{order_id}")).json(), {"payment_failed"})
    assert order["paid_at"] is None
    assert stock_of(souk, product["id"]) == 3, "the declined order's stock is on sale again"
    browser.get(souk.url(f"/orders/{order_id}?key={key}"))
    assert browser.find_element(By.ID, "order-status").text == "Payment failed"
    browser.get(souk.url("/orders"))
    row = browser.find_element(By.CSS_SELECTOR, f'#orders tr[data-order="{order_id}"]')
    assert row.find_element(By.CSS_SELECTOR, ".order-status").text == "Payment failed"


def test_pay_later_is_confirmed_when_the_money_arrives(make_souk, browser):
    souk = make_souk(env=FAST_JOBS)
    product = published_product(souk, "Slow Money", price=999)
    sign_up(souk, browser, f"later-{uuid.uuid4().hex[:6]}@example.com")
    add_to_cart(souk, browser, product)
    check_out(souk, browser)

    browser.find_element(By.ID, "test-pay-later").click()
    clicked = time.time()
    WebDriverWait(browser, 10).until(EC.url_contains("/checkout/success"))
    wait_loaded(browser)
    # Back from the provider before the money: the page waits and refreshes itself.
    assert browser.find_element(By.TAG_NAME, "h1").text == "Confirming your payment…"
    assert browser.find_element(By.ID, "order-status").text == "Awaiting payment"
    assert browser.find_element(By.ID, "order-waiting").is_displayed()
    refresh = browser.find_element(By.CSS_SELECTOR, 'meta[http-equiv="refresh"]')
    assert refresh.get_attribute("content") == "2"
    order_id, _ = order_link(browser)

    # The payment arrives about 5 s later; the page's own refresh shows it (no reload by the test).
    wait_thank_you(browser, timeout=25)
    assert time.time() - clicked >= 3, "the pay-later payment arrived before its delay"
    order = browser_api(souk, browser).get(souk.url(f"/api/v1/orders/{order_id}")).json()
    assert order["status"] in ("paid", "fulfilled", "completed")
    assert order["paid_at"] is not None


def production_env(**extra) -> dict:
    # Production mode needs a real default provider; the fake Stripe API base is never called here.
    return {
        "SOUK_SERVER_PRODUCTION": "true",
        "SOUK_PAYMENTS_DEFAULT": "stripe",
        "SOUK_PAYMENTS_STRIPE_SECRET_KEY": "sk_test_x",
        "SOUK_PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_e2e_production",
        "SOUK_PAYMENTS_STRIPE_API_BASE": "http://127.0.0.1:9",
        **extra,
    }


def api_cart_with(souk, product: dict) -> requests.Session:
    buyer = souk.register(f"prod-{uuid.uuid4().hex[:6]}@example.com")
    added = buyer.post(souk.url("/api/v1/cart/items"), json={"product_id": product["id"]})
    assert added.status_code in (200, 201), added.text
    return buyer


def test_production_mode_refuses_the_test_provider(make_souk, browser):
    souk = make_souk(env=production_env())
    product = published_product(souk, "Serious Goods", price=2000)
    buyer = api_cart_with(souk, product)

    refused = buyer.post(
        souk.url("/api/v1/checkout"), json={"provider": "test"}, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    body = assert_problem(refused, 422)
    assert "test" in body["detail"]
    assert requests.get(souk.url("/test-checkout/tcs_anything")).status_code == 404
    assert buyer.get(souk.url("/api/v1/orders")).json()["data"] == [], "no order was placed"

    # The checkout page offers only the configured provider.
    sign_up(souk, browser, f"prodweb-{uuid.uuid4().hex[:6]}@example.com")
    add_to_cart(souk, browser, product)
    browser.find_element(By.ID, "checkout-link").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/checkout"))
    values = [c.get_attribute("value") for c in browser.find_elements(By.CSS_SELECTOR, 'input[name="provider"]')]
    assert values == ["stripe"]


def test_production_mode_may_allow_the_test_provider(make_souk):
    # Both switches: test payments on (Stripe is configured, so they are off by default), and
    # production mode told to allow them.
    souk = make_souk(env=production_env(
        SOUK_PAYMENTS_ALLOW_TEST_IN_PRODUCTION="true", SOUK_PAYMENTS_TEST_ENABLED="true", **FAST_JOBS))
    product = published_product(souk, "Rehearsal Goods", price=2000)
    buyer = api_cart_with(souk, product)
    checkout = buyer.post(
        souk.url("/api/v1/checkout"), json={"provider": "test"}, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert checkout.status_code == 201, checkout.text
    page = requests.get(checkout.json()["redirect_url"])
    assert page.status_code == 200
    assert "TEST MODE" in page.text


def test_refused_guest_checkout_makes_no_account(make_souk):
    souk = make_souk(env=production_env())
    product = published_product(souk, "Quiet Goods", price=2000)
    guest = requests.Session()
    added = guest.post(souk.url("/api/v1/cart/items"), json={"product_id": product["id"]})
    assert added.status_code in (200, 201), added.text
    refused = guest.post(
        souk.url("/api/v1/checkout"),
        json={"provider": "test", "email": "someone.else@example.com"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert_problem(refused, 422, "validation_failed")
    assert "someone.else@example.com" not in souk.cli("user", "list").stdout, "a refused checkout changed nothing"


def test_a_refused_checkout_form_keeps_the_address_and_the_provider_chosen(make_souk):
    souk = make_souk(env=production_env(SOUK_PAYMENTS_ALLOW_TEST_IN_PRODUCTION="true", SOUK_PAYMENTS_TEST_ENABLED="true"))
    product = published_product(souk, "Kept Goods", price=2000)
    guest = requests.Session()
    assert guest.post(souk.url("/api/v1/cart/items"), json={"product_id": product["id"]}).status_code in (200, 201)
    form = guest.get(souk.url("/checkout")).text
    providers = re.findall(r'name="provider" value="([^"]+)"', form)
    assert len(providers) == 2, providers
    last = providers[-1]
    refused = guest.post(souk.url("/checkout"), data={
        "_csrf": csrf_from(form), "idempotency_key": uuid.uuid4().hex, "email": "not an address", "provider": last})
    assert refused.status_code == 422
    assert 'value="not an address"' in refused.text
    checked = re.findall(r'name="provider" value="([^"]+)" checked', refused.text)
    assert checked == [last], checked
