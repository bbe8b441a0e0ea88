"""A local SMTP sink (aiosmtpd) that records every message it accepts, for e2e tests of mail.

Usage in a test module::

    from smtp_sink import smtp_sink  # noqa: F401  (smtp_sink is a fixture)

    def test_receipt(make_souk, smtp_sink):
        souk = make_souk(env={"SOUK_MAIL_SMTP_URL": smtp_sink.url})
        ...
        [message] = smtp_sink.wait_for(1)
        assert message["To"] == "buyer@example.com"
        assert message.envelope_to == ["buyer@example.com"]
        body = message.get_content()          # decoded text (quoted-printable undone)

The `smtp_sink` fixture yields a started `SMTPSink` on 127.0.0.1 and stops it afterwards:

- `.port`, `.host`, `.url` (`smtp://127.0.0.1:<port>`, or with percent-encoded `user:pass@` when
  the sink was made with `auth=(user, password)`).
- `.messages`: the accepted messages in arrival order, each an `email.message.EmailMessage`
  (policy `email.policy.default`, so headers are decoded and `get_content()` gives the text) with
  extra attributes `envelope_from` (str), `envelope_to` (list of str), `raw` (bytes as received)
  and `auth_login` (the user name the client authenticated with, or None).
- `.wait_for(count, timeout=10)`: waits until at least `count` messages arrived and returns the
  list; raises `AssertionError` listing what did arrive when the timeout passes.
- `.stop()` / `.start()`: stop listening (connections are refused, as in an outage) and listen
  again on the same port; messages received before are kept. `.clear()` forgets them.
- `.reply = "451 4.3.0 Try again later"`: answer DATA with this instead of accepting (the message
  is not recorded); `None` accepts again. `.refused` counts the refused deliveries.
- `.sessions`: how many SMTP connections were opened (not counting the start-up self-check).

No STARTTLS is offered: Souk's mailer only requires TLS for credentials to a non-loopback host,
so `smtp://user:pass@127.0.0.1:<port>` works against `SMTPSink(auth=("user", "pass"))`.
"""
import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, sink: "SMTPSink"):
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.sink._changed:
            self.sink.sessions += 1
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        with self.sink._changed:
            self.sink.sessions += 1
        return "250 {}".format(server.hostname)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.sink.auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.sink._changed:
            if self.sink.reply is not None:
                self.sink.refused += 1
                return self.sink.reply
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        # Parsed with LF line ends, so get_content() gives "line\n" text; .raw keeps the CRLFs.
        message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
        message.envelope_from = envelope.mail_from
        message.envelope_to = list(envelope.rcpt_tos)
        message.raw = raw
        auth_data = getattr(session, "auth_data", None)
        message.auth_login = auth_data.login.decode() if isinstance(auth_data, LoginPassword) else None
        with self.sink._changed:
            self.sink.messages.append(message)
            self.sink._changed.notify_all()
        return "250 2.0.0 OK: queued"


class SMTPSink:
    """An aiosmtpd server in a background thread that keeps what it receives (see the module doc)."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1", auth: tuple[str, str] | None = None):
        self.host = host
        self.port = port or _free_port()
        self.auth = auth
        self.messages: list[EmailMessage] = []
        self.reply: str | None = None
        self.refused = 0
        self.sessions = 0
        self._changed = threading.Condition()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        credentials = f"{quote(self.auth[0], safe='')}:{quote(self.auth[1], safe='')}@" if self.auth else ""
        return f"smtp://{credentials}{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.auth is not None
            and auth_data.login.decode() == self.auth[0]
            and auth_data.password.decode() == self.auth[1]
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def start(self) -> "SMTPSink":
        if self._controller is not None:
            return self
        options = {}
        if self.auth:
            # Auth is enforced in handle_MAIL: aiosmtpd warns about auth_required without TLS.
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        sessions_before = self.sessions
        deadline = time.monotonic() + 10
        while True:
            controller = Controller(_Handler(self), hostname=self.host, port=self.port, **options)
            try:
                controller.start()
                break
            except (OSError, RuntimeError):
                # The old socket may linger for a moment after stop(); retry on the same port.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._controller = controller
        with self._changed:
            # Controller.start() connects once to check the server is up; that is not a session.
            self.sessions = sessions_before
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self._changed:
            self.messages.clear()
            self.refused = 0

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [(m["Message-ID"], m["To"], m["Subject"]) for m in self.messages]
                    raise AssertionError(f"expected {count} message(s) within {timeout}s, got {len(got)}: {got}")
                self._changed.wait(left)
            return list(self.messages)


@pytest.fixture
def smtp_sink():
    sink = SMTPSink().start()
    try:
        yield sink
    finally:
        sink.stop()
