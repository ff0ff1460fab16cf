"""User domain blocks: hide everything from a whole remote server (applied in timelines,
notifications and relationships)."""

from __future__ import annotations

import re

from parvis.domain.errors import Invalid
from parvis.services.context import Work

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalize_domain(raw: str) -> str:
    """A host name as stored: trimmed, lowercased, IDNA (punycode); 422 when not a host."""
    domain = raw.strip().lower().rstrip(".")
    if "://" in domain:  # a URL pasted in: keep its host
        domain = domain.split("://", 1)[1].split("/", 1)[0]
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if domain else ""
    except UnicodeError:
        ascii_domain = ""
    labels = ascii_domain.split(".")
    if (
        not ascii_domain
        or len(ascii_domain) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
    ):
        raise Invalid("Validation failed: domain must be a valid host name")
    return ascii_domain


def block(work: Work, account_id: int, raw: str) -> None:
    domain = normalize_domain(raw)
    if domain == work.settings.domain.lower():
        raise Invalid("Validation failed: you cannot block your own server's domain")
    work.store.social.block_domain(account_id, domain, work.now())


def unblock(work: Work, account_id: int, raw: str) -> None:
    work.store.social.unblock_domain(account_id, normalize_domain(raw))
