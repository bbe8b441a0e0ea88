"""`souk announce`: the operator's platform announcement reaches every active account's
notifications (API and page) once, or only one role's; a retried run notifies nobody twice; a
link that is not a store path or an http(s) address is refused."""
import json
import sqlite3

from test_catalog_api import api_account, cli_account


def notifications(souk, account):
    response = account.session.get(souk.url("/api/v1/notifications"))
    assert response.status_code == 200, response.text
    return [n for n in response.json()["data"] if n["type"] == "announcement"]


def test_announcement_reaches_active_accounts_once(souk):
    buyer = api_account(souk, "buyer", "buyer@example.com")
    seller = cli_account(souk, "seller", "seller@example.com")
    away = api_account(souk, "buyer", "away@example.com")
    souk.cli("user", "disable", "away@example.com")

    sent = souk.cli("announce", "--title", "Maintenance tonight", "--body", "The store pauses 02:00–02:15 UTC.",
                    "--url", "/notifications", "--json")
    assert json.loads(sent.stdout) == {"notified": 2}
    for account in (buyer, seller):
        [notice] = notifications(souk, account)
        assert notice["title"] == "Maintenance tonight"
        assert notice["body"] == "The store pauses 02:00–02:15 UTC."
        assert notice["url"] == "/notifications" and notice["read"] is False
    page = buyer.session.get(souk.url("/notifications"), headers={"Accept": "text/html"})
    assert "Maintenance tonight" in page.text and 'href="/notifications"' in page.text

    # A retried script: nobody twice.
    again = souk.cli("announce", "--title", "Maintenance tonight", "--body", "The store pauses 02:00–02:15 UTC.",
                     "--url", "/notifications")
    assert "to 0 accounts" in again.stdout
    assert len(notifications(souk, buyer)) == 1

    # One role only.
    sellers = souk.cli("announce", "--title", "New payout schedule", "--role", "seller", "--json")
    assert json.loads(sellers.stdout) == {"notified": 1}
    assert sorted(n["title"] for n in notifications(souk, seller)) == ["Maintenance tonight", "New payout schedule"]
    assert [n["title"] for n in notifications(souk, buyer)] == ["Maintenance tonight"]

    # The same text to everyone later: only those who lack it get it.
    everyone = souk.cli("announce", "--title", "New payout schedule", "--json")
    assert json.loads(everyone.stdout) == {"notified": 1}
    assert sorted(n["title"] for n in notifications(souk, buyer)) == ["Maintenance tonight", "New payout schedule"]
    assert len(notifications(souk, seller)) == 2

    # The disabled account got nothing.
    with sqlite3.connect(souk.data_dir / "souk.db") as db:
        assert db.execute(
            "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.email = ?",
            ("away@example.com",)).fetchone()[0] == 0
    assert away.email == "away@example.com"


def test_announcement_input_is_checked(souk):
    buyer = api_account(souk, "buyer", "buyer@example.com")
    for args, words in [
        (["--title", "Click", "--url", "javascript:alert(1)"], "link"),
        (["--title", "Click", "--url", "//evil.example/x"], "link"),
        (["--title", "Click", "--url", "/\\evil.example/x"], "link"),
        (["--title", "   "], "title"),
        (["--title", "x" * 201], "title"),
        (["--title", "Long", "--body", "y" * 2001], "2,000"),
    ]:
        refused = souk.cli("announce", *args, check=False)
        assert refused.returncode == 1, refused.stdout
        assert words in refused.stderr, refused.stderr
    assert souk.cli("announce", "--title", "Hi", "--role", "nobody", check=False).returncode == 64
    assert notifications(souk, buyer) == []
