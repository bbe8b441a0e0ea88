"""Accessibility (issue 13, acceptance 7): axe-core (the copy `axe-selenium-python` ships) finds no
serious or critical violation on any page of the store, in headless Chromium — every GET route in
the router's table that renders HTML, signed out and as a buyer (with a cart to check out), a seller
and an admin: home, search, product, cart, checkout, library, dashboard and admin among them. Pages
are filled with the access matrix's world (products, orders, licenses, reviews, endpoints)."""
from axe_selenium_python import Axe

from shop_helpers import add_to_cart
from test_access_matrix import ADMIN, ANON, BUYER, SELLER, STORE, World, html_pages
from test_dashboard_browser import wait_loaded
from test_phone_layout import signed_in_as

IDENTITIES = (ANON, BUYER, SELLER, ADMIN)
MAIN_PAGES = {"/", "/search", "/products/{slug}", "/cart", "/checkout", "/library", "/dashboard", "/admin"}


def test_no_serious_or_critical_accessibility_violation_on_any_page(make_souk, browser):
    souk = make_souk(env=STORE)
    world = World(souk)
    # The buyer has something in the cart, so /cart and /checkout show their full forms.
    add_to_cart(souk, world.callers[BUYER].session, world.values["spare_product"])
    axe = Axe(browser)
    checked, main_checked, found = 0, set(), []
    for identity, pattern, address, answer in html_pages(world, IDENTITIES, lambda s: signed_in_as(browser, souk, s)):
        if answer.status_code >= 300:
            continue  # redirects to sign in and refusals: their pages are checked where they are reached
        if pattern.endswith(".html"):
            continue  # an e-mail shown in the dashboard's sandboxed frame, not a page of the store
        browser.get(souk.url(address))
        wait_loaded(browser)
        axe.inject()
        results = axe.run(options="{iframes: false}")
        checked += 1
        if pattern in MAIN_PAGES:
            main_checked.add(pattern)
        for violation in results["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
                found.append(f"{address} as {identity}: {violation['id']} ({violation['impact']}): "
                             f"{violation['help']} — {targets}")
    assert main_checked == MAIN_PAGES, f"not checked: {MAIN_PAGES - main_checked}"
    assert checked >= 60, f"only {checked} pages were checked"
    assert not found, f"{len(found)} violations on {checked} pages:\n" + "\n".join(found)
