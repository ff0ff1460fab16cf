"""Sending e-mail: the SMTP `Mailer` built from PARVIS_SMTP_URL, and the two mail jobs.

URLs: `smtps://user:pass@host:465` (implicit TLS), `smtp://user:pass@host:587` (STARTTLS,
required: a server that does not offer it is refused rather than sent credentials and mail in
clear), `smtp://localhost:25` (a relay on this machine: STARTTLS if offered, else plain).
Certificates are checked. Every connection has a timeout, so a dead server fails the job (which
Huey retries, jobs/registry.py RETRIES) instead of holding a worker.

The jobs get the runtime, not a unit of work (registry.OUTBOUND): they compose the message in
a read-only unit of work (services/mail.py) and send it after that is closed. With no mailer
configured they do nothing.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from parvis.config import Settings
from parvis.services import mail, notices
from parvis.services.context import Work
from parvis.services.mail import Mailer

T = TypeVar("T")
TIMEOUT = 30.0  # seconds, for connecting and for every answer of the server


@dataclass(frozen=True)
class SmtpUrl:
    host: str
    port: int
    tls: str  # implicit | starttls | opportunistic
    username: str = ""
    password: str = ""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_url(url: str) -> SmtpUrl:
    """PARVIS_SMTP_URL, checked: ValueError says what is wrong (never echoing the password)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("PARVIS_SMTP_URL: use smtp://… (STARTTLS) or smtps://… (implicit TLS)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("PARVIS_SMTP_URL: the port is not a number") from None
    host = parts.hostname or ""
    if not host:
        raise ValueError("PARVIS_SMTP_URL: no host name")
    if parts.scheme == "smtps":
        tls, default = "implicit", 465
    elif _loopback(host):
        tls, default = "opportunistic", 25
    else:
        tls, default = "starttls", 587
    return SmtpUrl(
        host=host,
        port=port or default,
        tls=tls,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


class SmtpMailer:
    """One SMTP connection per message (notices are rare; nothing to keep open)."""

    def __init__(
        self, url: str, *, timeout: float = TIMEOUT, context: ssl.SSLContext | None = None
    ) -> None:
        self.server = parse_url(url)
        self.timeout = timeout
        self.context = context or ssl.create_default_context()

    def send(self, message: EmailMessage) -> None:
        server = self.server
        smtp: smtplib.SMTP
        if server.tls == "implicit":
            smtp = smtplib.SMTP_SSL(
                server.host, server.port, timeout=self.timeout, context=self.context
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            if server.tls == "starttls" or (
                server.tls == "opportunistic" and smtp.has_extn("starttls")
            ):
                smtp.starttls(context=self.context)  # SMTPNotSupportedError if not offered
                smtp.ehlo()
            if server.username:
                smtp.login(server.username, server.password)
            # The envelope is the message's own From and To (one validated address each).
            smtp.send_message(message)


def from_settings(settings: Settings) -> Mailer | None:
    """The configured mailer, or None without PARVIS_SMTP_URL. Checks the URL and the sender
    now, so that a bad setting stops the server at start-up, not a job later."""
    if not settings.smtp_url.strip():
        return None
    mail.sender(settings)
    return SmtpMailer(settings.smtp_url)


# -- the jobs ----------------------------------------------------------------------------------


class Outbound(Protocol):
    """What a mail job needs of the runtime (jobs/runtime.py Runtime)."""

    @property
    def mailer(self) -> Mailer | None: ...

    def read(self, use_case: Callable[[Work], T]) -> T: ...


def _send(runtime: Outbound, compose: Callable[[Work], EmailMessage | None]) -> None:
    mailer = runtime.mailer
    if mailer is None:
        return
    message = runtime.read(compose)
    if message is not None:
        mailer.send(message)


def send_receipt(runtime: Outbound, notice_id: int, key: str) -> None:
    """The acknowledgement of receipt, with the follow-up link (the key exists only here, in
    the job's payload: the database keeps its hash)."""

    def compose(work: Work) -> EmailMessage | None:
        found = work.store.notices.get(notice_id)
        if found is None or found.receipt_hash != notices.receipt_hash(key):
            return None  # only a notice's own key is ever sent, and to its own notifier
        return mail.receipt_for(work, notice_id, key)

    _send(runtime, compose)


def send_decision(runtime: Outbound, notice_id: int) -> None:
    _send(runtime, lambda work: mail.decision_for(work, notice_id))
