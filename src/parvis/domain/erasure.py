"""What is kept of an erased account's name (services/deletion.py)."""

from __future__ import annotations

import hmac


def name_digest(secret: bytes, username: str) -> str:
    """HMAC-SHA-256 of the lowercased username with the server's secret: a list of these can
    only be checked against a name one already has, never read back. The name is never given
    again, and its actor answers 410 Gone (other servers keep the old actor in their caches)."""
    return hmac.new(secret, b"erased-username:" + username.lower().encode(), "sha256").hexdigest()
