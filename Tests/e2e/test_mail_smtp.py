"""The SMTP sink that e2e tests of Souk's mail use (see smtp_sink.py): it records what arrives,
parses it, and can be stopped and restarted on the same port to simulate an outage."""
import smtplib
import socket
import threading
import time
from email.message import EmailMessage

import pytest

from smtp_sink import SMTPSink, smtp_sink  # noqa: F401  (smtp_sink is a fixture)


def make_message(i: int = 1, subject: str = "Votre reçu n° 1") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Souk <store@example.com>"
    message["To"] = "Buyer <buyer@example.com>"
    message["Subject"] = subject
    message["Message-ID"] = f"<receipt-ord_{i}@souk>"
    message.set_content("Merci ! Téléchargement : https://souk.example/d/abc?x=1\n" + "é" * 100, cte="quoted-printable")
    return message


def send(sink, message: EmailMessage, **kwargs):
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        if sink.auth:
            client.login(*sink.auth)
        client.send_message(message, **kwargs)


def test_records_parsed_messages_with_envelope(smtp_sink):
    send(smtp_sink, make_message(), from_addr="bounces@example.com", to_addrs=["buyer@example.com", "cc@example.com"])
    [message] = smtp_sink.wait_for(1)
    assert message.envelope_from == "bounces@example.com"
    assert message.envelope_to == ["buyer@example.com", "cc@example.com"]
    assert message["Subject"] == "Votre reçu n° 1"
    assert message["Message-ID"] == "<receipt-ord_1@souk>"
    assert message["To"].addresses[0].addr_spec == "buyer@example.com"
    assert message.get_content() == "Merci ! Téléchargement : https://souk.example/d/abc?x=1\n" + "é" * 100 + "\n"
    assert b"quoted-printable" in message.raw
    assert smtp_sink.sessions == 1
    assert message.auth_login is None


def test_wait_for_times_out_with_what_arrived(smtp_sink):
    send(smtp_sink, make_message())
    start = time.monotonic()
    with pytest.raises(AssertionError, match="expected 2 message"):
        smtp_sink.wait_for(2, timeout=0.3)
    assert time.monotonic() - start < 2


def test_wait_for_wakes_on_arrival(smtp_sink):
    threading.Timer(0.3, lambda: send(smtp_sink, make_message(2))).start()
    [message] = smtp_sink.wait_for(1, timeout=5)
    assert message["Message-ID"] == "<receipt-ord_2@souk>"


def test_stop_refuses_connections_and_start_listens_on_the_same_port(smtp_sink):
    port = smtp_sink.port
    send(smtp_sink, make_message(1))
    smtp_sink.stop()
    assert not smtp_sink.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    smtp_sink.start()
    assert smtp_sink.port == port and smtp_sink.running
    send(smtp_sink, make_message(2))
    assert [m["Message-ID"] for m in smtp_sink.wait_for(2)] == ["<receipt-ord_1@souk>", "<receipt-ord_2@souk>"]
    smtp_sink.clear()
    assert smtp_sink.messages == []


def test_reply_refuses_deliveries_until_reset(smtp_sink):
    smtp_sink.reply = "451 4.3.0 Try again later"
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(smtp_sink, make_message())
    assert refused.value.smtp_code == 451
    assert smtp_sink.refused == 1 and smtp_sink.messages == []
    smtp_sink.reply = None
    send(smtp_sink, make_message())
    assert len(smtp_sink.wait_for(1)) == 1


def test_auth_without_tls_on_loopback():
    sink = SMTPSink(auth=("store@example.com", "s3cret")).start()
    try:
        assert sink.url == f"smtp://store%40example.com:s3cret@127.0.0.1:{sink.port}"
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
            with pytest.raises(smtplib.SMTPAuthenticationError):
                client.login("store@example.com", "wrong")
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
            with pytest.raises(smtplib.SMTPSenderRefused):  # auth required
                client.send_message(make_message())
        send(sink, make_message())
        [message] = sink.wait_for(1)
        assert message.auth_login == "store@example.com"
    finally:
        sink.stop()
