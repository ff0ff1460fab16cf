"""Body digests: `Digest: SHA-256=<base64>` (RFC 3230, what draft-cavage signers send) and
`Content-Digest: sha-256=:<base64>:` (RFC 9530, what RFC 9421 signers send); made, and checked
against the body a request actually carried."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable

from parvis.domain.httpsig.errors import SignatureError
from parvis.domain.httpsig.message import check_field
from parvis.domain.httpsig.structured import parse_dictionary

_HASHES: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}


def digest_header(body: bytes) -> str:
    """`Digest` header value: `SHA-256=<base64>`."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """RFC 9530 `Content-Digest` header value: `sha-256=:<base64>:`."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def check_digest(value: str, body: bytes) -> None:
    """Every SHA-256/SHA-512 digest offered in a `Digest` header must match the body, and at
    least one must be offered."""
    check_field("Digest", value)
    checked = False
    for part in value.split(","):
        algorithm, equals, encoded = part.strip().partition("=")
        compute = _HASHES.get(algorithm.strip().lower())
        if compute is None or not equals:
            continue
        try:
            offered = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError(f"the Digest header's {algorithm} is not base64") from None
        _compare(offered, compute(body), "Digest", algorithm)
        checked = True
    if not checked:
        raise SignatureError("the Digest header offers neither SHA-256 nor SHA-512")


def check_content_digest(value: str, body: bytes) -> None:
    """Every sha-256/sha-512 member of a `Content-Digest` header must match the body, and at
    least one must be there."""
    check_field("Content-Digest", value)
    checked = False
    for algorithm, (offered, _params) in parse_dictionary(value).items():
        compute = _HASHES.get(algorithm)
        if compute is None:
            continue
        if not isinstance(offered, bytes):
            raise SignatureError(f"the Content-Digest {algorithm} is not a byte sequence")
        _compare(offered, compute(body), "Content-Digest", algorithm)
        checked = True
    if not checked:
        raise SignatureError("the Content-Digest header offers neither sha-256 nor sha-512")


def _compare(offered: bytes, actual: bytes, header: str, algorithm: str) -> None:
    if not hmac.compare_digest(offered, actual):
        raise SignatureError(f"the body does not match the {header} header ({algorithm})")
