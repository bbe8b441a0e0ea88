"""Personal access tokens: create, use, list, revoke, scopes and ownership."""
import requests

from conftest import assert_problem


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_token_authenticates_until_revoked(souk):
    session = souk.register("owner@example.com", name="Owner")
    created = session.post(souk.url("/api/v1/tokens"), json={"name": "deploy"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "deploy"
    assert body["token"].startswith("souk_pat_")
    assert "write" in body["scopes"]
    token, token_id = body["token"], body["id"]

    me = requests.get(souk.url("/api/v1/me"), headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["email"] == "owner@example.com"

    listing = session.get(souk.url("/api/v1/tokens"))
    assert listing.status_code == 200
    data = listing.json()
    assert data["next_cursor"] is None
    assert [t["id"] for t in data["data"]] == [token_id]
    assert "token" not in data["data"][0], "the secret is shown only once"
    assert token not in listing.text

    # A token can manage tokens too (write scope).
    second = requests.post(souk.url("/api/v1/tokens"), json={"name": "second"}, headers=bearer(token))
    assert second.status_code == 201

    deleted = session.delete(souk.url(f"/api/v1/tokens/{token_id}"))
    assert deleted.status_code == 204
    assert_problem(requests.get(souk.url("/api/v1/me"), headers=bearer(token)), 401)
    remaining = [t["id"] for t in session.get(souk.url("/api/v1/tokens")).json()["data"]]
    assert token_id not in remaining
    assert second.json()["id"] in remaining
    # Deleting it again: gone.
    assert_problem(session.delete(souk.url(f"/api/v1/tokens/{token_id}")), 404)


def test_bad_bearer_tokens_are_rejected(souk):
    assert_problem(requests.get(souk.url("/api/v1/me")), 401)
    assert_problem(requests.get(souk.url("/api/v1/me"), headers=bearer("souk_pat_notarealtoken")), 401)
    assert_problem(requests.get(souk.url("/api/v1/me"), headers=bearer("garbage")), 401)


def test_read_only_token_cannot_write(souk):
    session = souk.register("reader@example.com")
    created = session.post(souk.url("/api/v1/tokens"), json={"name": "reader", "scopes": ["read"]})
    assert created.status_code == 201
    assert created.json()["scopes"] == ["read"]
    token = created.json()["token"]
    assert requests.get(souk.url("/api/v1/me"), headers=bearer(token)).status_code == 200
    assert requests.get(souk.url("/api/v1/tokens"), headers=bearer(token)).status_code == 200
    refused = requests.post(souk.url("/api/v1/tokens"), json={"name": "escalate"}, headers=bearer(token))
    assert_problem(refused, 403)
    token_id = created.json()["id"]
    assert_problem(requests.delete(souk.url(f"/api/v1/tokens/{token_id}"), headers=bearer(token)), 403)
    names = [t["name"] for t in session.get(souk.url("/api/v1/tokens")).json()["data"]]
    assert names == ["reader"]


def test_unknown_scope_is_rejected(souk):
    session = souk.register("scopes@example.com")
    response = session.post(souk.url("/api/v1/tokens"), json={"name": "x", "scopes": ["admin"]})
    assert response.status_code in (400, 422)
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_another_user_cannot_delete_or_see_my_token(souk):
    alice = souk.register("alice@example.com", name="Alice")
    mallory = souk.register("mallory@example.com", name="Mallory")
    created = alice.post(souk.url("/api/v1/tokens"), json={"name": "alice's"}).json()

    assert_problem(mallory.delete(souk.url(f"/api/v1/tokens/{created['id']}")), 404)
    assert mallory.get(souk.url("/api/v1/tokens")).json()["data"] == []
    # Still works for Alice.
    me = requests.get(souk.url("/api/v1/me"), headers=bearer(created["token"]))
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.com"


def test_tokens_need_a_signed_in_user(souk):
    assert_problem(requests.post(souk.url("/api/v1/tokens"), json={"name": "anon"}), 401)
    assert_problem(requests.get(souk.url("/api/v1/tokens")), 401)
