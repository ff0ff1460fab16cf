"""Network addresses, kept only where needed and only for a short while.

The address an account signs up from, and each address it signs in from (web form, the OAuth
authorization form, the password grant), is kept `ip_retention_days` (0: never stored) so that
the moderators can see ban evasion: other accounts seen at the same address. Nothing else
stores an address: rate limits count per address in memory or Redis for at most 30 minutes,
and the `prune_ips` job deletes, every hour, the rows last seen longer ago than the retention
(every row when it is 0). Shown to moderators and admins on a case, and to each user for their
own account (Settings → Sessions); never in the client API.

The edges pass the client address as the server sees it: the TCP peer, or the address a
trusted proxy put in X-Forwarded-For (uvicorn's `--proxy-headers`, `--forwarded-allow-ips`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from parvis.domain.models import Account
from parvis.services.context import Work
from parvis.services.moderation import require_moderator
from parvis.storage.account_ips import AddressRow

PURPOSES = ("sign_up", "sign_in")
MAX_ADDRESS = 100  # longer than any textual IPv6 address with a zone: not an address


def normalize(raw: str | None) -> str | None:
    """The address in its canonical text (IPv6 compressed and lower-case, an IPv4-mapped IPv6
    address as the IPv4 address it carries, no zone id), or None when `raw` is not an IP
    address (a Unix socket peer, a test client's made-up name)."""
    if not raw or len(raw) > MAX_ADDRESS:
        return None
    text = raw.strip().removeprefix("[").removesuffix("]")
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)  # ipaddress writes IPv6 compressed, lower-case


def record(work: Work, account_id: int, purpose: str, raw: str | None) -> bool:
    """Remember that `account_id` signed up or in from this address (its `last_seen_at` moves
    on when it was seen before). Nothing is written when the retention is 0 or the address is
    not one. Returns whether a row was written."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose: one of {', '.join(PURPOSES)}")
    address = normalize(raw)
    if work.settings.ip_retention_days <= 0 or address is None:
        return False
    work.store.account_ips.record(account_id, purpose, address, work.now())
    return True


def prune(work: Work) -> int:
    """Delete the addresses last seen more than `ip_retention_days` ago (all of them at 0).
    Returns how many rows went."""
    days = work.settings.ip_retention_days
    before = work.now() - timedelta(days=days) if days > 0 else None
    return work.store.account_ips.prune(before)


@dataclass(frozen=True)
class Neighbour:
    """Another account seen at one of the addresses (ban evasion, sock puppets)."""

    account: Account
    ip: str
    purpose: str
    last_seen_at: datetime


@dataclass(frozen=True)
class Seen:
    """What the moderators see of an account's addresses: its own rows and the other accounts
    seen at the same addresses within the retention (`days`)."""

    days: int
    addresses: list[AddressRow]
    neighbours: list[Neighbour]


def own(work: Work, account_id: int) -> list[AddressRow]:
    """The addresses kept for an account, for its owner (the latest first)."""
    return work.store.account_ips.for_account(account_id)


def for_moderators(work: Work, moderator_id: int | None, account_id: int) -> Seen:
    """An account's addresses and the other accounts seen at them (Forbidden unless
    `moderator_id` is a moderator or an admin)."""
    require_moderator(work, moderator_id)
    days = work.settings.ip_retention_days
    addresses = work.store.account_ips.for_account(account_id)
    since = work.now() - timedelta(days=max(days, 0))
    rows = work.store.account_ips.others_at(sorted({a.ip for a in addresses}), account_id, since)
    people = work.store.accounts.get_many({r.account_id for r in rows})
    neighbours = [
        Neighbour(people[r.account_id], r.ip, r.purpose, r.last_seen_at)
        for r in rows
        if r.account_id in people
    ]
    return Seen(days, addresses, neighbours)
