"""Malformed input gets a problem+json answer and never takes the server down."""
import requests

from conftest import assert_problem

REGISTER = "/api/v1/auth/register"


def assert_still_healthy(souk):
    health = requests.get(souk.url("/healthz"), timeout=5)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"


def test_malformed_json_is_400(souk):
    response = requests.post(souk.url(REGISTER), data=b'{"email": "a@example.com", "password": ',
                             headers={"Content-Type": "application/json"})
    body = assert_problem(response, 400)
    assert body["request_id"]
    assert body["instance"]
    assert_still_healthy(souk)


def test_wrong_json_type_is_400(souk):
    response = requests.post(souk.url(REGISTER), json=["not", "an", "object"])
    assert_problem(response, 400)


def test_missing_field_is_400_and_names_it(souk):
    response = requests.post(souk.url(REGISTER), json={"email": "nopass@example.com", "name": "N", "role": "buyer"})
    body = assert_problem(response, 400)
    assert body.get("field") == "password" or "password" in body["detail"], body
    response = requests.post(souk.url("/api/v1/auth/login"), json={"password": "something"})
    body = assert_problem(response, 400)
    assert body.get("field") == "email" or "email" in body["detail"], body


def test_validation_failures_are_422(souk):
    short = requests.post(souk.url(REGISTER), json={"email": "short@example.com", "password": "short", "name": "S", "role": "buyer"})
    body = assert_problem(short, 422, "validation_failed")
    assert body.get("field") == "password"
    bad_email = requests.post(souk.url(REGISTER), json={"email": "not-an-email", "password": "long enough", "name": "S", "role": "buyer"})
    body = assert_problem(bad_email, 422, "validation_failed")
    assert body.get("field") == "email"
    bad_role = requests.post(souk.url(REGISTER), json={"email": "r@example.com", "password": "long enough", "name": "S", "role": "admin"})
    assert bad_role.status_code in (400, 422)
    assert bad_role.headers["Content-Type"].startswith("application/problem+json")


def test_duplicate_email_is_409(souk):
    souk.register("dup@example.com")
    again = requests.post(souk.url(REGISTER), json={"email": "DUP@example.com", "password": "long enough", "name": "D", "role": "buyer"})
    assert_problem(again, 409, "conflict")


def test_ten_megabyte_body_is_413(souk):
    big = b'{"email": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    try:
        response = requests.post(souk.url(REGISTER), data=big, headers={"Content-Type": "application/json"}, timeout=30)
    except requests.ConnectionError:
        raise AssertionError("the server dropped the connection instead of answering 413")
    assert_problem(response, 413)
    assert_still_healthy(souk)


def test_ten_megabyte_chunked_body_is_413(souk):
    chunk = b"a" * 65536

    def body():
        yield b'{"email": "'
        for _ in range(160):  # 10 MiB
            yield chunk
        yield b'"}'

    try:
        response = requests.post(souk.url(REGISTER), data=body(), headers={"Content-Type": "application/json"}, timeout=30)
    except requests.ConnectionError:
        # The server may answer 413 and close before the client finishes sending; it must still be up.
        assert_still_healthy(souk)
        return
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.request.headers
    assert_problem(response, 413)
    assert_still_healthy(souk)


def test_body_limit_is_configurable(make_souk):
    souk = make_souk(env={"SOUK_LIMITS_MAX_JSON_BODY_KB": "1"})
    payload = {"email": "big@example.com", "password": "long enough", "name": "x" * 2000, "role": "buyer"}
    assert_problem(requests.post(souk.url(REGISTER), json=payload), 413)
    payload["name"] = "small"
    assert requests.post(souk.url(REGISTER), json=payload).status_code == 201


def test_unknown_route_is_404(souk):
    for path in ("/api/v1/nope", "/definitely/not/here"):
        response = requests.get(souk.url(path))
        body = assert_problem(response, 404)
        assert body["code"]
    html = requests.get(souk.url("/definitely/not/here"), headers={"Accept": "text/html"})
    assert html.status_code == 404
    assert "text/html" in html.headers["Content-Type"]
    assert "<html" in html.text.lower()
    assert_still_healthy(souk)


def test_wrong_content_type_is_415(souk):
    response = requests.post(souk.url(REGISTER), data="email=a@example.com&password=long+enough",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(response, 415)
    plain = requests.post(souk.url(REGISTER), data='{"email":"x@example.com"}', headers={"Content-Type": "text/plain"})
    assert_problem(plain, 415)


def test_cookie_authenticated_post_needs_json_content_type(souk):
    session = souk.register("cookie@example.com")
    # A cross-site form could send this: it must not be accepted on a cookie session.
    response = session.post(souk.url("/api/v1/tokens"), data={"name": "from a form"})
    assert_problem(response, 415)
    assert session.get(souk.url("/api/v1/tokens")).json()["data"] == []
    response = session.post(souk.url("/api/v1/auth/logout"), data="")
    assert_problem(response, 415)
    assert session.get(souk.url("/api/v1/me")).status_code == 200


def test_server_survives_a_barrage_of_bad_requests(souk):
    for payload in (b"", b"null", b"{}", b"\xff\xfe\x00", b"[" * 10000, b'{"email": 1, "password": 2}'):
        response = requests.post(souk.url(REGISTER), data=payload, headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, (payload[:20], response.status_code)
        assert response.headers["Content-Type"].startswith("application/problem+json")
    assert_still_healthy(souk)
