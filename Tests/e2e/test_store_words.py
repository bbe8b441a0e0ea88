"""Words for people (issue 13): readable order numbers, dates in the reader's language and zone,
receipts in the buyer's time zone with the store's logo, every e-mail previewed and themed,
seller pages at an address the seller chooses, and product views beside sales (conversion)."""
import email
import html
import email.policy
import json
import re
from datetime import datetime, timedelta, timezone

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import csrf_from
from shop_helpers import wait_for, wait_status
from test_catalog_api import api_account, cli_account
from test_hardening_access import pay_with_test_provider
from test_payment_retry import FAST

BROWSER_UA = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36"}


def outbox(souk, address, subject_part):
    found = []
    for path in sorted((souk.data_dir / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in message["To"] and subject_part in message["Subject"]:
            found.append(message)
    return found


def sign_in_browser(browser, souk, account_email):
    browser.get(souk.url("/signin"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signin"]')
    form.find_element(By.NAME, "email").send_keys(account_email)
    form.find_element(By.NAME, "password").send_keys("correct horse battery")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "/signin" not in b.current_url)


def test_orders_carry_numbers_and_pages_show_dates_people_read(make_souk, browser):
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    product = seller.create("Moth Atlas", publish=True, price=2400)
    buyer = cli_account(souk, "buyer")
    first = pay_with_test_provider(souk, buyer.session, product["id"])
    wait_status(souk, buyer.session, first, {"completed"})
    second = pay_with_test_provider(souk, buyer.session, product["id"])
    numbers = [buyer.session.get(souk.url(f"/api/v1/orders/{o}")).json()["number"] for o in (first, second)]
    assert numbers == [1001, 1002], "counted from 1001 in the order orders were placed"

    # Without JavaScript: numbers, not ids, and dates in words with their zone.
    page = buyer.session.get(souk.url("/orders")).text
    assert ">#1001</a>" in page and ">#1002</a>" in page and f">{first}</a>" not in page
    stamp = re.search(r'<time datetime="([^"]+)" data-style="moment">([^<]+)</time>', page)
    assert stamp and re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d\d:\d\d UTC", stamp.group(2)), stamp
    order_page = buyer.session.get(souk.url(f"/orders/{first}")).text
    assert "<h1>Order #1001</h1>" in order_page and "<title>Order #1001" in order_page

    # In a browser: the reader's own words ("now", "5 minutes ago"), the exact moment on hover,
    # and the browser's zone remembered for its e-mails.
    sign_in_browser(browser, souk, buyer.email)
    browser.get(souk.url("/orders"))
    element = browser.find_element(By.CSS_SELECTOR, "#orders time")
    WebDriverWait(browser, 5).until(lambda b: "UTC" not in element.text)
    assert element.get_attribute("title") and str(datetime.now(timezone.utc).year) in element.get_attribute("title")
    assert browser.get_cookie("souk_tz")["value"], "the browser's zone, for e-mails"

    # The operator finds an order by the number a buyer quotes.
    shown = souk.cli("order", "show", "#1002").stdout
    assert shown.startswith(f"order     #1002 ({second})"), shown
    assert json.loads(souk.cli("order", "show", "1001", "--json").stdout)["id"] == first
    listing = souk.cli("order", "list").stdout
    assert listing.splitlines()[0].startswith("NUMBER") and "#1001" in listing
    missing = souk.cli("order", "show", "#999", check=False)
    assert missing.returncode != 0 and "There is no order #999" in missing.stderr


def test_the_receipt_speaks_the_buyers_time_and_shows_the_logo(make_souk):
    souk = make_souk(env={**FAST, "SOUK_STORE_NAME": "Moth Press", "SOUK_STORE_LOGO_URL": "/images/logo.webp"})
    seller = cli_account(souk, "seller")
    product = seller.create("Heron Atlas", publish=True, price=1800)
    tokyo = api_account(souk, "buyer")
    # What local-time.js sets; the next request remembers it (a made-up zone is ignored).
    tokyo.session.cookies.set("souk_tz", "Mars/Olympus_Mons")
    tokyo.session.get(souk.url("/"))
    tokyo.session.cookies.set("souk_tz", "Asia/Tokyo")
    tokyo.session.get(souk.url("/"))
    order = pay_with_test_provider(souk, tokyo.session, product["id"])
    paid = wait_status(souk, tokyo.session, order, {"completed"})
    [receipt] = wait_for(lambda: outbox(souk, tokyo.email, "receipt"), "the receipt")
    assert receipt["Subject"] == "[TEST] Your receipt from Moth Press (order #1001)"
    text = receipt.get_body(preferencelist=("plain",)).get_content()
    local = datetime.fromisoformat(paid["paid_at"].replace("Z", "+00:00")) + timedelta(hours=9)
    expected = f"Order #1001, paid on {local:%B} {local.day}, {local.year} at {local:%H:%M} "
    assert expected in text and re.search(re.escape(expected) + r"(JST|GMT\+9)", text), text
    html_part = receipt.get_body(preferencelist=("html",)).get_content()
    assert f'<img src="{souk.url("/images/logo.webp")}" alt="Moth Press">' in html_part
    assert "Order #1001, paid on" in html_part

    # No zone known: UTC, said so.
    other = api_account(souk, "buyer")
    order = pay_with_test_provider(souk, other.session, product["id"])
    wait_status(souk, other.session, order, {"completed"})
    [receipt] = wait_for(lambda: outbox(souk, other.email, "receipt"), "the second receipt")
    assert re.search(r"Order #1002, paid on [A-Z][a-z]+ \d{1,2}, \d{4} at \d\d:\d\d UTC",
                     receipt.get_body(preferencelist=("plain",)).get_content())

    # A guest's browser zone goes with their checkout (when their account has none yet).
    guest = requests.Session()
    guest.cookies.set("souk_tz", "America/New_York")
    pay_with_test_provider(souk, guest, product["id"], guest_email="guest-ny@example.com")
    [receipt] = wait_for(lambda: outbox(souk, "guest-ny@example.com", "receipt"), "the guest's receipt")
    assert re.search(r"Order #1003, paid on [A-Z][a-z]+ \d{1,2}, \d{4} at \d\d:\d\d (EST|GMT-5)",
                     receipt.get_body(preferencelist=("plain",)).get_content())


def test_every_email_is_previewed_and_a_theme_layout_changes_them_all(make_souk, tmp_path):
    workdir = tmp_path / "store"
    (workdir / "souk-data" / "theme").mkdir(parents=True)
    (workdir / "souk-data" / "theme" / "mail_layout.mustache").write_text(
        "<html><body><header>Moth Press letters</header>{{$body}}{{/body}}"
        "{{#footer}}<a href=\"{{unsubscribe_url}}\">stop</a>{{/footer}}</body></html>")
    souk = make_souk(env={**FAST, "SOUK_STORE_NAME": "Moth Press"}, workdir=workdir)
    seller = cli_account(souk, "seller")
    index = seller.session.get(souk.url("/dashboard/mail"))
    kinds = re.findall(r'<a href="/dashboard/mail/([a-z-]+)">', index.text)
    assert kinds == ["receipt", "sale", "refund", "file-update", "password-reset", "sign-in", "email-change"]
    words = {
        "receipt": "Thank you for your purchase from Moth Press!", "sale": "your share $24.00 (order #1042)",
        "refund": "Refund for order #1042", "file-update": "has a new version of moth-atlas.pdf",
        "password-reset": "Choose a new password", "sign-in": "Sign in", "email-change": "Confirm this address",
    }
    for kind in kinds:
        page = seller.session.get(souk.url(f"/dashboard/mail/{kind}"))
        assert page.status_code == 200 and f'src="/dashboard/mail/{kind}.html"' in page.text
        html_part = seller.session.get(souk.url(f"/dashboard/mail/{kind}.html")).text
        assert "Moth Press letters" in html_part and words[kind] in html_part, (kind, html_part[:600])
    assert seller.session.get(souk.url("/dashboard/mail/invoice")).status_code == 404
    buyer = api_account(souk, "buyer")
    assert buyer.session.get(souk.url("/dashboard/mail/sale")).status_code == 403

    # A real one: the reset e-mail a buyer asks for is the themed HTML with its button.
    anonymous = requests.Session()
    form = anonymous.get(souk.url("/password/forgot"))
    anonymous.post(souk.url("/password/forgot"), data={"_csrf": csrf_from(form.text), "email": buyer.email})
    [mail] = wait_for(lambda: outbox(souk, buyer.email, "Reset your Moth Press password"), "the reset e-mail")
    html_part = mail.get_body(preferencelist=("html",)).get_content()
    link = re.search(r'<a class="button" href="([^"]+)">Choose a new password</a>', html_part).group(1)
    assert "Moth Press letters" in html_part and link in mail.get_body(preferencelist=("plain",)).get_content()


def test_a_seller_chooses_the_address_of_their_page(make_souk):
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    seller.create("Moth Atlas", publish=True)
    dashboard = seller.session.get(souk.url("/dashboard")).text
    assert f'id="page-path">/sellers/{seller.id}</a>' in dashboard
    csrf = csrf_from(dashboard)

    refused = seller.session.post(souk.url("/dashboard/page-address"), data={"_csrf": csrf, "address": "Moth Press!"})
    assert refused.status_code == 422 and 'value="Moth Press!"' in refused.text
    assert re.search(r'id="address-error">Use 3 to 40 letters', refused.text)

    saved = seller.session.post(souk.url("/dashboard/page-address"), data={"_csrf": csrf, "address": "Moth-Press"},
                                allow_redirects=False)
    assert saved.status_code == 303
    assert 'id="page-path">/sellers/moth-press</a>' in seller.session.get(souk.url("/dashboard?address=saved")).text
    page = requests.get(souk.url("/sellers/moth-press"))
    assert page.status_code == 200 and "Moth Atlas" in page.text
    # The card's link by id (which never changes) lands on the chosen address, query kept.
    moved = requests.get(souk.url(f"/sellers/{seller.id}?sort=newest"), allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"] == "/sellers/moth-press?sort=newest"
    assert requests.get(souk.url("/sellers/MOTH-PRESS"), allow_redirects=False).headers["Location"] == "/sellers/moth-press"

    rival = cli_account(souk, "seller")
    taken = rival.session.post(souk.url("/dashboard/page-address"),
                               data={"_csrf": csrf_from(rival.session.get(souk.url("/dashboard")).text), "address": "moth-press"})
    assert taken.status_code == 409 and "Another seller's page is at /sellers/moth-press" in html.unescape(taken.text)

    # Blank: back to the address by id; the old one is free again.
    seller.session.post(souk.url("/dashboard/page-address"), data={"_csrf": csrf, "address": ""})
    assert requests.get(souk.url("/sellers/moth-press")).status_code == 404
    assert requests.get(souk.url(f"/sellers/{seller.id}"), allow_redirects=False).status_code == 200


def test_product_views_and_conversion_on_the_sales_page(make_souk):
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller")
    atlas = seller.create("Moth Atlas", publish=True, price=2500)
    seller.create("Beetle Guide", publish=True, price=900)
    visitors = [requests.Session() for _ in range(4)]
    for visitor in visitors:
        assert visitor.get(souk.url(f"/products/{atlas['slug']}"), headers=BROWSER_UA).status_code == 200
    # Not counted: the seller, a crawler, a script with no browser's name.
    seller.session.get(souk.url(f"/products/{atlas['slug']}"), headers=BROWSER_UA)
    requests.get(souk.url(f"/products/{atlas['slug']}"), headers={"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"})
    requests.get(souk.url(f"/products/{atlas['slug']}"))
    buyer = api_account(souk, "buyer")
    order = pay_with_test_provider(souk, buyer.session, atlas["id"])
    wait_status(souk, buyer.session, order, {"completed"})

    page = seller.session.get(souk.url("/dashboard/sales")).text
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td><td>([^<]+)</td></tr>",
                      re.search(r'<table class="cart" id="conversion">.*?</table>', page, re.S).group(0))
    assert rows == [("Moth Atlas", "4", "1", "25%")], rows
    # Views go to the database in batches; a server that stops writes what it holds first.
    for visitor in visitors[:2]:
        visitor.get(souk.url(f"/products/{atlas['slug']}"), headers=BROWSER_UA)
    souk.stop()
    souk.start()
    session = requests.Session()
    assert session.post(souk.url("/api/v1/auth/login"),
                        json={"email": seller.email, "password": "correct horse battery"}).status_code == 200
    assert "<tr><td>Moth Atlas</td><td>6</td><td>1</td><td>17%</td></tr>" in session.get(souk.url("/dashboard/sales")).text
