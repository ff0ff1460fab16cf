"""What signature checking answers: the one error every failure raises, and who signed."""

from __future__ import annotations

from dataclasses import dataclass


class SignatureError(ValueError):
    """The request's signature is missing, malformed, stale, too weak or does not verify.

    The message says which, in words meant for the operator reading a log (never secret)."""


class SignatureMismatch(SignatureError):
    """The signature is well formed, fresh and covers enough, but does not verify with the key
    given (or is of another key type): the one failure where fetching the actor's key again
    can help (the actor may have rotated its key)."""


@dataclass(frozen=True)
class SignatureInfo:
    """Who signed: the key's URI (the `keyId` / `keyid` parameter) and the scheme used,
    `"cavage"` (draft-cavage-http-signatures) or `"rfc9421"` (HTTP Message Signatures)."""

    key_id: str
    scheme: str
