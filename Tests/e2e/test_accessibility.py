"""Accessibility (issue 13, acceptance 7): axe-core (the copy `axe-selenium-python` ships) finds no
serious or critical violation on any page of the store, in headless Chromium — every GET route in
the router's table that renders HTML, signed out and as a buyer (with a cart to check out), a seller
and an admin: home, search, product, cart, checkout, library, dashboard and admin among them. Pages
are filled with the access matrix's world (products, orders, licenses, reviews, endpoints)."""
import json

from axe_selenium_python import Axe

from shop_helpers import add_to_cart
from test_access_matrix import ADMIN, ANON, BUYER, ROUTES, SELLER, STORE, World, is_page
from test_dashboard_browser import wait_loaded
from test_phone_layout import signed_in_as

IDENTITIES = (ANON, BUYER, SELLER, ADMIN)
MAIN_PAGES = {"/", "/search", "/products/{slug}", "/cart", "/checkout", "/library", "/dashboard", "/admin"}


def test_no_serious_or_critical_accessibility_violation_on_any_page(make_souk, browser):
    souk = make_souk(env=STORE)
    world = World(souk)
    # The buyer has something in the cart, so /cart and /checkout show their full forms.
    add_to_cart(souk, world.callers[BUYER].session, world.values["spare_product"])
    routes = [f"{r['method']} {r['path']}" for r in json.loads(souk.cli("routes", "--json").stdout)]
    pages = [route.split(" ", 1)[1] for route in routes
             if route.startswith("GET ") and is_page(route.split(" ", 1)[1])]
    assert MAIN_PAGES <= set(pages), MAIN_PAGES - set(pages)
    axe = Axe(browser)
    checked, main_checked, found = 0, set(), []
    for identity in IDENTITIES:
        caller = world.callers[identity]
        signed_in_as(browser, souk, caller.session)
        for pattern in pages:
            address = world.fill(ROUTES[f"GET {pattern}"].path or pattern, identity)
            answer = caller.session.get(souk.url(address), allow_redirects=False)
            if answer.status_code >= 300 or not answer.headers.get("Content-Type", "").startswith("text/html"):
                continue  # files, stylesheets, scripts, CSV exports, redirects to sign in, refusals
            browser.get(souk.url(address))
            wait_loaded(browser)
            axe.inject()
            results = axe.run()
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
