"""Reviews as a buyer meets them, in headless Chromium without JavaScript: the library's "Rate
this" leads to the review form on the product page; a review without text comes back with the
message and the chosen stars kept; a posted review shows with the rating distribution, and the
library then shows the buyer's stars. With more than a page of reviews, "Older reviews" pages on."""
import re

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from test_catalog_api import api_account
from test_dashboard_browser import click_to_next_page, wait_loaded
from test_reviews import STORE, buy, review

PASSWORD = "correct horse"


def sign_in(souk, browser, email):
    browser.get(souk.url("/signin"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signin"]')
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    # Signed in once the sign-in page has been left (readyState alone may still be the old page's).
    WebDriverWait(browser, 10).until(lambda d: "/signin" not in d.current_url)
    wait_loaded(browser)


def test_rate_this_from_the_library_without_javascript(make_souk, browser_without_javascript):
    browser = browser_without_javascript
    souk = make_souk(env=STORE)
    seller = api_account(souk, "seller", "maker@example.com")
    souk.cli("seller", "verify", "maker@example.com")
    atlas = seller.create("Moth Atlas", publish=True, price=1500)
    buyer = api_account(souk, "buyer", "reader@example.com")
    buy(souk, buyer, atlas["id"])
    stranger = api_account(souk, "buyer", "stranger@example.com")

    sign_in(souk, browser, "reader@example.com")
    browser.get(souk.url("/library"))
    rate = browser.find_element(By.CSS_SELECTOR, f'#product-{atlas["id"]} a.rate')
    assert rate.text == "Rate this"
    click_to_next_page(browser, rate)
    assert browser.current_url.endswith(f"/products/{atlas['slug']}#write-review")
    form = browser.find_element(By.ID, "write-review")
    assert form.find_element(By.TAG_NAME, "h3").text == "Rate this"

    # Four stars and a title, but no text: refused beside the form, the choice kept.
    form.find_element(By.CSS_SELECTOR, 'input[name="rating"][value="4"]').click()
    form.find_element(By.NAME, "title").send_keys("Lovely plates")
    browser.execute_script("document.querySelector('#write-review textarea').removeAttribute('required')")
    click_to_next_page(browser, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
    error = browser.find_element(By.ID, "review-error").text
    assert "review" in error.lower() or "write" in error.lower(), error
    form = browser.find_element(By.ID, "write-review")
    assert form.find_element(By.CSS_SELECTOR, 'input[name="rating"][value="4"]').is_selected()
    assert form.find_element(By.NAME, "title").get_attribute("value") == "Lovely plates"
    assert requests.get(souk.url(f"/api/v1/products/{atlas['id']}")).json()["rating_count"] == 0

    form.find_element(By.NAME, "body").send_keys("Every moth of the region, beautifully drawn.")
    click_to_next_page(browser, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
    posted = browser.find_element(By.CSS_SELECTOR, "#product-reviews li.review")
    assert posted.find_element(By.CSS_SELECTOR, ".review-rating").text == "★★★★☆"
    assert "Every moth of the region" in posted.text
    rows = {row.get_attribute("data-stars"): row.find_element(By.CSS_SELECTOR, ".count").text
            for row in browser.find_elements(By.CSS_SELECTOR, "#rating-distribution tr")}
    assert rows == {"5": "0", "4": "1", "3": "0", "2": "0", "1": "0"}
    assert browser.find_element(By.ID, "product-rating").text.startswith("4.0 / 5 (1 rating)")
    # The form now edits the review.
    assert browser.find_element(By.CSS_SELECTOR, "#write-review h3").text == "Your review"

    browser.get(souk.url("/library"))
    assert browser.find_element(By.CSS_SELECTOR, f'#product-{atlas["id"]} a.rate').text == "Your rating: ★★★★☆ · Edit"

    # Someone who did not buy it sees no form, and a forged post is refused.
    anonymous_page = requests.get(souk.url(f"/products/{atlas['slug']}")).text
    assert 'id="write-review"' not in anonymous_page
    page = stranger.session.get(souk.url(f"/products/{atlas['slug']}")).text
    assert 'id="write-review"' not in page
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    forged = stranger.session.post(souk.url(f"/products/{atlas['slug']}/review"),
                                   data={"_csrf": csrf, "rating": "1", "body": "Never bought it"})
    assert forged.status_code == 403
    assert requests.get(souk.url(f"/api/v1/products/{atlas['id']}")).json()["rating_count"] == 1


def test_older_reviews_page_on(make_souk):
    souk = make_souk(env=STORE)
    seller = api_account(souk, "seller", "maker@example.com")
    souk.cli("seller", "verify", "maker@example.com")
    atlas = seller.create("Moth Atlas", publish=True, price=500)
    for index in range(12):
        buyer = api_account(souk, "buyer", f"reader{index}@example.com")
        buy(souk, buyer, atlas["id"])
        assert review(souk, buyer, atlas["id"], rating=1 + index % 5, body=f"Review number {index}").status_code == 201

    first = requests.get(souk.url(f"/products/{atlas['slug']}")).text
    numbers = re.findall(r"Review number (\d+)", first)
    assert numbers == [str(n) for n in range(11, 1, -1)], "the ten newest first"
    older = re.search(r'<a href="([^"]+)" id="older-reviews">', first).group(1).replace("&amp;", "&")
    second = requests.get(souk.url(older)).text
    assert re.findall(r"Review number (\d+)", second) == ["1", "0"]
    assert 'id="older-reviews"' not in second
    # A cursor that is not one shows the newest page rather than an error.
    assert requests.get(souk.url(f"/products/{atlas['slug']}?reviews_after=rev_bogus")).status_code == 200
