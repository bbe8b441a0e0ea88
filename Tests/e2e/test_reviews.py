"""Reviews and ratings (issue 12, first part), against the real binary: only a buyer who paid may
review; a second review replaces the first; the product's average moves at once, in search too
(`min_rating`, `sort=rating`, with both search engines); a full refund made by the operator's CLI
withdraws the buyer's rating and their right to review.
"""
import pytest
import requests
import schemathesis

from conftest import assert_problem
from shop_helpers import wait_status
from test_catalog_api import api_account, cli_account
from test_hardening_access import pay_with_test_provider
from test_openapi import DOCUMENT, conforms

STORE = {
    "SOUK_STORE_MARKETPLACE": "true",
    "SOUK_JOBS_POLL_MILLISECONDS": "50",
    "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "0",
    "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "0",
    "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
}
NOT_BOUGHT = "Only buyers who bought this product may review it."
PAID_UP = {"paid", "fulfilled", "completed"}


def buy(souk, account, product_id: str) -> str:
    """Pays on the test provider's page and waits for the payment to be recorded (the grant)."""
    order_id = pay_with_test_provider(souk, account.session, product_id)
    wait_status(souk, account.session, order_id, PAID_UP)
    return order_id


def titles(souk, **params) -> list[str]:
    response = souk_get(souk, "/api/v1/products", params)
    assert response.status_code == 200, response.text
    return [p["title"] for p in response.json()["data"]]


def souk_get(souk, path, params=None):
    return requests.get(souk.url(path), params=params)


def product(souk, product_id: str) -> dict:
    response = souk_get(souk, f"/api/v1/products/{product_id}")
    assert response.status_code == 200, response.text
    return response.json()


def review(souk, account, product_id: str, **body):
    return account.session.post(souk.url(f"/api/v1/products/{product_id}/reviews"), json=body)


@pytest.mark.parametrize("engine", ["memory", "fts5"])
def test_buyers_review_replace_and_lose_their_rating_on_a_full_refund(make_souk, engine):
    souk = make_souk(env={**STORE, "SOUK_SEARCH_ENGINE": engine})
    seller = api_account(souk, "seller", "maker@example.com")
    souk.cli("seller", "verify", "maker@example.com")
    atlas = seller.create("Moth Atlas", publish=True, price=1500)
    rival = seller.create("Beetle Atlas", publish=True, price=1500)
    # Search has answered before any review: the changes must reach an index already built.
    assert titles(souk, min_rating=4) == []
    assert titles(souk, sort="rating")[:2] in (["Beetle Atlas", "Moth Atlas"], ["Moth Atlas", "Beetle Atlas"])

    # No paid order: 403 with the reason; signed out: 401; unknown product: 404.
    buyer = api_account(souk, "buyer", "reader@example.com")
    refused = review(souk, buyer, atlas["id"], rating=5, body="Lovely plates")
    assert_problem(refused, 403, "forbidden")
    assert refused.json()["detail"] == NOT_BOUGHT
    anonymous = requests.post(souk.url(f"/api/v1/products/{atlas['id']}/reviews"), json={"rating": 5, "body": "x"})
    assert_problem(anonymous, 401, "unauthenticated")
    assert_problem(review(souk, buyer, "prod_unknown", rating=5, body="x"), 404, "not_found")
    assert_problem(review(souk, seller, atlas["id"], rating=5, body="Mine is great"), 403, "forbidden")

    # Paid through the test provider: the review is created.
    order_id = buy(souk, buyer, atlas["id"])
    assert_problem(review(souk, buyer, atlas["id"], rating=9, body="x"), 422, "validation_failed")
    created = review(souk, buyer, atlas["id"], rating=2, title="Thin", body="Only *two* plates")
    assert created.status_code == 201, created.text
    first = created.json()
    document = schemathesis.openapi.from_path(DOCUMENT)
    reviews_path = "/api/v1/products/{id}/reviews"
    conforms(document, "POST", reviews_path, created)
    conforms(document, "POST", reviews_path, refused)
    assert first["id"].startswith("rev_") and first["rating"] == 2 and first["title"] == "Thin"
    assert "<em>two</em>" in first["body_html"]
    assert product(souk, atlas["id"])["rating_average"] == 2
    assert product(souk, atlas["id"])["rating_count"] == 1

    # A second review replaces the first: one review, the new rating, the same id.
    replaced = review(souk, buyer, atlas["id"], rating=5, body="The plates grew on me")
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["id"] == first["id"] and replaced.json()["rating"] == 5
    conforms(document, "POST", reviews_path, replaced)
    listing = souk_get(souk, f"/api/v1/products/{atlas['id']}/reviews")
    conforms(document, "GET", reviews_path, listing)
    listed = listing.json()
    assert [r["rating"] for r in listed["data"]] == [5]
    assert listed["rating_summary"] == {"average": 5, "count": 1, "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}}
    assert listed["next_cursor"] is None

    # The average changed, and search sees it at once.
    assert product(souk, atlas["id"])["rating_average"] == 5
    assert titles(souk, min_rating=4) == ["Moth Atlas"]
    assert titles(souk, min_rating=4.5, q="atlas") == ["Moth Atlas"]
    assert titles(souk, sort="rating")[0] == "Moth Atlas"

    # A second buyer's 3 stars: the average is 4.
    other = api_account(souk, "buyer", "other@example.com")
    buy(souk, other, atlas["id"])
    fine = review(souk, other, atlas["id"], rating=3, body="Fine")
    assert fine.status_code == 201, fine.text
    fine = fine.json()
    assert product(souk, atlas["id"])["rating_average"] == 4
    assert product(souk, atlas["id"])["rating_count"] == 2
    assert titles(souk, min_rating=4.5) == []

    # The seller replies; a second reply edits the one reply; the reply is part of the review and
    # its author hears of it once.
    reply_path = f"/api/v1/products/{atlas['id']}/reviews/{first['id']}/reply"
    replied = seller.session.post(souk.url(reply_path), json={"body": "Thank you!"})
    assert replied.status_code == 201, replied.text
    assert replied.json()["seller_reply"] == "Thank you!"
    conforms(document, "POST", "/api/v1/products/{id}/reviews/{review_id}/reply", replied)
    edited = seller.session.post(souk.url(reply_path), json={"body": "Thank you! Fixed in 1.1."})
    assert edited.status_code == 200, edited.text
    assert edited.json()["seller_reply"] == "Thank you! Fixed in 1.1."
    conforms(document, "POST", "/api/v1/products/{id}/reviews/{review_id}/reply", edited)
    assert_problem(other.session.post(souk.url(reply_path), json={"body": "Me?"}), 403, "forbidden")

    # An admin hides the second buyer's review: it stops counting at once, then counts again.
    admin = cli_account(souk, "admin")
    moderate_path = f"/api/v1/products/{atlas['id']}/reviews/{fine['id']}"
    hidden = admin.session.patch(souk.url(moderate_path), json={"hidden": True})
    assert hidden.status_code == 200, hidden.text
    conforms(document, "PATCH", "/api/v1/products/{id}/reviews/{review_id}", hidden)
    assert product(souk, atlas["id"])["rating_average"] == 5
    assert titles(souk, min_rating=4.5) == ["Moth Atlas"]
    assert_problem(seller.session.patch(souk.url(moderate_path), json={"hidden": False}), 403, "forbidden")
    assert admin.session.patch(souk.url(moderate_path), json={"hidden": False}).status_code == 200
    assert product(souk, atlas["id"])["rating_average"] == 4
    assert titles(souk, min_rating=4.5) == []

    # The product page shows the rating and the reviews.
    page = souk_get(souk, f"/products/{atlas['slug']}")
    assert page.status_code == 200
    assert "4.0 / 5 (2 ratings)" in page.text
    assert "The plates grew on me" in page.text
    assert "Thank you!" in page.text

    # The operator refunds the first buyer in full from the CLI: their 5 stars stop counting.
    souk.cli("order", "refund", order_id)
    wait_status(souk, buyer.session, order_id, {"refunded"})
    assert product(souk, atlas["id"])["rating_average"] == 3
    assert product(souk, atlas["id"])["rating_count"] == 1
    assert titles(souk, min_rating=4) == []
    assert titles(souk, min_rating=3) == ["Moth Atlas"]
    listed = souk_get(souk, f"/api/v1/products/{atlas['id']}/reviews").json()
    assert [r["body"] for r in listed["data"]] == ["Fine"]
    assert listed["rating_summary"]["count"] == 1
    assert "The plates grew on me" not in souk_get(souk, f"/products/{atlas['slug']}").text

    # And they may no longer review it.
    again = review(souk, buyer, atlas["id"], rating=1, body="Refunded anyway")
    assert_problem(again, 403, "forbidden")
    assert again.json()["detail"] == NOT_BOUGHT
    assert product(souk, atlas["id"])["rating_average"] == 3
    assert product(souk, rival["id"])["rating_count"] == 0
