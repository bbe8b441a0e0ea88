"""A local fake of the parts of PayPal's REST API that Souk calls, plus a signer that builds
PayPal webhook deliveries (headers and body) the way PayPal does.

The fake runs an `http.server.ThreadingHTTPServer` on a free port in a thread and records every
request (method, path, lower-cased headers, raw body, parsed JSON). It serves:

- `POST /v1/oauth2/token`: client credentials (HTTP Basic `client:secret`, form
  `grant_type=client_credentials`) → `{access_token, expires_in}`. Every `/v2` call must carry
  `Authorization: Bearer <a token it issued>` (401 `AUTHENTICATION_FAILURE` otherwise).
- `POST /v2/checkout/orders`: creates an order (`PAYER_ACTION_REQUIRED`) with a `payer-action`
  link to this fake's `/checkoutnow?token=…`. Like PayPal, a `PayPal-Request-Id` seen before
  replays the first successful answer (on every POST).
- `GET /checkoutnow?token=…`: the buyer approves on "PayPal's page" and is redirected (302) to
  the order's `return_url` with `token=<order id>&PayerID=…` appended, as PayPal does.
- `POST /v2/checkout/orders/{id}/capture`: 422 `ORDER_NOT_APPROVED` unless approved; otherwise
  answers as `capture_outcome` says: `completed` (201, capture `COMPLETED`), `pending` (201,
  capture `PENDING`), `declined` (201, capture `DECLINED`), `already_captured` (captures it, then
  answers 422 `ORDER_ALREADY_CAPTURED`, as when another request captured first). An order
  captured already answers 422 `ORDER_ALREADY_CAPTURED` to a new request id.
  `fail_next_captures(503)` makes the next capture fail (nothing captured).
- `GET /v2/checkout/orders/{id}`: the order as it stands.
- `POST /v2/payments/captures/{id}/refund`: refunds part or all of a capture (422
  `REFUND_AMOUNT_EXCEEDED` beyond what is left); `fail_refunds(422)` refuses every refund.
- `GET /certs/paypal.pem` (the webhook signing certificate with its intermediate, from the test
  CA) and, all for the same key: `/certs/expired.pem` (validity ended yesterday),
  `/certs/untrusted.pem` (the right name from another CA), `/certs/wrong-subject.pem` (the test
  CA, another name), `/certs/self-signed.pem`; `/certs/moved.pem` answers 302 to
  `redirect_certificates_to`.
"""
import base64
import copy
import datetime as dt
import json
import os
import secrets
import string
import tempfile
import threading
import uuid
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from fake_http import LocalHTTPFake
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

CLIENT_ID = "client"
CLIENT_SECRET = "secret"
WEBHOOK_ID = "WH-TEST"


def paypal_id(length: int = 17) -> str:
    """An id shaped like PayPal's order / capture / refund ids: upper-case letters and digits."""
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def iso_now(offset_seconds: float = 0) -> str:
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset_seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def money(value: str, currency: str) -> dict:
    return {"currency_code": currency, "value": value}


def minor_to_value(minor: int, currency: str) -> str:
    """Minor units as PayPal writes them: "12.50" (USD), "500" (JPY)."""
    if currency.upper() in {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF", "HUF", "TWD"}:
        return str(minor)
    return f"{minor // 100}.{minor % 100:02d}"


def value_to_minor(value: str, currency: str) -> int:
    if "." not in value:
        return int(value) * (1 if minor_to_value(1, currency) == "1" else 100)
    whole, fraction = value.split(".")
    return int(whole) * 100 + int(fraction.ljust(2, "0"))


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict  # lower-cased names
    body: bytes
    json: object = None
    status: int = 0

    @property
    def request_id(self) -> str | None:
        return self.headers.get("paypal-request-id")


# --- the webhook signing certificate -------------------------------------------------------------------

class Certificates:
    """One RSA 2048 signing key and certificates for it, issued as PayPal's are: a test root CA
    (which the store is told to trust, see `paypal_env`) signs an intermediate, which signs the
    leaf `CN=messageverificationcerts.paypal.com`; the fake serves leaf + intermediate as one PEM
    bundle. The attacks use the same key, so only the chain or the subject can give them away:
    an expired leaf, a leaf with the right name from an untrusted CA, and a leaf of the trusted
    CA with another name."""

    SUBJECT = "messageverificationcerts.paypal.com"

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = dt.datetime.now(dt.timezone.utc)
        valid = (now - dt.timedelta(days=1), now + dt.timedelta(days=365))
        root_key, root = self._ca("Souk Test Root CA", None, None, valid)
        intermediate_key, intermediate = self._ca("Souk Test Intermediate CA", root_key, root, valid)
        self.root_pem = self._pem(root)
        chain = self._pem(intermediate)
        self.valid_pem = self._leaf(self.SUBJECT, intermediate_key, intermediate, valid) + chain
        self.expired_pem = self._leaf(self.SUBJECT, intermediate_key, intermediate,
                                      (now - dt.timedelta(days=30), now - dt.timedelta(days=1))) + chain
        self.wrong_subject_pem = self._leaf("evil.example.com", intermediate_key, intermediate, valid) + chain
        rogue_key, rogue = self._ca("Souk Test Root CA", None, None, valid)  # same name, other key
        self.untrusted_pem = self._leaf(self.SUBJECT, rogue_key, rogue, valid) + self._pem(rogue)
        self.self_signed_pem = self._leaf(self.SUBJECT, self.key, None, valid)
        directory = tempfile.mkdtemp(prefix="souk-paypal-ca-")
        self.roots_file = os.path.join(directory, "roots.pem")
        with open(self.roots_file, "wb") as file:
            file.write(self.root_pem)

    @staticmethod
    def _pem(certificate) -> bytes:
        return certificate.public_bytes(serialization.Encoding.PEM)

    @staticmethod
    def _name(common_name: str) -> x509.Name:
        return x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PayPal, Inc."),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ])

    def _ca(self, common_name: str, issuer_key, issuer, validity):
        """A CA certificate: self-signed when `issuer` is None."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = self._name(common_name)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(issuer.subject if issuer else name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(validity[0]).not_valid_after(validity[1])
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        return key, builder.sign(issuer_key or key, hashes.SHA256())

    def _leaf(self, common_name: str, issuer_key, issuer, validity) -> bytes:
        """A certificate for the signing key; self-signed when `issuer` is None."""
        name = self._name(common_name)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(issuer.subject if issuer else name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(validity[0]).not_valid_after(validity[1])
        )
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        return self._pem(builder.sign(issuer_key, hashes.SHA256()))


_CERTIFICATES: Certificates | None = None
_CERTIFICATES_LOCK = threading.Lock()


def certificates() -> Certificates:
    """Made once per test run (RSA key generation is the slow part)."""
    global _CERTIFICATES
    with _CERTIFICATES_LOCK:
        if _CERTIFICATES is None:
            _CERTIFICATES = Certificates()
        return _CERTIFICATES


def sign(message: str, key=None) -> str:
    """Base64 SHA256withRSA (PKCS#1 v1.5) signature of `message`."""
    key = key or certificates().key
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def webhook_headers(body: bytes, cert_url: str, webhook_id: str = WEBHOOK_ID, transmission_id: str | None = None,
                    transmission_time: str | None = None, key=None) -> dict:
    """The headers PayPal sends with a webhook: the signature covers
    `transmission_id|transmission_time|webhook_id|crc32(body)` (CRC as unsigned decimal)."""
    transmission_id = transmission_id or str(uuid.uuid4())
    transmission_time = transmission_time or iso_now()
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body) & 0xFFFFFFFF}"
    return {
        "Content-Type": "application/json",
        "User-Agent": "PayPal/AUHD-214.0-58843329",
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": transmission_time,
        "PAYPAL-TRANSMISSION-SIG": sign(message, key),
        "PAYPAL-CERT-URL": cert_url,
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "PAYPAL-AUTH-VERSION": "v2",
    }


# --- the fake API ------------------------------------------------------------------------------------

class FakePayPal(LocalHTTPFake):
    name = "fake-paypal"

    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET):
        self.client_id = client_id
        self.client_secret = client_secret
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.tokens: set[str] = set()
        self.orders: dict[str, dict] = {}
        self.return_urls: dict[str, str] = {}
        self.captures: dict[str, dict] = {}  # capture id -> capture (with "_order" = PayPal order id)
        self.refunds: dict[str, dict] = {}
        # PayPal-Request-Id -> (path, status, answer): PayPal replays the first answer.
        self.idempotent: dict[str, tuple[str, int, dict]] = {}
        self.capture_outcome = "completed"
        self.refund_failure: tuple[int, dict] | None = None
        self.capture_failures: list[int] = []  # statuses for the next capture requests
        self.redirect_certificates_to: str | None = None  # where /certs/moved.pem redirects

    # start(), stop() and base_url come from LocalHTTPFake.

    @property
    def cert_url(self) -> str:
        return self.base_url + "/certs/paypal.pem"

    # --- what the test reads ----------------------------------------------------------------------

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests
                    if (method is None or r.method == method) and (path is None or r.path == path)]

    def token_calls(self) -> list[Recorded]:
        return self.calls("POST", "/v1/oauth2/token")

    def order_creates(self) -> list[Recorded]:
        return self.calls("POST", "/v2/checkout/orders")

    def capture_calls(self, paypal_order_id: str | None = None) -> list[Recorded]:
        return [r for r in self.calls("POST") if r.path.startswith("/v2/checkout/orders/") and r.path.endswith("/capture")
                and paypal_order_id in (None, r.path.split("/")[4])]

    def refund_calls(self, capture_id: str | None = None) -> list[Recorded]:
        return [r for r in self.calls("POST") if r.path.startswith("/v2/payments/captures/") and r.path.endswith("/refund")
                and capture_id in (None, r.path.split("/")[4])]

    def order(self, paypal_order_id: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.orders[paypal_order_id])

    def order_for(self, souk_order_id: str) -> dict:
        """The one PayPal order whose purchase unit's custom_id is `souk_order_id`."""
        with self.lock:
            found = [o for o in self.orders.values() if o["purchase_units"][0].get("custom_id") == souk_order_id]
        assert len(found) == 1, f"{len(found)} PayPal orders for order {souk_order_id}"
        return copy.deepcopy(found[0])

    def capture_of(self, souk_order_id: str) -> dict:
        order = self.order_for(souk_order_id)
        captures = order["purchase_units"][0].get("payments", {}).get("captures", [])
        assert len(captures) == 1, f"{len(captures)} captures for order {souk_order_id}"
        return captures[0]

    # --- what the test sets -----------------------------------------------------------------------

    def approve(self, paypal_order_id: str) -> dict:
        """The buyer approved the order on PayPal's page."""
        with self.lock:
            order = self.orders[paypal_order_id]
            if order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
                order["status"] = "APPROVED"
                order["payer"] = {"payer_id": "BUYER" + paypal_id(8), "email_address": "buyer@example.com",
                                  "name": {"given_name": "Test", "surname": "Buyer"}}
            return copy.deepcopy(order)

    def capture_now(self, paypal_order_id: str, status: str = "COMPLETED") -> dict:
        """Captures an approved order outside Souk (as a parallel request would); returns the capture."""
        with self.lock:
            return copy.deepcopy(self._capture(self.orders[paypal_order_id], status))

    def fail_next_captures(self, *statuses: int):
        """The next capture requests fail with these statuses (e.g. 503), one each, in order."""
        with self.lock:
            self.capture_failures.extend(statuses)

    def fail_refunds(self, status: int | None = 422, issue: str = "REFUND_NOT_ALLOWED",
                     description: str = "Full refund refused - partial refund has already been done on this payment."):
        """Refuse every refund with `status` (None: accept them again)."""
        with self.lock:
            self.refund_failure = None if status is None else (
                status, self._error_body("UNPROCESSABLE_ENTITY", issue, description))

    # --- the HTTP side ----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str):
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        parsed = None
        if body and headers.get("content-type", "").startswith("application/json"):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        record = Recorded(method, parts.path, parse_qs(parts.query), headers, body, parsed)
        with self.lock:
            self.requests.append(record)
        extra_headers = {}
        try:
            status, answer, content_type, extra_headers = self._route(record)
        except Exception as error:  # a bug in the fake must show, not hang the server's call
            status, answer, content_type = 500, self._error_body("INTERNAL_SERVER_ERROR", None, repr(error)), "json"
        record.status = status
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json" if content_type == "json" else content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Paypal-Debug-Id", secrets.token_hex(7))
        for name, value in extra_headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _error_body(name: str, issue: str | None, description: str) -> dict:
        body = {"name": name, "message": "The requested action could not be performed.", "debug_id": secrets.token_hex(7)}
        if issue:
            body["details"] = [{"issue": issue, "description": description}]
        else:
            body["message"] = description
        return body

    def _route(self, r: Recorded):
        path = r.path
        if r.method == "GET" and path == "/certs/paypal.pem":
            return 200, certificates().valid_pem, "application/x-pem-file", {}
        served = {"/certs/expired.pem": "expired_pem", "/certs/untrusted.pem": "untrusted_pem",
                  "/certs/wrong-subject.pem": "wrong_subject_pem", "/certs/self-signed.pem": "self_signed_pem"}
        if r.method == "GET" and path in served:
            return 200, getattr(certificates(), served[path]), "application/x-pem-file", {}
        if r.method == "GET" and path == "/certs/moved.pem":
            return 302, b"", "text/html", {"Location": self.redirect_certificates_to or self.cert_url}
        if r.method == "GET" and path == "/checkoutnow":
            return self._approve_page(r)
        if r.method == "POST" and path == "/v1/oauth2/token":
            return (*self._token(r), "json", {})
        auth = r.headers.get("authorization", "")
        with self.lock:
            authorised = auth.startswith("Bearer ") and auth[7:] in self.tokens
        if not authorised:
            return 401, {"name": "AUTHENTICATION_FAILURE", "message": "Authentication failed due to invalid authentication "
                         "credentials or a missing Authorization header."}, "json", {}
        # PayPal replays the first answer to a POST with a PayPal-Request-Id seen before.
        if r.method == "POST" and r.request_id:
            with self.lock:
                seen = self.idempotent.get(r.request_id)
            if seen and seen[0] == path:
                return seen[1], seen[2], "json", {}
        status, answer = self._api(r)
        # Only successes are kept (a refused request may be sent again once the cause is gone).
        if r.method == "POST" and r.request_id and 200 <= status < 300:
            with self.lock:
                self.idempotent.setdefault(r.request_id, (path, status, copy.deepcopy(answer)))
        return status, answer, "json", {}

    def _api(self, r: Recorded) -> tuple[int, dict]:
        segments = r.path.strip("/").split("/")
        if r.method == "POST" and r.path == "/v2/checkout/orders":
            return self._create_order(r)
        if segments[:3] == ["v2", "checkout", "orders"] and len(segments) >= 4:
            with self.lock:
                order = self.orders.get(segments[3])
            if order is None:
                return 404, self._error_body("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID",
                                             "Specified resource ID does not exist.")
            if r.method == "GET" and len(segments) == 4:
                with self.lock:
                    return 200, copy.deepcopy(order)
            if r.method == "POST" and segments[4:] == ["capture"]:
                return self._capture_order(order)
        if r.method == "POST" and segments[:3] == ["v2", "payments", "captures"] and segments[4:] == ["refund"]:
            return self._refund(r, segments[3])
        return 404, self._error_body("NOT_FOUND", None, f"fake paypal: no route for {r.method} {r.path}")

    def _token(self, r: Recorded) -> tuple[int, dict]:
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        form = parse_qs(r.body.decode())
        if r.headers.get("authorization") != expected:
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        if form.get("grant_type") != ["client_credentials"]:
            return 400, {"error": "unsupported_grant_type", "error_description": "unsupported grant_type"}
        token = "A21AA" + secrets.token_urlsafe(40)
        with self.lock:
            self.tokens.add(token)
        return 200, {"scope": "https://uri.paypal.com/services/payments/payment", "access_token": token,
                     "token_type": "Bearer", "app_id": "APP-80W284485P519543T", "expires_in": 32400,
                     "nonce": iso_now() + secrets.token_hex(8)}

    def _create_order(self, r: Recorded) -> tuple[int, dict]:
        body = r.json if isinstance(r.json, dict) else None
        if not body or body.get("intent") not in ("CAPTURE", "AUTHORIZE") or not body.get("purchase_units"):
            return 400, self._error_body("INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "intent and purchase_units")
        order_id = paypal_id()
        context = body.get("payment_source", {}).get("paypal", {}).get("experience_context", {})
        order = {
            "id": order_id,
            "intent": body["intent"],
            "status": "PAYER_ACTION_REQUIRED" if context else "CREATED",
            "purchase_units": copy.deepcopy(body["purchase_units"]),
            "payment_source": {"paypal": {}},
            "create_time": iso_now(),
            "links": [
                {"href": f"{self.base_url}/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"},
                {"href": f"{self.base_url}/checkoutnow?token={order_id}", "rel": "payer-action", "method": "GET"},
            ],
        }
        with self.lock:
            self.orders[order_id] = order
            if context.get("return_url"):
                self.return_urls[order_id] = context["return_url"]
            answer = {k: copy.deepcopy(order[k]) for k in ("id", "status", "payment_source", "links")}
        return 200, answer

    def _approve_page(self, r: Recorded):
        order_id = (r.query.get("token") or [""])[0]
        with self.lock:
            known = order_id in self.orders
            return_url = self.return_urls.get(order_id)
        if not known or not return_url:
            return 404, b"<html><body>Unknown checkout</body></html>", "text/html", {}
        order = self.approve(order_id)
        separator = "&" if "?" in return_url else "?"
        location = return_url + separator + urlencode({"token": order_id, "PayerID": order["payer"]["payer_id"]})
        return 302, b"", "text/html", {"Location": location}

    def _capture(self, order: dict, status: str) -> dict:
        """Adds a capture to `order` (lock held)."""
        unit = order["purchase_units"][0]
        capture = {
            "id": paypal_id(),
            "status": status,
            "amount": copy.deepcopy(unit["amount"]),
            "final_capture": True,
            "custom_id": unit.get("custom_id"),
            "invoice_id": unit.get("invoice_id"),
            "seller_protection": {"status": "ELIGIBLE"},
            "supplementary_data": {"related_ids": {"order_id": order["id"]}},
            "create_time": iso_now(),
            "update_time": iso_now(),
            "links": [],
        }
        if status == "COMPLETED":
            capture["seller_receivable_breakdown"] = {"gross_amount": copy.deepcopy(unit["amount"])}
        elif status == "PENDING":
            capture["status_details"] = {"reason": "PENDING_REVIEW"}
        capture["links"] = [
            {"href": f"{self.base_url}/v2/payments/captures/{capture['id']}", "rel": "self", "method": "GET"},
            {"href": f"{self.base_url}/v2/payments/captures/{capture['id']}/refund", "rel": "refund", "method": "POST"},
            {"href": f"{self.base_url}/v2/checkout/orders/{order['id']}", "rel": "up", "method": "GET"},
        ]
        unit.setdefault("payments", {}).setdefault("captures", []).append(capture)
        order["status"] = "COMPLETED"
        self.captures[capture["id"]] = dict(capture, _order=order["id"], _refunded=0)
        return capture

    def _capture_order(self, order: dict) -> tuple[int, dict]:
        with self.lock:
            if self.capture_failures:
                status = self.capture_failures.pop(0)
                return status, self._error_body("SERVICE_UNAVAILABLE" if status >= 500 else "UNPROCESSABLE_ENTITY", None,
                                                 "fake paypal: capture failed as the test asked")
            if order["status"] == "COMPLETED":
                return 422, self._error_body("UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED",
                                             "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.")
            if order["status"] != "APPROVED":
                return 422, self._error_body("UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED",
                                             "Payer has not yet approved the Order for payment.")
            outcome = self.capture_outcome
            if outcome == "already_captured":
                self._capture(order, "COMPLETED")
                return 422, self._error_body("UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED",
                                             "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.")
            status = {"completed": "COMPLETED", "pending": "PENDING", "declined": "DECLINED"}[outcome]
            self._capture(order, status)
            return 201, copy.deepcopy(order)

    def _refund(self, r: Recorded, capture_id: str) -> tuple[int, dict]:
        with self.lock:
            if self.refund_failure:
                return copy.deepcopy(self.refund_failure)
            capture = self.captures.get(capture_id)
            if capture is None or capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED"):
                return 404, self._error_body("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID",
                                             "Specified resource ID does not exist.")
            currency = capture["amount"]["currency_code"]
            total = value_to_minor(capture["amount"]["value"], currency)
            body = r.json if isinstance(r.json, dict) else {}
            asked = body.get("amount")
            if asked and asked.get("currency_code") != currency:
                return 422, self._error_body("UNPROCESSABLE_ENTITY", "REFUND_CURRENCY_MISMATCH",
                                             "Refund must be in the same currency as the capture.")
            amount = value_to_minor(asked["value"], currency) if asked else total - capture["_refunded"]
            if amount <= 0 or capture["_refunded"] + amount > total:
                return 422, self._error_body("UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED",
                                             "The refund amount must be less than or equal to the capture amount "
                                             "that has not yet been refunded.")
            capture["_refunded"] += amount
            capture["status"] = "REFUNDED" if capture["_refunded"] == total else "PARTIALLY_REFUNDED"
            refund = {
                "id": paypal_id(),
                "status": "COMPLETED",
                "amount": money(minor_to_value(amount, currency), currency),
                "seller_payable_breakdown": {
                    "gross_amount": money(minor_to_value(amount, currency), currency),
                    "total_refunded_amount": money(minor_to_value(capture["_refunded"], currency), currency),
                },
                "custom_id": body.get("custom_id"),
                "create_time": iso_now(),
                "links": [{"href": f"{self.base_url}/v2/payments/captures/{capture_id}", "rel": "up", "method": "GET"}],
            }
            self.refunds[refund["id"]] = dict(refund, _capture=capture_id)
            return 201, copy.deepcopy(refund)


# --- webhook events ----------------------------------------------------------------------------------

def event(event_type: str, resource: dict, event_id: str | None = None, resource_type: str = "") -> dict:
    """A PayPal webhook event around `resource`."""
    return {
        "id": event_id or "WH-" + paypal_id(8) + "-" + paypal_id(8),
        "event_version": "1.0",
        "create_time": iso_now(),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": f"{event_type} (souk e2e)",
        "resource": resource,
        "links": [],
    }


def refund_resource(refund_id: str, order_id: str, amount: int, total_refunded: int, currency: str = "USD") -> dict:
    """The resource of `PAYMENT.CAPTURE.REFUNDED`: the refund, with the cumulative refunded total."""
    return {
        "id": refund_id,
        "status": "COMPLETED",
        "custom_id": order_id,
        "amount": money(minor_to_value(amount, currency), currency),
        "seller_payable_breakdown": {
            "gross_amount": money(minor_to_value(amount, currency), currency),
            "total_refunded_amount": money(minor_to_value(total_refunded, currency), currency),
        },
        "create_time": iso_now(),
    }


def dispute_resource(capture_id: str, amount: int, currency: str = "USD", status: str = "OPEN",
                     outcome: str | None = None, dispute_id: str | None = None) -> dict:
    """The resource of `CUSTOMER.DISPUTE.*`."""
    resource = {
        "dispute_id": dispute_id or "PP-D-" + str(secrets.randbelow(10**5)),
        "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
        "status": status,
        "dispute_amount": money(minor_to_value(amount, currency), currency),
        "disputed_transactions": [{"seller_transaction_id": capture_id, "buyer_transaction_id": paypal_id()}],
        "dispute_life_cycle_stage": "CHARGEBACK" if outcome else "INQUIRY",
        "create_time": iso_now(),
    }
    if outcome:
        resource["dispute_outcome"] = {"outcome_code": outcome}
    return resource


def deliver(souk, fake: FakePayPal, built: dict | bytes, cert_url: str | None = None, drop: str | None = None,
            tamper=None, **header_options) -> requests.Response:
    """POSTs an event to `/webhooks/paypal` like PayPal, signed. `drop` leaves one header out;
    `tamper(body) -> body` changes the body after signing; other keywords go to `webhook_headers`."""
    body = built if isinstance(built, bytes) else json.dumps(built).encode()
    headers = webhook_headers(body, cert_url or fake.cert_url, **header_options)
    if drop:
        headers.pop(drop)
    if tamper:
        body = tamper(body)
    return requests.post(souk.url("/webhooks/paypal"), data=body, headers=headers, timeout=30)


# --- store wiring -----------------------------------------------------------------------------------

def paypal_env(fake: FakePayPal, **extra) -> dict:
    """The environment of a marketplace store that takes PayPal payments through `fake`."""
    return {
        "SOUK_PAYMENTS_PAYPAL_CLIENT_ID": fake.client_id,
        "SOUK_PAYMENTS_PAYPAL_CLIENT_SECRET": fake.client_secret,
        "SOUK_PAYMENTS_PAYPAL_WEBHOOK_ID": WEBHOOK_ID,
        "SOUK_PAYMENTS_PAYPAL_API_BASE": fake.base_url,
        # The store trusts the fake's test CA instead of the system's roots.
        "SOUK_PAYMENTS_PAYPAL_CERT_ROOTS_FILE": certificates().roots_file,
        "SOUK_PAYMENTS_DEFAULT": "paypal",
        "SOUK_STORE_MARKETPLACE": "true",
        "SOUK_JOBS_POLL_MILLISECONDS": "100",
        "SOUK_JOBS_RETRY_BASE_SECONDS": "1",
        "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
        "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "0",
        "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "0",
        **{k: str(v) for k, v in extra.items()},
    }


@pytest.fixture
def fake_paypal():
    fake = FakePayPal().start()
    yield fake
    fake.stop()
