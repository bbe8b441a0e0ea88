"""The durable job queue survives `kill -9`.

1. Killed between enqueue and run: a store whose job runner looks for work once at start and then
   sleeps a minute takes a test-provider payment, so its `test_webhook` job waits in the queue. The
   server is killed with SIGKILL; a new server on the same data dir runs the job exactly once: the
   order is paid and then fulfilled, and each job is `done` after one attempt.
2. Killed while a job runs: gdb stops the server at a breakpoint inside the running job (so the
   job is claimed, `running` under the dead server's 2 s lease, with no outcome recorded), and the
   server is killed there. A new server waits for the lease to expire, takes the job over and
   finishes it; the order is paid once and fulfilled once. With gdb the kill point is exact, not a
   race; without gdb (or ptrace) that test is skipped.
"""
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import Souk, csrf_from
from test_catalog_api import api_account, cli_account

# Jobs found by the poll only (a job the server queues would otherwise start at once): the
# tests need a queued job to stay queued until they kill the server.
SLOW_JOBS = {"SOUK_JOBS_POLL_MILLISECONDS": "60000", "SOUK_JOBS_WAKE_ON_COMMIT": "false"}  # one look at start, then a minute asleep
FAST_JOBS = {"SOUK_JOBS_POLL_MILLISECONDS": "200", "SOUK_JOBS_WAKE_ON_COMMIT": "false"}
SHORT_LEASE = {"SOUK_JOBS_LEASE_SECONDS": "2"}


@pytest.fixture
def restart():
    """restart(killed_souk, env) starts a new server on the killed one's data dir (new port,
    its own log file); stopped after the test."""
    started = []

    def factory(old: Souk, env: dict) -> Souk:
        new = Souk(old.workdir, env, None)
        assert new.data_dir == old.data_dir
        new.log_path = old.workdir / f"serve-restart-{len(started) + 1}.log"
        started.append(new)
        return new.start()

    yield factory
    for souk in started:
        souk.stop()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.time() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(interval)


def jobs(souk) -> list[dict]:
    return json.loads(souk.cli("jobs", "list", "--json").stdout)


def job_of(souk, kind: str) -> dict:
    matching = [job for job in jobs(souk) if job["kind"] == kind]
    assert len(matching) == 1, f"expected one {kind} job: {jobs(souk)}"
    return matching[0]


def kill_9(souk: Souk, debugger=None):
    """SIGKILL the server's process group, as `kill -9` would; no graceful shutdown runs. A
    debugger holding the server is ended after the kill (so the server never resumes), and before
    reaping it (a tracee's exit is reported to its tracer first)."""
    os.killpg(souk.process.pid, signal.SIGKILL)
    if debugger is not None:
        debugger.close()
    souk.process.wait(timeout=10)
    assert souk.process.returncode == -signal.SIGKILL


def product_for_sale(souk: Souk) -> dict:
    return cli_account(souk, "seller").create("Crash Course", publish=True, price=700)


def pay_over_http(souk: Souk, product: dict | None = None):
    """A buyer pays a published product (by default a new one) with the test provider, over plain
    HTTP. The Pay redirect is not followed: the success page would ask the provider itself, and
    this test wants the payment to arrive only as the queued webhook. Returns (buyer account,
    order id)."""
    product = product or product_for_sale(souk)
    buyer = api_account(souk)
    web = buyer.session
    added = web.post(souk.url("/api/v1/cart/items"), json={"product_id": product["id"]})
    assert added.status_code in (200, 201), added.text
    checkout = web.post(
        souk.url("/api/v1/checkout"), json={"provider": "test"}, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert checkout.status_code == 201, checkout.text
    order = checkout.json()["order"]
    assert order["status"] == "created"
    redirect = checkout.json()["redirect_url"]
    match = re.search(r"/test-checkout/([^/?#]+)$", redirect)
    assert match, redirect
    page = web.get(redirect)
    assert page.status_code == 200 and "TEST MODE" in page.text
    assert web.cookies.get("souk_csrf"), "the hosted page sets the CSRF cookie"
    pay = web.post(
        souk.url(f"/test-checkout/{match.group(1)}/pay"), data={"_csrf": csrf_from(page.text)}, allow_redirects=False
    )
    assert pay.status_code in (302, 303), pay.text
    assert "/checkout/success?order=" + order["id"] in pay.headers["Location"]
    return buyer, order["id"]


def order_on(souk: Souk, buyer, order_id: str) -> dict:
    response = buyer.session.get(souk.url(f"/api/v1/orders/{order_id}"))
    assert response.status_code == 200, response.text
    return response.json()


def wait_fulfilled(souk: Souk, buyer, order_id: str, timeout: float = 15) -> list[str]:
    """Polls the order until it is fulfilled; returns the statuses seen on the way."""
    seen = []

    def fulfilled():
        status = order_on(souk, buyer, order_id)["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        return status in ("fulfilled", "completed")

    wait_for(fulfilled, timeout, f"order {order_id} to be fulfilled", interval=0.05)
    assert set(seen) <= {"created", "paid", "fulfilled", "completed"}, seen
    return seen


def assert_fulfil_ran_once(souk: Souk, order_id: str):
    fulfils = [job for job in jobs(souk) if job["kind"] == "fulfil"]
    assert len(fulfils) == 1, fulfils
    assert fulfils[0]["dedupe_key"] == f"fulfil:{order_id}"
    assert fulfils[0]["state"] == "done"
    assert fulfils[0]["attempts"] == 1


def test_job_enqueued_before_kill_9_runs_once_after_restart(make_souk, restart):
    souk = make_souk(env=SLOW_JOBS)
    # The runner's one look at start happens before anything is queued.
    wait_for(lambda: "job runner started" in souk.log_path.read_text(), 10, "the job runner to start")
    buyer, order_id = pay_over_http(souk)

    webhook = job_of(souk, "test_webhook")
    assert (webhook["state"], webhook["attempts"]) == ("queued", 0), webhook
    assert order_on(souk, buyer, order_id)["status"] == "created", "nothing ran the queued webhook"

    kill_9(souk)
    assert "job runner stopped" not in souk.log_path.read_text(), "no graceful shutdown ran"
    webhook = job_of(souk, "test_webhook")
    assert (webhook["state"], webhook["attempts"]) == ("queued", 0), "the queued job survived the kill"

    again = restart(souk, FAST_JOBS)
    seen = wait_fulfilled(again, buyer, order_id)
    assert seen[-1] in ("fulfilled", "completed") and seen[0] in ("created", "paid", "fulfilled", "completed")
    order = order_on(again, buyer, order_id)
    assert order["paid_at"] is not None
    assert order["total"] == 700

    webhook = job_of(again, "test_webhook")
    assert (webhook["state"], webhook["attempts"], webhook["last_error"]) == ("done", 1, None), webhook
    assert_fulfil_ran_once(again, order_id)
    expiry = job_of(again, "order_expiry")
    assert expiry["state"] == "queued", "the order's expiry job is not due for 30 minutes"
    log = again.log_path.read_text()
    assert log.count("payment event applied") == 1, log
    assert "order fulfilled" in log


# --- killed while the job runs -------------------------------------------------------------------

# Where gdb stops the server inside the running test_webhook job. The breakpoint is on SQLite's
# statement compiler (a shared library, so this works on a stripped binary too), on the first
# statement of one step:
#  - before its work: `AppDatabase.recordPaymentEvent`'s duplicate check, inside the webhook's
#    write transaction (nothing is written yet; the kill leaves an open transaction behind);
#  - after its work: `JobQueue.complete` marking the job done (payment recorded and fulfil queued
#    and committed, the job itself not yet done).
# Both must be compiled at that moment: the duplicate check is a cached statement, compiled by the
# process's first webhook (this one); `complete` is compiled on every call.
STOP_AT_SQL = {
    "before_work": "SELECT 1 FROM payment_events WHERE provider = ",
    "after_work": "UPDATE jobs SET state = 'done'",
}
# The register holding prepare's second argument (`zSql`).
SQL_ARGUMENT = {"x86_64": "$rsi", "amd64": "$rsi", "aarch64": "$x1", "arm64": "$x1"}


class Debugger:
    """gdb attached to a running server, stopping it where it compiles an SQL statement starting
    with `sql_prefix`, and holding it stopped there until the test kills both."""

    def __init__(self, souk: Souk, sql_prefix: str):
        if not shutil.which("gdb"):
            pytest.skip("needs gdb to stop the server inside a running job")
        register = SQL_ARGUMENT.get(platform.machine())
        if register is None:
            pytest.skip(f"no SQL argument register known for {platform.machine()}")
        assert re.fullmatch(r"[A-Za-z0-9_ =',]+", sql_prefix), "keep the prefix free of regex and gdb escapes"
        condition = f'$_regex((char *){register}, "{sql_prefix}")'
        self.output = souk.workdir / "gdb.log"
        self.log = open(self.output, "wb")
        self.process = subprocess.Popen(
            [
                "gdb", "-nx", "-batch", "--readnever", "-p", str(souk.process.pid),
                "-ex", "handle all nostop noprint pass",
                "-ex", f"break sqlite3_prepare_v3 if {condition}",
                "-ex", f"break sqlite3_prepare_v2 if {condition}",
                "-ex", "continue",
                # At the breakpoint gdb holds the server stopped until the test kills both.
                "-ex", "shell sleep 120",
            ],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float):
        def seen():
            found = re.search(pattern, self.text(), re.MULTILINE)
            if not found and self.process.poll() is not None:
                raise AssertionError(f"gdb exited ({self.process.returncode}):\n{self.text()}")
            return found

        wait_for(seen, timeout, f"gdb to print {pattern!r}", interval=0.05)

    def close(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()


@pytest.mark.parametrize("stop_at", ["before_work", "after_work"])
def test_job_running_at_kill_9_is_taken_over_after_its_lease(make_souk, restart, stop_at):
    souk = make_souk(env={**FAST_JOBS, **SHORT_LEASE})
    killed_pid = souk.process.pid
    # The seller's verification e-mail is a job too: let it finish first, so the breakpoint (on
    # any job's completion, for after_work) stops the webhook's job and no other.
    product = product_for_sale(souk)
    wait_for(lambda: all(job["state"] == "done" for job in jobs(souk)), 15, "the jobs of the set-up to finish")
    debugger = Debugger(souk, STOP_AT_SQL[stop_at])
    try:
        try:
            # Both are set before gdb lets the server run on, so every later call is checked.
            debugger.wait_for(r"^Breakpoint 2 at ", 30)
        except AssertionError as error:
            if "ptrace" in debugger.text():
                pytest.skip(f"gdb cannot attach here: {error}")
            raise
        buyer, order_id = pay_over_http(souk, product)
        # The runner claims the webhook within a poll and stops at the breakpoint inside it.
        debugger.wait_for(r"Breakpoint [12], ", 15)
        kill_9(souk, debugger)
    finally:
        debugger.close()

    # The dead server's claim is still there: running, one attempt, under its lease.
    webhook = job_of(souk, "test_webhook")
    assert (webhook["state"], webhook["attempts"]) == ("running", 1), webhook
    assert f":{killed_pid}:" in (webhook["lease_owner"] or ""), webhook
    first_log = souk.log_path.read_text()
    if stop_at == "before_work":
        assert "payment event applied" not in first_log
        assert [job["kind"] for job in jobs(souk) if job["kind"] == "fulfil"] == []
    else:
        assert first_log.count("payment event applied") == 1, first_log
        assert job_of(souk, "fulfil")["state"] == "queued"

    again = restart(souk, {**FAST_JOBS, **SHORT_LEASE})
    seen = wait_fulfilled(again, buyer, order_id)
    assert seen[-1] in ("fulfilled", "completed")
    order = order_on(again, buyer, order_id)
    assert order["paid_at"] is not None

    # The new server took the job over once the dead one's lease expired: a second attempt.
    webhook = wait_for(
        lambda: (job := job_of(again, "test_webhook"))["state"] == "done" and job, 10, "the webhook job to finish"
    )
    assert webhook["attempts"] == 2, webhook
    assert webhook["lease_owner"] is None
    assert f":{killed_pid}:" in (webhook["last_error"] or "") and "expired" in webhook["last_error"], webhook
    assert_fulfil_ran_once(again, order_id)

    log = again.log_path.read_text()
    if stop_at == "before_work":
        assert log.count("payment event applied") == 1, log
    else:
        # The work was done before the kill: the second run finds the event already recorded.
        assert "payment event applied" not in log, log
        assert log.count("payment event already recorded") == 1, log
    assert log.count("order fulfilled") + first_log.count("order fulfilled") == 1
