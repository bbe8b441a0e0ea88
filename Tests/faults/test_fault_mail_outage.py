"""Mail outage: the SMTP server is out for a while (10 s in the short run, 2 minutes in the full
one) while buyers keep paying -> every receipt (and every seller's sale e-mail) arrives once,
once the mail server is back, with no operator action.

Buyers pay with the test provider at a steady pace before, during and after the outage. The
outage has two halves: first the mail server answers every message with `451 4.3.0 Try again
later` (up, but refusing), then it is down (connections refused). The store retries its e-mail
jobs with backoff (base 1 s here, doubling, at most 10 attempts: 8 minutes before a job gives up),
so after a 2-minute outage a receipt may wait about a minute more for its next attempt."""
import math
import re
import time
import uuid

from fault_helpers import (SCALE, jobs, orders, parallel, receipts_by_order, report, sale_mails, wait_for,
                           wait_jobs_settled)
from shop_helpers import add_to_cart, checkout, placed
from test_catalog_api import api_account, cli_account

STORE = {
    "SOUK_JOBS_POLL_MILLISECONDS": "50",
    "SOUK_JOBS_RETRY_BASE_SECONDS": "1",
    "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "0",
    "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "0",
    "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
}


def pay_with_test_provider(souk, session, product_id: str) -> str:
    """Cart, checkout and the Pay button of the test provider's page, as a browser would; returns
    the order id."""
    add_to_cart(souk, session, product_id)
    response = checkout(souk, session, key=str(uuid.uuid4()), provider="test")
    order = placed(response)
    redirect = response.json()["redirect_url"]
    hosted = session.get(redirect)
    csrf = re.search(r'name="_csrf" value="([^"]+)"', hosted.text).group(1)
    paid = session.post(souk.url(f"/test-checkout/{redirect.rsplit('/', 1)[1]}/pay"), data={"_csrf": csrf},
                        allow_redirects=False)
    assert paid.status_code == 303, paid.text
    return order["id"]


def test_every_receipt_arrives_once_after_a_mail_outage_during_purchases(make_souk, smtp_sink):
    outage = SCALE["outage_seconds"]
    calm = max(2.0, outage / 10)  # purchases before and after the outage
    interval = 0.5 if outage <= 30 else 1.0
    souk = make_souk(env={**STORE, "SOUK_MAIL_SMTP_URL": smtp_sink.url})
    seller = cli_account(souk, "seller")
    product = seller.create("Outage Edition", publish=True, price=500)
    planned = math.ceil((2 * calm + outage) / interval) + 4
    buyers = parallel(lambda _: api_account(souk, "buyer"), range(planned), workers=6)
    smtp_sink.wait_for(1)  # the seller's "verified" notice: the mail path works
    smtp_sink.clear()

    bought: list[tuple[str, str]] = []  # (order id, phase)

    def buy_until(deadline: float, phase: str):
        while time.monotonic() < deadline:
            tick = time.monotonic()
            buyer = buyers[len(bought)]
            bought.append((pay_with_test_provider(souk, buyer.session, product["id"]), phase))
            time.sleep(max(0.0, interval - (time.monotonic() - tick)))

    start = time.monotonic()
    buy_until(start + calm, "before")
    # First half: the mail server is up but refuses every message for now.
    smtp_sink.reply = "451 4.3.0 Try again later"
    refusing_from = time.monotonic()
    buy_until(refusing_from + outage / 2, "refused")
    # Second half: down, connections refused.
    smtp_sink.stop()
    buy_until(refusing_from + outage, "down")
    during = [o for o, phase in bought if phase in ("refused", "down")]
    # Paid and fulfilled, but their receipts wait in the queue with the last error recorded.
    waiting = [j for j in jobs(souk) if (j["dedupe_key"] or "").startswith("receipt:") and j["state"] == "queued"]
    assert waiting and all(j["last_error"] and j["attempts"] >= 1 for j in waiting), waiting[:3]
    refused_messages = smtp_sink.refused
    assert refused_messages > 0, "no message was refused during the first half of the outage"
    assert not set(receipts_by_order(smtp_sink.messages)) & set(during), "a receipt got through the outage"

    smtp_sink.reply = None
    smtp_sink.start()
    back_at = time.monotonic()
    buy_until(back_at + calm, "after")
    count = len(bought)
    order_ids = [o for o, _ in bought]

    # Every receipt arrives once the server is back (each job at its next retry), exactly once.
    wait_for(lambda: set(receipts_by_order(smtp_sink.messages)) >= set(order_ids), f"{count} receipts",
             timeout=outage + 120, interval=0.5)
    last_receipt = time.monotonic() - back_at
    all_jobs = wait_jobs_settled(souk, timeout=outage + 120)
    dead = [j for j in all_jobs if j["state"] == "dead"]
    assert not dead, dead
    by_order = receipts_by_order(smtp_sink.messages)
    assert sorted(by_order) == sorted(order_ids)
    doubled = {o: len(m) for o, m in by_order.items() if len(m) != 1}
    assert not doubled, f"receipts sent more than once: {doubled}"
    assert len(sale_mails(smtp_sink.messages)) == count, "a seller's sale e-mail was lost or doubled"
    statuses = {o["id"]: o["status"] for o in orders(souk)}
    assert all(statuses[o] == "completed" for o in order_ids), [statuses[o] for o in order_ids]
    receipt_jobs = [j for j in all_jobs if (j["dedupe_key"] or "").startswith("receipt:")]
    retried = [j for j in receipt_jobs if j["attempts"] > 1]
    attempts = sum(j["attempts"] for j in receipt_jobs)

    report(f"mail outage: {outage} s ({outage / 2:.0f} s answering 451, {outage / 2:.0f} s down) while buying; "
           f"{count} orders ({len(during)} during the outage), {count} receipts, each once; the last arrived "
           f"{last_receipt:.0f} s after the mail server came back; {len(retried)} receipts retried "
           f"({attempts} attempts in all, {refused_messages} messages answered 451); {count} sale e-mails")
