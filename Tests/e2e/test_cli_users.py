"""Operator account management with `souk user …` while the server runs."""
import json

import requests

from conftest import assert_problem


def login(souk, email, password):
    session = requests.Session()
    response = session.post(souk.url("/api/v1/auth/login"), json={"email": email, "password": password})
    return session, response


def test_admin_created_by_cli_can_sign_in(souk):
    result = souk.cli("user", "create", "--role", "admin", "--email", "Boss@Example.com", "--name", "The Boss",
                      input="admin password 1\n")
    assert "boss@example.com" in result.stdout.lower()

    session, response = login(souk, "boss@example.com", "admin password 1")
    assert response.status_code == 200, response.text
    me = session.get(souk.url("/api/v1/me")).json()
    assert me["role"] == "admin"
    assert me["name"] == "The Boss"
    assert me["email"] == "boss@example.com"

    users = json.loads(souk.cli("user", "list", "--json").stdout)
    assert isinstance(users, list)
    [row] = [u for u in users if u["email"] == "boss@example.com"]
    assert row["role"] == "admin"
    assert row["id"] == me["id"]
    assert not any("password" in key or "hash" in key for key in row)

    table = souk.cli("user", "list").stdout
    assert "boss@example.com" in table and "admin" in table


def test_user_list_filters_by_role(souk):
    souk.register("buyer.one@example.com")
    souk.cli("user", "create", "--role", "admin", "--email", "admin.one@example.com", input="admin password 1\n")
    admins = json.loads(souk.cli("user", "list", "--role", "admin", "--json").stdout)
    buyers = json.loads(souk.cli("user", "list", "--role", "buyer", "--json").stdout)
    assert [u["email"] for u in admins] == ["admin.one@example.com"]
    assert [u["email"] for u in buyers] == ["buyer.one@example.com"]


def test_user_create_rejects_bad_input(souk):
    short = souk.cli("user", "create", "--role", "admin", "--email", "weak@example.com", input="short\n", check=False)
    assert short.returncode != 0
    assert "password" in short.stderr.lower()
    bad_email = souk.cli("user", "create", "--role", "admin", "--email", "not-an-email", input="long enough 1\n",
                         check=False)
    assert bad_email.returncode != 0
    souk.register("taken@example.com")
    duplicate = souk.cli("user", "create", "--role", "admin", "--email", "taken@example.com", input="long enough 1\n",
                         check=False)
    assert duplicate.returncode != 0
    assert login(souk, "weak@example.com", "short")[1].status_code == 401


def test_disable_ends_sessions_at_once_and_enable_restores_login(souk):
    session = souk.register("victim@example.com", password="victim password")
    token = session.post(souk.url("/api/v1/tokens"), json={"name": "t"}).json()["token"]
    assert session.get(souk.url("/api/v1/me")).status_code == 200

    souk.cli("user", "disable", "victim@example.com")
    assert_problem(session.get(souk.url("/api/v1/me")), 401)
    assert_problem(requests.get(souk.url("/api/v1/me"), headers={"Authorization": f"Bearer {token}"}), 401)
    _, response = login(souk, "victim@example.com", "victim password")
    assert_problem(response, 403, "account_disabled")
    # The wrong password does not reveal the state.
    _, response = login(souk, "victim@example.com", "wrong password")
    assert response.status_code == 401

    listed = json.loads(souk.cli("user", "list", "--json").stdout)
    [row] = [u for u in listed if u["email"] == "victim@example.com"]
    assert str(row["disabled"]).lower() == "true"

    souk.cli("user", "enable", "victim@example.com")
    new_session, response = login(souk, "victim@example.com", "victim password")
    assert response.status_code == 200
    assert new_session.get(souk.url("/api/v1/me")).json()["email"] == "victim@example.com"


def test_disable_unknown_user_fails(souk):
    result = souk.cli("user", "disable", "ghost@example.com", check=False)
    assert result.returncode != 0
    assert "There is no account with the e-mail address ghost@example.com." in result.stderr, result.stderr
    assert "was not found" not in result.stderr


def test_reset_password_ends_old_sessions(souk):
    old_session = souk.register("forgetful@example.com", password="old password 1")
    assert old_session.get(souk.url("/api/v1/me")).status_code == 200

    souk.cli("user", "reset-password", "forgetful@example.com", input="new password 2\n")
    assert_problem(old_session.get(souk.url("/api/v1/me")), 401)
    _, old = login(souk, "forgetful@example.com", "old password 1")
    assert_problem(old, 401)
    session, new = login(souk, "forgetful@example.com", "new password 2")
    assert new.status_code == 200
    assert session.get(souk.url("/api/v1/me")).json()["email"] == "forgetful@example.com"


def test_reset_password_rejects_short_password(souk):
    souk.register("keeps@example.com", password="keep this one")
    result = souk.cli("user", "reset-password", "keeps@example.com", input="short\n", check=False)
    assert result.returncode != 0
    assert login(souk, "keeps@example.com", "keep this one")[1].status_code == 200


def test_cli_works_without_a_running_server(tmp_path, cli_env):
    import subprocess

    from conftest import SOUK_BIN

    def run(*args, input=None):
        return subprocess.run([SOUK_BIN, *args], env=cli_env, cwd=tmp_path, capture_output=True, text=True,
                              input=input, timeout=60)

    created = run("user", "create", "--role", "seller", "--email", "offline@example.com", input="offline pass 1\n")
    assert created.returncode == 0, created.stderr
    listed = json.loads(run("user", "list", "--json").stdout)
    assert [u["email"] for u in listed] == ["offline@example.com"]
    assert (tmp_path / "souk-data" / "souk.db").exists()
    migrate = run("migrate")
    assert migrate.returncode == 0, migrate.stderr


def test_commands_other_than_serve_and_migrate_never_create_a_store(tmp_path):
    """Run from the wrong folder, a command says where it looked and leaves nothing behind."""
    import os
    import subprocess

    from conftest import SOUK_BIN

    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUK_")}
    for args in (["user", "list"], ["demo", "seed", "--products", "3"], ["jobs", "list"], ["payouts"]):
        run = subprocess.run([SOUK_BIN, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert run.returncode == 1, (args, run.stdout, run.stderr)
        assert f"there is no store at {tmp_path.resolve()}/souk-data" in run.stderr, run.stderr
        assert "souk migrate" in run.stderr
        assert list(tmp_path.iterdir()) == [], f"{args} left {list(tmp_path.iterdir())}"
    created = subprocess.run([SOUK_BIN, "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0 and (tmp_path / "souk-data" / "souk.db").exists(), created.stderr
    listed = subprocess.run([SOUK_BIN, "user", "list", "--json"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
