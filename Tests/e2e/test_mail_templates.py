"""E-mail templates (issue 13): the receipt's HTML comes from a template a theme may replace
(`<data_dir>/theme/receipt.mustache`), the dashboard previews it for a made-up order, and a theme
template that does not parse stops `souk serve` with the file named."""
import email
import email.policy
import subprocess

import requests

from conftest import SOUK_BIN, free_port
from shop_helpers import wait_status
from test_catalog_api import api_account, cli_account
from test_hardening_access import pay_with_test_provider
from test_payment_retry import FAST

THEME = """<!doctype html><html><body><h1>Merci from {{store_name}}!</h1>
{{#items}}<p class="line">{{title}} — {{amount}}</p>{{/items}}<p>Total {{total}}</p></body></html>"""


def receipts(souk, address):
    out = []
    for path in sorted((souk.data_dir / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in message["To"] and "receipt" in message["Subject"]:
            out.append(message)
    return out


def test_the_dashboard_previews_the_receipt_and_a_theme_replaces_it(make_souk, tmp_path):
    plain = make_souk(env={**FAST, "SOUK_STORE_NAME": "Moth Press"})
    seller = cli_account(plain, "seller")
    page = seller.session.get(plain.url("/dashboard/mail/receipt"))
    assert page.status_code == 200 and 'id="mail-html"' in page.text and "Moth Press" in page.text
    html = seller.session.get(plain.url("/dashboard/mail/receipt.html"))
    assert html.status_code == 200 and "Thank you for your purchase from Moth Press!" in html.text
    assert "Moth Atlas (sample)" in html.text and "$33.00" in html.text and "SAMPLE-KEY-0000-0000" in html.text
    # Framed by the dashboard only, styles inline, nothing runs.
    assert "frame-ancestors 'self'" in html.headers["Content-Security-Policy"]
    assert "sandbox" in html.headers["Content-Security-Policy"] and "script-src" not in html.headers["Content-Security-Policy"]
    assert requests.get(plain.url("/dashboard/mail/receipt.html"), allow_redirects=False).status_code in (302, 303, 401)
    buyer = api_account(plain, "buyer")
    assert buyer.session.get(plain.url("/dashboard/mail/receipt.html")).status_code == 403

    # A theme's receipt: in the preview and in the e-mail a buyer gets.
    themed_dir = tmp_path / "themed"
    (themed_dir / "souk-data" / "theme").mkdir(parents=True)
    (themed_dir / "souk-data" / "theme" / "receipt.mustache").write_text(THEME)
    themed = make_souk(env={**FAST, "SOUK_STORE_NAME": "Moth Press"}, workdir=themed_dir)
    seller = cli_account(themed, "seller")
    assert "Merci from Moth Press!" in seller.session.get(themed.url("/dashboard/mail/receipt.html")).text
    product = seller.create("Heron Atlas", publish=True, price=1800)
    buyer = api_account(themed, "buyer")
    order = pay_with_test_provider(themed, buyer.session, product["id"])
    wait_status(themed, buyer.session, order, {"completed"})
    [mail] = receipts(themed, buyer.email)
    html_part = mail.get_body(preferencelist=("html",)).get_content()
    assert "Merci from Moth Press!" in html_part and "Heron Atlas — $18.00" in html_part
    assert "Heron Atlas" in mail.get_body(preferencelist=("plain",)).get_content(), "the text part stays"


def test_a_theme_template_that_does_not_parse_stops_the_start(tmp_path):
    data = tmp_path / "souk-data"
    (data / "theme").mkdir(parents=True)
    (data / "theme" / "receipt.mustache").write_text("<p>{{#items}}never closed</p>")
    run = subprocess.run([SOUK_BIN, "serve"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                         env={"PATH": "/usr/bin:/bin", "SOUK_STORAGE_DATA_DIR": str(data), "SOUK_SERVER_PORT": str(free_port())})
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "receipt.mustache" in output and "does not parse" in output, output[-2000:]
