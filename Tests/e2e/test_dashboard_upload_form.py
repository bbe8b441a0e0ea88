"""The dashboard's upload form without JavaScript: a browser with JavaScript off uploads a file
(multipart/form-data, streamed to the blob store), and over HTTP the form's guards hold — the
CSRF token must come first and match, other sellers get nothing, names are cleaned, the size
limit leaves no file behind, a malformed form is a 400, and a 256 MiB upload streams in bounded
memory."""
import hashlib
import http.client
import re
import sqlite3
import time
import uuid
from types import SimpleNamespace

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import CSRF_RE
from test_catalog_api import MIB, cli_account, rss_kb
from test_dashboard_browser import sign_in

STORE = {"SOUK_STORE_MARKETPLACE": "true", "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0"}


def files_of(souk, product_id):
    with sqlite3.connect(souk.data_dir / "souk.db") as db:
        return db.execute(
            "SELECT name, version, size, sha256 FROM product_files WHERE product_id = ? ORDER BY name, version",
            (product_id,)).fetchall()


def leftovers(souk):
    temporary = souk.data_dir / "blobs" / "tmp"
    return list(temporary.iterdir()) if temporary.exists() else []


def form_token(souk, account, product_id) -> str:
    page = account.session.get(souk.url(f"/dashboard/products/{product_id}"))
    assert page.status_code == 200, page.text[:300]
    assert f'action="/dashboard/products/{product_id}/files"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    return CSRF_RE.search(page.text).group(1)


def post_form(souk, account, product_id, fields, files, **kwargs):
    return account.session.post(souk.url(f"/dashboard/products/{product_id}/files"), data=fields, files=files,
                                allow_redirects=False, **kwargs)


def send_form(souk, account, product_id, boundary, chunks, length=None):
    """POSTs a hand-made multipart body from byte chunks (chunked unless `length` is given), as a
    signed-in browser would. Returns (status, text); the server may answer before the body ends."""
    conn = http.client.HTTPConnection("127.0.0.1", souk.port, timeout=600)
    conn.putrequest("POST", f"/dashboard/products/{product_id}/files")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Cookie", "; ".join(f"{c.name}={c.value}" for c in account.session.cookies))
    conn.putheader("Transfer-Encoding" if length is None else "Content-Length", "chunked" if length is None else str(length))
    conn.endheaders()
    try:
        for chunk in chunks:
            conn.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n" if length is None else chunk)
        if length is None:
            conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # answered (413) before the whole body was sent; the answer is still readable
    response = conn.getresponse()
    text = response.read().decode(errors="replace")
    conn.close()
    return response.status, text


def test_a_browser_without_javascript_uploads_through_the_form(souk, browser_without_javascript, tmp_path):
    browser = browser_without_javascript
    souk.cli("user", "create", "--role", "admin", "--email", "owner@example.com", input="owner password 1\n")
    sign_in(souk, browser, "owner@example.com", "owner password 1")
    browser.get(souk.url("/dashboard/new"))
    form = browser.find_element(By.ID, "product-form")
    form.find_element(By.NAME, "title").send_keys("Field Guide to Beetles")
    form.find_element(By.NAME, "summary").send_keys("Every beetle of the north.")
    form.find_element(By.CSS_SELECTOR, 'select[name="kind"] option[value="download"]').click()
    form.find_element(By.NAME, "category").send_keys("Nature")
    form.find_element(By.NAME, "price").send_keys("9")
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    WebDriverWait(browser, 10).until(EC.url_contains("/dashboard/products/"))
    product_id = browser.current_url.split("/dashboard/products/")[1].split("?")[0]

    guide = tmp_path / "beetles guide.pdf"
    data = b"%PDF-1.4\r\n" + bytes(range(256)) * 400 + b"\r\n--not-the-boundary\r\n"
    guide.write_bytes(data)
    upload_form = browser.find_element(By.ID, "upload-form")
    assert upload_form.is_displayed()
    upload_form.find_element(By.ID, "upload-file").send_keys(str(guide))
    browser.find_element(By.ID, "upload-button").click()
    # The form's own redirect (upload.js would have reloaded the page without `uploaded=`).
    WebDriverWait(browser, 10).until(EC.url_contains("uploaded="))
    assert "Uploaded beetles guide.pdf (version 1)." in browser.find_element(By.ID, "flash").text
    assert "beetles guide.pdf" in browser.find_element(By.ID, "dashboard-files").text
    assert files_of(souk, product_id) == [("beetles guide.pdf", 1, len(data), hashlib.sha256(data).hexdigest())]
    blob = hashlib.sha256(data).hexdigest()
    assert any(path.read_bytes() == data for path in (souk.data_dir / "blobs").rglob(blob + "*"))


def test_the_form_checks_its_token_owner_name_and_size(make_souk):
    souk = make_souk(env={**STORE, "SOUK_STORAGE_MAX_UPLOAD_MB": "1"})
    alice = cli_account(souk, "seller", "alice@example.com")
    mallory = cli_account(souk, "seller", "mallory@example.com")
    product = alice.create("Alice's Notes")
    token = form_token(souk, alice, product["id"])

    # A stored file, under a harmless name whatever the browser said.
    sent = post_form(souk, alice, product["id"], {"_csrf": token}, {"file": ("../../etc/passwd", b"root:x:0:0\n")})
    assert sent.status_code == 303, sent.text[:300]
    assert re.fullmatch(rf"/dashboard/products/{product['id']}\?uploaded=file_\w+#files", sent.headers["Location"])
    again = post_form(souk, alice, product["id"], {"_csrf": token}, {"file": ("passwd", b"second version\n")})
    assert again.status_code == 303
    shown = alice.session.get(souk.url(again.headers["Location"].split("#")[0])).text
    assert "Uploaded passwd (version 2)." in shown
    # The notice names only this product's files: another id shows nothing.
    spoofed = alice.session.get(souk.url(f"/dashboard/products/{product['id']}?uploaded=Your+account+is+locked")).text
    assert 'id="flash"' not in spoofed and "locked" not in spoofed
    assert [(name, version) for name, version, _, _ in files_of(souk, product["id"])] == [("passwd", 1), ("passwd", 2)]

    # No token, a wrong one, or the file before the token: 403, nothing stored.
    for fields in ({}, {"_csrf": "x" * 43}, {"_csrf": token[:-1] + ("A" if token[-1] != "A" else "B")}):
        refused = post_form(souk, alice, product["id"], fields, {"file": ("evil.pdf", b"evil")})
        assert refused.status_code == 403, refused.text[:300]
    boundary = "b" + uuid.uuid4().hex
    file_first = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"evil.pdf\"\r\n\r\nevil\r\n"
                  f"--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n--{boundary}--\r\n")
    refused = alice.session.post(souk.url(f"/dashboard/products/{product['id']}/files"), data=file_first.encode(),
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                                 allow_redirects=False)
    assert refused.status_code == 403
    # Without the CSRF cookie (another site's form, a fresh client) no token can match.
    stranger = requests.Session()
    stranger.cookies.set("souk_session", alice.session.cookies.get("souk_session"))
    assert post_form(souk, SimpleNamespace(session=stranger), product["id"], {"_csrf": token},
                     {"file": ("x.pdf", b"x")}).status_code == 403
    assert len(files_of(souk, product["id"])) == 2

    # Another seller's product is not found (not even its existence leaks); a buyer may not upload.
    mallory_token = form_token(souk, mallory, mallory.create("Mallory's")["id"])
    stolen = post_form(souk, mallory, product["id"], {"_csrf": mallory_token}, {"file": ("x.pdf", b"x")})
    assert stolen.status_code == 404
    assert len(files_of(souk, product["id"])) == 2

    # No file chosen, a malformed form, a name that is all dots: a clear 400 page, nothing stored.
    empty = post_form(souk, alice, product["id"], {"_csrf": token}, {"file": ("", b"")})
    assert empty.status_code == 422 or empty.status_code == 400, empty.status_code
    assert "Choose a file" in empty.text and 'id="upload-error"' in empty.text
    broken = alice.session.post(souk.url(f"/dashboard/products/{product['id']}/files"),
                                data=b"--" + boundary.encode() + b"\r\n" + b"X" * 200_000,
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                                allow_redirects=False)
    assert broken.status_code == 400 and "malformed" in broken.text
    assert alice.session.post(souk.url(f"/dashboard/products/{product['id']}/files"), data=b"x",
                              headers={"Content-Type": "multipart/form-data"}, allow_redirects=False).status_code == 415
    assert len(files_of(souk, product["id"])) == 2

    # Two files in one form: refused, and the first one is not kept either.
    two = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n"
           f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\nAAAA\r\n"
           f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.bin\"\r\n\r\nBBBB\r\n"
           f"--{boundary}--\r\n")
    status, text = send_form(souk, alice, product["id"], boundary, [two.encode()])
    assert status == 400 and "one file at a time" in text
    assert not any(p.is_file() and p.read_bytes() == b"AAAA" for p in (souk.data_dir / "blobs").rglob("*"))
    # Names as browsers send them: a backslash as itself, a quote percent-encoded.
    quoted = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n"
              f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"say %22hi%22.txt\"\r\n\r\nhi\r\n"
              f"--{boundary}--\r\n")
    assert send_form(souk, alice, product["id"], boundary, [quoted.encode()])[0] == 303
    # %22 decoded to a quote, then the name cleaned as the API does.
    assert [name for name, _, _, _ in files_of(souk, product["id"])] == ["passwd", "passwd", "say hi.txt"]
    blobs_before = sorted(p.name for p in (souk.data_dir / "blobs").rglob("*") if p.is_file())

    # Over the 1 MiB limit: 413 (announced length or not) and no partial file left behind.
    too_big = post_form(souk, alice, product["id"], {"_csrf": token}, {"file": ("big.bin", b"z" * (2 * MIB))})
    assert too_big.status_code == 413
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n").encode()
    status, text = send_form(souk, alice, product["id"], boundary,
                             [body] + [b"y" * 65536] * 40 + [f"\r\n--{boundary}--\r\n".encode()])
    assert status == 413
    assert "upload limit" in text
    assert leftovers(souk) == []
    assert len(files_of(souk, product["id"])) == 3
    assert sorted(p.name for p in (souk.data_dir / "blobs").rglob("*") if p.is_file()) == blobs_before


def test_a_256_mib_form_upload_streams_in_bounded_memory(make_souk):
    souk = make_souk(env={**STORE, "SOUK_STORAGE_MAX_UPLOAD_MB": "512"})
    alice = cli_account(souk, "seller", "alice@example.com")
    product = alice.create("Big Sample Pack")
    token = form_token(souk, alice, product["id"])
    boundary = "----souk" + uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"samples.zip\"\r\n"
            f"Content-Type: application/zip\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    # Bytes that contain carriage returns, dashes and near-boundaries, so the parser really works.
    block = b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(32768))  # 1 MiB
    block = block.replace(b"\x00", b"\r")
    total = 256
    digest = hashlib.sha256()
    for _ in range(total):
        digest.update(block)

    pid = souk.process.pid
    before = rss_kb(pid)
    peak = before

    def chunks():
        nonlocal peak
        yield head
        for index in range(total):
            yield block
            if index % 16 == 0:
                peak = max(peak, rss_kb(pid))
        yield tail

    started = time.time()
    status, _ = send_form(souk, alice, product["id"], boundary, chunks(), length=len(head) + total * len(block) + len(tail))
    peak = max(peak, rss_kb(pid))
    assert status == 303, status
    assert (peak - before) < 64 * 1024, f"server memory grew by {(peak - before) // 1024} MB"
    assert files_of(souk, product["id"]) == [("samples.zip", 1, total * len(block), digest.hexdigest())]
    print(f"256 MiB through the form in {time.time() - started:.1f} s, server memory +{(peak - before) // 1024} MB")
