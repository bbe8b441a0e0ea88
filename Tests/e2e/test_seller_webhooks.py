"""Seller webhooks (Standard Webhooks) against the real binary: a seller registers an endpoint, a
buyer pays, and a local receiver on 127.0.0.1 (allowed by `SOUK_WEBHOOKS_ALLOW_PRIVATE`) gets
`order.paid`, signed so that the reference `standardwebhooks` library verifies it. Failures are
retried with the same `webhook-id` and logged; a rotated secret signs beside the new one; test
events and resends; other sellers see nothing; loopback URLs are refused without the setting.

Order data in a payload is the receiving seller's lines only (`lines`, `seller_total`)."""
import json
import threading

import requests
from standardwebhooks import Webhook

from conftest import assert_problem
from fake_http import LocalHTTPFake
from shop_helpers import wait_for
from test_catalog_api import api_account
from test_reviews import STORE, buy

PRIVATE_OK = {
    **STORE,
    "SOUK_WEBHOOKS_ALLOW_PRIVATE": "true",
    # Retries after ~1 s, then ~2 s: three attempts in a few seconds.
    "SOUK_JOBS_RETRY_BASE_SECONDS": "1",
}


class Receiver(LocalHTTPFake):
    """Records every POST and answers from `statuses` (then 200)."""

    name = "webhook-receiver"

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received = []
        self.lock = threading.Lock()

    def _handle(self, handler, method):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode()
        with self.lock:
            self.received.append({"headers": {k.lower(): v for k, v in handler.headers.items()}, "body": body})
            status = self.statuses.pop(0) if self.statuses else 200
        answer = f"receiver says {status}".encode()
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)

    def requests(self, type_=None):
        with self.lock:
            found = list(self.received)
        return [r for r in found if type_ is None or json.loads(r["body"])["type"] == type_]


def seller(souk, email):
    account = api_account(souk, "seller", email)
    souk.cli("seller", "verify", email)
    return account


def register(souk, account, url, events):
    response = account.session.post(souk.url("/api/v1/webhook-endpoints"), json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    return response.json()


def log(souk, account, endpoint_id):
    response = account.session.get(souk.url(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries"))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_order_paid_is_delivered_signed_and_retried_with_the_same_id(make_souk):
    receiver = Receiver(statuses=[500, 500]).start()
    try:
        souk = make_souk(env=PRIVATE_OK)
        maker = seller(souk, "maker@example.com")
        book = maker.create("Field Notes", publish=True, price=900)
        endpoint = register(souk, maker, receiver.base_url + "/hooks", ["order.paid"])
        secret = endpoint["secret"]
        assert secret.startswith("whsec_")

        buyer = api_account(souk, "buyer", "reader@example.com")
        order_id = buy(souk, buyer, book["id"])

        attempts = wait_for(lambda: len(receiver.requests()) >= 3 and receiver.requests(), "three attempts", timeout=30)
        assert len(attempts) == 3, "two 500s, then delivered: no fourth attempt"
        ids = {a["headers"]["webhook-id"] for a in attempts}
        assert len(ids) == 1 and ids.pop().startswith("msg_")
        for attempt in attempts:
            # Raises unless one of the signatures is the secret's over id.timestamp.body.
            payload = Webhook(secret).verify(attempt["body"], attempt["headers"])
            assert payload["type"] == "order.paid"
            assert payload["data"]["id"] == order_id
            assert [line["product_id"] for line in payload["data"]["lines"]] == [book["id"]]
        # A tampered body does not verify.
        try:
            Webhook(secret).verify(attempts[0]["body"].replace("order.paid", "order.refunded"), attempts[0]["headers"])
            raise AssertionError("a tampered body verified")
        except AssertionError:
            raise
        except Exception:
            pass

        entries = wait_for(lambda: len(log(souk, maker, endpoint["id"])) == 3 and log(souk, maker, endpoint["id"]),
                           "three logged attempts")
        assert [e["attempt"] for e in entries] == [3, 2, 1]
        assert [e["status_code"] for e in entries] == [200, 500, 500]
        assert [e["succeeded"] for e in entries] == [True, False, False]
        assert len({e["message_id"] for e in entries}) == 1
        assert entries[0]["message_id"] == attempts[0]["headers"]["webhook-id"]
        assert entries[1]["response_excerpt"] == "receiver says 500"
        assert all(e["duration_ms"] >= 0 and e["event_type"] == "order.paid" for e in entries)
    finally:
        receiver.stop()


def test_loopback_url_is_refused_unless_the_operator_allows_it(make_souk):
    souk = make_souk(env=STORE)
    maker = seller(souk, "maker@example.com")
    for url in ("http://127.0.0.1:8080/hook", "http://[::1]/hook", "http://10.1.2.3/", "http://localhost/"):
        body = assert_problem(
            maker.session.post(souk.url("/api/v1/webhook-endpoints"), json={"url": url, "events": ["order.paid"]}),
            422, "validation_failed")
        assert body["field"] == "url" and "public addresses" in body["detail"], body
    assert maker.session.get(souk.url("/api/v1/webhook-endpoints")).json()["data"] == []


def test_rotation_test_event_resend_privacy_and_dashboard_log(make_souk):
    receiver = Receiver().start()
    try:
        souk = make_souk(env=PRIVATE_OK)
        maker = seller(souk, "maker@example.com")
        endpoint = register(souk, maker, receiver.base_url + "/in", ["order.paid", "review.created"])
        old_secret = endpoint["secret"]

        rotated = maker.session.post(souk.url(f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret"), json={})
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret != old_secret and new_secret.startswith("whsec_")

        test = maker.session.post(souk.url(f"/api/v1/webhook-endpoints/{endpoint['id']}/test"), json={})
        assert test.status_code == 202, test.text
        message_id = test.json()["message_id"]
        [delivered] = wait_for(lambda: receiver.requests("webhook.test"), "the test event")
        assert delivered["headers"]["webhook-id"] == message_id
        signatures = delivered["headers"]["webhook-signature"].split(" ")
        assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures), signatures
        # Both secrets verify it during the overlap day (each matches one of the two signatures).
        assert Webhook(new_secret).verify(delivered["body"], delivered["headers"])["type"] == "webhook.test"
        assert Webhook(old_secret).verify(delivered["body"], delivered["headers"])["type"] == "webhook.test"

        # The receiver has the event a moment before the store records the delivery; until then a
        # resend is refused as "being delivered right now" (409), which a client retries.
        def resend():
            response = maker.session.post(
                souk.url(f"/api/v1/webhook-endpoints/{endpoint['id']}/messages/{message_id}/resend"), json={})
            return [response] if response.status_code != 409 else None  # (a 4xx response is falsy)
        [resent] = wait_for(resend, "the first delivery to be recorded, then the resend")
        assert resent.status_code == 202, resent.text
        both = wait_for(lambda: len(receiver.requests("webhook.test")) == 2 and receiver.requests("webhook.test"), "the resend")
        assert [r["headers"]["webhook-id"] for r in both] == [message_id, message_id]
        assert both[0]["body"] == both[1]["body"]
        entries = wait_for(lambda: len(log(souk, maker, endpoint["id"])) == 2 and log(souk, maker, endpoint["id"]), "log")
        assert [e["attempt"] for e in entries] == [2, 1] and {e["status_code"] for e in entries} == {200}

        # Another seller: not found, for the endpoint, its log, its actions; nothing in their list.
        rival = seller(souk, "rival@example.com")
        for path in (f"/api/v1/webhook-endpoints/{endpoint['id']}", f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries"):
            assert_problem(rival.session.get(souk.url(path)), 404, "not_found")
        assert_problem(rival.session.post(souk.url(f"/api/v1/webhook-endpoints/{endpoint['id']}/test"), json={}), 404)
        assert rival.session.get(souk.url("/api/v1/webhook-endpoints")).json()["data"] == []
        assert rival.session.get(souk.url(f"/dashboard/webhooks/{endpoint['id']}"),
                                 headers={"Accept": "text/html"}).status_code == 404
        assert requests.get(souk.url("/api/v1/webhook-endpoints")).status_code == 401

        # The seller's dashboard shows the log, with a resend button per attempt.
        page = maker.session.get(souk.url(f"/dashboard/webhooks/{endpoint['id']}"), headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert message_id in page.text and "webhook.test" in page.text and "receiver says 200" in page.text
        assert f"/messages/{message_id}/resend" in page.text
        listing = maker.session.get(souk.url("/dashboard/webhooks"), headers={"Accept": "text/html"})
        assert receiver.base_url + "/in" in listing.text and new_secret not in listing.text
    finally:
        receiver.stop()
