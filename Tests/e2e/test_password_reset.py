"""Getting back into an account (issue 13, acceptance 3), against the real binary and a real SMTP
sink: "forgot password" in Chromium — the e-mailed link sets a new password once and is then dead;
the old password, every other session and every access token stop working — and "e-mail me a
sign-in link". Neither form tells whether an address has an account.
"""
import re
import time

import requests
from selenium.webdriver.common.by import By

from conftest import csrf_from
from smtp_sink import smtp_sink  # noqa: F401  (smtp_sink is a fixture)
from test_dashboard_browser import click_to_next_page, wait_loaded

RESET_LINK = re.compile(r"http://[^\s]+/password/reset/[A-Za-z0-9]{43}")
SIGN_IN_LINK = re.compile(r"http://[^\s]+/magic/[A-Za-z0-9]{43}")
OLD_PASSWORD = "old password 1"
NEW_PASSWORD = "brand new password 2"


def mails_to(sink, address):
    return [m for m in sink.messages if m["To"].addresses[0].addr_spec == address]


def sign_in_api(souk, email, password) -> requests.Response:
    return requests.post(souk.url("/api/v1/auth/login"), json={"email": email, "password": password})


def post_form(session, souk, path, form_page, **fields):
    csrf = csrf_from(session.get(souk.url(form_page)).text)
    return session.post(souk.url(path), data={"_csrf": csrf, **fields}, allow_redirects=False)


def test_forgot_password_link_sets_a_new_password_once_and_ends_every_other_session(make_souk, smtp_sink, browser):
    souk = make_souk(env={"SOUK_MAIL_SMTP_URL": smtp_sink.url, "SOUK_STORE_NAME": "Moth Press"})
    email = "forgetful@example.com"
    laptop = souk.register(email, password=OLD_PASSWORD, name="Forgetful Buyer")
    phone = requests.Session()
    assert phone.post(souk.url("/api/v1/auth/login"), json={"email": email, "password": OLD_PASSWORD}).ok
    token = laptop.post(souk.url("/api/v1/tokens"), json={"name": "script"}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(souk.url("/api/v1/me"), headers=bearer).status_code == 200

    # From the sign-in page: "Forgot your password?" → the address → "Check your e-mail".
    browser.get(souk.url("/signin"))
    wait_loaded(browser)
    click_to_next_page(browser, browser.find_element(By.ID, "forgot-password"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/password/forgot"]')
    form.find_element(By.NAME, "email").send_keys(email)
    click_to_next_page(browser, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
    assert email in browser.find_element(By.ID, "reset-sent").text

    [mail] = smtp_sink.wait_for(1)
    assert mail["To"].addresses[0].addr_spec == email
    assert mail["Subject"] == "Reset your Moth Press password"
    assert "Moth Press" in str(mail["From"])
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "within an hour" in body and "Forgetful Buyer" in body
    link = RESET_LINK.search(body).group(0)

    # The link: a too-short password is refused beside the form, and the link still works.
    browser.get(link)
    wait_loaded(browser)
    form = browser.find_element(By.CSS_SELECTOR, "form[action^='/password/reset/']")
    browser.execute_script("arguments[0].removeAttribute('minlength')", form.find_element(By.NAME, "password"))
    form.find_element(By.NAME, "password").send_keys("short")
    click_to_next_page(browser, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
    assert "at least 8 characters" in browser.find_element(By.ID, "form-error").text
    form = browser.find_element(By.CSS_SELECTOR, "form[action^='/password/reset/']")
    form.find_element(By.NAME, "password").send_keys(NEW_PASSWORD)
    click_to_next_page(browser, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
    # This browser is signed in with the new password set.
    assert "/account" in browser.current_url
    assert "new password is set" in browser.find_element(By.ID, "password-reset-done").text
    assert browser.find_element(By.ID, "account-email").text == email

    # Once only: the same link is dead now, to open and to post.
    browser.get(link)
    wait_loaded(browser)
    assert "already used" in browser.find_element(By.ID, "reset-dead").text
    assert "no longer works" in browser.find_element(By.TAG_NAME, "h1").text
    assert requests.get(link).status_code == 404
    replay = requests.Session()
    response = replay.post(link, data={"_csrf": csrf_from(replay.get(souk.url("/signin")).text), "password": "third password 3"})
    assert response.status_code == 404
    # The old password, the other sessions and the token are all dead; the new password works.
    assert sign_in_api(souk, email, OLD_PASSWORD).status_code == 401
    assert sign_in_api(souk, email, "third password 3").status_code == 401
    assert sign_in_api(souk, email, NEW_PASSWORD).status_code == 200
    assert laptop.get(souk.url("/api/v1/me")).status_code == 401
    assert phone.get(souk.url("/api/v1/me")).status_code == 401
    assert requests.get(souk.url("/api/v1/me"), headers=bearer).status_code == 401


def test_forgot_password_answers_alike_for_unknown_addresses_and_a_newer_link_voids_nothing_else(make_souk, smtp_sink):
    souk = make_souk(env={"SOUK_MAIL_SMTP_URL": smtp_sink.url})
    souk.register("known@example.com", password=OLD_PASSWORD)
    visitor = requests.Session()
    known = post_form(visitor, souk, "/password/forgot", "/password/forgot", email="known@example.com")
    unknown = post_form(visitor, souk, "/password/forgot", "/password/forgot", email="nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    strip = lambda r, address: re.sub(r'name="_csrf" value="[^"]+"', "", r.text).replace(address, "ADDRESS")  # noqa: E731
    assert strip(known, "known@example.com") == strip(unknown, "nobody@example.com")
    # A malformed address is refused beside the field, with what was typed kept.
    bad = post_form(visitor, souk, "/password/forgot", "/password/forgot", email="not an address")
    assert bad.status_code == 422 and "valid e-mail address" in bad.text and 'value="not an address"' in bad.text
    # Asking twice within a minute sends one e-mail (no flooding an inbox from the form).
    post_form(visitor, souk, "/password/forgot", "/password/forgot", email="known@example.com")
    smtp_sink.wait_for(1)
    time.sleep(1.5)
    assert [m["To"].addresses[0].addr_spec for m in smtp_sink.messages] == ["known@example.com"]
    # A made-up or malformed link shows the dead-link page, never an error.
    for path in ["/password/reset/" + "a" * 43, "/password/reset/short", "/password/reset/..%2F..%2Fetc"]:
        response = requests.get(souk.url(path))
        assert response.status_code == 404 and "no longer works" in response.text, path


def test_a_buyer_asks_for_a_sign_in_link_and_it_signs_in_once(make_souk, smtp_sink):
    souk = make_souk(env={"SOUK_MAIL_SMTP_URL": smtp_sink.url})
    souk.register("linky@example.com", password=OLD_PASSWORD)
    visitor = requests.Session()
    response = post_form(visitor, souk, "/signin/link", "/signin", email="linky@example.com")
    assert response.status_code == 200 and "sign-in link is on its way" in response.text
    assert "sign-in link is on its way" in post_form(visitor, souk, "/signin/link", "/signin", email="ghost@example.com").text
    [mail] = smtp_sink.wait_for(1)
    assert mail["To"].addresses[0].addr_spec == "linky@example.com"
    assert "within an hour" in mail.get_body(preferencelist=("plain",)).get_content()
    link = SIGN_IN_LINK.search(mail.get_body(preferencelist=("plain",)).get_content()).group(0)
    # Opening it (as a mail scanner would) uses nothing; pressing the button signs in.
    assert visitor.get(link).status_code == 200
    used = visitor.post(link, data={"_csrf": csrf_from(visitor.get(link).text)}, allow_redirects=False)
    assert used.status_code in (302, 303) and used.headers["Location"].endswith("/library")
    assert visitor.get(souk.url("/api/v1/me")).json()["email"] == "linky@example.com"
    again = requests.Session()
    assert again.post(link, data={"_csrf": csrf_from(again.get(souk.url("/signin")).text)}).status_code == 404


def test_an_admin_gets_no_sign_in_link_but_may_reset_the_password(make_souk, smtp_sink):
    souk = make_souk(env={"SOUK_MAIL_SMTP_URL": smtp_sink.url})
    souk.cli("user", "create", "--role", "admin", "--email", "boss@example.com", input=OLD_PASSWORD + "\n")
    visitor = requests.Session()
    post_form(visitor, souk, "/signin/link", "/signin", email="boss@example.com")
    post_form(visitor, souk, "/password/forgot", "/password/forgot", email="boss@example.com")
    [mail] = smtp_sink.wait_for(1)
    assert "/password/reset/" in mail.get_body(preferencelist=("plain",)).get_content()
    time.sleep(1.5)
    assert len(smtp_sink.messages) == 1, [m["Subject"] for m in smtp_sink.messages]
