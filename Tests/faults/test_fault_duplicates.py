"""Duplicates: every Stripe webhook of N orders (300 in the full run) delivered three times at
once and out of order -> N fulfilments, N receipts, one license key per unit, none twice.

Two orders in three pay by card: one `checkout.session.completed` (paid). One in three pays late
(a bank debit): `checkout.session.completed` (unpaid) then `checkout.session.async_payment_succeeded`;
its six deliveries are shuffled, so the payment often arrives before the session's completion.
Deliveries go out in waves of a few orders, every copy of every event of a wave at the same
moment on its own connection, the waves in an order unrelated to the orders' creation."""
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from fake_stripe import stripe_env
from fault_helpers import (SCALE, export, orders, parallel, receipts_by_order, report, sale_mails, wait_for,
                           wait_jobs_settled)
from fault_shop import Storefront, paid_events, post_webhook

COPIES = 3
ORDERS_PER_WAVE = 8


def test_each_webhook_three_times_at_once_and_out_of_order_fulfils_each_order_once(make_souk, fake_stripe,
                                                                                   smtp_sink, tmp_path):
    count = SCALE["duplicate_orders"]
    souk = make_souk(env=stripe_env(fake_stripe, SOUK_MAIL_SMTP_URL=smtp_sink.url, SOUK_JOBS_POLL_MILLISECONDS=50,
                                    SOUK_JOBS_RETRY_BASE_SECONDS=1))
    shop = Storefront(souk)
    placed_orders = shop.place_stripe_orders(count)
    rng = random.Random()
    events = {}  # order id -> its events
    for index, (order_id, _) in enumerate(placed_orders):
        events[order_id] = paid_events(fake_stripe, order_id, delayed=index % 3 == 2)
    delayed = sum(len(e) == 2 for e in events.values())

    order_ids = [order_id for order_id, _ in placed_orders]
    rng.shuffle(order_ids)
    waves = []
    for start in range(0, len(order_ids), ORDERS_PER_WAVE):
        wave = [(order_id, built) for order_id in order_ids[start:start + ORDERS_PER_WAVE]
                for built in events[order_id] for _ in range(COPIES)]
        rng.shuffle(wave)
        waves.append(wave)
    deliveries = sum(len(w) for w in waves)
    widest = max(len(w) for w in waves)

    answers = []  # (order id, event id, event type, status, outcome)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=widest) as pool:
        for wave in waves:
            for order_id, built, (status, outcome) in zip(
                    (o for o, _ in wave), (b for _, b in wave),
                    pool.map(lambda item: post_webhook(souk, item[1]), wave)):
                answers.append((order_id, built["id"], built["type"], status, outcome))
    elapsed = time.monotonic() - started

    # Every delivery was taken (2xx, as Stripe needs to stop retrying), and each event applied once.
    refused = [a for a in answers if a[3] != 200]
    assert not refused, f"{len(refused)} deliveries not answered 200, e.g. {refused[:5]}"
    outcomes = Counter(a[4] for a in answers)
    applied = Counter(a[1] for a in answers if a[4] == "applied")
    assert all(n == 1 for n in applied.values()), {e: n for e, n in applied.items() if n > 1}

    # The operator's view: every order completed (paid, fulfilled, receipt sent), once.
    wait_for(lambda: sum(o["status"] == "completed" for o in orders(souk)) >= count, f"{count} completed orders",
             timeout=60 + count * 0.5, interval=0.5)
    all_jobs = wait_jobs_settled(souk, timeout=60)
    listed = {o["id"]: o for o in orders(souk)}
    assert sorted(listed) == sorted(events), "orders appeared or vanished"
    assert {o["status"] for o in listed.values()} == {"completed"}
    fulfils = [j for j in all_jobs if j["kind"] == "fulfil"]
    assert sorted(j["dedupe_key"] for j in fulfils) == sorted(f"fulfil:{o}" for o in events), \
        "a fulfilment lost or doubled"
    assert {j["state"] for j in fulfils} == {"done"}
    receipt_jobs = [j for j in all_jobs if (j["dedupe_key"] or "").startswith("receipt:")]
    assert sorted(j["dedupe_key"] for j in receipt_jobs) == sorted(f"receipt:{o}" for o in events)
    assert not [j for j in all_jobs if j["state"] == "dead"], [j for j in all_jobs if j["state"] == "dead"]
    twice = [key for key, n in Counter(j["dedupe_key"] for j in all_jobs if j["dedupe_key"]).items() if n > 1]
    assert not twice, f"jobs queued twice for the same purpose: {twice[:10]}"

    # Each buyer's receipt arrived once; the seller heard of each sale once.
    by_order = receipts_by_order(smtp_sink.wait_for(count, timeout=30))
    assert sorted(by_order) == sorted(events), "a receipt is missing"
    doubled = {o: len(m) for o, m in by_order.items() if len(m) != 1}
    assert not doubled, f"receipts sent more than once: {doubled}"
    assert len(sale_mails(smtp_sink.messages)) == count

    # One license key per order (one unit each), none twice, as the export and each library show.
    licenses = export(souk, tmp_path / "export")["licenses"]
    keys = [row["key"] for row in licenses]
    assert len(keys) == count and len(set(keys)) == count, "duplicate or missing license keys"
    assert Counter(row["order_id"] for row in licenses) == Counter({o: 1 for o in events})
    libraries = parallel(shop.library_of, [buyer for _, buyer in placed_orders])
    for (order_id, _), entries in zip(placed_orders, libraries):
        assert sorted(e["product_id"] for e in entries) == sorted(shop.product_ids), (order_id, entries)
        [app] = [e for e in entries if e["product_id"] == shop.app["id"]]
        assert [k["key"] for k in app["license_keys"]] == [r["key"] for r in licenses if r["order_id"] == order_id]

    report(f"duplicates: {count} orders ({delayed} paid late), {len(answers)} webhook deliveries "
           f"({COPIES}x each of {deliveries // COPIES} events, up to {widest} at once, shuffled) in {elapsed:.1f} s "
           f"({len(answers) / elapsed:.0f}/s); outcomes {dict(sorted(outcomes.items()))}; "
           f"{len(fulfils)} fulfilments, {sum(len(m) for m in by_order.values())} receipts, "
           f"{len(set(keys))} distinct license keys")
