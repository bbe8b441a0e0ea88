"""The seller's numbers (issue 13): a server-rendered SVG chart of revenue and orders per day, week
or month, top products and the customer list; declined checkouts never count as sales."""
import datetime
import html
import re
import sqlite3

from conftest import csrf_from
from shop_helpers import wait_status
from test_catalog_api import api_account, cli_account
from test_hardening_access import pay_with_test_provider
from test_payment_retry import FAST, check_out


def test_the_chart_counts_paid_orders_only_and_names_the_top_products(make_souk):
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    atlas = seller.create("Moth Atlas", publish=True, price=2500)
    guide = seller.create("Beetle Guide", publish=True, price=900)
    buyers = [api_account(souk, "buyer") for _ in range(2)]
    # One purchase at a time: a paid order empties its cart once the payment is recorded.
    for buyer, product in [(buyers[0], atlas), (buyers[1], atlas), (buyers[1], guide)]:
        order = pay_with_test_provider(souk, buyer.session, product["id"])
        wait_status(souk, buyer.session, order, {"fulfilled", "completed"})
    declined, _ = check_out(souk, buyers[0].session, guide["id"], "decline")
    wait_status(souk, buyers[0].session, declined, {"payment_failed"})

    for period in ("day", "week", "month"):
        page = seller.session.get(souk.url(f"/dashboard/sales?by={period}"))
        assert page.status_code == 200
        svg = re.search(r'<svg class="sales-chart".*?</svg>', page.text, re.S).group(0)
        title = re.search(r"<title id=\"chart-title\">(.*?)</title>", svg).group(1)
        assert title == f"Revenue per {period}: $59.00 from 3 orders", title
        assert len(re.findall(r'<rect [^>]*class="bar"', svg)) == {"day": 30, "week": 12, "month": 12}[period]
        assert 'aria-current="page">' + period in page.text
        top = re.search(r'<ol class="top-products"[^>]*>(.*?)</ol>', page.text, re.S).group(1)
        assert top.index("Moth Atlas") < top.index("Beetle Guide") and "$50.00 (2 sold)" in top
    # Anything else falls back to days.
    assert "Revenue per day" in seller.session.get(souk.url("/dashboard/sales?by=fortnight")).text

    customers = seller.session.get(souk.url("/dashboard/customers"))
    assert customers.status_code == 200
    rows = re.findall(r"<tr><td>(.*?)</tr>", customers.text, re.S)
    assert len(rows) == 2 and buyers[1].email in rows[0] and buyers[0].email in rows[1], "most recent first"
    assert "<td>2</td><td>$34.00</td>" in rows[0] and "<td>1</td><td>$25.00</td>" in rows[1]
    csv = seller.session.get(souk.url("/dashboard/export/customers.csv"))
    assert csv.status_code == 200 and all(buyer.email in csv.text for buyer in buyers)
    # Another seller sees none of it.
    rival = cli_account(souk, "seller")
    assert "Revenue per day: $0.00 from 0 orders" in rival.session.get(souk.url("/dashboard/sales")).text
    assert buyers[0].email not in rival.session.get(souk.url("/dashboard/customers")).text


def test_a_refused_refund_keeps_what_the_seller_typed(make_souk):
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    product = seller.create("Heron Notes", publish=True, price=2000)
    buyer = api_account(souk, "buyer")
    order = pay_with_test_provider(souk, buyer.session, product["id"])
    wait_status(souk, buyer.session, order, {"fulfilled", "completed"})
    csrf = csrf_from(seller.session.get(souk.url("/dashboard/sales")).text)
    for typed, message in [("twelve", "Enter an amount like 5 or 5.50."), ("25.00", "$20.00")]:
        refused = seller.session.post(souk.url(f"/dashboard/sales/{order}/refund"),
                                      data={"_csrf": csrf, "amount": typed, "reason": "asked nicely"})
        assert refused.status_code in (409, 422), refused.status_code
        error = re.search(r'<p class="error" role="alert" id="sales-error">(.*?)</p>', refused.text).group(1)
        assert error.startswith(f"Order {order}: ") and message in error, error
        row = re.search(rf'<tr data-order="{order}">.*?</tr>', refused.text, re.S).group(0)
        assert f'value="{typed}"' in row and 'value="asked nicely"' in row and 'aria-invalid="true"' in row


def test_the_dashboard_pages_through_a_large_catalog(make_souk):
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    titles = [f"Field Note {n:02d}" for n in range(55)]
    for title in titles:
        seller.create(title)
    first = seller.session.get(souk.url("/dashboard")).text
    shown = re.findall(r">(Field Note \d\d)</a>", first)
    assert shown == titles[::-1][:50], "newest first, fifty a page"
    assert 'id="dashboard-older"' in first and 'id="dashboard-newer"' not in first
    # "Older products" continues past the last product shown (the index is entered there, so a
    # page deep in a large catalog costs what the first does), and "Newer products" comes back.
    older = html.unescape(re.search(r'href="([^"]+)" id="dashboard-older"', first).group(1))
    assert older.startswith("/dashboard?older=prod_"), older
    second = seller.session.get(souk.url(older)).text
    assert re.findall(r">(Field Note \d\d)</a>", second) == titles[::-1][50:]
    assert 'id="dashboard-older"' not in second
    newer = html.unescape(re.search(r'href="([^"]+)" id="dashboard-newer"', second).group(1))
    back = seller.session.get(souk.url(newer)).text
    assert re.findall(r">(Field Note \d\d)</a>", back) == titles[::-1][:50]
    assert 'id="dashboard-newer"' not in back and 'id="dashboard-older"' in back
    # A product made since the first page was read shows as newer again.
    seller.create("Field Note 55")
    assert 'id="dashboard-newer"' in seller.session.get(souk.url(newer)).text
    # A position that names no product (deleted, mistyped, another shape) shows the newest.
    for odd in ["/dashboard?older=prod_gone", "/dashboard?newer=abc", "/dashboard?page=abc"]:
        page = seller.session.get(souk.url(odd))
        assert page.status_code == 200
        shown = re.findall(r">(Field Note \d\d)</a>", page.text)
        assert shown == [f"Field Note {n:02d}" for n in range(55, 5, -1)], (odd, shown[:3])
        assert 'id="dashboard-newer"' not in page.text and 'id="dashboard-older"' in page.text, odd


def test_a_year_of_sales_pages_back_and_every_figure_follows_a_refund(make_souk):
    """Fifty-five sales: the order list pages back twenty-five at a time, and the chart, top products
    and customers count them all (kept as orders move, not summed per visit); a full refund
    takes its order out of each figure at once."""
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    product = seller.create("Lichen Atlas", publish=True, price=1200)
    buyer = api_account(souk, "buyer")
    today = pay_with_test_provider(souk, buyer.session, product["id"])
    wait_status(souk, buyer.session, today, {"fulfilled", "completed"})
    # The buyer's earlier purchases, one a day back over 54 days: placed, then paid, as the
    # store's own checkout and webhooks would move them.
    now = datetime.datetime.now(datetime.timezone.utc)
    with sqlite3.connect(souk.data_dir / "souk.db") as db:
        db.row_factory = sqlite3.Row
        order = dict(db.execute("SELECT * FROM orders WHERE id = ?", (today,)).fetchone())
        item = dict(db.execute("SELECT * FROM order_items WHERE order_id = ?", (today,)).fetchone())
        for n in range(1, 55):
            placed = (now - datetime.timedelta(days=n)).strftime("%Y-%m-%d %H:%M:%S.000")
            past = {**order, "id": f"ord_past{n:03d}", "number": 9000 + n, "status": "created", "created_at": placed,
                    "updated_at": placed, "paid_at": None, "fulfilled_at": None, "provider_session_id": None,
                    "provider_payment_id": None, "idempotency_key": None, "cart_id": None}
            db.execute(f"INSERT INTO orders ({', '.join(past)}) VALUES ({', '.join('?' * len(past))})", list(past.values()))
            line = {**item, "id": f"oi_past{n:03d}", "order_id": past["id"]}
            db.execute(f"INSERT INTO order_items ({', '.join(line)}) VALUES ({', '.join('?' * len(line))})", list(line.values()))
        db.execute("UPDATE orders SET status = 'completed', paid_at = created_at WHERE id LIKE 'ord_past%'")

    first = seller.session.get(souk.url("/dashboard/sales")).text
    rows = re.findall(r'<tr data-order="(ord_\w+)">', first)
    assert rows[0] == today and rows[1:] == [f"ord_past{n:03d}" for n in range(1, 25)], rows[:3]
    assert 'id="sales-newest"' not in first
    # Twenty-five a page, each "Older orders" going on from the last order shown.
    page, listed = first, []
    while 'id="sales-older"' in page:
        older = html.unescape(re.search(r'href="([^"]+)" id="sales-older"', page).group(1))
        page = seller.session.get(souk.url(older)).text
        assert 'id="sales-newest"' in page
        listed += re.findall(r'<tr data-order="(ord_\w+)">', page)
    assert listed == [f"ord_past{n:03d}" for n in range(25, 55)], listed

    def figures():
        month = seller.session.get(souk.url("/dashboard/sales?by=month")).text
        day = seller.session.get(souk.url("/dashboard/sales?by=day")).text
        customers = re.findall(r"<tr><td>(.*?)</tr>", seller.session.get(souk.url("/dashboard/customers")).text, re.S)
        top = re.search(r'<ol class="top-products"[^>]*>(.*?)</ol>', month, re.S).group(1)
        return (re.search(r'<title id="chart-title">(.*?)</title>', month).group(1),
                re.search(r'<title id="chart-title">(.*?)</title>', day).group(1), top, customers)

    month, day, top, customers = figures()
    assert month == "Revenue per month: $660.00 from 55 orders", month
    # The day chart holds today and the 29 days before it.
    assert day == "Revenue per day: $360.00 from 30 orders", day
    assert "Lichen Atlas" in top and "$660.00 (55 sold)" in top, top
    assert len(customers) == 1 and buyer.email in customers[0] and "<td>55</td><td>$660.00</td>" in customers[0]

    csrf = csrf_from(first)
    refunded = seller.session.post(souk.url(f"/dashboard/sales/{today}/refund"), data={"_csrf": csrf, "amount": ""})
    assert refunded.status_code == 200 and f"Order {today} was refunded." in refunded.text
    month, day, top, customers = figures()
    assert month == "Revenue per month: $648.00 from 54 orders", month
    assert day == "Revenue per day: $348.00 from 29 orders", day
    assert "$648.00 (54 sold)" in top, top
    assert "<td>54</td><td>$648.00</td>" in customers[0], customers
