"""The bell in the page header, in headless Chromium: without JavaScript it shows the unread count
the page was rendered with and leads to the notifications page, where a notice is marked read;
with JavaScript the count goes up live, through the stream, while the page stays open."""
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from test_dashboard_browser import click_to_next_page, sign_in, wait_loaded

EMAIL, PASSWORD = "reader@example.com", "reader password 1"


def signed_in(souk, browser):
    souk.cli("user", "create", "--role", "buyer", "--email", EMAIL, "--name", "Rita Reader", input=PASSWORD + "\n")
    sign_in(souk, browser, EMAIL, PASSWORD)


def bell_count(browser) -> str | None:
    """The count as a person sees it: None while it is hidden."""
    count = browser.find_element(By.CSS_SELECTOR, "a.bell .count")
    return count.text if count.is_displayed() else None


def test_without_javascript_the_bell_counts_unread_notices_and_leads_to_them(souk, browser_without_javascript):
    browser = browser_without_javascript
    signed_in(souk, browser)
    browser.get(souk.url("/"))
    assert bell_count(browser) is None, "nothing unread yet"

    souk.cli("announce", "--title", "Spring sale", "--body", "Everything half price this week.")
    souk.cli("announce", "--title", "New books", "--body", "Twelve new titles arrived.")
    browser.get(souk.url("/search"))
    assert bell_count(browser) == "2"
    assert browser.find_element(By.CSS_SELECTOR, "a.bell").get_attribute("aria-label") == "Notifications, 2 unread"

    click_to_next_page(browser, browser.find_element(By.CSS_SELECTOR, "a.bell"))
    assert browser.current_url.endswith("/notifications")
    items = browser.find_elements(By.CSS_SELECTOR, "#notifications li.unread")
    assert {item.find_element(By.TAG_NAME, "strong").text for item in items} == {"Spring sale", "New books"}

    click_to_next_page(browser, items[0].find_element(By.CSS_SELECTOR, "form button"))
    assert bell_count(browser) == "1"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#notifications li.unread")) == 1


def test_with_javascript_the_bell_counts_up_live(souk, browser):
    signed_in(souk, browser)
    browser.get(souk.url("/"))
    wait_loaded(browser)
    assert bell_count(browser) is None
    # The page's stream is open before the notice is made.
    WebDriverWait(browser, 5).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "a.bell").get_attribute("data-live") == "true")

    souk.cli("announce", "--title", "Flash sale", "--body", "One hour only.")
    WebDriverWait(browser, 3).until(lambda d: bell_count(d) == "1")
    assert browser.find_element(By.CSS_SELECTOR, "a.bell").get_attribute("aria-label") == "Notifications, 1 unread"
    souk.cli("announce", "--title", "Second", "--body", "Another one.")
    WebDriverWait(browser, 3).until(lambda d: bell_count(d) == "2")
