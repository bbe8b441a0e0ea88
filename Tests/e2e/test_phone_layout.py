"""Every page of the store fits a phone: at 375 × 800 CSS pixels (a phone's viewport, emulated in
headless Chromium), no page that renders HTML scrolls sideways (document width ≤ viewport), for
every GET route in the router's table, signed out and signed in as a buyer, a seller and an admin.
Pages are filled with the access matrix's world (products, orders, licenses, reviews, endpoints)."""

import requests

from test_access_matrix import ADMIN, ANON, BUYER, SELLER, STORE, World, html_pages

WIDTH, HEIGHT = 375, 800
IDENTITIES = (ANON, BUYER, SELLER, ADMIN)


def as_phone(browser):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 2, "mobile": False})


def signed_in_as(browser, souk, session: requests.Session):
    browser.get(souk.url("/healthz"))
    browser.delete_all_cookies()
    for cookie in session.cookies:
        browser.add_cookie({"name": cookie.name, "value": cookie.value, "path": "/"})


def test_no_page_scrolls_sideways_on_a_phone(make_souk, browser_without_javascript):
    browser = browser_without_javascript
    souk = make_souk(env=STORE)
    world = World(souk)
    as_phone(browser)
    checked, wide = 0, []
    for identity, pattern, address, _ in html_pages(world, IDENTITIES, lambda s: signed_in_as(browser, souk, s)):
        browser.get(souk.url(address))
        width = browser.execute_script("return document.documentElement.scrollWidth")
        viewport = browser.execute_script("return window.innerWidth")
        assert viewport == WIDTH, f"the phone viewport is {viewport} px wide"
        checked += 1
        if width > viewport:
            widest = browser.execute_script("""
                let widest = null;
                for (const element of document.querySelectorAll('body *')) {
                    const right = element.getBoundingClientRect().right;
                    if (right > window.innerWidth + 0.5 && (!widest || right > widest.right))
                        widest = {right, tag: element.tagName.toLowerCase(), id: element.id, cls: element.className};
                }
                return widest;""")
            wide.append(f"{address} as {identity}: {width} px wide (widest: {widest})")
    assert checked >= 60, f"only {checked} pages were checked"
    assert not wide, f"{len(wide)} of {checked} pages scroll sideways at {WIDTH} px:\n" + "\n".join(wide)


def test_on_a_phone_the_buy_box_comes_before_the_description(make_souk, browser_without_javascript):
    browser = browser_without_javascript
    from test_catalog_api import cli_account
    souk = make_souk(env=STORE)
    seller = cli_account(souk, "admin", "owner@example.com")
    product = seller.create("Moth Atlas", publish=True, description="A long description. " * 200)
    as_phone(browser)
    browser.get(souk.url(f"/products/{product['slug']}"))
    button = browser.execute_script("return document.querySelector('#add-to-cart button').getBoundingClientRect()")
    description = browser.execute_script("return document.querySelector('.description').getBoundingClientRect()")
    assert button["bottom"] <= HEIGHT, f"Add to cart is below the first screen: {button}"
    assert button["top"] < description["top"]
    assert button["height"] >= 44 and button["width"] >= 44, f"a tap target under 44 px: {button}"
