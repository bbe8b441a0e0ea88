"""The seller's numbers (issue 13): a server-rendered SVG chart of revenue and orders per day, week
or month, top products and the customer list; declined checkouts never count as sales."""
import html
import re

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
