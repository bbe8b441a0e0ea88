"""Sign-in rate limits and what the database keeps: no plaintext passwords, session or token values."""
import sqlite3
import time

import requests

from conftest import assert_problem


def login(souk, email, password, session=None):
    return (session or requests).post(souk.url("/api/v1/auth/login"), json={"email": email, "password": password})


def test_api_login_and_logout(souk):
    souk.register("loginout@example.com", password="the password", name="Lou")
    session = requests.Session()
    response = login(souk, "loginout@example.com", "the password", session)
    assert response.status_code == 200
    assert response.json()["email"] == "loginout@example.com"
    assert "password" not in response.text
    assert session.get(souk.url("/api/v1/me")).status_code == 200
    # Case and surrounding spaces of the e-mail do not matter.
    assert login(souk, "  LoginOut@Example.com ", "the password").status_code == 200

    out = session.post(souk.url("/api/v1/auth/logout"), json={})
    assert out.status_code in (200, 204)
    assert_problem(session.get(souk.url("/api/v1/me")), 401)


def test_unknown_account_and_wrong_password_look_the_same(souk):
    souk.register("exists@example.com", password="the password")
    unknown = login(souk, "nobody@example.com", "the password")
    wrong = login(souk, "exists@example.com", "wrong password")
    a = assert_problem(unknown, 401)
    b = assert_problem(wrong, 401)
    assert a["code"] == b["code"]
    assert a["detail"] == b["detail"]


def test_repeated_wrong_passwords_lock_the_account(souk):
    email, password = "locked@example.com", "the real password"
    souk.register(email, password=password)
    statuses, limited = [], []
    for attempt in range(10):
        response = login(souk, email, f"wrong guess {attempt}")
        statuses.append(response.status_code)
        if response.status_code == 429:
            limited.append(response)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses[0] == 401
    assert limited, f"no 429 among {statuses}"
    assert statuses.index(429) <= 5, statuses  # default: 5 failures per account
    for response in limited:
        assert_problem(response, 429)
        retry_after = response.headers.get("Retry-After")
        assert retry_after is not None and retry_after.isdigit() and int(retry_after) > 0, response.headers

    # Even the right password waits out the lockout.
    correct = login(souk, email, password)
    assert_problem(correct, 429)
    assert int(correct.headers["Retry-After"]) > 0

    # Another account is not affected.
    souk.register("bystander@example.com", password="bystander pw")
    assert login(souk, "bystander@example.com", "bystander pw").status_code == 200


def test_account_lockout_threshold_is_configurable(make_souk):
    souk = make_souk(env={"SOUK_LIMITS_LOGIN_FAILURES_PER_ACCOUNT": "2"})
    souk.register("short@example.com", password="the password")
    for _ in range(3):
        response = login(souk, "short@example.com", "bad password")
    assert response.status_code == 429
    assert login(souk, "short@example.com", "the password").status_code == 429


def test_per_ip_login_limit(make_souk):
    souk = make_souk(env={"SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "3"})
    souk.register("ip@example.com", password="the password")
    statuses = [login(souk, "ip@example.com", "the password").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses[3:]


def test_per_ip_signup_limit(make_souk):
    souk = make_souk(env={"SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "2"})
    statuses = []
    for n in range(4):
        statuses.append(requests.post(
            souk.url("/api/v1/auth/register"),
            json={"email": f"s{n}@example.com", "password": "long enough", "name": "S", "role": "buyer"},
        ))
    assert [r.status_code for r in statuses[:2]] == [201, 201]
    assert_problem(statuses[2], 429)
    assert int(statuses[2].headers["Retry-After"]) > 0


def test_database_holds_no_plaintext_secrets(souk):
    email, password = "secrets@example.com", "Plaintext-Password-9431"
    session = souk.register(email, password=password)
    for attempt in range(10):
        login(souk, email, f"Another-Wrong-Password-{attempt}")
    created = session.post(souk.url("/api/v1/tokens"), json={"name": "cli"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("souk_pat_")
    assert requests.get(souk.url("/api/v1/me"), headers={"Authorization": f"Bearer {token}"}).status_code == 200
    session_value = session.cookies["souk_session"]
    assert len(session_value) >= 32

    db_path = souk.data_dir / "souk.db"
    assert db_path.exists()
    # Everything SQLite can give back, as text.
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        dump = "\n".join(connection.iterdump())
        user_rows = connection.execute("SELECT * FROM users").fetchall()
    finally:
        connection.close()
    assert email in dump, "the dump should contain the account at least"
    assert any(email in map(str, row) for row in user_rows)

    # And the raw bytes of the database files, WAL included.
    files = [db_path] + [p for p in (souk.data_dir / "souk.db-wal", souk.data_dir / "souk.db-shm") if p.exists()]
    raw = b"".join(p.read_bytes() for p in files)
    secret_token_part = token.removeprefix("souk_pat_")
    for secret in (password, token, secret_token_part, session_value, "Another-Wrong-Password-3"):
        assert secret not in dump, f"{secret!r} stored in clear"
        assert secret.encode() not in raw, f"{secret!r} found in database bytes"

    # Bcrypt hashes are stored instead.
    assert "$2" in dump


def test_secret_key_file_is_private(souk):
    key = souk.data_dir / "secret.key"
    assert key.exists()
    assert key.stat().st_mode & 0o777 == 0o600
    for folder in ("blobs", "outbox"):
        assert (souk.data_dir / folder).is_dir()


def test_session_survives_a_restart(make_souk):
    souk = make_souk()
    session = souk.register("restart@example.com", password="restart pw1")
    souk.stop()
    again = make_souk(workdir=souk.workdir)
    cookie = session.cookies["souk_session"]
    fresh = requests.Session()
    fresh.cookies.set("souk_session", cookie)
    response = fresh.get(again.url("/api/v1/me"))
    assert response.status_code == 200
    assert response.json()["email"] == "restart@example.com"
