"""The shipped binary runs alone: no resource bundle, no Swift runtime beside it.

CI copies the static release build into an empty folder and sets SOUK_BIN_STANDALONE=1.
"""
import os
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import SOUK_BIN

pytestmark = pytest.mark.skipif(
    os.environ.get("SOUK_BIN_STANDALONE") != "1", reason="needs the standalone release binary (CI sets it up)"
)


def test_binary_is_alone_in_its_folder():
    folder = Path(SOUK_BIN).parent
    assert sorted(p.name for p in folder.iterdir()) == ["souk"]


def test_binary_needs_no_swift_runtime_library():
    output = subprocess.run(["ldd", SOUK_BIN], capture_output=True, text=True).stdout
    assert "libswift" not in output, output
    assert "Foundation" not in output, output


def test_serves_pages_and_styles_from_an_empty_directory(make_souk, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    souk = make_souk(workdir=empty)
    assert requests.get(souk.url("/healthz")).json()["status"] == "ok"
    page = requests.get(souk.url("/signup"), headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Create an account" in page.text
    css = requests.get(souk.url("/assets/souk.css"))
    assert css.status_code == 200 and "--accent" in css.text
    # Everything it made is in its data folder, inside the empty working directory.
    assert (empty / "souk-data" / "souk.db").exists()
