"""Product pictures (issue 13, acceptance 5), against the real binary: a camera JPEG with EXIF and
GPS becomes WebP copies at 320, 640 and 1280 px with no metadata; they are served content-addressed
with year-long cache headers; the cover shows on the product card and the product page (loaded by
headless Chromium, `srcset` and all); uploads are checked by content, not by name; only the
product's seller adds or removes them, from the API or the dashboard form without JavaScript.
"""
import io
import os
import struct
import zlib

import requests
from PIL import Image
from selenium.webdriver.common.by import By

from conftest import assert_problem, csrf_from
from shop_helpers import tiny_png
from test_catalog_api import STORE, api_account, cli_account
from test_dashboard_browser import wait_loaded

GPS_IFD = 0x8825


def camera_jpeg(width=2000, height=1500) -> bytes:
    """A JPEG as a phone writes it: camera make and model, and where it was taken."""
    image = Image.new("RGB", (width, height), (30, 120, 160))
    for x in range(0, width, 100):  # some detail, so the encoder has work to do
        image.paste((220, 200, 40), (x, 0, x + 50, height))
    exif = Image.Exif()
    exif[0x010F] = "Phonemaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[GPS_IFD] = {1: "N", 2: (59.0, 19.0, 48.0), 3: "E", 4: (18.0, 4.0, 5.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD), "the test image must carry GPS"
    return data


def huge_png_header(width=20000, height=20000) -> bytes:
    """A PNG that claims 400 million pixels in a few bytes (a decompression bomb's header)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def upload(souk, account, product_id, data, content_type="image/jpeg", **params):
    return requests.post(souk.url(f"/api/v1/products/{product_id}/images"), params=params, data=data,
                         headers={**account.bearer, "Content-Type": content_type})


def test_a_cover_is_resized_stripped_cached_and_shown_on_the_card_and_the_page(make_souk, browser):
    souk = make_souk(env=STORE)
    seller = cli_account(souk, "seller")
    product = seller.create("Heron Field Guide", publish=True, summary="Herons of the north.")

    made = upload(souk, seller, product["id"], camera_jpeg(), cover="true", alt="A heron at dawn")
    assert made.status_code == 201, made.text
    image = made.json()
    assert image["is_cover"] and image["position"] == 0 and image["alt"] == "A heron at dawn"
    assert (image["width"], image["height"]) == (2000, 1500)
    assert [v["width"] for v in image["variants"]] == [320, 640, 1280]
    assert [v["height"] for v in image["variants"]] == [240, 480, 960]

    original_size = len(camera_jpeg())
    for variant in image["variants"]:
        response = requests.get(souk.url(variant["url"]))
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/webp"
        assert "immutable" in response.headers["Cache-Control"] and "max-age=31536000" in response.headers["Cache-Control"]
        assert variant["url"].endswith(".webp") and len(variant["url"].rsplit("/", 1)[1]) == 64 + 5
        picture = Image.open(io.BytesIO(response.content))
        assert picture.format == "WEBP" and picture.size == (variant["width"], variant["height"])
        # No EXIF (camera, GPS) or XMP survived.
        assert not picture.getexif(), dict(picture.getexif())
        assert b"Exif" not in response.content and b"Phonemaker" not in response.content
        assert b"EXIF" not in response.content and b"XMP " not in response.content
        assert len(response.content) == variant["bytes"] < original_size
        # Revalidation costs nothing: the name is the content.
        again = requests.get(souk.url(variant["url"]), headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.content == b""

    # The card (search and home) and the product page show it, and Chromium loads it.
    for path, selector in [("/search?q=heron", ".product-card .cover img"), ("/", ".product-card .cover img"),
                           (f"/products/{product['slug']}", "#product-cover")]:
        browser.get(souk.url(path))
        wait_loaded(browser)
        element = browser.find_element(By.CSS_SELECTOR, selector)
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", element) > 0, path
        srcset = element.get_attribute("srcset")
        assert all(v["url"] in srcset for v in image["variants"]), srcset
        assert element.get_attribute("width") and element.get_attribute("height")
    assert browser.find_element(By.ID, "product-cover").get_attribute("alt") == "A heron at dawn"
    # The seller's dashboard list and, once bought, the buyer's library show it too.
    assert image["variants"][0]["url"] in seller.session.get(souk.url("/dashboard")).text
    from shop_helpers import wait_status
    from test_hardening_access import pay_with_test_provider
    buyer = api_account(souk, "buyer")
    order = pay_with_test_provider(souk, buyer.session, product["id"])
    wait_status(souk, buyer.session, order, {"paid", "fulfilled", "completed"})
    assert image["variants"][0]["url"] in buyer.session.get(souk.url("/library")).text
    # The picture a narrow card asks for is a small one.
    browser.get(souk.url("/search?q=heron"))
    card_src = browser.find_element(By.CSS_SELECTOR, ".product-card .cover img").get_attribute("currentSrc")
    assert card_src.endswith(image["variants"][0]["url"]) or card_src.endswith(image["variants"][1]["url"]), card_src


def test_uploads_are_checked_by_content_and_only_the_seller_changes_them(make_souk):
    souk = make_souk(env=STORE)
    seller = cli_account(souk, "seller")
    rival = cli_account(souk, "seller")
    buyer = api_account(souk, "buyer")
    product = seller.create("Moth Atlas", publish=True)
    pid = product["id"]

    # A photo as cameras write it (several MiB of detail) is taken whole, up to the 20 MiB limit.
    noisy = io.BytesIO()
    Image.frombytes("RGB", (2400, 1800), os.urandom(2400 * 1800 * 3)).save(noisy, "JPEG", quality=92)
    assert len(noisy.getvalue()) > 3 * 1024 * 1024
    photo = upload(souk, seller, pid, noisy.getvalue())
    assert photo.status_code == 201, photo.text
    assert [v["width"] for v in photo.json()["variants"]] == [320, 640, 1280]
    assert seller.session.delete(souk.url(f"/api/v1/products/{pid}/images/{photo.json()['id']}")).status_code == 204

    # Told apart by content: a PNG sent as "image/jpeg" is a PNG; text or a PDF called an image is not.
    png = upload(souk, seller, pid, tiny_png(900, 300), content_type="image/jpeg")
    assert png.status_code == 201, png.text
    assert [v["width"] for v in png.json()["variants"]] == [320, 640, 900], "never wider than the original"
    assert_problem(upload(souk, seller, pid, b"just some text", content_type="image/png"), 415, "unsupported_media_type")
    assert_problem(upload(souk, seller, pid, b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", content_type="image/jpeg"), 415)
    truncated = camera_jpeg(800, 600)[:3000]
    assert_problem(upload(souk, seller, pid, truncated), 422, "validation_failed")
    bomb = assert_problem(upload(souk, seller, pid, huge_png_header(), content_type="image/png"), 422)
    assert "50 million" in bomb["detail"]
    assert_problem(upload(souk, seller, pid, b""), 415)
    too_big = requests.post(souk.url(f"/api/v1/products/{pid}/images"), data=b"\xff" * (21 * 1024 * 1024),
                            headers={**seller.bearer, "Content-Type": "image/jpeg"})
    assert_problem(too_big, 413, "payload_too_large")
    # Others may look but not touch.
    assert upload(souk, rival, pid, tiny_png()).status_code in (403, 404)
    assert upload(souk, buyer, pid, tiny_png()).status_code == 403
    assert requests.post(souk.url(f"/api/v1/products/{pid}/images"), data=tiny_png(),
                         headers={"Content-Type": "image/png"}).status_code == 401

    # Gallery order: a new cover goes first; removing the cover makes the next one the cover.
    second = upload(souk, seller, pid, tiny_png(400, 400, (200, 0, 0))).json()
    assert_problem(upload(souk, seller, pid, tiny_png(), cover="null"), 422, "validation_failed")
    cover = upload(souk, seller, pid, tiny_png(500, 500, (0, 200, 0)), cover="true").json()
    listed = requests.get(souk.url(f"/api/v1/products/{pid}/images")).json()["data"]
    assert [i["id"] for i in listed] == [cover["id"], png.json()["id"], second["id"]]
    assert [i["position"] for i in listed] == [0, 1, 2] and listed[0]["alt"] == "Moth Atlas"
    page = requests.get(souk.url(f"/products/{product['slug']}")).text
    assert 'id="product-gallery"' in page and cover["variants"][0]["url"] in page
    assert rival.session.delete(souk.url(f"/api/v1/products/{pid}/images/{cover['id']}")).status_code in (403, 404)
    assert seller.session.delete(souk.url(f"/api/v1/products/{pid}/images/{cover['id']}")).status_code == 204
    assert seller.session.delete(souk.url(f"/api/v1/products/{pid}/images/{cover['id']}")).status_code == 404
    listed = requests.get(souk.url(f"/api/v1/products/{pid}/images")).json()["data"]
    assert [(i["id"], i["position"], i["is_cover"]) for i in listed] == [(png.json()["id"], 0, True), (second["id"], 1, False)]

    # /images/ serves the images store only: a product file's public SHA-256 reaches nothing there.
    made = requests.post(souk.url(f"/api/v1/products/{pid}/files"), params={"filename": "atlas.pdf"},
                         data=b"%PDF paid content", headers={**seller.bearer, "Content-Type": "application/octet-stream"})
    sha = made.json()["sha256"]
    assert requests.get(souk.url(f"/images/{sha}.webp")).status_code == 404
    for bad in ["../../souk.db", "..%2F..%2Fsouk.db", "x.webp", sha, sha.upper() + ".webp"]:
        assert requests.get(souk.url(f"/images/{bad}")).status_code == 404, bad


def test_the_dashboard_form_adds_a_cover_and_removes_it_without_javascript(make_souk):
    souk = make_souk(env=STORE)
    seller = cli_account(souk, "seller")
    product = seller.create("Owl Notebook", publish=True)
    edit_url = souk.url(f"/dashboard/products/{product['id']}")
    csrf = csrf_from(seller.session.get(edit_url).text)
    form = f"/dashboard/products/{product['id']}/images"
    sent = seller.session.post(souk.url(form + "?as=cover"), data={"_csrf": csrf},
                               files={"file": ("owl.jpg", camera_jpeg(1000, 800), "image/jpeg")}, allow_redirects=False)
    assert sent.status_code == 303, sent.text[:500]
    page = seller.session.get(edit_url).text
    assert 'id="dashboard-images"' in page and "Cover" in page
    # The scratch copy (with its GPS) is gone: only WebP variants are kept.
    scratch = souk.data_dir / "images" / "scratch"
    assert not [p for p in scratch.rglob("*") if p.is_file()] if scratch.exists() else True
    # A file that is not a picture comes back to the form with the reason.
    refused = seller.session.post(souk.url(form), data={"_csrf": csrf},
                                  files={"file": ("notes.jpg", b"not a picture", "image/jpeg")}, allow_redirects=False)
    assert refused.status_code == 415 and 'id="image-error"' in refused.text and "JPEG, PNG or WebP" in refused.text
    # Without the form's token nothing is stored.
    forged = requests.post(souk.url(form), files={"file": ("owl.jpg", camera_jpeg(400, 300), "image/jpeg")},
                           cookies=seller.session.cookies, allow_redirects=False)
    assert forged.status_code == 403
    images = requests.get(souk.url(f"/api/v1/products/{product['id']}/images")).json()["data"]
    assert len(images) == 1
    removed = seller.session.post(souk.url(f"{form}/{images[0]['id']}/delete"), data={"_csrf": csrf}, allow_redirects=False)
    assert removed.status_code == 303
    assert requests.get(souk.url(f"/api/v1/products/{product['id']}/images")).json()["data"] == []


def mapped_libraries(souk) -> set:
    """The shared libraries the running store has mapped, by file name."""
    with open(f"/proc/{souk.process.pid}/maps") as maps:
        return {line.split()[-1].rsplit("/", 1)[-1] for line in maps if ".so" in line}


def test_libvips_is_loaded_only_when_the_first_picture_arrives(make_souk):
    """A store that never receives a picture does not carry libvips and its hundred libraries
    (about 10 MB resident); the first upload opens it, and pictures work as before."""
    souk = make_souk(env=STORE)
    seller = cli_account(souk, "seller")
    product = seller.create("Crane Sketchbook", publish=True)
    for path in ["/", "/search?q=crane", f"/products/{product['slug']}", "/healthz"]:
        assert requests.get(souk.url(path)).status_code == 200, path
    before = mapped_libraries(souk)
    assert any(name.startswith("libcurl.so.4") for name in before), "the check must see the libraries linked"
    assert not any(name.startswith(("libvips", "librsvg", "libgobject")) for name in before), sorted(before)

    made = upload(souk, seller, product["id"], tiny_png(), content_type="image/png", cover="true")
    assert made.status_code == 201, made.text
    assert any(name.startswith("libvips.so.42") for name in mapped_libraries(souk))
    variant = made.json()["variants"][0]
    picture = Image.open(io.BytesIO(requests.get(souk.url(variant["url"])).content))
    assert picture.format == "WEBP" and picture.size == (variant["width"], variant["height"])
