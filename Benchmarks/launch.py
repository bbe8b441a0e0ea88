#!/usr/bin/env python3
"""The launch-day figures of issue 15 that need a running store and an anchor measured in the
same run, on the same cores:

  idle      start to healthy and resident memory of an empty store (`souk serve` on a new data
            dir), against a bare Hummingbird 2 server answering one route
            (Benchmarks/bare-hummingbird, built the same way). Median of 3 starts each.
  ceiling   GET /healthz under wrk from Souk, the bare Hummingbird server and nginx: what the
            HTTP stack allows on these cores, the bound of every page figure.
  webhooks  N orders placed through a fake Stripe, then each order's signed
            `checkout.session.completed` posted once by wrk (Benchmarks/webhooks.lua), 16 at a
            time: webhooks accepted per second,
            and orders fulfilled end to end per second (from the first delivery until every order
            is completed: license key, access, receipt e-mail sent to an SMTP sink). The anchor:
            raw SQLite, transactions of 5 row inserts in WAL mode with Souk's pragmas
            (synchronous = NORMAL), committed one after another for the same number of seconds.
  downloads a file of M MiB bought with the test provider, fetched through its signed link by wrk
            at 1 and 16 connections; the anchor is nginx serving the same bytes (sendfile). The
            store's resident memory is sampled during each run: the growth is peak − before.

Each figure prints as one line: what, Souk's figure, the anchor, the ratio, the target, met or not.

Usage: Benchmarks/launch.py --souk BIN --bare BIN [--work DIR] [--seconds S] [--orders N]
       [--file-mib M] [only…]   (only: any of idle ceiling webhooks downloads; default all)
Run by Benchmarks/run.sh; needs the end-to-end suite's venv (Tests/e2e/requirements.txt), wrk
and nginx.
"""
import argparse
import http.client
import importlib.util
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--souk", required=True, help="the souk binary (release build)")
    parser.add_argument("--bare", required=True, help="the bare Hummingbird binary")
    parser.add_argument("--work", help="a scratch folder (default: a new temporary one)")
    parser.add_argument("--seconds", type=float, default=10, help="length of each timed run")
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--file-mib", type=int, default=256)
    parser.add_argument("only", nargs="*", help="any of: idle ceiling webhooks downloads (default: all)")
    arguments = parser.parse_args()
    unknown = set(arguments.only) - {"idle", "ceiling", "webhooks", "downloads"}
    if unknown:
        parser.error(f"unknown figures {sorted(unknown)}: choose among idle, ceiling, webhooks, downloads")
    # The servers run in scratch folders: absolute paths.
    arguments.souk = str(Path(arguments.souk).resolve())
    arguments.bare = str(Path(arguments.bare).resolve())
    return arguments


ARGS = parse_arguments()
# The end-to-end suite's helpers (Souk, the fake Stripe, the SMTP sink, accounts, checkout), loaded
# as the fault suite loads them: its conftest module makes them importable.
os.environ["SOUK_BIN"] = ARGS.souk
for folder in (ROOT / "Tests" / "faults", ROOT / "Tests" / "e2e"):
    sys.path.insert(0, str(folder))
_spec = importlib.util.spec_from_file_location("conftest", ROOT / "Tests" / "faults" / "conftest.py")
conftest = importlib.util.module_from_spec(_spec)
sys.modules["conftest"] = conftest
_spec.loader.exec_module(conftest)

from fake_stripe import FakeStripe, signature_header, stripe_env  # noqa: E402
from fault_shop import Storefront, paid_events  # noqa: E402
from smtp_sink import SMTPSink  # noqa: E402
from test_catalog_api import MIB, api_account, cli_account, raw_upload  # noqa: E402
from test_downloads import buy, link  # noqa: E402

Souk = conftest.Souk
free_port = conftest.free_port


# --- output --------------------------------------------------------------------------------------

def figure(what: str, souk: str, anchor: str, ratio: float | None, target: str, met: bool | None):
    """One figure; `met` None for a figure shown for what it explains, with no target of its own."""
    shown = f"{ratio:6.2f}×" if ratio is not None else "      —"
    verdict = "" if met is None else "met" if met else "NOT MET"
    print(f"{what:<44} {souk:>22}  {anchor:<34} {shown}  target {target:<8} {verdict}", flush=True)


def detail(line: str):
    print(f"  {line}", flush=True)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory in MB: VmRSS (all of it), RssAnon (private: heap, stacks) or RssFile
    (pages of the binary and libraries mapped in, shared and reclaimable)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 60) -> float:
    """Seconds from now until GET /healthz answers 200 (polled every millisecond)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode} before it was healthy")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.001)
    raise RuntimeError(f"no healthy answer on port {port} within {timeout} s")


# --- idle memory and start -----------------------------------------------------------------------

def start_and_measure(command: list[str], port: int, env: dict, cwd: Path) -> tuple[float, float, float]:
    """(ms from exec to healthy, resident MB and private resident MB two seconds later, idle) of one start."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        wait_healthy(port, process)
        healthy_ms = (time.monotonic() - started) * 1000
        time.sleep(2)
        return healthy_ms, rss_mb(process.pid), rss_mb(process.pid, "RssAnon")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def idle(work: Path):
    souk_runs, bare_runs = [], []
    for attempt in range(3):
        port = free_port()
        data = work / f"idle-{attempt}"
        env = {**os.environ, "SOUK_STORAGE_DATA_DIR": str(data), "SOUK_SERVER_PORT": str(port),
               "SOUK_LOG_LEVEL": "warning"}
        souk_runs.append(start_and_measure([ARGS.souk, "serve"], port, env, work))
        port = free_port()
        bare_runs.append(start_and_measure([ARGS.bare, str(port)], port, dict(os.environ), work))
    souk_ms = statistics.median(r[0] for r in souk_runs)
    souk_mb = statistics.median(r[1] for r in souk_runs)
    bare_ms = statistics.median(r[0] for r in bare_runs)
    bare_mb = statistics.median(r[1] for r in bare_runs)
    souk_private = statistics.median(r[2] for r in souk_runs)
    bare_private = statistics.median(r[2] for r in bare_runs)
    figure("idle memory, empty store (VmRSS)", f"{souk_mb:.1f} MB", f"bare Hummingbird {bare_mb:.1f} MB",
           souk_mb / bare_mb, "≤ 1.10×", souk_mb <= 1.1 * bare_mb)
    figure("  of which private (RssAnon)", f"{souk_private:.1f} MB", f"bare Hummingbird {bare_private:.1f} MB",
           souk_private / bare_private, "≤ 1.10×", souk_private <= 1.1 * bare_private)
    figure("start to healthy, empty store", f"{souk_ms:.0f} ms", f"bare Hummingbird {bare_ms:.0f} ms",
           souk_ms / bare_ms, "≤ 300 ms", souk_ms <= 300)


def wrk_summary(url: str, threads: int = 2, connections: int = 64) -> dict:
    """wrk's figures (plain.lua's JSON line: requests, qps, p50_ms, p99_ms, bytes_per_s)."""
    output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{ARGS.seconds:.0f}s", "--latency",
                             "--timeout", "60s", "-s", str(ROOT / "Benchmarks" / "plain.lua"), url],
                            capture_output=True, text=True, check=True).stdout
    summary = json.loads(next(line[5:] for line in output.splitlines() if line.startswith("JSON ")))
    if summary["errors"]:
        raise RuntimeError(f"wrk saw {summary['errors']} errors against {url}")
    return summary


def ceiling(work: Path):
    """What the HTTP stack itself allows on these cores: GET /healthz (a few bytes) from Souk, from
    a bare Hummingbird server and from nginx (a file), same wrk command. Every page figure is
    bounded by the first; the second is the framework's own ceiling."""
    static = work / "ceiling-static"
    static.mkdir(parents=True, exist_ok=True)
    for folder in (work, static):
        folder.chmod(0o755)
    (static / "healthz").write_text('{"status":"ok"}')
    nginx, nginx_port = start_nginx(static, work / "ceiling-nginx")
    servers = []
    try:
        port = free_port()
        env = {**os.environ, "SOUK_STORAGE_DATA_DIR": str(work / "ceiling-data"), "SOUK_SERVER_PORT": str(port),
               "SOUK_LOG_LEVEL": "warning", "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0"}
        souk = subprocess.Popen([ARGS.souk, "serve"], cwd=work, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        servers.append(souk)
        wait_healthy(port, souk)
        souk_qps = wrk_summary(f"http://127.0.0.1:{port}/healthz")["qps"]
        souk.send_signal(signal.SIGTERM)
        souk.wait(timeout=15)
        port = free_port()
        bare = subprocess.Popen([ARGS.bare, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers.append(bare)
        wait_healthy(port, bare)
        bare_qps = wrk_summary(f"http://127.0.0.1:{port}/healthz")["qps"]
        nginx_qps = wrk_summary(f"http://127.0.0.1:{nginx_port}/healthz")["qps"]
    finally:
        for server in servers:
            if server.poll() is None:
                server.kill()
                server.wait()
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=15)
    figure("GET /healthz, wrk -t2 -c64 (no target)", f"{souk_qps:.0f}/s", f"nginx {nginx_qps:.0f}/s",
           souk_qps / nginx_qps, "—", True)
    figure("  bare Hummingbird, same request", f"{bare_qps:.0f}/s", f"nginx {nginx_qps:.0f}/s",
           bare_qps / nginx_qps, "—", True)


# --- webhooks ------------------------------------------------------------------------------------

def sqlite_commit_rate(path: Path, seconds: float) -> float:
    """Transactions of 5 row inserts per second, raw SQLite in WAL mode with Souk's pragmas."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, amount INTEGER NOT NULL, "
               "payload TEXT NOT NULL, created_at TEXT NOT NULL)")
    payload = "x" * 200
    commits = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        db.execute("BEGIN IMMEDIATE")
        for row in range(5):
            db.execute("INSERT INTO rows (owner, amount, payload, created_at) VALUES (?, ?, ?, ?)",
                       (f"ord_{commits}", row, payload, "2026-12-06T00:00:00Z"))
        db.execute("COMMIT")
        commits += 1
    elapsed = time.monotonic() - started
    db.close()
    return commits / elapsed


def completed_orders(database: Path) -> int:
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT count(*) FROM orders WHERE status = 'completed'").fetchone()[0]
    finally:
        db.close()


def webhooks(work: Path):
    fake = FakeStripe().start()
    sink = SMTPSink().start()
    souk = Souk(work / "webhooks", stripe_env(fake, SOUK_MAIL_SMTP_URL=sink.url, SOUK_LOG_LEVEL="warning",
                                              SOUK_JOBS_POLL_MILLISECONDS=50), None)
    souk.workdir.mkdir(parents=True, exist_ok=True)
    souk.start()
    try:
        shop = Storefront(souk)
        placed = shop.place_stripe_orders(ARGS.orders)
        # Signed in advance (Stripe's tolerance is five minutes), so the client's own work is not timed.
        payloads = []
        for order_id, _ in placed:
            [built] = paid_events(fake, order_id)
            body = json.dumps(built, indent=2)
            payloads.append((body.encode(), signature_header(body)))
        before = completed_orders(souk.data_dir / "souk.db")

        # Posted by wrk (Benchmarks/webhooks.lua), 16 connections on 2 threads, each webhook once:
        # Python's http.client on threads could not post more than ~2,250 requests/s here.
        batch = work / "webhooks.txt"
        with batch.open("wb") as out:
            for body, signature in payloads:
                out.write(b"/webhooks/stripe\n" + signature.encode() + b"\n" + str(len(body)).encode() + b"\n" + body + b"\n")
        started = time.monotonic()
        # wrk sleeps its whole -d before it reports, even once every thread has stopped: it is
        # interrupted (SIGINT: it stops and reports) once every order is completed.
        posting = subprocess.Popen(
            ["wrk", "-t2", "-c16", f"-d{60 + ARGS.orders // 10}s", "--latency", "-s", str(ROOT / "Benchmarks" / "webhooks.lua"),
             f"http://127.0.0.1:{souk.port}", "--", str(batch), "2"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = started + 120 + ARGS.orders
        while completed_orders(souk.data_dir / "souk.db") < before + ARGS.orders:
            if time.monotonic() > deadline or posting.poll() is not None:
                posting.kill()
                raise RuntimeError(f"not every paid order was completed in time: {posting.communicate()[0][-2000:]}")
            time.sleep(0.02)
        fulfilled_seconds = time.monotonic() - started
        time.sleep(0.5)  # the last answers on their way back to wrk
        posting.send_signal(signal.SIGINT)
        output = posting.communicate(timeout=30)[0]
        summary = json.loads(next(line[5:] for line in output.splitlines() if line.startswith("JSON ")))
        accepted_seconds = summary["seconds"]
        if summary["answered"] != ARGS.orders or summary["refused"]:
            raise RuntimeError(f"webhooks not all answered 200: {summary}")
        receipts = sink.wait_for(ARGS.orders, timeout=60)
        # The same webhooks again: each is found already recorded and answered without a write.
        # What the HTTP path, the signature and the JSON cost alone: the ceiling of any design
        # that must at least read the event before it answers.
        again = subprocess.Popen(
            ["wrk", "-t2", "-c16", "-d30s", "-s", str(ROOT / "Benchmarks" / "webhooks.lua"),
             f"http://127.0.0.1:{souk.port}", "--", str(batch), "2"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(2 + ARGS.orders / 2000)
        again.send_signal(signal.SIGINT)
        repeated = json.loads(next(line[5:] for line in again.communicate(timeout=30)[0].splitlines()
                                   if line.startswith("JSON ")))
        if repeated["answered"] != ARGS.orders or repeated["refused"]:
            raise RuntimeError(f"repeated webhooks not all answered 200: {repeated}")
    finally:
        souk.stop()
        sink.stop()
        fake.stop()

    anchor = sqlite_commit_rate(work / "anchor.sqlite", ARGS.seconds)
    accepted = ARGS.orders / accepted_seconds
    fulfilled = ARGS.orders / fulfilled_seconds
    detail(f"{ARGS.orders} paid orders: webhooks all answered in {accepted_seconds:.2f} s (each answered in "
           f"p50 {summary['p50_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms), every order completed "
           f"(fulfilled, receipt sent) {fulfilled_seconds:.2f} s after the first; {len(receipts)} e-mails "
           f"(receipts and sale notices)")
    figure("webhooks accepted", f"{accepted:.0f}/s", f"raw SQLite 5-row commits {anchor:.0f}/s",
           accepted / anchor, "≥ 0.30×", accepted >= 0.3 * anchor)
    figure("  the same webhooks again (already recorded)", f"{ARGS.orders / repeated['seconds']:.0f}/s",
           f"raw SQLite 5-row commits {anchor:.0f}/s", ARGS.orders / repeated["seconds"] / anchor, "—", None)
    figure("orders fulfilled end to end", f"{fulfilled:.0f}/s", f"raw SQLite 5-row commits {anchor:.0f}/s",
           fulfilled / anchor, "≥ 0.20×", fulfilled >= 0.2 * anchor)


# --- downloads -----------------------------------------------------------------------------------

def wrk_bytes_per_second(url: str, connections: int, pid: int | None) -> tuple[float, float]:
    """(MB/s over `connections` connections, resident growth in MB of process `pid` meanwhile)."""
    samples, stop = [], threading.Event()
    before = rss_mb(pid) if pid else 0.0

    def watch():
        while not stop.is_set():
            samples.append(rss_mb(pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    if pid:
        watcher.start()
    try:
        summary = wrk_summary(url, threads=min(connections, 2), connections=connections)
    finally:
        stop.set()
        if pid:
            watcher.join()
    return summary["bytes_per_s"] / 1e6, (max(samples) - before if samples else 0.0)


def start_nginx(root: Path, work: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    (work / "nginx").mkdir(parents=True, exist_ok=True)
    conf = work / "nginx" / "nginx.conf"
    conf.write_text(f"""worker_processes {os.cpu_count()};
error_log {work}/nginx/error.log warn;
pid {work}/nginx/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  default_type application/octet-stream;
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
""")
    process = subprocess.Popen(["nginx", "-p", str(work / "nginx"), "-c", str(conf), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_healthy_file(port, process)
    return process, port


def wait_healthy_file(port: int, process: subprocess.Popen):
    for _ in range(500):
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with status {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("HEAD", "/")
            connection.getresponse()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("nginx did not answer")


def downloads(work: Path):
    size = ARGS.file_mib * MIB
    static = work / "static"
    static.mkdir(parents=True, exist_ok=True)
    # nginx's workers run as an unprivileged user: they must be able to reach the file.
    for folder in (work, static):
        folder.chmod(0o755)
    file = static / "dataset.bin"
    with open(file, "wb") as out:
        block = bytearray(os.urandom(MIB))
        for index in range(ARGS.file_mib):
            block[0:8] = index.to_bytes(8, "little")
            out.write(block)
    souk = Souk(work / "downloads", {"SOUK_STORE_MARKETPLACE": "true", "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
                                     "SOUK_JOBS_POLL_MILLISECONDS": "100", "SOUK_DELIVERY_DOWNLOAD_LIMIT": "0",
                                     "SOUK_DELIVERY_LINK_TTL_SECONDS": "3600", "SOUK_LOG_LEVEL": "warning"}, None)
    souk.workdir.mkdir(parents=True, exist_ok=True)
    souk.start()
    nginx, nginx_port = start_nginx(static, work)
    try:
        seller = cli_account(souk, "seller")
        product = seller.create("Launch Dataset", publish=True, price=2500)

        def chunks():
            with open(file, "rb") as source:
                while chunk := source.read(MIB):
                    yield chunk

        status, body, _ = raw_upload(souk, seller.token, product["id"], "dataset.bin", chunks(), size)
        if status != 201:
            raise RuntimeError(f"upload refused: {status} {body}")
        buyer = api_account(souk, "buyer")
        buy(souk, buyer, [product["id"]])
        url = link(souk, buyer, product["id"], "dataset.bin")
        check = subprocess.run(["curl", "-sf", "-o", "/dev/null", "-w", "%{size_download}", url],
                               capture_output=True, text=True, check=True).stdout
        if int(check) != size:
            raise RuntimeError(f"the signed link served {check} bytes, not {size}")
        for connections in (1, 16):
            souk_rate, growth = wrk_bytes_per_second(url, connections, souk.process.pid)
            nginx_rate, _ = wrk_bytes_per_second(f"http://127.0.0.1:{nginx_port}/dataset.bin", connections, None)
            figure(f"download {ARGS.file_mib} MiB, {connections} connection{'s' if connections > 1 else ''}",
                   f"{souk_rate:.0f} MB/s", f"nginx sendfile {nginx_rate:.0f} MB/s", souk_rate / nginx_rate,
                   "≥ 0.90×", souk_rate >= 0.9 * nginx_rate)
            figure("  the store's memory growth meanwhile", f"{growth:.1f} MB", "", None, "≤ 32 MB", growth <= 32)
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=15)
        souk.stop()


def main():
    work = Path(ARGS.work) if ARGS.work else Path(tempfile.mkdtemp(prefix="souk-launch."))
    work.mkdir(parents=True, exist_ok=True)
    only = ARGS.only or ["idle", "ceiling", "webhooks", "downloads"]
    print(f"{'figure':<44} {'souk':>22}  {'anchor (same run)':<34} {'ratio':>7}  target")
    if "idle" in only:
        idle(work)
    if "ceiling" in only:
        ceiling(work)
    if "webhooks" in only:
        webhooks(work)
    if "downloads" in only:
        downloads(work)
    if not ARGS.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
