"""What the fault scenarios share: the scale of the run, the report lines, restarting a killed
server on its data dir, the jobs and orders as the operator's CLI shows them, receipts by order,
and the server process's memory and open files."""
import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from shop_helpers import wait_for  # noqa: F401 (the fault tests take it from here)
from souk_e2e_conftest import Souk

# --- scale ---------------------------------------------------------------------------------------

LEVEL = os.environ.get("SOUK_FAULTS", "short").strip().lower() or "short"
if LEVEL not in ("short", "full"):
    raise SystemExit(f"SOUK_FAULTS must be short or full, not {LEVEL!r}")

_SCALES = {
    # The CI variant: the whole suite in about two minutes on two cores with a debug build.
    "short": dict(duplicate_orders=60, crash_orders=60, kills=2, storm_seconds=2, outage_seconds=10,
                  soak_seconds=20, peak_seconds=3, soak_threads=16),
    # The figures of issue 15.
    "full": dict(duplicate_orders=300, crash_orders=300, kills=5, storm_seconds=8, outage_seconds=120,
                 soak_seconds=600, peak_seconds=8, soak_threads=16),
}
# Each figure can also be set alone, e.g. SOUK_FAULTS_SOAK_SECONDS=60.
SCALE = {name: int(os.environ.get(f"SOUK_FAULTS_{name.upper()}", value)) for name, value in _SCALES[LEVEL].items()}

# --- report --------------------------------------------------------------------------------------

REPORT: list[str] = []


def report(line: str):
    """A scenario's figures: printed at once (visible with -s) and again in the run's summary."""
    REPORT.append(line)
    print("\n" + line, flush=True)


def parallel(function, items, workers: int = 8) -> list:
    """`function` over `items` on `workers` threads; the results in the items' order (the first
    exception is raised)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


_local = threading.local()


def thread_session() -> requests.Session:
    """One keep-alive HTTP session per thread (for anonymous calls such as webhooks)."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


# --- the operator's view: the CLI ---------------------------------------------------------------

def cli_json(souk: Souk, *args):
    return json.loads(souk.cli(*args, "--json").stdout)


def jobs(souk: Souk) -> list[dict]:
    return cli_json(souk, "jobs", "list", "--limit", "1000000")


def orders(souk: Souk) -> list[dict]:
    return cli_json(souk, "order", "list", "--limit", "1000000")


def unsettled_jobs(all_jobs: list[dict]) -> list[dict]:
    """Jobs still to run now: queued or running, except what waits for later by design (an
    unpaid order's expiry, 30 minutes after checkout, which does nothing to a paid order)."""
    return [j for j in all_jobs if j["state"] in ("queued", "running") and j["kind"] != "order_expiry"]


def wait_jobs_settled(souk: Souk, timeout: float) -> list[dict]:
    """Waits until no job is left to run (see `unsettled_jobs`); returns every job."""
    seen = {}

    def settled():
        seen["jobs"] = jobs(souk)
        return not unsettled_jobs(seen["jobs"])

    try:
        wait_for(settled, "the job queue to settle", timeout, interval=0.5)
    except AssertionError as error:
        left = unsettled_jobs(seen["jobs"])
        raise AssertionError(f"{error}: {len(left)} left, e.g. {left[:5]}") from None
    return seen["jobs"]


def export(souk: Souk, directory: Path) -> dict[str, list]:
    """`souk export` (the operator's CSV/JSON export), read back: table name -> rows."""
    souk.cli("export", str(directory), "--force")
    return {path.stem: json.loads(path.read_text()) for path in directory.glob("*.json")}


# --- e-mail --------------------------------------------------------------------------------------

RECEIPT_ID = re.compile(r"<receipt-(ord_[a-z0-9]+)@")


def receipts_by_order(messages) -> dict[str, list]:
    """Receipts at the SMTP sink by order id (their Message-ID is `<receipt-ord_…@host>`)."""
    found: dict[str, list] = {}
    for message in messages:
        match = RECEIPT_ID.search(message["Message-ID"] or "")
        if match:
            found.setdefault(match.group(1), []).append(message)
    return found


def sale_mails(messages) -> list:
    """The sellers' "New sale" e-mails."""
    return [m for m in messages if (m["Subject"] or "").startswith(("New sale", "New TEST sale"))]


# --- killing and restarting the server ----------------------------------------------------------

def kill_9(souk: Souk):
    """SIGKILL the server's process group, as `kill -9` would: no graceful shutdown runs."""
    import signal

    process = souk.process
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, process.returncode
    # Its fixture's stop() would report it as a crash and print its log: it was the test.
    souk.process = None


def restart_on_same_port(old: Souk, number: int) -> Souk:
    """A new `souk serve` on the killed one's data dir, config and port (so clients such as a
    payment provider's webhooks reach it at the same address), with its own log file."""
    new = Souk(old.workdir, {}, None)
    new.env = dict(old.env)
    new.config_path = old.config_path
    new.data_dir = old.data_dir
    new.port = old.port
    new.base_url = old.base_url
    new.log_path = old.workdir / f"serve-restart-{number}.log"
    for attempt in range(20):
        try:
            return new.start()
        except RuntimeError:
            # The port may still be held for a moment by the killed process's sockets.
            if attempt == 19:
                raise
            time.sleep(0.5)


# --- the server's process ------------------------------------------------------------------------

def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_kinds(pid: int) -> dict[str, int]:
    """Open descriptors by kind (socket, pipe, file paths by folder…), to explain a difference."""
    kinds: dict[str, int] = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kind = target.split(":", 1)[0] if ":" in target and not target.startswith("/") else target
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def backtraces(pid: int, path: Path) -> str:
    """Every thread's stack of a running (say, hung) process, by gdb, saved to `path`; returns a
    short summary: per thread, its name and its innermost frames in Souk, GRDB or NIO code
    (demangled when swift-demangle is there). An explanation when gdb cannot attach."""
    import shutil
    import subprocess

    gdb = shutil.which("gdb")
    if not gdb:
        return "no backtraces: gdb is not installed"
    try:
        dumped = subprocess.run([gdb, "-p", str(pid), "-batch", "-ex", "thread apply all bt"], capture_output=True,
                                text=True, timeout=180)
    except subprocess.TimeoutExpired:
        return "no backtraces: gdb did not finish within 3 minutes"
    text = dumped.stdout
    path.write_text(text + "\n--- gdb stderr ---\n" + dumped.stderr[-5000:])
    demangler = shutil.which("swift-demangle")
    lines = []
    for block in re.split(r"\n(?=Thread \d+ )", text):
        header = re.match(r"Thread \d+ \(.*?\"([^\"]*)\"", block)
        if not header:
            continue
        frames = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+)", block, re.M)
        if not frames:
            continue
        # Where it waits, the database call it waits in, and the first few of Souk's own frames.
        shown = [next((f for f in frames if re.search(r"semaphore|mutex|cond_wait|epoll_wait|sigsuspend|sem_wait", f)),
                      frames[0])]
        shown += ([f for f in frames if re.search(r"12DatabasePoolC|14DatabaseQueueC", f)]
                  or [f for f in frames if re.search(r"4GRDB", f)])[:1]
        shown += [f for f in frames if re.search(r"\d+Souk[A-Z][A-Za-z]+", f)][:3]
        if demangler:
            shown = subprocess.run([demangler, "--simplified"], input="\n".join(shown), capture_output=True,
                                   text=True).stdout.splitlines() or shown
        lines.append(f"thread {header.group(1)!r}: " + " <- ".join(frame[:120] for frame in shown))
    counted = {line: lines.count(line) for line in lines}
    summary = "\n  ".join(f"{n} x {line}" if n > 1 else line for line, n in counted.items())
    return f"backtraces in {path}:\n  {summary}"
