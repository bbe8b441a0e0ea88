"""Crash: `kill -9` at random moments of a webhook storm (2 in the short run, 5 in the full one),
each time a restart on the same data dir and port; the webhooks are delivered as Stripe does
(every attempt that got no 2xx is tried again), and afterwards every event is delivered once more
(Stripe delivers at least once) -> every paid order fulfilled exactly once, no job lost or doubled.

The storm: N orders (300 in the full run) placed through the fake Stripe, one in three paid late
(`completed` unpaid, then `async_payment_succeeded`); their events go out shuffled, spread over a
few seconds, from 16 senders. The kills fall at random times inside that window, while payments,
fulfilments and receipts are being worked through (the report says how many were in flight)."""
import heapq
import os
import random
import threading
import time
from collections import Counter

from fake_stripe import stripe_env
from fault_helpers import (SCALE, export, jobs, kill_9, orders, parallel, receipts_by_order, report,
                           restart_on_same_port, sale_mails, wait_for, wait_jobs_settled)
from fault_shop import Storefront, paid_events, post_webhook

SENDERS = 16
MIN_UPTIME = 0.3  # seconds a restarted server runs at least before the next kill


class Provider:
    """Delivers events like a payment provider: each at its time, again after a failed attempt
    (no answer, or not 2xx) with a short backoff, until the store acknowledges it with a 2xx."""

    def __init__(self, souk, events: list[dict], seconds: float):
        self.souk = souk
        self.total = len(events)
        start = time.monotonic()
        # (due time, tie-breaker, attempt, event)
        self.heap = [(start + seconds * i / len(events), i, 1, built) for i, built in enumerate(events)]
        heapq.heapify(self.heap)
        self.lock = threading.Lock()
        self.acked: dict[str, str] = {}  # event id -> outcome of the attempt that got a 2xx
        self.failures: list[tuple[str, object, str]] = []  # (event id, status, error)
        self.retried_outcomes = Counter()  # outcome of the 2xx of events that failed before
        self.started = start
        self.finished = None

    def run(self):
        threads = [threading.Thread(target=self._sender, daemon=True) for _ in range(SENDERS)]
        for thread in threads:
            thread.start()
        return threads

    def _sender(self):
        while True:
            with self.lock:
                if len(self.acked) == self.total:
                    return
                item = heapq.heappop(self.heap) if self.heap else None
            if item is None:  # the rest are in other senders' hands
                time.sleep(0.02)
                continue
            due, tie, attempt, built = item
            time.sleep(max(0.0, due - time.monotonic()))
            status, outcome = post_webhook(self.souk, built)
            with self.lock:
                if status is not None and 200 <= status < 300:
                    self.acked[built["id"]] = outcome
                    if attempt > 1:
                        self.retried_outcomes[outcome] += 1
                    if len(self.acked) == self.total:
                        self.finished = time.monotonic()
                else:
                    self.failures.append((built["id"], status, outcome))
                    backoff = min(0.2 * 2 ** (attempt - 1), 2.0)
                    heapq.heappush(self.heap, (time.monotonic() + backoff, tie, attempt + 1, built))

    @property
    def done(self) -> bool:
        with self.lock:
            return len(self.acked) == self.total


def test_kill_9_during_a_webhook_storm_loses_no_payment_and_doubles_no_fulfilment(make_souk, restarts, fake_stripe,
                                                                                  smtp_sink, tmp_path):
    count, kills, storm_seconds = SCALE["crash_orders"], SCALE["kills"], SCALE["storm_seconds"]
    seed = int(os.environ.get("SOUK_FAULTS_SEED") or random.SystemRandom().randrange(1 << 30))
    rng = random.Random(seed)
    env = stripe_env(fake_stripe, SOUK_MAIL_SMTP_URL=smtp_sink.url, SOUK_JOBS_POLL_MILLISECONDS=50,
                     SOUK_JOBS_RETRY_BASE_SECONDS=1, SOUK_JOBS_LEASE_SECONDS=2)
    souk = make_souk(env=env)
    shop = Storefront(souk)
    placed_orders = shop.place_stripe_orders(count)
    order_ids = [order_id for order_id, _ in placed_orders]
    events = []
    for index, order_id in enumerate(order_ids):
        events.extend(paid_events(fake_stripe, order_id, delayed=index % 3 == 2))
    rng.shuffle(events)

    # The storm, and the kills at random moments inside it.
    provider = Provider(souk, events, storm_seconds)
    kill_at = sorted(rng.uniform(0.1, 0.9) * storm_seconds for _ in range(kills))
    senders = provider.run()
    current = souk
    at_kills = []
    for number, moment in enumerate(kill_at, start=1):
        # A random moment, but not before the restarted server did some work.
        time.sleep(max(MIN_UPTIME, provider.started + moment - time.monotonic()))
        kill_9(current)
        killed_at = time.monotonic() - provider.started
        with provider.lock:
            acked = len(provider.acked)
        # What the dead server left half done, read by the CLI from its data dir.
        statuses = Counter(o["status"] for o in orders(current))
        states = Counter(j["state"] for j in jobs(current) if j["kind"] != "order_expiry")
        at_kills.append(f"kill {number} at {killed_at:.1f} s: {acked}/{len(events)} events acknowledged, orders "
                        f"{dict(sorted(statuses.items()))}, jobs {dict(sorted(states.items()))}")
        current = restart_on_same_port(current, number)
        restarts.append(current)
    for thread in senders:
        thread.join(timeout=120 + storm_seconds)
    assert provider.done, f"the provider could not deliver every event: {len(provider.acked)}/{len(events)}"
    storm_took = provider.finished - provider.started
    assert len(restarts) == kills

    # Every paid order completes (paid, fulfilled, receipt sent), with no help from anyone.
    wait_for(lambda: sum(o["status"] == "completed" for o in orders(current)) >= count, f"{count} completed orders",
             timeout=90 + count * 0.5, interval=0.5)
    settled = wait_jobs_settled(current, timeout=90)

    # Stripe delivers at least once: every event once more, long after. Nothing new may happen.
    again = parallel(lambda built: post_webhook(current, built), events, workers=SENDERS)
    assert all(status == 200 for status, _ in again), Counter(again)
    assert {outcome for _, outcome in again} <= {"duplicate", "ignored"}, Counter(again)
    after = wait_jobs_settled(current, timeout=60)
    assert sorted(j["id"] for j in after) == sorted(j["id"] for j in settled), "a re-delivered event made new jobs"

    listed = {o["id"]: o for o in orders(current)}
    assert sorted(listed) == sorted(order_ids)
    assert {o["status"] for o in listed.values()} == {"completed"}, Counter(o["status"] for o in listed.values())
    assert all(o["paid_at"] for o in listed.values())

    # No job lost or doubled: one fulfilment and one receipt per order, all done; nothing dead.
    dead = [j for j in after if j["state"] == "dead"]
    assert not dead, dead
    fulfils = [j for j in after if j["kind"] == "fulfil"]
    assert sorted(j["dedupe_key"] for j in fulfils) == sorted(f"fulfil:{o}" for o in order_ids)
    assert {j["state"] for j in fulfils} == {"done"}
    receipt_jobs = {j["dedupe_key"].split(":", 1)[1]: j for j in after
                    if (j["dedupe_key"] or "").startswith("receipt:")}
    assert sorted(receipt_jobs) == sorted(order_ids) and {j["state"] for j in receipt_jobs.values()} == {"done"}
    taken_over = [j for j in after if j["attempts"] > 1]
    twice = [key for key, n in Counter(j["dedupe_key"] for j in after if j["dedupe_key"]).items() if n > 1]
    assert not twice, f"jobs queued twice for the same purpose: {twice[:10]}"

    # Fulfilled exactly once: one license key per order, none twice; both products in each library.
    licenses = export(current, tmp_path / "export")["licenses"]
    keys = [row["key"] for row in licenses]
    assert len(set(keys)) == len(keys), "a license key was issued twice"
    assert Counter(row["order_id"] for row in licenses) == Counter({o: 1 for o in order_ids}), \
        "an order has no license key or more than one"
    shop.souk = current
    libraries = parallel(shop.library_of, [buyer for _, buyer in placed_orders])
    assert all(sorted(e["product_id"] for e in entries) == sorted(shop.product_ids) for entries in libraries)

    # Every receipt arrived. A second copy (same Message-ID: mail programs show it once) is only
    # allowed where the server died between handing the mail to SMTP and recording it sent,
    # that is when the receipt's job had to be run again.
    smtp_sink.wait_for(count, timeout=30)
    by_order = receipts_by_order(smtp_sink.messages)
    assert sorted(by_order) == sorted(order_ids), f"{len(set(order_ids) - set(by_order))} receipts missing"
    resent = {o: len(m) for o, m in by_order.items() if len(m) > 1}
    unexplained = {o: n for o, n in resent.items() if receipt_jobs[o]["attempts"] < 2}
    assert not unexplained, f"receipts sent twice by jobs that ran once: {unexplained}"
    assert len({m["Message-ID"] for m in sale_mails(smtp_sink.messages)}) == count

    failed_events = {f[0] for f in provider.failures}
    report(f"crash: {count} orders, {len(events)} events over {storm_seconds} s from {SENDERS} senders "
           f"(storm done in {storm_took:.1f} s), {kills} x kill -9 (seed {seed}); {len(provider.failures)} failed "
           f"attempts on {len(failed_events)} events, re-delivered until 2xx: "
           f"{dict(sorted(provider.retried_outcomes.items()))}; then all {len(events)} once more: all duplicates. "
           f"{len(fulfils)} fulfilments, {len(keys)} unique keys, {len(by_order)} orders with a receipt "
           f"({len(resent)} sent twice by a job cut short), {len(taken_over)} jobs run again after a kill")
    for line in at_kills:
        report("  " + line)
