"""Delivery over HTTP against the real `souk` binary: a buyer pays with the built-in test provider,
finds the purchase in the library and downloads it through signed links — exact bytes, ranges,
tampered and expired links, a refund, the download limit — and 8 parallel downloads of a 1 GiB
file stream with the server's memory watched.
"""
import base64
import hashlib
import hmac
import os
import re
import socket
import struct
import threading
import time
import uuid
from urllib.parse import urlsplit

import requests

from conftest import assert_problem
from shop_helpers import wait_for
from test_catalog_api import GIB, MIB, api_account, cli_account, pattern_chunks, raw_upload, rss_kb

STORE = {
    "SOUK_STORE_MARKETPLACE": "true",
    "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
    "SOUK_JOBS_POLL_MILLISECONDS": "100",
}


# --- helpers -----------------------------------------------------------------------------------------

def buy(souk, buyer, product_ids):
    """Cart, checkout with the test provider, Pay on its hosted page (as a browser would); waits
    until the order is paid. Returns the order."""
    for product_id in product_ids:
        added = buyer.session.post(souk.url("/api/v1/cart/items"), json={"product_id": product_id})
        assert added.status_code == 200, added.text
    checkout = buyer.session.post(souk.url("/api/v1/checkout"), json={"provider": "test"},
                                  headers={"Idempotency-Key": uuid.uuid4().hex})
    assert checkout.status_code == 201, checkout.text
    redirect = checkout.json()["redirect_url"]
    hosted = buyer.session.get(redirect)
    assert hosted.status_code == 200 and "TEST MODE" in hosted.text
    csrf = re.search(r'name="_csrf" value="([^"]+)"', hosted.text).group(1)
    session_id = redirect.rsplit("/", 1)[1]
    paid = buyer.session.post(souk.url(f"/test-checkout/{session_id}/pay"), data={"_csrf": csrf}, allow_redirects=False)
    assert paid.status_code == 303
    order_id = checkout.json()["order"]["id"]
    deadline = time.time() + 15
    while time.time() < deadline:
        order = buyer.session.get(souk.url(f"/api/v1/orders/{order_id}")).json()
        if order["status"] in {"paid", "fulfilled", "completed"}:
            return order
        time.sleep(0.1)
    raise AssertionError(f"order {order_id} was not paid: {order['status']}")


def library(souk, buyer) -> list:
    response = buyer.session.get(souk.url("/api/v1/library"))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def link(souk, buyer, product_id, name) -> str:
    """A fresh download URL for one file of one purchase."""
    entry = next(e for e in library(souk, buyer) if e["product_id"] == product_id)
    return next(f for f in entry["files"] if f["name"] == name)["download_url"]


def sign_link(souk, path: str, expires: int) -> str:
    """A download URL signed as the server signs it (Sources/SoukDelivery/DownloadLinks.swift):
    HMAC-SHA256 over "GET", the path and the expiry, one per line, with a key derived from
    <data_dir>/secret.key, in unpadded base64url. Lets a test hold a link whose expiry is already
    past without waiting for it."""
    secret = bytes.fromhex((souk.data_dir / "secret.key").read_text().strip())
    key = hmac.new(secret, b"souk-download-links", hashlib.sha256).digest()
    mac = hmac.new(key, f"GET\n{path}\n{expires}".encode(), hashlib.sha256).digest()
    sig = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    return f"{souk.base_url}{path}?expires={expires}&sig={sig}"


def upload(souk, seller, product_id, name, data: bytes) -> dict:
    status, body, _ = raw_upload(souk, seller.token, product_id, name, [data], len(data))
    assert status == 201, body
    return body


def content(size: int) -> bytes:
    """Bytes that do not repeat with a short period, so a wrong offset shows."""
    return b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(size // 32 + 1))[:size]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def get(url, **kwargs):
    """A download is anyone holding the link: no session, no cookies."""
    return requests.get(url, timeout=60, **kwargs)


# --- the buyer's path --------------------------------------------------------------------------------

def test_buyer_downloads_exact_bytes_ranges_and_bad_links_are_refused(make_souk):
    souk = make_souk(env=STORE)
    seller = cli_account(souk, "seller")
    product = seller.create("Moth Field Guide", publish=True, price=1500)
    data = content(200_000)
    stored = upload(souk, seller, product["id"], "moth guide.pdf", data)
    buyer = api_account(souk, "buyer")
    order = buy(souk, buyer, [product["id"]])

    entries = library(souk, buyer)
    assert [e["product_id"] for e in entries] == [product["id"]]
    entry = entries[0]
    assert entry["order_id"] == order["id"] and entry["kind"] == "download" and entry["title"] == "Moth Field Guide"
    file = entry["files"][0]
    assert (file["name"], file["size"], file["version"], file["downloads_left"]) == ("moth guide.pdf", 200_000, 1, 10)
    url = file["download_url"]
    assert url.startswith(souk.base_url + "/download/")

    # The exact bytes, with the headers of a download.
    whole = get(url)
    assert whole.status_code == 200
    assert sha256(whole.content) == sha256(data) == stored["sha256"]
    assert whole.headers["Content-Length"] == "200000"
    assert whole.headers["Content-Type"] == "application/pdf"
    assert whole.headers["Content-Disposition"] == \
        "attachment; filename=\"moth guide.pdf\"; filename*=UTF-8''moth%20guide.pdf"
    assert whole.headers["ETag"] == f'"{stored["sha256"]}"'
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Cache-Control"] == "private, no-store"

    # A range: exactly those 100 bytes.
    part = get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["Content-Range"] == "bytes 100-199/200000"
    assert part.headers["Content-Length"] == "100"
    suffix = get(url, headers={"Range": "bytes=-50"})
    assert suffix.status_code == 206 and suffix.content == data[-50:]
    beyond = get(url, headers={"Range": "bytes=200000-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == "bytes */200000"
    head = requests.head(url, timeout=60)
    assert head.status_code == 200 and head.headers["Content-Length"] == "200000" and head.content == b""

    # One changed character anywhere in the link: refused.
    parts = urlsplit(url)
    sig = re.search(r"sig=([^&]+)", parts.query).group(1)
    flipped_sig = url.replace(f"sig={sig}", "sig=" + ("B" if sig[0] == "A" else "A") + sig[1:])
    expires = re.search(r"expires=(\d+)", parts.query).group(1)
    later = url.replace(f"expires={expires}", f"expires={int(expires) + 1}")
    path = parts.path
    other_file = url.replace(path, path[:-1] + ("x" if path[-1] != "x" else "y"))
    for bad in (flipped_sig, later, other_file, url.split("?")[0], url.replace("&sig=", "&sog=")):
        assert_problem(get(bad), 403, "forbidden")
    # The limit counts bytes served: 200,000 + 100 + 50 of 10 × 200,000, so 8 whole downloads
    # are left. Nothing refused was charged, nor the 416 or the HEAD.
    assert next(f for f in library(souk, buyer)[0]["files"])["downloads_left"] == 8

    # The seller's log shows each request with the buyer, the IP, the user agent and the bytes.
    log = seller.session.get(souk.url(f"/api/v1/products/{product['id']}/downloads"))
    assert log.status_code == 200, log.text
    rows = log.json()["data"]
    assert sorted((r["first_byte"], r["bytes"]) for r in rows) == [(0, 200_000), (100, 100), (199_950, 50)]
    for row in rows:
        assert row["user_email"] == buyer.email and row["ip"] == "127.0.0.1"
        assert row["user_agent"].startswith("python-requests/")
        assert row["file_id"] == file["id"] and row["file_name"] == "moth guide.pdf"
    assert_problem(buyer.session.get(souk.url(f"/api/v1/products/{product['id']}/downloads")), 404, "not_found")

    # The library page has the link and the nav points to it.
    page = buyer.session.get(souk.url("/library"), headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'href="/library"' in page.text and "moth guide.pdf" in page.text
    assert f'/download/{url.split("/")[4]}/{file["id"]}?expires=' in page.text


def test_limit_eleventh_download_is_refused_and_a_refund_revokes(make_souk):
    souk = make_souk(env=STORE)
    seller = cli_account(souk, "seller")
    product = seller.create("Quota Book", publish=True, price=700)
    data = content(5000)
    upload(souk, seller, product["id"], "quota.epub", data)
    buyer = api_account(souk, "buyer")
    order = buy(souk, buyer, [product["id"]])

    for n in range(10):
        response = get(link(souk, buyer, product["id"], "quota.epub"))
        assert response.status_code == 200, f"download {n + 1}: {response.text[:200]}"
        assert response.content == data
    assert library(souk, buyer)[0]["files"][0]["downloads_left"] == 0
    fresh = link(souk, buyer, product["id"], "quota.epub")
    # 10 × 5000 bytes were served: no range from any offset is served uncounted.
    for headers in ({}, {"Range": "bytes=0-99"}, {"Range": "bytes=1-"}, {"Range": "bytes=4000-"}):
        refused = assert_problem(get(fresh, headers=headers), 403, "forbidden")
        assert "download limit reached" in refused["detail"].lower(), refused
    log = seller.session.get(souk.url(f"/api/v1/products/{product['id']}/downloads")).json()["data"]
    assert len(log) == 10 and sum(r["bytes"] for r in log) == 50_000

    # A full refund revokes the purchase: even a fresh-looking link is refused.
    refund = seller.session.post(souk.url(f"/api/v1/orders/{order['id']}/refund"), json={})
    assert refund.status_code == 200, refund.text
    assert_problem(get(fresh, headers={"Range": "bytes=4000-"}), 403, "forbidden")
    assert library(souk, buyer) == []

    # A second purchase has a quota of its own; its refund revokes its link.
    second = api_account(souk, "buyer")
    paid = buy(souk, second, [product["id"]])
    url = link(souk, second, product["id"], "quota.epub")
    assert get(url).content == data
    assert seller.session.post(souk.url(f"/api/v1/orders/{paid['id']}/refund"), json={}).status_code == 200
    assert_problem(get(url), 403, "forbidden")


def limited_purchase(souk, data: bytes, limit: int, name: str = "atlas.zip"):
    """A product with `download_limit = limit` and one file, bought by a new buyer: (seller, product, buyer)."""
    seller = cli_account(souk, "seller")
    product = seller.create("Atlas", publish=True, price=900, download_limit=limit)
    upload(souk, seller, product["id"], name, data)
    buyer = api_account(souk, "buyer")
    buy(souk, buyer, [product["id"]])
    return seller, product, buyer


def downloads_log(souk, seller, product) -> list:
    response = seller.session.get(souk.url(f"/api/v1/products/{product['id']}/downloads"))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def assert_limit_reached(response):
    body = assert_problem(response, 403, "forbidden")
    assert "download limit reached" in body["detail"].lower(), body


def test_limit_2_serves_four_parallel_ranges_then_one_full_download_then_403(make_souk):
    souk = make_souk(env=STORE)
    size = 3 * MIB + 12_345
    data = content(size)
    seller, product, buyer = limited_purchase(souk, data, limit=2)
    url = link(souk, buyer, product["id"], "atlas.zip")

    # A download manager's four segments at arbitrary offsets, opened at once, last one first.
    cuts = [0, 777_777, 1_500_001, 2_345_678, size]
    segments = [(cuts[i], cuts[i + 1] - 1) for i in range(4)]
    answers = {}
    start = threading.Barrier(4)

    def fetch(segment, delay):
        start.wait()
        time.sleep(delay)
        first, last = segment
        answers[segment] = get(url, headers={"Range": f"bytes={first}-{last}"})

    threads = [threading.Thread(target=fetch, args=(segment, 0.05 * (3 - i))) for i, segment in enumerate(segments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for (first, last), answer in answers.items():
        assert answer.status_code == 206, answer.text[:300]
        assert answer.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert b"".join(answers[segment].content for segment in segments) == data
    assert library(souk, buyer)[0]["files"][0]["downloads_left"] == 1

    # Then once in full: the 2 × size bytes are spent.
    whole = get(url)
    assert whole.status_code == 200 and whole.content == data
    assert library(souk, buyer)[0]["files"][0]["downloads_left"] == 0
    for headers in ({"Range": "bytes=0-0"}, {"Range": f"bytes={size - 1}-"}, {"Range": "bytes=1-"}, {}):
        assert_limit_reached(get(link(souk, buyer, product["id"], "atlas.zip"), headers=headers))
    log = downloads_log(souk, seller, product)
    assert len(log) == 5 and sum(r["bytes"] for r in log) == 2 * size
    # The library page says so too.
    page = buyer.session.get(souk.url("/library"), headers={"Accept": "text/html"})
    assert page.status_code == 200 and "limit reached" in page.text


def read_part_then_drop(url: str, keep: int) -> bytes:
    """GETs `url` over a raw socket, reads `keep` body bytes, then drops the connection (as a
    laptop that lost its network would): the rest of the response is never read."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
    sock.sendall(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                 "User-Agent: e2e-interrupted/1.0\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, body = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200"), head
    chunks = [body]
    have = len(body)
    while have < keep:
        chunk = sock.recv(min(65536, keep - have))
        assert chunk, "the server closed early"
        chunks.append(chunk)
        have += len(chunk)
    # Unread data in the socket: close() sends a reset, the server's next writes fail.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    return b"".join(chunks)[:keep]


def test_a_download_interrupted_at_half_and_resumed_counts_once(make_souk):
    souk = make_souk(env=STORE)
    size = 64 * MIB
    data = os.urandom(size)
    seller, product, buyer = limited_purchase(souk, data, limit=2)
    url = link(souk, buyer, product["id"], "atlas.zip")

    half = read_part_then_drop(url, size // 2)
    assert half == data[: size // 2]
    # The server records what it wrote before the connection broke (more than the client read:
    # the rest was in flight in socket buffers); the reservation of the whole file is given back.
    wait_for(lambda: (log := downloads_log(souk, seller, product)) and log[0]["bytes"] < size,
             "the cut transfer to be settled", timeout=30)
    written = downloads_log(souk, seller, product)[0]["bytes"]
    assert size // 2 <= written < size

    # The resume asks again for the bytes that were in flight; they are charged once.
    rest = get(url, headers={"Range": f"bytes={size // 2}-"})
    assert rest.status_code == 206 and rest.headers["Content-Range"] == f"bytes {size // 2}-{size - 1}/{size}"
    assert half + rest.content == data
    log = downloads_log(souk, seller, product)
    assert sum(r["bytes"] for r in log) == size, log
    assert library(souk, buyer)[0]["files"][0]["downloads_left"] == 1

    # So one whole download is left, then nothing.
    assert get(link(souk, buyer, product["id"], "atlas.zip")).content == data
    assert_limit_reached(get(link(souk, buyer, product["id"], "atlas.zip"), headers={"Range": "bytes=0-0"}))


def metric(souk, name: str, **labels) -> float:
    """The value of one counter on /metrics, 0 when it was never counted."""
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    for line in requests.get(souk.url("/metrics"), timeout=10).text.splitlines():
        if line.startswith(name) and all(label in line for label in wanted):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_downloads_leave_by_sendfile_exact_across_regions_and_are_counted(make_souk):
    """The real server hands a download's bytes to the kernel (`sendfile`, in 4 MiB regions):
    a file of several regions and an odd size arrives exact, whole and in ranges that cross a
    region's edge or start inside one, on one connection kept alive between them, and the
    bytes are counted on /metrics as sent that way."""
    souk = make_souk(env=STORE)
    seller = cli_account(souk, "seller")
    product = seller.create("Regions", publish=True, price=900)
    region = 4 * MIB
    data = content(2 * region + 12_345)
    upload(souk, seller, product["id"], "regions.bin", data)
    buyer = api_account(souk, "buyer")
    buy(souk, buyer, [product["id"]])
    url = link(souk, buyer, product["id"], "regions.bin")

    session = requests.Session()  # one keep-alive connection for every request below
    whole = session.get(url, timeout=60)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["Content-Length"] == str(len(data))
    for first, last in ((region - 10, region + 9), (region + 1, 2 * region + 100), (0, 0),
                        (len(data) - 1, len(data) - 1), (3, region - 1)):
        part = session.get(url, headers={"Range": f"bytes={first}-{last}"}, timeout=60)
        assert part.status_code == 206, (first, last, part.status_code)
        assert part.content == data[first:last + 1], (first, last)
    tail = session.get(url, headers={"Range": "bytes=-5000"}, timeout=60)
    assert tail.status_code == 206 and tail.content == data[-5000:]
    # A plain request on the same connection after all of them still gets its own answer.
    assert session.get(souk.url("/healthz"), timeout=10).status_code == 200

    expected = len(data) + 20 + (2 * region + 100 - region) + 1 + 1 + (region - 3) + 5000
    wait_for(lambda: metric(souk, "souk_download_bytes", by="sendfile") == expected,
             "every byte counted as sent by sendfile", timeout=10)
    assert metric(souk, "souk_download_bytes", by="chunks") == 0
    log = downloads_log(souk, seller, product)
    assert sum(row["bytes"] for row in log) == expected


def test_expired_link_is_refused(make_souk):
    souk = make_souk(env={**STORE, "SOUK_DELIVERY_LINK_TTL_SECONDS": "10"})
    seller = cli_account(souk, "seller")
    product = seller.create("Short Lived", publish=True, price=300)
    upload(souk, seller, product["id"], "notes.txt", b"hello moths")
    buyer = api_account(souk, "buyer")
    buy(souk, buyer, [product["id"]])
    url = link(souk, buyer, product["id"], "notes.txt")
    expires = int(re.search(r"expires=(\d+)", url).group(1))
    assert expires - time.time() <= 10.5
    assert get(url).content == b"hello moths"
    # The same link signed as the server signs it, so a link whose expiry is already past is a
    # genuine one, not a forgery (no waiting for the clock to pass the real one's expiry).
    path = urlsplit(url).path
    assert sign_link(souk, path, expires) == url
    past = int(time.time()) - 1
    body = assert_problem(get(sign_link(souk, path, past)), 403, "forbidden")
    assert "expired" in body["detail"]
    # Moving the expiry into the past without the secret is an altered link.
    altered = assert_problem(get(url.replace(f"expires={expires}", f"expires={past}")), 403, "forbidden")
    assert "altered" in altered["detail"]
    # A fresh link from the library works again.
    assert get(link(souk, buyer, product["id"], "notes.txt")).status_code == 200


# --- acceptance: bounded memory ----------------------------------------------------------------------

def test_eight_parallel_one_gib_downloads_keep_memory_bounded(make_souk):
    souk = make_souk(env=STORE)
    seller = cli_account(souk, "seller")
    product = seller.create("Huge Dataset", publish=True, price=5000)
    hasher = hashlib.sha256()
    status, body, _ = raw_upload(souk, seller.token, product["id"], "dataset.bin", pattern_chunks(GIB, hasher), GIB)
    assert status == 201, body
    digest = hasher.hexdigest()
    assert body["sha256"] == digest
    warmup = content(8 * MIB)
    upload(souk, seller, product["id"], "warmup.bin", warmup)
    buyer = api_account(souk, "buyer")
    buy(souk, buyer, [product["id"]])
    pid = souk.process.pid

    # Warm up the download path (and its thread pool) so lazily allocated buffers are in the baseline.
    warm_url = link(souk, buyer, product["id"], "warmup.bin")
    assert sha256(get(warm_url).content) == sha256(warmup)
    time.sleep(0.5)
    baseline = rss_kb(pid)

    url = link(souk, buyer, product["id"], "dataset.bin")
    samples = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            samples.append(rss_kb(pid))
            time.sleep(0.05)

    results = [None] * 8

    def download(index):
        # Streamed and discarded as it arrives (one of them hashed), never held whole.
        digest_of = hashlib.sha256() if index == 0 else None
        received = 0
        with requests.get(url, stream=True, timeout=600) as response:
            status = response.status_code
            for chunk in response.iter_content(chunk_size=MIB):
                received += len(chunk)
                if digest_of is not None:
                    digest_of.update(chunk)
        results[index] = (status, received, digest_of.hexdigest() if digest_of else None)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.time()
    threads = [threading.Thread(target=download, args=(i,)) for i in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
    finally:
        stop.set()
        watcher.join()
    elapsed = time.time() - started
    time.sleep(0.5)
    after = rss_kb(pid)
    peak = max(samples + [after])
    growth_mb = (peak - baseline) / 1024
    print(f"\n8 × 1 GiB downloads: {elapsed:.1f} s ({8 * GIB / MIB / elapsed:.0f} MiB/s); VmRSS baseline "
          f"{baseline / 1024:.1f} MB, peak {peak / 1024:.1f} MB, after {after / 1024:.1f} MB, growth {growth_mb:.1f} MB "
          f"over {len(samples)} samples")

    assert all(r is not None for r in results), results
    assert all(status == 200 and received == GIB for status, received, _ in results), results
    assert results[0][2] == digest
    assert len(samples) > 10, "the watcher did not sample during the downloads"
    assert growth_mb < 32, f"resident memory grew by {growth_mb:.1f} MB during 8 parallel 1 GiB downloads"
    log = seller.session.get(souk.url(f"/api/v1/products/{product['id']}/downloads")).json()["data"]
    assert len([row for row in log if row["file_name"] == "dataset.bin"]) == 8
