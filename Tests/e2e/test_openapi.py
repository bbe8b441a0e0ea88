"""The OpenAPI document at /api/v1/openapi.json is valid and matches what the server does.

(a) openapi-spec-validator accepts the served document, and it lists exactly the router's API routes;
(b) `schemathesis run --checks all` with every phase (examples, coverage, fuzzing, stateful, the
last chaining calls through the document's links) against a store with the demo catalog, once per
identity (anonymous, a buyer, a seller, an admin, each with a real personal access token), finds
nothing: every answer has a documented status, content type, headers and body schema, none is a
5xx, and schema-valid requests are accepted; (c) answers fuzzing cannot reach (413, 429, uploads,
refusals) are checked against the document directly.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import schemathesis
from openapi_spec_validator import validate

from conftest import Souk

DOCUMENT = Path(__file__).resolve().parents[2] / "Sources" / "SoukHTTP" / "Templates" / "openapi.json"

# Fuzzing must not be throttled: lift the sign-up, sign-in and per-IP request limits.
UNTHROTTLED = {
    "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "100000",
    "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "100000",
    "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
    "SOUK_LIMITS_LOGIN_FAILURES_PER_ACCOUNT": "0",
    # The live notification stream ends after a second, so a case that opens it gets its whole
    # answer (a client would reconnect).
    "SOUK_NOTIFICATIONS_STREAM_MAX_SECONDS": "1",
}

# Every check, every phase (examples, coverage, fuzzing, stateful); what it may meet is in this file.
SCHEMATHESIS_CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
IDENTITIES = ["anonymous", "buyer", "seller", "admin"]
# What each run reported, printed at the end of the session (conftest's terminal summary).
RUN_SUMMARIES: list[str] = []


@pytest.fixture(scope="module")
def live_souk(tmp_path_factory):
    """One server for the module (schemathesis runs every operation in one test)."""
    server = Souk(tmp_path_factory.mktemp("openapi"), UNTHROTTLED, None).start()
    yield server
    server.stop()


def test_served_document_is_valid_openapi_31(live_souk):
    response = requests.get(live_souk.url("/api/v1/openapi.json"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.1.")
    validate(document)  # raises on an invalid document
    # The binary serves the file in the repository (embedded at build time).
    assert document == json.loads(DOCUMENT.read_text()), "rebuild `souk`: the served document is stale"


# Routes that answer JSON (or a file by a signed address) belong to the API and its document; the
# rest render HTML for people and are covered by the access matrix (test_access_matrix.py).
API_PREFIXES = ("/api/", "/webhooks/", "/healthz", "/metrics")


def test_document_and_router_list_the_same_operations(live_souk):
    """`souk routes` is the router's own table: a route added without its operation in the
    document, or an operation documented but not served, fails here."""
    routes = json.loads(live_souk.cli("routes", "--json").stdout)
    served = {(r["method"], r["path"]) for r in routes if r["path"].startswith(API_PREFIXES)}
    document = requests.get(live_souk.url("/api/v1/openapi.json")).json()
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item
                  if method in {"get", "post", "put", "patch", "delete", "head", "options"}}
    assert served - documented == set(), "served but not in the OpenAPI document"
    assert documented - served == set(), "documented but the router has no such route"
    assert len(served) >= 55
    codes = set(document["components"]["schemas"]["Problem"]["properties"]["code"]["enum"])
    assert {"bad_request", "validation_failed", "unauthenticated", "invalid_credentials", "forbidden",
            "not_found", "conflict", "payload_too_large", "unsupported_media_type", "rate_limited"} <= codes


def identity_token(souk: Souk, identity: str) -> str | None:
    """A read-write personal access token of a new account with this role, holding something to
    work on: the buyer a paid order, the seller a published product with a file."""
    if identity == "anonymous":
        return None
    email = f"{identity}@example.com"
    souk.cli("user", "create", "--role", identity, "--email", email, input="fuzzing password\n")
    session = requests.Session()
    login = session.post(souk.url("/api/v1/auth/login"), json={"email": email, "password": "fuzzing password"})
    assert login.status_code == 200, login.text
    created = session.post(souk.url("/api/v1/tokens"), json={"name": "schemathesis"})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    if identity == "seller":
        product = session.post(souk.url("/api/v1/products"), json={
            "title": "Fuzzing Field Guide", "kind": "license", "category": "Books", "price": 1500}).json()
        upload = requests.post(souk.url(f"/api/v1/products/{product['id']}/files"), params={"filename": "guide.pdf"},
                               data=b"%PDF guide", headers={"Authorization": f"Bearer {token}",
                                                           "Content-Type": "application/octet-stream"})
        assert upload.status_code == 201, upload.text
        assert session.patch(souk.url(f"/api/v1/products/{product['id']}"), json={"status": "published"}).ok
    if identity == "buyer":
        from test_hardening_access import pay_with_test_provider
        listed = requests.get(souk.url("/api/v1/products"), params={"limit": 1}).json()["data"]
        pay_with_test_provider(souk, session, listed[0]["id"])
    return token


@pytest.fixture(scope="module")
def schemathesis_runs(tmp_path_factory):
    """The four identities' schemathesis runs, started together (each against its own store with
    the demo catalog) so they share the machine's cores: about a quarter of the wall time of
    running them one after another. Yields identity → (server, running process, its log)."""
    runs = {}
    try:
        for identity in IDENTITIES:
            souk = Souk(tmp_path_factory.mktemp(f"schemathesis-{identity}"),
                        {**UNTHROTTLED, "SOUK_STORE_MARKETPLACE": "true"}, None).start()
            souk.cli("demo", "seed", "--products", "40")
            token = identity_token(souk, identity)
            headers = ["-H", f"Authorization: Bearer {token}"] if token else []
            # Output to a file, not a pipe: a run nobody reads yet must not block on a full pipe.
            log = souk.workdir / "schemathesis.log"
            with open(log, "w") as output:
                process = subprocess.Popen(
                    [str(SCHEMATHESIS), "--config-file", str(SCHEMATHESIS_CONFIG), "run",
                     souk.url("/api/v1/openapi.json"), "--checks", "all",
                     "--phases", "examples,coverage,fuzzing,stateful", "--workers", "1", "--no-color", *headers],
                    stdout=output, stderr=subprocess.STDOUT)
            runs[identity] = (souk, process, log)
        yield runs
    finally:
        for souk, process, _ in runs.values():
            if process.poll() is None:
                process.kill()
            souk.stop()


@pytest.mark.parametrize("identity", IDENTITIES)
def test_schemathesis_finds_nothing(schemathesis_runs, identity):
    """`schemathesis run --checks all` with every phase against a store with the demo catalog, as one
    identity: 0 failures. The number of cases it ran is printed at the end of the session."""
    _, process, log = schemathesis_runs[identity]
    process.wait(timeout=900)
    output = log.read_text(errors="replace")
    cases = re.search(r"^\s*(\d+) generated.*$", output, re.MULTILINE)
    RUN_SUMMARIES.append(f"schemathesis as {identity}: {cases.group(0).strip() if cases else 'no case count'}")
    assert process.returncode == 0 and cases, f"schemathesis as {identity} (exit {process.returncode}):\n{output[-20000:]}"


def conforms(document_schema, method: str, path: str, response: requests.Response):
    """Asserts the status is documented for the operation and the answer matches its schema."""
    operation = document_schema[path][method]
    documented = operation.definition.raw["responses"]
    assert str(response.status_code) in documented, f"{method} {path} answered undocumented {response.status_code}"
    operation.validate_response(response)
    assert response.headers.get("X-Request-Id")


def test_refusals_schemathesis_does_not_reach_are_documented(make_souk):
    """413, 429 + Retry-After, 403 for a read-only token, 415 for a cookie POST, and 204 revocation."""
    document_schema = schemathesis.openapi.from_path(DOCUMENT)
    souk = make_souk(env={
        **UNTHROTTLED, "SOUK_LIMITS_MAX_JSON_BODY_KB": "1", "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "12",
    })
    session = souk.register("limits@example.com")

    too_big = session.post(souk.url("/api/v1/tokens"), json={"name": "x" * 4096})
    assert too_big.status_code == 413 and too_big.json()["code"] == "payload_too_large"
    conforms(document_schema, "POST", "/api/v1/tokens", too_big)

    not_json = session.post(souk.url("/api/v1/auth/logout"))  # cookie-authenticated API POST without JSON
    assert not_json.status_code == 415
    conforms(document_schema, "POST", "/api/v1/auth/logout", not_json)

    created = session.post(souk.url("/api/v1/tokens"), json={"name": "reader", "scopes": ["read"]})
    assert created.status_code == 201
    conforms(document_schema, "POST", "/api/v1/tokens", created)
    reader = {"Authorization": f"Bearer {created.json()['token']}"}
    refused = requests.post(souk.url("/api/v1/tokens"), json={"name": "more"}, headers=reader)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    conforms(document_schema, "POST", "/api/v1/tokens", refused)
    listed = requests.get(souk.url("/api/v1/tokens"), headers=reader)
    conforms(document_schema, "GET", "/api/v1/tokens", listed)
    assert [t.get("last_used_at") is not None for t in listed.json()["data"]] == [True]

    revoked = session.delete(souk.url(f"/api/v1/tokens/{created.json()['id']}"))
    assert revoked.status_code == 204
    conforms(document_schema, "DELETE", "/api/v1/tokens/{id}", revoked)
    gone = requests.get(souk.url("/api/v1/me"), headers=reader)
    assert gone.status_code == 401 and gone.json()["code"] == "unauthenticated"
    conforms(document_schema, "GET", "/api/v1/me", gone)

    for _ in range(20):
        limited = session.get(souk.url("/api/v1/me"))
        if limited.status_code == 429:
            break
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    conforms(document_schema, "GET", "/api/v1/me", limited)


def test_catalog_answers_match_the_document(make_souk):
    """Catalog answers fuzzing with made-up ids cannot reach: a published product, search hits with
    snippets, files, pages, categories, and the upload refusals (413, 403 for a pending seller)."""
    document_schema = schemathesis.openapi.from_path(DOCUMENT)
    souk = make_souk(env={**UNTHROTTLED, "SOUK_STORE_MARKETPLACE": "true", "SOUK_STORAGE_MAX_UPLOAD_MB": "1"})
    souk.cli("user", "create", "--role", "seller", "--email", "maker@example.com", input="maker password\n")
    seller = requests.Session()
    assert seller.post(souk.url("/api/v1/auth/login"),
                       json={"email": "maker@example.com", "password": "maker password"}).status_code == 200
    token = seller.post(souk.url("/api/v1/tokens"), json={"name": "up"}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}

    created = seller.post(souk.url("/api/v1/products"), json={
        "title": "Swift Course", "kind": "content", "category": "Courses", "price": 4900, "min_price": 1000,
        "tags": ["swift"], "stock": 3, "attributes": {"lessons": 12}, "description": "Learn *Swift*."})
    assert created.status_code == 201
    conforms(document_schema, "POST", "/api/v1/products", created)
    product_id = created.json()["id"]
    assert created.headers["Location"] == f"/api/v1/products/{product_id}"
    assert seller.get(souk.url(created.headers["Location"])).json()["id"] == product_id
    published = seller.patch(souk.url(f"/api/v1/products/{product_id}"), json={"status": "published", "stock": None})
    assert published.status_code == 200
    conforms(document_schema, "PATCH", "/api/v1/products/{id}", published)
    conforms(document_schema, "GET", "/api/v1/products/{id}", requests.get(souk.url(f"/api/v1/products/{product_id}")))

    hits = requests.get(souk.url("/api/v1/products"), params={"q": "swi", "limit": 1})
    assert hits.json()["data"][0]["snippet"]
    conforms(document_schema, "GET", "/api/v1/products", hits)
    bad_cursor = requests.get(souk.url("/api/v1/products"), params={"cursor": "made-up"})
    assert bad_cursor.status_code == 400 and bad_cursor.json()["field"] == "cursor"
    conforms(document_schema, "GET", "/api/v1/products", bad_cursor)
    categories = requests.get(souk.url("/api/v1/categories"))
    assert categories.json()["data"] == [{"name": "Courses", "count": 1}]
    conforms(document_schema, "GET", "/api/v1/categories", categories)

    page = seller.put(souk.url(f"/api/v1/products/{product_id}/pages/lesson-1"), json={"title": "One", "body": "Hi"})
    assert page.status_code == 200
    conforms(document_schema, "PUT", "/api/v1/products/{id}/pages/{slug}", page)
    conforms(document_schema, "GET", "/api/v1/products/{id}/pages",
             requests.get(souk.url(f"/api/v1/products/{product_id}/pages")))

    uploaded = requests.post(souk.url(f"/api/v1/products/{product_id}/files"), params={"filename": "a.txt"},
                             data=b"hello", headers={**bearer, "Content-Type": "application/octet-stream"})
    assert uploaded.status_code == 201
    conforms(document_schema, "POST", "/api/v1/products/{id}/files", uploaded)
    conforms(document_schema, "GET", "/api/v1/products/{id}/files",
             requests.get(souk.url(f"/api/v1/products/{product_id}/files")))
    too_big = requests.post(souk.url(f"/api/v1/products/{product_id}/files"), params={"filename": "b.bin"},
                            data=b"x" * (2 * 1024 * 1024), headers={**bearer, "Content-Type": "application/octet-stream"})
    assert too_big.status_code == 413
    conforms(document_schema, "POST", "/api/v1/products/{id}/files", too_big)
    cookie_upload = seller.post(souk.url(f"/api/v1/products/{product_id}/files"), params={"filename": "c.bin"},
                                data=b"x", headers={"Content-Type": "application/octet-stream"})
    assert cookie_upload.status_code == 415
    conforms(document_schema, "POST", "/api/v1/products/{id}/files", cookie_upload)

    pending = souk.register("pending@example.com", role="seller")
    refused = pending.post(souk.url("/api/v1/products"), json={"title": "T", "kind": "download", "category": "C", "price": 1})
    assert refused.status_code == 403
    conforms(document_schema, "POST", "/api/v1/products", refused)
    invalid = seller.post(souk.url("/api/v1/products"), json={"title": "T", "kind": "download", "category": "a/b", "price": 1})
    assert invalid.status_code == 422 and invalid.json()["field"] == "category"
    conforms(document_schema, "POST", "/api/v1/products", invalid)

    archived = seller.delete(souk.url(f"/api/v1/products/{product_id}"))
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    conforms(document_schema, "DELETE", "/api/v1/products/{id}", archived)
    gone = requests.get(souk.url(f"/api/v1/products/{product_id}"))
    assert gone.status_code == 404
    conforms(document_schema, "GET", "/api/v1/products/{id}", gone)
