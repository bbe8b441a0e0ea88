"""A local fake of the parts of Stripe's API that Souk calls, plus helpers to build and sign
Stripe webhook events from Stripe's own example objects (`/work/shared/fixtures/stripe/`).

The fake runs an `http.server.ThreadingHTTPServer` on a free port in a thread and records every
request (method, path, headers, raw body, form parsed with `urllib.parse.parse_qs`). It serves:

- `POST /v1/checkout/sessions`: creates a session shaped like Stripe's example session. Like
  Stripe, an `Idempotency-Key` seen before replays the first answer, and the same key with other
  parameters is refused (400 `idempotency_error`).
- `GET /v1/checkout/sessions/{id}`: the session as the test left it (`mark_paid`, `mark_expired`).
- `POST /v1/refunds`: refunds part or all of a session's payment intent (refused beyond what is
  left, like Stripe); `fail_refunds(402)` makes it refuse every refund.

Every call must carry `Authorization: Bearer <secret key>` (401 otherwise, as Stripe answers).
"""
import copy
import json
import os
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from fake_http import LocalHTTPFake
import requests
import stripe

FIXTURES = Path(os.environ.get("STRIPE_FIXTURES", "/work/shared/fixtures/stripe"))
SECRET_KEY = "sk_test_souk_e2e"
WEBHOOK_SECRET = "whsec_" + "c291ay1lMmUtd2ViaG9vay1zZWNyZXQ"


def fixture(name: str) -> dict:
    """A fresh deep copy of one of Stripe's example objects (`checkout.session`, `charge`…)."""
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text()))


def stripe_id(prefix: str) -> str:
    """An id shaped like Stripe's: prefix, underscore, 24 letters and digits."""
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict  # lower-cased names
    body: bytes
    form: dict = field(default_factory=dict)  # parse_qs: name -> [values]
    status: int = 0

    def one(self, name: str) -> str | None:
        """The single value of a form field (None when absent)."""
        values = self.form.get(name)
        if not values:
            return None
        assert len(values) == 1, f"{name} sent {len(values)} times: {values}"
        return values[0]


class FakeStripe(LocalHTTPFake):
    name = "fake-stripe"

    def __init__(self, secret_key: str = SECRET_KEY):
        self.secret_key = secret_key
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.sessions: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.refunds_by_intent: dict[str, list[str]] = {}
        self.session_lines: dict[str, list[dict]] = {}
        self.intent_metadata: dict[str, dict] = {}
        # Idempotency-Key -> (path, form, status, answer): Stripe replays the first answer.
        self.idempotent: dict[str, tuple[str, dict, int, dict]] = {}
        self.refund_failure: tuple[int, dict] | None = None
        # (method, path) of requests to carry out but answer by closing the connection (a timeout).
        self.drops: list[tuple[str, str]] = []

    # start(), stop() and base_url come from LocalHTTPFake.

    # --- what the test reads ----------------------------------------------------------------------

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        with self.lock:
            return [
                r for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    def session_creates(self) -> list[Recorded]:
        return self.calls("POST", "/v1/checkout/sessions")

    def refund_calls(self, payment_intent: str | None = None) -> list[Recorded]:
        return [r for r in self.calls("POST", "/v1/refunds") if payment_intent in (None, r.one("payment_intent"))]

    def session(self, session_id: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.sessions[session_id])

    def session_for_order(self, order_id: str) -> dict:
        with self.lock:
            found = [s for s in self.sessions.values() if s["metadata"].get("order_id") == order_id]
        assert len(found) == 1, f"{len(found)} sessions for order {order_id}"
        return copy.deepcopy(found[0])

    # --- what the test sets -----------------------------------------------------------------------

    def mark_paid(self, session_id: str) -> dict:
        """The buyer paid on Stripe's page: the session is complete and paid."""
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid")
            return copy.deepcopy(session)

    def mark_expired(self, session_id: str) -> dict:
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="expired", payment_status="unpaid", url=None)
            return copy.deepcopy(session)

    def drop_next(self, method: str, path: str):
        """Carry out the next `method path` request, then close the connection without an answer,
        as when the network fails after Stripe acted (what idempotency keys are for)."""
        with self.lock:
            self.drops.append((method, path))

    def fail_refunds(self, status: int | None = 402, message: str = "Your card was declined."):
        """Refuse every refund with `status` (None: accept them again)."""
        with self.lock:
            if status is None:
                self.refund_failure = None
            else:
                self.refund_failure = (
                    status,
                    {"error": {"type": "card_error", "code": "card_declined", "message": message,
                               "request_log_url": "https://dashboard.stripe.com/test/logs/req_fake"}},
                )

    # --- the HTTP side ----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str):
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        form = {}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        record = Recorded(method, parts.path, parse_qs(parts.query), headers, body, form)
        with self.lock:
            self.requests.append(record)
        try:
            status, answer = self._route(record)
        except Exception as error:  # a bug in the fake must show, not hang the server's call
            status, answer = 500, {"error": {"type": "api_error", "message": f"fake stripe: {error!r}"}}
        record.status = status
        with self.lock:
            drop = (method, parts.path) in self.drops
            if drop:
                self.drops.remove((method, parts.path))
        if drop:
            record.status = -1
            handler.close_connection = True
            return
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", "req_" + secrets.token_hex(7))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _error(status: int, kind: str, message: str, **extra) -> tuple[int, dict]:
        return status, {"error": {"type": kind, "message": message, **extra}}

    def _route(self, r: Recorded) -> tuple[int, dict]:
        if r.headers.get("authorization") != f"Bearer {self.secret_key}":
            return self._error(401, "invalid_request_error", "Invalid API Key provided.")
        key = r.headers.get("idempotency-key")
        if r.method == "POST" and key:
            with self.lock:
                seen = self.idempotent.get(key)
            if seen:
                path, form, status, answer = seen
                if path != r.path or form != r.form:
                    return self._error(
                        400, "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        "used with. Try using a key other than '%s' if you meant to execute a different request." % key)
                return status, answer
        if r.method == "POST" and r.path == "/v1/checkout/sessions":
            status, answer = self._create_session(r)
        elif r.method == "GET" and r.path.startswith("/v1/checkout/sessions/"):
            session_id = r.path.rsplit("/", 1)[1]
            with self.lock:
                session = copy.deepcopy(self.sessions.get(session_id))
            if session is None:
                return self._error(404, "invalid_request_error", f"No such checkout.session: '{session_id}'",
                                   code="resource_missing", param="session")
            return 200, session
        elif r.method == "POST" and r.path == "/v1/refunds":
            status, answer = self._create_refund(r)
        else:
            return self._error(404, "invalid_request_error", f"Unrecognized request URL ({r.method}: {r.path}).")
        # Stripe keeps the answer of an idempotent request that ran (not of one refused up front).
        if key and status < 500:
            with self.lock:
                self.idempotent.setdefault(key, (r.path, r.form, status, answer))
                status, answer = self.idempotent[key][2], self.idempotent[key][3]
        return status, answer

    def _create_session(self, r: Recorded) -> tuple[int, dict]:
        required = ["mode", "success_url"]
        for name in required:
            if not r.one(name):
                return self._error(400, "invalid_request_error", f"Missing required param: {name}.", param=name)
        lines = []
        index = 0
        while f"line_items[{index}][quantity]" in r.form:
            prefix = f"line_items[{index}]"
            lines.append({
                "currency": r.one(f"{prefix}[price_data][currency]"),
                "unit_amount": int(r.one(f"{prefix}[price_data][unit_amount]")),
                "name": r.one(f"{prefix}[price_data][product_data][name]"),
                "quantity": int(r.one(f"{prefix}[quantity]")),
            })
            index += 1
        if not lines:
            return self._error(400, "invalid_request_error", "line_items is required in payment mode.", param="line_items")
        currencies = {line["currency"] for line in lines}
        if len(currencies) != 1:
            return self._error(400, "invalid_request_error", "All line items must share one currency.")
        expires_at = int(r.one("expires_at") or time.time() + 24 * 3600)
        if not time.time() + 30 * 60 - 5 <= expires_at <= time.time() + 24 * 3600 + 5:
            return self._error(400, "invalid_request_error",
                               "The `expires_at` timestamp must be between 30 minutes and 24 hours from now.",
                               param="expires_at")
        session_id = "cs_test_" + secrets.token_urlsafe(36).replace("-", "a").replace("_", "b")
        total = sum(line["unit_amount"] * line["quantity"] for line in lines)
        session = fixture("checkout.session")
        session.update(
            id=session_id,
            url=f"https://checkout.stripe.test/c/pay/{session_id}",
            object="checkout.session",
            mode=r.one("mode"),
            payment_status="unpaid",
            status="open",
            payment_intent=stripe_id("pi"),
            client_reference_id=r.one("client_reference_id"),
            customer_email=r.one("customer_email"),
            success_url=r.one("success_url"),
            cancel_url=r.one("cancel_url"),
            expires_at=expires_at,
            created=int(time.time()),
            currency=currencies.pop(),
            amount_subtotal=total,
            amount_total=total,
            metadata={k[len("metadata["):-1]: v[0] for k, v in r.form.items() if k.startswith("metadata[")},
        )
        session["customer_details"]["email"] = r.one("customer_email")
        intent_metadata = {
            k[len("payment_intent_data[metadata]["):-1]: v[0]
            for k, v in r.form.items() if k.startswith("payment_intent_data[metadata][")
        }
        with self.lock:
            self.sessions[session_id] = session
            # What the buyer would see on the hosted page, and the payment intent's metadata.
            self.session_lines[session_id] = lines
            self.intent_metadata[session["payment_intent"]] = intent_metadata
        return 200, copy.deepcopy(session)

    def _create_refund(self, r: Recorded) -> tuple[int, dict]:
        with self.lock:
            failure = self.refund_failure
        if failure:
            return failure
        intent = r.one("payment_intent")
        with self.lock:
            session = next((s for s in self.sessions.values() if s["payment_intent"] == intent), None)
            if session is None:
                return self._error(404, "invalid_request_error", f"No such payment_intent: '{intent}'",
                                   code="resource_missing", param="payment_intent")
            if session["payment_status"] != "paid":
                return self._error(400, "invalid_request_error",
                                   f"This PaymentIntent ({intent}) does not have a successful charge to refund.")
            already = sum(self.refunds[i]["amount"] for i in self.refunds_by_intent.get(intent, []))
            left = session["amount_total"] - already
            amount = int(r.one("amount") or left)
            if amount <= 0 or amount > left:
                return self._error(
                    400, "invalid_request_error",
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                    code="amount_too_large", param="amount")
            refund = fixture("refund")
            refund.update(
                id=stripe_id("re"), amount=amount, payment_intent=intent, currency=session["currency"],
                charge="ch_" + intent[3:], created=int(time.time()), status="succeeded",
                metadata={k[len("metadata["):-1]: v[0] for k, v in r.form.items() if k.startswith("metadata[")},
            )
            self.refunds[refund["id"]] = refund
            self.refunds_by_intent.setdefault(intent, []).append(refund["id"])
        return 200, copy.deepcopy(refund)


# --- webhook events built from Stripe's examples ----------------------------------------------------

def event(type_: str, obj: dict, event_id: str | None = None) -> dict:
    """A Stripe event (from the example `event.json`) carrying `obj` as `data.object`."""
    built = fixture("event")
    built.update(
        id=event_id or stripe_id("evt"), type=type_, created=int(time.time()), api_version="2024-06-20",
        livemode=False, pending_webhooks=1,
    )
    built["data"] = {"object": copy.deepcopy(obj)}
    built["request"] = {"id": None, "idempotency_key": None}
    return built


def charge(payment_intent: str, amount: int, amount_refunded: int, refunds: list[dict], currency: str = "usd",
           metadata: dict | None = None) -> dict:
    """A charge (from `charge.json`) of a payment intent with refunds made so far (newest first)."""
    built = fixture("charge")
    built.update(
        id="ch_" + payment_intent[3:], payment_intent=payment_intent, amount=amount, amount_captured=amount,
        amount_refunded=amount_refunded, refunded=amount_refunded == amount, captured=True, currency=currency,
        metadata=metadata or {},
    )
    built["refunds"]["data"] = refunds
    built["refunds"]["url"] = f"/v1/charges/{built['id']}/refunds"
    return built


def refund_object(payment_intent: str, amount: int, refund_id: str | None = None, currency: str = "usd") -> dict:
    built = fixture("refund")
    built.update(id=refund_id or stripe_id("re"), amount=amount, payment_intent=payment_intent,
                 charge="ch_" + payment_intent[3:], currency=currency, status="succeeded")
    return built


def dispute(payment_intent: str, amount: int, status: str, currency: str = "usd") -> dict:
    built = fixture("dispute")
    built.update(id=stripe_id("dp"), payment_intent=payment_intent, charge="ch_" + payment_intent[3:], amount=amount,
                 currency=currency, status=status)
    return built


def signature_header(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """`Stripe-Signature` exactly as Stripe computes it, by the official library."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def deliver(souk, built: dict | str, header: str | None = "sign", timestamp: int | None = None,
            secret: str = WEBHOOK_SECRET) -> requests.Response:
    """POSTs an event to `/webhooks/stripe` like Stripe: raw JSON body, signed unless `header` is
    given (None: no `Stripe-Signature` at all)."""
    payload = built if isinstance(built, str) else json.dumps(built, indent=2)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
    if header == "sign":
        headers["Stripe-Signature"] = signature_header(payload, secret, timestamp)
    elif header is not None:
        headers["Stripe-Signature"] = header
    return requests.post(souk.url("/webhooks/stripe"), data=payload.encode(), headers=headers, timeout=30)


# --- store wiring -----------------------------------------------------------------------------------

def stripe_env(fake: FakeStripe, **extra) -> dict:
    """The environment of a marketplace store that takes Stripe payments through `fake`."""
    return {
        "SOUK_PAYMENTS_STRIPE_SECRET_KEY": fake.secret_key,
        "SOUK_PAYMENTS_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SOUK_PAYMENTS_STRIPE_API_BASE": fake.base_url,
        "SOUK_PAYMENTS_DEFAULT": "stripe",
        "SOUK_STORE_MARKETPLACE": "true",
        "SOUK_STORE_FEE_PERCENT": "10",
        "SOUK_JOBS_POLL_MILLISECONDS": "100",
        "SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE": "0",
        "SOUK_LIMITS_SIGNUP_PER_IP_PER_HOUR": "0",
        "SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE": "0",
        **{k: str(v) for k, v in extra.items()},
    }


def start_store(make_souk, fake: FakeStripe, **extra_env):
    """A running `souk serve` wired to `fake` (see `stripe_env`)."""
    return make_souk(env=stripe_env(fake, **extra_env))


@pytest.fixture
def fake_stripe():
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_souk(make_souk, fake_stripe):
    return start_store(make_souk, fake_stripe)
