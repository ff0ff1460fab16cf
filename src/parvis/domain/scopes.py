"""OAuth scopes, the Mastodon way: `read` covers `read:statuses`, `admin:read` covers
`admin:read:accounts`, and so on."""

from __future__ import annotations

TOP = ("read", "write", "follow", "push", "profile")
ADMIN = ("admin:read", "admin:write")
READ_SUB = (
    "accounts",
    "blocks",
    "bookmarks",
    "favourites",
    "filters",
    "follows",
    "lists",
    "mutes",
    "notifications",
    "search",
    "statuses",
)
WRITE_SUB = (
    "accounts",
    "blocks",
    "bookmarks",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "statuses",
)
ADMIN_SUB = (
    "accounts",
    "reports",
    "domain_allows",
    "domain_blocks",
    "ip_blocks",
    "email_domain_blocks",
    "canonical_email_blocks",
)

KNOWN: frozenset[str] = frozenset(
    [*TOP, *ADMIN]
    + [f"read:{s}" for s in READ_SUB]
    + [f"write:{s}" for s in WRITE_SUB]
    + [f"admin:read:{s}" for s in ADMIN_SUB]
    + [f"admin:write:{s}" for s in ADMIN_SUB]
)


def parse(scopes: str | None, default: str = "read") -> frozenset[str]:
    """Split a space- (or `+`-) separated scope string; unknown scopes raise ValueError."""
    raw = (scopes or default).replace("+", " ").split()
    unknown = [s for s in raw if s not in KNOWN]
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}")
    return frozenset(raw)


def grants(held: frozenset[str], needed: str) -> bool:
    """Whether the held scopes cover `needed` (e.g. `read` covers `read:statuses`)."""
    if needed in held:
        return True
    parts = needed.split(":")
    # `follow` (legacy) covers read:follows/write:follows/blocks/mutes.
    if "follow" in held and needed in (
        "read:follows",
        "write:follows",
        "read:blocks",
        "write:blocks",
        "read:mutes",
        "write:mutes",
    ):
        return True
    return any(":".join(parts[:i]) in held for i in range(1, len(parts)))


def subset(requested: frozenset[str], allowed: frozenset[str]) -> bool:
    return all(grants(allowed, s) for s in requested)
