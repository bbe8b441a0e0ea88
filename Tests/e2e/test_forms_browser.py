"""Forms that keep what a person typed, in headless Chromium without JavaScript: a pay-what-you-want
amount below the minimum brings back the product page with the message beside the form, the
minimum written as money, and the typed amount still in the field; a fixed amount then adds it."""
import requests
from selenium.webdriver.common.by import By

from test_catalog_api import cli_account
from test_dashboard_browser import click_to_next_page


def test_a_too_low_amount_comes_back_on_the_product_page_with_the_minimum_in_money(make_souk, browser_without_javascript):
    browser = browser_without_javascript
    souk = make_souk(env={"SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0"})
    seller = cli_account(souk, "admin", "owner@example.com")
    zine = seller.create("Moth Zine", publish=True, price=900, min_price=500)

    browser.get(souk.url(f"/products/{zine['slug']}"))
    amount = browser.find_element(By.CSS_SELECTOR, '#add-to-cart input[name="amount"]')
    amount.clear()
    amount.send_keys("4")
    click_to_next_page(browser, browser.find_element(By.CSS_SELECTOR, '#add-to-cart button[type="submit"]'))

    assert browser.find_element(By.TAG_NAME, "h1").text == "Moth Zine", "still the product page"
    error = browser.find_element(By.ID, "cart-error").text
    assert "$5.00" in error and "minor units" not in error, error
    field = browser.find_element(By.CSS_SELECTOR, '#add-to-cart input[name="amount"]')
    assert field.get_attribute("value") == "4"
    assert field.get_attribute("aria-invalid") == "true"
    assert requests.get(souk.url(f"/products/{zine['slug']}")).status_code == 200

    field.clear()
    field.send_keys("6.50")
    click_to_next_page(browser, browser.find_element(By.CSS_SELECTOR, '#add-to-cart button[type="submit"]'))
    assert browser.current_url.endswith("/cart")
    assert "$6.50" in browser.find_element(By.TAG_NAME, "main").text
