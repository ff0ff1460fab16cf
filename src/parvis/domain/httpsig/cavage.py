"""draft-cavage-http-signatures-12 as the fediverse speaks it (Mastodon's `Request` and
`SignedRequest`): the `Signature: keyId="…",algorithm="…",headers="…",signature="…"` header.

Signing is Mastodon's, byte for byte: rsa-sha256 over `(request-target) host date`, then
`digest` when there is a body, then `content-type` and `accept` when the request has them (so a
POST signs `(request-target) host date digest content-type` and a fetch `(request-target) host
date accept`); `(request-target)` is the lower-case method, a space, the path and the query.

Verifying accepts `rsa-sha256` (RSA, PKCS#1 v1.5 SHA-256) and `hs2019` (the algorithm taken from
the key: Ed25519, or RSA PKCS#1 v1.5 SHA-256 as the fediverse uses it, or RSA-PSS SHA-512 as the
draft defines it), and, as Mastodon does, a `(request-target)` signed without the query string
(what Mastodon before 4.1 and many others send). The signature must cover `(request-target)`,
`host`, `date` or `(created)`, and `digest` whenever there is a body.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from parvis.domain.httpsig import keys
from parvis.domain.httpsig.digests import check_digest, digest_header
from parvis.domain.httpsig.errors import SignatureError, SignatureInfo, SignatureMismatch
from parvis.domain.httpsig.message import (
    BODY_METHODS,
    Request,
    check_field,
    check_fresh,
    check_not_expired,
    combine_headers,
    field_value,
    http_date,
    parse_http_date,
    split_url,
    timestamp,
)

REQUEST_TARGET = "(request-target)"
CREATED = "(created)"
EXPIRES = "(expires)"
RSA_SHA256 = "rsa-sha256"
HS2019 = "hs2019"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_BARE_VALUE = re.compile(r"[^\s,\"]+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_UNIX_TIME = re.compile(r"\d{1,12}(?:\.\d{1,9})?")
_REQUIRED = {"keyid": "keyId", "signature": "signature"}


@dataclass(frozen=True)
class CavageSignature:
    key_id: str
    algorithm: str
    headers: list[str]
    signature: bytes
    created: str | None
    expires: str | None


def signature_field(request: Request) -> str | None:
    """The `Signature` header, or the parameters of `Authorization: Signature …`."""
    value = request.header("signature")
    if value is not None:
        return value
    authorization = request.header("authorization") or ""
    if authorization[:10].lower() == "signature ":
        return authorization[10:]
    return None


def parse(value: str) -> CavageSignature:
    """The parameters of a Signature header; names are case-insensitive, values quoted
    strings (with backslash escapes) or bare tokens, each name at most once."""
    check_field("Signature", value)
    params: dict[str, str] = {}
    pos, end = 0, len(value)
    while True:
        pos = _skip_space(value, pos)
        match = _NAME.match(value, pos)
        if match is None:
            raise SignatureError("malformed Signature header: expected a parameter name")
        name, pos = match.group().lower(), _skip_space(value, match.end())
        if value[pos : pos + 1] != "=":
            raise SignatureError(f"malformed Signature header: {name} has no value")
        pos = _skip_space(value, pos + 1)
        parameter, pos = _value(value, pos)
        if name in params:
            raise SignatureError(f"malformed Signature header: {name} given twice")
        params[name] = parameter
        pos = _skip_space(value, pos)
        if pos == end:
            break
        if value[pos] != ",":
            raise SignatureError("malformed Signature header: expected a comma")
        pos += 1
    missing = [shown for name, shown in _REQUIRED.items() if not params.get(name)]
    if missing:
        raise SignatureError(f"the Signature header has no {' and no '.join(missing)}")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the Signature header's signature is not base64") from None
    algorithm = params.get("algorithm", HS2019).lower()
    default_headers = CREATED if algorithm == HS2019 else "date"
    return CavageSignature(
        key_id=params["keyid"],
        algorithm=algorithm,
        headers=params.get("headers", default_headers).lower().split(),
        signature=signature,
        created=params.get("created"),
        expires=params.get("expires"),
    )


def _skip_space(value: str, pos: int) -> int:
    while pos < len(value) and value[pos] in " \t":
        pos += 1
    return pos


def _value(value: str, pos: int) -> tuple[str, int]:
    if value[pos : pos + 1] != '"':
        match = _BARE_VALUE.match(value, pos)
        if match is None:
            raise SignatureError("malformed Signature header: expected a value")
        return match.group(), match.end()
    match = _QUOTED.match(value, pos)
    if match is None:
        raise SignatureError("malformed Signature header: unterminated quoted string")
    return _ESCAPE.sub(r"\1", match.group(1)), match.end()


def key_id(request: Request) -> str:
    field = signature_field(request)
    if field is None:
        raise SignatureError("the request is not signed (no Signature header)")
    return parse(field).key_id


def verify(
    request: Request, public_key_pem: str, now: datetime, max_skew: timedelta
) -> SignatureInfo:
    field = signature_field(request)
    if field is None:
        raise SignatureError("the request is not signed (no Signature header)")
    signature = parse(field)
    signed = signature.headers
    _check_coverage(request, signature)
    _check_times(request, signature, now, max_skew)
    if "digest" in signed:
        check_digest(field_value(request, "digest"), request.body)
    key = keys.load_public_key(public_key_pem)
    algorithms = _algorithms(signature.algorithm, key)
    candidates = [signing_string(request, signature, with_query=True)]
    if request.query and REQUEST_TARGET in signed:
        candidates.append(signing_string(request, signature, with_query=False))
    for data in candidates:
        for algorithm in algorithms:
            if keys.verifies(key, algorithm, signature.signature, data):
                return SignatureInfo(key_id=signature.key_id, scheme="cavage")
    raise SignatureMismatch("the signature does not verify with the actor's key")


def _check_coverage(request: Request, signature: CavageSignature) -> None:
    signed = signature.headers
    if REQUEST_TARGET not in signed:
        raise SignatureError("the signature must cover (request-target)")
    if "host" not in signed:
        raise SignatureError("the signature must cover the Host header")
    if "date" not in signed and CREATED not in signed:
        raise SignatureError("the signature must cover the Date header or (created)")
    if request.needs_digest() and "digest" not in signed:
        raise SignatureError("the signature must cover a Digest header of the body")
    if (CREATED in signed or EXPIRES in signed) and signature.algorithm == RSA_SHA256:
        raise SignatureError("(created) and (expires) are not allowed with rsa-sha256")


def _check_times(
    request: Request, signature: CavageSignature, now: datetime, max_skew: timedelta
) -> None:
    signed_at = None
    if signature.created is not None:
        signed_at = _unix_time(signature.created, "created")
        check_fresh("the signature's created time", signed_at, now, max_skew)
    elif CREATED in signature.headers:
        raise SignatureError("(created) is signed but the created parameter is missing")
    if "date" in signature.headers:
        date = parse_http_date(field_value(request, "date"))
        check_fresh("the Date header", date, now, max_skew)
        signed_at = signed_at or date
    if signature.expires is not None:
        check_not_expired(_unix_time(signature.expires, "expires"), signed_at, now, max_skew)
    elif EXPIRES in signature.headers:
        raise SignatureError("(expires) is signed but the expires parameter is missing")


def _unix_time(value: str, what: str) -> datetime:
    if _UNIX_TIME.fullmatch(value) is None:
        raise SignatureError(f"the {what} parameter is not a Unix time")
    return timestamp(int(value.partition(".")[0]), what)


def _algorithms(algorithm: str, key: keys.PublicKey) -> list[str]:
    is_rsa = keys.is_rsa(key)
    if algorithm == RSA_SHA256:
        if not is_rsa:
            raise SignatureMismatch("an rsa-sha256 signature, but the actor's key is not RSA")
        return [keys.RSA_V1_5_SHA256]
    if algorithm == HS2019:
        return [keys.RSA_V1_5_SHA256, keys.RSA_PSS_SHA512] if is_rsa else [keys.ED25519]
    raise SignatureError(f"unsupported signature algorithm {algorithm[:32]!r}")


def signing_string(request: Request, signature: CavageSignature, *, with_query: bool) -> bytes:
    lines = []
    for name in signature.headers:
        if name == REQUEST_TARGET:
            target = request.request_target if with_query else request.path
            value = f"{request.method.lower()} {target}"
        elif name == CREATED:
            value = signature.created or ""
        elif name == EXPIRES:
            value = signature.expires or ""
        elif name == "host" and request.header("host") is None:
            value = request.authority
        else:
            value = field_value(request, name)
        lines.append(f"{name}: {value}")
    return "\n".join(lines).encode("ascii")


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    now: datetime,
) -> dict[str, str]:
    """The headers to add to sign a request as Mastodon does: Host, Date, Digest (when there
    is a body), Signature."""
    if any(char in key_id for char in '"\\\r\n') or not key_id:
        raise ValueError(f"unusable key id {key_id!r}")
    _, authority, path, query = split_url(url)
    given = combine_headers(headers)
    key = keys.load_private_key(private_key_pem)
    host = given.get("host") or authority
    added = {"Host": host, "Date": http_date(now)}
    lines = [
        (REQUEST_TARGET, f"{method.lower()} {path}" + (f"?{query}" if query else "")),
        ("host", host),
        ("date", added["Date"]),
    ]
    if body is not None or method.upper() in BODY_METHODS:
        added["Digest"] = digest_header(body or b"")
        lines.append(("digest", added["Digest"]))
    lines.extend((name, given[name]) for name in ("content-type", "accept") if name in given)
    string = "\n".join(f"{name}: {value}" for name, value in lines).encode("ascii")
    if keys.is_rsa(key):
        algorithm, scheme = RSA_SHA256, keys.RSA_V1_5_SHA256
    else:
        algorithm, scheme = HS2019, keys.ED25519
    signature = base64.b64encode(keys.sign(key, scheme, string)).decode("ascii")
    names = " ".join(name for name, _ in lines)
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{names}",signature="{signature}"'
    )
    return added
