"""The seam between federation use cases and the network: what they may ask of an HTTP client.

The concrete client (parvis.jobs.http) signs requests, refuses private addresses (SSRF), caps
sizes and times; tests give it a transport instead of the network. Use cases never hold a
database transaction open while they wait on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class SigningKey:
    """Who signs an outbound request: the key's URI (`…#main-key`) and its RSA private key."""

    key_id: str
    private_key_pem: str


class FetchError(Exception):
    """A remote request failed. `permanent`: retrying will not help (4xx but 408/429, a refused
    address, a document too large or not JSON); otherwise it may (timeouts, 5xx, resets)."""

    def __init__(self, message: str, *, status: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.status = status
        self.permanent = permanent


class UnsafeUrl(FetchError):
    """The URL may not be fetched: not http(s), or it resolves to a loopback, private,
    link-local or otherwise non-public address (unless the operator allowed it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class Http(Protocol):
    def get_json(self, url: str, *, key: SigningKey | None = None) -> dict[str, Any]:
        """GET an ActivityStreams (or JRD/NodeInfo) JSON object, signed when `key` is given."""
        ...

    def post_json(self, url: str, body: bytes, *, key: SigningKey) -> int:
        """POST a signed activity to an inbox; the HTTP status (2xx), or raise FetchError."""
        ...

    def get_bytes(self, url: str, *, max_bytes: int) -> tuple[bytes, str]:
        """GET a file (remote media), unsigned: its bytes and declared Content-Type; a body
        over `max_bytes` is a permanent FetchError (status 413), nothing kept of it."""
        ...
