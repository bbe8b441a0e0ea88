"""Process lifecycle: graceful shutdown, refusing a database from a newer binary, security headers, metrics."""
import signal
import sqlite3
import subprocess
import time

import requests

from conftest import SOUK_BIN


def test_sigterm_exits_cleanly(make_souk):
    souk = make_souk()
    souk.register("before.shutdown@example.com")
    started = time.time()
    souk.process.send_signal(signal.SIGTERM)
    status = souk.process.wait(timeout=10)
    assert status == 0, souk.log_path.read_text()
    assert time.time() - started < 5
    # The port is released.
    try:
        requests.get(souk.url("/healthz"), timeout=1)
        raise AssertionError("server still answering after SIGTERM")
    except requests.ConnectionError:
        pass
    # SIGINT too.
    again = make_souk(workdir=souk.workdir)
    again.process.send_signal(signal.SIGINT)
    assert again.process.wait(timeout=10) == 0


def test_database_from_a_newer_binary_is_refused(make_souk):
    souk = make_souk()
    souk.stop()
    database = souk.data_dir / "souk.db"
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("INSERT INTO grdb_migrations (identifier) VALUES ('v999-future')")
    connection.close()

    result = subprocess.run([SOUK_BIN, "serve"], env=souk.env, cwd=souk.workdir, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode != 0
    message = (result.stdout + result.stderr).lower()
    assert "newer" in message or "migration" in message, message
    assert "newer" in message, message
    migrate = subprocess.run([SOUK_BIN, "migrate"], env=souk.env, cwd=souk.workdir, capture_output=True, text=True,
                             timeout=30)
    assert migrate.returncode != 0


def test_migrate_is_idempotent(make_souk):
    souk = make_souk()
    first = souk.cli("migrate")
    second = souk.cli("migrate")
    assert first.returncode == second.returncode == 0
    assert requests.get(souk.url("/healthz")).json()["migrations"] >= 1


def test_security_headers_on_pages_and_api(souk):
    for path in ("/", "/signin", "/signup", "/healthz", "/api/v1/me"):
        response = requests.get(souk.url(path))
        headers = response.headers
        assert "default-src" in headers.get("Content-Security-Policy", ""), path
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        assert headers.get("Referrer-Policy"), path
        assert headers.get("X-Request-Id"), path
    csp = requests.get(souk.url("/")).headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    # Plain HTTP: no HSTS.
    assert "Strict-Transport-Security" not in requests.get(souk.url("/")).headers


def test_session_cookie_flags(souk):
    response = requests.post(souk.url("/api/v1/auth/register"), json={
        "email": "cookie.flags@example.com", "password": "long enough", "name": "C", "role": "buyer"})
    assert response.status_code == 201
    set_cookie = [v for k, v in response.raw.headers.items() if k.lower() == "set-cookie"]
    session_cookie = [c for c in set_cookie if c.startswith("souk_session=")]
    assert session_cookie, set_cookie
    attributes = [part.strip().lower() for part in session_cookie[0].split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "secure" not in attributes  # plain http in tests
    assert any(a.startswith("path=/") for a in attributes)

    # The form sign-in sets the same kind of cookie.
    page = requests.get(souk.url("/signin"))
    csrf_cookie = page.cookies.get("souk_csrf")
    assert csrf_cookie


def test_metrics_count_requests(souk):
    for _ in range(3):
        requests.get(souk.url("/signin"))
    requests.get(souk.url("/api/v1/nope"))
    text = requests.get(souk.url("/metrics")).text
    print(text[:2000])
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    counters = [line for line in lines if "hb_requests" in line or "http_server_request_duration_count" in line]
    assert counters, text[:2000]
    signin = [line for line in counters if '"/signin"' in line and 'http_request_method="GET"' in line]
    assert signin, counters
    assert any(float(line.rsplit(" ", 1)[1]) >= 3 for line in signin), signin
    assert any('http_response_status_code="404"' in line for line in counters), counters
    assert requests.get(souk.url("/metrics")).headers["Content-Type"].startswith("text/plain")


def test_request_id_is_in_problem_and_header(souk):
    response = requests.get(souk.url("/api/v1/me"))
    assert response.status_code == 401
    assert response.json()["request_id"] == response.headers["X-Request-Id"]
