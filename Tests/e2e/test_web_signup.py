"""A fresh store: health check, sign-up and sign-in through the HTML forms (real browser and plain HTTP), CSRF."""
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import assert_problem, csrf_from


def test_fresh_store_is_healthy(souk):
    response = requests.get(souk.url("/healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["migrations"] >= 1
    assert isinstance(body["uptime_seconds"], (int, float))


def test_home_page_shows_test_mode_banner(souk):
    response = requests.get(souk.url("/"))
    assert response.status_code == 200
    assert "text/html" in response.headers["Content-Type"]
    assert 'class="test-mode"' in response.text


def test_buyer_signs_up_and_signs_in_from_a_browser(souk, browser):
    email = "browser.buyer@example.com"
    password = "browser secret 1"

    browser.get(souk.url("/signup"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signup"]')
    form.find_element(By.NAME, "name").send_keys("Browser Buyer")
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(password)
    # The solo store (marketplace = false) offers no role choice.
    assert not browser.find_elements(By.CSS_SELECTOR, 'input[name="role"]')
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    # A click returns before the browser follows the redirect: wait for the account page.
    WebDriverWait(browser, 10).until(EC.url_contains("/account"))
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.current_url.endswith("/account")
    assert browser.find_element(By.ID, "account-email").text == email
    assert browser.find_element(By.ID, "account-role").text == "buyer"
    assert browser.find_element(By.CSS_SELECTOR, ".test-mode").is_displayed()

    # Sign out, then sign in again through the sign-in form.
    browser.find_element(By.CSS_SELECTOR, 'form[action="/signout"] button').click()
    WebDriverWait(browser, 10).until(lambda d: "/account" not in d.current_url)
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.get_cookie("souk_session") is None
    browser.get(souk.url("/account"))
    assert "/signin" in browser.current_url
    browser.get(souk.url("/signin"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signin"]')
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(password)
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    WebDriverWait(browser, 10).until(EC.url_contains("/account"))
    assert browser.current_url.endswith("/account")
    assert browser.find_element(By.ID, "account-email").text == email

    # The browser's session cookie authenticates the JSON API.
    cookie = browser.get_cookie("souk_session")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    api = requests.Session()
    api.cookies.set("souk_session", cookie["value"])
    me = api.get(souk.url("/api/v1/me"))
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email
    assert me.json()["name"] == "Browser Buyer"
    assert me.json()["role"] == "buyer"


def test_browser_sign_in_with_wrong_password_shows_an_error(souk, browser):
    souk.register("wrongpw@example.com", password="right password")
    browser.get(souk.url("/signin"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signin"]')
    form.find_element(By.NAME, "email").send_keys("wrongpw@example.com")
    form.find_element(By.NAME, "password").send_keys("not the password")
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert "/signin" in browser.current_url
    assert "/account" not in browser.current_url
    assert browser.find_element(By.CSS_SELECTOR, "p.error[role=alert]").text.strip()
    assert browser.get_cookie("souk_session") is None


def test_browser_creates_a_token_shown_once(souk, browser):
    browser.get(souk.url("/signup"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signup"]')
    form.find_element(By.NAME, "name").send_keys("Token Maker")
    form.find_element(By.NAME, "email").send_keys("tokens.browser@example.com")
    form.find_element(By.NAME, "password").send_keys("token maker pw")
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    WebDriverWait(browser, 10).until(EC.url_contains("/account"))
    assert browser.current_url.endswith("/account")

    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/account/tokens"]')
    form.find_element(By.NAME, "name").send_keys("ci script")
    form.find_element(By.CSS_SELECTOR, 'select[name="scope"] option[value="read"]').click()
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    token = browser.find_element(By.ID, "new-token").text.strip()
    assert token.startswith("souk_pat_")
    assert "ci script" in browser.find_element(By.CSS_SELECTOR, "table.tokens").text

    me = requests.get(souk.url("/api/v1/me"), headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["email"] == "tokens.browser@example.com"

    browser.get(souk.url("/account"))
    assert not browser.find_elements(By.ID, "new-token"), "the token must be shown only once"
    assert token not in browser.page_source


def test_signup_and_signin_forms_over_plain_http(souk):
    web = requests.Session()
    page = web.get(souk.url("/signup"))
    assert page.status_code == 200
    response = web.post(
        souk.url("/signup"),
        data={"_csrf": csrf_from(page.text), "name": "Form User", "email": "form@example.com", "password": "form password"},
        allow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["Location"].endswith("/account")
    account = web.get(souk.url("/account"))
    assert account.status_code == 200
    assert 'id="account-email">form@example.com<' in account.text
    assert web.get(souk.url("/api/v1/me")).json()["email"] == "form@example.com"

    # Sign in from a fresh client.
    other = requests.Session()
    page = other.get(souk.url("/signin"))
    response = other.post(
        souk.url("/signin"),
        data={"_csrf": csrf_from(page.text), "email": "form@example.com", "password": "form password"},
        allow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account")
    assert other.get(souk.url("/api/v1/me")).json()["email"] == "form@example.com"


def test_form_post_without_or_with_wrong_csrf_is_refused(souk):
    web = requests.Session()
    page = web.get(souk.url("/signup"))
    good = csrf_from(page.text)
    fields = {"name": "Csrf", "email": "csrf@example.com", "password": "csrf password"}

    missing = web.post(souk.url("/signup"), data=fields, allow_redirects=False, headers={"Accept": "application/json"})
    assert_problem(missing, 403, "csrf_failed")

    wrong = web.post(
        souk.url("/signup"), data={**fields, "_csrf": good[:-4] + "AAAA"}, allow_redirects=False,
        headers={"Accept": "application/json"},
    )
    assert_problem(wrong, 403, "csrf_failed")

    # A token from another browser (a different souk_csrf cookie) does not fit this one.
    stranger = requests.Session()
    foreign = csrf_from(stranger.get(souk.url("/signup")).text)
    if foreign != good:
        crossed = web.post(
            souk.url("/signup"), data={**fields, "_csrf": foreign}, allow_redirects=False,
            headers={"Accept": "application/json"},
        )
        assert_problem(crossed, 403, "csrf_failed")

    # No account came of it; the correct token still works.
    assert requests.post(souk.url("/api/v1/auth/login"), json={"email": fields["email"], "password": fields["password"]}).status_code == 401
    ok = web.post(souk.url("/signup"), data={**fields, "_csrf": good}, allow_redirects=False)
    assert ok.status_code == 303


def test_csrf_refusal_in_a_browser_is_an_html_page(souk):
    response = requests.post(
        souk.url("/signin"), data={"email": "x@example.com", "password": "whatever1"},
        headers={"Accept": "text/html"}, allow_redirects=False,
    )
    assert response.status_code == 403
    assert "text/html" in response.headers["Content-Type"]
