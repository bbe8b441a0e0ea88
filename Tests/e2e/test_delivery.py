"""Delivery end to end: receipts at a real SMTP sink (aiosmtpd), license keys, the library's
download links, an SMTP outage, kill -9 during fulfilments, and new file versions.

Acceptance 1, 4, 5 and 6 of the delivery issue."""
import functools
import hashlib
import json
import os
import re
import signal
import time
import uuid

import requests

from conftest import Souk
from fake_stripe import deliver, event, fake_stripe, start_store  # noqa: F401  (fake_stripe is a fixture)
from smtp_sink import SMTPSink, smtp_sink  # noqa: F401  (fixture)
from test_catalog_api import api_account, cli_account
import shop_helpers
from shop_helpers import add_to_cart, checkout, placed

FAST = {
    "SOUK_JOBS_POLL_MILLISECONDS": "50",
    "SOUK_JOBS_RETRY_BASE_SECONDS": "1",
    "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "0",
    "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "0",
    "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
}


# Delivery waits on jobs and mail: longer than the money path's default.
wait_for = functools.partial(shop_helpers.wait_for, timeout=20.0, interval=0.1)


def upload(souk, seller, product_id: str, name: str, data: bytes) -> dict:
    response = requests.post(souk.url(f"/api/v1/products/{product_id}/files"), params={"filename": name}, data=data,
                             headers={**seller.bearer, "Content-Type": "application/octet-stream"})
    assert response.status_code == 201, response.text
    return response.json()


def library(souk, session) -> dict:
    response = session.get(souk.url("/api/v1/library"))
    assert response.status_code == 200, response.text
    return {entry["product_id"]: entry for entry in response.json()["data"]}


def pay_with_test_provider(souk, session, product_ids, quantity: int = 1) -> str:
    """Cart, checkout and the Pay button of the test provider's page; returns the order id."""
    for product_id in product_ids:
        add_to_cart(souk, session, product_id, quantity)
    response = checkout(souk, session, key=str(uuid.uuid4()), provider="test")
    order = placed(response)
    hosted = session.get(response.json()["redirect_url"])
    csrf = re.search(r'name="_csrf" value="([^"]+)"', hosted.text).group(1)
    session_id = response.json()["redirect_url"].rsplit("/", 1)[1]
    paid = session.post(souk.url(f"/test-checkout/{session_id}/pay"), data={"_csrf": csrf}, allow_redirects=False)
    assert paid.status_code == 303, paid.text
    return order["id"]


def order_status(souk, session, order_id: str) -> str:
    return session.get(souk.url(f"/api/v1/orders/{order_id}")).json()["status"]


def receipts_by_order(messages) -> dict[str, list]:
    found: dict[str, list] = {}
    for message in messages:
        # The subject names the order's number; the Message-ID its id (`<receipt-ord_…@host>`).
        match = re.search(r"<receipt-(ord_[a-z0-9]+)@", message["Message-ID"] or "")
        if match and "receipt" in (message["Subject"] or ""):
            found.setdefault(match.group(1), []).append(message)
    return found


def test_a_paid_order_sends_one_receipt_with_keys_and_a_library_that_downloads_the_exact_bytes(
        make_souk, smtp_sink, fake_stripe):
    fake = fake_stripe
    # A From without a name of its own: the store's name goes there.
    souk = start_store(make_souk, fake, SOUK_MAIL_SMTP_URL=smtp_sink.url, SOUK_MAIL_FROM="shop@example.com",
                       SOUK_STORE_NAME="Moth Press", **FAST)
    seller = cli_account(souk, "seller", "maker@example.com")
    app = seller.create("Pixel Tool", publish=True, kind="license", price=1500, activation_limit=3)
    book = seller.create("Field Guide", publish=True, price=900)
    content = os.urandom(300_000)
    upload(souk, seller, book["id"], "guide.pdf", content)
    buyer = api_account(souk, "buyer", "reader@example.com")
    add_to_cart(souk, buyer.session, app["id"], 2)
    add_to_cart(souk, buyer.session, book["id"])
    order = placed(checkout(souk, buyer.session, key=str(uuid.uuid4())))
    session = fake.session_for_order(order["id"])
    paid = deliver(souk, event("checkout.session.completed", fake.mark_paid(session["id"])))
    assert paid.status_code == 200 and paid.json()["outcome"] == "applied"

    wait_for(lambda: order_status(souk, buyer.session, order["id"]) == "completed", "the order to complete")
    time.sleep(1)  # nothing more arrives: exactly one receipt
    [receipt] = [m for m in smtp_sink.messages if m.envelope_to == ["reader@example.com"]]
    # The seller hears of the sale by e-mail too, once (with their share, not the buyer's details).
    [sale] = [m for m in smtp_sink.messages if m.envelope_to == ["maker@example.com"] and m["Subject"] == "New sale"]
    sale_text = sale.get_body(preferencelist=("plain",)).get_content()
    assert "your share" in sale_text and re.search(r"\(order #\d+\)", sale_text)
    assert sale["From"] == "Moth Press <shop@example.com>"
    assert receipt.envelope_to == ["reader@example.com"] and receipt.envelope_from == "shop@example.com"
    assert re.search(r"\(order #\d+\)$", receipt["Subject"]) and "Moth Press" in receipt["Subject"]
    assert f"<receipt-{order['id']}@" in receipt["Message-ID"]
    assert receipt["From"] == "Moth Press <shop@example.com>"
    # Text and HTML, as people read them: money in the store's currency, amounts lined up, a date.
    assert receipt.get_content_type() == "multipart/alternative"
    text = receipt.get_body(preferencelist=("plain",)).get_content()
    html = receipt.get_body(preferencelist=("html",)).get_content()
    assert "2 × Pixel Tool" in text and "$30.00" in text and "1 × Field Guide" in text and "$39.00" in text
    assert "minor units" not in text and " USD" not in text
    amount_lines = [line for line in text.splitlines() if line.rstrip().endswith((".00",))]
    assert len(amount_lines) == 3 and len({len(line.rstrip()) for line in amount_lines}) == 1, amount_lines
    assert re.search(r"paid on [A-Z][a-z]+ \d{1,2}, \d{4}", text), text
    assert "<table>" in html and "$39.00" in html and "Pixel Tool" in html and "Open your library" in html

    entries = library(souk, buyer.session)
    keys = [k["key"] for k in entries[app["id"]]["license_keys"]]
    assert len(keys) == 2 and len(set(keys)) == 2, keys  # one key per unit
    assert all(k in text for k in keys)
    assert all(k["activation_limit"] == 3 and k["status"] == "inactive" for k in entries[app["id"]]["license_keys"])

    [file] = entries[book["id"]]["files"]
    assert (file["name"], file["size"], file["version"], file["downloads_left"]) == ("guide.pdf", 300_000, 1, 10)
    downloaded = requests.get(file["download_url"])
    assert downloaded.status_code == 200
    assert hashlib.sha256(downloaded.content).hexdigest() == hashlib.sha256(content).hexdigest()
    assert library(souk, buyer.session)[book["id"]]["files"][0]["downloads_left"] == 9

    # The receipt's link signs the buyer in once (a fresh browser, no password) and opens the library.
    link = re.search(r"(http://\S+/magic/\S+)", text).group(1)
    browser = requests.Session()
    page = browser.get(link)
    assert page.status_code == 200
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
    opened = browser.post(link, data={"_csrf": csrf})
    assert opened.status_code == 200 and opened.url.endswith("/library"), opened.url
    assert "Pixel Tool" in opened.text and keys[0] in opened.text
    again = requests.Session()
    page = again.get(link)
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
    assert again.post(link, data={"_csrf": csrf}).status_code == 404  # single use


def test_every_receipt_arrives_exactly_once_after_an_smtp_outage(make_souk, smtp_sink):
    souk = make_souk(env={**FAST, "SOUK_MAIL_SMTP_URL": smtp_sink.url})
    seller = cli_account(souk, "seller")
    product = seller.create("Outage Edition", publish=True, price=500)
    smtp_sink.stop()
    orders = []
    for _ in range(20):
        buyer = api_account(souk, "buyer")
        orders.append((buyer, pay_with_test_provider(souk, buyer.session, [product["id"]])))
    # Paid and fulfilled, but the receipts wait for the mail server (retried with backoff).
    wait_for(lambda: all(order_status(souk, b.session, o) == "fulfilled" for b, o in orders), "20 fulfilled orders")
    failed = [j for j in json.loads(souk.cli("jobs", "list", "--json", "--limit", "1000").stdout)
              if j["kind"] == "email" and j["attempts"] >= 1 and j["dedupe_key"].startswith("receipt:")]
    assert failed and all(j["state"] == "queued" and j["last_error"] for j in failed), failed
    smtp_sink.start()
    smtp_sink.wait_for(20, timeout=40)
    wait_for(lambda: all(order_status(souk, b.session, o) == "completed" for b, o in orders), "20 completed orders", timeout=40)
    time.sleep(1.5)
    by_order = receipts_by_order(smtp_sink.messages)
    assert sorted(by_order) == sorted(o for _, o in orders)
    assert all(len(messages) == 1 for messages in by_order.values()), {k: len(v) for k, v in by_order.items()}
    # The seller's sale e-mails waited out the outage too: one per order.
    wait_for(lambda: len(sale_mails(smtp_sink.messages)) >= 20, "20 sale e-mails", timeout=40)
    time.sleep(1)
    assert len(sale_mails(smtp_sink.messages)) == 20


def test_kill_9_during_a_hundred_fulfilments_loses_nothing_and_duplicates_no_key(make_souk, smtp_sink, tmp_path):
    workdir = tmp_path / "store"
    workdir.mkdir()
    env = {**FAST, "SOUK_MAIL_SMTP_URL": smtp_sink.url, "SOUK_JOBS_CONCURRENCY": "1", "SOUK_JOBS_LEASE_SECONDS": "2"}
    souk = make_souk(env=env, workdir=workdir)
    seller = cli_account(souk, "seller")
    product = seller.create("Keyed App", publish=True, kind="license", price=700, activation_limit=2)
    buyers = [api_account(souk, "buyer") for _ in range(100)]
    # Every order checked out and its test payment page open; then all 100 Pay buttons at once.
    pending = []
    for buyer in buyers:
        add_to_cart(souk, buyer.session, product["id"], 2)
        response = checkout(souk, buyer.session, key=str(uuid.uuid4()), provider="test")
        hosted = buyer.session.get(response.json()["redirect_url"])
        csrf = re.search(r'name="_csrf" value="([^"]+)"', hosted.text).group(1)
        pending.append((buyer, placed(response)["id"], response.json()["redirect_url"].rsplit("/", 1)[1], csrf))
    for buyer, _, session_id, csrf in pending:
        paid = buyer.session.post(souk.url(f"/test-checkout/{session_id}/pay"), data={"_csrf": csrf},
                                  allow_redirects=False)
        assert paid.status_code == 303
    orders = [(buyer, order_id) for buyer, order_id, _, _ in pending]
    # Kill the server while the payments, fulfilments and receipts are being worked through.
    # (Watched through the SMTP sink, which costs the server nothing: 20 receipts out of 100.)
    wait_for(lambda: len(smtp_sink.messages) >= 20, "20 receipts", interval=0.005)
    os.killpg(souk.process.pid, signal.SIGKILL)
    souk.process.wait()
    done_before = sum(order_status_offline(souk, o) == "completed" for _, o in orders)
    assert done_before < 100, "the kill came too late to interrupt anything"

    restarted = Souk(workdir, env, None)
    restarted.data_dir = souk.data_dir
    restarted.env = {**souk.env, "SOUK_SERVER_PORT": str(restarted.port)}
    restarted.start()
    try:
        wait_for(lambda: all(order_status(restarted, b.session, o) == "completed" for b, o in orders),
                 "100 completed orders", timeout=120)
        jobs = json.loads(restarted.cli("jobs", "list", "--json", "--limit", "5000").stdout)
        fulfils = [j for j in jobs if j["kind"] == "fulfil"]
        assert len(fulfils) == 100 and all(j["state"] == "done" for j in fulfils)
        keys = [k["key"] for b, _ in orders for entry in b.session.get(restarted.url("/api/v1/library")).json()["data"]
                for k in entry["license_keys"]]
        assert len(keys) == 200 and len(set(keys)) == 200  # two per order, none twice
        by_order = receipts_by_order(smtp_sink.wait_for(100, timeout=60))
        assert sorted(by_order) == sorted(o for _, o in orders)  # no lost receipt
    finally:
        restarted.stop()


def sale_mails(messages) -> list:
    return [m for m in messages if (m["Subject"] or "").startswith(("New sale", "New TEST sale"))]


def new_versions(messages) -> list:
    """The new-version e-mails among `messages` (a sale's e-mail to the seller may arrive beside them)."""
    return [m for m in messages if (m["Subject"] or "").startswith("New version of ")]


def order_status_offline(souk, order_id: str) -> str:
    """An order's status read by the CLI (the server may be down)."""
    return json.loads(souk.cli("order", "show", order_id, "--json").stdout)["status"]


def test_a_new_file_version_mails_each_owner_once_and_the_library_offers_it(make_souk, smtp_sink):
    souk = make_souk(env={**FAST, "SOUK_MAIL_SMTP_URL": smtp_sink.url})
    seller = cli_account(souk, "seller")
    product = seller.create("Sample Pack", publish=True, price=1200)
    upload(souk, seller, product["id"], "samples.zip", b"version one")
    owners = [api_account(souk, "buyer", f"owner{i}@example.com") for i in range(2)]
    for owner in owners:
        order = pay_with_test_provider(souk, owner.session, [product["id"]])
        wait_for(lambda: order_status(souk, owner.session, order) == "completed", "a completed order")
    outsider = api_account(souk, "buyer", "outsider@example.com")
    smtp_sink.clear()

    upload(souk, seller, product["id"], "samples.zip", b"version two, bigger")
    wait_for(lambda: len(new_versions(smtp_sink.messages)) >= 2, "two new-version e-mails")
    time.sleep(1.5)
    updates = new_versions(smtp_sink.messages)
    assert len(updates) == 2
    assert sorted(m.envelope_to[0] for m in updates) == ["owner0@example.com", "owner1@example.com"]
    assert all("Sample Pack" in m["Subject"] and "/magic/" in m.get_body(preferencelist=("plain",)).get_content() for m in updates)
    for owner in owners:
        [file] = library(souk, owner.session)[product["id"]]["files"]
        assert (file["version"], file["size"]) == (2, len(b"version two, bigger"))
        assert requests.get(file["download_url"]).content == b"version two, bigger"
        notices = owner.session.get(souk.url("/api/v1/notifications")).json()["data"]
        assert [n["type"] for n in notices].count("file.updated") == 1
    assert outsider.session.get(souk.url("/api/v1/notifications")).json()["data"] == []
