"""The access matrix: every route the router holds (`souk routes`) asked by ten identities, against
the real binary, each answer compared with who may use it.

Identities: anonymous, a buyer who paid for the seller's product, another buyer, a pending seller, a
verified seller, another seller, a suspended seller, an admin, a disabled user (credentials taken
before `souk user disable`) and a read-only access token of the verified seller. API routes are
asked with each identity's bearer token, pages with its cookie session and a form's CSRF token.

An answer is *let in* unless it refuses the caller: 401, 403, 404, or a page's redirect to sign-in.
(Let in includes 400/409/422: the caller passed the access check and met a rule about the data.)
The table below says, per route, which of the first eight identities are let in; two follow rules:
- a disabled user's token is refused everywhere in the API (401, as RFC 6750 says of a revoked
  token, even on public routes); their dead cookie makes them anonymous on pages;
- a read-only token may do what its seller may with GET and HEAD, on the API and on pages (a
  browser never sends it, so no form can be forged with it), and nothing else: 403 on every write.
Rows marked `same` answer by a secret in the request (a sign-in link, a signed unsubscribe link, a
test-checkout session, a license key's instance), so every identity must get anonymous's answer.
A route with no row, or a row for a route that no longer exists, fails `test_every_route_has_a_row`.
"""
import json
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import requests

from shop_helpers import tiny_png, wait_status
from test_catalog_api import Account, api_account, cli_account
from test_hardening_access import STORE as HARDENING_STORE, pay_with_test_provider

STORE = {
    **HARDENING_STORE,
    "SOUK_WEBHOOKS_ALLOW_PRIVATE": "true",
    "SOUK_NOTIFICATIONS_STREAM_MAX_SECONDS": "1",
}

ANON, BUYER, OTHER_BUYER, PENDING, SELLER, OTHER_SELLER, SUSPENDED, ADMIN, DISABLED, READ_ONLY = (
    "anonymous", "buyer", "other buyer", "pending seller", "verified seller", "other seller",
    "suspended seller", "admin", "disabled user", "read-only token")
IDENTITIES = (ANON, BUYER, OTHER_BUYER, PENDING, SELLER, OTHER_SELLER, SUSPENDED, ADMIN, DISABLED, READ_ONLY)

EVERYONE = frozenset(IDENTITIES)
NOBODY = frozenset()
# Every active account.
SIGNED_IN = frozenset({BUYER, OTHER_BUYER, PENDING, SELLER, OTHER_SELLER, SUSPENDED, ADMIN})
# Who may act as a seller: verified sellers and admins (a solo store's owner sells as admin).
SELLERS = frozenset({SELLER, OTHER_SELLER, ADMIN})

@dataclass
class Row:
    """Who is let in, on which concrete address. `path` fills the pattern's parameters from the
    world (`{product}`, `{order}` …); `form`/`json` are the body. `same`: everyone gets the answer
    anonymous gets."""
    allowed: frozenset
    path: str | None = None
    form: dict = field(default_factory=dict)
    json: dict | None = None
    same: bool = False


def api(allowed, path=None, json=None):
    return Row(frozenset(allowed), path, json=json if json is not None else {})


def page(allowed, path=None, form=None):
    return Row(frozenset(allowed), path, form=form or {})


def same(path, form=None, json=None):
    return Row(NOBODY, path, form=form or {}, json=json, same=True)


def owner_and_admin(*owners):
    return frozenset(owners) | {ADMIN}


REVIEW = {"rating": 5, "title": "Lovely", "body": "Every moth, beautifully drawn."}

# The table: one row per route. Rows run in this order, and for each row the identities expected to
# be refused go first, so a route that changes something (archive, revoke, sign out) is changed only
# by those let in; the ones that end credentials come last.
ROUTES: dict[str, Row] = {
    # --- system and documents ---
    "GET /healthz": api(EVERYONE),
    "GET /metrics": api(EVERYONE),
    "GET /api/v1/openapi.json": api(EVERYONE),
    "GET /assets/souk.css": page(EVERYONE),
    "GET /assets/bell.js": page(EVERYONE),
    "GET /assets/upload.js": page(EVERYONE),
    "GET /assets/copy.js": page(EVERYONE),
    "GET /assets/local-time.js": page(EVERYONE),
    # --- accounts ---
    "POST /api/v1/auth/register": api(EVERYONE, json={"email": "not an address", "password": "x"}),
    "POST /api/v1/auth/login": api(EVERYONE, json={"email": "victim@example.com", "password": "correct horse"}),
    "GET /api/v1/me": api(SIGNED_IN),
    "GET /api/v1/tokens": api(SIGNED_IN),
    "POST /api/v1/tokens": api(SIGNED_IN, json={"name": ""}),
    "GET /signin": page(EVERYONE),
    "POST /signin": page(EVERYONE, form={"email": "", "password": ""}),
    "GET /signup": page(EVERYONE),
    "POST /signup": page(EVERYONE, form={"email": "not an address"}),
    "GET /account": page(SIGNED_IN),
    "POST /account/email": page(SIGNED_IN, form={"receipts": "on"}),
    "POST /account/tokens": page(SIGNED_IN, form={"name": ""}),
    "POST /account/name": page(SIGNED_IN, form={"name": ""}),
    "POST /account/password": page(SIGNED_IN, form={"password": "wrong password", "new_password": "short"}),
    "POST /account/email-address": page(SIGNED_IN, form={"email": "not an address"}),
    "GET /account/email/confirm/{token}": same("/account/email/confirm/made-up-link"),
    "POST /account/email/confirm/{token}": same("/account/email/confirm/made-up-link"),
    "GET /account/export": page(SIGNED_IN),
    # A wrong password deletes nothing (422); sellers and admins are told to ask the operator (409).
    "POST /account/delete": page(SIGNED_IN, form={"password": "wrong password"}),
    "GET /password/forgot": page(EVERYONE),
    "POST /password/forgot": page(EVERYONE, form={"email": "not an address"}),
    "GET /password/reset/{token}": same("/password/reset/made-up-link"),
    "POST /password/reset/{token}": same("/password/reset/made-up-link", form={"password": "new password 1"}),
    "POST /signin/link": page(EVERYONE, form={"email": "not an address"}),
    "GET /magic/{token}": same("/magic/made-up-link"),
    "POST /magic/{token}": same("/magic/made-up-link"),
    "GET /unsubscribe": same("/unsubscribe?u={victim_id}&t=order_paid&sig=bad"),
    "POST /unsubscribe": same("/unsubscribe?u={victim_id}&t=order_paid&sig=bad"),
    # --- catalog ---
    "GET /": page(EVERYONE),
    "GET /search": page(EVERYONE, "/search?q=atlas"),
    "GET /categories": page(EVERYONE, "/categories"),
    "GET /categories/{name}": page(EVERYONE, "/categories/Books"),
    "GET /products/{slug}": page(EVERYONE, "/products/{product_slug}"),
    "GET /sellers/{id}": page(EVERYONE, "/sellers/{seller_id}"),
    "GET /api/v1/products": api(EVERYONE),
    "GET /api/v1/categories": api(EVERYONE),
    "GET /api/v1/products/{id}": api(EVERYONE, "/api/v1/products/{product}"),
    "GET /api/v1/products/{id}/files": api(EVERYONE, "/api/v1/products/{product}/files"),
    "GET /api/v1/products/{id}/pages": api(EVERYONE, "/api/v1/products/{course}/pages"),
    "GET /api/v1/products/{id}/reviews": api(EVERYONE, "/api/v1/products/{product}/reviews"),
    "POST /api/v1/products": api(SELLERS, json={"title": ""}),
    # An admin changes a product's status only (moderation); its seller edits the rest.
    "PATCH /api/v1/products/{id}": api({SELLER}, "/api/v1/products/{product}", json={"title": "Moth Atlas"}),
    "POST /api/v1/products/{id}/files": api({SELLER}, "/api/v1/products/{product}/files"),
    "GET /api/v1/products/{id}/images": api(EVERYONE, "/api/v1/products/{product}/images"),
    "POST /api/v1/products/{id}/images": api({SELLER}, "/api/v1/products/{product}/images"),
    "DELETE /api/v1/products/{id}/images/{image}": api({SELLER}, "/api/v1/products/{product}/images/{image}"),
    "GET /images/{name}": page(EVERYONE, "/images/{image_file}"),
    "PUT /api/v1/products/{id}/pages/{slug}": api({SELLER}, "/api/v1/products/{course}/pages/intro",
                                                  json={"title": "Intro", "body": "Welcome, reader."}),
    "GET /api/v1/products/{id}/downloads": api(owner_and_admin(SELLER), "/api/v1/products/{product}/downloads"),
    # --- reviews ---
    "POST /api/v1/products/{id}/reviews": api({BUYER}, "/api/v1/products/{product}/reviews", json=REVIEW),
    "POST /products/{slug}/review": page({BUYER}, "/products/{product_slug}/review",
                                         form={k: str(v) for k, v in REVIEW.items()}),
    "POST /api/v1/products/{id}/reviews/{review_id}/reply": api(
        {SELLER}, "/api/v1/products/{product}/reviews/{review}/reply", json={"body": "Thank you!"}),
    "PATCH /api/v1/products/{id}/reviews/{review_id}": api(
        {ADMIN}, "/api/v1/products/{product}/reviews/{review}", json={"hidden": False}),
    # --- cart and checkout (a cart belongs to the browser, signed in or not) ---
    "GET /api/v1/cart": api(EVERYONE),
    "POST /api/v1/cart/items": api(EVERYONE, json={"product_id": "{spare_product}"}),
    "DELETE /api/v1/cart/items/{product_id}": api(EVERYONE, "/api/v1/cart/items/{spare_product}"),
    "POST /api/v1/checkout": api(EVERYONE, json={"provider": "nowhere"}),
    "GET /cart": page(EVERYONE),
    "POST /cart/items": page(EVERYONE, form={"product_id": "{spare_product}"}),
    "POST /cart/items/{product_id}/remove": page(EVERYONE, "/cart/items/{spare_product}/remove"),
    "GET /checkout": page(EVERYONE),
    "POST /checkout": page(EVERYONE, form={"provider": "nowhere"}),
    "GET /checkout/success": page(EVERYONE),
    "GET /checkout/cancel": page(EVERYONE),
    "GET /test-checkout/{session}": same("/test-checkout/tcs_made_up"),
    "POST /test-checkout/{session}/{choice}": same("/test-checkout/tcs_made_up/pay"),
    "POST /webhooks/{provider}": api(EVERYONE, "/webhooks/test", json={}),
    # --- orders and messages ---
    # A seller's order list is their sales: a pending or suspended seller has none to see.
    "GET /api/v1/orders": api(SIGNED_IN - {PENDING, SUSPENDED}),
    "GET /api/v1/orders/{id}": api(owner_and_admin(BUYER, SELLER), "/api/v1/orders/{order}"),
    "GET /api/v1/orders/{id}/messages": api(owner_and_admin(BUYER, SELLER), "/api/v1/orders/{order}/messages"),
    "POST /api/v1/orders/{id}/messages": api({BUYER, SELLER}, "/api/v1/orders/{order}/messages",
                                             json={"body": "Is there a print edition?"}),
    "GET /orders": page(SIGNED_IN),
    "GET /orders/{id}": page(owner_and_admin(BUYER, SELLER), "/orders/{order}"),
    # Only the order's buyer (or a holder of its view key) tries a payment again; the paid order
    # answers 409 to them.
    "POST /orders/{id}/retry": page({BUYER}, "/orders/{order}/retry"),
    "POST /orders/{id}/messages": page({BUYER, SELLER}, "/orders/{order}/messages",
                                      form={"body": "Is there a print edition?"}),
    # --- library, downloads, licenses ---
    "GET /api/v1/library": api(SIGNED_IN),
    # A private page: its buyers, its seller and admins.
    "GET /api/v1/library/{product_id}/pages/{slug}": api(owner_and_admin(BUYER, SELLER),
                                                         "/api/v1/library/{course}/pages/intro"),
    "GET /library": page(SIGNED_IN),
    "GET /library/{product_id}/pages/{slug}": page(owner_and_admin(BUYER, SELLER), "/library/{course}/pages/intro"),
    # A signed download link is the credential: whoever holds it downloads.
    "GET /download/{grant}/{file}": page(EVERYONE, "{download}"),
    "HEAD /download/{grant}/{file}": page(EVERYONE, "{download}"),
    "POST /api/v1/licenses/activate": api(EVERYONE, json={"license_key": "{license}", "instance_name": "laptop"}),
    "POST /api/v1/licenses/validate": api(EVERYONE, json={"license_key": "{license}"}),
    "POST /api/v1/licenses/deactivate": same(None, json={"license_key": "{license}", "instance_id": "ins_made_up"}),
    # --- notifications ---
    "GET /api/v1/notifications": api(SIGNED_IN),
    "GET /api/v1/notifications/stream": api(SIGNED_IN),
    "GET /notifications": page(SIGNED_IN),
    # --- seller's dashboard: a seller's own workspace (an admin's holds the admin's own products) ---
    "GET /dashboard": page(SELLERS),
    "GET /dashboard/new": page(SELLERS),
    "POST /dashboard/products": page(SELLERS, form={"title": ""}),
    "POST /dashboard/page-address": page(SELLERS, form={"address": "no spaces allowed"}),
    "GET /dashboard/products/{id}": page({SELLER}, "/dashboard/products/{product}"),
    "POST /dashboard/products/{id}": page({SELLER}, "/dashboard/products/{product}", form={"title": ""}),
    "POST /dashboard/products/{id}/files": page({SELLER}, "/dashboard/products/{product}/files"),
    "POST /dashboard/products/{id}/images": page({SELLER}, "/dashboard/products/{product}/images"),
    "POST /dashboard/products/{id}/images/{image}/delete": page(
        {SELLER}, "/dashboard/products/{product}/images/{image2}/delete"),
    "POST /dashboard/products/{id}/pages": page({SELLER}, "/dashboard/products/{course}/pages", form={"slug": ""}),
    "POST /dashboard/products/{id}/status": page({SELLER}, "/dashboard/products/{product}/status",
                                                 form={"status": "nonsense"}),
    # Its download log and licenses: also the operator's, to help a buyer.
    "GET /dashboard/products/{id}/downloads": page(owner_and_admin(SELLER), "/dashboard/products/{product}/downloads"),
    "GET /dashboard/products/{id}/licenses": page(owner_and_admin(SELLER), "/dashboard/products/{product}/licenses"),
    "GET /dashboard/sales": page(SELLERS),
    "GET /dashboard/customers": page(SELLERS),
    "GET /dashboard/mail": page(SELLERS),
    "GET /dashboard/mail/{kind}": page(SELLERS, path="/dashboard/mail/refund"),
    "GET /dashboard/export": page(SELLERS),
    "GET /dashboard/export/{file}": page(SELLERS, "/dashboard/export/orders.csv"),
    "GET /dashboard/webhooks": page(SELLERS),
    "POST /dashboard/webhooks": page(SELLERS, form={"url": "not a url"}),
    # A seller's endpoints: theirs, and the operator's (who disables one that misbehaves).
    "GET /dashboard/webhooks/{id}": page(owner_and_admin(SELLER), "/dashboard/webhooks/{endpoint}"),
    "GET /api/v1/webhook-endpoints": api(SELLERS),
    "POST /api/v1/webhook-endpoints": api(SELLERS, json={"url": "not a url"}),
    "GET /api/v1/webhook-endpoints/{id}": api(owner_and_admin(SELLER), "/api/v1/webhook-endpoints/{endpoint}"),
    "PATCH /api/v1/webhook-endpoints/{id}": api(owner_and_admin(SELLER), "/api/v1/webhook-endpoints/{endpoint}",
                                                json={"url": "not a url"}),
    "GET /api/v1/webhook-endpoints/{id}/deliveries": api(owner_and_admin(SELLER),
                                                         "/api/v1/webhook-endpoints/{endpoint}/deliveries"),
    # --- the operator's pages ---
    "GET /admin": page({ADMIN}),
    "GET /admin/users": page({ADMIN}),
    "GET /admin/sellers": page({ADMIN}),
    "GET /admin/reviews": page({ADMIN}),
    "GET /admin/orders": page({ADMIN}),
    "GET /admin/jobs": page({ADMIN}),
    "GET /admin/webhooks": page({ADMIN}),
    "POST /admin/users/{id}/disabled": page({ADMIN}, "/admin/users/{victim_id}/disabled", form={"disabled": "maybe"}),
    "POST /admin/sellers/{id}/status": page({ADMIN}, "/admin/sellers/{pending_id}/status", form={"status": "nonsense"}),
    "POST /admin/reviews/{id}/hidden": page({ADMIN}, "/admin/reviews/{review}/hidden", form={"hidden": "maybe"}),
    "POST /admin/orders/{id}/refund": page({ADMIN}, "/admin/orders/{order}/refund", form={"amount": "-1"}),
    "POST /admin/jobs/{id}/retry": page({ADMIN}, "/admin/jobs/{job}/retry"),
    "POST /dashboard/sales/{id}/refund": page(owner_and_admin(SELLER), "/dashboard/sales/{order}/refund",
                                              form={"amount": "-1"}),
    "POST /api/v1/orders/{id}/refund": api(owner_and_admin(SELLER), "/api/v1/orders/{order}/refund",
                                           json={"amount": -1}),
    # --- routes that change something when let in ---
    "POST /api/v1/notifications/{id}/read": api({BUYER}, "/api/v1/notifications/{notification}/read"),
    "POST /notifications/{id}/read": page({BUYER}, "/notifications/{notification}/read"),
    "POST /api/v1/licenses/{key}/disable": api(owner_and_admin(SELLER), "/api/v1/licenses/{license}/disable"),
    "POST /api/v1/licenses/{key}/enable": api(owner_and_admin(SELLER), "/api/v1/licenses/{license}/enable"),
    "POST /dashboard/products/{id}/licenses/{key}/disable": page(
        owner_and_admin(SELLER), "/dashboard/products/{product}/licenses/{license}/disable"),
    "POST /dashboard/products/{id}/licenses/{key}/enable": page(
        owner_and_admin(SELLER), "/dashboard/products/{product}/licenses/{license}/enable"),
    "DELETE /api/v1/library/licenses/{key}/activations/{id}": api(
        {BUYER}, "/api/v1/library/licenses/{license}/activations/{activation}"),
    "POST /library/licenses/{key}/activations/{id}/deactivate": page(
        {BUYER}, "/library/licenses/{license}/activations/{activation2}/deactivate"),
    "POST /api/v1/webhook-endpoints/{id}/test": api(owner_and_admin(SELLER), "/api/v1/webhook-endpoints/{endpoint}/test"),
    "POST /api/v1/webhook-endpoints/{id}/messages/{msg_id}/resend": api(
        owner_and_admin(SELLER), "/api/v1/webhook-endpoints/{endpoint}/messages/{message}/resend"),
    "POST /api/v1/webhook-endpoints/{id}/rotate-secret": api(owner_and_admin(SELLER),
                                                             "/api/v1/webhook-endpoints/{endpoint}/rotate-secret"),
    "POST /dashboard/webhooks/{id}/test": page(owner_and_admin(SELLER), "/dashboard/webhooks/{endpoint}/test"),
    "POST /dashboard/webhooks/{id}/messages/{msg_id}/resend": page(
        owner_and_admin(SELLER), "/dashboard/webhooks/{endpoint}/messages/{message}/resend"),
    "POST /dashboard/webhooks/{id}/rotate": page(owner_and_admin(SELLER), "/dashboard/webhooks/{endpoint}/rotate"),
    "POST /dashboard/webhooks/{id}/disable": page(owner_and_admin(SELLER), "/dashboard/webhooks/{endpoint}/disable"),
    "POST /dashboard/webhooks/{id}/enable": page(owner_and_admin(SELLER), "/dashboard/webhooks/{endpoint}/enable"),
    # Deleting: each caller let in deletes an endpoint of its own choosing (the seller's first, then one
    # for the admin), so the second is not refused for asking after the first.
    "POST /dashboard/webhooks/{id}/delete": page(owner_and_admin(SELLER), "/dashboard/webhooks/{doomed_endpoint}/delete"),
    "DELETE /api/v1/webhook-endpoints/{id}": api(owner_and_admin(SELLER), "/api/v1/webhook-endpoints/{doomed_endpoint2}"),
    "DELETE /api/v1/products/{id}": api(owner_and_admin(SELLER), "/api/v1/products/{doomed_product}"),
    "DELETE /api/v1/tokens/{id}": api({BUYER}, "/api/v1/tokens/{spare_token}"),
    "POST /account/tokens/{id}/delete": page({BUYER}, "/account/tokens/{spare_token2}/delete"),
    # Ending credentials, last: the API's session logout, every session, then this browser's.
    "POST /api/v1/auth/logout": api(SIGNED_IN),
    "POST /account/signout-everywhere": page(SIGNED_IN),
    "POST /signout": page(EVERYONE),
}


# --- the world the table is asked in -----------------------------------------------------------------

@dataclass
class Caller:
    """How an identity asks: its bearer token for the API, its cookie session for pages."""
    name: str
    bearer: dict
    session: requests.Session


class World:
    def __init__(self, souk):
        self.souk = souk
        admin = cli_account(souk, "admin", "admin@example.com")
        seller = cli_account(souk, "seller", "seller@example.com")
        other_seller = cli_account(souk, "seller", "rival@example.com")
        suspended = cli_account(souk, "seller", "suspended@example.com")
        pending = api_account(souk, "seller", "pending@example.com")
        buyer = api_account(souk, "buyer", "buyer@example.com")
        other_buyer = api_account(souk, "buyer", "other@example.com")
        disabled = api_account(souk, "buyer", "disabled@example.com")
        victim = api_account(souk, "buyer", "victim@example.com")

        # The seller's licensed product with a file and a private page, bought by the buyer.
        product = seller.create("Moth Atlas", publish=True, kind="license", category="Books")
        upload = requests.post(souk.url(f"/api/v1/products/{product['id']}/files"), params={"filename": "atlas.pdf"},
                               data=b"%PDF moths", headers={**seller.bearer, "Content-Type": "application/octet-stream"})
        assert upload.status_code == 201, upload.text
        images = []
        for colour in ((200, 40, 40), (40, 40, 200)):
            made = requests.post(souk.url(f"/api/v1/products/{product['id']}/images"), data=tiny_png(8, 6, colour),
                                 headers={**seller.bearer, "Content-Type": "image/png"})
            assert made.status_code == 201, made.text
            images.append(made.json())
        course = seller.create("Moth Course", publish=True, kind="content", category="Courses")
        page_put = seller.session.put(souk.url(f"/api/v1/products/{course['id']}/pages/intro"),
                                      json={"title": "Intro", "body": "Welcome, reader."})
        assert page_put.status_code == 200, page_put.text
        spare_product = seller.create("Spare Atlas", publish=True)
        doomed_products = [seller.create(f"Doomed Atlas {n}", publish=True)["id"] for n in (1, 2)]
        rival_product = other_seller.create("Beetle Atlas", publish=True)
        suspended.create("Suspended Atlas", publish=True)
        souk.cli("seller", "suspend", "suspended@example.com", "--reason", "Chargebacks")

        order = pay_with_test_provider(souk, buyer.session, product["id"])
        wait_status(souk, buyer.session, order, {"fulfilled", "completed"})
        course_order = pay_with_test_provider(souk, buyer.session, course["id"])
        wait_status(souk, buyer.session, course_order, {"fulfilled", "completed"})
        other_order = pay_with_test_provider(souk, other_buyer.session, rival_product["id"])
        wait_status(souk, other_buyer.session, other_order, {"paid", "fulfilled", "completed"})

        library = buyer.session.get(souk.url("/api/v1/library")).json()["data"]
        owned = next(item for item in library if item["product_id"] == product["id"])
        download = urlsplit(owned["files"][0]["download_url"])
        license_key = owned["license_keys"][0]["key"]
        activations = []
        for machine in ("laptop", "desktop"):
            activated = requests.post(souk.url("/api/v1/licenses/activate"),
                                      json={"license_key": license_key, "instance_name": machine})
            assert activated.status_code == 200, activated.text
            activations.append(activated.json()["instance"]["id"])
        reviewed = buyer.session.post(souk.url(f"/api/v1/products/{product['id']}/reviews"),
                                      json={"rating": 5, "body": "Every moth, beautifully drawn."})
        assert reviewed.status_code == 201, reviewed.text
        notification = buyer.session.get(souk.url("/api/v1/notifications")).json()["data"][0]["id"]

        endpoints = []
        for _ in range(5):
            made = seller.session.post(souk.url("/api/v1/webhook-endpoints"),
                                       json={"url": "http://127.0.0.1:9/hooks", "events": ["order.paid"]})
            assert made.status_code == 201, made.text
            endpoints.append(made.json()["id"])
        test_event = seller.session.post(souk.url(f"/api/v1/webhook-endpoints/{endpoints[0]}/test"), json={})
        assert test_event.status_code in (200, 202), test_event.text
        spare_tokens = [buyer.session.post(souk.url("/api/v1/tokens"), json={"name": f"spare {n}"}).json()["id"]
                        for n in (1, 2)]
        read_only = seller.session.post(souk.url("/api/v1/tokens"), json={"name": "reader", "scopes": ["read"]})
        assert read_only.status_code == 201, read_only.text
        jobs = json.loads(souk.cli("jobs", "list", "--json").stdout)

        self.values = {
            "product": product["id"], "course": course["id"], "product_slug": product["slug"], "seller_id": seller.id,
            "spare_product": spare_product["id"], "order": order,
            "doomed_product": {SELLER: doomed_products[0], ADMIN: doomed_products[1], "*": doomed_products[0]}, "review": reviewed.json()["id"],
            "download": f"{download.path}?{download.query}", "license": license_key,
            "activation": activations[0], "activation2": activations[1], "notification": notification,
            "endpoint": endpoints[0],
            "doomed_endpoint": {SELLER: endpoints[1], ADMIN: endpoints[2], "*": endpoints[1]},
            "doomed_endpoint2": {SELLER: endpoints[3], ADMIN: endpoints[4], "*": endpoints[3]},
            "message": test_event.json()["message_id"], "spare_token": spare_tokens[0],
            "spare_token2": spare_tokens[1], "victim_id": victim.id, "pending_id": pending.id,
            "job": jobs[0]["id"], "image": images[0]["id"], "image2": images[1]["id"],
            "image_file": images[0]["url"].rsplit("/", 1)[1],
        }
        souk.cli("user", "disable", "disabled@example.com")

        def caller(name, account: Account | None):
            if account is None:
                return Caller(name, {}, requests.Session())
            return Caller(name, account.bearer, account.session)

        self.callers = {
            ANON: caller(ANON, None), BUYER: caller(BUYER, buyer), OTHER_BUYER: caller(OTHER_BUYER, other_buyer),
            PENDING: caller(PENDING, pending), SELLER: caller(SELLER, seller),
            OTHER_SELLER: caller(OTHER_SELLER, other_seller), SUSPENDED: caller(SUSPENDED, suspended),
            ADMIN: caller(ADMIN, admin), DISABLED: caller(DISABLED, disabled),
            # Tokens authenticate the API only: on pages, this caller is a browser without a session.
            READ_ONLY: Caller(READ_ONLY, {"Authorization": f"Bearer {read_only.json()['token']}"}, requests.Session()),
        }

    def fill(self, template, caller: str):
        """`template` (a path, a form or a JSON body) with the world's values for this caller."""
        values = {key: value.get(caller, value["*"]) if isinstance(value, dict) else value
                  for key, value in self.values.items()}
        if isinstance(template, str):
            return template.format(**values)
        if isinstance(template, dict):
            return {key: self.fill(value, caller) for key, value in template.items()}
        return template

    def ask(self, caller: Caller, method: str, pattern: str, row: Row) -> requests.Response:
        url = self.souk.url(self.fill(row.path or pattern, caller.name))
        if not is_page(pattern):
            body = None if method in ("GET", "HEAD", "DELETE") else self.fill(row.json or {}, caller.name)
            return requests.request(method, url, json=body, headers=caller.bearer, allow_redirects=False, timeout=30)
        session = caller.session
        headers = caller.bearer if caller.name == READ_ONLY else {}
        if method in ("GET", "HEAD"):
            return session.request(method, url, headers=headers, allow_redirects=False, timeout=30)
        form = {**self.fill(row.form, caller.name), "_csrf": self.csrf(session, headers)}
        return session.post(url, data=form, headers=headers, allow_redirects=False, timeout=30)

    def csrf(self, session: requests.Session, headers: dict) -> str:
        """The form token a browser with this session has: on the sign-in form when signed out,
        in every page's header (the sign-out form) when signed in. None for a caller no page
        answers (a revoked token): its post goes without one, and a refusal is what it expects."""
        for path in ("/signin", "/cart"):
            if match := CSRF_RE.search(session.get(self.souk.url(path), headers=headers).text):
                return match.group(1)
        return ""


def html_pages(world, identities, signed_in_as):
    """Every GET route of the router (`souk routes`) that answers an identity with HTML, filled
    from the world: yields (identity, pattern, address, answer) for each identity in turn, after
    calling signed_in_as(session) so a browser can take that identity's cookies."""
    routes = [f"{r['method']} {r['path']}" for r in json.loads(world.souk.cli("routes", "--json").stdout)]
    pages = [route.split(" ", 1)[1] for route in routes if route.startswith("GET ") and is_page(route.split(" ", 1)[1])]
    for identity in identities:
        caller = world.callers[identity]
        signed_in_as(caller.session)
        for pattern in pages:
            address = world.fill(ROUTES[f"GET {pattern}"].path or pattern, identity)
            answer = caller.session.get(world.souk.url(address), allow_redirects=False)
            if answer.headers.get("Content-Type", "").startswith("text/html"):
                yield identity, pattern, address, answer


CSRF_RE = re.compile(r'name="_csrf" value="([^"]+)"')


def expected_let_in(name: str, method: str, pattern: str, row: Row) -> bool:
    if name == DISABLED:
        return is_page(pattern) and ANON in row.allowed
    if name == READ_ONLY:
        return method in ("GET", "HEAD") and SELLER in row.allowed
    return name in row.allowed


def observed_names(observed: dict, route: str) -> set:
    return {name for (asked, name) in observed if asked == route}


def is_page(pattern: str) -> bool:
    return not pattern.startswith(("/api/", "/webhooks/", "/healthz", "/metrics"))


def let_in(response: requests.Response) -> bool:
    """False when the answer refuses the caller: 401, 403, 404, or a redirect to sign in first
    (`/signin?next=…`; not the sign-in page a sign-out ends on)."""
    if response.status_code in (401, 403, 404):
        return False
    location = urlsplit(response.headers.get("Location", ""))
    return not (response.status_code in (302, 303) and location.path == "/signin" and "next=" in location.query)


# --- the tests ---------------------------------------------------------------------------------------

def test_every_route_has_a_row(souk):
    routes = {f"{r['method']} {r['path']}" for r in json.loads(souk.cli("routes", "--json").stdout)}
    assert routes - ROUTES.keys() == set(), "routes with no row in the access matrix: add one"
    assert ROUTES.keys() - routes == set(), "rows for routes the router no longer has: remove them"


def test_access_matrix(make_souk):
    souk = make_souk(env=STORE)
    world = World(souk)
    wrong = []
    observed = {}
    for route, row in ROUTES.items():
        method, pattern = route.split(" ", 1)
        # Refusals first: a route that changes something is changed only by those let in.
        expected = {name: expected_let_in(name, method, pattern, row) for name in IDENTITIES}
        for name in sorted(IDENTITIES, key=lambda n: expected[n]):
            response = world.ask(world.callers[name], method, pattern, row)
            assert response.status_code < 500, f"{route} as {name}: {response.status_code} {response.text[:300]}"
            observed[(route, name)] = response.status_code
            seen = f"{response.status_code} ({response.headers.get('Location') or response.text[:120]!r})"
            if row.same and not (name == DISABLED and not is_page(pattern)) and \
                    not (name == READ_ONLY and method not in ("GET", "HEAD")):
                if ANON in observed_names(observed, route) and response.status_code != observed[(route, ANON)]:
                    wrong.append(f"{route} as {name}: {seen}, anonymous got {observed[(route, ANON)]}")
            elif let_in(response) != expected[name]:
                wrong.append(f"{route} as {name}: {'let in' if let_in(response) else 'refused'} with {seen},"
                             f" expected {'let in' if expected[name] else 'refused'}")
    assert not wrong, f"{len(wrong)} of {len(observed)} answers differ from the matrix:\n" + "\n".join(wrong)


def test_sign_in_returns_to_the_page_that_asked_for_it(souk):
    """A page that needs an account sends a visitor to sign in with `next`, and signing in goes back."""
    souk.cli("user", "create", "--role", "admin", "--email", "owner@example.com", input="owner password 1\n")
    browser = requests.Session()
    asked = browser.get(souk.url("/dashboard/new"), allow_redirects=False)
    assert asked.status_code == 303 and asked.headers["Location"] == "/signin?next=%2Fdashboard%2Fnew"
    form = browser.get(souk.url(asked.headers["Location"]))
    signed_in = browser.post(souk.url("/signin"), allow_redirects=False, data={
        "email": "owner@example.com", "password": "owner password 1", "next": "/dashboard/new",
        "_csrf": CSRF_RE.search(form.text).group(1)})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/dashboard/new"
    assert "next" in form.text and 'value="/dashboard/new"' in form.text
