"""The seller's numbers (issue 13): a server-rendered SVG chart of revenue and orders per day, week
or month, top products and the customer list; declined checkouts never count as sales."""
import re

from conftest import csrf_from
from shop_helpers import wait_status
from test_catalog_api import STORE, api_account, cli_account
from test_hardening_access import pay_with_test_provider
from test_payment_retry import FAST, check_out


def test_the_chart_counts_paid_orders_only_and_names_the_top_products(make_souk):
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    atlas = seller.create("Moth Atlas", publish=True, price=2500)
    guide = seller.create("Beetle Guide", publish=True, price=900)
    buyers = [api_account(souk, "buyer") for _ in range(2)]
    orders = [pay_with_test_provider(souk, buyers[0].session, atlas["id"]),
              pay_with_test_provider(souk, buyers[1].session, atlas["id"]),
              pay_with_test_provider(souk, buyers[1].session, guide["id"])]
    for buyer, order in zip([buyers[0], buyers[1], buyers[1]], orders):
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
    for buyer in buyers:
        assert buyer.email in customers.text
    csv = seller.session.get(souk.url("/dashboard/export/customers.csv"))
    assert csv.status_code == 200 and all(buyer.email in csv.text for buyer in buyers)
    # Another seller sees none of it.
    rival = cli_account(souk, "seller")
    assert "Revenue per day: $0.00 from 0 orders" in rival.session.get(souk.url("/dashboard/sales")).text
    assert buyers[0].email not in rival.session.get(souk.url("/dashboard/customers")).text
