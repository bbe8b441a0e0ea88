"""The admin pages in a real browser with JavaScript switched off: an admin made by the CLI signs in
with the sign-in form, verifies a pending seller (who can then create a product), rejects another
with a reason the seller then sees, and hides a review (gone from the product's reviews and rating).

Acceptance: the admin pages let an admin verify a seller and hide a review, in a browser, without
JavaScript.
"""
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from shop_helpers import wait_status
from test_catalog_api import api_account
from test_hardening_access import pay_with_test_provider

STORE = {
    "SOUK_STORE_MARKETPLACE": "true",
    "SOUK_JOBS_POLL_MILLISECONDS": "50",
    "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "0",
    "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "0",
    "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
}
ADMIN_EMAIL = "ada@example.com"
ADMIN_PASSWORD = "admin password 1"
PAID_UP = {"paid", "fulfilled", "completed"}
REASON = "Your samples are copied from another shop"


def create_product(account, title: str):
    return account.session.post(
        account.souk.url("/api/v1/products"), json={"title": title, "kind": "download", "category": "Books", "price": 1500}
    )


def seller_row(browser, email: str):
    return browser.find_element(By.CSS_SELECTOR, f'#admin-sellers tr[data-email="{email}"]')


def buy_and_review(souk, email: str, product_id: str, **review) -> dict:
    buyer = api_account(souk, "buyer", email)
    order_id = pay_with_test_provider(souk, buyer.session, product_id)
    wait_status(souk, buyer.session, order_id, PAID_UP)
    response = buyer.session.post(souk.url(f"/api/v1/products/{product_id}/reviews"), json=review)
    assert response.status_code == 201, response.text
    return response.json()


def test_admin_verifies_a_seller_rejects_one_and_hides_a_review_without_javascript(make_souk, browser_without_javascript):
    souk = make_souk(env=STORE)
    browser = browser_without_javascript
    souk.cli("user", "create", "--role", "admin", "--email", ADMIN_EMAIL, "--name", "Ada Admin", input=ADMIN_PASSWORD + "\n")
    maker = api_account(souk, "seller", "maker@example.com")
    copier = api_account(souk, "seller", "copier@example.com")
    assert create_product(maker, "Moth Atlas").status_code == 403

    # Signed out, the admin pages send the browser to the sign-in form, and back there afterwards.
    browser.get(souk.url("/admin/sellers"))
    WebDriverWait(browser, 10).until(EC.url_contains("/signin"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signin"]')
    form.find_element(By.NAME, "email").send_keys(ADMIN_EMAIL)
    form.find_element(By.NAME, "password").send_keys(ADMIN_PASSWORD)
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    WebDriverWait(browser, 10).until(EC.url_to_be(souk.url("/admin/sellers")))

    # The nav's Admin link, then the overview's link to the sellers waiting for verification.
    browser.get(souk.url("/account"))
    browser.find_element(By.ID, "admin-link").click()
    WebDriverWait(browser, 10).until(EC.url_to_be(souk.url("/admin")))
    assert browser.find_element(By.ID, "count-pending-sellers").text == "2"
    browser.find_element(By.LINK_TEXT, "Sellers waiting for verification").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/admin/sellers"))

    # Verify the maker: they can create a product at once.
    seller_row(browser, "maker@example.com").find_element(By.CSS_SELECTOR, "button.verify").click()
    WebDriverWait(browser, 10).until(EC.url_contains("changed="))
    assert browser.find_element(By.ID, "admin-notice").text == "maker@example.com is now verified."
    created = create_product(maker, "Moth Atlas")
    assert created.status_code == 201, created.text
    product = maker.patch(created.json()["id"], status="published")

    # Reject the copier: the reason field is required (the browser itself will not send the form
    # empty, no script needed), and the seller sees the reason.
    browser.get(souk.url("/admin/sellers"))
    row = seller_row(browser, "copier@example.com")
    reject_form = row.find_element(By.CSS_SELECTOR, "button.reject").find_element(By.XPATH, "./ancestor::form")
    assert reject_form.find_element(By.NAME, "reason").get_attribute("required") is not None
    reject_form.find_element(By.NAME, "reason").send_keys(REASON)
    reject_form.find_element(By.CSS_SELECTOR, "button.reject").click()
    WebDriverWait(browser, 10).until(EC.url_contains("status=rejected"))
    assert "copier@example.com is now rejected." in browser.find_element(By.ID, "admin-notice").text
    assert seller_row(browser, "copier@example.com").find_element(By.CSS_SELECTOR, ".seller-reason").text == REASON
    account_page = copier.session.get(souk.url("/account")).text
    assert 'id="seller-status">rejected<' in account_page
    assert f'id="seller-standing-reason">The admin\'s reason: {REASON}</p>' in account_page
    refused = create_product(copier, "Copied Atlas")
    assert refused.status_code == 403
    notices = copier.session.get(souk.url("/api/v1/notifications")).json()["data"]
    assert any(REASON in (notice.get("body") or "") for notice in notices), notices

    # A review to moderate: two buyers review the product; the admin hides the spam.
    spam = buy_and_review(souk, "spammer@example.com", product["id"], rating=1, body="Cheap followers at spam.example")
    buy_and_review(souk, "reader@example.com", product["id"], rating=5, body="Lovely plates")
    rated = requests.get(souk.url(f"/api/v1/products/{product['id']}")).json()
    assert (rated["rating_count"], rated["rating_average"]) == (2, 3)

    browser.find_element(By.LINK_TEXT, "Reviews").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/admin/reviews"))
    row = browser.find_element(By.ID, f"review-{spam['id']}")
    assert row.find_element(By.CSS_SELECTOR, ".review-state").text == "visible"
    row.find_element(By.XPATH, ".//button[text()='Hide']").click()
    WebDriverWait(browser, 10).until(EC.url_contains("changed="))
    row = browser.find_element(By.ID, f"review-{spam['id']}")
    assert row.find_element(By.CSS_SELECTOR, ".review-state").text == "hidden"
    assert row.find_element(By.XPATH, ".//button").text == "Show"

    rated = requests.get(souk.url(f"/api/v1/products/{product['id']}")).json()
    assert (rated["rating_count"], rated["rating_average"]) == (1, 5)
    listed = requests.get(souk.url(f"/api/v1/products/{product['id']}/reviews")).json()["data"]
    assert [review["body"] for review in listed] == ["Lovely plates"]
    product_page = requests.get(souk.url(f"/products/{product['slug']}")).text
    assert "Lovely plates" in product_page
    assert "spam.example" not in product_page
    # The CLI sees the same state: one implementation.
    assert spam["id"] in souk.cli("review", "list", "--hidden").stdout
