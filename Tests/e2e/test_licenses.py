"""License keys against the real `souk` binary: a buyer pays for a `license` product (activation
limit 2) with the built-in test provider, the fulfil job issues the key, and then the license API
(no sign-in) counts seats under parallel activations; the buyer frees a seat with the library
page's form; the seller turns the key off and on; a refund revokes it. Every JSON answer is checked
against the OpenAPI document."""
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import schemathesis

from conftest import assert_problem, csrf_from
from test_catalog_api import api_account, cli_account

DOCUMENT = Path(__file__).resolve().parents[2] / "Sources" / "SoukHTTP" / "Templates" / "openapi.json"
FAST = {"SOUK_JOBS_POLL_MILLISECONDS": "100", "SOUK_STORE_MARKETPLACE": "true"}


_document = None


def conforms(method: str, path: str, response: requests.Response):
    """The status is documented for the operation and the answer matches its schema."""
    global _document
    _document = _document or schemathesis.openapi.from_path(DOCUMENT)
    operation = _document[path][method]
    assert str(response.status_code) in operation.definition.raw["responses"], \
        f"{method} {path} answered undocumented {response.status_code}"
    operation.validate_response(response)


def buy(souk, buyer, product_id: str, key: str) -> dict:
    """Checks out with the test provider and presses Pay on its hosted page, as a browser would;
    returns the order once paid (delivery may already have moved it on to fulfilled or completed)."""
    added = buyer.session.post(souk.url("/api/v1/cart/items"), json={"product_id": product_id})
    assert added.status_code == 200, added.text
    checkout = buyer.session.post(souk.url("/api/v1/checkout"), json={"provider": "test"},
                                  headers={"Idempotency-Key": key})
    assert checkout.status_code == 201, checkout.text
    hosted = buyer.session.get(checkout.json()["redirect_url"])
    assert hosted.status_code == 200 and "TEST MODE" in hosted.text
    session_id = checkout.json()["redirect_url"].rsplit("/", 1)[1]
    paid = buyer.session.post(souk.url(f"/test-checkout/{session_id}/pay"), data={"_csrf": csrf_from(hosted.text)},
                              allow_redirects=False)
    assert paid.status_code == 303
    order_id = checkout.json()["order"]["id"]
    deadline = time.time() + 15
    while time.time() < deadline:
        order = buyer.session.get(souk.url(f"/api/v1/orders/{order_id}")).json()
        if order["status"] in {"paid", "fulfilled", "completed"}:
            return order
        time.sleep(0.1)
    raise AssertionError(f"order {order_id} stayed {order['status']}")


def license_call(souk, verb: str, **fields) -> requests.Response:
    """The public license API, called without any cookie or token (as an app on a customer's machine)."""
    response = requests.post(souk.url(f"/api/v1/licenses/{verb}"), json=fields, timeout=10)
    conforms("POST", f"/api/v1/licenses/{verb}", response)
    return response


def library_entries(souk, buyer) -> list[dict]:
    response = buyer.session.get(souk.url("/api/v1/library"))
    assert response.status_code == 200, response.text
    conforms("GET", "/api/v1/library", response)
    return response.json()["data"]


def library_keys(souk, buyer, product_id: str, timeout: float = 15) -> list[dict]:
    """The buyer's keys for the product, once the fulfil job has issued them."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        response = buyer.session.get(souk.url("/api/v1/library"))
        assert response.status_code == 200, response.text
        for entry in response.json()["data"]:
            if entry["product_id"] == product_id and entry["license_keys"]:
                conforms("GET", "/api/v1/library", response)
                return entry["license_keys"]
        time.sleep(0.1)
    raise AssertionError("no license key showed up in the library: is the fulfil job running?")


def licensed_sale(souk, limit: int = 2):
    seller = cli_account(souk, "seller", "maker@example.com")
    product = seller.create("Pixel Editor", publish=True, kind="license", category="Software", price=2500,
                            activation_limit=limit)
    buyer = api_account(souk, "buyer", "buyer@example.com")
    order = buy(souk, buyer, product["id"], "license-order-1")
    keys = library_keys(souk, buyer, product["id"])
    assert len(keys) == 1
    # 0 is "unlimited", which keys report as null (as the document says).
    assert keys[0]["activation_limit"] == (limit or None) and keys[0]["activation_usage"] == 0
    assert keys[0]["status"] == "inactive" and keys[0]["instances"] == []
    return seller, buyer, product, order, keys[0]["key"]


def test_an_activation_limit_of_0_is_unlimited(make_souk):
    # The per-IP throttle of the license API is off: 50 machines may well share one address.
    souk = make_souk(env={**FAST, "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0"})
    _, buyer, product, _, key = licensed_sale(souk, limit=0)

    start = threading.Barrier(10)

    def activate(n):
        if n < 10:
            start.wait()  # the first ten at the same moment
        return license_call(souk, "activate", license_key=key, instance_name=f"machine {n}")

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = [a.json() for a in pool.map(activate, range(50))]
    assert all(a["activated"] for a in answers), [a["error"] for a in answers if not a["activated"]]
    assert all(a["error"] is None and a["license_key"]["activation_limit"] is None for a in answers)
    assert len({a["instance"]["id"] for a in answers}) == 50
    validated = license_call(souk, "validate", license_key=key, instance_id=answers[-1]["instance"]["id"]).json()
    assert validated["valid"] is True
    assert validated["license_key"]["activation_usage"] == 50 and validated["license_key"]["activation_limit"] is None
    keys = library_keys(souk, buyer, product["id"])
    assert keys[0]["activation_usage"] == 50 and len(keys[0]["instances"]) == 50
    page = buyer.session.get(souk.url("/library"), headers={"Accept": "text/html"})
    assert page.status_code == 200 and "50 of unlimited activations" in page.text


def test_seats_parallel_activations_library_form_and_refund(make_souk):
    souk = make_souk(env=FAST)
    seller, buyer, product, order, key = licensed_sale(souk)

    # Three machines activate at the same moment: exactly two get a seat.
    start = threading.Barrier(3)

    def activate(n):
        start.wait()
        return license_call(souk, "activate", license_key=key, instance_name=f"machine {n}")

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(activate, range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    activated = [a.json() for a in answers if a.json()["activated"]]
    refused = [a.json() for a in answers if not a.json()["activated"]]
    assert len(activated) == 2 and len(refused) == 1
    assert "activation limit" in refused[0]["error"] and refused[0]["instance"] is None
    assert refused[0]["license_key"]["activation_usage"] == 2
    for answer in activated:
        assert answer["error"] is None
        assert answer["license_key"]["status"] == "active"
        assert answer["meta"] == {"product_id": product["id"], "order_id": order["id"]}
    instances = {a["instance"]["id"]: a["instance"]["name"] for a in activated}

    # A typed key (lower case, spaces) is the same key; each instance validates.
    for instance_id in instances:
        valid = license_call(souk, "validate", license_key=f"  {key.lower()} ", instance_id=instance_id).json()
        assert valid["valid"] is True and valid["instance"]["id"] == instance_id
    keys = library_keys(souk, buyer, product["id"])
    assert {i["id"] for i in keys[0]["instances"]} == set(instances)

    # The buyer frees one seat in the library page, with its form.
    page = buyer.session.get(souk.url("/library"), headers={"Accept": "text/html"})
    assert page.status_code == 200 and key in page.text
    freed_id = next(iter(instances))
    row = re.search(rf'<tr data-instance="{freed_id}">.*?action="([^"]+)"', page.text, re.S)
    assert row, "the library lists each activation with a Deactivate form"
    action = row.group(1).replace("&amp;", "&")
    submitted = buyer.session.post(souk.url(action), data={"_csrf": csrf_from(page.text)}, allow_redirects=False)
    assert submitted.status_code == 303 and submitted.headers["Location"] == "/library"
    keys = library_keys(souk, buyer, product["id"])
    assert keys[0]["activation_usage"] == 1 and freed_id not in {i["id"] for i in keys[0]["instances"]}
    stale = license_call(souk, "validate", license_key=key, instance_id=freed_id).json()
    assert stale["valid"] is False and "not active" in stale["error"]

    # Someone else cannot free the buyer's seats.
    stranger = api_account(souk, "buyer", "stranger@example.com")
    other_id = next(i for i in instances if i != freed_id)
    refused_delete = stranger.session.delete(souk.url(f"/api/v1/library/licenses/{key}/activations/{other_id}"))
    assert_problem(refused_delete, 404, "not_found")
    conforms("DELETE", "/api/v1/library/licenses/{key}/activations/{id}", refused_delete)

    # The freed seat can be taken again; then the key is full again.
    again = license_call(souk, "activate", license_key=key, instance_name="new laptop").json()
    assert again["activated"] is True and again["license_key"]["activation_usage"] == 2
    assert license_call(souk, "activate", license_key=key, instance_name="one too many").json()["activated"] is False

    # The buyer frees the new seat through the API; the app deactivates the last one itself.
    freed = buyer.session.delete(souk.url(f"/api/v1/library/licenses/{key}/activations/{again['instance']['id']}"))
    assert freed.status_code == 200 and freed.json()["activation_usage"] == 1
    conforms("DELETE", "/api/v1/library/licenses/{key}/activations/{id}", freed)
    gone = license_call(souk, "deactivate", license_key=key, instance_id=other_id).json()
    assert gone["deactivated"] is True and gone["instance"]["id"] == other_id
    assert gone["license_key"]["status"] == "inactive" and gone["license_key"]["activation_usage"] == 0
    assert license_call(souk, "deactivate", license_key=key, instance_id=other_id).json()["deactivated"] is False

    # Unknown keys are problems; a bad instance name is a validation problem.
    assert_problem(license_call(souk, "validate", license_key="ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"), 404, "not_found")
    too_long = license_call(souk, "activate", license_key=key, instance_name="x" * 256)
    assert assert_problem(too_long, 422, "validation_failed")["field"] == "instance_name"

    # The seller turns the key off and on again (the dashboard lists it with its buyer).
    dashboard = seller.session.get(souk.url(f"/dashboard/products/{product['id']}/licenses"),
                                   headers={"Accept": "text/html"})
    assert dashboard.status_code == 200 and key in dashboard.text and "buyer@example.com" in dashboard.text
    # The seller finds a customer's key by their address or by the key itself.
    for text, found in [("BUYER@example", True), (key.lower(), True), ("nobody@", False)]:
        search = seller.session.get(souk.url(f"/dashboard/products/{product['id']}/licenses"), params={"q": text},
                                    headers={"Accept": "text/html"})
        assert search.status_code == 200 and (key in search.text) == found, text
        assert found or 'id="licenses-none-found"' in search.text
    disabled = seller.session.post(souk.url(f"/api/v1/licenses/{key}/disable"), json={})
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    conforms("POST", "/api/v1/licenses/{key}/disable", disabled)
    off = license_call(souk, "validate", license_key=key).json()
    assert off["valid"] is False and off["license_key"]["status"] == "disabled"
    assert_problem(stranger.session.post(souk.url(f"/api/v1/licenses/{key}/enable"), json={}), 404, "not_found")
    enabled = seller.session.post(souk.url(f"/api/v1/licenses/{key}/enable"), json={})
    assert enabled.status_code == 200 and enabled.json()["status"] == "inactive"
    conforms("POST", "/api/v1/licenses/{key}/enable", enabled)
    seat = license_call(souk, "activate", license_key=key, instance_name="studio").json()
    assert seat["activated"] is True

    # A full refund revokes the key: validate says so, and it can neither activate nor be re-enabled.
    refund = seller.session.post(souk.url(f"/api/v1/orders/{order['id']}/refund"), json={"reason": "changed mind"})
    assert refund.status_code == 200, refund.text
    revoked = license_call(souk, "validate", license_key=key, instance_id=seat["instance"]["id"]).json()
    assert revoked["valid"] is False
    assert revoked["license_key"]["status"] == "revoked"
    assert "revoked" in revoked["error"]
    assert license_call(souk, "activate", license_key=key, instance_name="after refund").json()["activated"] is False
    conflict = seller.session.post(souk.url(f"/api/v1/licenses/{key}/enable"), json={})
    assert_problem(conflict, 409, "conflict")
    conforms("POST", "/api/v1/licenses/{key}/enable", conflict)


def test_license_api_is_rate_limited_per_address(make_souk):
    souk = make_souk(env=FAST)
    answers = [requests.post(souk.url("/api/v1/licenses/validate"), json={"license_key": f"NOPE-{n}"})
               for n in range(61)]
    assert [a.status_code for a in answers[:60]] == [404] * 60
    limited = answers[60]
    assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
    conforms("POST", "/api/v1/licenses/validate", limited)
    # The rest of the store still answers.
    assert requests.get(souk.url("/api/v1/categories")).status_code == 200


def test_private_pages_notifications_and_download_log_match_the_document(make_souk):
    """The other delivery answers the OpenAPI document describes, on real data: a content product's
    private page (owner, seller, stranger, guest), the buyer's notifications, and the seller's
    download log after one download."""
    souk = make_souk(env=FAST)
    seller = cli_account(souk, "seller", "teacher@example.com")
    course = seller.create("Swift Course", publish=True, kind="content", category="Courses", price=4900)
    page = seller.session.put(souk.url(f"/api/v1/products/{course['id']}/pages/lesson-1"),
                              json={"title": "Lesson one", "body": "Hello **student** <script>alert(1)</script>"})
    assert page.status_code == 200, page.text
    uploaded = requests.post(souk.url(f"/api/v1/products/{course['id']}/files"), params={"filename": "notes.txt"},
                             data=b"course notes", headers={**seller.bearer, "Content-Type": "application/octet-stream"})
    assert uploaded.status_code == 201, uploaded.text
    buyer = api_account(souk, "buyer", "student@example.com")
    buy(souk, buyer, course["id"], "course-order-1")

    api_path = f"/api/v1/library/{course['id']}/pages/lesson-1"
    read = buyer.session.get(souk.url(api_path))
    assert read.status_code == 200, read.text
    conforms("GET", "/api/v1/library/{product_id}/pages/{slug}", read)
    assert read.json()["title"] == "Lesson one" and "<strong>student</strong>" in read.json()["body_html"]
    html = buyer.session.get(souk.url(f"/library/{course['id']}/pages/lesson-1"), headers={"Accept": "text/html"})
    assert html.status_code == 200 and "<strong>student</strong>" in html.text and "<script>alert" not in html.text
    assert seller.session.get(souk.url(api_path)).status_code == 200
    stranger = api_account(souk, "buyer", "stranger@example.com")
    hidden = stranger.session.get(souk.url(api_path))
    assert_problem(hidden, 404, "not_found")
    conforms("GET", "/api/v1/library/{product_id}/pages/{slug}", hidden)
    guest = requests.get(souk.url(f"/library/{course['id']}/pages/lesson-1"), headers={"Accept": "text/html"},
                         allow_redirects=False)
    assert guest.status_code == 303 and guest.headers["Location"].startswith("/signin?next=")

    # The library lists the page and a fresh link; one download shows up in the seller's log.
    entry = next(e for e in library_entries(souk, buyer) if e["product_id"] == course["id"])
    assert entry["pages"] == [{"slug": "lesson-1", "title": "Lesson one"}]
    downloaded = requests.get(entry["files"][0]["download_url"], headers={"User-Agent": "e2e/1.0"})
    assert downloaded.status_code == 200 and downloaded.content == b"course notes"
    log = seller.session.get(souk.url(f"/api/v1/products/{course['id']}/downloads"))
    assert log.status_code == 200, log.text
    conforms("GET", "/api/v1/products/{id}/downloads", log)
    assert [(d["file_name"], d["user_email"]) for d in log.json()["data"]] == [("notes.txt", "student@example.com")]
    conforms("GET", "/api/v1/products/{id}/downloads", stranger.session.get(souk.url(f"/api/v1/products/{course['id']}/downloads")))

    # The buyer was told the order is ready; marking it read answers the notification.
    deadline = time.time() + 15
    while not (listed := buyer.session.get(souk.url("/api/v1/notifications"))).json()["data"] and time.time() < deadline:
        time.sleep(0.1)
    conforms("GET", "/api/v1/notifications", listed)
    notification = listed.json()["data"][0]
    assert notification["read"] is False
    marked = buyer.session.post(souk.url(f"/api/v1/notifications/{notification['id']}/read"), json={})
    assert marked.status_code == 200 and marked.json()["read"] is True
    conforms("POST", "/api/v1/notifications/{id}/read", marked)
    conforms("POST", "/api/v1/notifications/{id}/read",
             stranger.session.post(souk.url(f"/api/v1/notifications/{notification['id']}/read"), json={}))
    conforms("GET", "/api/v1/notifications", buyer.session.get(souk.url("/api/v1/notifications"), params={"unread": "maybe"}))
