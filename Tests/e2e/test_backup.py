"""`souk backup` as an operator uses it: taken while the store serves and a seller keeps writing,
then restored the way the README says (the copy as souk.db, the blobs, the key) into a second
store where the buyer's session, order, library, a link signed before the backup and a fresh
download all still work."""
import json
import shutil
import sqlite3
import stat
import threading
import time
from pathlib import Path

import requests

from test_catalog_api import api_account, cli_account
from test_downloads import STORE, buy, content, link, upload


def test_backup_while_serving_restores_a_working_store(make_souk, tmp_path):
    souk = make_souk(env=STORE)
    alice = cli_account(souk, "seller", "alice@example.com")
    book = alice.create("Backup Handbook", publish=True, price=1500)
    payload = content(300_000)
    upload(souk, alice, book["id"], "handbook.pdf", payload)
    buyer = api_account(souk, "buyer", "buyer@example.com")
    order = buy(souk, buyer, [book["id"]])

    # A seller keeps creating and publishing products while the backup runs.
    stop = threading.Event()
    created = []

    def keep_writing():
        while not stop.is_set():
            created.append(alice.create(f"Live Product {len(created)}", publish=True)["id"])

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        time.sleep(0.5)
        backups = tmp_path / "backups"
        backups.mkdir()
        copy = backups / "souk-today.db"
        started = time.time()
        result = souk.cli("backup", str(copy), "--json")
        elapsed = time.time() - started
        time.sleep(0.3)
    finally:
        stop.set()
        writer.join()
    assert len(created) > 2, "the seller was writing during the backup"
    assert elapsed < 10

    report = json.loads(result.stdout)
    assert report["path"] == str(copy)
    assert report["orders"] == 1 and report["files"] == 1 and report["users"] == 2
    assert 1 < report["products"] < len(created) + 1
    assert report["bytes"] == copy.stat().st_size > 0
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600, "the copy holds password and session hashes"
    assert sorted(p.name for p in backups.iterdir()) == ["souk-today.db"], "no partial or journal file left"

    # One consistent snapshot: every published product of the copy is in its search index (both
    # are written in the product's transaction), and the copy is a self-contained file.
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        published = db.execute("SELECT COUNT(*) FROM products WHERE status = 'published'").fetchone()[0]
        assert published == db.execute("SELECT COUNT(*) FROM product_search").fetchone()[0]
        assert db.execute("SELECT status FROM orders WHERE id = ?", (order["id"],)).fetchone()[0] in {
            "paid", "fulfilled", "completed"}

    # Never over an existing file unless asked, never over the live database.
    again = souk.cli("backup", str(copy), check=False)
    assert again.returncode == 1
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert souk.cli("backup", str(copy), "--force").returncode == 0
    live = souk.cli("backup", str(souk.data_dir / "souk.db"), "--force", check=False)
    assert live.returncode == 1 and "live database" in live.stderr
    human = souk.cli("backup", str(backups / "second.db")).stdout
    assert "backed up the database to" in human and "1 orders" in human and "rsync -a" in human

    # A signed download link the first store issued (valid 15 minutes): it must keep working.
    issued = link(souk, buyer, book["id"], "handbook.pdf")

    # Restore into a new data folder: the copy as souk.db, the blobs, the key.
    restored = tmp_path / "restored"
    data = restored / "souk-data"
    data.mkdir(parents=True)
    shutil.copy(copy, data / "souk.db")
    shutil.copytree(souk.data_dir / "blobs", data / "blobs")
    shutil.copy(souk.data_dir / "secret.key", data / "secret.key")
    second = make_souk(env=STORE, workdir=restored)

    # The buyer's session cookie from the first store works on the restored one; so do the
    # order, the library, the link signed before the backup (same key) and a fresh one.
    buyer.souk = second
    old_session = requests.Session()
    old_session.cookies.update(buyer.session.cookies)
    assert old_session.get(second.url("/api/v1/me")).json()["email"] == "buyer@example.com"
    assert buyer.session.get(second.url(f"/api/v1/orders/{order['id']}")).json()["status"] in {
        "paid", "fulfilled", "completed"}
    for url in [issued.replace(souk.base_url, second.base_url), link(second, buyer, book["id"], "handbook.pdf")]:
        assert url.startswith(second.base_url)
        downloaded = requests.get(url, timeout=60)
        assert downloaded.status_code == 200 and downloaded.content == payload
    found = requests.get(second.url("/api/v1/products"), params={"q": "backup handbook"}).json()["data"]
    assert [p["id"] for p in found] == [book["id"]]
