"""Browser journeys (issue 14), in headless Chromium against the real `souk` binary:

1. A newcomer signs up, searches, narrows the results with the filters, puts two products in the
   cart, pays with the built-in test provider, and finds both in the library: the downloaded bytes
   are the seller's, and the license product's key is shown.
2. In a marketplace, a person signs up as a seller on the web form, is verified by the operator's
   CLI, creates a product in the dashboard, uploads its file with the dashboard's form and publishes
   it; once a buyer has bought it, the seller sees the sale and the notice of it (bell and list).
3. Keyboard only: every form on the main pages is reached with Tab from the top of its page, filled
   in with the keyboard and submitted with Enter or Space.

A failing test leaves a screenshot and the page source in test-artifacts/ (see conftest.py)."""
import os
import re
from urllib.parse import parse_qs, urlparse

import requests
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from shop_helpers import wait_status
from test_catalog_api import api_account, cli_account
from test_checkout_browser import absent, no_implicit_wait, text_of
from test_dashboard_browser import click_to_next_page, to_next_page, wait_loaded
from test_hardening_access import pay_with_test_provider

NO_LIMITS = {
    "SOUK_JOBS_POLL_MILLISECONDS": "100",
    "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "0",
    "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "0",
    "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
    # Signed-in pages keep a notification stream open (bell.js); the server notices that a closed
    # page's stream is gone only at its next heartbeat, and until then the stream holds one of the
    # user's stream slots: a journey through many pages would run out of them.
    "SOUK_NOTIFICATIONS_HEARTBEAT_SECONDS": "1",
}
SOLO_STORE = NO_LIMITS
MARKETPLACE = {**NO_LIMITS, "SOUK_STORE_MARKETPLACE": "true"}
PASSWORD = "newcomer secret 1"
CLI_PASSWORD = "correct horse battery"  # what test_catalog_api.cli_account gives its accounts
PAID_UP = {"paid", "fulfilled", "completed"}
PAID_LABELS = ("Paid", "Paid · delivered", "Complete")
LICENSE_KEY = re.compile(r"^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$")
WAIT = 15  # seconds; the machine is small and may be busy
TAB_LIMIT = 80  # presses of Tab after which a field counts as unreachable


# --- helpers -------------------------------------------------------------------------------------


def wait_thank_you(browser):
    """The success page (which reloads itself until the payment is confirmed) says thank you."""
    def thanked(d):
        try:
            return (d.find_element(By.TAG_NAME, "h1").text == "Thank you!"
                    and d.find_element(By.ID, "order").get_attribute("data-status") in PAID_UP)
        except WebDriverException:  # missing, or the page is being replaced
            return False

    with no_implicit_wait(browser):
        WebDriverWait(browser, WAIT, poll_frequency=0.2).until(thanked)
    wait_loaded(browser)
    assert browser.find_element(By.ID, "order-status").text in PAID_LABELS
    assert browser.find_element(By.ID, "order-paid").is_displayed()
    assert absent(browser, By.CSS_SELECTOR, 'meta[http-equiv="refresh"]'), "a paid order stops refreshing"


def upload(souk, account, product_id: str, name: str, content: bytes) -> dict:
    """Uploads a file as the seller's script would (raw body, bearer token)."""
    response = requests.post(
        souk.url(f"/api/v1/products/{product_id}/files"), params={"filename": name}, data=content,
        headers={**account.bearer, "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(content)
    return response.json()


def seed_catalog(souk) -> dict:
    """The store's owner (an admin: the seller of a solo store) lists two moth products with files,
    one of them a license, plus a beetle book and an unpublished draft."""
    owner = cli_account(souk, "admin", "owner@example.com")
    atlas_bytes = os.urandom(48 * 1024)
    counter_bytes = b"PK\x03\x04" + os.urandom(20 * 1024)
    atlas = owner.create("Moth Atlas", kind="download", category="Books", price=1500, tags=["moths"],
                         summary="Every moth of the north, illustrated.")
    upload(souk, owner, atlas["id"], "moth-atlas.pdf", atlas_bytes)
    atlas = owner.patch(atlas["id"], status="published")
    counter = owner.create("Moth Counter", kind="license", category="Software", price=900, activation_limit=3,
                           summary="Counts the moths at your light trap.")
    upload(souk, owner, counter["id"], "moth-counter.zip", counter_bytes)
    counter = owner.patch(counter["id"], status="published")
    beetles = owner.create("Beetle Atlas", kind="download", category="Books", price=1200,
                           summary="Every beetle of the north.", publish=True)
    owner.create("Moth Secrets", kind="download", category="Books", price=100, summary="Not ready: moths.")
    return {"atlas": atlas, "atlas_bytes": atlas_bytes, "counter": counter, "counter_bytes": counter_bytes,
            "beetles": beetles}


def browser_session(browser) -> requests.Session:
    """A requests session holding the browser's cookies (for downloads and API cross-checks)."""
    session = requests.Session()
    for cookie in browser.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


def result_titles(browser) -> list[str]:
    with no_implicit_wait(browser):
        return [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#results .product-card a.title")]


def search_form(browser):
    return browser.find_element(By.CSS_SELECTOR, 'form.filters[action="/search"]')


def submit(browser, form):
    click_to_next_page(browser, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))


def bell_count(browser) -> str | None:
    """The unread count in the header as a person sees it: None while it is hidden."""
    try:
        count = browser.find_element(By.CSS_SELECTOR, "a.bell .count")
        return count.text if count.is_displayed() else None
    except WebDriverException:  # the page is being replaced
        return "?"


def wait_bell(browser, wanted: str, timeout: float = WAIT):
    """Until the bell shows `wanted`, live (bell.js) or after a reload."""
    with no_implicit_wait(browser):
        WebDriverWait(browser, timeout, poll_frequency=0.5).until(
            lambda d: bell_count(d) == wanted or (d.refresh() and False))
    wait_loaded(browser)


# --- keyboard helpers ----------------------------------------------------------------------------


def describe(browser, element) -> str:
    return browser.execute_script(
        "var e = arguments[0]; if (!e) return 'nothing';"
        "return '<' + e.tagName.toLowerCase() + (e.id ? ' id=' + e.id : '') + (e.name ? ' name=' + e.name : '')"
        " + (e.type ? ' type=' + e.type : '') + '> ' + (e.innerText || e.value || '').slice(0, 40);",
        element)


def has_focus(browser, element) -> bool:
    return browser.execute_script("return document.activeElement === arguments[0]", element)


def shows_focus(browser, element) -> bool:
    """The focused element is drawn with a focus ring (an outline or a box shadow)."""
    return browser.execute_script(
        "var s = getComputedStyle(arguments[0]);"
        "return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';",
        element)


def press(browser, *keys):
    ActionChains(browser).send_keys(*keys).perform()


def tab_to(browser, element, limit: int = TAB_LIMIT) -> int:
    """Presses Tab (from wherever the focus is: the page start on a fresh page) until `element` has
    the focus; fails when it never does. Returns the number of presses."""
    wanted = describe(browser, element)
    for presses in range(1, limit + 1):
        press(browser, Keys.TAB)
        if has_focus(browser, element):
            assert shows_focus(browser, element), \
                f"{wanted} on {browser.current_url} has the focus but does not show it"
            return presses
    active = browser.execute_script("return document.activeElement")
    raise AssertionError(f"Tab did not reach {wanted} on {browser.current_url} within {limit} presses "
                         f"(the focus is on {describe(browser, active)})")


def tab_and_type(browser, element, text: str):
    tab_to(browser, element)
    press(browser, text)
    assert element.get_attribute("value") == text, f"typing into {describe(browser, element)} did not fill it"


def press_to_next_page(browser, key=Keys.ENTER):
    """Presses a key on the focused control and waits for the page it leads to."""
    to_next_page(browser, lambda: press(browser, key))


def choose_option(browser, select, value: str):
    """With the focus on a closed <select>, moves through its options with the arrow key until
    `value` is chosen."""
    assert has_focus(browser, select)
    count = len(select.find_elements(By.TAG_NAME, "option"))
    for _ in range(count):
        if select.get_attribute("value") == value:
            return
        press(browser, Keys.ARROW_DOWN)
    assert select.get_attribute("value") == value, \
        f"the arrow keys never chose {value!r} in {describe(browser, select)}"


def choose_radio(browser, name: str, value: str):
    """With the focus in a radio group, checks the radio `value` with Space and the arrow keys."""
    active = browser.switch_to.active_element
    assert active.get_attribute("type") == "radio" and active.get_attribute("name") == name, describe(browser, active)
    if not active.is_selected():
        press(browser, Keys.SPACE)
    count = len(browser.find_elements(By.CSS_SELECTOR, f'input[type="radio"][name="{name}"]'))
    for _ in range(count):
        if browser.switch_to.active_element.get_attribute("value") == value:
            break
        press(browser, Keys.ARROW_RIGHT)
    chosen = browser.find_element(By.CSS_SELECTOR, f'input[type="radio"][name="{name}"][value="{value}"]')
    assert chosen.is_selected(), f"the keyboard did not choose {name}={value}"


def keyboard_sign_in(souk, browser, email: str, password: str):
    browser.get(souk.url("/signin"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signin"]')
    tab_and_type(browser, form.find_element(By.NAME, "email"), email)
    tab_and_type(browser, form.find_element(By.NAME, "password"), password)
    press_to_next_page(browser, Keys.ENTER)  # Enter in the password field submits the form
    assert urlparse(browser.current_url).path == "/account", browser.current_url
    assert browser.find_element(By.ID, "account-email").text == email


def keyboard_sign_out(souk, browser):
    tab_to(browser, browser.find_element(By.CSS_SELECTOR, 'form[action="/signout"] button'))
    press_to_next_page(browser, Keys.ENTER)
    assert browser.get_cookie("souk_session") is None
    assert browser.find_element(By.LINK_TEXT, "Sign in").is_displayed()


# --- 1. a newcomer buys --------------------------------------------------------------------------


def test_newcomer_signs_up_searches_buys_two_products_and_downloads_them(make_souk, browser):
    souk = make_souk(env=SOLO_STORE)
    catalog = seed_catalog(souk)
    atlas, counter = catalog["atlas"], catalog["counter"]
    email = "newcomer@example.com"

    # A visitor arrives on the home page and creates an account from the header.
    browser.get(souk.url("/"))
    newest = browser.find_element(By.ID, "newest").text
    assert "Moth Atlas" in newest and "Moth Counter" in newest and "Moth Secrets" not in newest
    click_to_next_page(browser, browser.find_element(By.CSS_SELECTOR, 'header.site a[href="/signup"]'))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signup"]')
    form.find_element(By.NAME, "name").send_keys("Nina Newcomer")
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    submit(browser, form)
    assert urlparse(browser.current_url).path == "/account"
    assert browser.find_element(By.ID, "account-email").text == email
    assert browser.find_element(By.ID, "account-role").text == "buyer"
    assert browser.find_element(By.CSS_SELECTOR, 'header.site a[href="/account"]').text == "Nina Newcomer"

    # Searches for moths: both moth products, not the beetles, not the draft.
    click_to_next_page(browser, browser.find_element(By.CSS_SELECTOR, 'header.site a[href="/search"]'))
    form = search_form(browser)
    form.find_element(By.NAME, "q").send_keys("moth")
    submit(browser, form)
    assert sorted(result_titles(browser)) == ["Moth Atlas", "Moth Counter"]
    assert browser.find_elements(By.CSS_SELECTOR, "#results mark"), "the matched word is highlighted"

    # Narrows them to the Software category with the filter form; the words are kept.
    form = search_form(browser)
    Select(form.find_element(By.NAME, "category")).select_by_value("Software")
    submit(browser, form)
    query = parse_qs(urlparse(browser.current_url).query)
    assert query["q"] == ["moth"] and query["category"] == ["Software"]
    assert result_titles(browser) == ["Moth Counter"]
    assert search_form(browser).find_element(By.NAME, "q").get_attribute("value") == "moth"
    assert browser.find_element(By.CSS_SELECTOR, ".facets li.selected").text.startswith("Software")

    click_to_next_page(browser, browser.find_element(By.LINK_TEXT, "Moth Counter"))
    assert browser.find_element(By.ID, "product-title").text == "Moth Counter"
    assert browser.find_element(By.CSS_SELECTOR, ".product-head .kind").text == "Software with a license key"
    assert browser.find_element(By.ID, "product-price").text == "$9.00"
    click_to_next_page(browser, browser.find_element(By.CSS_SELECTOR, '#add-to-cart button[type="submit"]'))
    assert urlparse(browser.current_url).path == "/cart"
    assert "Moth Counter" in browser.find_element(By.ID, "cart-lines").text

    # A second search, narrowed by price: only the dearer of the two atlases.
    click_to_next_page(browser, browser.find_element(By.CSS_SELECTOR, 'header.site a[href="/search"]'))
    form = search_form(browser)
    form.find_element(By.NAME, "q").send_keys("atlas")
    submit(browser, form)
    assert sorted(result_titles(browser)) == ["Beetle Atlas", "Moth Atlas"]
    form = search_form(browser)
    form.find_element(By.NAME, "min").send_keys("13")
    submit(browser, form)
    assert result_titles(browser) == ["Moth Atlas"]
    assert "$15.00" in browser.find_element(By.ID, "results").text
    click_to_next_page(browser, browser.find_element(By.LINK_TEXT, "Moth Atlas"))
    assert browser.find_element(By.ID, "product-title").text == "Moth Atlas"
    assert browser.find_element(By.CSS_SELECTOR, "#product-files .file-name").text == "moth-atlas.pdf"
    click_to_next_page(browser, browser.find_element(By.CSS_SELECTOR, '#add-to-cart button[type="submit"]'))

    # The cart holds both; checkout with the test provider.
    titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#cart-lines a.cart-title")]
    assert sorted(titles) == ["Moth Atlas", "Moth Counter"]
    assert browser.find_element(By.ID, "cart-total").text == "$24.00"
    click_to_next_page(browser, browser.find_element(By.ID, "checkout-link"))
    assert browser.find_element(By.ID, "checkout-total").text == "$24.00"
    provider = browser.find_element(By.CSS_SELECTOR, '#checkout-form input[name="provider"][value="test"]')
    assert provider.is_selected()
    assert absent(browser, By.CSS_SELECTOR, '#checkout-form [name="email"]'), "a signed-in buyer gives no e-mail"
    click_to_next_page(browser, browser.find_element(By.ID, "pay-button"))
    assert "/test-checkout/" in browser.current_url
    assert browser.find_element(By.CSS_SELECTOR, ".test-mode-badge").text == "TEST MODE"
    assert browser.find_element(By.ID, "test-total").text == "$24.00"
    assert email in browser.find_element(By.CSS_SELECTOR, ".test-checkout .meta").text
    click_to_next_page(browser, browser.find_element(By.ID, "test-pay"))
    assert "/checkout/success" in browser.current_url
    wait_thank_you(browser)
    assert browser.find_element(By.ID, "order-total").text == "$24.00"
    order_id = browser.find_element(By.ID, "order").get_attribute("data-order-id")

    # Back in the store: the library has both products.
    click_to_next_page(browser, browser.find_element(By.ID, "order-library"))
    assert urlparse(browser.current_url).path == "/library"
    atlas_item = browser.find_element(By.ID, f"product-{atlas['id']}")
    assert atlas_item.find_element(By.TAG_NAME, "h2").text == "Moth Atlas"
    order_link = atlas_item.find_element(By.CSS_SELECTOR, ".meta a")
    assert order_link.get_attribute("href").endswith(f"/orders/{order_id}") and order_link.text.startswith("#")
    link = atlas_item.find_element(By.CSS_SELECTOR, "a.download")
    assert link.text == "moth-atlas.pdf"
    assert atlas_item.find_element(By.CSS_SELECTOR, ".downloads-left").text == "10"

    # The file downloads with the browser's cookies, byte for byte what the seller uploaded.
    web = browser_session(browser)
    download = web.get(link.get_attribute("href"), timeout=30)
    assert download.status_code == 200, download.text[:300]
    assert download.content == catalog["atlas_bytes"]
    assert "moth-atlas.pdf" in download.headers.get("Content-Disposition", "")

    # The license key is issued by the delivery job: the library shows it once it exists.
    key_selector = f"#product-{counter['id']} code.license-key"
    with no_implicit_wait(browser):
        WebDriverWait(browser, WAIT, poll_frequency=0.3).until(
            lambda d: text_of(d, By.CSS_SELECTOR, key_selector) or d.refresh())
    wait_loaded(browser)
    counter_item = browser.find_element(By.ID, f"product-{counter['id']}")
    key = counter_item.find_element(By.CSS_SELECTOR, "code.license-key").text
    assert LICENSE_KEY.match(key), key
    assert "0 of 3 activations" in counter_item.find_element(By.CSS_SELECTOR, ".license").text
    # In words a buyer reads, with a copy button (shown by copy.js) holding the key.
    assert counter_item.find_element(By.CSS_SELECTOR, ".license .status").text == "Ready to activate"
    copy = counter_item.find_element(By.CSS_SELECTOR, "button.copy")
    assert copy.is_displayed() and copy.get_attribute("data-copy") == key
    library = web.get(souk.url("/api/v1/library")).json()["data"]
    keys = [k["key"] for entry in library if entry["product_id"] == counter["id"] for k in entry["license_keys"]]
    assert keys == [key], "the page shows the buyer's one key"
    counter_link = counter_item.find_element(By.CSS_SELECTOR, "a.download")
    assert counter_link.text == "moth-counter.zip"
    assert web.get(counter_link.get_attribute("href"), timeout=30).content == catalog["counter_bytes"]

    # The downloads were counted.
    browser.refresh()
    wait_loaded(browser)
    assert browser.find_element(By.CSS_SELECTOR, f"#product-{counter['id']} .downloads-left").text == "9"
    assert browser.find_element(By.CSS_SELECTOR, f"#product-{atlas['id']} .downloads-left").text == "9"


# --- 2. a seller sells ---------------------------------------------------------------------------


def test_seller_signs_up_is_verified_sells_and_hears_of_the_sale(make_souk, browser, tmp_path):
    souk = make_souk(env=MARKETPLACE)
    email = "maker@example.com"

    browser.get(souk.url("/signup"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signup"]')
    form.find_element(By.NAME, "name").send_keys("Mara Maker")
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    assert form.find_element(By.CSS_SELECTOR, 'input[name="role"][value="buyer"]').is_selected(), "buyer by default"
    form.find_element(By.CSS_SELECTOR, 'input[name="role"][value="seller"]').click()
    submit(browser, form)
    assert urlparse(browser.current_url).path == "/account"
    assert browser.find_element(By.ID, "account-role").text == "seller"
    assert browser.find_element(By.ID, "seller-status").text == "pending"

    # Until the operator verifies them, the dashboard only explains why.
    click_to_next_page(browser, browser.find_element(By.LINK_TEXT, "Dashboard"))
    assert browser.find_element(By.ID, "seller-standing").is_displayed()
    assert absent(browser, By.ID, "new-product")
    assert bell_count(browser) is None

    verified = souk.cli("seller", "verify", email)
    assert email in verified.stdout + verified.stderr
    browser.refresh()
    wait_loaded(browser)
    assert absent(browser, By.ID, "seller-standing")
    assert bell_count(browser) == "1", "the seller is told of the verification"
    assert "No products yet" in browser.find_element(By.ID, "dashboard-products").text
    # Once the page's live stream is open, the notice the page already counted is not counted again.
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "a.bell").get_attribute("data-live") == "true")
    assert bell_count(browser) == "1", "one unread notice, counted once"

    # Creates a product in the dashboard.
    click_to_next_page(browser, browser.find_element(By.ID, "new-product"))
    form = browser.find_element(By.ID, "product-form")
    form.find_element(By.NAME, "title").send_keys("Knitted Moth Pattern")
    form.find_element(By.NAME, "summary").send_keys("A moth to knit in an evening.")
    form.find_element(By.NAME, "description").send_keys("Printable **PDF** pattern.")
    Select(form.find_element(By.NAME, "kind")).select_by_value("download")
    form.find_element(By.NAME, "category").send_keys("Patterns")
    form.find_element(By.NAME, "price").send_keys("7.50")
    submit(browser, form)
    assert "/dashboard/products/" in browser.current_url
    assert "Product created as a draft" in browser.find_element(By.ID, "flash").text
    assert browser.find_element(By.ID, "product-status").text == "draft"
    product_id = urlparse(browser.current_url).path.rsplit("/", 1)[1]

    # Uploads its file with the dashboard's form.
    pattern = tmp_path / "moth-pattern.pdf"
    pattern_bytes = b"%PDF-1.7\n" + os.urandom(30 * 1024)
    pattern.write_bytes(pattern_bytes)
    file_input = WebDriverWait(browser, WAIT).until(EC.visibility_of_element_located((By.ID, "upload-file")))
    file_input.send_keys(str(pattern))
    browser.find_element(By.ID, "upload-button").click()
    with no_implicit_wait(browser):
        WebDriverWait(browser, WAIT).until(
            lambda d: text_of(d, By.CSS_SELECTOR, "#dashboard-files .file-name") == "moth-pattern.pdf"
            or "failed" in text_of(d, By.ID, "upload-status"))
    wait_loaded(browser)
    assert "failed" not in text_of(browser, By.ID, "upload-status")
    assert "v1" in browser.find_element(By.ID, "dashboard-files").text

    # Publishes it.
    click_to_next_page(browser, browser.find_element(By.ID, "publish"))
    assert browser.find_element(By.ID, "product-status").text == "published"
    assert "Published" in browser.find_element(By.ID, "flash").text
    public = browser.find_element(By.ID, "public-link").get_attribute("href")
    listed = requests.get(souk.url("/api/v1/products"), params={"q": "knitted"}).json()["data"]
    assert [(p["id"], p["status"], p["price"]) for p in listed] == [(product_id, "published", 750)]

    # A buyer buys it (through the API, as a browser would) and gets the very bytes uploaded.
    buyer = api_account(souk, "buyer", "fan@example.com")
    assert requests.get(public).status_code == 200
    order_id = pay_with_test_provider(souk, buyer.session, product_id)
    wait_status(souk, buyer.session, order_id, PAID_UP, timeout=WAIT)
    entry = buyer.session.get(souk.url("/api/v1/library")).json()["data"][0]
    assert requests.get(entry["files"][0]["download_url"], timeout=30).content == pattern_bytes

    # The seller hears of it: the bell counts the new notice...
    click_to_next_page(browser, browser.find_element(By.CSS_SELECTOR, 'header.site a[href="/dashboard"]'))
    wait_bell(browser, "2")
    assert browser.find_element(By.CSS_SELECTOR, "a.bell").get_attribute("aria-label") == "Notifications, 2 unread"

    # ...the sales page lists the order...
    click_to_next_page(browser, browser.find_element(By.ID, "sales-link"))
    row = browser.find_element(By.CSS_SELECTOR, f'#sales tr[data-order="{order_id}"]')
    assert "Knitted Moth Pattern" in row.text
    assert "fan@example.com" in row.text
    assert "$7.50" in row.text
    assert row.find_element(By.CSS_SELECTOR, ".test-order-badge").text == "TEST"
    assert row.find_element(By.CSS_SELECTOR, ".order-status").text in ("Paid", "Paid · delivered", "Complete")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#sales tr[data-order]")) == 1

    # ...and the bell leads to the notice, which leads to the sales page.
    click_to_next_page(browser, browser.find_element(By.CSS_SELECTOR, "a.bell"))
    assert urlparse(browser.current_url).path == "/notifications"
    items = browser.find_elements(By.CSS_SELECTOR, "#notifications li.unread")
    unread = {item.find_element(By.TAG_NAME, "strong").text: item for item in items}
    assert sorted(item.find_element(By.TAG_NAME, "strong").text for item in items) == \
        ["New TEST sale (no money moved)", "Your seller account is verified"]
    sale = unread["New TEST sale (no money moved)"]
    number = buyer.session.get(souk.url(f"/api/v1/orders/{order_id}")).json()["number"]
    assert "Knitted Moth Pattern" in sale.text and f"(order #{number})" in sale.text
    click_to_next_page(browser, sale.find_element(By.CSS_SELECTOR, "strong a"))
    assert urlparse(browser.current_url).path == "/dashboard/sales"


# --- 3. keyboard only ----------------------------------------------------------------------------


def test_every_main_form_works_with_the_keyboard_only(make_souk, browser):
    souk = make_souk(env=MARKETPLACE)
    seller = cli_account(souk, "seller", "seller@example.com")
    atlas = seller.create("Moth Atlas", kind="download", category="Books", price=1500, publish=True,
                          summary="Every moth of the north.")
    seller.create("Beetle Atlas", kind="download", category="Insects", price=1200, publish=True,
                  summary="Every beetle and a moth or two.")
    email = "keys@example.com"

    # Sign-up, with the marketplace's buyer/seller choice.
    browser.get(souk.url("/signup"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signup"]')
    tab_and_type(browser, form.find_element(By.NAME, "name"), "Kim Keys")
    tab_and_type(browser, form.find_element(By.NAME, "email"), email)
    tab_and_type(browser, form.find_element(By.NAME, "password"), PASSWORD)
    tab_to(browser, form.find_element(By.CSS_SELECTOR, 'input[name="role"][value="buyer"]'))
    choose_radio(browser, "role", "buyer")
    tab_to(browser, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
    press_to_next_page(browser, Keys.ENTER)
    assert urlparse(browser.current_url).path == "/account"
    assert browser.find_element(By.ID, "account-email").text == email
    assert browser.find_element(By.ID, "account-role").text == "buyer"

    # Sign-out (the header's form) and sign-in.
    keyboard_sign_out(souk, browser)
    keyboard_sign_in(souk, browser, email, PASSWORD)

    # Search: the words, Enter; then a category with the arrow keys and the Search button.
    browser.get(souk.url("/search"))
    form = search_form(browser)
    tab_and_type(browser, form.find_element(By.NAME, "q"), "moth")
    press_to_next_page(browser, Keys.ENTER)
    assert sorted(result_titles(browser)) == ["Beetle Atlas", "Moth Atlas"]
    form = search_form(browser)
    category = form.find_element(By.NAME, "category")
    tab_to(browser, category)
    choose_option(browser, category, "Books")
    tab_to(browser, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
    press_to_next_page(browser, Keys.ENTER)
    assert parse_qs(urlparse(browser.current_url).query).get("category") == ["Books"]
    assert result_titles(browser) == ["Moth Atlas"]

    # The result link, then "Add to cart".
    tab_to(browser, browser.find_element(By.CSS_SELECTOR, "#results a.title"))
    press_to_next_page(browser, Keys.ENTER)
    assert browser.find_element(By.ID, "product-title").text == "Moth Atlas"
    tab_to(browser, browser.find_element(By.CSS_SELECTOR, '#add-to-cart button[type="submit"]'))
    press_to_next_page(browser, Keys.ENTER)
    assert urlparse(browser.current_url).path == "/cart"
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#cart-lines a.cart-title")] == ["Moth Atlas"]

    # Cart → checkout → the test provider's Pay button (Space on a button).
    tab_to(browser, browser.find_element(By.ID, "checkout-link"))
    press_to_next_page(browser, Keys.ENTER)
    assert urlparse(browser.current_url).path == "/checkout"
    tab_to(browser, browser.find_element(By.ID, "pay-button"))
    press_to_next_page(browser, Keys.ENTER)
    assert "/test-checkout/" in browser.current_url
    tab_to(browser, browser.find_element(By.ID, "test-pay"))
    press_to_next_page(browser, Keys.SPACE)
    assert "/checkout/success" in browser.current_url
    wait_thank_you(browser)
    assert "Moth Atlas" in browser.find_element(By.CSS_SELECTOR, "#order table").text

    # The review form on the product page: four stars, a text, the button.
    browser.get(souk.url(f"/products/{atlas['slug']}"))
    review = browser.find_element(By.ID, "write-review")
    first_star = review.find_element(By.CSS_SELECTOR, 'input[name="rating"]')
    tab_to(browser, first_star)
    choose_radio(browser, "rating", "4")
    tab_and_type(browser, review.find_element(By.NAME, "title"), "Handy")
    tab_and_type(browser, review.find_element(By.NAME, "body"), "Found every moth at my light trap.")
    tab_to(browser, review.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
    press_to_next_page(browser, Keys.ENTER)
    posted = browser.find_element(By.CSS_SELECTOR, "#product-reviews li.review")
    assert posted.find_element(By.CSS_SELECTOR, ".review-rating").text == "★★★★☆"
    assert "Found every moth at my light trap." in posted.text
    assert browser.find_element(By.ID, "product-rating").text.startswith("4.0 / 5")

    # The seller's product form in the dashboard, and its Publish button.
    browser.get(souk.url("/"))
    keyboard_sign_out(souk, browser)
    keyboard_sign_in(souk, browser, seller.email, CLI_PASSWORD)
    browser.get(souk.url("/dashboard"))
    tab_to(browser, browser.find_element(By.ID, "new-product"))
    press_to_next_page(browser, Keys.ENTER)
    assert urlparse(browser.current_url).path == "/dashboard/new"
    form = browser.find_element(By.ID, "product-form")
    tab_and_type(browser, form.find_element(By.NAME, "title"), "Moth Counter")
    tab_and_type(browser, form.find_element(By.NAME, "summary"), "Counts the moths at your light trap.")
    tab_and_type(browser, form.find_element(By.NAME, "description"), "Runs *anywhere*.")
    kind = form.find_element(By.NAME, "kind")
    tab_to(browser, kind)
    choose_option(browser, kind, "license")
    tab_and_type(browser, form.find_element(By.NAME, "category"), "Software")
    tab_and_type(browser, form.find_element(By.NAME, "price"), "9.00")
    tab_to(browser, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
    press_to_next_page(browser, Keys.ENTER)
    assert "/dashboard/products/" in browser.current_url
    assert "Product created as a draft" in browser.find_element(By.ID, "flash").text
    assert browser.find_element(By.TAG_NAME, "h1").text == "Moth Counter"
    tab_to(browser, browser.find_element(By.ID, "publish"))
    press_to_next_page(browser, Keys.ENTER)
    assert browser.find_element(By.ID, "product-status").text == "published"
    product_id = urlparse(browser.current_url).path.rsplit("/", 1)[1]
    product = requests.get(souk.url(f"/api/v1/products/{product_id}")).json()
    assert (product["title"], product["kind"], product["category"], product["price"], product["status"]) == \
        ("Moth Counter", "license", "Software", 900, "published")
    assert product["description"] == "Runs *anywhere*."
