"""Order messages (issue 12): the buyer and the seller of an order talk about it over the API and
on the order page; each hears of the other's message; a third user gets 404 and an outsider seller
too; an admin may read the thread, and that reading is on record (admin_audit and the log)."""
import sqlite3

import requests

from conftest import assert_problem, csrf_from
from test_catalog_api import api_account, cli_account
from test_reviews import STORE, buy


def messages(souk, account, order_id):
    return account.session.get(souk.url(f"/api/v1/orders/{order_id}/messages"))


def told(souk, account):
    notes = account.session.get(souk.url("/api/v1/notifications")).json()["data"]
    return [n for n in notes if n["type"] == "message.created"]


def test_buyer_and_seller_talk_about_an_order_and_nobody_else_reads_it(make_souk):
    souk = make_souk(env=STORE)
    seller = api_account(souk, "seller", "maker@example.com")
    souk.cli("seller", "verify", "maker@example.com")
    book = seller.create("Field Notes", publish=True, price=900)
    buyer = api_account(souk, "buyer", "reader@example.com")
    order_id = buy(souk, buyer, book["id"])

    sent = buyer.session.post(souk.url(f"/api/v1/orders/{order_id}/messages"), json={"body": "  The PDF is 2 pages short?  "})
    assert sent.status_code == 201, sent.text
    assert sent.json()["body"] == "The PDF is 2 pages short?"
    assert sent.json()["author"]["role"] == "buyer"
    [note] = told(souk, seller)
    assert order_id in note["title"] and note["body"] == "The PDF is 2 pages short?"
    assert note["url"] == f"/orders/{order_id}#messages"

    # The seller answers from the order page's form.
    page = seller.session.get(souk.url(f"/orders/{order_id}"), headers={"Accept": "text/html"})
    assert page.status_code == 200 and "The PDF is 2 pages short?" in page.text
    reply = seller.session.post(souk.url(f"/orders/{order_id}/messages"),
                                data={"_csrf": csrf_from(page.text), "body": "Fixed: version 2 is in your library."},
                                allow_redirects=False)
    assert reply.status_code in (302, 303), reply.text
    assert [n["body"] for n in told(souk, buyer)] == ["Fixed: version 2 is in your library."]
    thread = messages(souk, buyer, order_id).json()["data"]
    assert [(m["author"]["role"], m["body"]) for m in thread] == [
        ("buyer", "The PDF is 2 pages short?"), ("seller", "Fixed: version 2 is in your library.")]

    # Nobody else: another buyer, another seller, anonymous.
    stranger = api_account(souk, "buyer", "stranger@example.com")
    assert_problem(messages(souk, stranger, order_id), 404)
    assert_problem(stranger.session.post(souk.url(f"/api/v1/orders/{order_id}/messages"), json={"body": "hi"}), 404)
    other_seller = api_account(souk, "seller", "other@example.com")
    souk.cli("seller", "verify", "other@example.com")
    assert_problem(messages(souk, other_seller, order_id), 404)
    assert requests.get(souk.url(f"/api/v1/orders/{order_id}/messages")).status_code == 401
    assert "Field Notes" not in stranger.session.get(souk.url(f"/orders/{order_id}"), headers={"Accept": "text/html"}).text

    # Bad input: empty, too long.
    assert_problem(buyer.session.post(souk.url(f"/api/v1/orders/{order_id}/messages"), json={"body": "   "}), 422)
    assert_problem(buyer.session.post(souk.url(f"/api/v1/orders/{order_id}/messages"), json={"body": "x" * 5001}), 422)
    assert len(messages(souk, buyer, order_id).json()["data"]) == 2

    # An admin reads the thread for a dispute: allowed, and on record.
    admin = cli_account(souk, "admin", "ops@example.com")
    assert len(messages(souk, admin, order_id).json()["data"]) == 2
    assert_problem(admin.session.post(souk.url(f"/api/v1/orders/{order_id}/messages"), json={"body": "hello"}), 403)
    db = sqlite3.connect(souk.data_dir / "souk.db")
    rows = db.execute("SELECT action, subject_id FROM admin_audit").fetchall()
    assert rows == [("order_messages.read", order_id)]
