"""The seller dashboard in a real browser: an admin (who may sell in a solo store) creates a product,
uploads a file through the upload form (upload.js → the JSON API with the page's CSRF token) and
publishes it; a signed-out visitor then finds it with the search page and sees the file on the
product page."""
import requests
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ADMIN_EMAIL = "owner@example.com"
ADMIN_PASSWORD = "owner password 1"


BROWSER_WAIT = 15  # seconds; the machine is small and may be busy


def wait_loaded(browser):
    WebDriverWait(browser, BROWSER_WAIT, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def to_next_page(browser, action):
    """Does `action` (a click, a key press) and waits for the page it leads to: the old document
    must be gone first, or its own "complete" state would be mistaken for the new page's. While
    the document is being replaced chromedriver may answer with errors other than "stale" (such as
    "Node with given id does not belong to the document"), so those only mean "ask again"."""
    old_page = browser.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(browser, BROWSER_WAIT, ignored_exceptions=(WebDriverException,)).until(
        EC.staleness_of(old_page))
    wait_loaded(browser)


def click_to_next_page(browser, element):
    to_next_page(browser, element.click)


def sign_in(souk, browser, email, password):
    browser.get(souk.url("/signin"))
    form = browser.find_element(By.CSS_SELECTOR, 'form[action="/signin"]')
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(password)
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    WebDriverWait(browser, 10).until(EC.url_contains("/account"))


def test_admin_sells_a_file_and_a_visitor_finds_it(souk, browser, tmp_path):
    souk.cli("user", "create", "--role", "admin", "--email", ADMIN_EMAIL, "--name", "Olive Owner",
             input=ADMIN_PASSWORD + "\n")
    sign_in(souk, browser, ADMIN_EMAIL, ADMIN_PASSWORD)

    # The nav offers the dashboard to sellers and admins.
    browser.find_element(By.LINK_TEXT, "Dashboard").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/dashboard"))
    assert "No products yet" in browser.find_element(By.ID, "dashboard-products").text
    browser.find_element(By.ID, "new-product").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/dashboard/new"))

    form = browser.find_element(By.ID, "product-form")
    form.find_element(By.NAME, "title").send_keys("Field Guide to Moths")
    form.find_element(By.NAME, "summary").send_keys("Every moth of the north, illustrated.")
    form.find_element(By.NAME, "description").send_keys("## What you get\n\nA **printable** guide.")
    form.find_element(By.CSS_SELECTOR, 'select[name="kind"] option[value="download"]').click()
    form.find_element(By.NAME, "category").send_keys("Nature")
    form.find_element(By.NAME, "tags").send_keys("moths, field guide")
    form.find_element(By.NAME, "price").send_keys("12.50")
    form.find_element(By.NAME, "attributes").send_keys("pages: 84\nformat: PDF")
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    WebDriverWait(browser, 10).until(EC.url_contains("/dashboard/products/"))
    wait_loaded(browser)
    assert "Product created as a draft" in browser.find_element(By.ID, "flash").text
    assert browser.find_element(By.ID, "product-status").text == "draft"
    edit_url = browser.current_url.split("?")[0]

    # upload.js reveals the upload form; the file goes up as the raw body of the API call.
    guide = tmp_path / "moths-guide.pdf"
    guide.write_bytes(b"%PDF-1.4\n" + b"m" * (2048 - 9))
    file_input = WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.ID, "upload-file")))
    file_input.send_keys(str(guide))
    browser.find_element(By.ID, "upload-button").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#dashboard-files .file-name")
        or "failed" in d.find_element(By.ID, "upload-status").text
    )
    files = browser.find_element(By.ID, "dashboard-files").text
    assert "moths-guide.pdf" in files
    assert "v1" in files
    assert "2.0 KB" in files

    # The publish form posts and the dashboard comes back: wait for the new page (the old one's
    # nodes vanish under a poll, which chromedriver reports as an error, not a stale element).
    click_to_next_page(browser, browser.find_element(By.ID, "publish"))
    assert browser.find_element(By.ID, "product-status").text == "published"
    assert "Published" in browser.find_element(By.ID, "flash").text
    assert browser.current_url.startswith(edit_url)

    # A signed-out visitor searches from the home page and opens the product.
    browser.delete_all_cookies()
    browser.get(souk.url("/"))
    assert browser.find_elements(By.LINK_TEXT, "Sign in")
    box = browser.find_element(By.ID, "home-q")
    box.send_keys("moth")
    box.submit()
    WebDriverWait(browser, 10).until(EC.url_contains("/search"))
    results = browser.find_element(By.ID, "results")
    assert "Field Guide to Moths" in results.text
    assert "$12.50" in results.text
    assert results.find_elements(By.TAG_NAME, "mark"), "the matched word is highlighted"
    facet = browser.find_element(By.CSS_SELECTOR, ".facets").text
    assert "Nature" in facet

    results.find_element(By.LINK_TEXT, "Field Guide to Moths").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/products/field-guide-to-moths"))
    assert browser.find_element(By.ID, "product-title").text == "Field Guide to Moths"
    assert browser.find_element(By.ID, "product-price").text == "$12.50"
    assert browser.find_element(By.ID, "product-seller").text == "Olive Owner"
    assert browser.find_element(By.CSS_SELECTOR, "#product-files .file-name").text == "moths-guide.pdf"
    assert browser.find_element(By.CSS_SELECTOR, "#product-files .file-size").text == "2.0 KB"
    assert browser.find_element(By.CSS_SELECTOR, ".description h2").text == "What you get"
    assert "84" in browser.find_element(By.CSS_SELECTOR, ".attributes").text

    # The visitor cannot reach the dashboard, and the API agrees about the file.
    browser.get(souk.url("/dashboard"))
    assert "/signin" in browser.current_url
    listing = requests.get(souk.url("/api/v1/products"), params={"q": "moths"}).json()
    product_id = listing["data"][0]["id"]
    api_files = requests.get(souk.url(f"/api/v1/products/{product_id}/files")).json()["data"]
    assert [(f["name"], f["size"], f["version"]) for f in api_files] == [("moths-guide.pdf", 2048, 1)]


def test_dashboard_page_offers_the_form_and_the_curl_command(souk):
    souk.cli("user", "create", "--role", "admin", "--email", ADMIN_EMAIL, input=ADMIN_PASSWORD + "\n")
    web = requests.Session()
    assert web.post(souk.url("/api/v1/auth/login"), json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).ok
    created = web.post(souk.url("/api/v1/products"), json={
        "title": "Plain Page", "kind": "download", "category": "Misc", "price": 0,
    })
    assert created.status_code == 201, created.text
    page = web.get(souk.url(f"/dashboard/products/{created.json()['id']}"))
    assert page.status_code == 200
    # The upload form works without JavaScript (multipart, see test_dashboard_upload_form.py);
    # scripts get a curl command for the API.
    product_id = created.json()["id"]
    assert f'<form class="row upload" id="upload-form" method="post" action="/dashboard/products/{product_id}/files"' \
        in page.text
    assert "curl -X POST" in page.text and "Authorization: Bearer" in page.text
    script = requests.get(souk.url("/assets/upload.js"))
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("text/javascript")
