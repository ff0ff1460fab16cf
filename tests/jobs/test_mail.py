"""The SMTP mailer against a real SMTP server on loopback (a tiny sink written here: EHLO, MAIL,
RCPT, DATA, QUIT), end to end: a visitor's notice is submitted, the inline job composes the
receipt and hands it to the server over a socket; and PARVIS_SMTP_URL is parsed strictly."""

from __future__ import annotations

import smtplib
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from parvis.app import build, create_app
from parvis.jobs import mail as smtp
from parvis.services import notices
from tests.builders import make_user
from tests.conftest import make_settings


@dataclass
class Envelope:
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    data: bytes = b""


class Sink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.received: list[Envelope] = []
        self.commands: list[str] = []


class SmtpHandler(socketserver.StreamRequestHandler):
    server: Sink

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        envelope = Envelope()
        self.reply("220 sink ESMTP")
        while line := self.rfile.readline():
            command = line.decode().rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            self.server.commands.append(verb)
            if verb in ("EHLO", "HELO"):
                self.reply("250-sink")
                self.reply("250 8BITMIME")
            elif verb == "MAIL":
                envelope = Envelope(sender=command.split(":", 1)[1].split()[0].strip("<>"))
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope.recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                envelope.data = b"".join(lines)
                self.server.received.append(envelope)
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_receipt_reaches_a_real_smtp_server(sink: Sink, tmp_path: Path) -> None:
    port = sink.server_address[1]
    settings = make_settings(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
    parvis = build(settings, migrate=True)
    try:
        assert isinstance(parvis.runtime.mailer, smtp.SmtpMailer)
        with TestClient(create_app(parvis, embedded_worker=False), base_url=settings.base_url) as c:
            author = make_user(c)
            notice = notices.NewNotice(
                category="harassment",
                explanation="Threatens me every day.",
                items=(notices.Item(account_id=int(author.id)),),
                good_faith=True,
                reporter_email="ann@example.test",
            )
            receipt = parvis.runtime.write(lambda w: notices.submit(w, None, notice))
    finally:
        parvis.close()
    [envelope] = sink.received
    assert envelope.sender == "noreply@parvis.test"
    assert envelope.recipients == ["ann@example.test"]
    message = message_from_bytes(envelope.data, policy=policy.default)
    assert message["To"] == "ann@example.test"
    body = " ".join(str(message.get_body(("plain",)).get_content()).split())  # type: ignore[union-attr]
    assert f"https://parvis.test/notices/{receipt.key}" in body
    assert f"@{author.username}" in body
    assert "STARTTLS" not in sink.commands  # loopback, not offered: plain is allowed here


def test_the_smtp_url_is_parsed_strictly() -> None:
    assert smtp.parse_url("smtps://u:p%40ss@mail.example.org") == smtp.SmtpUrl(
        "mail.example.org", 465, "implicit", "u", "p@ss"
    )
    assert smtp.parse_url("smtp://u:p@mail.example.org").tls == "starttls"
    assert smtp.parse_url("smtp://u:p@mail.example.org").port == 587
    assert smtp.parse_url("smtp://localhost").tls == "opportunistic"
    assert smtp.parse_url("smtp://127.0.0.1:2525").port == 2525
    for bad in ("http://mail.example.org", "smtp://", "smtp://host:port", "mail.example.org"):
        with pytest.raises(ValueError, match="PARVIS_SMTP_URL") as raised:
            smtp.parse_url(bad)
        assert "p@ss" not in str(raised.value)


def test_a_remote_server_without_starttls_is_refused(sink: Sink) -> None:
    """A server that is not on loopback must offer STARTTLS: the mailer refuses to send in
    clear (here the sink, reached as if it were remote)."""
    mailer = smtp.SmtpMailer(f"smtp://127.0.0.1:{sink.server_address[1]}")
    mailer.server = smtp.SmtpUrl("127.0.0.1", sink.server_address[1], "starttls")
    message = EmailMessage()
    message["From"] = "noreply@parvis.test"
    message["To"] = "ann@example.test"
    message.set_content("hello")
    with pytest.raises(smtplib.SMTPNotSupportedError):
        mailer.send(message)
    assert sink.received == []
