"""HTTP signatures for ActivityPub: pure functions, no I/O.

- `sign_request`: draft-cavage rsa-sha256 exactly as Mastodon signs (see `cavage`), the scheme
  every fediverse server verifies; `sign_request_rfc9421` signs an RFC 9421 message signature.
- `signature_key_id`: which key a request claims to be signed with (to fetch that actor).
- `verify_request`: checks a draft-cavage (`Signature`) or RFC 9421 (`Signature-Input` +
  `Signature`) signature against the actor's public key PEM, the body's `Digest` /
  `Content-Digest`, the coverage Parvis requires and the clock skew allowed either way.
  Public keys are parsed once per PEM (an LRU cache), so a busy inbox pays only the signature
  check itself.

Headers may be any mapping (names case-insensitive; a Starlette or httpx `Headers` keeps
repeated fields, which are joined with ", "). The URL must be the absolute URL as the client
requested it, path and query still percent-encoded as sent. Every failure raises
`SignatureError` with a message that says what was wrong; `SignatureMismatch`, its subclass,
when only the key failed (the one case where fetching the actor's key again may help).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from parvis.domain.httpsig import cavage, rfc9421
from parvis.domain.httpsig.digests import content_digest_header, digest_header
from parvis.domain.httpsig.errors import SignatureError, SignatureInfo, SignatureMismatch
from parvis.domain.httpsig.keys import generate_key_pair
from parvis.domain.httpsig.message import aware, request_of

__all__ = [
    "DEFAULT_MAX_SKEW",
    "SignatureError",
    "SignatureInfo",
    "SignatureMismatch",
    "content_digest_header",
    "digest_header",
    "generate_key_pair",
    "rfc9421_signature_base",
    "sign_request",
    "sign_request_rfc9421",
    "signature_key_id",
    "verify_request",
]

DEFAULT_MAX_SKEW = timedelta(hours=1)


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    *,
    now: datetime,
) -> dict[str, str]:
    """The headers to add to a request to sign it as Mastodon does (draft-cavage rsa-sha256
    over `(request-target) host date [digest] [content-type] [accept]`): `Host`, `Date`,
    `Digest` (when there is a body, or for POST/PUT/PATCH) and `Signature`. Send the returned
    Host and Date as they are: they are what was signed."""
    return cavage.sign(method, url, headers, body, key_id, private_key_pem, aware(now))


def sign_request_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    *,
    now: datetime,
    components: Sequence[str] | None = None,
    label: str = "sig1",
    expires: datetime | None = None,
    algorithm: str | None = None,
    include_alg: bool = True,
) -> dict[str, str]:
    """The headers to add to sign a request with an RFC 9421 message signature (see
    `rfc9421.sign`): by default over `@method`, `@target-uri` and `content-digest`."""
    return rfc9421.sign(
        method,
        url,
        headers,
        body,
        key_id,
        private_key_pem,
        aware(now),
        components=components,
        label=label,
        expires=expires,
        algorithm=algorithm,
        include_alg=include_alg,
    )


def signature_key_id(method: str, url: str, headers: Mapping[str, str]) -> SignatureInfo:
    """The key a request says it is signed with, and the scheme; nothing is verified yet."""
    request = request_of(method, url, headers, None)
    if request.header("signature-input") is not None:
        return SignatureInfo(key_id=rfc9421.key_id(request), scheme="rfc9421")
    return SignatureInfo(key_id=cavage.key_id(request), scheme="cavage")


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    public_key_pem: str,
    *,
    now: datetime,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
) -> SignatureInfo:
    """Verify the request's signature with the signer's public key; who signed, or
    SignatureError. RFC 9421 when the request has a Signature-Input header, else draft-cavage."""
    request = request_of(method, url, headers, body)
    if request.header("signature-input") is not None:
        return rfc9421.verify(request, public_key_pem, aware(now), max_skew)
    return cavage.verify(request, public_key_pem, aware(now), max_skew)


def rfc9421_signature_base(method: str, url: str, headers: Mapping[str, str]) -> bytes:
    """The RFC 9421 signature base of the signature `verify_request` would check (for tests,
    and for logs when a remote server's signature does not verify)."""
    request = request_of(method, url, headers, None)
    return rfc9421.signature_base(request, rfc9421.select(request))
