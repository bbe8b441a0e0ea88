"""Disk full: the store's data directory is a small filesystem (a 16 MiB tmpfs the test mounts:
database, blobs and all, as on a small data volume), and a seller uploads a file larger than the
space left -> a clear 507 (or 413) problem saying what failed, no partial file in the blob store
or its temp folder, the space given back, and the server keeps serving: pages, the API, sign-in,
and a small upload afterwards. Both framings of an upload body are tried: Content-Length (the
server could refuse before reading) and chunked (it learns the size only by running out).

Needs root (mount); skipped with the reason otherwise."""
import hashlib
import os
import subprocess
import time

import pytest
import requests

from fault_helpers import report
from test_catalog_api import MIB, STORE, blob_files, cli_account, pattern_chunks, raw_upload

VOLUME_MB = 16


@pytest.fixture
def small_volume(tmp_path):
    """`<tmp>/store/souk-data` on its own 16 MiB tmpfs; unmounted after the test."""
    workdir = tmp_path / "store"
    data_dir = workdir / "souk-data"
    data_dir.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={VOLUME_MB}m,mode=0700", "tmpfs", str(data_dir)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: mount -t tmpfs said {mounted.stderr.strip()!r} "
                    f"(exit {mounted.returncode}); the test needs root")
    try:
        yield workdir
    finally:
        # Lazily: the server (stopped by make_souk after this fixture's teardown runs) may still
        # hold files open on it.
        subprocess.run(["umount", "-l", str(data_dir)], check=False)


def free_bytes(path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def tmp_files(data_dir) -> list[str]:
    folder = data_dir / "blobs" / "tmp"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def fill_the_disk(make_souk, workdir) -> dict:
    """Starts a store on the small volume, stores a small file, then uploads more than the space
    left, once with each framing. Checks after each that nothing was left half written and that
    the store still answers; returns what it saw for the tests to judge the answers."""
    souk = make_souk(env=STORE, workdir=workdir)
    data_dir = souk.data_dir
    assert os.path.ismount(data_dir)
    seller = cli_account(souk, "seller")
    product = seller.create("Big Sample Pack", publish=True, price=1500)
    small = os.urandom(256 * 1024)
    status, first, _ = raw_upload(souk, seller.token, product["id"], "preview.zip", iter([small]), len(small))
    assert status == 201, first
    blobs_before = blob_files(data_dir)

    outcomes = []
    for framing in ("content-length", "chunked"):
        free_before = free_bytes(data_dir)
        size = free_before + 4 * MIB  # more than is left
        length = size if framing == "content-length" else None
        log_before = souk.log_path.stat().st_size
        started = time.monotonic()
        status, problem, _ = raw_upload(souk, seller.token, product["id"], "full-pack.zip",
                                        pattern_chunks(size, chunk_size=256 * 1024), length)
        took = time.monotonic() - started
        with open(souk.log_path, "rb") as log:
            log.seek(log_before)
            log_lines = [line for line in log.read().decode(errors="replace").splitlines() if " error " in line]
        outcomes.append(dict(framing=framing, size=size, status=status, problem=problem, took=took, log=log_lines))
        assert status is not None and status >= 400, f"{framing}: an upload past the free space was accepted: {status}"
        # Nothing left half written, and the space given back.
        assert tmp_files(data_dir) == [], f"{framing}: a partial upload was left in blobs/tmp"
        assert blob_files(data_dir) == blobs_before, f"{framing}: a blob appeared"
        assert free_bytes(data_dir) >= free_before - MIB, f"{framing}: the space was not given back"
        # The store keeps serving.
        assert souk.process.poll() is None, "the server died"
        assert requests.get(souk.url("/healthz")).status_code == 200

    listed = requests.get(souk.url(f"/api/v1/products/{product['id']}/files"), headers=seller.bearer)
    assert [f["name"] for f in listed.json()["data"]] == ["preview.zip"], listed.text
    for path in ("/", f"/products/{product['slug']}", "/search?q=sample"):
        assert requests.get(souk.url(path)).status_code == 200, path
    buyer = souk.register("after-the-disk-filled@example.com")  # the database still takes writes
    assert buyer.get(souk.url("/api/v1/me")).status_code == 200
    again = os.urandom(512 * 1024)
    status, stored, _ = raw_upload(souk, seller.token, product["id"], "preview-v2.zip", iter([again]), len(again))
    assert status == 201, stored
    assert stored["sha256"] == hashlib.sha256(again).hexdigest()
    assert (data_dir / "blobs" / stored["sha256"][:2] / stored["sha256"][2:4] / stored["sha256"]).read_bytes() == again
    return {"outcomes": outcomes}


def describe(outcomes) -> str:
    return "; ".join(
        f"{o['framing']} upload of {o['size'] / MIB:.0f} MiB into a {VOLUME_MB} MiB volume -> {o['status']} "
        f"({(o['problem'] or {}).get('code')}: {(o['problem'] or {}).get('detail')!r}) in {o['took']:.1f} s"
        for o in outcomes)


def test_an_upload_that_fills_the_disk_leaves_nothing_behind_and_the_store_keeps_serving(make_souk, small_volume):
    seen = fill_the_disk(make_souk, small_volume)
    report(f"disk full: {describe(seen['outcomes'])}; no partial file, space given back, the store kept serving "
           f"(pages, API, sign-up, a small upload)")


def test_an_upload_that_fills_the_disk_is_refused_with_a_clear_507(make_souk, small_volume):
    seen = fill_the_disk(make_souk, small_volume)
    for outcome in seen["outcomes"]:
        status, problem = outcome["status"], outcome["problem"]
        # A clear refusal, in the API's problem format, that says the space ran out.
        assert status in (507, 413), (f"{outcome['framing']}: expected 507 Insufficient Storage (or 413), got "
                                      f"{status}: {problem}; server log: {outcome['log']}")
        assert problem and problem["status"] == status and problem.get("detail"), problem
        detail = problem["detail"].lower()
        assert any(word in detail for word in ("space", "storage", "disk", "full")), problem
        if status == 507:
            assert problem["code"] == "insufficient_storage", problem
