"""The rendered-page cache (issue 15): public store pages are rendered once for visitors who are
not signed in and served from memory until the catalog changes, with an ETag (304 when a browser
or CDN sends it back). Each visitor still gets their own CSRF token in the product page's form,
a signed-in user never gets the shared copy (only one kept for them), views still count, and a change made anywhere
(this server, or `souk` in another process) shows on the next request."""
import json
import re
import time
import uuid

import requests

from conftest import csrf_from
from fake_stripe import FakeStripe, event, signature_header, stripe_env
from shop_helpers import add_to_cart, checkout, placed, wait_for
from test_catalog_api import api_account, cli_account
from test_payment_retry import FAST

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120 Safari/537.36"}


def title_of(html: str) -> str:
    return re.search(r"<h1[^>]*>([^<]+)</h1>", html).group(1)


def test_pages_are_served_from_memory_with_etags_until_the_catalog_changes(make_souk):
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    product = seller.create("Moth Atlas", publish=True, price=2400)
    path = f"/products/{product['slug']}"

    first, second = requests.Session(), requests.Session()
    a1 = first.get(souk.url(path), headers=BROWSER)
    a2 = first.get(souk.url(path), headers=BROWSER)
    b1 = second.get(souk.url(path), headers=BROWSER)
    assert a1.status_code == a2.status_code == b1.status_code == 200
    assert a1.headers["ETag"] == a2.headers["ETag"] and a1.text == a2.text
    assert a1.headers["Cache-Control"] == "public, no-cache"
    # Each visitor's own token in the form (the cached copy holds neither), so both can buy.
    assert b1.headers["ETag"] != a1.headers["ETag"] and csrf_from(a1.text) != csrf_from(b1.text)
    for visitor, page in [(first, a1), (second, b1)]:
        added = visitor.post(souk.url("/cart/items"),
                             data={"_csrf": csrf_from(page.text), "product_id": product["id"]}, allow_redirects=False)
        assert added.status_code in (200, 303), added.text[:300]
    assert "souk-product-id" not in {k.lower() for k in a1.headers}
    # An answer from memory carries what every response carries.
    for header, value in [("Content-Security-Policy", "default-src 'self'"), ("X-Content-Type-Options", "nosniff"),
                          ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin")]:
        assert value in a2.headers.get(header, ""), (header, a2.headers)
    assert re.fullmatch(r"[0-9a-f]{32}", a2.headers["X-Request-Id"]) and a2.headers["X-Request-Id"] != a1.headers["X-Request-Id"]
    assert "text/html" in a2.headers["Content-Type"] and int(a2.headers["Content-Length"]) == len(a2.content)

    # The ETag back: 304, no body; a stale one: the page.
    not_modified = first.get(souk.url(path), headers={**BROWSER, "If-None-Match": a1.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert first.get(souk.url(path), headers={"If-None-Match": '"stale"'}).status_code == 200

    # A change by the seller through this server shows at once, with a new ETag.
    seller.patch(product["id"], title="Moth Atlas, Second Edition")
    changed = first.get(souk.url(path), headers={**BROWSER, "If-None-Match": a1.headers["ETag"]})
    assert changed.status_code == 200 and title_of(changed.text) == "Moth Atlas, Second Edition"
    assert changed.headers["ETag"] != a1.headers["ETag"]
    home = requests.get(souk.url("/")).text
    assert "Moth Atlas, Second Edition" in home

    # A change by another process (`souk product unpublish`) shows within the feed's second.
    assert requests.get(souk.url("/search?q=moth")).text.count("Moth Atlas, Second Edition") >= 1
    souk.cli("product", "unpublish", product["id"])
    wait_for(lambda: requests.get(souk.url(path)).status_code == 404, "the product page to go", timeout=3)
    wait_for(lambda: "Moth Atlas, Second Edition" not in requests.get(souk.url("/search?q=moth")).text,
             "the search page to drop it", timeout=3)


def test_signed_in_pages_are_never_shared_and_cached_views_still_count(make_souk):
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    product = seller.create("Heron Notes", publish=True, price=900)
    path = f"/products/{product['slug']}"
    buyer = api_account(souk, "buyer")
    mine = buyer.session.get(souk.url(path), headers=BROWSER)
    assert buyer.email in mine.text or "Sign out" in mine.text
    assert "ETag" not in mine.headers and mine.headers["Cache-Control"] == "no-store"
    # Reloaded, the buyer's page may come from the copy kept for them alone: the same page.
    for _ in range(2):
        again = buyer.session.get(souk.url(path), headers=BROWSER)
        assert again.text == mine.text and again.headers["Cache-Control"] == "no-store"
    anonymous = requests.get(souk.url(path), headers=BROWSER).text
    assert buyer.email not in anonymous and "Sign out" not in anonymous
    # The seller's own visits never count, rendered or kept.
    for _ in range(2):
        assert seller.session.get(souk.url(path), headers=BROWSER).status_code == 200
    # Views served from the caches still count: the buyer's three, the first anonymous one
    # (rendered) and three more from memory.
    for _ in range(3):
        requests.get(souk.url(path), headers=BROWSER)
    sales = seller.session.get(souk.url("/dashboard/sales")).text
    table = re.search(r'<table class="cart" id="conversion">.*?</table>', sales, re.S).group(0)
    assert "<tr><td>Heron Notes</td><td>7</td><td>0</td><td>0.0%</td></tr>" in table, table


def test_a_signed_in_page_kept_in_memory_shows_a_change_by_another_process_and_forms_still_work(make_souk):
    """A seller's dashboard is kept for them between reloads; `souk product unpublish` in another
    process shows on the next reload, and a form taken from a kept page is accepted."""
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    product = seller.create("Kestrel Atlas", publish=True, price=900)
    first = seller.session.get(souk.url("/dashboard"), headers=BROWSER)
    assert first.status_code == 200 and "Kestrel Atlas" in first.text and "status-published" in first.text
    assert first.headers["Cache-Control"] == "no-store" and "ETag" not in first.headers
    again = seller.session.get(souk.url("/dashboard"), headers=BROWSER)
    assert again.text == first.text
    souk.cli("product", "unpublish", product["id"])
    wait_for(lambda: "status-published" not in seller.session.get(souk.url("/dashboard"), headers=BROWSER).text,
             "the dashboard to show the product unpublished", timeout=2)
    # The page address form on the kept page carries this session's token: the change is saved.
    kept = seller.session.get(souk.url("/dashboard"), headers=BROWSER)
    saved = seller.session.post(souk.url("/dashboard/page-address"),
                                data={"_csrf": csrf_from(kept.text), "address": "kestrel-press"}, allow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]
    assert "kestrel-press" in seller.session.get(souk.url("/dashboard"), headers=BROWSER).text


def test_pages_from_memory_still_count_against_the_per_ip_limit(make_souk):
    """Kept pages are cheap, but a flood from one address is still refused at the operator's
    limit, with the usual page and `Retry-After`; another address is not affected."""
    souk = make_souk(env={**FAST, "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "12", "SOUK_SERVER_TRUST_FORWARDED_FOR": "true"})
    seller = cli_account(souk, "seller")
    product = seller.create("Vole Almanac", publish=True, price=700)
    path = f"/products/{product['slug']}"
    flood = {**BROWSER, "X-Forwarded-For": "203.0.113.7"}
    statuses = [requests.get(souk.url(path), headers=flood).status_code for _ in range(20)]
    assert statuses[0] == 200 and statuses.count(200) <= 12 and statuses[-1] == 429, statuses
    refused = requests.get(souk.url(path), headers=flood)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Vole Almanac" not in refused.text
    other = requests.get(souk.url(path), headers={**BROWSER, "X-Forwarded-For": "198.51.100.9"})
    assert other.status_code == 200 and title_of(other.text) == "Vole Almanac"


def test_search_api_answers_are_kept_for_signed_out_clients_until_the_catalog_changes(make_souk):
    """The search API's answer depends on the query and the catalog only, so a signed-out
    client's answer is kept like a page: the same bytes and ETag again, 304 for the ETag, and a
    change anywhere (this server, or `souk` in another process) shows on the next request."""
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    product = seller.create("Kestrel Field Guide", publish=True, price=1500)
    address = souk.url("/api/v1/products?q=kestrel")

    first, again = requests.get(address), requests.get(address)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and first.headers["ETag"] == again.headers["ETag"]
    assert [hit["title"] for hit in again.json()["data"]] == ["Kestrel Field Guide"]
    assert again.headers["Content-Type"].startswith("application/json")
    assert again.headers["Cache-Control"] == "public, no-cache"
    assert "nosniff" in again.headers["X-Content-Type-Options"] and "Set-Cookie" not in again.headers
    assert int(again.headers["Content-Length"]) == len(again.content)
    not_modified = requests.get(address, headers={"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""
    # Another query (the same words in another order of parameters is another address) is its own answer.
    other = requests.get(souk.url("/api/v1/products?q=kestrel&sort=newest"))
    assert other.status_code == 200 and other.json()["data"][0]["id"] == product["id"]

    # Bad input is answered, never kept: the same problem twice.
    for _ in range(2):
        bad = requests.get(souk.url("/api/v1/products?q=kestrel&min_price=-1"))
        assert bad.status_code == 400 and bad.headers["Content-Type"].startswith("application/problem+json")

    # A signed-in client is answered the same catalog (not from the signed-out copy's headers).
    buyer = api_account(souk, "buyer")
    mine = buyer.session.get(address)
    assert mine.status_code == 200 and [hit["title"] for hit in mine.json()["data"]] == ["Kestrel Field Guide"]

    # A change through this server shows at once, with a new ETag; the old one no longer gets a 304.
    seller.patch(product["id"], title="Kestrel Field Guide, Revised")
    changed = requests.get(address, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert [hit["title"] for hit in changed.json()["data"]] == ["Kestrel Field Guide, Revised"]

    # A change by another process shows within the feed's second.
    souk.cli("product", "unpublish", product["id"])
    wait_for(lambda: requests.get(address).json()["data"] == [], "the search API to drop it", timeout=3)


def test_the_categories_api_answer_is_kept_until_the_catalog_changes(make_souk):
    """Every category with its count, the same for everyone: kept like the search's answers,
    with an ETag, until a change anywhere."""
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    seller.create("Kestrel Field Guide", publish=True, price=1500, category="Birds")
    address = souk.url("/api/v1/categories")

    first, again = requests.get(address), requests.get(address)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and first.headers["ETag"] == again.headers["ETag"]
    assert again.json()["data"] == [{"name": "Birds", "count": 1}]
    assert again.headers["Content-Type"].startswith("application/json") and "Set-Cookie" not in again.headers
    not_modified = requests.get(address, headers={"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""

    moths = seller.create("Moth Atlas", publish=True, price=2400, category="Moths")
    changed = requests.get(address, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert sorted(c["name"] for c in changed.json()["data"]) == ["Birds", "Moths"]

    # A change by another process shows within the feed's second.
    souk.cli("product", "unpublish", moths["id"])
    wait_for(lambda: [c["name"] for c in requests.get(address).json()["data"]] == ["Birds"],
             "the categories to drop Moths", timeout=3)


def test_a_burst_of_sales_reaches_best_selling_within_seconds(make_souk):
    """A sale is counted at once where it is read directly (the product API), and reaches the kept
    pages and search (best-selling on the home page, `sort=popular`) when sales are next settled,
    every two seconds: a burst of payments makes the crowd's pages stale once, not once per sale."""
    fake = FakeStripe().start()
    try:
        souk = make_souk(env=stripe_env(fake))
        seller = cli_account(souk, "seller")
        product = seller.create("Owl Primer", publish=True, price=500)
        visitor = requests.Session()
        assert 'id="best-selling"' not in visitor.get(souk.url("/"), headers=BROWSER).text

        orders = []
        for _ in range(5):
            buyer = api_account(souk, "buyer")
            add_to_cart(souk, buyer.session, product["id"])
            orders.append(placed(checkout(souk, buyer.session, key=str(uuid.uuid4())))["id"])
        for order_id in orders:
            paid = fake.mark_paid(fake.session_for_order(order_id)["id"])
            payload = json.dumps(event("checkout.session.completed", paid), indent=2)
            delivered = requests.post(souk.url("/webhooks/stripe"), data=payload.encode(), headers={
                "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature_header(payload)})
            assert delivered.status_code == 200 and delivered.json()["outcome"] == "applied", delivered.text

        assert requests.get(souk.url(f"/api/v1/products/{product['id']}")).json()["sales_count"] == 5
        home = wait_for(lambda: (page := visitor.get(souk.url("/"), headers=BROWSER).text) and 'id="best-selling"' in page
                        and page, "the home page's best-selling list", timeout=6)
        assert "Owl Primer" in home.split('id="best-selling"', 1)[1]
        [top] = requests.get(souk.url("/api/v1/products?sort=popular&limit=1")).json()["data"]
        assert top["id"] == product["id"] and top["sales_count"] == 5
    finally:
        fake.stop()
