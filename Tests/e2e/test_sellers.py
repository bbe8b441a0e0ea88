"""Seller sign-up on a marketplace, verification by the operator's CLI while serving, and the closed solo store."""
import json

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import assert_problem, csrf_from


def pending_emails(souk) -> list[str]:
    result = souk.cli("seller", "list", "--pending", "--json")
    return [row["email"] for row in json.loads(result.stdout)]


def test_seller_is_pending_until_verified_by_the_cli(make_souk):
    souk = make_souk(env={"SOUK_STORE_MARKETPLACE": "true"})
    email = "maker@example.com"
    session = souk.register(email, name="Maker", role="seller")

    me = session.get(souk.url("/api/v1/me")).json()
    assert me["role"] == "seller"
    assert me["seller_status"] == "pending"

    assert email in pending_emails(souk)
    table = souk.cli("seller", "list", "--pending").stdout
    assert email in table

    result = souk.cli("seller", "verify", email)
    assert "verified" in result.stdout

    # The same session sees the change at once, with the server still running.
    me = session.get(souk.url("/api/v1/me")).json()
    assert me["seller_status"] == "verified"
    assert email not in pending_emails(souk)
    assert email not in souk.cli("seller", "list", "--pending").stdout
    all_sellers = json.loads(souk.cli("seller", "list", "--json").stdout)
    assert [row["seller_status"] for row in all_sellers if row["email"] == email] == ["verified"]

    # The account page shows it too.
    page = session.get(souk.url("/account")).text
    assert 'id="seller-status">verified<' in page


def test_seller_reject_and_suspend(make_souk):
    souk = make_souk(env={"SOUK_STORE_MARKETPLACE": "true"})
    rejected = souk.register("rejected@example.com", role="seller")
    suspended = souk.register("suspended@example.com", role="seller")
    souk.cli("seller", "reject", "rejected@example.com")
    souk.cli("seller", "verify", "suspended@example.com")
    souk.cli("seller", "suspend", "suspended@example.com")
    assert rejected.get(souk.url("/api/v1/me")).json()["seller_status"] == "rejected"
    assert suspended.get(souk.url("/api/v1/me")).json()["seller_status"] == "suspended"
    assert pending_emails(souk) == []


def test_seller_verify_of_unknown_or_buyer_account_fails(make_souk):
    souk = make_souk(env={"SOUK_STORE_MARKETPLACE": "true"})
    souk.register("justbuying@example.com", role="buyer")
    unknown = souk.cli("seller", "verify", "nobody@example.com", check=False)
    assert unknown.returncode != 0
    assert "nobody@example.com" in unknown.stderr or "not found" in unknown.stderr.lower()
    buyer = souk.cli("seller", "verify", "justbuying@example.com", check=False)
    assert buyer.returncode != 0


def test_seller_signup_closed_on_a_solo_store(souk):
    response = requests.post(
        souk.url("/api/v1/auth/register"),
        json={"email": "wannabe@example.com", "password": "long enough", "name": "W", "role": "seller"},
    )
    body = assert_problem(response, 403, "seller_signup_closed")
    assert body["request_id"]
    # Nothing was created.
    login = requests.post(souk.url("/api/v1/auth/login"), json={"email": "wannabe@example.com", "password": "long enough"})
    assert login.status_code == 401


def test_signup_form_offers_seller_role_only_on_a_marketplace(souk, make_souk):
    assert 'name="role"' not in requests.get(souk.url("/signup")).text
    market = make_souk(env={"SOUK_STORE_MARKETPLACE": "true"})
    assert 'name="role" value="seller"' in requests.get(market.url("/signup")).text

    # Forcing role=seller into the solo store's form is refused.
    web = requests.Session()
    page = web.get(souk.url("/signup"))
    response = web.post(
        souk.url("/signup"),
        data={"_csrf": csrf_from(page.text), "name": "S", "email": "sneaky@example.com", "password": "sneaky pass",
              "role": "seller"},
        allow_redirects=False,
    )
    assert response.status_code == 403, response.status_code
    assert "marketplace" in response.text or "seller" in response.text.lower()
    login = requests.post(souk.url("/api/v1/auth/login"), json={"email": "sneaky@example.com", "password": "sneaky pass"})
    assert login.status_code == 401


def test_seller_signs_up_in_a_browser(make_souk, browser):
    souk = make_souk(env={"SOUK_STORE_MARKETPLACE": "true"})
    browser.get(souk.url("/signup"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signup"]')
    form.find_element(By.NAME, "name").send_keys("Browser Seller")
    form.find_element(By.NAME, "email").send_keys("bseller@example.com")
    form.find_element(By.NAME, "password").send_keys("seller password")
    form.find_element(By.CSS_SELECTOR, 'input[name="role"][value="seller"]').click()
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    WebDriverWait(browser, 10).until(EC.url_contains("/account"))
    assert browser.find_element(By.ID, "account-role").text == "seller"
    assert browser.find_element(By.ID, "seller-status").text == "pending"
    souk.cli("seller", "verify", "bseller@example.com")
    browser.refresh()
    assert browser.find_element(By.ID, "seller-status").text == "verified"
