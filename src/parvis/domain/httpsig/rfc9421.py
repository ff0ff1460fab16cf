"""RFC 9421 HTTP Message Signatures: `Signature-Input` and `Signature`, the signature base of
§2.5, and the algorithms rsa-v1_5-sha256, rsa-pss-sha512 and ed25519 (§3.3; without `alg` the
key decides: Ed25519, or either RSA algorithm).

Components understood: the derived `@method`, `@target-uri`, `@authority`, `@scheme`,
`@request-target`, `@path`, `@query`, and header fields by their lower-case name (without
component parameters). When a request carries several signatures, the first label of
`Signature-Input` that also has a `Signature` is the one checked.

What Parvis requires of a signature (like Mastodon, which requires `@method`, `@target-uri`,
`created` and `content-digest`): it covers `@method`; the target, as `@target-uri`, or as
`@authority` (or `host`) with `@path` or `@request-target`, plus `@query` when the URL has a
query; a `created` parameter or the `date` header within the allowed clock skew, and not past
its `expires`; and `content-digest` (or `digest`) whenever there is a body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from parvis.domain.httpsig import keys
from parvis.domain.httpsig.digests import check_content_digest, check_digest, content_digest_header
from parvis.domain.httpsig.errors import SignatureError, SignatureInfo, SignatureMismatch
from parvis.domain.httpsig.message import (
    Request,
    check_field,
    check_fresh,
    check_not_expired,
    field_value,
    http_date,
    parse_http_date,
    request_of,
    timestamp,
)
from parvis.domain.httpsig.structured import (
    BareItem,
    Item,
    Params,
    Token,
    parse_dictionary,
    serialize_dictionary,
    serialize_inner_list,
    serialize_item,
)

MAX_COMPONENTS = 32
ALGORITHMS = frozenset({keys.RSA_V1_5_SHA256, keys.RSA_PSS_SHA512, keys.ED25519})
_DIGEST_FIELDS = ("content-digest", "digest")


@dataclass(frozen=True)
class MessageSignature:
    label: str
    components: list[Item]
    params: Params
    signature: bytes

    @property
    def names(self) -> list[str]:
        return [str(name) for name, _ in self.components]


def select(request: Request) -> MessageSignature:
    """The signature to check: the first label of Signature-Input that Signature also has."""
    inputs_field = request.header("signature-input")
    signatures_field = request.header("signature")
    if inputs_field is None:
        raise SignatureError("the request has no Signature-Input header")
    if signatures_field is None:
        raise SignatureError("the request has a Signature-Input but no Signature header")
    check_field("Signature-Input", inputs_field)
    check_field("Signature", signatures_field)
    inputs = parse_dictionary(inputs_field)
    signatures = parse_dictionary(signatures_field)
    label = next((label for label in inputs if label in signatures), None)
    if label is None:
        raise SignatureError("no label of Signature-Input has a Signature")
    components, params = inputs[label]
    if not isinstance(components, list):
        raise SignatureError(f"Signature-Input {label} is not a list of components")
    if len(components) > MAX_COMPONENTS:
        raise SignatureError(f"Signature-Input {label} covers too many components")
    for name, _ in components:
        if not isinstance(name, str) or isinstance(name, Token):
            raise SignatureError(f"Signature-Input {label}: components must be strings")
    signature, _ = signatures[label]
    if not isinstance(signature, bytes):
        raise SignatureError(f"Signature {label} is not a byte sequence")
    return MessageSignature(label, components, params, signature)


def key_id(request: Request) -> str:
    return _key_id(select(request))


def _key_id(signature: MessageSignature) -> str:
    value = signature.params.get("keyid")
    if not isinstance(value, str) or isinstance(value, Token) or not value:
        raise SignatureError(f"Signature-Input {signature.label} has no keyid")
    return value


def signature_base(request: Request, signature: MessageSignature) -> bytes:
    """The signature base of RFC 9421 §2.5."""
    lines = []
    seen = set()
    for item in signature.components:
        identifier = serialize_item(item)
        if identifier in seen:
            raise SignatureError(f"the component {identifier} is covered twice")
        seen.add(identifier)
        lines.append(f"{identifier}: {_component_value(request, item)}")
    params = serialize_inner_list((signature.components, signature.params))
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode("ascii")


def _component_value(request: Request, item: Item) -> str:
    name, params = str(item[0]), item[1]
    if params:
        raise SignatureError(f"component parameters are not supported ({serialize_item(item)})")
    if name.startswith("@"):
        derived = {
            "@method": request.method,
            "@target-uri": request.target_uri,
            "@authority": request.authority,
            "@scheme": request.scheme,
            "@request-target": request.request_target,
            "@path": request.path,
            "@query": "?" + request.query,
        }
        if name not in derived:
            raise SignatureError(f"unsupported derived component {name[:32]!r}")
        return derived[name]
    if not name or name != name.lower() or not name.isprintable() or " " in name:
        raise SignatureError(f"bad field name {name[:32]!r} in Signature-Input")
    return field_value(request, name)


def verify(
    request: Request, public_key_pem: str, now: datetime, max_skew: timedelta
) -> SignatureInfo:
    signature = select(request)
    key_id = _key_id(signature)
    covered = set(signature.names)
    _check_coverage(request, covered)
    _check_times(request, signature, covered, now, max_skew)
    if "content-digest" in covered:
        check_content_digest(field_value(request, "content-digest"), request.body)
    if "digest" in covered:
        check_digest(field_value(request, "digest"), request.body)
    key = keys.load_public_key(public_key_pem)
    algorithms = _algorithms(signature.params.get("alg"), key)
    base = signature_base(request, signature)
    for algorithm in algorithms:
        if keys.verifies(key, algorithm, signature.signature, base):
            return SignatureInfo(key_id=key_id, scheme="rfc9421")
    raise SignatureMismatch("the signature does not verify with the actor's key")


def _check_coverage(request: Request, covered: set[str]) -> None:
    if "@method" not in covered:
        raise SignatureError("the signature must cover @method")
    if "@target-uri" not in covered:
        if not covered & {"@authority", "host"}:
            raise SignatureError("the signature must cover @target-uri or @authority")
        if not covered & {"@path", "@request-target"}:
            raise SignatureError("the signature must cover @target-uri or @path")
        if request.query and not covered & {"@query", "@request-target"}:
            raise SignatureError("the signature must cover the query (@query or @target-uri)")
    if request.needs_digest() and not covered & set(_DIGEST_FIELDS):
        raise SignatureError("the signature must cover a Content-Digest header of the body")


def _check_times(
    request: Request,
    signature: MessageSignature,
    covered: set[str],
    now: datetime,
    max_skew: timedelta,
) -> None:
    created = signature.params.get("created")
    expires = signature.params.get("expires")
    signed_at = None
    if created is not None:
        signed_at = timestamp(created, "created")
        check_fresh("the signature's created time", signed_at, now, max_skew)
    if "date" in covered:
        date = parse_http_date(field_value(request, "date"))
        check_fresh("the Date header", date, now, max_skew)
        signed_at = signed_at or date
    if signed_at is None:
        raise SignatureError("the signature has no created parameter and does not cover date")
    if expires is not None:
        check_not_expired(timestamp(expires, "expires"), signed_at, now, max_skew)


def _algorithms(alg: BareItem | None, key: keys.PublicKey) -> list[str]:
    if alg is None:
        if keys.is_rsa(key):
            return [keys.RSA_V1_5_SHA256, keys.RSA_PSS_SHA512]
        return [keys.ED25519]
    if not isinstance(alg, str) or isinstance(alg, Token) or alg not in ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {str(alg)[:32]!r}")
    return [alg]


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    now: datetime,
    *,
    components: Sequence[str] | None = None,
    label: str = "sig1",
    expires: datetime | None = None,
    algorithm: str | None = None,
    include_alg: bool = True,
) -> dict[str, str]:
    """The headers to add to sign a request: Signature-Input and Signature, plus Content-Digest,
    Date or Host when they are covered and the request lacks them. By default the signature
    covers `@method`, `@target-uri` and (with a body) `content-digest`; its parameters are
    `created`, `expires` (when given), `alg` (unless `include_alg` is false) and `keyid`."""
    key = keys.load_private_key(private_key_pem)
    algorithm = algorithm or keys.algorithm_for(key)
    request = request_of(method, url, headers, body)
    needs_digest = body is not None or request.needs_digest()
    if components is None:
        components = ["@method", "@target-uri"] + (["content-digest"] if needs_digest else [])
    added: dict[str, str] = {}
    missing = {name for name in components if request.header(name) is None}
    if "content-digest" in missing:
        added["Content-Digest"] = content_digest_header(body or b"")
    if "date" in missing:
        added["Date"] = http_date(now)
    if "host" in missing:
        added["Host"] = request.authority
    request = request_of(method, url, {**request.headers, **added}, body)
    params: Params = {"created": int(now.timestamp())}
    if expires is not None:
        params["expires"] = int(expires.timestamp())
    if include_alg:
        params["alg"] = algorithm
    params["keyid"] = key_id
    signature = MessageSignature(label, [(name, {}) for name in components], params, b"")
    value = keys.sign(key, algorithm, signature_base(request, signature))
    added["Signature-Input"] = serialize_dictionary({label: (signature.components, params)})
    added["Signature"] = serialize_dictionary({label: (value, {})})
    return added
