#!/usr/bin/env python3
"""A year of sales for a demo store:  Benchmarks/seed_sales.py DATA_DIR [ORDERS]

Adds ORDERS (default 100,000) paid Stripe orders of the demo's first seller's products, bought by
the demo's buyers, spread over the last 365 days, to a store `souk demo seed` made (and `souk`
has migrated): the seller pages, the buyers' order lists and the admin's order pages then carry a
popular creator's history. Each order is written as the store's checkout writes it (`created`)
and then paid in a second statement, as a webhook moves it, so the figures the database keeps as
orders move (migration v31) count them. Runs once per data folder (its orders are `ord_seed…`).
"""
import datetime
import random
import sqlite3
import sys

data, count = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
db = sqlite3.connect(f"{data}/souk.db")
db.execute("PRAGMA cache_size = -262144")  # 256 MB: the whole year is one transaction
if db.execute("SELECT 1 FROM orders WHERE id LIKE 'ord_seed%' LIMIT 1").fetchone():
    sys.exit(0)
seller = db.execute("SELECT id FROM users WHERE email = 'demo-seller-1@example.com'").fetchone()[0]
products = db.execute(
    "SELECT id, title, kind, price, currency FROM products WHERE seller_id = ? AND status = 'published' "
    "AND deleted_at IS NULL", (seller,)).fetchall()
buyers = db.execute("SELECT id, email FROM users WHERE email LIKE 'demo-buyer-%'").fetchall()
number = db.execute("SELECT COALESCE(MAX(number), 1000) FROM orders").fetchone()[0]
rng = random.Random(42)
now = datetime.datetime.now(datetime.timezone.utc)
fmt = "%Y-%m-%d %H:%M:%S.000"
with db:
    for n in range(count):
        product = rng.choice(products[:200])  # the seller's bestsellers
        buyer = rng.choice(buyers)
        placed = now - datetime.timedelta(seconds=rng.randrange(365 * 86400))
        at = placed.strftime(fmt)
        order_id = f"ord_seed{n:08d}"
        fee = product[3] // 10
        db.execute(
            "INSERT INTO orders (id, buyer_id, buyer_email, status, currency, total, refunded_amount, provider,"
            " provider_session_id, cart_digest, created_at, updated_at, expires_at, number)"
            " VALUES (?, ?, ?, 'created', ?, ?, 0, 'stripe', ?, 'seed', ?, ?, ?, ?)",
            (order_id, buyer[0], buyer[1], product[4], product[3], f"cs_seed{n:08d}", at, at, at, number + n + 1))
        db.execute(
            "INSERT INTO order_items (id, order_id, product_id, seller_id, title, kind, quantity, unit_amount, amount,"
            " fee_amount, seller_amount, stock_held) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, 0)",
            (f"oi_seed{n:08d}", order_id, product[0], seller, product[1], product[2], product[3], product[3], fee,
             product[3] - fee))
        db.execute("UPDATE orders SET status = 'completed', paid_at = created_at, provider_payment_id = ? WHERE id = ?",
                   (f"pi_seed{n:08d}", order_id))
    # A few refunds, in part and in whole, as a real history has.
    db.execute("UPDATE orders SET status = 'partially_refunded', refunded_amount = total / 2"
               " WHERE id LIKE 'ord_seed%' AND number % 97 = 0")
    db.execute("UPDATE orders SET status = 'refunded', refunded_amount = total WHERE id LIKE 'ord_seed%' AND number % 89 = 0")
print(f"{count} sales added to {data}")
