"""Helpers the money-path suites share: polling, the cart, checkout, orders and webhook answers."""
import time

import requests


def wait_for(check, what: str, timeout: float = 10.0, interval: float = 0.05):
    """Polls `check()` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def add_to_cart(souk, session, product_id: str, quantity: int = 1) -> dict:
    response = session.post(souk.url("/api/v1/cart/items"), json={"product_id": product_id, "quantity": quantity})
    assert response.status_code in (200, 201), response.text
    return response.json()


def checkout(souk, session, key: str | None = None, email: str | None = None, provider: str = "stripe"):
    body = {"provider": provider}
    if email is not None:
        body["email"] = email
    headers = {"Idempotency-Key": key} if key else {}
    return session.post(souk.url("/api/v1/checkout"), json=body, headers=headers, timeout=60)


def placed(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()["order"]


def get_order(souk, session, order_id: str) -> dict:
    response = session.get(souk.url(f"/api/v1/orders/{order_id}"))
    assert response.status_code == 200, response.text
    return response.json()


def wait_status(souk, session, order_id: str, statuses: set[str], timeout: float = 10.0) -> dict:
    last = {}

    def check():
        last["order"] = get_order(souk, session, order_id)
        return last["order"] if last["order"]["status"] in statuses else None

    try:
        return wait_for(check, f"order {order_id} to become one of {sorted(statuses)}", timeout)
    except AssertionError as error:
        raise AssertionError(f"{error}; it is {last['order']['status']}: {last['order']}") from None


def stock(souk, product_id: str) -> int | None:
    response = requests.get(souk.url(f"/api/v1/products/{product_id}"))
    assert response.status_code == 200, response.text
    return response.json()["stock"]


def outcome(response) -> str:
    """The `outcome` of a webhook answer (`applied`, `duplicate`, `ignored`, `refund_queued`)."""
    assert response.status_code == 200, f"{response.status_code}: {response.text[:500]}"
    body = response.json()
    assert body["received"] is True, body
    return body["outcome"]


def tiny_png(width: int = 8, height: int = 6, rgb: tuple = (10, 108, 90)) -> bytes:
    """A valid PNG of one colour, made without an image library (zlib and struct only)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
