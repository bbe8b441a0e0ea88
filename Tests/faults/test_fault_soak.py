"""Soak: a steady load at 70 % of the measured peak (20 s in the short run, 10 minutes in the full
one) over a mix of browsing, search, checkout and downloads -> no error, memory and open files
flat (start and end reported).

The store: the demo catalog (`souk demo seed`, 200 products from 4 sellers) plus three products
with files. Each load thread is one visitor who browses anonymously (home, categories, product
pages, search pages and the search API with the benchmark's query mix), and one signed-in customer
who downloads files from their library and buys (cart, checkout with the test provider, Pay, the
success page; a new customer signs up when one has bought enough).

1. Warm-up: every product and category page once, then the peak: unthrottled, with 4, 8 and 16
   threads (stopping when more threads stop helping), for a few seconds each.
2. The soak at 70 % of the best rate, paced request by request, on 16 threads (so that the pace,
   not the threads' latency, sets the rate; SOUK_FAULTS_SOAK_THREADS=n caps the threads). The
   server's VmRSS and open descriptors are read at the start and the end with the clients'
   connections closed (so only the server's own descriptors count), and sampled each second.
3. Checks:
   - the server never stops answering: no answer to any outstanding request for 20 s fails the
     test at once, with every thread's stack (gdb) in `hung-server-backtraces.txt` beside the
     server's log and a summary in the failure;
   - no answer >= 500, no unexpected status, no connection error, no error line in the log;
     every order paid during the run completed, no job dead;
   - descriptors within 4 of the start (room for SQLite's WAL and shm files being open or not);
   - resident memory grown less than 32 MiB. Measured: +1 to +5 MiB, in 20 s (about 2,000
     requests) as in 10 minutes (26,000); the warm-up has filled the page cache, the search
     index, SQLite's page cache and the allocator's pools. Over the full run a leak of about
     1.2 KiB a request exceeds the margin; the short run only catches a gross leak (~16 KiB)."""
import random
import re
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

from fault_helpers import (SCALE, backtraces, fd_kinds, kill_9, open_fds, orders, parallel, report, rss_kb,
                           wait_for, wait_jobs_settled)
from souk_e2e_conftest import Souk
from test_catalog_api import api_account, cli_account

ROOT = Path(__file__).resolve().parents[2]
STORE = {
    "SOUK_JOBS_POLL_MILLISECONDS": "100",
    "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "0",
    "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "0",
    "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
    "SOUK_LIMITS_GUEST_CHECKOUTS_PER_IP_PER_HOUR": "0",
    "SOUK_DELIVERY_DOWNLOAD_LIMIT": "0",  # customers download their files as often as they like
}
REQUEST_TIMEOUT = 60
STALL_SECONDS = 20  # no answer to any of the outstanding requests for this long: the server hangs
FD_MARGIN = 4
RSS_MARGIN_MB = 32
BUYS_PER_CUSTOMER = 20
# What a visitor does, with weights (out of 100).
# A checkout is five requests (cart, checkout, the provider's page, Pay, the success page), a
# download one or two (the library's links, the file): about a sixth of the requests buy.
MIX = {"home": 10, "category": 8, "product": 30, "search_page": 17, "search_api": 15, "library": 4, "download": 12,
       "checkout": 4}
# Load threads tried for the peak (SOUK_FAULTS_SOAK_THREADS caps them; the soak uses the cap).
THREADS = tuple(n for n in (4, 8, 16) if n < SCALE["soak_threads"]) + (SCALE["soak_threads"],)


def query_mix() -> list[str]:
    lines = (ROOT / "Benchmarks" / "queries.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


class Pacer:
    """Spaces requests evenly at `rate` a second across all threads (None: as fast as they go)."""

    def __init__(self, rate: float | None):
        self.interval = 1.0 / rate if rate else 0.0
        self.lock = threading.Lock()
        self.next = time.monotonic()

    def wait(self):
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(self.next, now)
            self.next = slot + self.interval
        time.sleep(max(0.0, slot - now))


class Load:
    """The store under load, and what the visitors saw."""

    def __init__(self, souk: Souk, catalog: list[dict], categories: list[str], file_products: list[dict]):
        self.souk = souk
        self.catalog = catalog
        self.categories = categories
        self.file_products = file_products
        self.queries = query_mix()
        self.lock = threading.Lock()
        self.requests = Counter()  # op -> requests
        self.errors: list[str] = []
        self.order_ids: list[str] = []
        self.downloaded_bytes = 0
        self.in_flight = 0
        self.last_answer = time.monotonic()
        self.stall: str | None = None

    # --- one visitor ------------------------------------------------------------------------------

    def visitor(self, number: int) -> dict:
        """A visitor's state: an anonymous session and a signed-in customer who owns the files."""
        customer = api_account(self.souk, "buyer", f"soak-{number}-{uuid.uuid4().hex[:6]}@example.com")
        for product in self.file_products:
            self.buy(customer.session, product["id"], op="setup")
        return {"anonymous": requests.Session(), "customer": customer, "buyer": customer.session,
                "owned": {p["id"] for p in self.file_products}, "rng": random.Random(number), "library": None}

    def run(self, visitor: dict, until: float, pacer: Pacer):
        rng = visitor["rng"]
        ops, weights = zip(*MIX.items())
        while time.monotonic() < until and self.stall is None:
            op = rng.choices(ops, weights)[0]
            try:
                getattr(self, op)(visitor, rng, pacer)
            except requests.RequestException as error:
                self.error(f"{op}: {type(error).__name__}: {error}")
                self.close(visitor)

    def close(self, visitor: dict):
        """Closes the visitor's connections (the sessions keep their cookies)."""
        for session in (visitor["anonymous"], visitor["customer"].session, visitor["buyer"]):
            session.close()

    # --- requests ---------------------------------------------------------------------------------

    def error(self, text: str):
        with self.lock:
            self.errors.append(text)

    def get(self, session, path_or_url: str, op: str, pacer: Pacer, expect=(200,), **options):
        pacer.wait()
        url = path_or_url if path_or_url.startswith("http") else self.souk.url(path_or_url)
        response = self.send(session, "GET", url, **options)
        self.count(op, response, expect, "GET", url)
        return response

    def post(self, session, path: str, op: str, pacer: Pacer, expect, **options):
        pacer.wait()
        response = self.send(session, "POST", self.souk.url(path), **options)
        self.count(op, response, expect, "POST", path)
        return response

    def send(self, session, method: str, url: str, **options):
        with self.lock:
            self.in_flight += 1
        try:
            return session.request(method, url, timeout=REQUEST_TIMEOUT, **options)
        finally:
            with self.lock:
                self.in_flight -= 1
                self.last_answer = time.monotonic()

    def watch(self, threads: list[threading.Thread]):
        """Fails the run at once, with the server's stacks, when it stops answering: requests
        outstanding and none answered for STALL_SECONDS. (The server is then killed, so that the
        waiting requests end now rather than at their timeout.)"""
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
            with self.lock:
                stalled = self.in_flight and time.monotonic() - self.last_answer > STALL_SECONDS
                waiting = self.in_flight
            if stalled and self.stall is None:
                evidence = backtraces(self.souk.process.pid, self.souk.workdir / "hung-server-backtraces.txt")
                self.stall = (f"the server stopped answering: {waiting} requests waited {STALL_SECONDS} s with none "
                              f"answered (after {sum(self.requests.values())} requests); {evidence}")
                kill_9(self.souk)

    def count(self, op: str, response, expect, method: str, url: str):
        with self.lock:
            self.requests[op] += 1
        if response.status_code not in expect:
            self.error(f"{op}: {method} {url} -> {response.status_code}: {response.text[:300]}")

    # --- the mix ----------------------------------------------------------------------------------

    def home(self, visitor, rng, pacer):
        self.get(visitor["anonymous"], "/", "home", pacer)

    def category(self, visitor, rng, pacer):
        self.get(visitor["anonymous"], f"/categories/{rng.choice(self.categories)}", "category", pacer)

    def product(self, visitor, rng, pacer):
        product = rng.choice(self.catalog)
        if rng.random() < 0.2:
            self.get(visitor["anonymous"], f"/api/v1/products/{product['id']}", "product", pacer)
        else:
            self.get(visitor["anonymous"], f"/products/{product['slug']}", "product", pacer)

    def search_page(self, visitor, rng, pacer):
        self.get(visitor["anonymous"], "/search?" + rng.choice(self.queries), "search_page", pacer)

    def search_api(self, visitor, rng, pacer):
        self.get(visitor["anonymous"], "/api/v1/products?" + rng.choice(self.queries), "search_api", pacer)

    def library(self, visitor, rng, pacer):
        self.get(visitor["customer"].session, "/library", "library", pacer)

    def download(self, visitor, rng, pacer):
        session = visitor["customer"].session
        if visitor["library"] is None or rng.random() < 0.25:
            answer = self.get(session, "/api/v1/library", "download", pacer)
            if answer.status_code != 200:
                return
            visitor["library"] = [f["download_url"] for entry in answer.json()["data"] for f in entry["files"]]
        if not visitor["library"]:
            return self.error("download: the customer's library has no file")
        downloaded = self.get(session, rng.choice(visitor["library"]), "download", pacer)
        with self.lock:
            self.downloaded_bytes += len(downloaded.content)

    def checkout(self, visitor, rng, pacer):
        if len(visitor["owned"]) >= BUYS_PER_CUSTOMER:
            # A new customer signs up and buys from now on (the first one still downloads).
            email = f"soak-new-{uuid.uuid4().hex[:10]}@example.com"
            session = requests.Session()
            signed_up = self.post(session, "/api/v1/auth/register", "checkout", pacer, (201,),
                                  json={"email": email, "password": "correct horse", "name": "Soak", "role": "buyer"})
            if signed_up.status_code != 201:
                return
            if visitor["buyer"] is not visitor["customer"].session:
                visitor["buyer"].close()
            visitor["buyer"] = session
            visitor["owned"] = set()
        product = rng.choice([p for p in self.catalog if p["id"] not in visitor["owned"]])
        if self.buy(visitor["buyer"], product["id"], "checkout", pacer):
            visitor["owned"].add(product["id"])

    def buy(self, session, product_id: str, op: str, pacer: Pacer | None = None) -> bool:
        """Cart, checkout with the test provider, its page, Pay, the success page."""
        pacer = pacer or Pacer(None)
        added = self.post(session, "/api/v1/cart/items", op, pacer, (200, 201), json={"product_id": product_id})
        if added.status_code not in (200, 201):
            return False
        placed = self.post(session, "/api/v1/checkout", op, pacer, (201,), json={"provider": "test"},
                           headers={"Idempotency-Key": str(uuid.uuid4())})
        if placed.status_code != 201:
            return False
        redirect = placed.json()["redirect_url"]
        hosted = self.get(session, redirect, op, pacer)
        if "/test-checkout/" not in redirect:
            # A free product: no payment, the redirect is the order's page.
            with self.lock:
                self.order_ids.append(placed.json()["order"]["id"])
            return True
        csrf = re.search(r'name="_csrf" value="([^"]+)"', hosted.text)
        if not csrf:
            self.error(f"{op}: no Pay form on {redirect}")
            return False
        paid = self.post(session, f"/test-checkout/{redirect.rsplit('/', 1)[1]}/pay", op, pacer, (303,),
                         data={"_csrf": csrf.group(1)}, allow_redirects=False)
        if paid.status_code != 303:
            return False
        self.get(session, paid.headers["Location"], op, pacer)
        with self.lock:
            self.order_ids.append(placed.json()["order"]["id"])
        return True

    # --- phases -----------------------------------------------------------------------------------

    def drive(self, visitors: list[dict], seconds: float, rate: float | None) -> tuple[int, float]:
        """All visitors for `seconds` (paced at `rate` requests a second, or unthrottled);
        returns (requests, elapsed)."""
        pacer = Pacer(rate)
        before = sum(self.requests.values())
        started = time.monotonic()
        threads = [threading.Thread(target=self.run, args=(v, started + seconds, pacer), daemon=True) for v in visitors]
        for thread in threads:
            thread.start()
        self.watch(threads)
        assert self.stall is None, self.stall
        return sum(self.requests.values()) - before, time.monotonic() - started


def settled_fds(pid: int) -> int:
    """The server's open descriptors once the closed client connections are gone (the count is
    the same for a second)."""
    last = {"value": None}

    def steady():
        first = open_fds(pid)
        time.sleep(1.0)
        second = open_fds(pid)
        last["value"] = second
        return second if first == second else None

    return wait_for(steady, "the server's descriptors to settle", timeout=30, interval=0.1)


@pytest.fixture
def seeded_store(tmp_path):
    """A store with the demo catalog, seeded before the server starts (as an operator would)."""
    souk = Souk(tmp_path / "store", STORE, None)
    souk.workdir.mkdir()
    souk.cli("migrate")
    souk.cli("demo", "seed", "--products", "200", "--sellers", "4", "--seed", "15")
    souk.start()
    yield souk
    souk.stop()


def test_soak_at_seventy_percent_of_peak_has_no_errors_and_flat_memory_and_descriptors(seeded_store):
    souk = seeded_store
    pid = souk.process.pid
    soak_seconds, peak_seconds = SCALE["soak_seconds"], SCALE["peak_seconds"]

    seller = cli_account(souk, "seller")
    file_products = []
    for index, size in enumerate((64 * 1024, 256 * 1024, 512 * 1024)):
        product = seller.create(f"Soak Sample Pack {index}", publish=True, price=300 + index * 100)
        uploaded = requests.post(souk.url(f"/api/v1/products/{product['id']}/files"),
                                 params={"filename": f"pack-{index}.zip"}, data=random.randbytes(size),
                                 headers={**seller.bearer, "Content-Type": "application/octet-stream"})
        assert uploaded.status_code == 201, uploaded.text
        file_products.append(product)
    catalog, cursor = [], None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = requests.get(souk.url("/api/v1/products"), params=params)
        assert page.status_code == 200, page.text
        catalog += page.json()["data"]
        cursor = page.json().get("next_cursor")
        if not cursor:
            break
    assert len(catalog) >= 200, len(catalog)
    categories = sorted({p["category"] for p in catalog if p.get("category")})
    load = Load(souk, catalog, categories, file_products)

    # 1. Warm-up, then the peak with as many threads as help.
    visitors = parallel(load.visitor, range(THREADS[-1]), workers=4)
    warm = requests.Session()
    for product in catalog:
        assert warm.get(souk.url(f"/products/{product['slug']}")).status_code == 200
    for name in categories:
        assert warm.get(souk.url(f"/categories/{name}")).status_code == 200
    warm.close()
    peaks = {}
    for threads in THREADS:
        done, took = load.drive(visitors[:threads], peak_seconds, None)
        best_before = max(peaks.values(), default=0)
        peaks[threads] = done / took
        if peaks[threads] < 1.1 * best_before:  # more threads stopped helping
            break
    best_threads = max(peaks, key=peaks.get)
    peak = peaks[best_threads]
    rate = 0.7 * peak
    assert not load.errors, f"{len(load.errors)} errors under the peak load: {load.errors[:10]}"

    # 2. The soak.
    for visitor in visitors:
        load.close(visitor)
    start_fds, start_rss, start_kinds = settled_fds(pid), rss_kb(pid), fd_kinds(pid)
    log_start = souk.log_path.stat().st_size
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.wait(1.0):
            samples.append((rss_kb(pid), open_fds(pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    requests_before = Counter(load.requests)
    orders_before = len(load.order_ids)
    try:
        # Every visitor, so that the pacer, not the threads' latency, sets the rate.
        done, took = load.drive(visitors, soak_seconds, rate)
    finally:
        stop.set()
        sampler.join()
    for visitor in visitors:
        load.close(visitor)
    end_fds, end_rss, end_kinds = settled_fds(pid), rss_kb(pid), fd_kinds(pid)
    with open(souk.log_path, "rb") as log:
        log.seek(log_start)
        log_errors = [line for line in log.read().decode(errors="replace").splitlines()
                      if re.search(r"\+\d{4} (error|critical) ", line)]

    mix = Counter(load.requests)
    mix.subtract(requests_before)
    soak_orders = len(load.order_ids) - orders_before
    peak_rss = max([end_rss] + [s[0] for s in samples])
    fds_seen = [s[1] for s in samples]
    report(f"soak: peak {peak:.0f} req/s ({', '.join(f'{t} threads {r:.0f}/s' for t, r in peaks.items())}); "
           f"{took:.0f} s at {done / took:.0f} req/s ({done / took / peak:.0%} of peak, target 70%) on {len(visitors)} "
           f"threads: {done} requests ({', '.join(f'{op} {n}' for op, n in sorted(mix.items()) if n)}), "
           f"{soak_orders} orders, {load.downloaded_bytes / 1048576:.0f} MiB downloaded in all; "
           f"{len(load.errors)} errors, {len(log_errors)} error lines in the log")
    report(f"  server VmRSS start {start_rss / 1024:.1f} MiB, end {end_rss / 1024:.1f} MiB "
           f"({(end_rss - start_rss) / 1024:+.1f} MiB, peak {peak_rss / 1024:.1f} MiB); open descriptors start "
           f"{start_fds}, end {end_fds} (with clients connected: {min(fds_seen, default=0)}.."
           f"{max(fds_seen, default=0)})")

    assert not load.errors, f"{len(load.errors)} errors during the soak: {load.errors[:10]}"
    assert not log_errors, f"{len(log_errors)} error lines in the server's log: {log_errors[:10]}"
    assert done / took >= 0.5 * peak, f"the load fell to {done / took:.0f} req/s (peak {peak:.0f})"
    # Every order paid during the run completed; nothing left dead in the queue.
    all_jobs = wait_jobs_settled(souk, timeout=120)
    assert not [j for j in all_jobs if j["state"] == "dead"], [j for j in all_jobs if j["state"] == "dead"][:5]
    statuses = {o["id"]: o["status"] for o in orders(souk)}
    assert all(statuses[o] == "completed" for o in load.order_ids), Counter(statuses[o] for o in load.order_ids)
    # Flat: descriptors and memory.
    assert end_fds <= start_fds + FD_MARGIN, f"descriptors grew {start_fds} -> {end_fds}: {start_kinds} -> {end_kinds}"
    assert (end_rss - start_rss) / 1024 < RSS_MARGIN_MB, \
        f"resident memory grew {(end_rss - start_rss) / 1024:.1f} MiB ({start_rss} -> {end_rss} KiB)"
