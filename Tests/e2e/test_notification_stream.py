"""The live notification stream (`GET /api/v1/notifications/stream`, Server-Sent Events): a notice
caused by another process (`souk announce`) reaches a connected client within a second;
reconnecting with Last-Event-ID replays what was missed, without repeats; heartbeats flow; one
user may hold only so many streams (429 problem+json past the cap)."""
import json
import queue
import threading
import time

import pytest
import requests

from conftest import assert_problem
from fake_stripe import fake_stripe  # noqa: F401  (a fixture)
from test_catalog_api import api_account


class Stream:
    """Reads one SSE connection on a thread; events and comments land in a queue."""

    def __init__(self, souk, account, last_event_id: str | None = None, after: int | None = None):
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        params = {"after": after} if after is not None else None
        self.response = account.session.get(souk.url("/api/v1/notifications/stream"), headers=headers, params=params,
                                             stream=True, timeout=30)
        self.items: queue.Queue = queue.Queue()
        if self.response.status_code == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        event: dict = {}
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line == "":
                    if event:
                        self.items.put(event)
                    event = {}
                elif line.startswith(":"):
                    self.items.put({"comment": line[1:].strip()})
                else:
                    name, _, value = line.partition(":")
                    event[name] = value.lstrip(" ")
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError, AttributeError):
            pass

    def next_event(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "no event in time"
            item = self.items.get(timeout=remaining)
            if "data" in item:
                return item

    def comments(self, timeout: float) -> list[str]:
        found, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.items.get(timeout=0.1)
            except queue.Empty:
                continue
            if "comment" in item:
                found.append(item["comment"])
        return found

    def close(self):
        self.response.close()


def test_a_notice_from_another_process_arrives_within_a_second_and_a_reconnect_replays(make_souk):
    souk = make_souk(env={"SOUK_NOTIFICATIONS_HEARTBEAT_SECONDS": "1"})
    buyer = api_account(souk, "buyer", "listener@example.com")
    stream = Stream(souk, buyer)
    assert stream.response.status_code == 200
    assert stream.response.headers["Content-Type"].startswith("text/event-stream")
    assert "connected" in stream.comments(0.5)

    started = time.monotonic()
    souk.cli("announce", "--title", "Flash sale", "--body", "Everything half price today.")
    event = stream.next_event(timeout=2)
    assert time.monotonic() - started < 1.0 + 0.5, "the CLI's process start is inside the budget's margin"
    assert event["event"] == "notification"
    first = json.loads(event["data"])
    assert first["type"] == "announcement" and first["title"] == "Flash sale" and first["read"] is False
    first_id = event["id"]
    assert "heartbeat" in stream.comments(2.5)
    stream.close()

    # Missed while away: two more notices; a reconnect from the first id replays both, in order, once.
    souk.cli("announce", "--title", "Second", "--body", "b")
    souk.cli("announce", "--title", "Third", "--body", "c")
    again = Stream(souk, buyer, last_event_id=first_id)
    titles = [json.loads(again.next_event(timeout=2)["data"])["title"] for _ in range(2)]
    assert titles == ["Second", "Third"]
    souk.cli("announce", "--title", "Fourth", "--body", "d")
    assert json.loads(again.next_event(timeout=2)["data"])["title"] == "Fourth"
    assert all("data" not in item for item in list(again.items.queue)), "nothing repeated"
    again.close()

    # Someone else's notices never reach this stream.
    other = api_account(souk, "buyer", "other@example.com")
    theirs = Stream(souk, other)
    souk.cli("announce", "--title", "Buyers only", "--body", "x", "--role", "buyer")
    assert json.loads(theirs.next_event(timeout=2)["data"])["title"] == "Buyers only"
    theirs.close()


def test_streams_per_user_are_capped_and_bad_resume_ids_refused(make_souk):
    souk = make_souk(env={"SOUK_NOTIFICATIONS_STREAMS_PER_USER": "2", "SOUK_NOTIFICATIONS_HEARTBEAT_SECONDS": "1"})
    buyer = api_account(souk, "buyer", "tabs@example.com")
    open_streams = [Stream(souk, buyer), Stream(souk, buyer)]
    assert all(s.response.status_code == 200 for s in open_streams)
    third = buyer.session.get(souk.url("/api/v1/notifications/stream"), timeout=10)
    problem = assert_problem(third, 429, "rate_limited")
    assert "2 live notification streams" in problem["detail"]
    assert third.headers.get("Retry-After")
    open_streams[0].close()
    # The closed one frees its place (the server notices within a heartbeat at the latest).
    deadline = time.monotonic() + 20
    while True:
        retry = Stream(souk, buyer)
        if retry.response.status_code == 200:
            retry.close()
            break
        assert time.monotonic() < deadline, "a closed stream kept its place"
        time.sleep(0.5)
    bad = buyer.session.get(souk.url("/api/v1/notifications/stream"), headers={"Last-Event-ID": "yesterday"}, timeout=10)
    assert_problem(bad, 422)
    anonymous = requests.get(souk.url("/api/v1/notifications/stream"), timeout=10)
    assert anonymous.status_code == 401


def test_a_signed_payment_webhook_reaches_the_sellers_stream_within_a_second(make_souk, fake_stripe):
    """Acceptance 2: Stripe's `checkout.session.completed` (signed with the official library) pays
    the order; the seller's open stream hears `order.paid`, with their share, within a second of
    the webhook's answer. The buyer's stream hears theirs; a stranger's stream hears nothing."""
    import uuid

    from fake_stripe import deliver, event, start_store
    from shop_helpers import add_to_cart, checkout, outcome, placed
    from test_catalog_api import cli_account

    # A heartbeat a second: closing a stream waits for its reader's next line.
    souk = start_store(make_souk, fake_stripe, SOUK_NOTIFICATIONS_HEARTBEAT_SECONDS=1)
    seller = cli_account(souk, "seller", "maker@example.com")
    product = seller.create("Field Guide to Ferns", publish=True, price=1999)
    buyer = api_account(souk, "buyer", "reader@example.com")
    stranger = api_account(souk, "buyer", "stranger@example.com")
    add_to_cart(souk, buyer.session, product["id"])
    order = placed(checkout(souk, buyer.session, key=str(uuid.uuid4())))

    seller_stream, buyer_stream, stranger_stream = Stream(souk, seller), Stream(souk, buyer), Stream(souk, stranger)
    try:
        for stream in (seller_stream, buyer_stream, stranger_stream):
            assert stream.response.status_code == 200
            assert "connected" in stream.comments(0.5)
        session = fake_stripe.session_for_order(order["id"])
        body = event("checkout.session.completed", fake_stripe.mark_paid(session["id"]))
        response = deliver(souk, body)
        answered_at = time.monotonic()
        assert outcome(response) == "applied"

        told = seller_stream.next_event(timeout=1.0)
        assert time.monotonic() - answered_at < 1.0
        notice = json.loads(told["data"])
        assert told["event"] == "notification" and notice["type"] == "order.paid", told
        assert f"(order #{order['number']})" in notice["body"], notice
        assert "Field Guide to Ferns" in notice["body"] and "your share" in notice["body"], notice

        mine = json.loads(buyer_stream.next_event(timeout=1.0)["data"])
        assert mine["type"] == "order.paid"
        with pytest.raises((AssertionError, queue.Empty)):
            stranger_stream.next_event(timeout=1.0)
    finally:
        for stream in (seller_stream, buyer_stream, stranger_stream):
            stream.close()


def test_a_stream_ends_at_its_lifetime_and_the_reconnect_misses_nothing(make_souk):
    """`notifications.stream_max_seconds`: the server ends a stream however lively it is, so a
    forgotten tab holds nothing for long; the client resumes with Last-Event-ID."""
    souk = make_souk(env={"SOUK_NOTIFICATIONS_STREAM_MAX_SECONDS": "1", "SOUK_NOTIFICATIONS_HEARTBEAT_SECONDS": "60"})
    buyer = api_account(souk, "buyer", "tab@example.com")
    started = time.monotonic()
    stream = buyer.session.get(souk.url("/api/v1/notifications/stream"), stream=True, timeout=10)
    assert stream.status_code == 200
    souk.cli("announce", "--title", "Before the end", "--body", "x")
    text = stream.content.decode()  # the whole answer: the server ended the stream
    assert time.monotonic() - started < 5, "the stream outlived its lifetime"
    assert text.startswith("retry: 2000\n: connected\n\n")
    events = [block for block in text.split("\n\n") if block.startswith("id: ")]
    assert len(events) == 1 and "Before the end" in events[0]
    last_id = events[0].split("\n")[0].removeprefix("id: ")

    souk.cli("announce", "--title", "While away", "--body", "y")
    resumed = buyer.session.get(souk.url("/api/v1/notifications/stream"), headers={"Last-Event-ID": last_id},
                                stream=True, timeout=10)
    replay = resumed.content.decode()
    assert "While away" in replay and "Before the end" not in replay


def test_a_pages_bell_and_its_stream_never_count_a_notice_twice_nor_miss_one(make_souk):
    """The page renders the unread count and the newest event id it includes (`data-after`); the
    stream opened with `after` replays only what came later: a notice made before the page was
    rendered is not sent again (while another stream keeps the hub polling), one made between the
    page and the stream is not lost."""
    import re
    souk = make_souk(env={"SOUK_NOTIFICATIONS_HEARTBEAT_SECONDS": "1"})
    reader = api_account(souk, "buyer", "reader@example.com")
    elsewhere = Stream(souk, reader)  # another tab: the hub is already polling
    assert elsewhere.response.status_code == 200
    souk.cli("announce", "--title", "Before the page", "--body", "Counted by the page.")
    elsewhere.next_event(timeout=3)
    page = reader.session.get(souk.url("/search")).text
    bell = re.search(r'<a class="bell"[^>]*data-unread="(\d+)" data-after="(\d+)"', page)
    assert bell and bell.group(1) == "1", page[:2000]
    souk.cli("announce", "--title", "Between page and stream", "--body", "Must not be lost.")

    stream = Stream(souk, reader, after=int(bell.group(2)))
    assert stream.response.status_code == 200
    first = stream.next_event(timeout=3)
    assert json.loads(first["data"])["title"] == "Between page and stream"
    souk.cli("announce", "--title", "After the stream", "--body", "Live.")
    assert json.loads(stream.next_event(timeout=3)["data"])["title"] == "After the stream"
    stream.response.close()
    elsewhere.response.close()
    bad = reader.session.get(souk.url("/api/v1/notifications/stream"), params={"after": "yesterday"})
    assert_problem(bad, 422, "validation_failed")


def test_sigterm_ends_open_streams_and_the_server_stops_promptly(make_souk):
    """An open stream does not hold shutdown up: the server ends it and exits within seconds."""
    souk = make_souk(env={"SOUK_NOTIFICATIONS_HEARTBEAT_SECONDS": "60"})
    reader = api_account(souk, "buyer", "reader@example.com")
    stream = Stream(souk, reader)
    assert stream.response.status_code == 200
    assert stream.comments(timeout=0.5) == ["connected"]
    started = time.monotonic()
    souk.process.terminate()
    souk.process.wait(timeout=10)
    assert time.monotonic() - started < 5, "shutdown waited for the open stream"
    assert souk.process.returncode == 0
