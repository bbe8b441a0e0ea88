"""A user changes their own account (issue 13), against the real binary and an SMTP sink: name;
password (the current one checked, every other session and token ended, this browser kept signed
in); e-mail address (a link to the new inbox, once, within a day); a copy of their data; deleting
a buyer's account (personal data gone, the order kept for the seller)."""
import json
import re

import requests

from conftest import csrf_from
from smtp_sink import smtp_sink  # noqa: F401  (smtp_sink is a fixture)
from shop_helpers import wait_status
from test_catalog_api import STORE, cli_account
from test_hardening_access import pay_with_test_provider

PASSWORD = "correct horse"
CONFIRM_LINK = re.compile(r"http://[^\s]+/account/email/confirm/[A-Za-z0-9]{43}")


def account_form(souk, session, path, **fields):
    csrf = csrf_from(session.get(souk.url("/account")).text)
    return session.post(souk.url(path), data={"_csrf": csrf, **fields}, allow_redirects=False)


def login(souk, email, password) -> requests.Response:
    return requests.post(souk.url("/api/v1/auth/login"), json={"email": email, "password": password})


def test_name_and_password_changes(make_souk):
    souk = make_souk(env=STORE)
    browser = souk.register("wren@example.com", password=PASSWORD, name="Wren")
    phone = requests.Session()
    assert phone.post(souk.url("/api/v1/auth/login"), json={"email": "wren@example.com", "password": PASSWORD}).ok
    token = browser.post(souk.url("/api/v1/tokens"), json={"name": "script"}).json()["token"]

    refused = account_form(souk, browser, "/account/name", name="   ")
    assert refused.status_code == 422 and 'id="name-error"' in refused.text
    assert account_form(souk, browser, "/account/name", name="Jenny Wren").status_code == 303
    assert "Jenny Wren" in browser.get(souk.url("/account?changed=name")).text
    assert browser.get(souk.url("/api/v1/me")).json()["name"] == "Jenny Wren"

    wrong = account_form(souk, browser, "/account/password", password="not it at all", new_password="a new password 2")
    assert wrong.status_code == 422 and "current password is not right" in wrong.text
    short = account_form(souk, browser, "/account/password", password=PASSWORD, new_password="short")
    assert short.status_code == 422 and "at least 8 characters" in short.text
    assert login(souk, "wren@example.com", PASSWORD).status_code == 200, "refused changes change nothing"
    changed = account_form(souk, browser, "/account/password", password=PASSWORD, new_password="a new password 2")
    assert changed.status_code == 303
    # This browser stays signed in (a fresh session); the phone and the script do not.
    assert browser.get(souk.url("/api/v1/me")).status_code == 200
    assert phone.get(souk.url("/api/v1/me")).status_code == 401
    assert requests.get(souk.url("/api/v1/me"), headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(souk, "wren@example.com", PASSWORD).status_code == 401
    assert login(souk, "wren@example.com", "a new password 2").status_code == 200


def test_a_new_address_is_confirmed_from_its_inbox_once(make_souk, smtp_sink):
    souk = make_souk(env={**STORE, "SOUK_MAIL_SMTP_URL": smtp_sink.url})
    browser = souk.register("old@example.com", password=PASSWORD, name="Robin")
    souk.register("taken@example.com", password=PASSWORD)

    taken = account_form(souk, browser, "/account/email-address", email="taken@example.com", password=PASSWORD)
    assert taken.status_code == 409 and 'id="email-error"' in taken.text and 'value="taken@example.com"' in taken.text
    wrong = account_form(souk, browser, "/account/email-address", email="new@example.com", password="wrong one!")
    assert wrong.status_code == 422 and "not right" in wrong.text
    asked = account_form(souk, browser, "/account/email-address", email="New@Example.com", password=PASSWORD)
    assert asked.status_code == 200 and "new@example.com" in asked.text and 'id="email-pending"' in asked.text

    [mail] = smtp_sink.wait_for(1)
    assert mail["To"].addresses[0].addr_spec == "new@example.com"
    link = CONFIRM_LINK.search(mail.get_body(preferencelist=("plain",)).get_content()).group(0)
    # Until it is opened, nothing changes; opening shows a button (scanners change nothing).
    assert browser.get(souk.url("/api/v1/me")).json()["email"] == "old@example.com"
    page = requests.get(link)
    assert page.status_code == 200 and "new@example.com" in page.text
    visitor = requests.Session()
    done = visitor.post(link, data={"_csrf": csrf_from(visitor.get(link).text)})
    assert done.status_code == 200 and 'id="email-confirm-done"' in done.text
    assert browser.get(souk.url("/api/v1/me")).json()["email"] == "new@example.com"
    assert login(souk, "new@example.com", PASSWORD).status_code == 200
    assert login(souk, "old@example.com", PASSWORD).status_code == 401
    # Once only.
    again = visitor.post(link, data={"_csrf": csrf_from(visitor.get(souk.url("/signin")).text)})
    assert again.status_code == 404 and "no longer works" in again.text
    assert requests.get(link).status_code == 404


def test_a_buyer_downloads_their_data_then_deletes_the_account(make_souk):
    souk = make_souk(env={**STORE, "SOUK_JOBS_POLL_MILLISECONDS": "50"})
    seller = cli_account(souk, "seller")
    product = seller.create("Finch Field Notes", publish=True, price=1200)
    buyer = souk.register("finch@example.com", password=PASSWORD, name="Finch Buyer")
    order = pay_with_test_provider(souk, buyer, product["id"])
    wait_status(souk, buyer, order, {"fulfilled", "completed"})

    exported = buyer.get(souk.url("/account/export"))
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    data = json.loads(exported.text)
    assert data["account"]["email"] == "finch@example.com" and data["account"]["name"] == "Finch Buyer"
    assert [o["id"] for o in data["orders"]] == [order]
    assert [e["product_id"] for e in data["library"]] == [product["id"]]
    assert requests.get(souk.url("/account/export"), allow_redirects=False).status_code in (302, 303)

    wrong = account_form(souk, buyer, "/account/delete", password="not my password")
    assert wrong.status_code == 422 and buyer.get(souk.url("/api/v1/me")).status_code == 200
    gone = account_form(souk, buyer, "/account/delete", password=PASSWORD)
    assert gone.status_code == 200 and 'id="account-deleted"' in gone.text
    assert buyer.get(souk.url("/api/v1/me")).status_code == 401
    assert login(souk, "finch@example.com", PASSWORD).status_code in (401, 403)
    # The seller keeps the sale, without the buyer's address or name.
    kept = seller.session.get(souk.url(f"/api/v1/orders/{order}"))
    assert kept.status_code == 200 and kept.json()["status"] in ("fulfilled", "completed")
    assert "finch@example.com" not in kept.text
    sales = seller.session.get(souk.url("/dashboard/sales")).text
    assert order in sales and "finch@example.com" not in sales and "Finch Buyer" not in sales
    # The address is free again: a new account may use it.
    souk.register("finch@example.com", password=PASSWORD)

    # A seller's account is closed by the operator, not from the form.
    refused = account_form(souk, seller.session, "/account/delete", password="correct horse battery")
    assert refused.status_code == 409 and "operator" in refused.text
