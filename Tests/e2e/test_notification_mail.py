"""Notification e-mails (issue 12): the important notices also come by e-mail (a sale to its seller,
an announcement), each with a one-click unsubscribe (`List-Unsubscribe` + `List-Unsubscribe-Post`,
RFC 8058) that works without a session; the account page's choices stop or restart them; an
altered link is refused."""
import time

import requests

from conftest import assert_problem, csrf_from
from smtp_sink import smtp_sink  # noqa: F401  (smtp_sink is a fixture)
from test_catalog_api import api_account
from test_reviews import STORE, buy


def unsubscribe_url(message) -> str:
    header = message["List-Unsubscribe"]
    assert header.startswith("<") and header.endswith(">"), header
    return header[1:-1]


def test_a_sale_mails_its_seller_with_a_working_one_click_unsubscribe(make_souk, smtp_sink):
    souk = make_souk(env={**STORE, "SOUK_MAIL_SMTP_URL": smtp_sink.url})
    seller = api_account(souk, "seller", "maker@example.com")
    souk.cli("seller", "verify", "maker@example.com")
    smtp_sink.wait_for(1)  # "your seller account is verified"
    smtp_sink.clear()
    book = seller.create("Field Notes", publish=True, price=900)
    buyer = api_account(souk, "buyer", "reader@example.com")
    buy(souk, buyer, book["id"])

    def to(address):
        return [m for m in smtp_sink.messages if m["To"].addresses[0].addr_spec == address]

    deadline = time.monotonic() + 10
    while not (to("maker@example.com") and to("reader@example.com")):
        assert time.monotonic() < deadline, [m["Subject"] for m in smtp_sink.messages]
        time.sleep(0.1)
    [sale] = to("maker@example.com")
    assert "sale" in sale["Subject"].lower()
    assert "Field Notes" in sale.get_body(preferencelist=("plain",)).get_content()
    assert sale["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = unsubscribe_url(sale)
    assert url.startswith(souk.url("/unsubscribe?"))
    assert url in sale.get_body(preferencelist=("plain",)).get_content(), "the footer carries the same link"
    # The buyer's receipt is not something to unsubscribe from.
    assert all(m["List-Unsubscribe"] is None for m in to("reader@example.com"))

    # A mail client's one-click POST, no cookie, no CSRF token.
    confirm = requests.get(url)
    assert confirm.status_code == 200 and "Unsubscribe" in confirm.text
    done = requests.post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no longer gets" in done.text
    account = seller.session.get(souk.url("/account"), headers={"Accept": "text/html"}).text
    assert 'value="order.paid" checked' not in account and 'value="order.paid"' in account

    # An altered link changes nothing.
    forged = url.replace("order.paid", "announcement")
    assert_problem(requests.post(forged, data={"List-Unsubscribe": "One-Click"}), 403)

    # Muted: the next sale notifies in the app only.
    smtp_sink.clear()
    buy(souk, api_account(souk, "buyer", "second@example.com"), book["id"])
    time.sleep(1.5)
    assert to("maker@example.com") == []
    notes = seller.session.get(souk.url("/api/v1/notifications")).json()["data"]
    assert [n["type"] for n in notes].count("order.paid") == 2

    # The account page turns it back on (and keeps the others as chosen).
    page = seller.session.get(souk.url("/account"), headers={"Accept": "text/html"}).text
    saved = seller.session.post(souk.url("/account/email"),
                                data={"_csrf": csrf_from(page), "email[]": ["order.paid", "announcement"]},
                                allow_redirects=False)
    assert saved.status_code in (302, 303), saved.text
    page = seller.session.get(souk.url("/account"), headers={"Accept": "text/html"}).text
    assert 'value="order.paid" checked' in page and 'value="review.created" checked' not in page


def test_announcements_are_mailed_once_with_the_unsubscribe_headers(make_souk, smtp_sink):
    souk = make_souk(env={**STORE, "SOUK_MAIL_SMTP_URL": smtp_sink.url})
    api_account(souk, "buyer", "one@example.com")
    api_account(souk, "buyer", "two@example.com")
    souk.cli("announce", "--title", "Summer sale", "--body", "Everything 20% off this week.")
    souk.cli("announce", "--title", "Summer sale", "--body", "Everything 20% off this week.")
    messages = smtp_sink.wait_for(2)
    time.sleep(1)
    assert len(smtp_sink.messages) == 2
    assert {m["Subject"] for m in messages} == {"Summer sale"}
    assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in messages)
