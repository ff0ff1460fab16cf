"""Short-lived signed tickets naming an account: what lets someone whose account is closed
(suspended, or closing for deletion) do the one thing still open to them on the web, after
giving their password once. `account.expires.HMAC(server secret, purpose:account.expires)`;
a ticket for one purpose is worthless for another."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from parvis.services.context import Work

TTL = timedelta(hours=1)


def _mac(work: Work, purpose: str, payload: str) -> str:
    key = work.settings.signing_key()
    message = f"{purpose}-ticket:{payload}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def issue(work: Work, purpose: str, account_id: int) -> str:
    """A ticket for `account_id`, valid for TTL."""
    payload = f"{account_id}.{int((work.now() + TTL).timestamp())}"
    return f"{payload}.{_mac(work, purpose, payload)}"


def account_of(work: Work, purpose: str, ticket: str) -> int | None:
    """The account a ticket for `purpose` was given to, while it is valid."""
    account, _, rest = ticket.partition(".")
    expires, _, mac = rest.partition(".")
    if not (account.isdigit() and expires.isdigit() and len(mac) == 64):
        return None
    if not hmac.compare_digest(mac, _mac(work, purpose, f"{account}.{expires}")):
        return None
    if int(expires) < work.now().timestamp():
        return None
    return int(account)
